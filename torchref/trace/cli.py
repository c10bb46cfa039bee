"""The command line: `python -m torchref.trace KIND FILE.yaml [--json] [--check MINE.yaml]
[--steps N] [--decimals D]` and `python -m torchref.trace example [ID] [--errata]`.

Exit status: 0 every checked cell ok (or rounded wrongly) and torch agrees; 1 a cell is
wrong, or scratch and torch autograd disagree (a bug in this project: the line says so);
2 bad input, one line on stderr naming the key.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from torchref.command_line import OneLineParser
from torchref.trace import graph, linear, mlp, optimizer, perceptron
from torchref.trace.check import WRONG, Cell, check, render_cells, summary
from torchref.trace.core import Trace, dumps, wrap
from torchref.trace.errata import errata_lines
from torchref.trace.inputs import Spec, TraceInputError, load

__all__ = ["KINDS", "trace_file", "check_file", "examples", "Example", "run_example", "main"]

KINDS = {"mlp": mlp, "linear": linear, "perceptron": perceptron, "optimizer": optimizer,
         "graph": graph}
DEFAULT_DECIMALS = 4


def trace_file(kind: str, path: str | Path, steps: int | None = None) -> Trace:
    """Run one input file; TraceInputError (message prefixed with the file name) if bad."""
    path = Path(path)
    data = load(path, "input file")
    module = KINDS[kind]
    if "kind" in data and data["kind"] != kind:
        raise TraceInputError(f"{path.name}: kind: the file is a {data['kind']!r} trace, "
                              f"the command asks for {kind!r}")
    try:
        return module.run(Spec(data, module.KEYS), steps)
    except TraceInputError as exc:
        raise TraceInputError(f"{path.name}: {exc}") from None


def check_file(trace: Trace, path: str | Path) -> list[Cell]:
    path = Path(path)
    student = load(path, "check file")
    try:
        return check(trace, student)
    except TraceInputError as exc:
        raise TraceInputError(str(exc).replace("check file:", f"{path.name}:", 1)) from None


# ---- the notes' worked examples, shipped as package data ---------------------------------


class Example:
    """One run of a worked example: an input file and a check file of the document's numbers."""

    def __init__(self, id: str, title: str, reading: str, kind: str, input: str, check: str):
        self.id, self.title, self.reading, self.kind = id, title, reading, kind
        self.input, self.check = _data(input), _data(check)

    @property
    def label(self) -> str:
        return f"{self.id}" + (f" ({self.reading})" if self.reading else "")


def _data(name: str) -> Path:
    return Path(str(resources.files("torchref.trace").joinpath("examples", name)))


def examples() -> dict[str, list[Example]]:
    """Every shipped example by ID (from examples/index.yaml), each a list of readings."""
    index = load(_data("index.yaml"), "example index")
    out = {}
    for id_, entry in index.items():
        out[id_] = [Example(id_, entry["title"], r.get("reading", ""), r["kind"], r["input"],
                            r["check"]) for r in entry["runs"]]
    return out


def run_example(ex: Example) -> tuple[Trace, list[Cell]]:
    trace = trace_file(ex.kind, ex.input)
    return trace, check_file(trace, ex.check)


# ---- output ----------------------------------------------------------------------------------


def _agreement_line(trace: Trace) -> tuple[str, bool]:
    a = trace.crosscheck()
    if a.agree:
        diff = "" if a.max_abs_diff is None else f" (largest difference {a.max_abs_diff:.1e})"
        return f"scratch and torch autograd agree on all {a.compared} numbers{diff}", True
    return (f"torchref.trace: BUG: scratch and torch autograd disagree at {a.path} "
            f"(scratch {a.scratch!r}, torch {a.torch!r}); please report it with the input "
            "file"), False


