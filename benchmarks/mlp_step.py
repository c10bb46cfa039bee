"""Case 1: one training step of the scratch MLP against the same step in PyTorch (CPU).

Imports numpy and the workloads (`benchmarks.workloads` says what a step is); torch only in
the torch-side worker. Measures, never asserts.

Each side runs in a worker process of its own (`benchmarks.worker`, which says why); the
parent times them in turns. Candidates per row: `scratch` (the step in a
`scratch.mlp.StepWorkspace`: reused buffers, the notes' layout), `torch`, and on the target
shape `scratch_alloc` (the same step without a workspace: new arrays every step, batch
first). Each row also records the minor page faults per step of each candidate
(`ru_minflt`): a step that frees its large temporaries and allocates them again gets fresh
pages from the OS every time, and on some machines (VMs) a page fault costs microseconds.

Rows: every shape and dtype with both workers keeping freed memory
(`scratch.allocator.retain_freed_memory`, the trade torch's caching allocator makes); the
target shape again with glibc's defaults (no pad: what a program that never calls it gets);
in full mode the target shape again under each other OpenBLAS kernel set this CPU runs
(`OPENBLAS_CORETYPE`, e.g. Haswell on an AVX-512 machine whose default is SkylakeX).
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Ratio, Row, case_result, other_coretypes
from benchmarks.worker import WorkerPool
from benchmarks.workloads import (
    DTYPES,
    LR,
    QUICK_SHAPES,
    SHAPES,
    TARGET_SHAPE,
    shape_spec,
    step_flops,
)

TITLE = "Scratch vs PyTorch: one training step (forward, backward, SGD update), CPU"
TARGET = 1.0  # scratch/torch on the target shape


def measure(pool: WorkerPool, shape, dtype, repeats: int, warmup: int, sample_s: float,
            alloc: bool = False) -> dict:
    spec = shape_spec(shape, dtype)
    tag = f"{shape.name}/{spec['dtype']}"
    kinds = {"scratch": ("numpy", "scratch_step"), "torch": ("torch", "torch_step")}
    if alloc:
        kinds = {"scratch": kinds["scratch"], "scratch_alloc": ("numpy", "scratch_alloc_step"),
                 "torch": kinds["torch"]}
    keys = {c: f"{c} {tag}" for c in kinds}
    for c, (side, kind) in kinds.items():
        pool.build(keys[c], kind, side, spec)
    samples, inner = pool.interleaved(list(keys.values()), repeats=repeats, warmup=warmup,
                                      sample_s=sample_s)
    return {
        "samples": {c: samples[k] for c, k in keys.items()},
        "inner": {c: inner[k] for c, k in keys.items()},
        "faults": {c: pool.faults(k) for c, k in keys.items()},
        "flops": step_flops(shape.sizes, shape.batch),
        "blas": pool.info(),
    }


def make_row(shape, dtype, m: dict, suffix: str = "", target: bool = True) -> Row:
    tgt = {"target_op": "<=", "target": TARGET} if (shape.target and target) else {}
    ratios = [Ratio("scratch/torch", "scratch", "torch",
                    what="time of the scratch step (workspace) / time of the torch step", **tgt)]
    if "scratch_alloc" in m["samples"]:
        ratios.append(Ratio("scratch without workspace/torch", "scratch_alloc", "torch",
                            what="the scratch step allocating new arrays every step / torch"))
    return Row(
        name=f"{shape.name} b{shape.batch} {np.dtype(dtype).name}{suffix}",
        unit="s/step",
        samples=m["samples"],
        ratios=ratios,
        params={"sizes": list(shape.sizes), "batch": shape.batch,
                "dtype": np.dtype(dtype).name, "inner": m["inner"], "lr": LR},
        extra={"gemm_flops": m["flops"], "page_faults_per_step": m["faults"],
               "numpy_blas": m["blas"]["blas"], "malloc_pad": m["blas"]["malloc_pad"],
               "openblas_coretype": m["blas"]["openblas_coretype"]},
    )


def run(cfg) -> dict:
    rows = []
    timing = (cfg.repeats, cfg.warmup, cfg.sample_s)
    with WorkerPool(cfg.threads) as pool:
        default_arch = pool.blas_architecture()
        for shape in QUICK_SHAPES if cfg.quick else SHAPES:
            for dtype in DTYPES:
                m = measure(pool, shape, dtype, *timing, alloc=shape.target)
                rows.append(make_row(shape, dtype, m))
    with WorkerPool(cfg.threads, retain_memory=False) as pool:
        for dtype in DTYPES:
            m = measure(pool, TARGET_SHAPE, dtype, *timing, alloc=True)
            rows.append(make_row(TARGET_SHAPE, dtype, m, ", glibc defaults (no heap pad)"))
    for core in [] if cfg.quick else other_coretypes(default_arch):
        with WorkerPool(cfg.threads, env={"OPENBLAS_CORETYPE": core}) as pool:
            for dtype in DTYPES:
                m = measure(pool, TARGET_SHAPE, dtype, *timing)
                rows.append(make_row(TARGET_SHAPE, dtype, m, f", OpenBLAS {core} kernels"))
    return case_result(
        TITLE, rows,
        notes="ReLU hidden layers, softmax cross-entropy, plain SGD (lr 0.01) on one fixed "
              "random batch; scratch.optim.SGD vs torch.optim.SGD; each side timed in a "
              "process of its own (benchmarks/worker.py), in turns. Target: scratch/torch <= "
              f"{TARGET} on {TARGET_SHAPE.name} at batch {TARGET_SHAPE.batch}, with and "
              "without the heap pad and under every OpenBLAS kernel set timed. OpenBLAS "
              f"picked {default_arch} kernels by itself.",
        default_blas_architecture=default_arch,
    )
