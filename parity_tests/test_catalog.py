"""The catalog cannot lie: it is read off the code, and every ID it lists is implemented twice
and proven by a test.

`torchref.catalog` derives the scratch and torch callables from `Catalog:` docstring lines and
the tests from `@pytest.mark.catalog(...)` markers, both read with `ast`. These tests check
what reading cannot: that every named callable imports, that pytest sees the same markers
the reader saw, that no tag is unreadable or names an unknown ID, and that every ID has all
three sides.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from torchref import catalog
from torchref.catalog import CATALOG, Entry, by_id, main, parse_tag, problems

ROOT = Path(__file__).resolve().parents[1]
ID_PATTERN = re.compile(r"^[A-I]\d{1,2}$")
# The inventory of ../shared/spec/formulas.md, copied so the project stands alone, and the IDs
# the catalog added after it: B12, E11-E13, F21, F22 (the notes' claims of issue 17).
EXPECTED_IDS = (
    [f"A{i}" for i in range(1, 14)] + [f"B{i}" for i in range(1, 13)]
    + [f"C{i}" for i in range(1, 12)] + [f"D{i}" for i in range(1, 14)]
    + [f"E{i}" for i in range(1, 14)] + [f"F{i}" for i in range(1, 23)]
    + [f"G{i}" for i in range(1, 6)] + [f"H{i}" for i in range(1, 6)]
    + [f"I{i}" for i in range(1, 6)]
)


def resolve(ref: str):
    module_name, _, qualname = ref.partition(":")
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


# ---- the catalog as a whole ---------------------------------------------------------------


def test_catalog_lists_every_inventory_id_once_in_order():
    assert [e.id for e in CATALOG] == EXPECTED_IDS


def test_every_tag_reads_and_names_a_known_id():
    assert problems() == []


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.id)
def test_every_id_has_a_scratch_a_torch_and_a_test_side(entry: Entry):
    missing = [side for side in ("scratch", "torch", "tests") if not getattr(entry, side)]
    assert not missing, f"{entry.id} has no {' and no '.join(missing)} side"


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.id)
def test_every_named_callable_imports(entry: Entry):
    for ref in entry.scratch + entry.torch:
        assert callable(resolve(ref)), f"{entry.id}: {ref} is not callable"
    assert all(r.startswith("scratch.") for r in entry.scratch)
    for ref in entry.torch:
        assert ref.split(".")[0].split(":")[0] in {"torch", "torchref", "lightning_app"}, ref


def _catalog_marks(obj) -> set[str]:
    return {i for m in getattr(obj, "pytestmark", []) if m.name == "catalog" for i in m.args}


def test_pytest_sees_the_markers_the_catalog_read():
    # The catalog reads decorators with ast; a marker pytest applies some other way (an alias,
    # a mark built at run time) would be invisible to it. Compare with the runtime marks.
    read = {}
    for tag in catalog.TAGS:
        if tag.ref.startswith("parity_tests/"):
            read.setdefault(tag.ref, set()).update(tag.ids)
    seen = {}
    for path in sorted((ROOT / "parity_tests").glob("test_*.py")):
        module = importlib.import_module(f"parity_tests.{path.stem}")
        for name, obj in vars(module).items():
            if name.startswith("test") and callable(obj):
                tests = [(name, _catalog_marks(obj))]
            elif name.startswith("Test") and isinstance(obj, type):
                tests = [(f"{name}::{m}", _catalog_marks(obj) | _catalog_marks(getattr(obj, m)))
                         for m in dir(obj) if m.startswith("test")]
            else:
                tests = []
            seen.update((f"parity_tests/{path.name}::{t}", ids) for t, ids in tests if ids)
    assert seen == read


# ---- how tags are read ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, ids",
    [
        (" F14 (002 §4.3.5).", ("F14",)),
        (" C5, C6 (003)", ("C5", "C6")),
        (" I1-I3, C9. Shapes: H (N, n).", ("I1", "I2", "I3", "C9")),
        (" B1/D4. Shapes", ("B1", "D4")),
        (' D6 (004, "a (nested) remark"), D12 (003). PyTorch: F.x', ("D6", "D12")),
        (" C9 [the standard form;\n    003 only says so], I2.", ("C9", "I2")),
        (" F18 and F5 (003)", ("F18", "F5")),
        (" H2 (b). Shapes: B1 is not read after the sentence ends.", ("H2",)),
    ],
)
def test_a_tag_lists_ids_joined_by_comma_slash_or_and_with_bracketed_remarks(text, ids):
    assert parse_tag(text) == (ids, (), "")


def test_an_arrow_tag_names_torch_built_ins_for_its_ids():
    ids, targets, error = parse_tag(" A3, A12 -> torch.nn:Sigmoid, torch.nn.functional:sigmoid\n")
    assert (ids, targets, error) == (("A3", "A12"), ("torch.nn:Sigmoid",
                                                      "torch.nn.functional:sigmoid"), "")
    assert "module:name" in parse_tag(" A3 -> torch.nn.Sigmoid")[2]


@pytest.mark.parametrize(
    "text, words",
    [
        (" B4 with C1/C2/C6. PyTorch", "['C1', 'C2', 'C6'] after the ID list"),
        (" F1 applied to H1's members.", "['H1'] after the ID list"),
        (" see above", "no ID"),
    ],
)
def test_an_id_the_reader_would_skip_is_an_error_not_a_silent_omission(text, words):
    assert words in parse_tag(text)[2]


def test_where_a_tag_stands_decides_what_it_registers():
    source = '''"""Module.

