"""Case 2: how close the scratch step comes to the machine's measured GEMM peak.

Imports numpy, torch and the step builders of `benchmarks.mlp_step`. Measures, never asserts.

Per dtype, interleaved in one run:
  numpy_gemm / torch_gemm   one large square matrix product `A @ B` (n x n), 2 n^3 FLOPs;
  scratch_step / torch_step the training step of case 1 on 784-512-256-10, batch 256;
  step_gemms                only the step's eight matrix products, in NumPy, same shapes.
The machine's peak for a dtype is the faster of the two square GEMMs (numpy's OpenBLAS or
torch's MKL, whichever wins on this CPU; `peak_used` says which). The step's FLOPs are its
matrix products only, counted exactly (`mlp_step.step_flops`); element-wise work is not
counted, so it lowers the achieved GFLOP/s as any other overhead does.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Ratio, Row, case_result
from benchmarks.mlp_step import SHAPES, settle_s, shape_spec, step_flops
from benchmarks.worker import WorkerPool

TITLE = "Distance to the hardware limit: scratch step GFLOP/s vs measured peak GEMM"
TARGET = 0.70
GEMM_N = 2048
QUICK_GEMM_N = 768


def gemm_only(shape, dtype, seed: int = 1):
    """The step's matrix products alone (forward, dW, dx), NumPy, on random operands."""
    rng = np.random.default_rng(seed)
    sizes, n = shape.sizes, shape.batch
    Ws = [rng.standard_normal((o, i)).astype(dtype) for i, o in zip(sizes[:-1], sizes[1:],
                                                                    strict=True)]
    acts = [rng.standard_normal((n, s)).astype(dtype) for s in sizes]  # a_0 = X, ..., z_L

    def run() -> None:
        for l, W in enumerate(Ws):
            acts[l] @ W.T  # forward (N, n_out)
        for l in range(len(Ws) - 1, -1, -1):
            dz = acts[l + 1]  # stands in for the upstream gradient (N, n_out)
            dz.T @ acts[l]  # dW (n_out, n_in)
            if l > 0:
                dz @ Ws[l]  # dx (N, n_in)

    return run


def run(cfg) -> dict:
    shape = next(s for s in SHAPES if s.target)
    n = QUICK_GEMM_N if cfg.quick else GEMM_N
    gemm_flops = 2 * n**3
    step = step_flops(shape.sizes, shape.batch)
    rows = []
    with WorkerPool(cfg.threads, settle_s=settle_s(cfg.threads)) as pool:
        for dtype in (np.float32, np.float64):
            spec = shape_spec(shape, dtype)
            gemm = {"n": n, "dtype": spec["dtype"]}
            kinds = {  # candidate -> (side, builder, spec)
                "numpy_gemm": ("numpy", "numpy_gemm", gemm),
                "torch_gemm": ("torch", "torch_gemm", gemm),
                "scratch_step": ("numpy", "scratch_step", spec),
                "torch_step": ("torch", "torch_step", spec),
                "step_gemms": ("numpy", "step_gemms", spec),
            }
            keys = {c: f"{c} {spec['dtype']}" for c in kinds}
            for c, (side, kind, sp) in kinds.items():
                pool.build(keys[c], kind, side, sp)
            raw, inner = pool.interleaved(list(keys.values()), repeats=cfg.repeats,
                                          warmup=cfg.warmup, sample_s=cfg.sample_s)
            samples = {c: raw[keys[c]] for c in kinds}
            med = {c: float(np.median(v)) for c, v in samples.items()}
            peak = "numpy_gemm" if med["numpy_gemm"] <= med["torch_gemm"] else "torch_gemm"
            scale = step / gemm_flops
            gflops = {c: (gemm_flops if c.endswith("gemm") else step) / med[c] / 1e9
                      for c in kinds}
            rows.append(
                Row(
                    name=f"{shape.name} b{shape.batch} {spec['dtype']}",
                    unit="s/call",
                    samples=samples,
                    ratios=[
                        Ratio("scratch step / peak", peak, "scratch_step", scale, ">=", TARGET,
                              what="achieved GFLOP/s of the scratch step / peak GEMM GFLOP/s"),
                        Ratio("torch step / peak", peak, "torch_step", scale,
                              what="achieved GFLOP/s of the torch step / peak GEMM GFLOP/s"),
                        Ratio("step GEMMs alone / peak", peak, "step_gemms", scale,
                              what="the step's matrix products alone, at their own shapes"),
                        Ratio("scratch step / numpy peak", "numpy_gemm", "scratch_step", scale,
                              what="against the BLAS that NumPy itself links"),
                        Ratio("GEMM share of scratch step", "step_gemms", "scratch_step",
                              what="time of the step's matrix products / time of the step"),
                    ],
                    params={"sizes": list(shape.sizes), "batch": shape.batch, "gemm_n": n,
                            "dtype": spec["dtype"],
                            "inner": {c: inner[keys[c]] for c in kinds}},
                    extra={"peak_used": peak, "step_flops": step, "gemm_flops": gemm_flops,
                           "gflops": gflops,
                           "flops_counted": "matrix products only (forward, dW, dx); "
                                            "element-wise ops not counted"},
                )
            )
    return case_result(
        TITLE, rows,
        notes=f"Peak = the faster of numpy and torch on a {n}x{n} square GEMM, same dtype and "
              f"threads, each in its own worker process. Target: scratch step >= {TARGET:.0%} "
              f"of peak on {shape.name} b{shape.batch}.",
    )
