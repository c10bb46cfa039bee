"""`--check MINE.yaml`: mark every cell of a hand-computed table against the trace.

The check file uses the keys of the trace's JSON document (any subset; `null` skips a cell; a
single number may stand for a one-entry list; a mapping by name may stand for a list of named
nodes). Each number is marked:
  ok               equal to ours rounded to the decimals written (0.4702 -> "0.47"; a value
                   exactly half-way may be rounded either way),
  rounded wrongly  not that, but within one unit of the last digit written (0.47 for 0.4750),
  wrong            anything else, with our value and, where one fits, the usual slip that
                   gives the student's number: sign, a missing or extra factor 2 or 1/m, or one
                   the kind replays (derivative of the wrong activation, bias forgotten, ...).
A top-level `shown:` holds numbers to print beside ours without marking them (a document's
numbers that depend on something it does not give, e.g. the random start of I1's training).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from torchref.trace.core import WIDTH, Trace, fmt
from torchref.trace.inputs import TraceInputError, Written, decimals_of

__all__ = ["Cell", "check", "summary", "render_cells", "mark"]

OK, ROUNDED, WRONG, SHOWN = "ok", "rounded wrongly", "wrong", "shown"


@dataclass(frozen=True)
class Cell:
    """One marked cell: the path in the document, the student's text, our value, the mark."""

    path: str
    yours: str
    ours: float | bool
    mark: str
    slip: str = ""
    decimals: int = 0

    def as_dict(self) -> dict:
        out = {"path": self.path, "yours": self.yours, "ours": self.ours, "mark": self.mark}
        if self.slip:
            out["slip"] = self.slip
        return out


def mark(value: float, decimals: int, ours: float) -> str:
    """ok / rounded wrongly / wrong for a number written with `decimals` decimals.

    Rounded wrongly: the other neighbour of ours on the grid of the digits written (0.47 or
    0.48 for 0.4750 is a matter of rounding), and within 10% of ours (0 for 0.9 is not).
    """
    unit = 10.0 ** -decimals
    diff = abs(value - ours)
    slack = 1e-9 * unit + 1e-12 * abs(ours)  # binary floats: 0.125 must count as half-way
    if diff <= unit / 2 + slack:
        return OK
    if diff < unit + slack and diff <= 0.1 * abs(ours):
        return ROUNDED
    return WRONG


def _near(value: float, decimals: int, candidate: float) -> bool:
    """Would the number written be ok, or a rounding away, if `candidate` were the truth?

    Also within 10% of it: at the coarse precision of a short number (0 decimals) many
    candidates round alike, and a slip must explain the number, not merely round to it.
    """
    return (mark(value, decimals, candidate) != WRONG
            and abs(value - candidate) <= 0.1 * abs(candidate) + 1e-12)


