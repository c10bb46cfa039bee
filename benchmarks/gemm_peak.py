"""Case 2: how close the scratch step, and each of its matrix products, come to the machine's
measured GEMM peak.

Imports numpy and the workloads (`benchmarks.workloads`); torch only in the torch-side
worker. Measures, never asserts.

Per dtype (and in full mode per OpenBLAS kernel set, as case 1), interleaved in one run:
  numpy_gemm / torch_gemm   one large square matrix product `A @ B` (n x n), 2 n^3 FLOPs;
  scratch_step / torch_step the training step of case 1 on the target shape;
  step_gemms                the step's matrix products alone, as the step calls them (the
                            notes' layout, examples as columns), on random operands;
  step_gemms_rows           the same products in the batch-first layout of `mlp_forward` /
                            `mlp_backward` (`x W^T`, `dz^T x`, `dz W`);
  product i                 each product of `step_gemms` alone, at its own shape.
The machine's peak for a dtype is the faster of the two square GEMMs (numpy's OpenBLAS or
torch's MKL, whichever wins on this CPU; `peak_used` says which).
With more than one thread, each row's products are timed again on one thread, interleaved with
NumPy's square GEMM on one thread in a pool of their own (`products[i]["fraction_of_peak_one_
thread"]`): a product that holds its fraction on one thread and loses it on more is bounded by
how OpenBLAS splits it over the threads, not by its kernel at that shape. The step's FLOPs are its
matrix products only, counted exactly (`workloads.step_flops`); element-wise work is not
counted, so it lowers the achieved GFLOP/s as any other overhead does.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Ratio, Row, case_result, other_coretypes
from benchmarks.worker import WorkerPool
from benchmarks.workloads import TARGET_SHAPE, product_labels, shape_spec, step_flops

TITLE = "Distance to the hardware limit: scratch step GFLOP/s vs measured peak GEMM"
TARGET = 0.75
GEMM_N = 2048
QUICK_GEMM_N = 768


def measure(pool: WorkerPool, dtype, n: int, cfg, suffix: str = "") -> Row:
    shape = TARGET_SHAPE
    spec = shape_spec(shape, dtype)
    gemm = {"n": n, "dtype": spec["dtype"]}
    gemm_flops = 2 * n**3
    step = step_flops(shape.sizes, shape.batch)
    products = product_labels(shape)
    # candidate -> (side, builder, spec, FLOPs); the numpy side first, then torch's, so that
    # the turn passes to the other process only twice per round
    kinds = {
        "numpy_gemm": ("numpy", "numpy_gemm", gemm, gemm_flops),
        "scratch_step": ("numpy", "scratch_step", spec, step),
        "step_gemms": ("numpy", "step_gemms", spec, step),
        "step_gemms_rows": ("numpy", "step_gemms", {**spec, "layout": "rows"}, step),
    }
    for i, (label, flops) in enumerate(products):
        kinds[label] = ("numpy", "step_gemms", {**spec, "index": i}, flops)
    kinds["torch_gemm"] = ("torch", "torch_gemm", gemm, gemm_flops)
    kinds["torch_step"] = ("torch", "torch_step", spec, step)
    keys = {c: f"{c} {spec['dtype']}{suffix}" for c in kinds}
    for c, (side, kind, sp, _) in kinds.items():
        pool.build(keys[c], kind, side, sp)
    raw, inner = pool.interleaved(list(keys.values()), repeats=cfg.repeats,
                                  warmup=cfg.warmup, sample_s=cfg.sample_s)
    samples = {c: raw[keys[c]] for c in kinds}
    med = {c: float(np.median(v)) for c, v in samples.items()}
    peak = "numpy_gemm" if med["numpy_gemm"] <= med["torch_gemm"] else "torch_gemm"
    scale = step / gemm_flops
    gflops = {c: kinds[c][3] / med[c] / 1e9 for c in kinds}
    ratios = [
        Ratio("scratch step / peak", peak, "scratch_step", scale, ">=", TARGET,
              what="achieved GFLOP/s of the scratch step / peak GEMM GFLOP/s"),
        Ratio("torch step / peak", peak, "torch_step", scale,
              what="achieved GFLOP/s of the torch step / peak GEMM GFLOP/s"),
        Ratio("step GEMMs alone / peak", peak, "step_gemms", scale,
              what="the step's matrix products alone, as the step calls them"),
        Ratio("step GEMMs, batch-first layout / peak", peak, "step_gemms_rows", scale,
              what="the same products as mlp_forward/mlp_backward call them (x W^T, ...)"),
        Ratio("scratch step / numpy peak", "numpy_gemm", "scratch_step", scale,
              what="against the BLAS that NumPy itself links"),
        Ratio("GEMM share of scratch step", "step_gemms", "scratch_step",
              what="time of the step's matrix products / time of the step"),
    ]
    ratios += [Ratio(f"{label} / peak", peak, label, flops / gemm_flops,
                     what="this product alone, at its shape and layout in the step")
               for label, flops in products]
    return Row(
        name=f"{shape.name} b{shape.batch} {spec['dtype']}{suffix}",
        unit="s/call",
        samples=samples,
        ratios=ratios,
        params={"sizes": list(shape.sizes), "batch": shape.batch, "gemm_n": n,
                "dtype": spec["dtype"], "inner": {c: inner[keys[c]] for c in kinds}},
        extra={"peak_used": peak, "step_flops": step, "gemm_flops": gemm_flops,
               "gflops": gflops,
               "products": [{"label": label, "flops": flops,
                             "fraction_of_peak": flops / gemm_flops * med[peak] / med[label]}
                            for label, flops in products],
               "numpy_blas": pool.info()["blas"],
               "flops_counted": "matrix products only (forward, dW, dA); "
                                "element-wise ops not counted"},
    )


def one_thread_fractions(dtype, n: int, cfg, env: dict | None) -> list[float]:
    """Each product of the step alone against NumPy's n x n GEMM, all on one thread, in a pool
    of their own, interleaved: the fraction of the one-thread peak each reaches at its shape."""
    spec = shape_spec(TARGET_SHAPE, dtype)
    products = product_labels(TARGET_SHAPE)
    keys = {"peak": ("numpy_gemm", {"n": n, "dtype": spec["dtype"]})}
    for i, (label, _) in enumerate(products):
        keys[label] = ("step_gemms", {**spec, "index": i})
    with WorkerPool(1, env=env) as pool:
        for key, (kind, sp) in keys.items():
            pool.build(key, kind, "numpy", sp)
        raw, _ = pool.interleaved(list(keys), repeats=cfg.repeats, warmup=cfg.warmup,
                                  sample_s=cfg.sample_s)
    med = {k: float(np.median(v)) for k, v in raw.items()}
    return [flops / (2 * n**3) * med["peak"] / med[label] for label, flops in products]


def _add_one_thread(row: Row, dtype, n: int, cfg, env: dict | None = None) -> Row:
    if cfg.threads > 1:
        for p, f in zip(row.extra["products"], one_thread_fractions(dtype, n, cfg, env),
                        strict=True):
            p["fraction_of_peak_one_thread"] = f
    return row


def run(cfg) -> dict:
    n = QUICK_GEMM_N if cfg.quick else GEMM_N
    rows = []
    with WorkerPool(cfg.threads) as pool:
        default_arch = pool.blas_architecture()
        for dtype in (np.float32, np.float64):
            rows.append(measure(pool, dtype, n, cfg))
    for row, dtype in zip(rows, (np.float32, np.float64), strict=True):
        _add_one_thread(row, dtype, n, cfg)
    for core in [] if cfg.quick else other_coretypes(default_arch):
        env = {"OPENBLAS_CORETYPE": core}
        with WorkerPool(cfg.threads, env=env) as pool:
            core_rows = [measure(pool, dtype, n, cfg, f", OpenBLAS {core} kernels")
                         for dtype in (np.float32, np.float64)]
        for row, dtype in zip(core_rows, (np.float32, np.float64), strict=True):
            rows.append(_add_one_thread(row, dtype, n, cfg, env))
    return case_result(
        TITLE, rows,
        notes=f"Peak = the faster of numpy and torch on a {n}x{n} square GEMM, same dtype and "
              f"threads, each in its own worker process. Target: scratch step >= {TARGET:.0%} "
              f"of peak on {TARGET_SHAPE.name} b{TARGET_SHAPE.batch}. With more than one "
              "thread, each product is also timed on one thread against the one-thread GEMM "
              "(JSON: fraction_of_peak_one_thread). OpenBLAS picked "
              f"{default_arch} kernels by itself.",
        default_blas_architecture=default_arch,
    )
