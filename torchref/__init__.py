"""Idiomatic PyTorch counterparts of every formula in `scratch/`, the catalog and the user tools.

Topics mirror `scratch/` one to one (`scratch.optim` <-> `torchref.optim`). Tools:
`python -m torchref.catalog` and `python -m torchref.verify`.
"""

from __future__ import annotations

import importlib

__all__ = ["MLP"]


def __getattr__(name: str):
    # Lazy, so `python -m torchref.catalog` starts without importing torch.
    if name == "MLP":
        return importlib.import_module("torchref.mlp").MLP
    raise AttributeError(f"module 'torchref' has no attribute {name!r}")
