"""verify's language: the first edition's bugs, matrices, the notes' vector functions, kinks,
size limits and bad input. Expected values come from torch autograd written in the test.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from parity_tests.helpers import assert_close
from torchref.verify import FUNCTIONS, VerifyError, check, main
from torchref.verify.cli import kink_conventions


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _torch(fn, **values):
    """Value and gradient of fn(**tensors) by torch autograd (float64)."""
    leaves = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True)
              for k, v in values.items()}
    out = fn(**leaves)
    grads = torch.autograd.grad(out, list(leaves.values()), allow_unused=True)
    return out.detach().numpy(), {k: np.zeros(np.shape(values[k])) if g is None else g.numpy()
                                  for k, g in zip(leaves, grads, strict=True)}


def _agrees(report, fn, values):
    value, grad = _torch(fn, **values)
    assert report.engines_agree
    assert_close(report.value, value)
    for name, g in grad.items():
        assert_close(report.grad[name], g)


# ---- the first edition's bugs ----------------------------------------------------------------

CONSTANT_SUBEXPRESSIONS = {
    "x*-3": lambda x: x * -3,
    "-2*x": lambda x: -2 * x,
    "2*pi*x": lambda x: 2 * math.pi * x,
    "(1/2)*x**2": lambda x: 0.5 * x**2,
    "exp(-1)*x": lambda x: math.exp(-1) * x,
    "relu(-1)+x": lambda x: 0.0 + x,
    "sum(-1*w)": None,
    "x**(1/2)": lambda x: torch.sqrt(x),
    "exp(-x**2/2)/sqrt(2*pi)": lambda x: torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi),
}


@pytest.mark.catalog("D8")
@pytest.mark.parametrize("expr", CONSTANT_SUBEXPRESSIONS)
def test_constant_subexpressions_carry_no_adjoint_and_the_gradient_matches_torch(expr):
    if expr == "sum(-1*w)":
        report = check(expr, {"w": [1.0, 2.0]})
        _agrees(report, lambda w: torch.sum(-1 * w), {"w": [1.0, 2.0]})
    else:
        report = check(expr, {"x": 0.7})
        _agrees(report, CONSTANT_SUBEXPRESSIONS[expr], {"x": 0.7})
    constants = [n for n in report.nodes if "x" not in n.expr and "w" not in n.expr]
    assert constants and all(n.adjoint_scratch is None and n.adjoint_torch is None
                             for n in constants)


@pytest.mark.parametrize(
    "expr, at, grad",
    [("x**-1", -2.0, -0.25), ("x**(-1)", -2.0, -0.25), ("x**(4/2)", -2.0, -4.0),
     ("x**0", 0.0, 0.0), ("x**3", 0.0, 0.0), ("x**(3/2)", 0.0, 0.0)],
)
def test_a_constant_exponent_written_as_an_expression_is_a_constant(expr, at, grad):
    report = check(expr, {"x": at})
    assert report.engines_agree
    assert float(report.grad["x"]) == grad  # by hand: n x**(n-1); torch's 0 for x**0 at 0


def test_an_expression_starting_with_minus_is_the_expression_not_an_option(capsys):
    rc, out, err = _run(capsys, "-x1**2", "--at", "x1=3", "--claim", "x1=-2*x1")
    assert rc == 0 and err == ""
    assert "f = -x1**2   at x1=3" in out and "df/dx1 = -6" in out


@pytest.mark.parametrize("terms", [900, 5000])
def test_long_sums_check_without_a_recursion_limit(terms):
    expr = " + ".join(f"sin({k}*x)" for k in range(1, terms + 1))
    report = check(expr, {"x": 0.3})
    k = np.arange(1, terms + 1)
    assert float(report.value) == pytest.approx(np.sum(np.sin(0.3 * k)), rel=1e-12)
    assert float(report.grad["x"]) == pytest.approx(np.sum(k * np.cos(0.3 * k)), rel=1e-10)
    assert report.engines_agree and len(report.nodes) == 4 * terms


def test_ten_thousand_nodes_deep_and_wide_check():
    deep = "sin(" * 3000 + "x" + ")" * 3000
    wide = "+".join(["x*y"] * 5000)
    assert len(check(deep, {"x": 0.5}).nodes) == 3001
    report = check(wide, {"x": 0.5, "y": 2.0})
    assert len(report.nodes) == 10001 and float(report.grad["x"]) == 5000 * 2.0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["x*" + "1" * 400, "--at", "x=1"], r"number too large: '1+\.\.\.' in 'x\*1+"),
        (["x*1e-400", "--at", "x=1"], r"number too small: '1e-400' in 'x\*1e-400' rounds to 0"),
        (["x", "--at", "x=" + "1" * 400], r"--at x: a number is too large for a float"),
        (["x", "--at", "x=1", "--atol", "inf"], r"atol must be a finite number >= 0, got inf"),
        (["x", "--at", "x=1", "--rtol", "nan"], r"rtol must be a finite number >= 0, got nan"),
        (["x", "--at", "x=1", "--rtol", "1"], r"rtol must be below 1"),
        (["x1", "--at", "x1=1", "x1=5"], r"--at x1: given twice"),
        (["x", "--at", "x=1", "--claim", "x=1", "--claim", "x=2"], r"--claim x: given twice"),
    ],
)
def test_size_and_tolerance_abuse_is_one_line_and_exit_2(capsys, argv, message):
    rc, out, err = _run(capsys, *argv)
    assert rc == 2 and out == "" and err.count("\n") == 1
    assert re.search(message, err), err


# ---- matrices ---------------------------------------------------------------------------------

W = [[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]]
X = [0.3, -1.2, 2.0]
Y = [0.5, 1.5]

MATRIX = {
    "sum((W@x - y)**2)": lambda W, x, y: torch.sum((W @ x - y) ** 2),
    "y@W@x": lambda W, x, y: y @ W @ x,
    "sum(W.T@y * x)": lambda W, x, y: torch.sum(W.T @ y * x),
    "sum(transpose(W)@y)": lambda W, x, y: torch.sum(W.T @ y),
    "sum(outer(y, x) * W)": lambda W, x, y: torch.sum(torch.outer(y, x) * W),
    "x@x * y@y": lambda W, x, y: (x @ x) * (y @ y),
    "sum(2@W)": lambda W, x, y: torch.sum(2 * W),
    "x[0] * W[1, 2] + W[1, -1]": lambda W, x, y: x[0] * W[1, 2] + W[1, -1],
    "sum(W[:, 0]) + sum(W[1:2, 1:3])": lambda W, x, y: W[:, 0].sum() + W[1:2, 1:3].sum(),
    "sum(sum(W, axis=0) * x)": lambda W, x, y: torch.sum(W.sum(0) * x),
    "sum(mean(W, axis=1) * y)": lambda W, x, y: torch.sum(W.mean(1) * y),
    "norm(W) + norm(x)": lambda W, x, y: torch.linalg.norm(W) + torch.linalg.norm(x),
    "sum(diag(y) @ W)": lambda W, x, y: torch.sum(torch.diag(y) @ W),
    "sum(diag(W@W.T))": lambda W, x, y: torch.sum(torch.diag(W @ W.T)),
}


@pytest.mark.catalog("D3", "D4")
@pytest.mark.parametrize("expr", MATRIX)
def test_matrix_expressions_match_torch_autograd(expr):
    values = {"W": W, "x": X, "y": Y}
    report = check(expr, values)
    used = {k: v for k, v in values.items() if k in report.grad}
    _agrees(report, lambda **t: MATRIX[expr](**{**{"W": None, "x": None, "y": None}, **t}), used)


def test_matrix_values_come_as_nested_lists_on_the_command_line(capsys):
    rc, out, _ = _run(capsys, "sum(W@x)", "--at", "W=[[1,2],[3,4]]", "x=1,-1", "--json")
    import json

    report = json.loads(out)
    assert rc == 0 and report["shapes"] == {"W": [2, 2], "x": [2]}
    assert report["grad"] == {"W": [[1.0, -1.0], [1.0, -1.0]], "x": [4.0, 6.0]}


# ---- the notes' vector functions and the element-wise ones --------------------------------------

Z = [1.0, -0.5, 2.0]
T = [0.0, 1.0, 0.0]
P = [0.2, 0.7, 0.1]

VECTOR = {
    "sum(softmax(z) * t)": lambda z, t: torch.sum(torch.softmax(z, 0) * t),
    "sum(log_softmax(z) * t)": lambda z, t: torch.sum(torch.log_softmax(z, 0) * t),
    "logsumexp(z)": lambda z: torch.logsumexp(z, 0),
    "cross_entropy(z, t)": lambda z, t: F.cross_entropy(z, t),
    "cross_entropy(z, p)": lambda z, p: F.cross_entropy(z, p),
    "bce(sigmoid(z), p)": lambda z, p: F.binary_cross_entropy(torch.sigmoid(z), p),
    "mse(z, p)": lambda z, p: F.mse_loss(z, p),
    "max(z) - min(z)": lambda z: torch.amax(z) - torch.amin(z),
    "sum(maximum(z, p) + minimum(z, p))": lambda z, p: torch.sum(torch.maximum(z, p)
                                                                 + torch.minimum(z, p)),
    "sum(softplus(z) + gelu(z) + erf(z))": lambda z: torch.sum(
        F.softplus(z) + F.gelu(z) + torch.erf(z)),
    "sum(sign(z) + step(z)) * sum(z)": lambda z: torch.sum(torch.sign(z) + (z > 0)) * z.sum(),
    "sum(prelu(z, p[0]))": lambda z, p: torch.sum(F.prelu(z, p[0].reshape(1))),
    "sum(sinh(z) + cosh(z) + arctan(z))": lambda z: torch.sum(torch.sinh(z) + torch.cosh(z)
                                                              + torch.atan(z)),
    "sum(arcsin(p) + arccos(p) + log2(p) + log10(p))": lambda p: torch.sum(
        torch.asin(p) + torch.acos(p) + torch.log2(p) + torch.log10(p)),
    "sum(where(z > p, z**2, -z) + where(z <= 0, z, 0*z))": lambda z, p: torch.sum(
        torch.where(z > p, z**2, -z) + torch.where(z <= 0, z, 0 * z)),
    "sum(clip(z, -0.2, p[1]))": lambda z, p: torch.sum(
        torch.clamp(z, torch.tensor(-0.2, dtype=z.dtype), p[1])),
    "sum((z >= 0) * z + (z < 1) * z)": lambda z: torch.sum((z >= 0) * z + (z < 1) * z),
}


@pytest.mark.catalog("A10", "C2", "C6")
@pytest.mark.parametrize("expr", VECTOR)
def test_vector_and_elementwise_functions_match_torch_autograd(expr):
    values = {"z": Z, "t": T, "p": P}
    report = check(expr, values)
    fn = VECTOR[expr]
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    _agrees(report, fn, {k: values[k] for k in names})


def test_cross_entropy_of_rows_averages_over_the_examples():
    z = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]
    t = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    report = check("cross_entropy(Z, T)", {"Z": z, "T": t})
    _agrees(report, lambda Z, T: F.cross_entropy(Z, T), {"Z": z, "T": t})


def test_logsumexp_is_stable_past_709(capsys):
    rc, out, _ = _run(capsys, "logsumexp(z)", "--at", "z=1000,1000.5,-2000", "--json")
    import json

    report = json.loads(out)
    assert rc == 0
    assert report["value"] == pytest.approx(1000.5 + math.log1p(math.exp(-0.5)), rel=1e-15)
    assert sum(report["grad"]["z"]) == pytest.approx(1.0, rel=1e-15)


# ---- kinks: torch's convention, stated in the help ------------------------------------------

KINK_POINTS = {
    "relu(x)": (lambda x: torch.relu(x), 0.0),
    "abs(x)": (lambda x: torch.abs(x), 0.0),
    "leaky_relu(x)": (lambda x: F.leaky_relu(x, 0.01), 0.0),
    "elu(x)": (lambda x: F.elu(x), 0.0),
    "step(x) + x": (lambda x: (x > 0) + x, 0.0),
    "sign(x) + x": (lambda x: torch.sign(x) + x, 0.0),
    "maximum(x, 1 - x)": (lambda x: torch.maximum(x, 1 - x), 0.5),
    "minimum(x, 1 - x)": (lambda x: torch.minimum(x, 1 - x), 0.5),
    "clip(x, 0, 1)": (lambda x: torch.clamp(x, 0, 1), 1.0),
    "clip(x, x**2, 2)": (lambda x: torch.clamp(x, x**2, torch.tensor(2.0, dtype=x.dtype)), 1.0),
    "norm(x*w)": (lambda x: torch.linalg.vector_norm(x * torch.tensor([1.0, 2.0],
                                                                      dtype=x.dtype)), 0.0),
    "max(x*w)": (lambda x: torch.amax(x * torch.tensor([1.0, 1.0], dtype=x.dtype)), 1.0),
    "where(x >= 0, x, -x)": (lambda x: torch.where(x >= 0, x, -x), 0.0),
    "prelu(x, 0.2)": (lambda x: F.prelu(x, torch.tensor([0.2], dtype=x.dtype)), 0.0),
}


@pytest.mark.catalog("A11")
@pytest.mark.parametrize("expr", KINK_POINTS)
def test_every_kink_takes_torch_autograds_value(expr):
    fn, at = KINK_POINTS[expr]
    values = {"x": at, "w": [1.0, 2.0] if "norm" in expr else [1.0, 1.0]}
    report = check(expr, {k: v for k, v in values.items() if k in expr})
    assert report.engines_agree
    _, grad = _torch(fn, x=at)
    assert float(report.grad["x"]) == float(grad["x"])


def test_help_lists_every_function_and_the_kink_conventions(capsys):
    rc, out, _ = _run(capsys, "--help")
    assert rc == 0
    text = " ".join(out.split())
    for name in FUNCTIONS:
        assert f"{name}(" in text, name
    kinks = kink_conventions()
    assert {"abs", "relu", "maximum", "max", "clip", "norm", "where", "step", "sign"} <= set(kinks)
    for sentence in kinks.values():
        assert " ".join(sentence.split()) in text


# ---- lets ------------------------------------------------------------------------------------


@pytest.mark.catalog("D6")
def test_let_names_are_one_node_each_shown_by_name():
    report = check("bce(a, t) + mean(z**2)", {"W": W, "x": X, "t": [1.0, 0.0]},
                   let={"z": "W@x", "a": "sigmoid(z)"})
    names = [n.name for n in report.nodes]
    assert names.count("z") == 1 and names.count("a") == 1
    z = next(n for n in report.nodes if n.name == "z")
    assert z.expr == "W@x" and z.op == "matmul"
    _agrees(report, lambda W, x, t: F.binary_cross_entropy(torch.sigmoid(W @ x), t)
            + torch.mean((W @ x) ** 2), {"W": W, "x": X, "t": [1.0, 0.0]})


# ---- bad input -------------------------------------------------------------------------------

BAD = [
    (["q + 1", "--at", "x=1"], r"no value for 'q' in 'q \+ 1'; give it with --at q="),
    (["softmaxx(z)", "--at", "z=1,2"], r"unknown function 'softmaxx'; valid choices"),
    (["sum(W@x)", "--at", "W=[[1,2],[3,4]]", "x=1,2,3"],
     r"matmul: inner dimensions differ, got a\(2, 2\) and b\(3,\) \(in 'W@x'\)"),
    (["sum(u + v)", "--at", "u=1,2", "v=1,2,3"],
     r"add: operand shapes do not broadcast, got a\(2,\) and b\(3,\) \(in 'u \+ v'\)"),
    (["a", "--let", "a=ln(x - 2)", "--at", "x=1"], r"log: input must be > 0, got -1\.0 \(in a = "),
    (["sum(w**2)", "--at", "w=1,2", "--claim", "w=[1]"], r"indices must be integers|expected"),
    (["sum(w**2)", "--at", "w=1,2", "v=1,2,3", "--claim", "w=v"],
     r"--claim w: the claimed derivative has shape \(3,\), but w has shape \(2,\)"),
    (["sum(W)", "--at", "W=[[1,2],[3]]"], r"--at W: values must be numbers, vectors or matrices"),
    (["x", "--at", "x=[[[1]]]"], r"--at x: values must be numbers, vectors or matrices, got shape"),
    (["x", "--at", "x=[]"], r"--at x: needs at least one number"),
    (["0 < x < 1", "--at", "x=1"], r"chained comparisons like 'a < b < c' are not supported"),
    (["x == 1", "--at", "x=1"], r"unsupported operator .*'==' at column 3; use <, <=, > or >="),
    (["sum(w, axis=2)", "--at", "w=1,2"], r"sum: axis 2 is out of range for shape \(2,\)"),
    (["sum(w, axis=0, axis=0)", "--at", "w=1,2"], r"axis given twice"),
    (["sin(x, axis=0)", "--at", "x=1"], r"sin takes no keyword arguments, got axis="),
    (["w[5]", "--at", "w=1,2"], r"index: index 5 is out of bounds for axis 0 with size 2"),
    (["x.T.real", "--at", "x=1"], r"only the attribute \.T"),
    (["x +", "--at", "x=1"], r"expected a number, a name or '\(' at the end"),
    (["2x", "--at", "x=1"], r"missing operator before 'x' at column 2"),
    (["z", "--let", "z=y*2", "--at", "y=1", "z=3"], r"--at z: 'z' is a --let name, computed"),
    (["x*z", "--let", "z=x*2", "--let", "z=x*3", "--at", "x=1"], r"--let z: given twice"),
    (["z", "--let", "z=x", "--at", "x=1"], r"--let z: 'x' is a plain name or number"),
    (["z", "--let", "sin=x*2", "--at", "x=1"], r"--let sin: 'sin' is a built-in name"),
    (["x*2", "--at", "x=1", "--claim", "z=1", "--let", "z=x*3"],
     r"--claim z: the let 'z' is not used by the expression"),
    (["x", "--at", "x=1", "--fix", "y", "--claim", "x=1"], r"--fix y: 'y' is not a variable"),
    (["x", "--at", "x=1", "--points", "-1"], r"points must be an integer in \[0, 1000\]"),
    (["x", "--at", "x=1", "--dot", "/nonexistent-dir/g.dot"], r"--dot: cannot write"),
    (["x > 0", "--at", "x=1"], r"does not depend differentiably on any variable"),
]


@pytest.mark.parametrize("argv, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys, argv, message):
    rc, out, err = _run(capsys, *argv)
    assert rc == 2 and out == "", out
    assert err.count("\n") == 1 and err.startswith("torchref.verify: error: ")
    assert re.search(message, err), err


def test_the_library_raises_the_same_words_as_the_command():
    with pytest.raises(VerifyError, match=r"matmul: inner dimensions differ, got a\(2, 2\)"):
        check("sum(W@x)", {"W": [[1, 2], [3, 4]], "x": [1, 2, 3]})
    with pytest.raises(VerifyError, match=r"atol must be a finite number >= 0, got inf"):
        check("x", {"x": 1.0}, atol=math.inf)
