"""Checkpoints and resume as a user meets them (docs/app.md, "Checkpoints, crashes and
resuming"): last.ckpt holds the final weights however fit ends, `last` means the newest intact
checkpoint of the config's runs, evaluation uses trained weights in the run's own folder, and
damaged files, stale temporary files, changed settings and contradicting flags are handled.

Every run is `lightning_app.cli.main(argv)` in this process on a small config: the digits MLP
with dropout (random masks), Adam and a schedule, 4 steps per epoch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from parity_tests.app_support import digits_config, run_cli, run_cli_failing

STEPS = 4  # optimizer steps per epoch (limit_train_batches)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _config(folder: Path) -> tuple[Path, Path]:
    """(config file, run root) of a fresh run tree under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(digits_config(
        folder / "logs", "run", seed=7, limit_train_batches=STEPS, num_sanity_val_steps=0,
        log_every_n_steps=2, model={"layer_sizes": [64, 16, 10], "dropout": 0.2},
        checkpoint={"every_n_epochs": 2},
    ))
    return path, folder / "logs" / "run"


def _ckpt(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _same_weights(a: dict, b: dict) -> bool:
    return a["state_dict"].keys() == b["state_dict"].keys() and all(
        torch.equal(a["state_dict"][k], v) for k, v in b["state_dict"].items()
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """An uninterrupted 5-epoch run: what every resumed run must end with, bit for bit."""
    cfg, root = _config(tmp_path_factory.mktemp("reference"))
    run_cli(["fit", "--config", str(cfg), "--trainer.max_epochs", "5"])
    return _ckpt(root / "version_0" / "checkpoints" / "last.ckpt")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, Path, str]:
    """A finished 3-epoch run (checkpoints every 2 epochs), tested after fit; not modified by
    the tests that use it (each copies what it changes)."""
    cfg, root = _config(tmp_path_factory.mktemp("fitted"))
    out, _ = run_cli(["fit", "--config", str(cfg), "--test_after_fit", "true"])
    return cfg, root, out


def _copy_run(fitted, tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the fitted run tree (config pointing at the copy)."""
    import shutil

    _, root, _ = fitted
    cfg, new_root = _config(tmp_path)
    shutil.copytree(root, new_root, copy_function=shutil.copy2)
    return cfg, new_root


# ---- 1. last.ckpt holds the final weights ---------------------------------------------------


def test_last_ckpt_holds_the_final_step_when_max_epochs_is_not_a_multiple_of_every_n_epochs(
    fitted,
):
    _, root, out = fitted
    folder = root / "version_0" / "checkpoints"
    assert _ckpt(folder / "last.ckpt")["global_step"] == 3 * STEPS  # not 2 * STEPS
    assert _ckpt(folder / "epoch=1-step=8.ckpt")["global_step"] == 2 * STEPS  # the periodic one
    assert f"last checkpoint: {folder / 'last.ckpt'}" in out


@pytest.mark.slow
def test_resuming_the_final_checkpoint_with_more_epochs_equals_an_uninterrupted_run(
    fitted, reference, tmp_path
):
    cfg, root = _copy_run(fitted, tmp_path)
    run_cli(["fit", "--config", str(cfg), "--ckpt_path", "last", "--trainer.max_epochs", "5"])
    done = _ckpt(root / "version_0" / "checkpoints" / "last.ckpt")
    assert done["global_step"] == reference["global_step"] == 5 * STEPS
    assert _same_weights(done, reference)
    assert sorted(p.name for p in root.iterdir()) == ["version_0"]  # the same run folder


@pytest.mark.slow
def test_ctrl_c_saves_the_finished_step_exits_130_and_resumes_exactly(reference, tmp_path):
    cfg, root = _config(tmp_path)
    interrupt = ["--trainer.callbacks+=parity_tests.app_support.CtrlCAtStep",
                 "--trainer.callbacks.step=6", "--trainer.max_epochs", "5"]
    status, _, err = run_cli_failing(["fit", "--config", str(cfg), *interrupt])
    last = root / "version_0" / "checkpoints" / "last.ckpt"
    assert status == 130
    # SIGINT came in the middle of step 6: the step ran to its end, then last.ckpt was saved.
    assert err.splitlines()[-1].startswith(
        f"interrupted: stopped after step 7; {last} holds those weights. Continue with: "
    )
    assert err.splitlines()[-1].endswith("--ckpt_path last")
    assert _ckpt(last)["global_step"] == 7
    run_cli(["fit", "--config", str(cfg), "--ckpt_path", "last", "--trainer.max_epochs", "5"])
    assert _same_weights(_ckpt(last), reference)


# ---- 2, 3, 4. what `last` means; evaluation uses trained weights, in the run's folder ----------


@pytest.mark.slow
def test_fit_ckpt_path_last_resumes_the_newest_checkpoint_when_the_newest_run_has_none(
    fitted, tmp_path
):
    cfg, root = _copy_run(fitted, tmp_path)
    failed = root / "version_1"  # what a failed run or an old test run leaves: no checkpoint
    failed.mkdir()
    (failed / "events.out.tfevents.0.host").write_bytes(b"")
    run_cli(["fit", "--config", str(cfg), "--ckpt_path", "last", "--trainer.max_epochs", "4"])
    assert _ckpt(root / "version_0" / "checkpoints" / "last.ckpt")["global_step"] == 4 * STEPS
    assert sorted(p.name for p in root.iterdir()) == ["version_0", "version_1"]
    assert [p.name for p in failed.iterdir()] == ["events.out.tfevents.0.host"]


@pytest.mark.parametrize("subcommand", ["fit", "test"])
def test_ckpt_path_last_without_any_checkpoint_exits_2_and_writes_nothing(subcommand, tmp_path):
    cfg, root = _config(tmp_path)
    status, _, err = run_cli_failing([subcommand, "--config", str(cfg), "--ckpt_path", "last"])
    assert status == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: --ckpt_path: there is no checkpoint to use as 'last' in {root}")
    assert not root.exists()


def test_evaluation_uses_the_newest_trained_weights_and_writes_into_their_run_folder(
    fitted, tmp_path, recwarn
):
    cfg, root = _copy_run(fitted, tmp_path)
    fitted_acc = fitted[2].split("final test acc: ")[1].split()[0]
    folder = root / "version_0"
    fit_config = (folder / "config.yaml").read_text()
    ckpt = folder / "checkpoints" / "last.ckpt"
    out, _ = run_cli(["test", "--config", str(cfg), "--ckpt_path", "last"])
    assert f"weights: {ckpt} (step {3 * STEPS})" in out
    assert f"final test acc: {fitted_acc}" in out  # the trained weights, not a fresh start
    out, _ = run_cli(["validate", "--config", str(cfg)])  # no --ckpt_path: `last` as well
    assert f"weights: {ckpt} (step {3 * STEPS})" in out
    out, _ = run_cli(["predict", "--config", str(cfg), "--ckpt_path", str(ckpt)])
    assert "predicted 360 rows" in out
    # No new run folder; the fit's config.yaml stays, each evaluation saved its own.
    assert sorted(p.name for p in root.iterdir()) == ["version_0"]
    assert (folder / "config.yaml").read_text() == fit_config
    assert {"config_test.yaml", "config_validate.yaml", "config_predict.yaml"} <= {
        p.name for p in folder.iterdir()
    }
    assert not [w for w in recwarn if "dirpath has changed" in str(w.message)]


# ---- 5, 6. damaged checkpoints, stale temporary files, no -v1 duplicates ----------------------


def test_damaged_last_ckpt_falls_back_to_the_newest_intact_checkpoint_with_a_warning(
    fitted, tmp_path
):
    cfg, root = _copy_run(fitted, tmp_path)
    folder = root / "version_0" / "checkpoints"
    last, periodic = folder / "last.ckpt", folder / "epoch=1-step=8.ckpt"
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2])  # truncated
    out, err = run_cli(["test", "--config", str(cfg), "--ckpt_path", "last"])
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {last} is damaged (empty, truncated or not a checkpoint); using {periodic}, "
        "the newest intact checkpoint, instead"
    ]
    assert f"weights: {periodic} (step {2 * STEPS})" in out
    periodic.write_bytes(b"")  # empty: nothing intact left, so refuse
    status, _, err = run_cli_failing(["test", "--config", str(cfg), "--ckpt_path", "last"])
    assert status == 2
    assert err.splitlines() == [
        f"error: --ckpt_path: there is no checkpoint to use as 'last' in {root} (2 damaged "
        "file(s) passed over); fit the model first, or give --ckpt_path PATH"
    ]


def test_stale_temporary_files_of_a_killed_write_are_removed_at_the_next_start(fitted, tmp_path):
    cfg, root = _copy_run(fitted, tmp_path)
    folder = root / "version_0" / "checkpoints"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    stale = folder / f".last.ckpt.{dead_pid}.1a2b3c4d.tmp"
    stale.write_bytes(os.urandom(1 << 20))
    live = folder / f".last.ckpt.{os.getppid()}.5e6f7a8b.tmp"  # a writer still running
    live.write_bytes(b"partial")
    out, _ = run_cli(["test", "--config", str(cfg)])
    assert not stale.exists() and live.exists()
    assert f"removed 1 temporary file(s) (1.0 MB) of interrupted checkpoint writes: {stale}" in out


@pytest.mark.slow
def test_resuming_over_a_checkpoint_of_the_same_step_replaces_it_without_a_v1_copy(tmp_path):
    cfg, root = _config(tmp_path)
    folder = root / "version_0" / "checkpoints"
    run_cli(["fit", "--config", str(cfg), "--trainer.max_epochs", "1"])
    older = (folder / "last.ckpt").read_bytes()  # step 4
    run_cli(["fit", "--config", str(cfg), "--ckpt_path", "last", "--trainer.max_epochs", "2"])
    # A kill after epoch=1-step=8.ckpt was written but before last.ckpt was: last is older.
    (folder / "last.ckpt").write_bytes(older)
    run_cli(["fit", "--config", str(cfg), "--ckpt_path", str(folder / "last.ckpt"),
             "--trainer.max_epochs", "2"])
    assert sorted(p.name for p in folder.iterdir()) == ["epoch=1-step=8.ckpt", "last.ckpt"]
    assert _ckpt(folder / "last.ckpt")["global_step"] == 2 * STEPS


# ---- 7. changed model settings ----------------------------------------------------------------


def test_resuming_with_changed_model_settings_is_refused_naming_them(fitted, tmp_path):
    cfg, root = _copy_run(fitted, tmp_path)
    last = root / "version_0" / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    status, _, err = run_cli_failing([
        "fit", "--config", str(cfg), "--ckpt_path", "last",
        "--model.init_args.layer_sizes", "[64, 32, 10]", "--model.init_args.activation", "tanh",
        "--model.init_args.optimizer", "sgd", "--model.init_args.head", "multiclass",
    ])
    assert status == 2
    assert err.splitlines() == [
        f"error: --ckpt_path: {last} was trained with other model settings: layer_sizes "
        "[64, 16, 10] -> [64, 32, 10]; activation 'relu' -> 'tanh'; optimizer 'adam' -> 'sgd'. "
        "Resume with the checkpoint's settings, or add --allow_model_changes true to resume "
        "with the new ones"
    ]
    assert last.read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["version_0"]
    # With the override, weights that cannot fit the new shapes are still one line.
    status, _, err = run_cli_failing([
        "fit", "--config", str(cfg), "--ckpt_path", "last", "--allow_model_changes", "true",
        "--model.init_args.layer_sizes", "[64, 32, 10]",
    ])
    assert status == 2
    assert err.splitlines() == [
        f"error: --ckpt_path: the weights of {last} do not fit the model: net.net.0.weight "
        "(16, 64) -> (32, 64); net.net.0.bias (16,) -> (32,); net.net.3.weight (10, 16) -> "
        "(10, 32)"
    ]


@pytest.mark.slow
def test_allow_model_changes_resumes_the_weights_with_a_fresh_optimizer(fitted, tmp_path):
    cfg, root = _copy_run(fitted, tmp_path)
    last = root / "version_0" / "checkpoints" / "last.ckpt"
    out, _ = run_cli(["fit", "--config", str(cfg), "--ckpt_path", "last", "--allow_model_changes",
                      "true", "--model.init_args.lr", "0.001", "--trainer.max_epochs", "4"])
    assert "resuming with changed model settings: lr 0.01 -> 0.001" in out
    done = _ckpt(last)
    assert done["global_step"] == 4 * STEPS
    # A fresh Adam: its step count is the 4 steps of this run, its schedule starts at 0.001.
    adam = done["optimizer_states"][0]
    assert [float(s["step"]) for s in adam["state"].values()] == [STEPS] * 4
    assert adam["param_groups"][0]["initial_lr"] == 0.001


# ---- 8. a trigger on the command line wins ------------------------------------------------------


def test_a_checkpoint_trigger_on_the_command_line_replaces_the_configs_other_trigger(tmp_path):
    cfg, root = _config(tmp_path)
    run_cli(["fit", "--config", str(cfg), "--checkpoint.every_n_train_steps", "5"])
    folder = root / "version_0" / "checkpoints"
    # Every 5 steps (5, 10; top-1 keeps 10), not every 2 epochs (8), and last at the end (12).
    assert sorted(p.name for p in folder.iterdir()) == ["epoch=2-step=10.ckpt", "last.ckpt"]
    status, _, err = run_cli_failing(["fit", "--config", str(cfg), "--checkpoint.every_n_epochs",
                                      "1", "--checkpoint.every_n_train_steps", "5"])
    assert status == 2
    assert err.splitlines() == [
        "error: --checkpoint.every_n_train_steps: --checkpoint.every_n_train_steps and "
        "--checkpoint.every_n_epochs are alternatives; give one checkpoint trigger"
    ]
