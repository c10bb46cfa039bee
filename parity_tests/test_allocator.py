"""scratch.allocator: importing the project leaves malloc alone; the explicit call takes effect.

Every check runs in a fresh interpreter (malloc settings are process-wide and cannot be
undone) and reads glibc's behaviour, not a flag of ours: how much the heap grows when it
must grow (`mallinfo2().arena`). glibc grows it by the request plus M_TOP_PAD, 128 KiB by
default; `retain_freed_memory(pad)` sets M_TOP_PAD to `pad`. Counts, not times: deterministic
enough to assert on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scratch.allocator import DEFAULT_PAD_BYTES, retain_freed_memory

ROOT = Path(__file__).resolve().parents[1]
MiB = 1 << 20

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's mallopt and mallinfo2 are Linux-only"
)

# Runs in the child: grow the heap with small blocks (below any mmap threshold) until glibc
# extends it, and report by how much; then free them. Printed as JSON by `_child`.
_HEAP_GROWTH = """
import ctypes
libc = ctypes.CDLL(None)
class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost").split()]
libc.mallinfo2.restype = _Mallinfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]

def heap_growth():
    start = libc.mallinfo2().arena
    blocks = []
    while libc.mallinfo2().arena == start and len(blocks) < 100_000:
        blocks.append(libc.malloc(16 << 10))
    grown = libc.mallinfo2().arena - start
    for b in reversed(blocks):
        libc.free(b)
    return grown
"""


def _run(*args: str):
    """`python -c ...` in a fresh interpreter with glibc's malloc defaults (none of its own
    MALLOC_* / GLIBC_TUNABLES knobs) and one BLAS thread; returns its last line as JSON."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    env["OPENBLAS_NUM_THREADS"] = "1"
    proc = subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _child(body: str) -> dict:
    """Run `body` after `_HEAP_GROWTH`; it prints one JSON line."""
    return _run(_HEAP_GROWTH + body)


def _has_mallinfo2() -> bool:
    import ctypes

    return hasattr(ctypes.CDLL(None), "mallinfo2")  # glibc >= 2.33


needs_mallinfo2 = pytest.mark.skipif(not _has_mallinfo2(), reason="needs glibc >= 2.33")


@needs_mallinfo2
def test_importing_every_module_of_scratch_torchref_and_the_app_leaves_malloc_untouched():
    # One interpreter imports each room's modules in turn (never a __main__) and measures the
    # heap's growth step before anything and after each room: still glibc's own.
    out = _child("""
import importlib, json, pkgutil
steps = {"nothing": heap_growth()}
for room in ("scratch", "torchref", "lightning_app"):
    pkg = importlib.import_module(room)
    for mod in pkgutil.walk_packages(pkg.__path__, room + "."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    steps[room] = heap_growth()
print(json.dumps(steps))
""")
    baseline = out.pop("nothing")
    assert baseline < 4 * MiB, f"glibc's own growth step should be ~128 KiB, got {baseline}"
    for room, grown in out.items():
        assert grown < 4 * MiB, f"importing {room} changed malloc: the heap grew by {grown} bytes"


@needs_mallinfo2
def test_retain_freed_memory_takes_effect_once_and_is_idempotent():
    out = _child("""
import json
from scratch.allocator import retain_freed_memory, retained_pad
before = (heap_growth(), retained_pad())
first = retain_freed_memory()
after_first = (heap_growth(), retained_pad())
second = retain_freed_memory()
after_second = (heap_growth(), retained_pad())
smaller = retain_freed_memory(8 << 20)
after_smaller = (heap_growth(), retained_pad())
print(json.dumps(dict(before=before, first=first, after_first=after_first, second=second,
                      after_second=after_second, smaller=smaller, after_smaller=after_smaller)))
""")
    assert out["before"][0] < 4 * MiB and out["before"][1] is None
    assert out["first"] is True and out["second"] is True and out["smaller"] is True
    for key in ("after_first", "after_second"):
        grown, pad = out[key]
        assert pad == DEFAULT_PAD_BYTES
        assert DEFAULT_PAD_BYTES <= grown < DEFAULT_PAD_BYTES + 4 * MiB, (key, grown)
    grown, pad = out["after_smaller"]
    assert pad == 8 * MiB and 8 * MiB <= grown < 12 * MiB  # the new pad replaced the first


# One float64 SGD step of the benchmark's 784-512-256-10 MLP, counted in minor page faults.
_STEP_FAULTS = """
import json, resource, sys, numpy as np
from scratch.allocator import retain_freed_memory
from scratch.mlp import StepWorkspace, init_mlp, loss_and_grads
from scratch.optim import SGD
pad, workspace = sys.argv[1] == "pad", sys.argv[2] == "workspace"
if pad:
    retain_freed_memory()
rng = np.random.default_rng(0)
params = init_mlp([784, 512, 256, 10], rng, dtype=np.float64)
X, y = rng.standard_normal((256, 784)), rng.integers(0, 10, 256)
opt, ws = SGD(lr=0.01), StepWorkspace() if workspace else None
def step():
    opt.step(params, loss_and_grads(params, X, y, "relu", "multiclass", workspace=ws)[1])
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5))
"""


def _faults_per_step(pad: bool, workspace: bool) -> float:
    return float(_run(_STEP_FAULTS, "pad" if pad else "glibc",
                      "workspace" if workspace else "new-arrays"))


def test_the_pad_removes_the_page_faults_of_a_float64_step_that_allocates():
    default = _faults_per_step(pad=False, workspace=False)
    kept = _faults_per_step(pad=True, workspace=False)
    # glibc's default trims the heap after every step: thousands of faults per step.
    assert default > 500, f"expected the default allocator to fault, got {default}/step"
    assert kept < default / 50, f"{kept} faults/step with the pad vs {default} without"


def test_a_step_in_a_workspace_takes_no_page_faults_even_with_glibc_defaults():
    faults = _faults_per_step(pad=False, workspace=True)
    assert faults < 10, f"the workspace step faulted {faults} times per step"


# Right after start-up (nothing large freed yet), a 1.6 MB temporary per call: the SGD
# update's `lr * dw` of the first layer in float32.
_TEMPORARY_FAULTS = """
import json, resource, sys, numpy as np
from scratch.allocator import retain_freed_memory
if sys.argv[1] == "pad":
    retain_freed_memory()
w = np.ones((512, 784), np.float32)
g = np.ones_like(w)
for _ in range(3):
    np.subtract(w, 0.01 * g, out=w)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    np.subtract(w, 0.01 * g, out=w)
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20))
"""


def test_the_pad_keeps_a_medium_temporary_on_the_heap_instead_of_mapping_it_every_call():
    # Setting any malloc threshold stops glibc adapting its mmap threshold (128 KiB at start):
    # the call must raise that threshold too, or each 1.6 MB temporary is mapped and faulted
    # in anew (393 faults per call with M_TOP_PAD alone).
    assert _run(_TEMPORARY_FAULTS, "glibc") < 10  # glibc adapts after the first free
    assert _run(_TEMPORARY_FAULTS, "pad") < 10


def test_a_bad_pad_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="pad_bytes must be an integer >= 0, got -1"):
        retain_freed_memory(-1)
    with pytest.raises(ValueError, match="pad_bytes must be an integer >= 0, got True"):
        retain_freed_memory(True)
