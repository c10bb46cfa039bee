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
torch's MKL, whichever wins on this CPU; `peak_used` says which). The step's FLOPs are its
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


def run(cfg) -> dict:
    n = QUICK_GEMM_N if cfg.quick else GEMM_N
    rows = []
    with WorkerPool(cfg.threads) as pool:
        default_arch = pool.blas_architecture()
        for dtype in (np.float32, np.float64):
            rows.append(measure(pool, dtype, n, cfg))
    for core in [] if cfg.quick else other_coretypes(default_arch):
        with WorkerPool(cfg.threads, env={"OPENBLAS_CORETYPE": core}) as pool:
            for dtype in (np.float32, np.float64):
                rows.append(measure(pool, dtype, n, cfg, f", OpenBLAS {core} kernels"))
    return case_result(
        TITLE, rows,
        notes=f"Peak = the faster of numpy and torch on a {n}x{n} square GEMM, same dtype and "
              f"threads, each in its own worker process. Target: scratch step >= {TARGET:.0%} "
              f"of peak on {TARGET_SHAPE.name} b{TARGET_SHAPE.batch}. OpenBLAS picked "
              f"{default_arch} kernels by itself.",
        default_blas_architecture=default_arch,
    )
