"""Timing workers: each candidate of cases 1-2 runs in a process of its own side.

The parent's side (`WorkerPool`) imports only the standard library; the worker process
itself imports numpy, scratch and `benchmarks.workloads` (what it builds), and the "torch"
worker also torch and torchref, the "numpy" worker never. Measures, never asserts.

Why processes: NumPy's OpenBLAS and torch's OpenMP/MKL each keep a pool of worker threads
that spin for a while after every call before they sleep. Timed in turns inside one
process, the idle pool of one library spins on the cores the other library's pool needs;
with as many threads as cores, each waits for a descheduled thread and a 0.5 ms step takes
tens of milliseconds. A NumPy training loop and a torch training loop never run in one
process like that, so each side is timed in its own process ("numpy" or "torch"), driven in
turns by the parent, with a pause whenever the turn passes to the other side: the threads of
the side that just ran go to sleep meanwhile.

Memory: the numpy-side worker asks glibc to keep freed memory
(`scratch.allocator.retain_freed_memory`, in force before anything is built), as a NumPy
training loop may, unless the pool is made with `retain_memory=False` (glibc's defaults).
The torch-side worker never does: a torch program has no reason to call it.

Protocol: JSON lines on stdin/stdout. Requests: {"op": "build", "key", "kind", "spec"},
{"op": "calibrate", "key", "target_s"}, {"op": "sample", "key", "inner"},
{"op": "faults", "key"}, {"op": "info"}, {"op": "quit"}. Every reply is one JSON line.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time

SIDES = ("numpy", "torch")


def settle_s(threads_used: int) -> float:
    """Pause when the turn passes to the other side: with more than one thread, the BLAS
    pools of the side that just ran spin for up to ~0.1 s after their last call."""
    return 0.15 if threads_used > 1 else 0.0


# ---- the worker process ----------------------------------------------------------------------


def _info() -> dict:
    """What the worker runs on: its NumPy's BLAS (`architecture`: the OpenBLAS kernels in
    use), OPENBLAS_CORETYPE as set, and the malloc pad in force (None: glibc's defaults)."""
    from scratch.allocator import retained_pad

    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover (threadpoolctl ships with scikit-learn)
        pools = []
    else:
        pools = [{k: p.get(k) for k in ("internal_api", "version", "architecture")}
                 for p in threadpool_info() if p.get("user_api") == "blas"]
    return {"blas": pools, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
            "malloc_pad": retained_pad()}


def serve(side: str, threads_used: int, retain_memory: bool) -> None:
    """Answer requests from the parent until "quit" (runs in the worker process)."""
    import resource

    from scratch.allocator import retain_freed_memory

    if retain_memory:
        retain_freed_memory()
    if side == "torch":
        import torch  # noqa: F401  (before `threads`, so that it sets torch's pool too)

    from benchmarks.common import calibrate, threads
    from benchmarks.workloads import BUILDERS

    fns = {}
    out = sys.stdout
    with threads(threads_used):
        for line in sys.stdin:
            req = json.loads(line)
            op = req["op"]
            if op == "quit":
                break
            if op == "build":
                fns[req["key"]] = BUILDERS[req["kind"]](req["spec"])
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
            elif op == "info":
                reply = _info()
            else:
                reply = {"error": f"unknown op {op!r}"}
            out.write(json.dumps(reply) + "\n")
            out.flush()


# ---- the parent's side -----------------------------------------------------------------------


class Worker:
    """One worker process (`python -m benchmarks.worker SIDE THREADS retain|glibc`)."""

    def __init__(self, side: str, threads_used: int, env: dict | None = None,
                 retain_memory: bool = True) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", side, str(threads_used),
             "retain" if retain_memory else "glibc"],
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
    and timed in turns from here. `env` is added to both workers' environment."""

    def __init__(self, threads_used: int, env: dict | None = None, retain_memory: bool = True):
        self.workers = {side: Worker(side, threads_used, env, retain_memory and side == "numpy")
                        for side in SIDES}
        self.side_of: dict[str, str] = {}
        self.settle_s = settle_s(threads_used)

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
        side = None
        for r in range(repeats):
            for k in keys if r % 2 == 0 else keys[::-1]:
                if self.settle_s and self.side_of[k] != side:
                    time.sleep(self.settle_s)  # the other side's idle threads stop spinning
                side = self.side_of[k]
                samples[k].append(self._w(k).ask(op="sample", key=k, inner=inner[k])["seconds"])
        return samples, inner

    def faults(self, key: str) -> float:
        return self._w(key).ask(op="faults", key=key)["faults"]

    def info(self, side: str = "numpy") -> dict:
        return self.workers[side].ask(op="info")

    def blas_architecture(self) -> str | None:
        """The OpenBLAS kernel set the numpy worker runs (threadpoolctl's `architecture`)."""
        return next((p.get("architecture") for p in self.info()["blas"]), None)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "retain")
