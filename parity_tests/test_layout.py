"""The rooms of docs/design.md: scratch/ is NumPy only, lightning_app/ never imports scratch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


SCRATCH_FILES = sorted((ROOT / "scratch").glob("*.py"))
APP_FILES = sorted((ROOT / "lightning_app").rglob("*.py"))


@pytest.mark.parametrize("path", SCRATCH_FILES, ids=lambda p: p.name)
def test_scratch_module_source_never_imports_torch_or_lightning(path):
    forbidden = _imported_roots(path) & {"torch", "lightning", "pytorch_lightning", "torchref"}
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


def test_importing_all_of_scratch_loads_no_torch():
    # The AST check above misses importlib tricks and transitive imports; this does not.
    names = [f"scratch.{p.stem}" for p in SCRATCH_FILES if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert out == "", f"importing scratch loaded: {out}"


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_lightning_app_never_imports_scratch(path):
    assert "scratch" not in _imported_roots(path)
