"""The catalog cannot lie: every name it mentions imports, every test it names exists."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from torchref.catalog import CATALOG, Entry, by_id, main

ROOT = Path(__file__).resolve().parents[1]
ID_PATTERN = re.compile(r"^[A-I]\d{1,2}$")
# The inventory of ../shared/spec/formulas.md, copied so the project stands alone.
EXPECTED_IDS = (
    [f"A{i}" for i in range(1, 14)] + [f"B{i}" for i in range(1, 12)]
    + [f"C{i}" for i in range(1, 12)] + [f"D{i}" for i in range(1, 14)]
    + [f"E{i}" for i in range(1, 11)] + [f"F{i}" for i in range(1, 21)]
    + [f"G{i}" for i in range(1, 6)] + [f"H{i}" for i in range(1, 6)]
    + [f"I{i}" for i in range(1, 6)]
)


def resolve(ref: str):
    module_name, _, qualname = ref.partition(":")
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@cache
def _tests_in(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{n.name}" for n in node.body if isinstance(n, ast.FunctionDef)
            )
    return frozenset(names)


def test_catalog_lists_every_inventory_id_once_in_order():
    assert [e.id for e in CATALOG] == EXPECTED_IDS


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.id)
def test_every_named_callable_imports(entry: Entry):
    for ref in entry.scratch + entry.torch:
        assert ":" in ref, f"{entry.id}: {ref!r} must read 'module:qualname'"
        assert callable(resolve(ref)), f"{entry.id}: {ref} is not callable"
    for ref in entry.scratch:
        assert ref.startswith("scratch."), f"{entry.id}: scratch side {ref} is not in scratch/"
    for ref in entry.torch:
        assert ref.partition(":")[0].split(".")[0] in {"torch", "torchref", "lightning_app"}, (
            f"{entry.id}: torch side {ref} is neither torch, torchref nor lightning_app"
        )


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.id)
def test_every_named_test_exists(entry: Entry):
    for ref in entry.tests:
        path, _, name = ref.partition("::")
        assert path.startswith("parity_tests/test_") and (ROOT / path).is_file(), (
            f"{entry.id}: no test file {path}"
        )
        assert name in _tests_in(path), f"{entry.id}: {path} has no test {name}"


def test_status_follows_from_the_named_parts():
    assert Entry("X", "t", "s").status == "missing"
    assert Entry("X", "t", "s", scratch=("a:b",)).status == "partial"
    assert Entry("X", "t", "s", ("a:b",), ("c:d",), ("e::f",)).status == "covered"


def test_json_output_has_the_documented_fields_for_every_id(capsys):
    assert main(["--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == EXPECTED_IDS
    for r in rows:
        assert {"id", "title", "scratch", "torch", "tests", "status"} <= r.keys()
        assert r["status"] in {"covered", "partial", "missing"}
        assert ID_PATTERN.match(r["id"])


def test_table_counts_add_up(capsys):
    assert main([]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    numbers = [int(n) for n in re.findall(r"\d+", last)]
    assert numbers[0] == len(EXPECTED_IDS) == sum(numbers[1:])


def test_unknown_id_is_a_clear_error(capsys):
    assert main(["Z99"]) == 2
    err = capsys.readouterr().err
    assert "unknown catalog id 'Z99'" in err and "A1" in err
    with pytest.raises(KeyError, match="valid ids"):
        by_id("nope")


def test_module_runs_as_a_command():
    out = subprocess.run(
        [sys.executable, "-m", "torchref.catalog", "--json", "A3"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    assert json.loads(out)[0]["id"] == "A3"
