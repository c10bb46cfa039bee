"""`python -m torchref.verify` end to end: the table, --json, claims, vectors, and bad input.

Most tests call `main(argv)` in-process (fast); two run the real command in a subprocess.
Expected numbers come from torch autograd or hand algebra written in the test, or from
central finite differences of the tool's own function values.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from parity_tests.helpers import assert_close
from torchref.verify import FUNCTIONS, VerifyError, main, parse, verify

ROOT = Path(__file__).resolve().parents[1]
D8 = "ln(x1) + x1*x2 - sin(x2)"


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _d8_torch(x1=2.0, x2=5.0):
    a, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x1, x2))
    y = torch.log(a) + a * b - torch.sin(b)
    ga, gb = torch.autograd.grad(y, (a, b))
    return float(y.detach()), float(ga), float(gb)


@pytest.mark.catalog("D8")
def test_d8_table_shows_every_node_from_both_engines_and_the_gradient(capsys):
    rc, out, err = _run(capsys, D8, "--at", "x1=2", "x2=5")
    value, g1, g2 = _d8_torch()
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"f = {D8}") and "x1=2, x2=5" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("node"))
    assert "value (scratch)" in lines[header] and "adjoint (torch)" in lines[header]
    table = lines[header + 1: header + 8]  # 7 nodes, as 002 draws the graph
    assert [row.split()[0] for row in table] == ["x1", "x2", "v2", "v3", "v4", "v5", "v6"]
    assert "DIFFER" not in out
    assert f"df/dx1 = {g1:.10g}" in out and f"df/dx2 = {g2:.10g}" in out
    assert f"f = {value:.10g}" in out


def test_json_has_exactly_the_documented_shape_and_torch_numbers(capsys):
    rc, out, _ = _run(capsys, D8, "--at", "x1=2", "x2=5", "--claim", "x1=1/x1 + x2", "--json")
    report = json.loads(out)
    value, g1, g2 = _d8_torch()
    assert rc == 0
    assert {"value", "grad", "nodes", "claims", "shapes"} <= set(report)
    assert report["shapes"] == {"x1": [], "x2": []}
    assert report["value"] == pytest.approx(value, rel=1e-12)
    assert report["grad"] == pytest.approx({"x1": g1, "x2": g2}, rel=1e-12)
    assert {"var", "claimed", "autograd", "ok", "diagnosis"} <= set(report["claims"][0])
    assert report["claims"][0]["diagnosis"] is None
    assert report["claims"][0]["ok"] is True
    assert report["claims"][0]["claimed"] == pytest.approx(1 / 2 + 5, rel=1e-15)
    assert len(report["nodes"]) == 7
    for node in report["nodes"]:
        assert node["value_scratch"] == pytest.approx(node["value_torch"], rel=1e-12)
        assert node["adjoint_scratch"] == pytest.approx(node["adjoint_torch"], rel=1e-12)


def test_wrong_claim_exits_1_and_shows_both_values(capsys):
    # A classic slip: d/dx2 of -sin(x2) taken as +cos(x2).
    rc, out, _ = _run(capsys, D8, "--at", "x1=2", "x2=5", "--claim", "x1=1/x1 + x2",
                      "--claim", "x2=x1 + cos(x2)")
    assert rc == 1
    claimed, auto = 2 + math.cos(5), _d8_torch()[2]
    line = next(x for x in out.splitlines() if x.strip().startswith("df/dx2: claimed"))
    assert f"{claimed:.10g}" in line and f"{auto:.10g}" in line and line.endswith("MISMATCH")
    ok_line = next(x for x in out.splitlines() if x.strip().startswith("df/dx1: claimed"))
    assert ok_line.endswith(": ok")


def test_json_reports_a_failed_claim_with_both_values(capsys):
    rc, out, _ = _run(capsys, D8, "--at", "x1=2", "x2=5", "--claim", "x2=x1 + cos(x2)", "--json")
    (claim,) = json.loads(out)["claims"]
    assert rc == 1 and claim["ok"] is False and claim["var"] == "x2"
    assert claim["claimed"] == pytest.approx(2 + math.cos(5), rel=1e-15)
    assert claim["autograd"] == pytest.approx(2 - math.cos(5), rel=1e-15)


def test_vector_inputs_with_dot_and_sum_match_the_closed_form(capsys):
    w, x = np.array([1.0, 2.0, -3.0]), np.array([0.5, -1.0, 2.0])
    s = 1 / (1 + math.exp(-float(w @ x)))
    claim = "w=sigmoid(dot(w, x))*(1 - sigmoid(dot(w, x)))*x + 2*w"
    rc, out, _ = _run(capsys, "sigmoid(dot(w, x)) + sum(w**2)", "--at", "w=1,2,-3",
                      "x=0.5,-1,2", "--claim", claim, "--json")
    report = json.loads(out)
    assert rc == 0 and report["claims"][0]["ok"] is True
    assert_close(np.array(report["grad"]["w"]), s * (1 - s) * x + 2 * w)
    assert_close(np.array(report["grad"]["x"]), s * (1 - s) * w)
    assert report["value"] == pytest.approx(s + 14.0, rel=1e-12)


def test_vector_claim_of_the_wrong_shape_is_bad_input():
    with pytest.raises(VerifyError, match=r"--claim w: the claimed derivative has shape \(2,\)"):
        verify("mean(w*w)", {"w": [1.0, 2.0, 3.0], "v": [1.0, 2.0]}, [("w", "v")])


def test_library_call_rejects_non_numeric_values():
    with pytest.raises(VerifyError, match=r"values must be numbers, vectors or matrices of"):
        verify("x + 1", {"x": "abc"})


# Every element-wise function of one argument (the groups of the help text).
_UNARY_FNS = sorted(n for n, f in FUNCTIONS.items()
                    if len(f.args) == 1 and f.group.startswith(("element-wise", "activations")))


@pytest.mark.parametrize("fn", _UNARY_FNS)
def test_every_function_agrees_across_engines_and_with_finite_differences(fn):
    expr = f"{fn}(x) * x + x"
    at, h = 0.7, 1e-6
    report = verify(expr, {"x": at})
    assert report.engines_agree
    up, down = (float(verify(expr, {"x": at + d}).value) for d in (h, -h))
    # Central differences: error ~h^2 f''' plus rounding ~eps/h, so ~1e-9 relative.
    assert float(report.grad["x"]) == pytest.approx((up - down) / (2 * h), rel=1e-7)


@pytest.mark.parametrize("expr", ["dot(w, w) * x", "sum(w) * x**2", "mean(w*x) + x", "w @ w * x"])
def test_vector_functions_agree_with_finite_differences(expr):
    w, at, h = [0.5, -1.0, 2.0], 0.7, 1e-6
    report = verify(expr, {"w": w, "x": at})
    up, down = (float(verify(expr, {"w": w, "x": at + d}).value) for d in (h, -h))
    assert report.engines_agree
    assert float(report.grad["x"]) == pytest.approx((up - down) / (2 * h), rel=1e-7)


@pytest.mark.catalog("D9")
def test_d9_claims_from_the_slide_hold(capsys):
    # 003: f = (x + y) z, df/dx = df/dy = z, df/dz = x + y, at x=-2, y=5, z=-4.
    rc, out, _ = _run(capsys, "(x + y) * z", "--at", "x=-2", "y=5", "z=-4",
                      "--claim", "x=z", "--claim", "y=z", "--claim", "z=x + y", "--json")
    report = json.loads(out)
    assert rc == 0 and report["value"] == -12.0
    assert report["grad"] == {"x": -4.0, "y": -4.0, "z": 3.0}


@pytest.mark.catalog("D10")
def test_d10_classic_reading_through_the_gates_with_a_hand_derived_claim(capsys):
    s = "sigmoid(w0*x0 + w1*x1 + w2)"
    rc, out, _ = _run(capsys, "1/(1 + exp(-(w0*x0 + w1*x1 + w2)))", "--at", "w0=2", "x0=-1",
                      "w1=-3", "x1=-2", "w2=-3", "--claim", f"w0=x0*{s}*(1 - {s})",
                      "--claim", f"x1=w1*{s}*(1 - {s})", "--json")
    report = json.loads(out)
    assert rc == 0 and all(c["ok"] for c in report["claims"])
    assert round(report["value"], 2) == 0.73
    assert [n["op"] for n in report["nodes"][-4:]] == ["neg", "exp", "add", "div"]


def test_constants_pi_and_e(capsys):
    report = verify("sin(pi*x) + e*x", {"x": 0.25})
    assert float(report.grad["x"]) == pytest.approx(math.pi * math.cos(math.pi / 4) + math.e)


def test_parse_builds_the_tree_without_evaluating_anything():
    tree = parse(D8)
    assert tree.op == "sub" and [a.op for a in tree.args] == ["add", "sin"]
    assert [a.op for a in tree.args[0].args] == ["log", "mul"]
    with pytest.raises(VerifyError, match=r"unexpected character \"'\" at column 12"):
        parse("__import__('os').system('echo pwned')")
    with pytest.raises(VerifyError, match=r"unknown function '__import__'"):
        parse("__import__(os)")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ln(x", "--at", "x=1"], r"syntax error in 'ln\(x': '\(' was never closed"),
        (["x*y", "--at", "x=1"], r"no value for 'y' in 'x\*y'; give it with --at y="),
        (["foo(x)", "--at", "x=1"], r"unknown function 'foo'; valid choices: 'abs', 'arccos'"),
        (["ln(x) + 1", "--at", "x=-1"], r"log: input must be > 0, got -1\.0 \(in 'ln\(x\)'\)"),
        (["sqrt(x)", "--at", "x=0"], r"sqrt: input must be > 0"),
        (["1/(x - 1)", "--at", "x=1"], r"div: input must be a nonzero divisor"),
        (["exp(x)", "--at", "x=1000"], r"exp: input must be <= 709\.78"),
        (["sin + x", "--at", "x=1"], r"'sin' is a function: call it, as sin\(\.\.\.\)"),
        (["x^2", "--at", "x=1"], r"unsupported operator in 'x\^2': '\^' at column 2; use \*\*"),
        (["x.real", "--at", "x=1"], r"only the attribute \.T \(transpose\) is supported, got \."),
        (["w[x]", "--at", "w=1,2", "x=0"], r"indices must be integers or slices"),
        (["(lambda: 1)()", "--at", "x=1"], r"'lambda' is a Python keyword"),
        (["x if x else 1", "--at", "x=1"], r"missing operator before 'if' at column 3"),
        (["sin(x, x)", "--at", "x=1"], r"sin takes 1 argument\(s\) \(x\), got 'sin\(x, x\)'"),
        (["dot(w)", "--at", "w=1,2"], r"dot takes 2 argument\(s\)"),
        (["'a' + x", "--at", "x=1"], r"unexpected character \"'\" at column 1"),
        (["True * x", "--at", "x=1"], r"'True' is a Python keyword"),
        (["2 + 3"], r"'2 \+ 3' has no variables: nothing to differentiate"),
        (["w * 2", "--at", "w=1,2"], r"must be a scalar to differentiate it, got shape \(2,\)"),
        (["dot(w, v)", "--at", "w=1,2", "v=1,2,3"], r"dot: needs two vectors of one length"),
        (["x", "--at", "x=abc"], r"--at x: value must be a number, comma-separated numbers or a"),
        (["x", "--at", "x=nan"], r"--at x: value must be a number"),
        (["x", "--at", "x=1e999"], r"--at x: values must be finite"),
        (["x", "--at", "x"], r"--at needs NAME=VALUE \(e\.g\. x1=2, w=1,2,3 or W=\[\[1,2\],"),
        (["x", "--at", "sin=1"], r"--at sin: 'sin' is a built-in name, not a variable"),
        (["x", "--at", "x=1", "--claim", "y=1"], r"--claim y: 'y' does not appear in 'x'"),
        (["x", "--at", "x=1", "--claim", "x"], r"--claim needs VAR=EXPR"),
        (["x", "--at", "x=1", "--claim", "x=ln(x-2)"], r"--claim x: log: input must be > 0"),
        (["x", "--at", "x=1", "--claim", "x=q"], r"no value for 'q' in the claim for x"),
        (["x", "--at", "x=1", "--rtol", "-1"], r"rtol must be a finite number >= 0, got -1\.0"),
        (["--at", "x=1"], r"the following arguments are required: expression"),
        (["x", "--at", "x=1", "--bogus"], r"unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_prints_one_line_on_stderr_and_exits_2(capsys, argv, message):
    rc, out, err = _run(capsys, *argv)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("torchref.verify: error: ")
    assert re.search(message, err), err


def test_main_reads_sys_argv_when_called_without_arguments(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["torchref-verify", "x**3", "--at", "x=2", "--claim",
                                      "x=3*x**2"])
    assert main() == 0
    assert "df/dx: claimed 3*x**2 = 12, autograd 12: ok" in capsys.readouterr().out


def test_help_exits_0(capsys):
    rc, out, _ = _run(capsys, "--help")
    assert rc == 0 and "--claim VAR=EXPR" in out


@pytest.mark.slow
def test_command_catches_a_wrong_derivative_end_to_end():
    proc = subprocess.run(
        [sys.executable, "-m", "torchref.verify", D8, "--at", "x1=2", "x2=5",
         "--claim", "x2=x1 + cos(x2)"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 1 and proc.stderr == ""
    assert "MISMATCH" in proc.stdout and "df/dx1 = 5.5" in proc.stdout


@pytest.mark.slow
def test_command_rejects_a_domain_error_with_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "torchref.verify", "ln(x)", "--at", "x=-1"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "torchref.verify: error: log: input must be > 0, got -1.0 (in 'ln(x)')\n"
