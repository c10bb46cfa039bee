"""Timing, thread control, machine description and the result schema shared by every case.

Imports numpy, threadpoolctl (if installed) and, where a function needs it, torch.
Measures, never asserts.

Timing rules (every case follows them):
- Candidates that are compared are timed in the same run, *interleaved*: repeat r times the
  candidates one after the other (order reversed every other repeat), so a load spike on the
  shared machine hits all of them alike. Every candidate is called `warmup` times first.
- One sample is the mean of `inner` back-to-back calls (chosen so that a sample lasts a few
  tens of milliseconds: the clock's resolution and Python's call overhead then vanish).
- The garbage collector is off while a sample runs (as `timeit` does).
- A result keeps every sample; the reported figure is the median of the samples, and every
  ratio is `scale * median[num] / median[den]` of medians of the same row.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SCHEMA = "torchref-benchmarks/1"


# ---- threads --------------------------------------------------------------------------------


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, not the host's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


@contextlib.contextmanager
def threads(n: int):
    """Run NumPy's BLAS and torch's intra-op pool with `n` threads, then restore both.

    torch is only touched if it is already imported (the NumPy-side benchmark worker never
    imports it: a NumPy training loop does not either)."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover (threadpoolctl ships with scikit-learn)
        limiter = contextlib.nullcontext()
    else:
        limiter = threadpool_limits(limits=n, user_api="blas")
    try:
        with limiter:
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)


# ---- timing ---------------------------------------------------------------------------------


def calibrate(fn: Callable[[], object], target_s: float, max_inner: int = 10_000) -> int:
    """How many back-to-back calls of `fn` last about `target_s` (at least 1)."""
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    if once <= 0:
        return max_inner
    return int(max(1, min(max_inner, round(target_s / once))))


def interleaved(
    candidates: dict[str, Callable[[], object]],
    *,
    repeats: int,
    warmup: int = 1,
    inner: dict[str, int] | int = 1,
) -> dict[str, list[float]]:
    """Seconds per call of each candidate: `repeats` samples each, taken in turns."""
    names = list(candidates)
    per = inner if isinstance(inner, dict) else {k: inner for k in names}
    for _ in range(warmup):
        for k in names:
            candidates[k]()
    samples: dict[str, list[float]] = {k: [] for k in names}
    gc_was_on = gc.isenabled()
    try:
        for r in range(repeats):
            for k in names if r % 2 == 0 else names[::-1]:
                fn, n = candidates[k], per[k]
                gc.collect()
                gc.disable()
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                elapsed = time.perf_counter() - t0
                if gc_was_on:
                    gc.enable()
                samples[k].append(elapsed / n)
    finally:
        if gc_was_on:
            gc.enable()
    return samples


# ---- results --------------------------------------------------------------------------------


@dataclass
class Ratio:
    """`value = scale * median[num] / median[den]`, with an optional target."""

    name: str
    num: str
    den: str
    scale: float = 1.0
    target_op: str | None = None  # "<=" or ">="
    target: float | None = None
    what: str = ""

    def evaluate(self, medians: dict[str, float]) -> dict:
        value = self.scale * medians[self.num] / medians[self.den]
        out = {
            "name": self.name,
            "num": self.num,
            "den": self.den,
            "scale": self.scale,
            "value": value,
            "what": self.what,
        }
        if self.target_op is not None:
            met = value <= self.target if self.target_op == "<=" else value >= self.target
            out["target"] = {"op": self.target_op, "value": self.target}
            out["met"] = bool(met)
        return out


@dataclass
class Limit:
    """An absolute target on one median: `median[key] <op> value` (e.g. the suite's 120 s)."""

    name: str
    key: str
    op: str  # "<" or "<="
    value: float

    def evaluate(self, medians: dict[str, float]) -> dict:
        m = medians[self.key]
        met = m < self.value if self.op == "<" else m <= self.value
        return {"name": self.name, "key": self.key, "median": m,
                "target": {"op": self.op, "value": self.value}, "met": bool(met)}


@dataclass
class Row:
    """One measured configuration: raw samples per candidate, their medians, the ratios."""

    name: str
    unit: str
    samples: dict[str, list[float]]
    ratios: list[Ratio] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        medians = {k: statistics.median(v) for k, v in self.samples.items()}
        quart = {}
        for k, v in self.samples.items():
            if len(v) >= 2:
                q = statistics.quantiles(v, n=4, method="inclusive")
                quart[k] = [q[0], q[2]]
            else:
                quart[k] = [v[0], v[0]]
        return {
            "name": self.name,
            "unit": self.unit,
            "params": self.params,
            "samples": self.samples,
            "median": medians,
            "quartiles": quart,
            "ratios": [r.evaluate(medians) for r in self.ratios],
            "limits": [lim.evaluate(medians) for lim in self.limits],
            "extra": self.extra,
        }


