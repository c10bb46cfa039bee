"""Where a config's runs and checkpoints live, and which checkpoint `--ckpt_path last` means.

Imports torch only. No Lightning: these are plain functions of folders and files, used by the
command line (lightning_app/cli.py) before any Trainer exists.

Layout (Lightning's, with a TensorBoardLogger of `save_dir` and `name`):

    <save_dir>/<name>/                 the config's runs ("root")
        version_N/                     one run (any folder name: an explicit logger version)
            checkpoints/*.ckpt         its checkpoints; last.ckpt is written last
            <stage>/checkpoints/*.ckpt a staged model's stage runs (stacked autoencoders)

Rules (docs/app.md, "Checkpoints, crashes and resuming"):
- "last" is the most recently written intact checkpoint of any run of the root. A damaged
  file (empty, truncated, not a checkpoint) is passed over with a warning naming it.
- A temporary file of an interrupted atomic write (`.<name>.ckpt.<pid>.<hex>.tmp`) whose
  writer is gone is stale and removed.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

__all__ = [
    "Layout",
    "Candidate",
    "checkpoint_dirs",
    "checkpoints_in",
    "read_checkpoint",
    "newest_intact",
    "remove_stale_temp_files",
    "run_folder_of",
    "holds_checkpoint",
    "unwritable_reason",
    "saved_dirpath",
    "model_changes",
    "weights_mismatch",
    "STORAGE_ERRNOS",
]

# `AtomicCheckpointIO`'s temporary files: same folder, hidden, the target's name, the pid.
_TEMP = re.compile(r"^\.(?P<target>.+\.ckpt)\.(?P<pid>\d+)\.[0-9a-f]+\.tmp$")

# Errors of the storage, not of the program: the command line reports them in one line.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}
)


@dataclass(frozen=True)
class Layout:
    """A config's runs: under `root` (`<save_dir>/<name>`), or, without a logger, the one
    `loose` checkpoints folder (`<default_root_dir>/checkpoints`); `stage` is a staged
    model's last stage, whose checkpoints are the model's."""

    root: Path | None = None
    loose: Path | None = None
    stage: str | None = None

    @property
    def staged(self) -> bool:
        return self.stage is not None

    def checkpoint_dirs(self) -> list[Path]:
        if self.root is not None:
            return checkpoint_dirs(self.root, self.stage)
        return [self.loose] if self.loose is not None and self.loose.is_dir() else []

    def describe(self) -> str:
        return str(self.root if self.root is not None else self.loose)


def checkpoint_dirs(root: Path, stage: str | None = None) -> list[Path]:
    """The `checkpoints` folders of every run under `root` (of `stage` for a staged model)."""
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir()]
    if stage is not None:
        runs = [p / stage for p in runs]
    return [p / "checkpoints" for p in runs if (p / "checkpoints").is_dir()]


def checkpoints_in(dirs: list[Path]) -> list[Path]:
    """The checkpoint files (`*.ckpt`, not temporary ones) in `dirs`, newest first."""
    files = [p for d in dirs for p in d.glob("*.ckpt") if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name == "last.ckpt"),
                  reverse=True)


def read_checkpoint(path: Path) -> dict | None:
    """The checkpoint at `path` (tensors memory-mapped, not read), or None if it is damaged:
    empty, truncated, not a torch zip file, or without weights."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 (every way a file can be unreadable means "damaged")
        return None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        return None
    return ckpt


@dataclass
class Candidate:
    """The newest intact checkpoint and the damaged ones passed over to find it."""

    path: Path | None
    checkpoint: dict | None
    damaged: list[Path] = field(default_factory=list)


def newest_intact(files: list[Path]) -> Candidate:
    """The first readable checkpoint of `files` (newest first), and the damaged ones before it."""
    damaged = []
    for path in files:
        ckpt = read_checkpoint(path)
        if ckpt is not None:
            return Candidate(path, ckpt, damaged)
        damaged.append(path)
    return Candidate(None, None, damaged)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_temp_files(dirs: list[Path]) -> list[tuple[Path, int]]:
    """Delete the temporary files of atomic checkpoint writes whose process is gone (killed
    mid-write); returns (path, bytes) of each. A live writer's file is left alone."""
    removed = []
    for d in dirs:
        for p in d.iterdir():
            m = _TEMP.match(p.name)
            if m is None or not p.is_file():
                continue
            pid = int(m["pid"])
            if pid == os.getpid() or _alive(pid):
                continue
            size = p.stat().st_size
            try:
                p.unlink()
            except FileNotFoundError:
                continue
            removed.append((p, size))
    return removed


def run_folder_of(ckpt: Path) -> Path | None:
    """The run folder of a checkpoint in Lightning's layout (`<run>/checkpoints/x.ckpt`)."""
    ckpt = Path(ckpt)
    return ckpt.parent.parent if ckpt.parent.name == "checkpoints" else None


def holds_checkpoint(folder: Path) -> bool:
    """True if `folder` (a run) holds an intact checkpoint anywhere below it."""
    return any(read_checkpoint(p) is not None for p in folder.rglob("*.ckpt"))


def unwritable_reason(path: Path) -> str | None:
    """Why files cannot be created in `path` (or, if it does not exist yet, in its nearest
    existing ancestor, where it would be created); None if they can. Leaves nothing behind."""
    probe = Path(path)
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        return f"cannot create files in {probe}: {exc.strerror or exc}"
    return None


def saved_dirpath(checkpoint: dict) -> str | None:
    """The checkpoints folder a checkpoint was written to, as ModelCheckpoint spelled it."""
    for key, state in (checkpoint.get("callbacks") or {}).items():
        if key.startswith("ModelCheckpoint") and isinstance(state, dict):
            return state.get("dirpath")
    return None


def model_changes(checkpoint: dict, class_path: str | None, init_args: dict,
                  plain=lambda v: v) -> list[tuple[str, object, object]]:
    """(setting, checkpoint's value, new value) for every model setting in `init_args` that
    differs from the checkpoint's hyper-parameters; a different class is the one change
    reported. Keys only one side knows are not compared (code that gained an argument)."""
    saved = dict(checkpoint.get("hyper_parameters") or {})
    saved.pop("_instantiator", None)
    old_class = saved.pop("_class_path", None)
    if old_class and class_path and old_class != class_path:
        return [("model", old_class, class_path)]
    return [(k, plain(saved[k]), init_args[k]) for k in saved
            if k in init_args and plain(saved[k]) != init_args[k]]


def weights_mismatch(saved: dict, current: dict, shown: int = 3) -> list[str]:
    """'name (saved shape) -> (shape now)' for tensors whose shapes differ, and names only one
    state dict has (at most `shown` of each); empty if the saved weights fit."""
    wrong = [f"{k} {tuple(saved[k].shape)} -> {tuple(v.shape)}"
             for k, v in current.items() if k in saved and saved[k].shape != v.shape]
    lonely = sorted(set(current) ^ set(saved))
    return wrong[:shown] + [f"{k} only in one of them" for k in lonely[:shown]]