def check(trace: Trace, student: dict) -> list[Cell]:
    """Mark every cell of `student` (a parsed check file) against `trace.data`."""
    cells: list[Cell] = []
    alternatives: list[tuple[str, dict]] | None = None

    def slips_for(path: tuple, value: float, decimals: int, ours: float) -> str:
        nonlocal alternatives
        found = []
        arithmetic = [("sign", -ours), ("missing factor 2", ours / 2),
                      ("extra factor 2", 2 * ours)]
        if trace.m > 1:
            arithmetic += [("missing factor 1/m", trace.m * ours),
                           ("extra factor 1/m", ours / trace.m)]
        found += [label for label, v in arithmetic if _near(value, decimals, v)]
        if alternatives is None:
            alternatives = trace.slips()
        for label, alt in alternatives:
            v = _lookup(alt, path)
            if isinstance(v, float | int) and not isinstance(v, bool) and _near(
                    value, decimals, float(v)) and not _near(value, decimals, ours):
                found.append(label)
        return " or ".join(found[:2])

    def visit(s, o, path: tuple, shown: bool, label: tuple | None = None) -> None:
        label = path if label is None else label  # what the student wrote (node names)
        where = _path_text(label)
        if s is None:
            return
        if isinstance(s, dict):
            if isinstance(o, list) and all(isinstance(x, dict) and "name" in x for x in o):
                names = {x["name"]: i for i, x in enumerate(o)}
                names.update({x.get("expr"): i for i, x in enumerate(o)
                              if x.get("expr") not in names})
                for k, v in s.items():
                    if k not in names:
                        raise TraceInputError(
                            f"check file: {where}.{k}: no such node; nodes: "
                            f"{', '.join(x['name'] for x in o)}")
                    visit(v, o[names[k]], (*path, names[k]), shown, (*label, str(k)))
                return
            if not isinstance(o, dict):
                raise TraceInputError(f"check file: {where}: expected {_kind(o)}, got a mapping")
            for k, v in s.items():
                if k not in o:
                    raise TraceInputError(
                        f"check file: {_path_text((*label, k))}: no such quantity in this trace; "
                        f"valid keys here: {', '.join(map(str, o))}")
                visit(v, o[k], (*path, k), shown, (*label, k))
            return
        if isinstance(s, list):
            if not isinstance(o, list):
                raise TraceInputError(f"check file: {where}: expected {_kind(o)}, got a list")
            if len(s) > len(o):
                raise TraceInputError(
                    f"check file: {where}: {len(s)} entries, the trace has {len(o)}")
            for i, v in enumerate(s):
                visit(v, o[i], (*path, i), shown, (*label, i))
            return
        while isinstance(o, list) and len(o) == 1:  # 1.9 for [[1.9]]
            o, path = o[0], (*path, 0)
        where = _path_text(label)
        if isinstance(o, list | dict):
            raise TraceInputError(
                f"check file: {where}: expected {_kind(o)}, got the single value {s!r}")
        if isinstance(s, bool) or isinstance(o, bool):
            if not (isinstance(s, bool) and isinstance(o, bool)):
                raise TraceInputError(f"check file: {where}: expected {_kind(o)}, got {s!r}")
            cells.append(Cell(where, str(s).lower(), o, SHOWN if shown else (
                OK if s == o else WRONG)))
            return
        if isinstance(s, str):
            if trace.expression_cell is None or isinstance(o, str):
                raise TraceInputError(f"check file: {where}: expected a number, got {s!r}")
            value = trace.expression_cell(s)
            ok = math.isclose(value, o, rel_tol=1e-9, abs_tol=1e-12)
            cells.append(Cell(where, f"{s} = {fmt(value, 6)}", float(o),
                              SHOWN if shown else (OK if ok else WRONG), decimals=6))
            return
        if isinstance(o, str) or not isinstance(s, float | int):
            raise TraceInputError(f"check file: {where}: expected {_kind(o)}, got {s!r}")
        text = s.text if isinstance(s, Written) else repr(s)
        d = s.decimals if isinstance(s, Written) else decimals_of(text)
        verdict = SHOWN if shown else mark(float(s), d, float(o))
        slip = slips_for(path, float(s), d, float(o)) if verdict == WRONG else ""
        cells.append(Cell(where, text, float(o), verdict, slip, d))

    if not isinstance(student, dict):
        raise TraceInputError("check file: expected a mapping of the trace's keys")
    for key, value in student.items():
        if key == "shown":
            if not isinstance(value, dict):
                raise TraceInputError("check file: shown: expected a mapping of the trace's keys")
            for k, v in value.items():
                if k not in trace.data:
                    raise TraceInputError(f"check file: shown.{k}: no such quantity")
                visit(v, trace.data[k], (k,), True)
        else:
            visit({key: value}, trace.data, (), False)
    return cells


def _kind(o) -> str:
    if isinstance(o, dict):
        return "a mapping"
    if isinstance(o, list):
        return f"a list of {len(o)}"
    if isinstance(o, bool):
        return "true or false"
    return "a number"


def _path_text(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _lookup(doc, path: tuple):
    for p in path:
        try:
            doc = doc[p]
        except (KeyError, IndexError, TypeError):
            return None
    return doc


def summary(cells: list[Cell]) -> dict:
    counts = {OK: 0, ROUNDED: 0, WRONG: 0, SHOWN: 0}
    for c in cells:
        counts[c.mark] += 1
    return counts


def render_cells(cells: list[Cell], decimals: int) -> list[str]:
    """The student's number beside ours, one line per cell (a slip on the lines below)."""
    rows = [["cell", "yours", "ours", "mark"]]
    for c in cells:
        ours = str(c.ours).lower() if isinstance(c.ours, bool) else fmt(
            c.ours, max(decimals, c.decimals + 3))
        verdict = c.mark + (f" ({c.ours:.{c.decimals}f})" if c.mark == ROUNDED else "")
        rows.append([c.path, c.yours, ours, verdict])
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = []
    for k, r in enumerate(rows):
        line = "  " + "  ".join([r[0].ljust(widths[0]), r[1].rjust(widths[1]),
                                 r[2].rjust(widths[2]), r[3]])
        if len(line) > WIDTH:  # a long path: the numbers and the mark on a line of their own
            out.append("  " + r[0])
            line = "      " + "  ".join([r[1], r[2], r[3]])
        out.append(line.rstrip())
        if k and cells[k - 1].slip:
            out += textwrap.wrap(f"likely slip: {cells[k - 1].slip}", WIDTH,
                                 initial_indent="      ", subsequent_indent="        ")
    n = summary(cells)
    parts = [f"{n[OK]} ok", f"{n[ROUNDED]} rounded wrongly", f"{n[WRONG]} wrong"]
    if n[SHOWN]:
        parts.append(f"{n[SHOWN]} shown, not marked")
    return out + ["", f"{len(cells)} cells: " + ", ".join(parts)]
