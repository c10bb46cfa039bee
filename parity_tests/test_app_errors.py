"""Bad input to the command line: one `error: ...` line on stderr that names the argument, what
was expected and what came, exit status 2, and nothing written (no run folder, no checkpoint,
no temporary file) - for flags, config values, data files and an unwritable or full disk."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from lightning_app.data import NpzDataModule
from parity_tests.app_support import run_cli, run_cli_failing

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _npz_files(folder: Path) -> dict[str, Path]:
    """One user file per kind of bad data (x: 60 x 5 Gaussian)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    good = folder / "good.npz"
    np.savez(good, x=x, y=rng.integers(0, 3, 60))
    files = {
        "labels 0..7": dict(x=x, y=np.arange(60) % 8),
        "negative labels": dict(x=x, y=np.arange(60) % 3 - 1),
        "beyond float32": dict(x=np.where(np.arange(300).reshape(60, 5) == 38, 1e39, x),
                               y=np.arange(60) % 3),
    }
    paths = {}
    for name, arrays in files.items():
        paths[name] = folder / f"{name.replace(' ', '_').replace('.', '')}.npz"
        np.savez(paths[name], **arrays)
    paths["empty file"] = folder / "empty.npz"
    paths["empty file"].write_bytes(b"")
    data = good.read_bytes()
    paths["truncated"] = folder / "truncated.npz"
    paths["truncated"].write_bytes(data[: len(data) // 2])
    paths["a .npy renamed"] = folder / "renamed.npz"
    with open(paths["a .npy renamed"], "wb") as f:
        np.save(f, x)
    paths["random bytes"] = folder / "random.npz"
    paths["random bytes"].write_bytes(b"\x13\x37" + rng.bytes(500))
    objects = np.empty(60, dtype=object)
    objects[:] = [{"label": i % 3} for i in range(60)]
    paths["object labels"] = folder / "objects.npz"
    np.savez(paths["object labels"], x=x, y=objects)
    return paths


# (id, extra arguments; "{name}" is that data file), the expected line (after "error: ")
CASES = [
    ("lr -0.1", ["--model.init_args.lr", "-0.1"],
     "--model.init_args.lr: lr must be in [0, inf), got -0.1"),
    ("activation relux", ["--model.init_args.activation", "relux"],
     "--model.init_args.activation: unknown activation 'relux'; valid choices: 'identity', "),
    ("layer_sizes [63, 128, 10] on the digits", ["--model.init_args.layer_sizes", "[63,128,10]"],
     "--model.init_args.layer_sizes: the model expects 63 input features but the data "
     "(sklearn digits) has 64; set the first size to 64"),
    ("batch_size 0", ["--data.init_args.batch_size", "0"],
     "--data.init_args.batch_size: batch_size must be an integer >= 1, got 0"),
    ("max_epochs abc", ["--trainer.max_epochs", "abc"],
     "--trainer.max_epochs: expected int or None, got abc (see --help)"),
    ("a misspelt argument", ["--model.init_args.activaton", "relu"],
     "--model.init_args.activaton: lightning_app.models.MLPModule has no argument 'activaton' "
     "(see --help)"),
    ("optimizer_args refused by the optimizer (when it is built)",
     ["--model.init_args.optimizer", "momentum", "--model.init_args.optimizer_args",
      "{momentum: -1.0}"],
     "--model.init_args.optimizer_args: optimizer 'momentum': Invalid momentum value: -1.0"),
    ("labels 0..7 with 3 outputs", ["{labels 0..7}"],
     "--model.init_args.layer_sizes: the data ({path}) has labels 0..7 but the multiclass head "
     "has room for 3 classes; set the last size to 8"),
    ("negative labels", ["{negative labels}"],
     "--data.init_args.path: {path} has negative class labels (smallest -1); the multiclass "
     "head needs labels 0..2; relabel the data"),
    ("beyond float32", ["{beyond float32}"],
     "--data.init_args.path: {path}: x holds 1e+39 at row 7, column 3, beyond the range of "
     "float32 (largest 3.403e+38), in which the model trains: it would become inf. Rescale "
     "the data, or train in float64 (--trainer.precision 64-true)"),
    ("empty file", ["{empty file}"],
     "--data.init_args.path: {path}: the file is empty; expected a .npz archive (np.savez)"),
    ("truncated", ["{truncated}"],
     "--data.init_args.path: {path}: a damaged .npz archive (truncated or corrupt: "),
    ("a .npy renamed", ["{a .npy renamed}"],
     "--data.init_args.path: {path}: this is a .npy file (one array), not a .npz archive; save "
     "the arrays with np.savez(path, x=..., y=...)"),
    ("random bytes", ["{random bytes}"],
     "--data.init_args.path: {path}: not a .npz archive (no zip header; starts with "),
    ("object labels", ["{object labels}"],
     "--data.init_args.path: {path}: array 'y' holds Python objects, not numbers; save it as "
     "a numeric array (np.asarray(a, dtype=float))"),
]


@pytest.fixture(scope="module")
def npz_files(tmp_path_factory) -> dict[str, Path]:
    return _npz_files(tmp_path_factory.mktemp("data"))


@pytest.mark.parametrize(("args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_the_argument_with_status_2_and_nothing_written(
    args, expected, npz_files, tmp_path
):
    argv = ["fit", "--config", "mlp_digits", "--trainer.logger.init_args.save_dir",
            str(tmp_path / "logs")]
    path = None
    if args[0].startswith("{"):
        path = npz_files[args[0][1:-1]]
        args = ["--data", "lightning_app.data.NpzDataModule", "--data.path", str(path),
                "--model.init_args.layer_sizes", "[5, 32, 3]"]
    status, _, err = run_cli_failing([*argv, *args])
    assert status == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: " + expected.format(path=path))
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_progress_bar_flag_wins_over_the_configs_bar(tmp_path):
    out, err = run_cli(["fit", "--config", "mlp_digits", "--trainer.enable_progress_bar",
                        "false", "--trainer.max_epochs", "1", "--test_after_fit", "false",
                        "--trainer.logger.init_args.save_dir", str(tmp_path)])
    assert "last checkpoint:" in out
    assert "it/s" not in err and "Epoch 0" not in err  # no progress frames


def test_extra_npz_arrays_are_named_and_ignored(tmp_path, rng):
    # mnist1d-style: the data plus arrays the app does not use, one of them of objects.
    templates = np.empty(2, dtype=object)
    templates[:] = [{"a": 1}, [1, 2]]
    path = tmp_path / "mnist1d.npz"
    np.savez(path, x=rng.normal(size=(40, 3)), y=rng.integers(0, 2, 40), t=np.arange(40),
             templates=templates)
    dm = NpzDataModule(str(path))
    with pytest.warns(UserWarning, match=r"ignoring array\(s\) 't', 'templates'; only 'x', "
                                         r"'y', 'x_test', 'y_test' are used"):
        dm.setup("fit")
    assert dm.n_features == 3 and dm.n_classes == 2


def _fit_args(save_dir: Path) -> list[str]:
    return ["fit", "--config", "mlp_digits", "--trainer.logger.init_args.save_dir",
            str(save_dir), "--trainer.max_epochs", "2", "--trainer.limit_train_batches", "2",
            "--checkpoint.every_n_epochs", "1", "--test_after_fit", "false",
            "--trainer.enable_progress_bar", "false"]


def test_unwritable_log_folder_is_one_line_naming_save_dir_and_writes_nothing(
    tmp_path, monkeypatch
):
    logs = tmp_path / "logs"
    logs.mkdir()
    logs.chmod(0o555)
    if os.geteuid() == 0:
        # root writes into a mode-555 folder anyway; give the probe the refusal a read-only
        # mount gives root (and chmod gives everyone else).
        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr("lightning_app.runs.tempfile.TemporaryFile", refuse)
    try:
        status, _, err = run_cli_failing(_fit_args(logs))
    finally:
        logs.chmod(0o755)
    assert status == 2
    assert err.splitlines() == [
        "error: --trainer.logger.init_args.save_dir: cannot write the run's logs: cannot "
        f"create files in {logs}: Permission denied"
    ]
    assert list(logs.iterdir()) == []


@pytest.mark.parametrize("full_at", [1, 2], ids=["first checkpoint", "second checkpoint"])
def test_full_disk_is_one_line_and_leaves_no_partial_checkpoint(full_at, tmp_path, monkeypatch):
    real_save = torch.save
    writes = []

    def disk_fills_up(obj, f, *args, **kwargs):
        writes.append(1)
        if len(writes) < full_at:
            return real_save(obj, f, *args, **kwargs)
        f.write(b"\0" * 4096)  # part of the file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_fills_up)
    save_dir = tmp_path / "logs"
    status, _, err = run_cli_failing(_fit_args(save_dir))
    assert status == 2
    folder = save_dir / "mlp_digits" / "version_0" / "checkpoints"
    written = "epoch=0-step=2.ckpt" if full_at == 1 else "last.ckpt"
    assert err.splitlines() == [
        f"error: --trainer.logger.init_args.save_dir: cannot write {folder / written}: No space "
        "left on device; free space or choose another folder"
    ]
    if full_at == 1:  # nothing was saved: the run folder this command made is gone
        assert not save_dir.exists()
    else:  # the first checkpoint is whole; no half-written file beside it
        assert sorted(p.name for p in folder.iterdir()) == ["epoch=0-step=2.ckpt"]
        assert torch.load(folder / "epoch=0-step=2.ckpt", weights_only=True)["global_step"] == 2