Catalog: A3 -> torch.nn:Sigmoid
Catalog: A4
"""


def f():
    """Catalog: A3 (002)."""


class K:
    """Catalog: A5."""

    def m(self):
        """Catalog: A6.

        Catalog: A6 -> numpy:tanh
        """

        def inner():
            """Catalog: A7."""
'''
    tags = catalog.docstring_tags("torchref/x.py", source)
    found = [(t.ids, t.ref, t.targets, t.error[:20]) for t in tags]
    assert found == [
        (("A3",), "", ("torch.nn:Sigmoid",), ""),
        (("A4",), "", (), "a module docstring's"),
        (("A3",), "torchref.x:f", (), ""),
        (("A5",), "torchref.x:K", (), ""),
        (("A6",), "torchref.x:K.m", (), ""),
        (("A6",), "", ("numpy:tanh",), "arrow targets must b"),
    ]  # nothing from inside a function body
    assert tags[1].where == "torchref/x.py:4"
    scratch_arrow = catalog.docstring_tags("scratch/x.py", '"""Catalog: A3 -> torch:sigmoid"""')
    assert "torch room" in scratch_arrow[0].error


def test_markers_are_read_from_tests_and_test_classes():
    source = '''import pytest


@pytest.mark.catalog("A3", "A4")
@pytest.mark.parametrize("x", [1])
def test_a(x):
    pass


@pytest.mark.catalog("B1")
class TestB:
    @pytest.mark.catalog("B2")
    def test_b(self):
        pass


@pytest.mark.catalog(3)
def test_c():
    pass


@pytest.mark.catalog("A1")
def helper():
    pass
'''
    tags = catalog.marker_tags("parity_tests/test_x.py", source)
    assert [(t.ids, t.ref, bool(t.error)) for t in tags] == [
        (("A3", "A4"), "parity_tests/test_x.py::test_a", False),
        (("B1",), "parity_tests/test_x.py::TestB::test_b", False),
        (("B2",), "parity_tests/test_x.py::TestB::test_b", False),
        ((), "parity_tests/test_x.py::test_c", True),
        (("A1",), "parity_tests/test_x.py::helper", True),
    ]


# ---- the command --------------------------------------------------------------------------


def test_status_follows_from_the_named_parts():
    assert Entry("X", "t", "s").status == "missing"
    assert Entry("X", "t", "s", scratch=("a:b",)).status == "partial"
    assert Entry("X", "t", "s", ("a:b",), ("c:d",), ("e::f",)).status == "covered"


def test_json_output_has_the_documented_fields_for_every_id(capsys):
    assert main(["--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == EXPECTED_IDS
    for r in rows:
        assert set(r) == {"id", "title", "source", "scratch", "torch", "tests", "status", "note"}
        assert r["status"] in {"covered", "partial", "missing"}
        assert ID_PATTERN.match(r["id"])


def test_table_counts_add_up(capsys):
    assert main([]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    numbers = [int(n) for n in re.findall(r"\d+", last)]
    assert numbers[0] == len(EXPECTED_IDS) == sum(numbers[1:])


def test_details_name_every_reference_of_an_id(capsys):
    assert main(["A3"]) == 0
    out = capsys.readouterr().out
    entry = by_id("A3")
    assert out.startswith(f"A3 [{entry.status}] {entry.title}")
    assert all(ref in out for ref in entry.scratch + entry.torch + entry.tests)


def test_check_exits_0_when_every_tag_reads(capsys):
    assert main(["--check"]) == 0
    assert "every catalog tag reads" in capsys.readouterr().out


def test_unknown_id_is_a_clear_error(capsys):
    assert main(["Z99"]) == 2
    err = capsys.readouterr().err
    assert "unknown catalog id 'Z99'" in err and "A1" in err
    with pytest.raises(KeyError, match="valid ids"):
        by_id("nope")


def test_listing_the_catalog_as_json_imports_neither_torch_nor_the_code_it_lists():
    # -X importtime names every module the command imports, on stderr.
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "torchref.catalog", "--json"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert "json" in imported  # the trace is there
    heavy = {m for m in imported if m.split(".")[0] in {"torch", "numpy", "scratch"}}
    assert heavy == set()
    assert [row["id"] for row in json.loads(run.stdout)] == EXPECTED_IDS
