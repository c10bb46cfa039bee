"""What every kind of trace produces, the scratch-versus-torch comparison, and number display.

A kind (mlp, linear, perceptron, optimizer, graph) turns an input file into a `Trace`: the
JSON document of every quantity computed by `scratch` (full precision), the same document
recomputed by torch autograd, the text tables, and the alternative documents a usual slip
would have produced (used by `--check` to name the slip). `compare` walks the two documents
side by side: any disagreement is a bug in this project, reported as such.

Imports NumPy only.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Trace", "Agreement", "compare", "check_finite", "wrap", "dumps", "plain", "fmt",
           "table", "WIDTH", "RTOL", "ATOL"]

# Both sides compute in float64; only the order of operations differs.
RTOL, ATOL = 1e-10, 1e-12
WIDTH = 80  # the terminal the text output must fit


@dataclass(frozen=True)
class Agreement:
    """Result of `compare`: `path` is the first disagreeing cell (None when all agree)."""

    compared: int
    max_abs_diff: float | None = 0.0  # None: the kind compared with a tolerance only
    path: str | None = None
    scratch: float | None = None
    torch: float | None = None

    @property
    def agree(self) -> bool:
        return self.path is None

    def as_dict(self) -> dict:
        out = {"agree": self.agree, "compared": self.compared, "max_abs_diff": self.max_abs_diff}
        if not self.agree:
            out.update(path=self.path, scratch=self.scratch, torch=self.torch)
        return out


@dataclass
class Trace:
    """The result of one trace: `data` is the JSON document, `torch_data` torch's twin."""

    kind: str
    data: dict
    torch_data: dict
    render: Callable[[int], list[str]]
    m: int = 1  # examples a mean runs over (the "missing 1/m" slip)
    slips: Callable[[], list[tuple[str, dict]]] = field(default=lambda: [])
    # Set by a kind whose engines are compared inside it (graph); otherwise compare() decides.
    agreement: Agreement | None = None
    # Evaluates a check cell written as an expression (graph: "df/dq = z"); None elsewhere.
    expression_cell: Callable[[str], float] | None = None

    def crosscheck(self) -> Agreement:
        """Does torch autograd give every number scratch gave?"""
        return self.agreement or compare(self.data, self.torch_data)


def compare(ours, theirs, rtol: float = RTOL, atol: float = ATOL) -> Agreement:
    """Compare every number of `ours` with the same cell of `theirs` (which may hold more)."""
    count, worst, first = 0, 0.0, None
    stack = [("", ours, theirs)]
    while stack:
        path, a, b = stack.pop()
        if isinstance(a, dict):
            if not isinstance(b, dict):
                first = first or (path, math.nan, math.nan)
                continue
            for k in reversed(list(a)):
                sub = f"{path}.{k}" if path else str(k)
                stack.append((sub, a[k], b.get(k, _MISSING)))
        elif isinstance(a, list):
            if not isinstance(b, list) or len(a) != len(b):
                first = first or (path, math.nan, math.nan)
                continue
            stack.extend((f"{path}[{i}]", x, y) for i, x, y in reversed(list(
                zip(range(len(a)), a, b, strict=True))))
        elif isinstance(a, bool | str) or a is None:
            if a != b and first is None:
                first = (path, a, b)
        else:
            count += 1
            if b is _MISSING or isinstance(b, bool | str | list | dict) or b is None:
                first = first or (path, float(a), math.nan)
                continue
            diff = abs(float(a) - float(b))
            if not (math.isfinite(diff) or float(a) == float(b)):
                first = first or (path, float(a), float(b))
                continue
            worst = max(worst, 0.0 if float(a) == float(b) else diff)
            if diff > atol + rtol * abs(float(b)) and first is None:
                first = (path, float(a), float(b))
    if first is None:
        return Agreement(count, worst)
    return Agreement(count, worst, *first)


_MISSING = object()


def dumps(obj, indent: int = 0) -> str:
    """JSON with one line per list of numbers (a vector, or a matrix row), full precision."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(str(k))}: {dumps(v, indent + 1).lstrip()}'
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(obj, list) and obj and not all(
            isinstance(v, bool | int | float | str) or v is None for v in obj):
        items = [f"{pad} {dumps(v, indent + 1).lstrip()}" for v in obj]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(obj)


def check_finite(doc) -> None:
    """Raise TraceInputError naming the first NaN/inf cell of a document (an overflow, or a
    value outside a function's domain, such as the log of an output equal to 0)."""
    from torchref.trace.inputs import TraceInputError

    stack = [("", doc)]
    while stack:
        path, x = stack.pop()
        if isinstance(x, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in x.items())
        elif isinstance(x, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(x))
        elif isinstance(x, float) and not math.isfinite(x):
            raise TraceInputError(
                f"{path}: not finite ({x}): the numbers overflow, or a value left a "
                "function's domain")


def plain(x):
    """NumPy arrays and scalars (nested in lists/dicts) as JSON-ready Python lists and floats."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):
        return float(x)
    return x


def fmt(v, decimals: int) -> str:
    """A number for the tables: at most `decimals` places, trailing zeros dropped (0.15, not
    0.1500); scientific below 10^-min(decimals, 3) (4.540e-05: "0.0001" would hide it) and
    from 10^7 up."""
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v != 0 and (abs(v) < 10.0 ** -min(decimals, 3) or abs(v) >= 1e7):
        return f"{v:.{max(decimals - 1, 1)}e}"
    text = f"{v:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def wrap(text: str, indent: str = "  ") -> list[str]:
    """A long line broken at spaces to fit WIDTH, continuation lines indented."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _aligned(cells: list[str]) -> list[str]:
    """A column's numbers aligned on the decimal point; other cells right-aligned."""
    nums = [c for c in cells if _is_number(c) and "e" not in c]
    if not any(_is_number(c) for c in cells):  # a text column: left-aligned
        width = max(map(len, cells))
        return [c.ljust(width) for c in cells]
    frac = max((len(c.partition(".")[2]) + ("." in c) for c in nums), default=0)
    out = [c + " " * (frac - len(c.partition(".")[2]) - ("." in c)) if c in nums else c
           for c in cells]
    width = max(map(len, out))
    return [c.rjust(width) for c in out]


def table(header: list[str], rows: list[list[str]], indent: int = 2,
          keep: int = 1) -> list[str]:
    """Columns of numbers aligned on the decimal point (the first `keep` columns left-aligned
    labels); wider than WIDTH, the other columns wrap into blocks that repeat the labels."""
    if not rows:
        return []
    cols = len(header)
    columns = []
    for i in range(cols):
        body = [r[i] for r in rows]
        if i < keep:
            width = max(len(header[i]), *map(len, body))
            columns.append([c.ljust(width) for c in [header[i], *body]])
        else:
            body = _aligned(body)
            width = max(len(header[i]), len(body[0]))
            text = not any(_is_number(c) for c in body)
            columns.append([c.ljust(width) if text else c.rjust(width)
                            for c in [header[i], *body]])
    widths = [len(c[0]) for c in columns]
    lead = sum(widths[:keep]) + 2 * keep
    blocks, current, used = [], [], indent + lead
    for i in range(keep, cols):
        if current and used + widths[i] + 2 > WIDTH:
            blocks.append(current)
            current, used = [], indent + lead
        current.append(i)
        used += widths[i] + 2
    blocks.append(current)
    lines = []
    for b, block in enumerate(blocks):
        if b:
            lines.append("")
        idx = list(range(keep)) + block
        for r in range(len(rows) + 1):
            lines.append((" " * indent + "  ".join(columns[i][r] for i in idx)).rstrip())
    return lines
