"""The machine-readable form of an erratum's worked-example numbers, written and read here.

An entry of docs/errata.md for a worked example carries one bullet per run of
`python -m torchref.trace example ID` that marks a printed number wrong (or rounded wrongly):

    - **Trace** (`python -m torchref.trace example F3`) (reading t4=8): `rows[0].contribution`
      document 125, correct 115.00; `grad` document 46.4, correct 44.400.

`path` is the cell of the check file, "document" the number as the document prints it,
"correct" our value to at least two more decimals. `errata_lines` writes these bullets from a
run (`python -m torchref.trace example --errata` prints them all); `read_trace_lines` and
`entries` read them back, so parity_tests/test_trace_examples.py can hold the errata page to
the runs: an erratum is then a reproducible output, not prose.

Imports nothing outside the standard library and this package.
"""

from __future__ import annotations

import math
import re

__all__ = ["correct_text", "errata_lines", "entries", "read_trace_lines", "TraceClaim"]

_BULLET = re.compile(r"^- \*\*Trace\*\* \(`python -m torchref\.trace example (?P<id>[\w-]+)`\)"
                     r"(?: \(reading (?P<reading>[^)]+)\))?: (?P<pairs>.*)$")
_PAIR = re.compile(r"`(?P<path>[^`]+)` document (?P<document>\S+?), correct (?P<correct>\S+?)"
                   r"(?:;|\.$|$)")


def correct_text(ours: float, decimals: int) -> str:
    """Our value with two more decimals than the document wrote (4 significant at least)."""
    if ours != 0 and abs(ours) < 1e-3:
        return f"{ours:.3e}"
    magnitude = int(math.floor(math.log10(abs(ours)))) if ours else 0
    return f"{ours:.{max(decimals + 2, 3 - magnitude)}f}"


def errata_lines(id_: str, runs) -> list[str]:
    """The `**Trace**` bullets of example `id_`: `runs` holds (Example, cells) pairs."""
    lines = []
    for ex, cells in runs:
        bad = [c for c in cells if c.mark not in ("ok", "shown")]
        if not bad:
            continue
        reading = f" (reading {ex.reading})" if ex.reading else ""
        pairs = "; ".join(f"`{c.path}` document {c.yours}, correct "
                          f"{correct_text(c.ours, c.decimals)}" for c in bad)
        lines.append(f"- **Trace** (`python -m torchref.trace example {id_}`){reading}: "
                     f"{pairs}.")
    return lines


class TraceClaim(tuple):
    """(id, reading, path, document text, correct text) of one cell of a Trace bullet."""

    __slots__ = ()

    def __new__(cls, *fields):
        return super().__new__(cls, fields)


def read_trace_lines(text: str) -> list[TraceClaim]:
    """Every cell of every `**Trace**` bullet in `text` (continuation lines joined)."""
    joined = re.sub(r"\n[ \t]+(?=\S)", " ", text)  # a bullet may wrap onto indented lines
    claims = []
    for line in joined.splitlines():
        m = _BULLET.match(line.strip())
        if not m:
            continue
        for p in _PAIR.finditer(m["pairs"]):
            claims.append(TraceClaim(m["id"], m["reading"] or "", p["path"], p["document"],
                                     p["correct"]))
    return claims


def entries(errata_md: str) -> dict[str, str]:
    """The text of each `### ID: ...` entry of docs/errata.md by ID (entries of one ID in
    several sections are joined)."""
    out: dict[str, str] = {}
    parts = re.split(r"^(?=#{2,3} )", errata_md, flags=re.M)
    for part in parts:
        m = re.match(r"### (?P<id>[A-Z]\d+)\b", part)
        if m:
            out[m["id"]] = out.get(m["id"], "") + part
    return out
