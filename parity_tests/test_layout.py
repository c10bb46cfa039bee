"""The rooms of docs/design.md: scratch/ is NumPy only; lightning_app/ imports of scratch only
scratch.validation (the one place where valid types and ranges are declared)."""

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


def _scratch_imports(path: Path) -> set[str]:
    """The scratch modules a file imports (`from scratch import x` counts as scratch.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "scratch")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "scratch":
                found.update(f"scratch.{a.name}" for a in node.names)
            elif node.module.split(".")[0] == "scratch":
                found.add(node.module)
    return found


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_lightning_app_imports_of_scratch_only_scratch_validation(path):
    assert _scratch_imports(path) <= {"scratch.validation"}


def test_the_app_checks_its_hyper_parameters_with_scratch_validation():
    # The one place where valid ranges live: the app's models and data use it.
    users = {p.name for p in APP_FILES if _scratch_imports(p) == {"scratch.validation"}}
    assert {"models.py", "data.py"} <= users


TORCHREF_FILES = sorted((ROOT / "torchref").rglob("*.py"))


@pytest.mark.parametrize("path", TORCHREF_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_torchref_never_imports_lightning_or_the_app(path):
    # The arrow points lightning_app -> torchref -> scratch: torchref.twin drives scratch for
    # the app's --twin, and the app's callback feeds it, never the other way round.
    forbidden = _imported_roots(path) & {"lightning", "pytorch_lightning", "lightning_app"}
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"
