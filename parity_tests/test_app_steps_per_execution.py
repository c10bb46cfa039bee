"""`steps_per_execution` k > 1 (k optimizer steps per Lightning step) trains bitwise as k = 1:
the same weights and optimizer state for every kind of state (SGD, momentum, Adam, dropout's
random masks, batch norm's statistics, step- and epoch-interval schedules), with a k that
divides the epoch's batches and one that does not; the same TensorBoard scalars at the same
steps; a run stopped inside a chunk (max_steps) and resumed ends where an uninterrupted run
does; settings that need one optimizer step per Lightning step refuse k > 1 in one line."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lightning_app.execution import AUTO_STEPS
from lightning_app.loader import TensorBatchLoader
from parity_tests.app_support import digits_config, run_cli, run_cli_failing

# Digits (1293 training samples) in batches of 64: 21 batches per epoch, 2 epochs = 42 steps.
# k = 3 divides 21, k = 4 does not (the last chunk of each epoch holds one batch).
EPOCHS, STEPS_PER_EPOCH = 2, 21

CASES = {
    "sgd": {"optimizer": "sgd", "lr": 0.1, "scheduler": None},
    "momentum_step_schedule": {
        "optimizer": "momentum", "lr": 0.05, "scheduler": "step",
        "scheduler_args": {"step_size": 10, "gamma": 0.5}, "scheduler_interval": "step"},
    "adam_dropout_batchnorm_epoch_schedule": {
        "optimizer": "adam", "lr": 0.01, "dropout": 0.3, "batch_norm": True},
}


class HookRecorder(pl.Callback):
    """Records every per-step hook Lightning would call: name, global_step, and what the
    hook sees (the loss; the gradient's sum after backward; before the step, the gradient's
    and the weights' sums)."""

    calls: list = []  # noqa: RUF012 (shared: the CLI builds the instance)

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        self.calls.append(("before_backward", trainer.global_step, float(loss)))

    def on_after_backward(self, trainer, pl_module) -> None:
        grad = sum(float(p.grad.sum()) for p in pl_module.parameters() if p.grad is not None)
        self.calls.append(("after_backward", trainer.global_step, grad))

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        params = [p for p in pl_module.parameters() if p.grad is not None]
        grad = sum(float(p.grad.sum()) for p in params)
        weight = sum(float(p.sum()) for p in params)  # not yet updated
        self.calls.append(("before_optimizer_step", trainer.global_step, grad, weight))


RECORD = ["--trainer.callbacks+=parity_tests.test_app_steps_per_execution.HookRecorder"]


def _fit(tmp_path: Path, name: str, k: int | str, model: dict, *extra: str,
         **trainer) -> Path:
    save_dir = tmp_path / name
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(digits_config(
        save_dir, "run", seed=7, log_every_n_steps=4, max_epochs=EPOCHS,
        model={"layer_sizes": [64, 32, 10], **model}, checkpoint={}, **trainer))
    run_cli(["fit", "--config", str(cfg),
             "--data.init_args.steps_per_execution", str(k), *extra])
    return save_dir / "run" / "version_0"


def _checkpoint(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


def _assert_same_state(got: dict, expected: dict) -> None:
    assert got["global_step"] == expected["global_step"]
    assert got["state_dict"].keys() == expected["state_dict"].keys()
    for key, value in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][key], value), f"{key} differs"
    opt_got, opt_exp = got["optimizer_states"][0], expected["optimizer_states"][0]
    assert opt_got["state"].keys() == opt_exp["state"].keys()
    for i, state in opt_exp["state"].items():
        for name, value in state.items():
            assert torch.equal(torch.as_tensor(opt_got["state"][i][name]),
                               torch.as_tensor(value)), f"optimizer state {i}.{name} differs"
    assert got["lr_schedulers"] == expected["lr_schedulers"]


def _scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    ea = EventAccumulator(str(run), size_guidance={"scalars": 0})
    ea.Reload()
    return {tag: [(e.step, e.value) for e in ea.Scalars(tag)] for tag in ea.Tags()["scalars"]}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("k", [3, 4])
