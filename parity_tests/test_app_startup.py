"""Start-up (issue 18, target 4): what the app itself adds is imported only when used, and the
command line builds the parser of the subcommand it runs only (the time is measured by
`python -m benchmarks --cases startup`, never asserted here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lightning_app.cli import CONFIG_DIR, SUBCOMMANDS, AppCLI
from parity_tests.app_support import restored_process_state

# The app's own heavy imports, each used by a few functions only: scikit-learn (the digits,
# the split, the scaler, the confusion-matrix display) and TensorBoard's readers (the
# server, the tests). matplotlib, SciPy and sympy are not listed: torchmetrics and
# Lightning import them at their own import time (docs/performance.md, case 7).
LAZY = ("sklearn", "tensorboard.backend.event_processing")


def test_importing_the_app_imports_none_of_its_own_heavy_dependencies():
    modules = ("lightning_app.cli", "lightning_app.models", "lightning_app.data",
               "lightning_app.callbacks", "lightning_app.figures", "lightning_app.board")
    code = (f"import sys\nfor m in {modules!r}: __import__(m)\n"
            f"print([m for m in sys.modules if m.startswith({LAZY!r})])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


class _Parsed(Exception):
    pass


class _StopAfterParsing(AppCLI):
    def _parse_ckpt_path(self) -> None:  # right after parsing, before any checkpoint lookup
        raise _Parsed(sorted(self._subcommand_parsers))


def _parsers_built(args: list[str]) -> list[str]:
    with restored_process_state(), pytest.raises(_Parsed) as parsed:
        _StopAfterParsing(args=args)
    return parsed.value.args[0]


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_only_the_subcommand_given_gets_a_parser(subcommand):
    assert _parsers_built([subcommand, "--config", str(CONFIG_DIR / "mlp_digits.yaml")]) == [
        subcommand]


def test_without_a_subcommand_first_every_parser_is_built_and_listed(capsys):
    with restored_process_state(), pytest.raises(SystemExit):
        AppCLI(args=["--help"])
    out = capsys.readouterr().out
    assert all(s in out for s in SUBCOMMANDS)
