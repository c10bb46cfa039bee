"""Fixtures shared by every parity test: a seeded RNG, the dtypes, the tolerances."""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest
import torch
from hypothesis import settings

from parity_tests.helpers import DTYPES, tol

# Property tests are derandomized (a CI failure reproduces locally) and have no per-example
# deadline (shared 2-core machines make wall-clock deadlines flaky). Keep examples modest:
# the whole suite must stay well under two minutes on 2 cores.
settings.register_profile("torchref", derandomize=True, deadline=None, max_examples=40)
settings.load_profile("torchref")


def pytest_configure(config):
    # Under pytest-xdist every worker would otherwise start one thread per core; split the
    # cores between workers so parallel workers do not oversubscribe the machine.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A NumPy generator seeded from the test's own id: reproducible and independent per test."""
    return np.random.default_rng(_stable_seed(request.node.nodeid))


def _stable_seed(text: str) -> int:
    # Python's hash() is salted per process; crc32 is not, so a failure reproduces.
    return zlib.crc32(text.encode())


@pytest.fixture(params=DTYPES, ids=lambda d: np.dtype(d).name)
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture
def tolerance(dtype) -> dict:
    return tol(dtype)


@pytest.fixture(autouse=True)
def _seed_torch(request):
    torch.manual_seed(_stable_seed(request.node.nodeid))
