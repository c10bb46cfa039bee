"""scratch.allocator: a NumPy training step reuses freed memory instead of faulting it in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scratch.allocator import retain_freed_memory

ROOT = Path(__file__).resolve().parents[1]

# One float64 SGD step of the benchmark's 784-512-256-10 MLP, counted in minor page faults
# (a count, not a time: deterministic enough to assert on).
_STEP_FAULTS = """
import resource, numpy as np
from scratch.mlp import init_mlp, loss_and_grads
from scratch.optim import SGD
rng = np.random.default_rng(0)
params = init_mlp([784, 512, 256, 10], rng, dtype=np.float64)
X, y = rng.standard_normal((256, 784)), rng.integers(0, 10, 256)
opt = SGD(lr=0.01)
def step():
    opt.step(params, loss_and_grads(params, X, y, "relu", "multiclass")[1])
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
"""


def _faults_per_step(keep: str) -> float:
    env = {**os.environ, "TORCHREF_KEEP_FREED_MEMORY": keep, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _STEP_FAULTS], capture_output=True, text=True, check=True,
        cwd=ROOT, env=env,
    ).stdout
    return float(out)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_kept_pad_removes_the_page_faults_of_a_float64_mlp_step():
    default = _faults_per_step("0")
    kept = _faults_per_step("1")
    # glibc's default trims the heap after every step: thousands of faults per step.
    assert default > 500, f"expected the default allocator to fault, got {default}/step"
    assert kept < default / 50, f"{kept} faults/step with the pad vs {default} without"


def test_opt_out_and_bad_pad_are_honoured(monkeypatch):
    monkeypatch.setenv("TORCHREF_KEEP_FREED_MEMORY", "0")
    assert retain_freed_memory() is False
    with pytest.raises(ValueError, match="pad_bytes must be an integer >= 0, got -1"):
        retain_freed_memory(-1)
