"""The formula catalog: every ID of the notes' inventory, what implements it, what proves it.

`python -m torchref.catalog` prints the table, `... A3 F14` those IDs in detail, `--json` a list
of objects with `id`, `title`, `source`, `scratch`, `torch`, `tests`, `status`, `note`, and
`--check` every tag that names an unknown ID or cannot be read (exit status 1 if any).

Only the ID, title, source documents and note are kept by hand (`torchref/catalog_data.py`).
The rest is read off the code with `ast`, so listing the catalog imports neither torch nor the
modules it lists, and cannot claim what the code does not say:
  scratch  every function, class or method of `scratch/` whose docstring has a line
           `Catalog: F14 (002 §4.3.5)`; several IDs: `Catalog: C5, C6 (003)`, `Catalog: I1-I3`.
  torch    the same in `torchref/` and `lightning_app/`, plus torch built-ins declared in a
           docstring of the torch room as `Catalog: A3 -> torch.nn:Sigmoid, torch.special:expit`
           (an arrow line names only its targets, never the function that carries it).
  tests    every test of `parity_tests/` decorated `@pytest.mark.catalog("A3", ...)` (on a
           test class: each of its tests).
A tag's ID list is IDs joined by `,`, `/` or `and`, each optionally followed by a bracketed
remark; an ID elsewhere on the tag's sentence is an error (`--check`), as is a plain tag in a
module docstring (it would name no callable). Reference forms: callable `module:qualname`,
test `parity_tests/test_x.py::test_name` (or `...::TestClass::test_name`).

Status: covered = scratch, torch and tests all present; partial = some; missing = none.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from torchref.catalog_data import ROWS
from torchref.command_line import OneLineParser

__all__ = [
    "Entry", "Tag", "CATALOG", "TAGS", "by_id", "main", "problems", "parse_tag", "docstring_tags",
    "marker_tags", "collect_tags",
]

ROOT = Path(__file__).resolve().parents[1]
SCRATCH_ROOMS = ("scratch",)
TORCH_ROOMS = ("torchref", "lightning_app")
TESTS = "parity_tests"
_NOT_SCANNED = {"torchref/catalog.py", "torchref/catalog_data.py"}
_ID = re.compile(r"([A-Z])(\d+)(?:-\1(\d+))?\b")
_ID_ANYWHERE = re.compile(r"\b[A-Z]\d+\b")
_SEP = re.compile(r"\s*(?:,\s*and\b|,|/|and\b)\s*")
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_CLOSE = {"(": ")", "[": "]"}


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    source: str
    scratch: tuple[str, ...] = ()
    torch: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    note: str = ""

    @property
    def status(self) -> str:
        parts = (self.scratch, self.torch, self.tests)
        if all(parts):
            return "covered"
        return "partial" if any(parts) else "missing"

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(scratch=list(self.scratch), torch=list(self.torch), tests=list(self.tests))
        d["status"] = self.status
        return d


@dataclass(frozen=True)
class Tag:
    """One `Catalog:` line or marker: what it names (`ref`, or `targets`), for which IDs."""

    ids: tuple[str, ...]
    ref: str  # the callable or test it registers; "" for an arrow line or a module docstring
    where: str  # path:line, for messages
    targets: tuple[str, ...] = ()
    error: str = ""


def parse_tag(text: str) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """`(ids, arrow targets, error)` of the text that follows `Catalog:`."""
    ids: list[str] = []
    pos = len(text) - len(text.lstrip())
    while True:
        m = _ID.match(text, pos)
        if not m:
            break
        letter, lo, hi = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
        ids += [f"{letter}{n}" for n in range(lo, hi + 1)]
        pos = m.end()
        while (rest := text[pos:].lstrip(" \n")) and rest[0] in _CLOSE:
            pos = _skip_group(text, len(text) - len(rest))
        sep = _SEP.match(text, pos)
        if not (sep and _ID.match(text, sep.end())):
            break
        pos = sep.end()
    if not ids:
        return (), (), "no ID after 'Catalog:'"
    line = text[pos:].split("\n", 1)[0]
    if line.lstrip().startswith("->"):
        targets = tuple(t.strip().rstrip(".") for t in line.lstrip()[2:].split(","))
        bad = [t for t in targets if not _TARGET.fullmatch(t)]
        return tuple(ids), targets, f"arrow targets read 'module:name', not {bad}" if bad else ""
    sentence = re.split(r"\.(?:\s|$)", line, maxsplit=1)[0]
    if stray := _ID_ANYWHERE.findall(sentence):
        return tuple(ids), (), f"IDs {stray} after the ID list: list every ID before any other word"
    return tuple(ids), (), ""


def _skip_group(text: str, start: int) -> int:
    depth, want = 0, _CLOSE[text[start]]
    for i in range(start, len(text)):
        depth += text[i] == text[start]
        depth -= text[i] == want
        if depth == 0:
            return i + 1
    return len(text)


def docstring_tags(rel: str, source: str) -> list[Tag]:
    """The `Catalog:` tags in the docstrings of one module (`rel`: its path from the root)."""
    tree = ast.parse(source, rel)
    module = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    torch_room = rel.split("/")[0] in TORCH_ROOMS
    tags = []

    def read(node, ref: str) -> None:
        doc = node.body[0].value if node.body and isinstance(node.body[0], ast.Expr) else None
        if isinstance(doc, ast.Constant) and isinstance(doc.value, str):
            for m in re.finditer(r"\bCatalog:", doc.value):
                ids, targets, error = parse_tag(doc.value[m.end():])
                where = f"{rel}:{doc.lineno + doc.value.count(chr(10), 0, m.start())}"
                if targets and not torch_room:
                    error = "torch built-ins are declared in the torch room (torchref/)"
                elif targets and any(t.split(".")[0].split(":")[0] != "torch" for t in targets):
                    error = f"arrow targets must be torch built-ins, got {list(targets)}"
                elif not (ref or targets or error):
                    error = "a module docstring's tag names no callable: put it on the def"
                tags.append(Tag(ids, "" if targets else ref, where, targets, error))
        if isinstance(node, ast.Module | ast.ClassDef):  # not into function bodies
            for child in node.body:
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    qual = f"{ref.partition(':')[2]}.{child.name}" if ref else child.name
                    read(child, f"{module}:{qual}")

    read(tree, "")
    return tags


def _markers(decorators: list[ast.expr]) -> list[tuple[tuple[str, ...], str]]:
    """`(ids, error)` of each `pytest.mark.catalog(...)` among a test's decorators."""
    out = []
    for d in decorators:
        if isinstance(d, ast.Call) and ast.unparse(d.func) == "pytest.mark.catalog":
            ids = tuple(a.value for a in d.args if isinstance(getattr(a, "value", None), str))
            ok = ids and len(ids) == len(d.args)
            out.append((ids, "" if ok else "pytest.mark.catalog takes ID strings: ('A3', ...)"))
    return out


