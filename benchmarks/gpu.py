"""Case 6: the Lightning cases on CUDA (data resident on the GPU) and the best fraction of the
card's measured peak for the large MLP. Skipped, with the reason recorded, without a GPU.

Imports torch, numpy, lightning_app (through `benchmarks.lightning_loop`) and torchref.
Measures, never asserts.

Rows (when a GPU is present):
  Lightning vs plain on CUDA: case 3's workloads with `accelerator: gpu` and the app's
    `data_on_device: true` (the whole data set on the GPU; batches are slices there): s/epoch,
    samples/s and the ratio Lightning/plain; the plain loop keeps the same data on the GPU.
  Fraction of peak: one training step of 784-512-256-10 (torchref MLP, torch.optim.SGD, float32,
    TF32 off: torch's default "highest" matmul precision) at batches 256 ... 16384, against the
    card's measured float32 GEMM peak (an 8192^2 `torch.mm`, same precision setting). The best
    batch's fraction is reported; every batch's is in `extra`.
CUDA timings synchronize the device before reading the clock.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import Ratio, Row, case_result, skipped
from benchmarks.lightning_loop import digits_workload, large_workload, measure_workload
from benchmarks.workloads import step_flops

TITLE = "GPU: Lightning vs plain loop on CUDA, fraction of the card's peak"
BATCHES = (256, 1024, 4096, 16384)
QUICK_BATCHES = (256, 4096)


def unavailable_reason() -> str | None:
    if torch.cuda.is_available():
        return None
    build = torch.version.cuda
    return (f"no CUDA device: torch.cuda.is_available() is False (torch {torch.__version__}, "
            f"{'CUDA ' + build + ' build' if build else 'CPU-only build'})")


def _timed(fn, device: torch.device, repeats: int, inner: int) -> list[float]:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    fn()
    sync()
    out = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        out.append((time.perf_counter() - t0) / inner)
    return out


def peak_rows(device: torch.device, quick: bool, repeats: int) -> list[Row]:
    """Training-step GFLOP/s of the large MLP over batch sizes vs the measured GEMM peak."""
    from torchref.mlp import MLP

    n = 4096 if quick else 8192
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    samples = {"gemm": _timed(lambda: torch.mm(a, b), device, repeats, 3)}
    sizes = (784, 512, 256, 10)
    flops = {}
    for batch in QUICK_BATCHES if quick else BATCHES:
        torch.manual_seed(0)
        model = MLP(list(sizes)).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x = torch.randn(batch, sizes[0], device=device)
        y = torch.randint(0, sizes[-1], (batch,), device=device)

        def step(model=model, opt=opt, x=x, y=y) -> None:
            opt.zero_grad(set_to_none=True)
            model.loss(model(x), y).backward()
            opt.step()

        key = f"step_b{batch}"
        samples[key] = _timed(step, device, repeats, 20)
        flops[key] = step_flops(sizes, batch)
    med = {k: float(np.median(v)) for k, v in samples.items()}
    gemm_flops = 2 * n**3
    best = max(flops, key=lambda k: flops[k] / med[k])
    gflops = {k: flops[k] / med[k] / 1e9 for k in flops}
    peak = gemm_flops / med["gemm"] / 1e9
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
    return [Row(
        name=f"784-512-256-10 float32 step, best batch {best[6:]}, on {name}",
        unit="s/call",
        samples=samples,
        ratios=[Ratio("best step / peak", "gemm", best, flops[best] / gemm_flops,
                      what="achieved GFLOP/s of the best batch's step / measured GEMM peak")],
        params={"kind": "peak", "gemm_n": n, "dtype": "float32",
                "matmul_precision": torch.get_float32_matmul_precision()},
        extra={"card": name, "peak_gflops": peak, "step_gflops": gflops, "best": best,
               "summary": f"best {gflops[best]:.0f} GFLOP/s at batch {best[6:]}; peak "
                          f"{peak:.0f} GFLOP/s ({n}^2 float32 GEMM), {name}"},
    )]


def lightning_rows(quick: bool, repeats: int, workdir: Path) -> list[Row]:
    wls = [digits_workload(quick), large_workload(workdir, quick, n_threads=1)]
    rows = []
    for wl in wls:
        wl.accelerator = "gpu"
        spec = wl.spec()
        spec["data"]["init_args"]["data_on_device"] = True
        cfg = workdir / f"gpu_{wl.config.name}"
        import yaml

        cfg.write_text(yaml.safe_dump(spec, sort_keys=False))
        wl.config = cfg
        wl.name = f"{wl.name}, CUDA, data on GPU"
        n_train = _n_train(spec)
        for row in measure_workload(wl, repeats, workdir, setups=("app", "bare"),
                                    loaders=("memory",)):
            row.ratios = [Ratio(r.name, r.num, r.den, r.scale, what=r.what) for r in row.ratios]
            med = {k: float(np.median(v)) for k, v in row.samples.items()}
            row.extra["samples_per_s"] = {k: n_train / v for k, v in med.items()}
            rows.append(row)
    return rows


def _n_train(spec: dict) -> int:
    from benchmarks.lightning_loop import _instantiate

    dm = _instantiate(spec["data"])
    dm.setup("fit")
    return int(dm.split("train")[0].shape[0])


def run(cfg, device: str | None = None) -> dict:
    """`device` is for trying the code path on a machine without a GPU (e.g. "cpu")."""
    if device is None:
        reason = unavailable_reason()
        if reason is not None:
            return skipped(TITLE, reason)
        device = "cuda"
    dev = torch.device(device)
    repeats = max(3, min(cfg.repeats, 10))
    rows = peak_rows(dev, cfg.quick, repeats)
    if dev.type == "cuda":
        with tempfile.TemporaryDirectory(prefix="torchref-gpu-") as tmp:
            rows += lightning_rows(cfg.quick, max(2, min(cfg.repeats, 5)), Path(tmp))
    return case_result(
        TITLE, rows,
        notes="Lightning rows: app and bare setups, in-memory batches on the GPU; reported, "
              "no target. Peak: measured float32 GEMM, TF32 off.",
        card=rows[0].extra["card"],
    )
