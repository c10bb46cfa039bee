"""Every `python -m torchref.*` command answers a usage error with one line and exit status 2.

The commands are called in-process (their `main`) so the test sees exactly what a user sees
on stderr; argparse's own behaviour (a usage block, then the message) would fail the
one-line check.
"""

from __future__ import annotations

import pytest

from torchref import catalog, classic
from torchref.report import cli as report_cli
from torchref.trace import cli as trace_cli
from torchref.verify import cli as verify_cli

COMMANDS = {
    "catalog": (catalog.main, ["--bogus"], "unrecognized arguments: --bogus"),
    "classic": (classic.main, ["perceptron-xor", "--max-epochs", "x"],
                "argument --max-epochs: invalid int value: 'x'"),
    "classic-no-command": (classic.main, [], "required: command"),
    "report": (report_cli.main, ["--bogus"], "unrecognized arguments: --bogus"),
    "verify": (verify_cli.main, ["x", "--bogus"], "unrecognized arguments: --bogus"),
    "trace": (trace_cli.main, ["mlp", "--bogus"], "--bogus"),
}


def _status(main, argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse-style exits: the status is the code
        return exc.code


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_usage_error_is_one_line_naming_the_argument_and_exit_status_2(name, capsys):
    main, argv, words = COMMANDS[name]
    status = _status(main, argv)
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "error:" in lines[0] and words in lines[0]
