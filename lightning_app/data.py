"""DataModules of the app: embedded data sets and user files, served by `TensorBatchLoader`.

Imports torch, lightning, numpy, scikit-learn (bundled data and the split) and, of scratch,
only scratch.validation (the valid ranges).

Every data set lives in memory as a few tensors, batched by `lightning_app.loader`.

Data sets (all without download):
  DigitsDataModule   scikit-learn's bundled 8x8 digits, pixels scaled to [0, 1]
  XORDataModule      the four XOR points, optionally jittered copies of them
  CircleDataModule   label 1 iff 3 <= x^2 + y^2 <= 8 (catalog B7)
  OneHotDataModule   the 8 one-hot vectors of the 8-3-8 encoder (catalog I1)
  NpzDataModule      a user .npz with `x`, `y` and optionally `x_test`, `y_test`
  CsvDataModule      a user .csv with a header row and a named label column

Bad data (missing, empty or corrupt file, wrong keys, NaN/inf, values beyond the training
dtype's range, row-count mismatch) raises a `DataError` when it is loaded, before the first
training step, naming the file and what is wrong (with row and column for a bad value).

Standardization (`standardize`, default on for the user files, off for the built-in sets,
which are already scaled): the statistics are those of the training split only
(scikit-learn's StandardScaler, `input_statistics`); the model stores and applies them
(lightning_app/models.py), so they travel in its checkpoint. The tensors here stay raw.

`predict_path` (a .npz with `x`, or a .csv with a header) is what `predict` reads instead of
the test split; only that file is read for predict, not the training data.
"""

from __future__ import annotations

import csv
import math
import warnings
import zipfile
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn

from lightning_app.checks import DataError, check_count
from lightning_app.execution import check_steps
from lightning_app.execution import resolve as resolve_steps
from lightning_app.loader import TensorBatchLoader
from scratch.validation import Interval, check_interval

__all__ = [
    "DataError",
    "ArrayDataModule",
    "DigitsDataModule",
    "XORDataModule",
    "CircleDataModule",
    "OneHotDataModule",
    "NpzDataModule",
    "CsvDataModule",
    "compute_dtype",
    "read_features",
]

_FRACTION = Interval(0, 1, "left")
_NONNEGATIVE = Interval(0, math.inf, "left")
_POSITIVE = Interval(0, math.inf, "neither")


def compute_dtype(precision) -> torch.dtype:
    """The narrowest float the data meets under a Trainer `precision` ("32-true", "64-true",
    "16-mixed", ...): a value beyond its range becomes inf in the first layer."""
    p = str(precision)
    if p.startswith("64"):
        return torch.float64
    if p.startswith("16"):
        return torch.float16
    return torch.float32  # "32-true", "bf16-*" (bfloat16 has float32's range)


def _storage_dtype(dtype: torch.dtype) -> torch.dtype:
    # Tensors are stored in float32 or float64; half precision is applied by Lightning per step.
    return torch.float64 if dtype == torch.float64 else torch.float32


# ---- checks ---------------------------------------------------------------------------------


class _Extreme:
    """The largest |value| of one loaded array, where it is: checked against the training
    dtype's range once that dtype is known (setup), named by row and column."""

    def __init__(self, name: str, a: np.ndarray, columns: list[str] | None) -> None:
        flat = int(np.argmax(np.abs(a))) if a.size else 0
        idx = np.unravel_index(flat, a.shape) if a.size else (0,) * a.ndim
        self.name = name
        self.value = float(a[idx]) if a.size else 0.0
        self.row = int(idx[0])
        self.col = int(idx[1]) if a.ndim == 2 else None
        self.columns = columns

    def check(self, dtype: torch.dtype, source: str) -> None:
        limit = torch.finfo(dtype).max
        if abs(self.value) <= limit:
            return
        where = f"row {self.row}"
        if self.col is not None:
            col = f"column {self.col}"
            if self.columns is not None:
                col = f"column {self.columns[self.col]!r}"
            where += f", {col}"
        dtype_name = str(dtype).removeprefix("torch.")
        raise DataError(
            f"{source}: {self.name} holds {self.value:g} at {where}, beyond the range of "
            f"{dtype_name} (largest {limit:.4g}), in which the model trains: it would become "
            "inf. Rescale the data, or train in float64 (--trainer.precision 64-true)"
        )


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
    _check_finite(name, x, source)
    return x


