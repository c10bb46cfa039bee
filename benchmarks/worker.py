"""Timing workers: each candidate of cases 1-2 runs in a process of its own side.

Imports numpy and scratch (through `benchmarks.mlp_step`); the "torch" worker also torch and
torchref, the "numpy" worker never. Measures, never asserts.

Why processes: NumPy's OpenBLAS and torch's OpenMP/MKL each keep a pool of worker threads
that spin for a while after every call before they sleep. Timed in turns inside one
process, the idle pool of one library spins on the cores the other library's pool needs;
with as many threads as cores, each waits for a descheduled thread and a 0.5 ms step takes
tens of milliseconds. A NumPy training loop and a torch training loop never run in one
process like that, so each side is timed in its own process ("numpy" or "torch"), driven in
turns by the parent (`WorkerPool`), with a pause between turns that lets the other side's
threads go to sleep.

Protocol: JSON lines on stdin/stdout. Requests: {"op": "build", "key", "kind", "spec"},
{"op": "calibrate", "key", "target_s"}, {"op": "sample", "key", "inner"},
{"op": "faults", "key"}, {"op": "quit"}. Every reply is one JSON line.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time

SIDES = ("numpy", "torch")


# ---- the worker process ----------------------------------------------------------------------


def _builders():
    import numpy as np

    from benchmarks import gemm_peak, mlp_step

    def shape(spec):
        return mlp_step.Shape(spec["name"], tuple(spec["sizes"]), spec["batch"])

    def square(spec, lib):
        rng = np.random.default_rng(0)
        dtype = np.dtype(spec["dtype"])
        n = spec["n"]
        A = rng.standard_normal((n, n)).astype(dtype)
        B = rng.standard_normal((n, n)).astype(dtype)
        if lib == "numpy":
            return lambda: A @ B
        import torch

        At, Bt = torch.from_numpy(A), torch.from_numpy(B)
        return lambda: torch.mm(At, Bt)

    return {
        "scratch_step": lambda s: mlp_step.make_scratch_step(shape(s), np.dtype(s["dtype"])),
        "torch_step": lambda s: mlp_step.make_torch_step(shape(s), np.dtype(s["dtype"])),
        "step_gemms": lambda s: gemm_peak.gemm_only(shape(s), np.dtype(s["dtype"])),
        "numpy_gemm": lambda s: square(s, "numpy"),
        "torch_gemm": lambda s: square(s, "torch"),
    }


def serve(side: str, threads_used: int) -> None:
    """Answer requests from the parent until "quit" (runs in the worker process)."""
    import resource

    if side == "torch":
        import torch  # noqa: F401  (before `threads`, so that it sets torch's pool too)

    from benchmarks.common import calibrate, threads

    builders = _builders()
    fns = {}
    out = sys.stdout
    with threads(threads_used):
        for line in sys.stdin:
            req = json.loads(line)
            op = req["op"]
            if op == "quit":
                break
            if op == "build":
                fns[req["key"]] = builders[req["kind"]](req["spec"])
                reply = {"ok": True}
            elif op == "calibrate":
                reply = {"inner": calibrate(fns[req["key"]], req["target_s"])}
            elif op == "sample":
                fn, n = fns[req["key"]], req["inner"]
                gc.collect()
                gc.disable()
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                elapsed = time.perf_counter() - t0
                gc.enable()
                reply = {"seconds": elapsed / n}
            elif op == "faults":
                fn = fns[req["key"]]
                fn()
                before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                for _ in range(3):
                    fn()
                after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                reply = {"faults": (after - before) / 3}
            else:
                reply = {"error": f"unknown op {op!r}"}
            out.write(json.dumps(reply) + "\n")
            out.flush()


# ---- the parent's side -----------------------------------------------------------------------


class Worker:
    """One worker process (`python -m benchmarks.worker SIDE THREADS`)."""

    def __init__(self, side: str, threads_used: int, env: dict | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", side, str(threads_used)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, **(env or {})},
        )

    def ask(self, **req) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker died (exit status {self.proc.wait()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.ask_nowait(op="quit")
            finally:
                self.proc.wait(timeout=60)

    def ask_nowait(self, **req) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        self.proc.stdin.close()


class WorkerPool:
    """A numpy-side and a torch-side worker; candidates are built in the worker of their side
    and timed in turns from here."""

    def __init__(self, threads_used: int, env: dict | None = None, settle_s: float = 0.0):
        self.workers = {side: Worker(side, threads_used, env) for side in SIDES}
        self.side_of: dict[str, str] = {}
        self.settle_s = settle_s

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        for w in self.workers.values():
            w.close()

    def build(self, key: str, kind: str, side: str, spec: dict) -> None:
        self.workers[side].ask(op="build", key=key, kind=kind, spec=spec)
        self.side_of[key] = side

    def _w(self, key: str) -> Worker:
        return self.workers[self.side_of[key]]

    def interleaved(self, keys: list[str], *, repeats: int, warmup: int,
                    sample_s: float) -> tuple[dict[str, list[float]], dict[str, int]]:
        """Like `common.interleaved`, each candidate in its own side's process."""
        inner = {}
        for k in keys:
            for _ in range(warmup):
                self._w(k).ask(op="sample", key=k, inner=1)
            inner[k] = self._w(k).ask(op="calibrate", key=k, target_s=sample_s)["inner"]
        samples: dict[str, list[float]] = {k: [] for k in keys}
        for r in range(repeats):
            for k in keys if r % 2 == 0 else keys[::-1]:
                if self.settle_s:
                    time.sleep(self.settle_s)  # the other side's idle threads stop spinning
                samples[k].append(self._w(k).ask(op="sample", key=k, inner=inner[k])["seconds"])
        return samples, inner

    def faults(self, key: str) -> float:
        return self._w(key).ask(op="faults", key=key)["faults"]


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