def _report(trace: Trace, cells: list[Cell] | None, decimals: int, check_name: str = ""
            ) -> tuple[list[str], dict, int]:
    line, agree = _agreement_line(trace)
    text = trace.render(decimals) + [""] + wrap(
        line if agree else "scratch and torch DISAGREE: see the BUG line")
    doc = dict(trace.data)
    doc["crosscheck"] = trace.crosscheck().as_dict()
    rc = 0 if agree else 1
    if cells is not None:
        text += ["", f"check of {check_name} (yours beside ours)"] + render_cells(cells, decimals)
        doc["check"] = {"cells": [c.as_dict() for c in cells], **{
            k.replace(" ", "_"): v for k, v in summary(cells).items()}}
        if any(c.mark == WRONG for c in cells):
            rc = 1
    if not agree:
        print(line, file=sys.stderr)
    return text, doc, rc


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        usage_error=TraceInputError,
        prog="python -m torchref.trace",
        description="Every intermediate quantity of the notes' algorithms for your network and "
        "numbers, computed by scratch and cross-checked with torch autograd; --check marks a "
        "hand-computed table cell by cell. `example ID` runs a worked example of the notes "
        "and marks the document's printed numbers.",
        epilog="kinds: mlp, linear, perceptron, optimizer, graph; docs/trace.md has the file "
        "formats. example: python -m torchref.trace example B6",
    )
    p.add_argument("kind", choices=[*KINDS, "example"], metavar="KIND",
                   help="mlp, linear, perceptron, optimizer, graph, or example")
    p.add_argument("file", nargs="?", metavar="FILE.yaml|ID",
                   help="the input file (for example: the worked example's ID; none lists them)")
    p.add_argument("--json", action="store_true", help="print JSON (full precision)")
    p.add_argument("--check", metavar="MINE.yaml", help="mark your numbers (same keys)")
    p.add_argument("--steps", type=int, metavar="N", help="GD steps (mlp, linear, optimizer)")
    p.add_argument("--decimals", type=int, default=DEFAULT_DECIMALS, metavar="D",
                   help=f"decimals shown in the tables (default {DEFAULT_DECIMALS}; "
                   "JSON is always full precision)")
    p.add_argument("--errata", action="store_true",
                   help="example only: print the machine-readable Trace lines for docs/errata.md")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (0 ok, 1 wrong cell or bug, 2 bad input)."""
    try:
        args = _parser().parse_args(argv)
        if args.steps is not None and args.steps < 0:
            raise TraceInputError(f"--steps: expected an integer >= 0, got {args.steps}")
        if not 0 <= args.decimals <= 15:
            raise TraceInputError(f"--decimals: expected 0..15, got {args.decimals}")
        if args.kind == "example":
            return _main_example(args)
        if args.errata:
            raise TraceInputError("--errata: only with `example`")
        if args.file is None:
            raise TraceInputError(f"FILE.yaml: missing: the {args.kind} input file")
        trace = trace_file(args.kind, args.file, args.steps)
        cells = check_file(trace, args.check) if args.check else None
    except TraceInputError as exc:
        print(f"torchref.trace: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    text, doc, rc = _report(trace, cells, args.decimals, Path(args.check or "").name)
    print(dumps(doc) if args.json else "\n".join(text))
    return rc


def _main_example(args) -> int:
    if args.check or args.steps is not None:
        raise TraceInputError("example: runs the shipped input and check files; "
                              "--check and --steps do not apply")
    table = examples()
    if args.file is None and not args.errata:
        lines = ["worked examples of the notes (python -m torchref.trace example ID):"]
        for id_, runs in table.items():
            readings = ", ".join(r.reading for r in runs if r.reading)
            lines.append(f"  {id_:4} {runs[0].title}" + (f" [{readings}]" if readings else ""))
        print("\n".join(lines))
        return 0
    ids = [args.file] if args.file else list(table)
    if args.file and args.file not in table:
        raise TraceInputError(f"example: unknown ID {args.file!r}; shipped: {', '.join(table)}")
    rc, texts, docs, errata = 0, [], [], []
    for id_ in ids:
        runs = [(ex, *run_example(ex)) for ex in table[id_]]
        errata += errata_lines(id_, [(ex, cells) for ex, _, cells in runs])
        for ex, trace, cells in runs:
            text, doc, code = _report(trace, cells, args.decimals, ex.check.name)
            rc = max(rc, code)
            texts += wrap(f"== {ex.label}: {ex.title}") + [""] + text + [""]
            docs.append({"id": id_, "reading": ex.reading, **doc})
    if args.errata:
        print("\n".join(errata))
        return 0
    print(dumps(docs) if args.json else "\n".join(texts).rstrip())
    return rc