def _check_finite(name: str, a: np.ndarray, source: str) -> None:
    finite = np.isfinite(a)
    bad = int(a.size - np.count_nonzero(finite))
    if bad:
        first = np.argwhere(~finite)[0]
        where = f"row {first[0]}" + (f", column {first[1]}" if a.ndim == 2 else "")
        raise DataError(
            f"{source}: {name} must be finite, got {bad} NaN/inf value(s) (the first at {where})"
        )


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
        _check_finite(name, y, source)
    return y


def _is_labels(y: np.ndarray) -> bool:
    """Integer-valued 1-D targets are class labels; anything else is a real target."""
    return y.ndim == 1 and (y.dtype.kind in "biu" or bool(np.all(y == np.round(y))))


def _target_array(y: np.ndarray) -> np.ndarray:
    return y.astype(np.int64) if _is_labels(y) else y.astype(np.float64)


# ---- the DataModule base --------------------------------------------------------------------


class ArrayDataModule(pl.LightningDataModule):
    """Base class: arrays in memory, a seeded train/val/test split, `TensorBatchLoader`s.

    Subclasses implement `load()` returning `(x, y, x_test, y_test, source)` (test arrays may
    be None: then `test_fraction` of the data is held out), and may set `feature_names`.
    Validation takes `val_fraction` of what remains for training. `batch_size` is per
    process; evaluation uses `eval_batch_size` (default: the whole split in one batch per
    process).

    Arrays are checked and split in float64; tensors follow the trainer's precision (float64
    under `precision="64-true"`, float32 otherwise), and a value beyond the range of the
    dtype the model computes in (float32, or float16 under 16-bit precision) is a
    `DataError` naming its row and column. `data_on_device=True` moves every tensor to the
    training device once, so batches never cross the PCIe bus again.

    `steps_per_execution` ("auto" or k >= 1): the training loader hands out k batches per
    Lightning step and the module runs k optimizer steps over them, bitwise the same updates
    as k = 1 at a fraction of Lightning's per-step cost (`lightning_app.execution`; "auto":
    `execution.AUTO_STEPS` unless a Trainer setting needs k = 1).
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
        standardize: bool | None = None,
        predict_path: str | None = None,
        steps_per_execution: int | str = "auto",
    ) -> None:
        super().__init__()
        # Every __init__ argument of the subclass chain: logged beside the model's in
        # TensorBoard's HPARAMS tab.
        self.save_hyperparameters()
        self.batch_size = check_count("batch_size", batch_size)
        if eval_batch_size is not None:
            check_count("eval_batch_size", eval_batch_size)
        self.eval_batch_size = eval_batch_size
        self.val_fraction = check_interval("val_fraction", val_fraction, _FRACTION)
        self.test_fraction = check_interval("test_fraction", test_fraction, _FRACTION)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.data_on_device = data_on_device
        if standardize is not None and not isinstance(standardize, bool):
            raise TypeError(f"standardize must be true, false or null, got {standardize!r}")
        self.standardize = standardize
        self.predict_path = predict_path
        self.steps_per_execution = check_steps(steps_per_execution)
        self.execution_steps = 1  # k of the running fit (`execution.resolve`, in setup)
        self.feature_names: list[str] | None = None
        self.source = type(self).__name__
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # float64 / int64
        self._extremes: list[_Extreme] = []
        self._statistics: tuple[np.ndarray, np.ndarray] | None = None  # input_statistics
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._made_for: tuple | None = None  # (dtype, device) of `splits`
        self._predict: np.ndarray | None = None  # the rows of `predict_path` (float64)
        self.predict_source: str | None = None
        self.predict_x: torch.Tensor | None = None

    # The user's own files are standardized unless `standardize: false`; the built-in sets
    # are already on a unit scale (pixels / 16, points in a few units).
    user_data = False

    # -- to implement
    def load(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, str]:
        raise NotImplementedError

    # -- standardization
    @property
    def standardizes(self) -> bool:
        """Whether the model should standardize its inputs: `standardize`, or by default
        True for the user's files and False for the built-in sets."""
        return self.user_data if self.standardize is None else self.standardize

    def input_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, scale) of the training split's features (float64, (d,) each), as
        scikit-learn's StandardScaler fits them: scale is the standard deviation (1/N), 1
        for a constant feature."""
        if self._statistics is None:  # once: Lightning's setup asks again in every fit
            from sklearn.preprocessing import StandardScaler

            self._ensure_loaded()
            scaler = StandardScaler().fit(self._arrays["train"][0])
            self._statistics = (scaler.mean_, scaler.scale_)
        # Copies: a model's buffers may share memory with what it is given (float64 on CPU).
        return tuple(a.copy() for a in self._statistics)

    # -- what models and callbacks may ask
    @property
    def n_features(self) -> int:
        self._ensure_loaded()
        return int(self._arrays["train"][0].shape[1])

    @property
    def label_range(self) -> tuple[int, int] | None:
        """(smallest, largest) class label over every split; None for real targets."""
        self._ensure_loaded()
        ys = [y for _, y in self._arrays.values()]
        if any(y.dtype != np.int64 for y in ys):
            return None
        ys = [y for y in ys if y.size]
        return int(min(y.min() for y in ys)), int(max(y.max() for y in ys))

    @property
    def n_classes(self) -> int | None:
        """Number of classes for integer labels (max label + 1), None for real targets."""
        labels = self.label_range
        return None if labels is None else labels[1] + 1

    @property
    def target_width(self) -> int:
        """Columns of the targets: 1 for a vector of labels or values, k for (N, k)."""
        self._ensure_loaded()
        y = self._arrays["train"][1]
        return 1 if y.ndim == 1 else int(y.shape[1])

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The (x, y) tensors of 'train', 'val' or 'test' (on the data device)."""
        if not self.splits:
            self.prepare()
        return self.splits[name]

    def prepare(self, dtype: torch.dtype = torch.float32, device=None) -> None:
        """Load and check the data for training in `dtype` (see `compute_dtype`), and make the
        split tensors (float32, or float64 for `dtype` float64) on `device`."""
        self._ensure_loaded()
        for extreme in self._extremes:
            extreme.check(dtype, self.source)
        storage = _storage_dtype(dtype)
        if self.splits and self._made_for == (storage, device):
            return  # the CLI prepares before the Trainer exists, Lightning's setup again
        self._made_for = (storage, device)
        for name, (x, y) in self._arrays.items():
            xt = torch.from_numpy(x).to(device=device, dtype=storage)
            labels = y.dtype == np.int64
            yt = torch.from_numpy(y).to(device=device, dtype=None if labels else storage)
            self.splits[name] = (xt, yt)

    # -- the rows to predict (`predict_path`)
    @property
    def predicts_file(self) -> bool:
        return self.predict_path is not None

    @property
    def n_predict_features(self) -> int:
        self._ensure_predict_loaded()
        return int(self._predict.shape[1])

    def prepare_predict(self, dtype: torch.dtype = torch.float32, device=None) -> None:
        """Load and check `predict_path` for a model that computes in `dtype`; the training
        data are not read."""
        self._ensure_predict_loaded()
        _Extreme("x", self._predict, None).check(dtype, self.predict_source)
        self.predict_x = torch.from_numpy(self._predict).to(device=device,
                                                             dtype=_storage_dtype(dtype))

    def _ensure_predict_loaded(self) -> None:
        if self._predict is not None:
            return
        x, source = read_features(self.predict_path, getattr(self, "label_column", None))
        self._predict, self.predict_source = _features("x", x, source), source

    # -- Lightning hooks
    def setup(self, stage: str | None = None) -> None:
        dtype, device = torch.float32, None
        if self.trainer is not None:
            dtype = compute_dtype(self.trainer.precision)
            device = self.trainer.strategy.root_device if self.data_on_device else None
        if stage == "predict" and self.predicts_file:
            self.prepare_predict(dtype, device)
        else:
            self.prepare(dtype, device)
        if stage == "fit":
            self.execution_steps = (resolve_steps(self.steps_per_execution, self.trainer)
                                    if self.trainer is not None else 1)

    def train_dataloader(self) -> TensorBatchLoader:
        return self._loader(
            "train", self.batch_size, shuffle=self.shuffle, drop_last=self.drop_last,
            steps_per_execution=self.execution_steps,
        )

    def val_dataloader(self) -> TensorBatchLoader:
        return self._loader("val", self.eval_batch_size)

    def test_dataloader(self) -> TensorBatchLoader:
        return self._loader("test", self.eval_batch_size)

    def predict_dataloader(self) -> TensorBatchLoader:
        if self.predicts_file:
            if self.predict_x is None:
                self.prepare_predict()
            x = self.predict_x
            size = self.eval_batch_size or max(1, x.shape[0])
            return TensorBatchLoader((x,), size)
        return self._loader("test", self.eval_batch_size)

    # -- internals
    def _loader(self, name, batch_size, shuffle=False, drop_last=False,
                steps_per_execution=1) -> TensorBatchLoader:
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
            steps_per_execution=steps_per_execution,
        )

    def _ensure_loaded(self) -> None:
        if self._arrays:
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
        named = {"x": x, "y": y}
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
            named |= {"x_test": x_test, "y_test": y_test}
        self._extremes = [
            _Extreme(name, a, self.feature_names if name.startswith("x") else None)
            for name, a in named.items()
            if a.dtype.kind == "f" and (name.startswith("x") or not _is_labels(a))
        ]
        self._arrays = self._split(x, y, x_test, y_test, source)

    def _split(self, x, y, x_test, y_test, source) -> dict:
        from sklearn.model_selection import train_test_split

        stratify_ok = _is_labels(y)

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
        parts = {"train": (x_tr, y_tr), "val": (x_val, y_val), "test": (x_test, y_test)}
        return {name: (xs, _target_array(ys)) for name, (xs, ys) in parts.items()}


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
        self.copies = check_count("copies", copies)
        self.noise = check_interval("noise", noise, _NONNEGATIVE)

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
        self.n_samples = check_count("n_samples", n_samples, low=10)
        self.radius = check_interval("radius", radius, _POSITIVE)

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
        self.n = check_count("n", n, low=2)

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


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip entry, an empty zip
_NPY_MAGIC = b"\x93NUMPY"