def marker_tags(rel: str, source: str) -> list[Tag]:
    """The catalog markers of the tests in one test module."""
    tree = ast.parse(source, rel)
    tags = []
    for node in tree.body:
        where = f"{rel}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            error = "" if node.name.startswith("test") else "a catalog marker on a non-test"
            for ids, bad in _markers(node.decorator_list):
                tags.append(Tag(ids, f"{rel}::{node.name}", where, (), bad or error))
        elif isinstance(node, ast.ClassDef):
            for f in node.body:
                if isinstance(f, ast.FunctionDef) and f.name.startswith("test"):
                    for ids, bad in _markers(node.decorator_list + f.decorator_list):
                        tags.append(Tag(ids, f"{rel}::{node.name}::{f.name}", where, (), bad))
        elif isinstance(node, ast.Assign) and "pytestmark" in ast.unparse(node.targets[0]):
            if "mark.catalog" in ast.unparse(node.value):
                tags.append(Tag((), "", where, (), "put catalog markers on the tests themselves"))
    return tags


def collect_tags() -> list[Tag]:
    """Every `Catalog:` tag of the code and every catalog marker of the tests, in file order."""
    tags = []
    for room in SCRATCH_ROOMS + TORCH_ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in _NOT_SCANNED:
                tags += docstring_tags(rel, path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / TESTS).glob("test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tags += marker_tags(rel, path.read_text(encoding="utf-8"))
    return tags


def _build(tags: list[Tag]) -> tuple[Entry, ...]:
    sides: dict[str, dict[str, list[str]]] = {
        row[0]: {"scratch": [], "torch": [], "tests": []} for row in ROWS
    }
    for tag in tags:
        if tag.error:
            continue
        if tag.ref.startswith(TESTS + "/"):
            side, refs = "tests", [tag.ref]
        elif tag.ref.split(".")[0] in SCRATCH_ROOMS:
            side, refs = "scratch", [tag.ref]
        else:
            side, refs = "torch", list(tag.targets) or [tag.ref]
        for i in tag.ids:
            if i in sides:
                sides[i][side] += [r for r in refs if r not in sides[i][side]]
    return tuple(
        Entry(i, title, source, *(tuple(sides[i][s]) for s in ("scratch", "torch", "tests")),
              note=note)
        for i, source, title, note in ROWS
    )


TAGS: tuple[Tag, ...] = tuple(collect_tags())
CATALOG: tuple[Entry, ...] = _build(list(TAGS))


def problems() -> list[str]:
    """Tags that cannot be read or name an unknown ID, one line each (empty when all is well)."""
    known = {row[0] for row in ROWS}
    out = [f"{t.where}: {t.error}" for t in TAGS if t.error]
    out += [f"{t.where}: unknown catalog id {i!r}" for t in TAGS for i in t.ids if i not in known]
    return out


def by_id(entry_id: str) -> Entry:
    """Return the entry with this ID; a clear error names the valid IDs otherwise."""
    for entry in CATALOG:
        if entry.id == entry_id:
            return entry
    raise KeyError(
        f"unknown catalog id {entry_id!r}; valid ids: {', '.join(e.id for e in CATALOG)}"
    )


def _table(entries) -> str:
    rows = [("ID", "status", "scratch", "torch", "tests", "title")]
    for e in entries:
        rows.append(
            (e.id, e.status, str(len(e.scratch)), str(len(e.torch)), str(len(e.tests)), e.title)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        head = "  ".join(cell.ljust(w) for cell, w in zip(r[:5], widths, strict=True))
        lines.append(f"{head}  {r[5]}")
    counts = {s: sum(e.status == s for e in entries) for s in ("covered", "partial", "missing")}
    lines.append("")
    lines.append(
        f"{len(entries)} ids: {counts['covered']} covered, {counts['partial']} partial, "
        f"{counts['missing']} missing"
    )
    return "\n".join(lines)


def _details(e: Entry) -> str:
    out = [f"{e.id} [{e.status}] {e.title}", f"  source documents: {e.source}"]
    for label, refs in (("scratch", e.scratch), ("torch", e.torch), ("tests", e.tests)):
        out.append(f"  {label}:")
        out.extend(f"    {r}" for r in refs) if refs else out.append("    (none)")
    if e.note:
        out.append(f"  note: {e.note}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m torchref.catalog",
        description="Which formula of the notes is implemented, by what, proven by which tests.",
    )
    parser.add_argument("ids", nargs="*", help="show these IDs in detail (e.g. A3 F14)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--status", choices=("covered", "partial", "missing"), help="only entries with this status"
    )
    parser.add_argument(
        "--check", action="store_true", help="list unreadable tags and unknown IDs; exit 1 if any"
    )
    args = parser.parse_args(argv)

    if args.check:
        found = problems()
        print("\n".join(found) or "every catalog tag reads and names a known ID")
        return 1 if found else 0
    try:
        entries = [by_id(i) for i in args.ids] if args.ids else list(CATALOG)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if not (ROOT / TESTS).is_dir():
        print(f"note: no {TESTS}/ next to the package, so no tests are listed", file=sys.stderr)
    if args.status:
        entries = [e for e in entries if e.status == args.status]
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
    elif args.ids:
        print("\n\n".join(_details(e) for e in entries))
    else:
        print(_table(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