def case_result(title: str, rows: list[Row], *, notes: str = "", **extra) -> dict:
    return {
        "status": "ok",
        "title": title,
        "notes": notes,
        "rows": [r.to_json() for r in rows],
        **extra,
    }


def skipped(title: str, reason: str) -> dict:
    return {"status": "skipped", "title": title, "reason": reason, "rows": []}


# ---- the machine ----------------------------------------------------------------------------


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def _cpu_fields() -> tuple[dict, str]:
    """The first processor's fields in /proc/cpuinfo (empty off Linux), and the whole text."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}, ""
    first = text.split("\n\n", 1)[0]
    fields = dict(
        (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in first.splitlines())
    )
    return fields, text


def machine_simd() -> set[str]:
    """The CPU's feature flags (`avx2`, `avx512f`, ...); empty where /proc/cpuinfo is not."""
    return set(_cpu_fields()[0].get("flags", "").split())


# OpenBLAS kernel sets worth timing besides the one it picks by itself (OPENBLAS_CORETYPE),
# and the CPU flags each needs: forced onto a CPU without them, the kernels would crash.
CORETYPES = {"SkylakeX": ("avx512f", "avx512bw", "avx512vl"), "Haswell": ("avx2", "fma")}


def other_coretypes(default_arch: str | None) -> list[str]:
    """The kernel sets of `CORETYPES` this CPU runs, other than `default_arch`."""
    simd = machine_simd()
    return [name for name, flags in CORETYPES.items()
            if all(f in simd for f in flags) and name.lower() != (default_arch or "").lower()]


def _cpuinfo() -> dict:
    info: dict = {}
    fields, text = _cpu_fields()
    if not fields:
        return {"model": platform.processor() or platform.machine()}
    flags = set(fields.get("flags", "").split())
    info["model"] = fields.get("model name", platform.machine())
    info["mhz"] = fields.get("cpu MHz")
    info["simd"] = sorted(f for f in flags if f in {"avx", "avx2", "fma", "avx512f", "amx_tile"})
    info["logical_cpus_in_proc"] = text.count("processor\t:")
    return info


def _numpy_blas() -> dict:
    out: dict = {"numpy": np.__version__}
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        out["build_blas"] = {k: blas.get(k) for k in ("name", "version", "openblas configuration")}
    except (TypeError, AttributeError):  # numpy < 1.26 has no mode="dicts"
        pass
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        out["threadpools"] = "threadpoolctl not installed"
    else:
        out["threadpools"] = [
            {k: p.get(k) for k in ("user_api", "internal_api", "version", "num_threads",
                                   "architecture", "threading_layer", "filepath")}
            for p in threadpool_info()
        ]
    return out


def _torch_info() -> dict:
    import torch

    cfg = torch.__config__.show()
    blas = next((p.split("=", 1)[1] for p in cfg.replace(",", " ").split()
                 if p.startswith("BLAS_INFO=")), None)
    capability = next((line.split(":", 1)[1].strip() for line in cfg.splitlines()
                       if "CPU capability usage" in line), None)
    out = {
        "version": torch.__version__,
        "blas": blas,
        "cpu_capability": capability,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
        "cuda_available": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
        out["cuda"] = torch.version.cuda
    return out


def machine(threads_used: int) -> dict:
    """What a reader needs to compare these numbers with theirs."""
    from importlib.metadata import PackageNotFoundError, version

    import torch

    try:
        lightning_version = version("lightning")  # no import: importing Lightning takes seconds
    except PackageNotFoundError:  # pragma: no cover
        lightning_version = None
    mem = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        line = Path("/proc/meminfo").read_text().splitlines()[0]
        mem = round(int(line.split()[1]) / 2**20, 1)
    return {
        "cpu": _cpuinfo(),
        "cores_usable": usable_cores(),
        "os_cpu_count": os.cpu_count(),
        "memory_gib": mem,
        "threads_used": threads_used,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy_blas": _numpy_blas(),
        "torch": _torch_info(),
        "lightning": lightning_version,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def describe_machine(m: dict) -> str:
    """One line: CPU, cores/threads, the two BLAS libraries, GPU."""
    pools = m["numpy_blas"].get("threadpools", [])
    blas = [p for p in pools if isinstance(p, dict) and p.get("user_api") == "blas"
            and "numpy" in str(p.get("filepath", ""))]
    np_blas = "?"
    if blas:
        p = blas[0]
        np_blas = f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')})"
    t = m["torch"]
    gpu = m["gpu"] or "no GPU"
    return (
        f"{m['cpu']['model']}, {m['cores_usable']} usable cores, {m['threads_used']} threads "
        f"used; NumPy {m['numpy_blas']['numpy']} with {np_blas}; torch {t['version']} with "
        f"{t['blas']} ({t['cpu_capability']}); Lightning {m['lightning']}; {gpu}"
    )


def write_json(path: Path, data: dict) -> None:
    """Write atomically (temp file + rename): a crash never leaves half a results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    os.replace(tmp, path)
