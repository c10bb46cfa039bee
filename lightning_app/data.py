"""DataModules of the app: embedded data sets, user files, and a loader that slices tensors.

Imports torch, lightning, numpy and scikit-learn (bundled data and the split); never scratch.

Every data set lives in memory as a few tensors. `TensorBatchLoader` yields each batch as a
slice of those tensors (one gather per epoch when shuffling, then views: no per-sample
`__getitem__`, no collate), optionally on the GPU. Its order is a pure function of
(seed, epoch), and its position inside the epoch is part of Lightning's fit-loop checkpoint
(`state_dict`/`load_state_dict`), so a run resumed mid-epoch sees the same batches as an
uninterrupted one. Under DDP each rank takes its share of every global batch.

Data sets (all without download):
  DigitsDataModule   scikit-learn's bundled 8x8 digits, pixels scaled to [0, 1]
  XORDataModule      the four XOR points, optionally jittered copies of them
  CircleDataModule   label 1 iff 3 <= x^2 + y^2 <= 8 (catalog B7)
  OneHotDataModule   the 8 one-hot vectors of the 8-3-8 encoder (catalog I1)
  NpzDataModule      a user .npz with `x`, `y` and optionally `x_test`, `y_test`
  CsvDataModule      a user .csv with a header row and a named label column

Bad data (missing file, wrong keys, NaN/inf, row-count mismatch, non-integer labels) raises a
`DataError` (a ValueError) in `setup`, before the first training step, naming the file and
what is wrong.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch

__all__ = [
    "DataError",
    "EpochSampler",
    "TensorBatchLoader",
    "ArrayDataModule",
    "DigitsDataModule",
    "XORDataModule",
    "CircleDataModule",
    "OneHotDataModule",
    "NpzDataModule",
    "CsvDataModule",
]


class DataError(ValueError):
    """The data cannot be trained on; the message names the source and the problem."""


# ---- the loader -----------------------------------------------------------------------------


class EpochSampler:
    """The sample order of one epoch: a permutation that depends only on (seed, epoch).

    Lightning calls `set_epoch` at the start of every epoch (as it does for a
    DistributedSampler), so the order of epoch e is the same in every process and after a
    restart, without any generator state to carry around.
    """

    def __init__(self, n: int, shuffle: bool, seed: int) -> None:
        self.n = n
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def order(self) -> torch.Tensor | None:
        """The permutation of this epoch, or None for the identity order (no shuffling)."""
        if not self.shuffle:
            return None
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return torch.randperm(self.n, generator=g)


class TensorBatchLoader:
    """Mini-batches sliced straight from in-memory tensors (all with the same first dimension).

    batch_size is per process. With `world_size` W, global batch g holds the samples
    [g*W*B, (g+1)*W*B) of the epoch's order and rank r takes the r-th of W equal parts, so W
    processes with batch B see, together, exactly the batches one process sees with batch
    W*B. A short last global batch is split as evenly as possible (dropped with
    `drop_last`, or when it has fewer samples than ranks).

    Resumable: `state_dict()` records the epoch and how many batches of it were handed out;
    after `load_state_dict` the next iteration of that epoch skips them.
    """

    def __init__(
        self,
        tensors: tuple[torch.Tensor, ...],
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not tensors:
            raise ValueError("tensors must hold at least one tensor, got none")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"tensors must have the same number of rows, got shapes {shapes}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        self.tensors = tuple(tensors)
        self.n = n
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        # Named `sampler` so Lightning's `_set_sampler_epoch` finds it and calls set_epoch;
        # `batch_sampler` is None as in a DataLoader built without one (Lightning reads both).
        self.sampler = EpochSampler(n, shuffle, seed)
        self.batch_sampler = None
        self._global = batch_size * world_size
        self._epoch_started: int | None = None
        self._batches_done = 0
        self._resume: dict | None = None

    def __len__(self) -> int:
        full, rest = divmod(self.n, self._global)
        keep_rest = rest >= self.world_size and not self.drop_last
        return full + int(keep_rest)

    def _bounds(self, g: int) -> tuple[int, int]:
        start = g * self._global
        size = min(self._global, self.n - start)
        # This rank's share of global batch g: equal parts, the remainder spread over ranks.
        lo = start + self.rank * size // self.world_size
        hi = start + (self.rank + 1) * size // self.world_size
        return lo, hi

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        # A generator: nothing below runs until the first batch is requested, i.e. after
        # Lightning has called set_epoch (and load_state_dict when resuming).
        epoch = self.sampler.epoch
        skip = 0
        if self._resume is not None:
            if self._resume["epoch"] == epoch:
                skip = self._resume["batches_done"]
            self._resume = None
        order = self.sampler.order()
        # One gather per epoch; every batch after it is a view (no copy, no collate).
        data = self.tensors if order is None else tuple(t[order.to(t.device)] for t in self.tensors)
        self._epoch_started = epoch
        self._batches_done = skip
        for g in range(skip, len(self)):
            lo, hi = self._bounds(g)
            self._batches_done = g + 1
            yield tuple(t[lo:hi] for t in data)

    def state_dict(self) -> dict:
        return {
            "epoch": self._epoch_started if self._epoch_started is not None else self.sampler.epoch,
            "batches_done": self._batches_done,
            "n": self.n,
            "batch_size": self.batch_size,
            "world_size": self.world_size,
            "seed": self.sampler.seed,
            "shuffle": self.sampler.shuffle,
        }

    def load_state_dict(self, state: dict) -> None:
        mine = self.state_dict()
        for key in ("n", "batch_size", "world_size", "seed", "shuffle"):
            if state.get(key) != mine[key]:
                raise DataError(
                    f"cannot resume the batch order: the checkpoint has {key}={state.get(key)!r} "
                    f"but this run has {key}={mine[key]!r}; resume with the same data and settings"
                )
        self._resume = {"epoch": int(state["epoch"]), "batches_done": int(state["batches_done"])}


# ---- checks ---------------------------------------------------------------------------------


def _features(name: str, x, source: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise DataError(f"{source}: {name} must hold numbers, got dtype {x.dtype}")
    if x.ndim == 1:
        x = x[:, None]  # (N,) -> (N, 1): one feature
    if x.ndim != 2:
        raise DataError(f"{source}: {name} must be 2-D (samples, features), got shape {x.shape}")
    if x.shape[0] == 0:
        raise DataError(f"{source}: {name} has no samples (shape {x.shape})")
    x = x.astype(np.float64)
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    if bad:
        raise DataError(f"{source}: {name} must be finite, got {bad} NaN/inf value(s)")
    return x


def _targets(name: str, y, n_rows: int, x_name: str, source: str) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise DataError(f"{source}: {name} must hold numbers, got dtype {y.dtype}")
    if y.ndim == 0 or y.ndim > 2:
        raise DataError(f"{source}: {name} must be 1-D or 2-D, got shape {y.shape}")
    if y.shape[0] != n_rows:
        raise DataError(
            f"{source}: {name} has {y.shape[0]} labels but {x_name} has {n_rows} samples; "
            "they must have the same number of rows"
        )
    if y.dtype.kind == "f":
        bad = int(y.size - np.count_nonzero(np.isfinite(y)))
        if bad:
            raise DataError(f"{source}: {name} must be finite, got {bad} NaN/inf value(s)")
    return y


def _as_target_tensor(y: np.ndarray) -> torch.Tensor:
    """Integer-valued 1-D targets become int64 class labels; anything else stays real."""
    if y.ndim == 1 and (y.dtype.kind in "biu" or np.all(y == np.round(y))):
        return torch.from_numpy(y.astype(np.int64))
    return torch.from_numpy(y.astype(np.float64))


def _fraction(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


# ---- the DataModule base --------------------------------------------------------------------


class ArrayDataModule(pl.LightningDataModule):
    """Base class: arrays in memory, a seeded train/val/test split, `TensorBatchLoader`s.

    Subclasses implement `load()` returning `(x, y, x_test, y_test, source)` (test arrays may
    be None: then `test_fraction` of the data is held out). Validation takes `val_fraction`
    of what remains for training. `batch_size` is per process; evaluation uses
    `eval_batch_size` (default: the whole split in one batch per process).

    Float tensors follow the trainer's precision (float64 under `precision="64-true"`,
    float32 otherwise). `data_on_device=True` moves every tensor to the training device once,
    so batches never cross the PCIe bus again.
    """

    def __init__(
        self,
        batch_size: int = 64,
        eval_batch_size: int | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int = 0,
        data_on_device: bool = False,
    ) -> None:
        super().__init__()
        # Every __init__ argument of the subclass chain: logged beside the model's in
        # TensorBoard's HPARAMS tab.
        self.save_hyperparameters()
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if eval_batch_size is not None and (
            isinstance(eval_batch_size, bool)
            or not isinstance(eval_batch_size, int)
            or eval_batch_size < 1
        ):
            raise ValueError(f"eval_batch_size must be an integer >= 1, got {eval_batch_size!r}")
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.val_fraction = _fraction("val_fraction", val_fraction)
        self.test_fraction = _fraction("test_fraction", test_fraction)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.data_on_device = data_on_device
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.source = type(self).__name__

    # -- to implement
    def load(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, str]:
        raise NotImplementedError

    # -- what models and callbacks may ask
    @property
    def n_features(self) -> int:
        self._ensure_loaded()
        return int(self.splits["train"][0].shape[1])

    @property
    def n_classes(self) -> int | None:
        """Number of classes for integer labels (max label + 1), None for real targets."""
        self._ensure_loaded()
        ys = [y for _, y in self.splits.values()]
        if any(y.dtype != torch.int64 for y in ys):
            return None
        return int(max(int(y.max()) for y in ys if y.numel()) + 1)

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The (x, y) tensors of 'train', 'val' or 'test' (on the data device)."""
        self._ensure_loaded()
        return self.splits[name]

    # -- Lightning hooks
    def setup(self, stage: str | None = None) -> None:
        self._ensure_loaded()
        if self.trainer is not None:
            device = self.trainer.strategy.root_device if self.data_on_device else None
            dtype = torch.float64 if str(self.trainer.precision).startswith("64") else None
            self._convert(device, dtype)

    def train_dataloader(self) -> TensorBatchLoader:
        return self._loader(
            "train", self.batch_size, shuffle=self.shuffle, drop_last=self.drop_last
        )

    def val_dataloader(self) -> TensorBatchLoader:
        return self._loader("val", self.eval_batch_size)

    def test_dataloader(self) -> TensorBatchLoader:
        return self._loader("test", self.eval_batch_size)

    def predict_dataloader(self) -> TensorBatchLoader:
        return self._loader("test", self.eval_batch_size)

    # -- internals
    def _loader(self, name, batch_size, shuffle=False, drop_last=False) -> TensorBatchLoader:
        x, y = self.split(name)
        rank, world = 0, 1
        if self.trainer is not None:
            rank, world = self.trainer.global_rank, self.trainer.world_size
        if batch_size is None:
            batch_size = max(1, math.ceil(x.shape[0] / world))
        return TensorBatchLoader(
            (x, y),
            batch_size,
            shuffle=shuffle,
            seed=self.seed,
            drop_last=drop_last,
            rank=rank,
            world_size=world,
        )

    def _ensure_loaded(self) -> None:
        if self.splits:
            return
        x, y, x_test, y_test, source = self.load()
        self.source = source
        x = _features("x", x, source)
        y = _targets("y", y, x.shape[0], "x", source)
        if (x_test is None) != (y_test is None):
            given = "x_test" if x_test is not None else "y_test"
            missing = "y_test" if x_test is not None else "x_test"
            raise DataError(
                f"{source}: {given} is given but {missing} is missing; give both or none"
            )
        if x_test is not None:
            x_test = _features("x_test", x_test, source)
            y_test = _targets("y_test", y_test, x_test.shape[0], "x_test", source)
            if x_test.shape[1] != x.shape[1]:
                raise DataError(
                    f"{source}: x_test has {x_test.shape[1]} features but x has {x.shape[1]}"
                )
            if y_test.shape[1:] != y.shape[1:]:
                raise DataError(
                    f"{source}: y_test has shape {y_test.shape} but y has {y.shape}; "
                    "targets must have the same trailing shape"
                )
        self.splits = self._split(x, y, x_test, y_test, source)

    def _split(self, x, y, x_test, y_test, source) -> dict:
        from sklearn.model_selection import train_test_split

        stratify_ok = y.ndim == 1 and (y.dtype.kind in "biu" or np.all(y == np.round(y)))

        def cut(xa, ya, fraction, what):
            if fraction == 0:
                return xa, ya, xa[:0], ya[:0]
            n_out = math.ceil(fraction * xa.shape[0])
            if n_out >= xa.shape[0]:
                raise DataError(
                    f"{source}: {what}={fraction} of {xa.shape[0]} samples leaves none to train on"
                )
            strat = ya if stratify_ok and _can_stratify(ya, n_out) else None
            a, b, ya_, yb = train_test_split(
                xa, ya, test_size=n_out, random_state=self.seed, stratify=strat
            )
            return a, ya_, b, yb

        if x_test is None:
            x, y, x_test, y_test = cut(x, y, self.test_fraction, "test_fraction")
        x_tr, y_tr, x_val, y_val = cut(x, y, self.val_fraction, "val_fraction")
        if x_val.shape[0] == 0:
            # No held-out validation set: validate on the training data (tiny sets, e.g. XOR).
            x_val, y_val = x_tr, y_tr
        if x_test.shape[0] == 0:
            x_test, y_test = x_val, y_val
        out = {}
        for name, (xs, ys) in {
            "train": (x_tr, y_tr),
            "val": (x_val, y_val),
            "test": (x_test, y_test),
        }.items():
            out[name] = (torch.from_numpy(xs.astype(np.float32)), _as_target_tensor(ys))
        # Real targets follow x's float dtype.
        for name, (xs, ys) in out.items():
            if ys.is_floating_point():
                out[name] = (xs, ys.to(xs.dtype))
        return out

    def _convert(self, device, dtype) -> None:
        for name, (x, y) in self.splits.items():
            x = x.to(device=device, dtype=dtype or x.dtype)
            y = y.to(device=device, dtype=(dtype or x.dtype) if y.is_floating_point() else None)
            self.splits[name] = (x, y)


