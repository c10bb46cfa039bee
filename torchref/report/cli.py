"""`python -m torchref.report`: run the parity suite with the recorder, write the site.

    python -m torchref.report                         # whole suite (-n auto), build/report/
    python -m torchref.report --from build/report/record.json   # rebuild from a saved record
    python -m torchref.report -- -k sigmoid parity_tests/test_activations.py   # a subset

The site goes to `build/report/` by default: it is generated (like any build output, ignored
by git), and its numbers belong to the machine that measured them. Exit status: 0 written and
every test passed; 1 written but some test failed (the site shows which); 2 bad input.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "build" / "report"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m torchref.report",
        description="Run the parity suite with --parity-record and write the parity report: "
        "per catalog ID the formula, both implementations and the error measured.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder of the site (default: {_show(DEFAULT_OUT)})")
    parser.add_argument("--from", dest="source", type=Path, metavar="RECORD",
                        help="build from this saved record instead of running the suite")
    parser.add_argument("--record", type=Path,
                        help="where the run saves its record (default: OUT/record.json)")
    parser.add_argument("-n", "--workers", default="auto",
                        help="pytest-xdist workers for the run (default: auto)")
    parser.add_argument("pytest_args", nargs="*",
                        help="after `--`: more pytest arguments (test paths, -k EXPR)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    status = 0
    if args.source is not None:
        record_path = args.source
        if args.pytest_args:
            return _fail("--from builds from a saved record: pytest arguments do not apply")
    else:
        if not (ROOT / "parity_tests").is_dir():
            return _fail(f"no parity_tests/ next to torchref in {ROOT}: run from a source "
                         "checkout, or pass --from RECORD")
        record_path = args.record or args.out / "record.json"
        status = _run_suite(record_path.resolve(), args.workers, args.pytest_args)
        if status not in (0, 1):
            return _fail(f"pytest exited with status {status}; no report written")

    from torchref.report import recordfile
    from torchref.report.model import build_pages
    from torchref.report.render import write_site

    try:
        record = recordfile.read(record_path)
    except ValueError as exc:
        return _fail(str(exc))
    pages = build_pages(record, ROOT)
    written = write_site(pages, record, args.out)
    failed = sum(t["outcome"] == "failed" for t in record["tests"])
    print(f"parity report: {len(pages)} IDs, {len(record['tests'])} tests -> "
          f"{_show(written[0])} ({len(written)} pages, {time.perf_counter() - start:.0f} s)")
    if failed:
        print(f"parity report: {failed} tests failed; the site marks them", file=sys.stderr)
        return 1
    return status


def _run_suite(record: Path, workers: str, extra: list[str]) -> int:
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", str(workers),
           f"--parity-record={record}", *extra]
    print("running:", " ".join(cmd[2:]), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


def _fail(message: str) -> int:
    print(f"python -m torchref.report: error: {message}", file=sys.stderr)
    return 2


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
