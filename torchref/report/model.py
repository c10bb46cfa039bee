"""What a page of the parity report shows, gathered from the catalog, the code, the docs and a
parity record (`parity_tests/record.py`). No HTML here: `render.py` draws it.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from torchref.catalog import CATALOG, parse_tag
from torchref.report.recordfile import id_key

# Float dtypes the index gives a column each; other dtypes (int64, bool: exact comparisons)
# are counted and shown per test.
FLOAT_DTYPES = ("float64", "float32")
_ID_OR_RANGE = re.compile(r"\b([A-Z])(\d{1,3})(?:\s*[-–]\s*(?:\1)?(\d{1,3}))?\b")


@dataclass
class Measured:
    """Comparisons aggregated: how many, how many values, the largest errors observed."""

    count: int = 0
    failed: int = 0  # comparisons that raised (in a passing test: a mismatch proven caught)
    n: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    usage: float = 0.0  # max |a - e| / (atol + rtol |e|): the fraction of the tolerance used
    rtol: float | None = None  # the tolerance of the comparison that used the most of it
    atol: float | None = None

    def add(self, row: dict) -> None:
        self.count += row["count"]
        self.failed += row["failed"]
        self.n += row["n"]
        self.max_abs = _nanmax(self.max_abs, row["max_abs"])
        self.max_rel = _nanmax(self.max_rel, row["max_rel"])
        if self.rtol is None or not row["usage"] <= self.usage:
            self.usage, self.rtol, self.atol = row["usage"], row["rtol"], row["atol"]

    @property
    def passed(self) -> int:
        return self.count - self.failed


@dataclass
class Source:
    """One callable named by the catalog, with its source where Python has it."""

    ref: str  # "package.module:qualname"
    path: str | None = None  # relative to the repository, or to site-packages for libraries
    line: int | None = None
    code: str | None = None
    doc: str | None = None
    error: str | None = None  # why there is no source (compiled, not importable)


@dataclass
class TestResult:
    """One test function of the record (its parametrized instances together)."""

    name: str  # "parity_tests/test_x.py::test_name"
    outcomes: Counter = field(default_factory=Counter)
    by_dtype: dict[str, Measured] = field(default_factory=dict)
    sites: list[str] = field(default_factory=list)

    @property
    def instances(self) -> int:
        return sum(self.outcomes.values())


@dataclass
class DocSection:
    heading: str
    body: str  # markdown


@dataclass
class Page:
    id: str
    title: str
    source: str  # the seed documents, as the catalog lists them
    status: str
    note: str
    sections: list[str]  # seed sections from the scratch docstrings' `Catalog:` lines
    formula: str  # the primary scratch callable's docstring
    formula_ref: str | None
    torch_differs: list[str]
    scratch: list[Source]
    torch: list[Source]
    tests: list[TestResult]
    listed_not_run: list[str]  # the catalog names them, the record has no run of them
    errata: list[DocSection]
    demonstrations: list[DocSection]

    @property
    def seed_section(self) -> str:
        """The formula callable's section, else the first one tagged, else the documents."""
        return (self.sections or [self.source])[0]

    @property
    def comparisons(self) -> int:
        return sum(m.count for t in self.tests for m in t.by_dtype.values())

    def worst(self, dtype: str) -> Measured | None:
        rows = [t.by_dtype[dtype] for t in self.tests if dtype in t.by_dtype]
        if not rows:
            return None
        total = Measured()
        for m in rows:
            total.add(_as_row(m))
        return total

    @property
    def outcomes(self) -> Counter:
        total = Counter()
        for t in self.tests:
            total.update(t.outcomes)
        return total


def build_pages(record: dict, root: Path) -> list[Page]:
    """One page per catalog ID, plus one per ID that only the record's markers name."""
    errata = _sections(root / "docs" / "errata.md")
    demos = _sections(root / "docs" / "demonstrations.md")
    tests_by_id = _tests_by_id(record)
    pages = []
    known = set()
    for entry in CATALOG:
        known.add(entry.id)
        pages.append(_page(entry.id, entry, tests_by_id.get(entry.id, []), errata, demos, root))
    for extra in sorted(set(tests_by_id) - known, key=id_key):
        pages.append(_page(extra, None, tests_by_id[extra], errata, demos, root))
    return pages


def ids_in(text: str) -> set[str]:
    """Catalog IDs a text names, ranges expanded ("E1-E10", "A1-13", "D11 / D12")."""
    found = set()
    for letter, first, last in _ID_OR_RANGE.findall(text):
        lo = int(first)
        hi = int(last) if last else lo
        if hi < lo or hi - lo > 50:
            hi = lo
        found.update(f"{letter}{k}" for k in range(lo, hi + 1))
    return found


def catalog_sections(doc: str, entry_id: str) -> list[str]:
    """The seed sections that the catalog tags of a docstring give this ID.

    The tag grammar is the catalog's (`torchref.catalog.parse_tag`); the section is the
    bracket that follows the tag's ID list, before the tag's sentence ends.
    """
    out = []
    for m in re.finditer(r"\bCatalog:", doc):
        ids, targets, _ = parse_tag(doc[m.end():])
        if entry_id not in ids or targets:
            continue
        sentence = re.split(r"\.(?:\s|$)", doc[m.end():], maxsplit=1)[0]
        if "(" in sentence:
            section = _balanced(sentence[sentence.index("("):])
            if section:
                out.append(" ".join(section.split()))
    return out