def _read_npz(p: Path, keys: tuple[str, ...]) -> tuple[dict[str, np.ndarray], list[str]]:
    """The arrays `keys` of the .npz at `p` (those present) and the names of all others.

    Only the wanted arrays are read, so extra arrays of any kind (object arrays, which
    need pickle, included) cost nothing. Every way a file is not a readable .npz is one
    DataError saying which.
    """
    with p.open("rb") as f:
        head = f.read(8)
    if not head:
        raise DataError(f"{p}: the file is empty; expected a .npz archive (np.savez)")
    if head.startswith(_NPY_MAGIC):
        raise DataError(
            f"{p}: this is a .npy file (one array), not a .npz archive; save the arrays with "
            "np.savez(path, x=..., y=...)"
        )
    if not head.startswith(_ZIP_MAGIC):
        raise DataError(
            f"{p}: not a .npz archive (no zip header; starts with {head[:4]!r}); save the "
            "arrays with np.savez(path, x=..., y=...)"
        )
    key = None
    try:
        with np.load(p, allow_pickle=False) as f:
            names = list(f.files)
            wanted = {}
            for key in (k for k in keys if k in names):
                wanted[key] = f[key]
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DataError(f"{p}: a damaged .npz archive (truncated or corrupt: {exc})") from exc
    except ValueError as exc:
        if "allow_pickle" in str(exc) and key is not None:
            raise DataError(
                f"{p}: array {key!r} holds Python objects, not numbers; save it as a numeric "
                "array (np.asarray(a, dtype=float))"
            ) from exc
        raise DataError(f"{p}: a damaged .npz archive ({exc})") from exc
    return wanted, [k for k in names if k not in keys]


