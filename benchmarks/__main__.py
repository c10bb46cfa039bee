"""`python -m benchmarks`: run the benchmark cases, print a table, write JSON and markdown.

    python -m benchmarks                       # every case, full size (several minutes)
    python -m benchmarks --quick               # small sizes, few repeats, no suite run
    python -m benchmarks --cases mlp_step gemm_peak --out /tmp/b.json

Writes `--out` (JSON: machine, load, every sample, medians, ratios) and the markdown table
beside it (same name, `.md`). A full run of every case to the default `--out` also rewrites
the README's performance table, so the README shows what the command measured. Benchmarks
measure; they never assert a time.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.common import SCHEMA, load_average, machine, threads, usable_cores, write_json
from benchmarks.report import render_markdown, render_text, update_readme

# name -> module, in the order of docs/performance.md
CASES = {
    "mlp_step": "benchmarks.mlp_step",
    "gemm_peak": "benchmarks.gemm_peak",
    "lightning_loop": "benchmarks.lightning_loop",
    "time_to_accuracy": "benchmarks.time_to_accuracy",
    "suite_cost": "benchmarks.suite_cost",
    "gpu": "benchmarks.gpu",
    "startup": "benchmarks.startup",
    "verify_size": "benchmarks.verify_size",
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
README = Path(__file__).resolve().parents[1] / "README.md"


@dataclass
class Config:
    quick: bool
    threads: int
    repeats: int
    warmup: int
    sample_s: float  # target duration of one timing sample of a short call


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes and 3 repeats (seconds, not minutes); skips suite_cost")
    p.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES),
                   metavar="CASE", help=f"cases to run (default: all): {', '.join(CASES)}")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="JSON file to write; the markdown table goes beside it (.md)")
    p.add_argument("--threads", type=int, default=usable_cores(),
                   help="threads for NumPy's BLAS and torch (default: the usable cores)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timing samples per candidate (default 15, quick 3)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    if args.repeats is not None and args.repeats < 1:
        p.error(f"--repeats must be >= 1, got {args.repeats}")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    cfg = Config(
        quick=args.quick,
        threads=args.threads,
        repeats=args.repeats or (3 if args.quick else 15),
        warmup=1 if args.quick else 2,
        sample_s=0.01 if args.quick else 0.05,
    )
    started = time.time()
    result = {
        "schema": SCHEMA,
        "command": "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": asdict(cfg),
        "machine": machine(cfg.threads),
        "load_average": {"start": load_average()},
        "cases": {},
    }
    with threads(cfg.threads), warnings.catch_warnings():
        # Lightning's advice (more DataLoader workers, ...) is noise in a timing table.
        warnings.filterwarnings("ignore", module="lightning")
        for name in args.cases:
            t0 = time.perf_counter()
            print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
            module = importlib.import_module(CASES[name])
            out = module.run(cfg)
            out["wall_s"] = round(time.perf_counter() - t0, 2)
            out["load_average_after"] = load_average()
            result["cases"][name] = out
    result["load_average"]["end"] = load_average()
    result["wall_s"] = round(time.time() - started, 1)
    out_json = args.out
    write_json(out_json, result)
    md = render_markdown(result)
    out_md = out_json.with_suffix(".md")
    tmp = out_md.with_name(f".{out_md.name}.tmp")
    tmp.write_text(md)
    tmp.replace(out_md)
    print(render_text(result))
    print(f"\nwrote {out_json} and {out_md}", file=sys.stderr)
    if out_json.resolve() == DEFAULT_OUT and not args.quick and args.cases == list(CASES):
        update_readme(README, md)
        print(f"updated the performance table in {README}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