def _can_stratify(y: np.ndarray, n_out: int) -> bool:
    counts = np.unique(y, return_counts=True)[1]
    return counts.min() >= 2 and n_out >= counts.size and (y.shape[0] - n_out) >= counts.size


# ---- embedded data sets ---------------------------------------------------------------------


class DigitsDataModule(ArrayDataModule):
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes), in [0, 1].

    Pixels are 0..16 in the bundle; divided by 16. Split (seeded, stratified): `test_fraction`
    held out, then `val_fraction` of the rest for validation.
    """

    def load(self):
        from sklearn.datasets import load_digits

        digits = load_digits()
        return digits.data / 16.0, digits.target, None, None, "sklearn digits"


class XORDataModule(ArrayDataModule):
    """The XOR truth table; with `copies` > 1, jittered copies of its four points.

    Label 1 iff exactly one input is 1. `noise` is the standard deviation of Gaussian
    jitter added to the copies (the four exact points are always included), drawn from a
    generator seeded with `seed`.
    """

    def __init__(
        self,
        copies: int = 1,
        noise: float = 0.0,
        batch_size: int = 4,
        val_fraction: float = 0.0,
        test_fraction: float = 0.0,
        **kwargs,
    ) -> None:
        # With the defaults (the 4 exact points) there is nothing to hold out: validation
        # and test use the training points.
        super().__init__(
            batch_size=batch_size, val_fraction=val_fraction, test_fraction=test_fraction,
            **kwargs,
        )
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
            raise ValueError(f"copies must be an integer >= 1, got {copies!r}")
        if not noise >= 0:
            raise ValueError(f"noise must be in [0, inf), got {noise!r}")
        self.copies = copies
        self.noise = noise

    def load(self):
        corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)
        labels = np.array([0, 1, 1, 0])
        rng = np.random.default_rng(self.seed)
        x = np.tile(corners, (self.copies, 1))  # (4 * copies, 2)
        jitter = rng.normal(0.0, self.noise, size=x.shape) if self.noise > 0 else 0.0
        x = x + jitter
        x[:4] = corners
        return x, np.tile(labels, self.copies), None, None, "XOR"


class CircleDataModule(ArrayDataModule):
    """Points uniform in [-radius, radius]^2, label 1 iff 3 <= x^2 + y^2 <= 8 (catalog B7)."""

    def __init__(self, n_samples: int = 2000, radius: float = 3.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 10:
            raise ValueError(f"n_samples must be an integer >= 10, got {n_samples!r}")
        if not radius > 0:
            raise ValueError(f"radius must be in (0, inf), got {radius!r}")
        self.n_samples = n_samples
        self.radius = radius

    def load(self):
        rng = np.random.default_rng(self.seed)
        x = rng.uniform(-self.radius, self.radius, size=(self.n_samples, 2))  # (N, 2)
        r2 = np.sum(x**2, axis=1)  # (N,)
        y = ((r2 >= 3.0) & (r2 <= 8.0)).astype(np.int64)
        return x, y, None, None, "circle 3 <= x^2 + y^2 <= 8"


class OneHotDataModule(ArrayDataModule):
    """The n one-hot vectors of the n-log2(n)-n encoder (8 for the 8-3-8 encoder of 003).

    Train, validation and test are the same n vectors (there is nothing else to hold out);
    y is the index of the hot unit.
    """

    def __init__(
        self,
        n: int = 8,
        batch_size: int = 8,
        val_fraction: float = 0.0,
        test_fraction: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(
            batch_size=batch_size, val_fraction=val_fraction, test_fraction=test_fraction,
            **kwargs,
        )
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be an integer >= 2, got {n!r}")
        self.n = n

    def load(self):
        return np.eye(self.n), np.arange(self.n), None, None, f"{self.n} one-hot vectors"


# ---- user files -----------------------------------------------------------------------------


def _existing(path: str | Path, suffix: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise DataError(f"data file {str(p)!r} does not exist (or is not a file)")
    if p.suffix.lower() != suffix:
        raise DataError(f"data file {str(p)!r} must be a {suffix} file, got suffix {p.suffix!r}")
    return p


class NpzDataModule(ArrayDataModule):
    """A user's `.npz` with arrays `x` (N, d) and `y` (N,) or (N, k); optionally `x_test`,
    `y_test` (then no test split is cut from x)."""

    REQUIRED = ("x", "y")
    OPTIONAL = ("x_test", "y_test")

    def __init__(self, path: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path = path

    def load(self):
        p = _existing(self.path, ".npz")
        try:
            with np.load(p, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError) as exc:
            raise DataError(f"{p}: cannot read as .npz ({exc})") from exc
        missing = [k for k in self.REQUIRED if k not in arrays]
        if missing:
            raise DataError(
                f"{p}: missing array(s) {', '.join(map(repr, missing))}; found "
                f"{', '.join(map(repr, sorted(arrays))) or 'none'}; expected keys 'x', 'y' "
                "and optionally 'x_test', 'y_test'"
            )
        unknown = sorted(set(arrays) - set(self.REQUIRED) - set(self.OPTIONAL))
        if unknown:
            raise DataError(
                f"{p}: unexpected array(s) {', '.join(map(repr, unknown))}; valid keys: "
                "'x', 'y', 'x_test', 'y_test'"
            )
        return arrays["x"], arrays["y"], arrays.get("x_test"), arrays.get("y_test"), str(p)


class CsvDataModule(ArrayDataModule):
    """A user's `.csv`: a header row, numeric columns, one of them the label (`label_column`)."""

    def __init__(self, path: str, label_column: str = "label", **kwargs) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.label_column = label_column

    def load(self):
        p = _existing(self.path, ".csv")
        with p.open(newline="") as f:
            header = next(csv.reader(f), None)
        if not header:
            raise DataError(f"{p}: empty file; expected a header row naming the columns")
        header = [h.strip() for h in header]
        if self.label_column not in header:
            raise DataError(
                f"{p}: no label column {self.label_column!r}; columns are "
                f"{', '.join(map(repr, header))}"
            )
        try:
            with warnings.catch_warnings():
                # An empty body is reported below as an error of its own, not as a warning.
                warnings.filterwarnings("ignore", "loadtxt: input contained no data")
                table = np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
        except ValueError as exc:
            raise DataError(f"{p}: every value must be a number ({exc})") from exc
        if table.shape[0] == 0:
            raise DataError(f"{p}: no data rows after the header")
        if table.shape[1] != len(header):
            raise DataError(
                f"{p}: the header names {len(header)} columns but the rows have {table.shape[1]}"
            )
        j = header.index(self.label_column)
        y = table[:, j]
        x = np.delete(table, j, axis=1)  # (N, d)
        if x.shape[1] == 0:
            raise DataError(f"{p}: no feature columns besides the label {self.label_column!r}")
        return x, y, None, None, str(p)