def torch_sentences(doc: str) -> list[str]:
    """The sentences of a docstring that talk about PyTorch (where its convention differs)."""
    text = " ".join(doc.split())
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z`(])", text)
    return [s for s in sentences if re.search(r"torch", s, re.IGNORECASE)]


def load_source(ref: str, root: Path) -> Source:
    module_name, _, qualname = ref.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # noqa: BLE001 -- a page says the name does not resolve
        return Source(ref, error=f"cannot import: {type(exc).__name__}: {exc}")
    doc = inspect.getdoc(obj) if callable(obj) or inspect.isclass(obj) else None
    try:
        lines, line = inspect.getsourcelines(obj)
        path = inspect.getsourcefile(obj)
    except (TypeError, OSError):
        kind = "compiled (C++/ATen)" if callable(obj) else f"a value of type {type(obj).__name__}"
        return Source(ref, doc=doc, error=f"no Python source: {kind}")
    return Source(ref, path=_short_path(Path(path), root), line=line or 1,
                  code=textwrap.dedent("".join(lines)), doc=doc)


# ---- the parts ------------------------------------------------------------------------------


def _page(entry_id, entry, tests, errata, demos, root) -> Page:
    scratch_refs = tuple(entry.scratch) if entry else ()
    torch_refs = tuple(entry.torch) if entry else ()
    # The catalog lists exactly the scratch callables whose docstring tags name this ID.
    sources_scratch = [load_source(r, root) for r in scratch_refs]
    documented = [s for s in sources_scratch if s.doc]
    # The formula: the first of them (file order: the forward function before its gradient).
    formula_ref, formula = (documented[0].ref, documented[0].doc) if documented else (None, "")
    differs = list(dict.fromkeys(t for s in documented for t in torch_sentences(s.doc)))
    found = list(dict.fromkeys(c for s in documented for c in catalog_sections(s.doc, entry_id)))
    # In order, the formula's first; "002 §4.1.2" is dropped beside "002 §4.1.2 "Sigmoid"".
    sections = [s for s in found if not any(s != t and s in t for t in found)]
    run = {t.name for t in tests}
    return Page(
        id=entry_id,
        title=entry.title if entry else "(not in the catalog yet: named by a test's marker)",
        source=entry.source if entry else "",
        status=entry.status if entry else "unlisted",
        note=entry.note if entry else "",
        sections=sections,
        formula=formula,
        formula_ref=formula_ref,
        torch_differs=differs,
        scratch=sources_scratch,
        torch=[load_source(r, root) for r in torch_refs],
        tests=tests,
        listed_not_run=[t for t in (entry.tests if entry else ()) if t not in run],
        errata=[s for s in errata if entry_id in ids_in(s.heading)],
        demonstrations=[s for s in demos if entry_id in ids_in(s.heading)],
    )


def _tests_by_id(record: dict) -> dict[str, list[TestResult]]:
    by_name: dict[str, TestResult] = {}
    ids_of: dict[str, set[str]] = {}
    for test in record["tests"]:
        name = test["nodeid"].split("[")[0]
        result = by_name.setdefault(name, TestResult(name))
        ids_of.setdefault(name, set()).update(test["ids"])
        result.outcomes[test["outcome"]] += 1
        for row in test["comparisons"]:
            result.by_dtype.setdefault(row["dtype"], Measured()).add(row)
            if row["site"] not in result.sites:
                result.sites.append(row["site"])
    out: dict[str, list[TestResult]] = {}
    for name, result in by_name.items():
        for entry_id in ids_of[name]:
            out.setdefault(entry_id, []).append(result)
    return out


def _sections(path: Path) -> list[DocSection]:
    """The sections of a markdown file, split at every heading (a heading and its text)."""
    if not path.is_file():
        return []
    out: list[DocSection] = []
    heading, body = None, []
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,6} ", line):
            if heading is not None:
                out.append(DocSection(heading, "\n".join(body).strip()))
            heading, body = line.lstrip("#").strip(), []
        elif heading is not None:
            body.append(line)
    if heading is not None:
        out.append(DocSection(heading, "\n".join(body).strip()))
    return out


def _balanced(text: str) -> str:
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return text[1:i]
    return ""


def _short_path(path: Path, root: Path) -> str:
    path = path.resolve()
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        parts = path.parts
        for marker in ("site-packages", "dist-packages"):
            if marker in parts:
                return "/".join(parts[parts.index(marker) + 1:])
        return path.name


def _nanmax(a: float, b: float) -> float:
    return b if not b <= a else a


def _as_row(m: Measured) -> dict:
    return {"count": m.count, "failed": m.failed, "n": m.n, "max_abs": m.max_abs,
            "max_rel": m.max_rel, "usage": m.usage, "rtol": m.rtol, "atol": m.atol}
