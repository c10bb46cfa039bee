"""Crash and resume: SIGKILL a training process part-way, resume with `--ckpt_path last`, and
get bitwise the weights of an uninterrupted run; NaN losses stop training and keep the last good
checkpoint; checkpoint files are replaced atomically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lightning_app.checkpointing import (
    AtomicCheckpointIO,
    collect_rng_state,
    restore_rng_state,
)
from lightning_app.cli import main
from parity_tests.app_support import digits_config

ROOT = Path(__file__).resolve().parents[1]

# Digits (1293 training samples) in batches of 64: 21 steps per epoch, 3 epochs = 63 steps.
# A checkpoint every 7 steps: step 21 is the last batch of epoch 0, step 35 is batch 14 of
# epoch 1. Dropout (random masks), batch norm (running statistics), Adam (moments) and an
# exponential schedule make every kind of state matter.
STEPS = 63


def _config(tmp_path: Path, name: str) -> tuple[Path, Path]:
    save_dir = tmp_path / name
    path = tmp_path / f"{name}.yaml"
    path.write_text(digits_config(
        save_dir, "resume", seed=123, log_every_n_steps=5,
        model={"layer_sizes": [64, 32, 10], "batch_norm": True, "dropout": 0.3},
        checkpoint={"every_n_train_steps": 7},
    ))
    return path, save_dir


def _fit(config: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    return subprocess.Popen(
        [sys.executable, "-m", "lightning_app", "fit", "--config", str(config), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_at(step: int) -> list[str]:
    return [
        "--trainer.callbacks+=parity_tests.app_support.KillAtStep",
        f"--trainer.callbacks.step={step}",
    ]


def _state(save_dir: Path, version: int = 0) -> dict:
    ckpt = save_dir / "resume" / f"version_{version}" / "checkpoints" / "last.ckpt"
    return torch.load(ckpt, map_location="cpu", weights_only=True)


@pytest.mark.slow
def test_sigkill_mid_epoch_and_resume_gives_bitwise_the_uninterrupted_weights(tmp_path):
    ref_cfg, ref_dir = _config(tmp_path, "reference")
    cfg, run_dir = _config(tmp_path, "crashing")

    # Phase 1 (both at once, two cores): the reference run, and a run killed before step 25.
    ref = _fit(ref_cfg)
    crash = _fit(cfg, *_kill_at(25))
    crash_out, crash_err = crash.communicate(timeout=300)
    assert crash.returncode == -signal.SIGKILL, crash_err[-2000:]
    assert _state(run_dir)["global_step"] == 21  # the checkpoint at the end of epoch 0

    # Phase 2: resume, killed again before step 40; the last checkpoint is mid-epoch 1.
    again = _fit(cfg, "--ckpt_path", "last", *_kill_at(40))
    _, err = again.communicate(timeout=300)
    assert again.returncode == -signal.SIGKILL, err[-2000:]
    mid = _state(run_dir)
    assert mid["global_step"] == 35
    loader_state = mid["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]
    assert (loader_state["epoch"], loader_state["batches_done"]) == (1, 14)

    # Phase 3 (in this process, same thread count): resume and finish.
    main(["fit", "--config", str(cfg), "--ckpt_path", "last"])
    _, ref_err = ref.communicate(timeout=300)
    assert ref.returncode == 0, ref_err[-2000:]

    done, expected = _state(run_dir), _state(ref_dir)
    assert done["global_step"] == expected["global_step"] == STEPS
    assert done["state_dict"].keys() == expected["state_dict"].keys()
    for key, value in expected["state_dict"].items():
        assert torch.equal(done["state_dict"][key], value), f"{key} differs after resuming"
    for a, b in zip(
        done["optimizer_states"][0]["state"].values(),
        expected["optimizer_states"][0]["state"].values(),
        strict=True,
    ):
        assert all(torch.equal(a[k], b[k]) for k in b)
    # Every resume continued the same run directory (one TensorBoard run, not three).
    assert sorted(p.name for p in (run_dir / "resume").iterdir()) == ["version_0"]


def test_rng_state_round_trips_through_a_weights_only_checkpoint(tmp_path):
    import random

    import numpy as np

    state = collect_rng_state()
    before = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    path = tmp_path / "rng.ckpt"
    AtomicCheckpointIO().save_checkpoint({"rng": state}, path)
    loaded = torch.load(path, weights_only=True)["rng"]
    torch.rand(5), np.random.rand(7), random.random()  # noqa: NPY002 (move every generator on)
    restore_rng_state(loaded)
    after = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    assert torch.equal(before[0], after[0])
    assert np.array_equal(before[1], after[1]) and before[2] == after[2]


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle this")


def test_failed_checkpoint_write_leaves_the_previous_file_and_no_temp_file(tmp_path):
    io = AtomicCheckpointIO()
    path = tmp_path / "ckpts" / "last.ckpt"
    io.save_checkpoint({"w": torch.ones(3), "step": 1}, path)
    # torch.save writes the tensor data, then fails on the object: a non-atomic writer
    # would leave a truncated last.ckpt behind.
    with pytest.raises(RuntimeError, match="cannot pickle this"):
        io.save_checkpoint({"w": torch.zeros(1000), "bad": _Unpicklable()}, path)
    assert torch.load(path, weights_only=True)["step"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]
    io.save_checkpoint({"w": torch.ones(3), "step": 2}, path)
    assert torch.load(path, weights_only=True)["step"] == 2
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_nan_loss_stops_training_with_a_clear_message_and_keeps_the_last_good_checkpoint(
    tmp_path, capsys
):
    cfg, save_dir = _config(tmp_path, "nan")
    # Plain SGD with a learning rate of 1e8 overflows within a few steps, before the config's
    # first periodic checkpoint (step 7): last.ckpt is written by the guard's stop.
    with pytest.raises(SystemExit) as exit_info:
        main([
            "fit", "--config", str(cfg), "--model.init_args.optimizer", "sgd",
            "--model.init_args.lr", "1e8", "--model.init_args.dropout", "0.0",
            "--model.init_args.batch_norm", "false", "--model.init_args.scheduler", "null",
        ])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "error: the training loss became" in err and "training stopped" in err
    step = int(err.split(" at step ")[1].split()[0])
    assert 0 < step < 7
    last = save_dir / "resume" / "version_0" / "checkpoints" / "last.ckpt"
    assert f"Last good checkpoint: {last} (step {step})." in err
    good = torch.load(last, weights_only=True)
    assert good["global_step"] == step  # the weights before the step whose loss was not finite
    for name, value in good["state_dict"].items():
        assert torch.isfinite(value.double()).all(), name


def test_an_inf_loss_reaches_the_guard_before_any_histogram(tmp_path, capsys):
    # One huge input (finite in float32, its square is not) in the first batch of an epoch
    # whose gradient histograms are due (mlp_digits: every 10 epochs, epoch 0 included).
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 5))
    x[0, 0] = 1e30
    np.savez(tmp_path / "huge.npz", x=x, y=x @ np.ones(5), x_test=x[:10], y_test=x[:10, 0])
    save_dir = tmp_path / "logs"
    with pytest.raises(SystemExit) as exit_info:
        main([
            "fit", "--config", "mlp_digits", "--data", "lightning_app.data.NpzDataModule",
            "--data.path", str(tmp_path / "huge.npz"), "--data.init_args.batch_size", "100",
            "--data.init_args.val_fraction", "0", "--model.init_args.head", "regression",
            "--model.init_args.layer_sizes", "[5, 8, 1]", "--trainer.logger.init_args.save_dir",
            str(save_dir),
        ])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("error: the training loss became inf at step 0 (epoch 0, batch 0)")
    assert err[-1].endswith("Last good checkpoint: none (no step ended with a finite loss).")
    assert not save_dir.exists()  # nothing was trained: the run folder is not kept
