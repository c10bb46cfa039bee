"""Case 7: start-up of `python -m lightning_app fit --config mlp_digits`, split by import.

Imports the standard library and `benchmarks.time_to_accuracy` (the command line); the
command runs in a subprocess with `benchmarks.startup_probe.StartupProbe` added to its
callbacks, which writes when fit starts, when the first training batch starts, and when
training and the final test end. Measures, never asserts.

Rows:
  phases   per run: process start (the parent's clock just before the subprocess starts) to
           fit start (interpreter, imports, the CLI building model, data and Trainer), to the
           first training step (Lightning's setup: sanity check, logger, model summary),
           training (first step to the end of training, validation included), and the rest
           (the final test, figures, teardown, interpreter exit); the command's whole time
           against its training time.
  imports  one more run under `python -X importtime`: the import time of every module,
           summed per top-level package (its own time, without the packages it imports), split
           into what was imported before the first training step and after it. importtime
           slows imports down a little; the shares are what to read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import Ratio, Row, case_result
from benchmarks.startup_probe import ENV
from benchmarks.time_to_accuracy import fit_command

TITLE = "Start-up: `python -m lightning_app fit --config mlp_digits`, process start to first step"
PROBE = "--trainer.callbacks+=benchmarks.startup_probe.StartupProbe"
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def run_once(workdir: Path, importtime: bool = False) -> dict:
    """One run of the command; seconds of each phase (and the importtime log if asked)."""
    root = Path(tempfile.mkdtemp(dir=workdir))
    probe = root / "probe.json"
    cmd = fit_command(root, PROBE)
    if importtime:
        cmd[1:1] = ["-X", "importtime"]
    # The probe callback lives in `benchmarks`, which is not an installed package: the
    # command runs in a temporary folder, so the repository root goes on its path.
    root_dir = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (root_dir, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, ENV: str(probe), "PYTHONPATH": path}
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=900, env=env)
    end = time.time()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}: "
                           f"{proc.stderr.strip().splitlines()[-1:]}")
    marks = json.loads(probe.read_text())
    return {
        "to_fit_start": marks["fit_start"] - t0,
        "to_first_step": marks["first_step"] - t0,
        "training": marks["train_end"] - marks["first_step"],
        "after_training": end - marks["train_end"],
        "command": end - t0,
        "importtime_log": proc.stderr if importtime else "",
        "modules_at_first_step": marks["modules_at_first_step"],
    }


def imports_by_package(log: str, before: set[str]) -> dict[str, dict[str, float]]:
    """Seconds of import time per top-level package from a `python -X importtime` log, each
    module's own time (so that the packages add up to the whole), split by whether the module
    was loaded before the first training step (`before`: the module names then loaded)."""
    out: dict[str, dict[str, float]] = {}
    for line in log.splitlines():
        m = _IMPORTTIME.match(line)
        if m:
            name = m.group(4)
            cell = out.setdefault(name.split(".")[0], {"before_first_step": 0.0, "after": 0.0})
            cell["before_first_step" if name in before else "after"] += int(m.group(1)) / 1e6
    return dict(sorted(out.items(), key=lambda kv: -sum(kv[1].values())))


def run(cfg) -> dict:
    repeats = 1 if cfg.quick else 3
    with tempfile.TemporaryDirectory(prefix="torchref-startup-") as tmp:
        workdir = Path(tmp)
        run_once(workdir)  # warm-up: the OS's file cache, Python's bytecode caches
        runs = [run_once(workdir) for _ in range(repeats)]
        traced = run_once(workdir, importtime=True)
    phases = ("to_fit_start", "to_first_step", "training", "after_training", "command")
    by_package = imports_by_package(traced["importtime_log"],
                                    set(traced["modules_at_first_step"]))
    before = sum(p["before_first_step"] for p in by_package.values())
    after = sum(p["after"] for p in by_package.values())
    shown = dict(list(by_package.items())[:12])
    rows = [
        Row(
            name="`python -m lightning_app fit --config mlp_digits`: phases",
            unit="s",
            samples={p: [r[p] for r in runs] for p in phases},
            ratios=[
                Ratio("command / training", "command", "training",
                      what="the whole command's wall time / its training time"),
                Ratio("start-up share", "to_first_step", "command",
                      what="process start to the first training step / the whole command"),
            ],
            params={"config": "mlp_digits"},
        ),
        Row(
            name="imports under `python -X importtime`, by top-level package",
            unit="s",
            samples={"imports_before_first_step": [before], "imports_after": [after],
                     "to_first_step": [traced["to_first_step"]]},
            ratios=[Ratio("import share of start-up", "imports_before_first_step",
                          "to_first_step",
                          what="import time before the first training step / process start "
                               "to the first training step (both under importtime)")],
            extra={"seconds_by_package": {k: {w: round(v, 4) for w, v in p.items()}
                                          for k, p in shown.items()},
                   "other_packages_s": round(before + after - sum(
                       sum(p.values()) for p in shown.values()), 4),
                   "packages": len(by_package)},
        ),
    ]
    return case_result(
        TITLE, rows,
        notes="Wall clock from just before the subprocess starts; the probe callback adds "
              "nothing to the imports. Import times are each module's own (python -X "
              "importtime's 'self'), summed per top-level package.",
    )
