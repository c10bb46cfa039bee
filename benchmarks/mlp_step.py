"""Case 1: one training step of the scratch MLP against the same step in PyTorch (CPU).

Imports numpy and scratch (mlp, optim); torch and torchref (mlp) only where the torch step is
built, so the NumPy-side worker never loads torch. Measures, never asserts.

One step = forward, loss, backward and an SGD update, on one fixed batch:
  scratch: `scratch.mlp.loss_and_grads(params, X, y, "relu", "multiclass")` then
           `scratch.optim.SGD(lr).step(params, grads)`;
  torch:   `opt.zero_grad(); model.loss(model(X), y).backward(); opt.step()` with
           `torchref.mlp.MLP` and `torch.optim.SGD(lr)` (torch's default foreach update).
Both start from the same weights, in the same dtype, with the same number of threads.

Each side runs in a worker process of its own (`benchmarks.worker`, which says why); the
parent times them in turns. Each row also records the minor page faults per step of each
side (`ru_minflt`): a step that frees its large temporaries and allocates them again gets
fresh pages from the OS every time, and on some machines (VMs) a page fault costs
microseconds. Importing scratch asks glibc to keep a pad of freed heap (scratch/allocator.py)
so the NumPy step reuses its memory as torch's caching allocator does; two extra rows time
the large MLP with that opted out (`TORCHREF_KEEP_FREED_MEMORY=0`, glibc's defaults), to show
how much of a gap is the allocator rather than the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.common import Ratio, Row, case_result
from benchmarks.worker import WorkerPool
from scratch.mlp import init_mlp, loss_and_grads
from scratch.optim import SGD

TITLE = "Scratch vs PyTorch: one training step (forward, backward, SGD update), CPU"
LR = 0.01
TARGET = 1.1  # scratch/torch on the large MLP


@dataclass(frozen=True)
class Shape:
    name: str
    sizes: tuple[int, ...]
    batch: int
    target: bool = False  # the target applies to this shape


SHAPES = (
    Shape("64-128-10", (64, 128, 10), 64),
    Shape("784-512-256-10", (784, 512, 256, 10), 256, target=True),
    Shape("784-1024-1024-10", (784, 1024, 1024, 10), 1024),
)
QUICK_SHAPES = SHAPES[:2]
DTYPES = (np.float32, np.float64)


def step_flops(sizes: tuple[int, ...], batch: int) -> int:
    """Multiply-adds x 2 of the step's matrix products, exactly; element-wise ops not counted.

    Per layer (n_in -> n_out) with batch N: forward `x W^T` 2 N n_in n_out, backward
    `dW = dz^T x` 2 N n_in n_out, and `dx = dz W` 2 N n_in n_out for every layer but the
    first (its input is data: neither side computes that product).
    """
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    fwd = sum(2 * batch * i * o for i, o in pairs)
    dw = fwd
    dx = sum(2 * batch * i * o for i, o in pairs[1:])
    return fwd + dw + dx


def _problem(shape: Shape, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = init_mlp(shape.sizes, rng, dtype=dtype)
    X = rng.standard_normal((shape.batch, shape.sizes[0])).astype(dtype)  # (N, d)
    y = rng.integers(0, shape.sizes[-1], size=shape.batch)  # (N,)
    return params, X, y


def make_scratch_step(shape: Shape, dtype, seed: int = 0):
    """The scratch step as a closure over its own weights (updated in place every call)."""
    params, X, y = _problem(shape, dtype, seed)
    opt = SGD(lr=LR)

    def scratch_step() -> None:
        _, grads = loss_and_grads(params, X, y, "relu", "multiclass")
        opt.step(params, grads)

    return scratch_step


def make_torch_step(shape: Shape, dtype, seed: int = 0):
    """The torch step from the same initial weights and batch as `make_scratch_step`."""
    import torch

    from torchref.mlp import MLP, load_numpy_params

    params, X, y = _problem(shape, dtype, seed)
    model = load_numpy_params(MLP(list(shape.sizes)), params)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def torch_step() -> None:
        opt.zero_grad(set_to_none=True)
        model.loss(model(Xt), yt).backward()
        opt.step()

    return torch_step


def shape_spec(shape: Shape, dtype) -> dict:
    return {"name": shape.name, "sizes": list(shape.sizes), "batch": shape.batch,
            "dtype": np.dtype(dtype).name}


def settle_s(threads_used: int) -> float:
    """Pause between turns: with more than one thread, the BLAS pools of the side that just
    ran spin for up to ~0.1 s after their last call (see benchmarks.worker)."""
    return 0.15 if threads_used > 1 else 0.0


def measure(pool: WorkerPool, shape: Shape, dtype, repeats: int, warmup: int,
            sample_s: float) -> dict:
    spec = shape_spec(shape, dtype)
    tag = f"{shape.name}/{spec['dtype']}"
    keys = {"scratch": f"scratch {tag}", "torch": f"torch {tag}"}
    pool.build(keys["scratch"], "scratch_step", "numpy", spec)
    pool.build(keys["torch"], "torch_step", "torch", spec)
    samples, inner = pool.interleaved(list(keys.values()), repeats=repeats, warmup=warmup,
                                      sample_s=sample_s)
    return {
        "samples": {side: samples[k] for side, k in keys.items()},
        "inner": {side: inner[k] for side, k in keys.items()},
        "faults": {side: pool.faults(k) for side, k in keys.items()},
        "flops": step_flops(shape.sizes, shape.batch),
    }


def make_row(shape: Shape, dtype, m: dict, suffix: str = "", target: bool = True) -> Row:
    tgt = {"target_op": "<=", "target": TARGET} if (shape.target and target) else {}
    return Row(
        name=f"{shape.name} b{shape.batch} {np.dtype(dtype).name}{suffix}",
        unit="s/step",
        samples=m["samples"],
        ratios=[Ratio("scratch/torch", "scratch", "torch",
                      what="time of the scratch step / time of the torch step", **tgt)],
        params={"sizes": list(shape.sizes), "batch": shape.batch,
                "dtype": np.dtype(dtype).name, "inner": m["inner"], "lr": LR},
        extra={"gemm_flops": m["flops"], "page_faults_per_step": m["faults"]},
    )


# glibc's defaults: scratch's pad of freed heap (scratch/allocator.py) switched off.
GLIBC_DEFAULTS = {"TORCHREF_KEEP_FREED_MEMORY": "0"}


def run(cfg) -> dict:
    rows = []
    with WorkerPool(cfg.threads, settle_s=settle_s(cfg.threads)) as pool:
        for shape in QUICK_SHAPES if cfg.quick else SHAPES:
            for dtype in DTYPES:
                m = measure(pool, shape, dtype, cfg.repeats, cfg.warmup, cfg.sample_s)
                rows.append(make_row(shape, dtype, m))
    if not cfg.quick:
        # The target shape again, with scratch's heap pad switched off (glibc's defaults).
        shape = next(s for s in SHAPES if s.target)
        with WorkerPool(cfg.threads, env=GLIBC_DEFAULTS, settle_s=settle_s(cfg.threads)) as pool:
            for dtype in DTYPES:
                m = measure(pool, shape, dtype, cfg.repeats, cfg.warmup, cfg.sample_s)
                row = make_row(shape, dtype, m, ", glibc defaults (no heap pad)", target=False)
                row.params["malloc_env"] = GLIBC_DEFAULTS
                rows.append(row)
    return case_result(
        TITLE, rows,
        notes="ReLU hidden layers, softmax cross-entropy, plain SGD (lr 0.01) on one fixed "
              "random batch; scratch.optim.SGD vs torch.optim.SGD; each side timed in a "
              "process of its own (benchmarks/worker.py), in turns. Target: scratch/torch <= "
              f"{TARGET} on 784-512-256-10 at batch 256. Rows marked 'glibc defaults' ran with "
              + ", ".join(f"{k}={v}" for k, v in GLIBC_DEFAULTS.items())
              + " in both workers (no target: informational).",
    )
