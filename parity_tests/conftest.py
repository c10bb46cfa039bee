"""Fixtures shared by every parity test: a seeded RNG, the dtypes, the tolerances."""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest
import torch
from hypothesis import settings
from threadpoolctl import threadpool_limits

from parity_tests.helpers import DTYPES, tol

# `--parity-record=PATH`: the measured error of every comparison (parity_tests/record.py).
pytest_plugins = ("parity_tests.record",)

# Property tests are derandomized (a CI failure reproduces locally) and have no per-example
# deadline (shared 2-core machines make wall-clock deadlines flaky). Keep examples modest:
# the whole suite must stay well under two minutes on 2 cores.
settings.register_profile("torchref", derandomize=True, deadline=None, max_examples=40)
settings.load_profile("torchref")


def pytest_configure(config):
    # Under pytest-xdist every worker would otherwise start one thread per core in torch AND in
    # NumPy's BLAS; oversubscribed, small matrix products run 10-20x slower. Split the cores.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    threads = max(1, (os.cpu_count() or 1) // workers)
    torch.set_num_threads(threads)
    if workers > 1:
        threadpool_limits(threads)


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


@pytest.fixture
def one_torch_thread():
    """torch on one intra-op thread for the test, restored after it.

    For modules whose tensors are tiny (`pytestmark = pytest.mark.usefixtures(...)`): a
    second thread only adds synchronization, and on a shared machine an idle OpenMP thread
    costs milliseconds per operation (measured: the optimizer MLP runs were ~3x slower with
    2 threads on a busy 2-core machine).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
