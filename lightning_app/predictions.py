"""`predictions.csv`: what `predict` computed, one row per input row.

Imports torch only (and the standard library's csv).

The modules' `predict_step` returns a dict of tensors per batch (lightning_app/models.py):
  classifiers   {"class": (N,), "probabilities": (N, C)}  -> row, predicted_class, p_0 .. p_C-1
  regression    {"output": (N, k)}                          -> row, output (or output_0 ..)
  autoencoders  {"code": (N, c), "reconstruction": (N, d)}  -> row, code_0 .., reconstruction_0 ..
A module of the user's that returns a plain tensor gets `output` columns. The file is written
to a temporary name in the same folder and renamed over `predictions.csv`: a reader never
sees half a file.
"""

from __future__ import annotations

import csv
import os
import secrets
from pathlib import Path

import torch

__all__ = ["write_predictions"]

# Column name of a 1-D output, or prefix of a 2-D output's columns.
_NAMES = {"class": "predicted_class", "probabilities": "p"}
_WHAT = {
    ("class", "probabilities"): "predicted class and class probabilities",
    ("output",): "regression output",
    ("code", "reconstruction"): "codes and reconstructions",
}


def _columns(batches: list) -> dict[str, torch.Tensor]:
    """The batches' outputs concatenated per key, on the CPU."""
    dicts = [b if isinstance(b, dict) else {"output": b} for b in batches]
    return {key: torch.cat([d[key].detach().cpu() for d in dicts]) for key in dicts[0]}


def _header(columns: dict[str, torch.Tensor]) -> list[str]:
    header = ["row"]
    for key, values in columns.items():
        name = _NAMES.get(key, key)
        if values.ndim == 1 or (values.ndim == 2 and values.shape[1] == 1 and key == "output"):
            header.append(name)
        else:
            header += [f"{name}_{j}" for j in range(values.reshape(values.shape[0], -1).shape[1])]
    return header


def _text(values: torch.Tensor) -> list[list[str]]:
    """Each row's values as text: integers as they are, floats with the digits their dtype
    holds (float32: 9 significant digits, enough to read the same float back)."""
    rows = values.reshape(values.shape[0], -1).tolist()
    if not values.is_floating_point():
        return [[str(v) for v in row] for row in rows]
    digits = 17 if values.dtype == torch.float64 else 9
    return [[f"{v:.{digits}g}" for v in row] for row in rows]


def write_predictions(batches: list, path: Path) -> tuple[Path, int, str]:
    """Write the predict outputs `batches` to the csv `path` (atomically); returns the path,
    the number of rows and what the columns hold, for the command's report."""
    columns = _columns(batches)
    n = next(iter(columns.values())).shape[0]
    cells = [_text(values) for values in columns.values()]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with tmp.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(_header(columns))
            for i in range(n):
                writer.writerow([str(i), *(c for part in cells for c in part[i])])
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    what = _WHAT.get(tuple(columns), ", ".join(columns))
    return path, n, what
