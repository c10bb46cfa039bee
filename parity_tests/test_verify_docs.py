"""docs/verify.md is the tool's own output: every session re-run, every function and kink listed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from torchref.verify import FUNCTIONS, main
from torchref.verify.cli import kink_conventions

DOC = (Path(__file__).resolve().parents[1] / "docs" / "verify.md").read_text()
SESSION = re.compile(
    r"<!-- verify-session -->\n```console\n\$ python -m torchref\.verify (.*?)\n(.*?)"
    r"\[exit status (\d)\]\n```", re.DOTALL)
SESSIONS = SESSION.findall(DOC)


def test_the_page_holds_the_three_worked_sessions():
    assert len(SESSIONS) == 4  # D8, D10, the MLP's slip and its correction
    assert "D8 (002" in DOC and "D10 (003)" in DOC and "factor-2 slip" in DOC


@pytest.mark.catalog("D8", "D10", "D3", "D6")
@pytest.mark.parametrize("command, output, status", SESSIONS, ids=["D8", "D10", "MLP slip",
                                                                   "MLP fixed"])
def test_each_session_prints_what_the_page_shows(capsys, command, output, status):
    rc = main(shlex.split(command))
    out, err = capsys.readouterr()
    assert (rc, err) == (int(status), "")
    assert out == output


def test_the_page_lists_every_function_and_every_kink():
    for name in FUNCTIONS:
        assert f"`{name}" in DOC, name
    kinks = DOC.split("### Derivatives at kinks", 1)[1].split("## Named", 1)[0]
    for name in kink_conventions():
        word = "comparisons" if name in ("<", "<=", ">", ">=") else (
            "x**0" if name == "**" else name)
        assert word in kinks, name


def test_the_readmes_example_prints_the_lines_it_shows(capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Check a derivative you worked out by hand", 1)[1]
    command, shown = re.search(r"```bash\n\.venv/bin/python -m torchref\.verify (.*?)\n```\n"
                               r"```\n\.\.\..*?\n(.*?)```", section, re.DOTALL).groups()
    rc = main(shlex.split(command.replace("\\\n", " ")))
    out = capsys.readouterr().out
    assert rc == 1
    assert shown.splitlines() and all(line in out.splitlines() for line in shown.splitlines())