class NpzDataModule(ArrayDataModule):
    """A user's `.npz` with arrays `x` (N, d) and `y` (N,) or (N, k); optionally `x_test`,
    `y_test` (then no test split is cut from x). Other arrays in the file (e.g. the object
    arrays of mnist1d) are not read: a warning names them."""

    REQUIRED = ("x", "y")
    OPTIONAL = ("x_test", "y_test")
    user_data = True

    def __init__(self, path: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path = path

    def load(self):
        p = _existing(self.path, ".npz")
        arrays, others = _read_npz(p, self.REQUIRED + self.OPTIONAL)
        missing = [k for k in self.REQUIRED if k not in arrays]
        if missing:
            found = sorted([*arrays, *others])
            raise DataError(
                f"{p}: missing array(s) {', '.join(map(repr, missing))}; found "
                f"{', '.join(map(repr, found)) or 'none'}; expected keys 'x', 'y' "
                "and optionally 'x_test', 'y_test'"
            )
        if others:
            rank_zero_warn(
                f"{p}: ignoring array(s) {', '.join(map(repr, sorted(others)))}; only 'x', "
                "'y', 'x_test', 'y_test' are used"
            )
        return arrays["x"], arrays["y"], arrays.get("x_test"), arrays.get("y_test"), str(p)


def _read_csv(p: Path) -> tuple[list[str], np.ndarray]:
    """The header (stripped names) and the numbers (N, columns) of the .csv at `p`."""
    with p.open(newline="") as f:
        header = next(csv.reader(f), None)
    if not header:
        raise DataError(f"{p}: empty file; expected a header row naming the columns")
    header = [h.strip() for h in header]
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
    return header, table


def read_features(path: str | Path, label_column: str | None = None) -> tuple[np.ndarray, str]:
    """The feature rows of a file to predict on, and its name: a .npz's array `x`, or every
    column of a .csv (with a header) but `label_column` if the file has one."""
    p = Path(path).expanduser()
    if p.suffix.lower() not in (".npz", ".csv"):
        raise DataError(f"{str(p)!r} must be a .npz or .csv file, got suffix {p.suffix!r}")
    p = _existing(p, p.suffix.lower())
    if p.suffix.lower() == ".npz":
        arrays, others = _read_npz(p, ("x",))
        if "x" not in arrays:
            found = ", ".join(map(repr, sorted(others))) or "none"
            raise DataError(f"{p}: missing array 'x' (the rows to predict); found {found}")
        return arrays["x"], str(p)
    header, table = _read_csv(p)
    if label_column is not None and label_column in header:
        table = np.delete(table, header.index(label_column), axis=1)
    if table.shape[1] == 0:
        raise DataError(f"{p}: no feature columns")
    return table, str(p)


class CsvDataModule(ArrayDataModule):
    """A user's `.csv`: a header row, numeric columns, one of them the label (`label_column`)."""

    user_data = True

    def __init__(self, path: str, label_column: str = "label", **kwargs) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.label_column = label_column

    def load(self):
        p = _existing(self.path, ".csv")
        header, table = _read_csv(p)
        if self.label_column not in header:
            raise DataError(
                f"{p}: no label column {self.label_column!r}; columns are "
                f"{', '.join(map(repr, header))}"
            )
        j = header.index(self.label_column)
        y = table[:, j]
        x = np.delete(table, j, axis=1)  # (N, d)
        if x.shape[1] == 0:
            raise DataError(f"{p}: no feature columns besides the label {self.label_column!r}")
        self.feature_names = [h for i, h in enumerate(header) if i != j]
        return x, y, None, None, str(p)
