"""Case 5: wall time of the whole parity suite on 2 workers (`pytest -n 2`), in a subprocess.

Imports only the standard library. Full mode only (skipped with `--quick`). Measures, never
asserts: the pass/fail summary is recorded, not judged.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import Limit, Row, case_result, skipped

TITLE = "Parity-suite cost: `pytest -n 2` wall time"
BUDGET_S = 120.0
ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2


def run_suite(workers: int = WORKERS, timeout: float = 900.0) -> tuple[float, str, int]:
    """Run the suite once; returns (wall seconds, pytest's summary line, exit status)."""
    cmd = [sys.executable, "-m", "pytest", "-n", str(workers), "-q", "-p", "no:cacheprovider"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
    summary = lines[-1].strip("= ") if lines else proc.stdout.strip().splitlines()[-1:]
    return wall, str(summary), proc.returncode


def run(cfg) -> dict:
    if cfg.quick:
        return skipped(TITLE, "not run in --quick mode (it takes minutes)")
    wall, summary, code = run_suite()
    row = Row(
        name=f"pytest -n {WORKERS}, the whole suite",
        unit="s",
        samples={"suite": [wall]},
        limits=[Limit("wall time", "suite", "<", BUDGET_S)],
        params={"workers": WORKERS, "cores_usable": os.cpu_count()},
        extra={"summary": summary, "exit_status": code},
    )
    return case_result(TITLE, [row],
                       notes=f"One run (it takes minutes); target < {BUDGET_S:g} s on 2 cores.")
