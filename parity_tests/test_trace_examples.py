"""The notes' worked examples as data: each run marks the document's printed numbers, and
docs/errata.md's entries for worked examples agree with the runs.

Each shipped example is an input file plus a check file holding the numbers as the document
prints them (torchref/trace/examples/). The cells a run marks wrong are the errata's findings;
they are pinned here, and the correct values are re-derived by hand arithmetic where that is
short. The errata page is held to the runs: an entry with machine-readable `**Trace**` bullets
(torchref.trace.errata) must list exactly the cells the run marks, with the document's number
as printed and a correct value that agrees with ours; an entry still in prose must at least
quote every printed number the run marks.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from scratch.autoencoders import fit_838
from torchref.trace import cli
from torchref.trace.check import mark
from torchref.trace.errata import entries, errata_lines, read_trace_lines
from torchref.trace.inputs import decimals_of, load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "torchref" / "trace" / "examples"
R, W = "rounded wrongly", "wrong"

# What each run finds in the document: the cells not marked ok (the errata's findings).
FINDINGS = {
    "B6": {"layers[0].a[0]": R},  # y1^(2) = sigma(-0.1) = 0.47502: 0.48, not 0.47
    "D9": {},
    "D10 (printed)": {"nodes.f.value": W, "nodes.f.adjoint": W, **{
        f"grad.{v}": W for v in ("x0", "x1", "x2", "w0", "w1", "w2")}},
    "D10 (classic)": {"nodes.z.value": W, "nodes.f.value": W, "nodes.f.adjoint": W,
                      "grad.x0": W, "grad.x1": W, "grad.w1": W, "grad.w2": W},
    "E2": {**{f"rows[6].dw[{j}]": W for j in range(3)}, **{f"rows[7].dw[{j}]": W for j in
           range(3)}, "rows[8].dw[0]": W, "rows[8].dw[1]": W},
    "F3 (t4=8)": {"rows[0].contribution": W, "rows[3].t": W, "grad": W, "change": W,
                  "new_w": W},
    "F3 (t4=2)": {"rows[0].contribution": W, "rows[3].contribution": W, "grad": W,
                  "change": W, "new_w": W},
    "F4 (t4=8)": {},
    "F4 (t4=2)": {"grad[0]": W, "grad[1]": W, "change[0]": W, "change[1]": W,
                  "new_w[0]": R, "new_w[1]": W},
    "F6": {},
    "I1": {},
}


@cache
def _runs() -> dict[str, tuple]:
    out = {}
    for runs in cli.examples().values():
        for ex in runs:
            trace, cells = cli.run_example(ex)
            out[ex.label] = (ex, trace, cells)
    return out


def _cells(label: str) -> dict:
    return {c.path: c for c in _runs()[label][2]}


@pytest.mark.catalog("B6", "D9", "D10", "E2", "F3", "F4", "F6", "I1")
@pytest.mark.parametrize("label", list(FINDINGS))
def test_each_worked_example_marks_the_documents_numbers_and_torch_agrees(label):
    _, trace, cells = _runs()[label]
    assert trace.crosscheck().agree
    found = {c.path: c.mark for c in cells if c.mark not in ("ok", "shown")}
    assert found == FINDINGS[label]


def test_the_shipped_runs_are_the_ones_pinned_here():
    assert set(_runs()) == set(FINDINGS)


def test_correct_values_of_the_marked_cells_by_hand_arithmetic():
    assert _cells("B6")["layers[0].a[0]"].ours == pytest.approx(1 / (1 + math.exp(0.1)))
    x, t8 = [10, 5, 1, 8, 4], [8.5, 3.8, 2, 8, 5]
    assert _cells("F3 (t4=8)")["rows[0].contribution"].ours == (2 * 10 - 8.5) * 10
    mean = sum((2 * xp - tp) * xp for xp, tp in zip(x, t8, strict=True)) / 5
    assert _cells("F3 (t4=8)")["grad"].ours == pytest.approx(mean)
    assert _cells("F3 (t4=8)")["new_w"].ours == pytest.approx(2 - 0.01 * mean)
    s = 1 / (1 + math.exp(-1.0))  # classic reading: z = -2 + 6 - 3 = 1
    assert _cells("D10 (classic)")["nodes.f.value"].ours == pytest.approx(s)
    assert _cells("D10 (classic)")["grad.w2"].ours == pytest.approx(s * (1 - s))
    s10 = 1 / (1 + math.exp(-10.0))  # printed reading: z = 10
    assert _cells("D10 (printed)")["grad.x0"].ours == pytest.approx(2 * s10 * (1 - s10))
    y = 1 / (1 + math.exp(3.0))  # F6: the unrounded y = g(-3)
    assert _cells("F6")["new_thetas[0][0][1]"].ours == pytest.approx(-2 + (1 - y) * 2)


def test_f6_and_i1_hold_every_printed_number():
    # 003's F6 rounds 1.905 and -0.0949 to one decimal, correctly; I1's outputs are 0/1.
    assert all(c.mark == "ok" for c in _runs()["F6"][2])
    i1 = _runs()["I1"][2]
    assert sum(c.mark == "ok" for c in i1) == 64 and sum(c.mark == "shown" for c in i1) == 24


def test_i1_shipped_weights_are_fit_838_from_seed_0():
    params, _, seed = fit_838(0)
    data = load(EXAMPLES / "I1.yaml", "input file")
    shipped = [data["weights"][0], data["biases"][0], data["weights"][1], data["biases"][1]]
    assert seed == 0
    for p, q in zip(params, shipped, strict=True):
        # 1000 GD steps: roundings may differ across CPUs (BLAS), not more than this
        np.testing.assert_allclose(np.asarray(q, dtype=float), p, rtol=1e-9, atol=1e-12)


def test_i1_hidden_codes_rounded_at_half_are_8_distinct_in_the_document_and_in_ours():
    _, trace, _ = _runs()["I1"]
    ours = {tuple(int(v >= 0.5) for v in row) for row in trace.data["layers"][0]["a"]}
    shown = load(EXAMPLES / "I1.check.yaml", "check file")["shown"]["layers"][0]["a"]
    document = {tuple(int(v >= 0.5) for v in row) for row in shown}
    assert len(ours) == len(document) == 8


def test_errata_lines_read_back_as_the_cells_the_runs_mark():
    # The writer and the reader of the machine-readable form agree with each other and with
    # the runs (the same check applies to docs/errata.md once its entries carry the bullets).
    for id_, runs in cli.examples().items():
        done = [(ex, _runs()[ex.label][2]) for ex in runs]
        claims = read_trace_lines("\n".join(errata_lines(id_, done)))
        bad = {(ex.reading, c.path): c for ex, cells in done for c in cells
               if c.mark not in ("ok", "shown")}
        _assert_claims_match(id_, claims, bad)


def _assert_claims_match(id_, claims, bad) -> None:
    assert {(reading, path) for _, reading, path, _, _ in claims} == set(bad), id_
    for _, reading, path, document, correct in claims:
        cell = bad[(reading, path)]
        assert document == cell.yours, (id_, path)
        assert mark(float(correct), decimals_of(correct), cell.ours) == "ok", (id_, path)


def test_errata_entries_for_worked_examples_agree_with_the_example_runs():
    page = entries((ROOT / "docs" / "errata.md").read_text())
    for id_, runs in cli.examples().items():
        done = [(ex, _runs()[ex.label][2]) for ex in runs]
        bad = {(ex.reading, c.path): c for ex, cells in done for c in cells
               if c.mark not in ("ok", "shown")}
        entry = page.get(id_, "")
        claims = [c for c in read_trace_lines(entry) if c[0] == id_]
        if claims:  # machine-readable: exactly the marked cells, with the same numbers
            _assert_claims_match(id_, claims, bad)
        elif bad:  # prose: an entry that quotes every printed number the run marks
            assert entry, f"{id_}: the run marks {sorted(p for _, p in bad)}; no erratum"
            quoted = {abs(float(n)) for n in re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", entry)}
            missing = sorted({c.yours for c in bad.values()
                              if abs(float(c.yours)) not in quoted})
            assert not missing, f"{id_}: the erratum does not quote {missing}"


def test_example_files_are_package_data_and_the_index_names_each_one():
    pyproject = (ROOT / "pyproject.toml").read_text()  # tomllib needs Python 3.11
    data = re.search(r'^"torchref\.trace" = \[(.*)\]$', pyproject, flags=re.M)
    patterns = re.findall(r'"([^"]+)"', data[1])
    files = {p.name for p in EXAMPLES.iterdir()}
    assert all(any(Path("examples", f).match(pat) for pat in patterns) for f in files)
    named = {"index.yaml"} | {
        Path(getattr(ex, attr)).name for runs in cli.examples().values() for ex in runs
        for attr in ("input", "check")}
    assert named == files
    assert re.search(r'^torchref-trace = "torchref\.trace\.cli:main"$', pyproject, flags=re.M)


def test_example_command_in_a_subprocess_marks_b6():
    proc = subprocess.run([sys.executable, "-m", "torchref.trace", "example", "B6"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"layers\[0\]\.a\[0\]\s+0\.47\s+0\.47502\s+rounded wrongly \(0\.48\)",
                     proc.stdout)


def test_example_without_an_id_lists_them_and_an_unknown_id_is_exit_2(capsys):
    assert cli.main(["example"]) == 0
    listing = capsys.readouterr().out
    assert all(f"  {id_} " in listing for id_ in ("B6", "D9", "D10", "F3", "I1"))
    assert cli.main(["example", "Z9"]) == 2
    assert capsys.readouterr().err.startswith("torchref.trace: error: example: unknown ID 'Z9'")


def _normal(text: str) -> str:
    # The last bits of a float64 difference depend on the CPU; the rest must match exactly.
    return re.sub(r"\(largest difference [^)]*\)", "(largest difference ...)", text)


def test_the_docs_exam_session_is_what_the_tool_prints(tmp_path, capsys):
    # docs/trace.md's files and outputs, re-run: the walk-through cannot drift from the tool.
    doc = (ROOT / "docs" / "trace.md").read_text()
    blocks = re.findall(r"<!-- trace-doc: (.+?) -->\n```\w*\n(.*?)```", doc, flags=re.S)
    runs = 0
    for label, body in blocks:
        if not label.startswith("run "):
            (tmp_path / label).write_text(body)
            continue
        first, _, expected = body.partition("\n")
        assert first == f"$ python -m torchref.trace {label.removeprefix('run ')}"
        args = [str(tmp_path / a) if a.endswith(".yaml") else a for a in label.split()[1:]]
        rc = cli.main(args)
        out = capsys.readouterr().out
        if expected.startswith("..."):  # the trace is elided: compare from the check on
            expected = expected.partition("\n")[2]
            out = out[out.index("check of"):]
            assert rc == 1
        else:
            assert rc == 0
        assert _normal(out).rstrip() == _normal(expected).rstrip()
        runs += 1
    assert runs == 2