def test_k_steps_per_lightning_step_give_bitwise_the_weights_and_logs_of_k_1(tmp_path, case, k):
    model = CASES[case]
    reference = _fit(tmp_path, "k1", 1, model)
    chunked = _fit(tmp_path, f"k{k}", k, model)
    expected, got = _checkpoint(reference), _checkpoint(chunked)
    assert expected["global_step"] == EPOCHS * STEPS_PER_EPOCH
    _assert_same_state(got, expected)
    # The loop state a resume starts from: the loader's position in batches.
    loader = got["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]
    assert loader["steps_per_execution"] == k
    # Every scalar (per-step loss, gradient norms, epoch metrics) at the same step, same value.
    ref_scalars, scalars = _scalars(reference), _scalars(chunked)
    assert "Loss/train_step" in ref_scalars
    assert scalars == ref_scalars


def test_every_callback_sees_the_per_step_hooks_of_k_1(tmp_path):
    model = CASES["adam_dropout_batchnorm_epoch_schedule"]
    HookRecorder.calls = []
    _fit(tmp_path, "k1", 1, model, *RECORD)
    expected, HookRecorder.calls = HookRecorder.calls, []
    _fit(tmp_path, "k4", 4, model, *RECORD)
    assert len(expected) == 3 * EPOCHS * STEPS_PER_EPOCH
    assert HookRecorder.calls == expected


@pytest.mark.parametrize("k", [1, 4])
def test_lightning_s_own_manual_steps_where_a_profiler_times_hooks(tmp_path, k):
    """With a profiler the k steps go through Lightning's `manual_backward` and
    `LightningOptimizer.step` (timed per hook); still bitwise k = 1's weights."""
    model = CASES["momentum_step_schedule"]
    reference = _checkpoint(_fit(tmp_path, "ref", 1, model))
    got = _checkpoint(_fit(tmp_path, "profiled", k, model, "--trainer.profiler", "simple"))
    _assert_same_state(got, reference)


def test_max_steps_inside_a_chunk_stops_there_and_saves_that_position(tmp_path):
    model = CASES["adam_dropout_batchnorm_epoch_schedule"]
    reference = _checkpoint(_fit(tmp_path, "k1", 1, model, max_steps=30))
    # 30 steps with k = 4: the chunk of epoch 1's batches 8-11 stops after two of them.
    got = _checkpoint(_fit(tmp_path, "k4", 4, model, max_steps=30))
    _assert_same_state(got, reference)
    loader = got["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]
    assert (loader["epoch"], loader["batches_done"]) == (1, 30 - STEPS_PER_EPOCH)


@pytest.mark.parametrize(("ctrl_c_at", "saved_at"), [
    (25, 29),  # epoch 1's chunk of steps 25-28: it finishes, a chunk boundary mid-epoch
    (20, 21),  # epoch 0's last chunk (one batch): the end of the epoch
])
def test_ctrl_c_mid_chunk_then_resume_ends_as_an_uninterrupted_run(
        tmp_path, ctrl_c_at, saved_at):
    model = CASES["adam_dropout_batchnorm_epoch_schedule"]
    reference = _checkpoint(_fit(tmp_path, "k1", 1, model))
    cfg = tmp_path / "k4.yaml"
    with pytest.raises(SystemExit):
        _fit(tmp_path, "k4", 4, model, "--trainer.callbacks+=parity_tests.app_support.CtrlCAtStep",
             f"--trainer.callbacks.step={ctrl_c_at}")
    run = tmp_path / "k4" / "run" / "version_0"
    stopped = _checkpoint(run)
    assert stopped["global_step"] == saved_at
    loader = stopped["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]
    epoch, done = divmod(saved_at, STEPS_PER_EPOCH)
    assert (loader["epoch"], loader["batches_done"]) == (
        (epoch, done) if done else (epoch - 1, STEPS_PER_EPOCH))
    run_cli(["fit", "--config", str(cfg), "--data.init_args.steps_per_execution", "4",
             "--ckpt_path", "last"])
    _assert_same_state(_checkpoint(run), reference)


def test_auto_chunks_in_memory_data_and_falls_back_to_one_step_where_it_must(tmp_path):
    model = CASES["sgd"]
    auto = _checkpoint(_fit(tmp_path, "auto", "auto", model))
    loader = auto["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]
    assert loader["steps_per_execution"] == AUTO_STEPS
    clipped = _checkpoint(_fit(tmp_path, "clip", "auto", model, gradient_clip_val=1.0))
    loader = clipped["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]
    assert loader["steps_per_execution"] == 1


@pytest.mark.parametrize(("setting", "value"), [
    ("gradient_clip_val", 1.0), ("accumulate_grad_batches", 2), ("val_check_interval", 5),
    ("limit_train_batches", 0.5),
])
def test_k_above_1_with_a_setting_that_counts_lightning_steps_is_one_line(
        tmp_path, setting, value):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(digits_config(tmp_path / "logs", "run", seed=0, model={}, checkpoint={},
                                 **{setting: value}))
    status, out, err = run_cli_failing(
        ["fit", "--config", str(cfg), "--data.init_args.steps_per_execution", "4"])
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "steps_per_execution" in lines[0] and setting in lines[0], err
    assert "Traceback" not in err


def test_checkpoint_every_n_steps_not_divisible_by_k_is_refused(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(digits_config(tmp_path / "logs", "run", seed=0, model={},
                                 checkpoint={"every_n_train_steps": 7}))
    status, _, err = run_cli_failing(
        ["fit", "--config", str(cfg), "--data.init_args.steps_per_execution", "4"])
    assert status == 2 and "every_n_train_steps=7" in err and "Traceback" not in err


@pytest.mark.parametrize("n", [10, 64, 65])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_chunks_hold_the_batches_of_k_1_in_order(n, k):
    x = torch.arange(n, dtype=torch.float32)[:, None]
    plain = TensorBatchLoader((x,), 4, shuffle=True, seed=3)
    chunked = TensorBatchLoader((x,), 4, shuffle=True, seed=3, steps_per_execution=k)
    batches = [b[0] for b in plain]
    chunks = list(chunked)
    assert len(chunks) == len(chunked) == -(-len(batches) // k)
    assert all(len(c) == k for c in chunks[:-1]) if k > 1 else True
    flat = [b[0] for c in chunks for b in c] if k > 1 else [c[0] for c in chunks]
    assert len(flat) == len(batches)
    assert all(torch.equal(a, b) for a, b in zip(flat, batches, strict=True))


def test_a_nan_loss_inside_a_chunk_stops_and_saves_as_k_1_does(tmp_path):
    """Plain SGD at lr 1e30 overflows within a few steps, inside the first chunk of 4: the
    same error line (step, epoch, batch), the same last good weights, the same position."""
    model = {"optimizer": "sgd", "lr": 1e30, "scheduler": None}
    results = {}
    for k in (1, 4):
        with pytest.raises(SystemExit):
            _fit(tmp_path, f"k{k}", k, model)
        ckpt = _checkpoint(tmp_path / f"k{k}" / "run" / "version_0")
        results[k] = ckpt
    err_lines = {}
    for k in (1, 4):
        cfg = tmp_path / f"k{k}.yaml"
        status, _, err = run_cli_failing(
            ["fit", "--config", str(cfg), "--data.init_args.steps_per_execution", str(k),
             "--trainer.logger.init_args.name", "again"])
        assert status == 1
        err_lines[k] = [line for line in err.splitlines() if "training loss became" in line]
    assert err_lines[4] and err_lines[4][0].split("Last good")[0] == (
        err_lines[1][0].split("Last good")[0])
    step = results[1]["global_step"]
    assert 0 < step < 4 and f"at step {step} (epoch 0, batch {step})" in err_lines[4][0]
    _assert_same_state(results[4], results[1])
    positions = [r["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]["batches_done"]
                 for r in (results[1], results[4])]
    assert positions[0] == positions[1]


@pytest.mark.parametrize("value", ["0", "-3", "many", "2.5"])
def test_a_bad_steps_per_execution_is_one_line(tmp_path, value):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(digits_config(tmp_path / "logs", "run", seed=0, model={}, checkpoint={}))
    status, _, err = run_cli_failing(
        ["fit", "--config", str(cfg), "--data.init_args.steps_per_execution", value])
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1, err
    assert lines[0].endswith("steps_per_execution must be 'auto' or an integer >= 1, got "
                             + (value if value.lstrip("-").isdigit() else repr(value))), err


def test_resuming_with_another_k_is_one_line_naming_the_checkpoint_s(tmp_path):
    with pytest.raises(SystemExit):  # Ctrl-C: last.ckpt mid-epoch 0, after step 8
        _fit(tmp_path, "k4", 4, CASES["sgd"],
             "--trainer.callbacks+=parity_tests.app_support.CtrlCAtStep",
             "--trainer.callbacks.step=5")
    status, _, err = run_cli_failing(
        ["fit", "--config", str(tmp_path / "k4.yaml"), "--data.init_args.steps_per_execution",
         "2", "--ckpt_path", "last"])
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1, err
    assert "steps_per_execution=4" in lines[0] and "steps_per_execution=2" in lines[0]


SHIPPED = {
    "ensemble_digits": ["--trainer.max_epochs", "2"],
    "autoencoder_digits": ["--trainer.max_epochs", "2"],
    "sparse_autoencoder_digits": ["--trainer.max_epochs", "2"],
    "xor": ["--trainer.max_epochs", "3"],
    "stacked_autoencoder_digits": ["--model.init_args.pretrain_epochs", "1",
                                   "--model.init_args.head_epochs", "1",
                                   "--model.init_args.finetune_epochs", "1"],
}


@pytest.mark.parametrize("config", sorted(SHIPPED))
def test_every_shipped_module_trains_bitwise_as_k_1(tmp_path, config):
    """Ensemble, autoencoders (sparse too), the XOR net and every stage of the stacked
    pipeline: k = 5 (dividing no epoch's batch count here) ends with k = 1's weights."""
    states = {}
    for k in (1, 5):
        save_dir = tmp_path / f"k{k}"
        run_cli(["fit", "--config", config, *SHIPPED[config], "--test_after_fit", "false",
                 "--trainer.logger.init_args.save_dir", str(save_dir),
                 "--trainer.enable_progress_bar", "false",
                 "--data.init_args.steps_per_execution", str(k)])
        ckpts = sorted(save_dir.rglob("last.ckpt"))
        assert ckpts, f"no checkpoint under {save_dir}"
        states[k] = [torch.load(c, map_location="cpu", weights_only=True) for c in ckpts]
    assert len(states[5]) == len(states[1])
    for got, expected in zip(states[5], states[1], strict=True):
        assert got["loops"]["fit_loop"]["state_dict"]["combined_loader"][0][
            "steps_per_execution"] == 5
        _assert_same_state(got, expected)


def test_the_twin_runs_one_step_per_lightning_step(tmp_path):
    """--twin scratch mirrors every Lightning step: auto gives it k = 1, k = 4 is one line."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(digits_config(tmp_path / "logs", "run", seed=0, model={}, checkpoint={},
                                 max_epochs=1))
    status, _, err = run_cli_failing(["fit", "--config", str(cfg), "--twin", "scratch",
                                      "--data.init_args.steps_per_execution", "4"])
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and "--twin" in lines[0], err
    run_cli(["fit", "--config", str(cfg), "--twin", "scratch"])
    ckpt = _checkpoint(tmp_path / "logs" / "run" / "version_0")
    assert ckpt["loops"]["fit_loop"]["state_dict"]["combined_loader"][0][
        "steps_per_execution"] == 1
