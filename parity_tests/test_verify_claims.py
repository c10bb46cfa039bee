"""verify's claims: identities checked at random points, claims on --let nodes (D6's delta), the
diagnosis of the usual slips, and the four renderings (text, JSON, HTML, DOT).

Every slip below is built from a correct derivative written by hand in the test; the tool
must name the slip, and the correct claim must pass.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from scratch import graph
from torchref import graph as tgraph
from torchref.verify import check, format_report, main

W2 = [[1.0, 2.0], [3.0, -1.5]]


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _claim(report, var):
    return next(c for c in report.claims if c.var == var)


# ---- claims on --let nodes: the deltas of D6 ------------------------------------------------

NET = {"W": [[0.5, -1.0, 0.25], [1.5, 0.5, -0.5]], "x": [1.0, -2.0, 0.5], "b": [0.1, -0.2],
       "t": [1.0, 0.0]}
NET_LETS = {"z": "W@x + b", "a": "sigmoid(z)"}


@pytest.mark.catalog("D6")
def test_d6_output_delta_a_minus_t_holds_as_the_derivative_of_bce_by_the_logits():
    report = check("bce(a, t) * 2", NET, claims={"z": "a - t", "W": "outer(a - t, x)",
                                                 "b": "a - t", "x": "W.T @ (a - t)"},
                   let=NET_LETS)
    assert report.ok and all(c.points == 6 for c in report.claims)
    assert report.held == ["t"]  # the target of a loss is data: random points keep it
    z = torch.tensor(np.array(NET["W"]) @ NET["x"] + NET["b"], requires_grad=True)
    (dz,) = torch.autograd.grad(2 * torch.nn.functional.binary_cross_entropy(
        torch.sigmoid(z), torch.tensor(NET["t"], dtype=torch.float64)), z)
    np.testing.assert_allclose(_claim(report, "z").autograd, dz.numpy(), rtol=1e-12)


@pytest.mark.catalog("D6", "C6")
def test_softmax_cross_entropy_delta_with_a_one_hot_target():
    report = check("cross_entropy(z, t)", {**NET, "t": [0.0, 1.0]}, let={"z": "W@x + b"},
                   claims={"z": "softmax(z) - t", "W": "outer(softmax(z) - t, x)"})
    assert report.ok, format_report(report)


# ---- identities, not numbers ------------------------------------------------------------------


def test_a_claim_true_at_one_point_by_coincidence_fails_at_a_random_point(capsys):
    # d(x^3)/dx = 3x^2 equals 3 at x = 1 only.
    rc, out, _ = _run(capsys, "x**3", "--at", "x=1", "--claim", "x=3")
    assert rc == 1
    assert re.search(r"df/dx: claimed 3 = 3, autograd 3: MISMATCH", out)
    assert re.search(r"holds at --at but fails at x=[0-9.]+: an identity must hold", out)
    rc0, out0, _ = _run(capsys, "x**3", "--at", "x=1", "--claim", "x=3", "--points", "0")
    assert rc0 == 0 and "at 0 random point(s)" in out0


def test_fix_holds_data_at_its_value_for_the_random_points():
    # sum(w^2)/m with m = 4: the claim w/2 is 2w/m only while m stays 4.
    values = {"w": [1.0, -2.0], "m": 4.0}
    assert not check("sum(w**2)/m", values, claims={"w": "w/2"}).ok
    report = check("sum(w**2)/m", values, claims={"w": "w/2"}, fix=["m"])
    assert report.ok and report.held == ["m"]


def test_random_points_are_seeded_and_stay_inside_every_domain():
    one = check("ln(x) + sqrt(y)", {"x": 0.05, "y": 0.02}, claims={"x": "1/x"}, seed=3)
    two = check("ln(x) + sqrt(y)", {"x": 0.05, "y": 0.02}, claims={"x": "1/x"}, seed=3)
    assert one.ok and one.random_points == 5 and two.random_points == 5
    assert format_report(one) == format_report(two)
    # Outside the claim's domain only (ln(x) < 0 below x = 1): drawn again as well.
    three = check("x**2", {"x": 0.05}, claims={"x": "2*x + 0*ln(x)"}, seed=3)
    assert three.ok and three.random_points == 5


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_the_points_checked_are_the_first_draws_inside_every_domain(seed):
    # All points go through one batch; the draws outside a domain (x <= 0 here, for ln) are
    # found and replaced, and what is checked is what drawing one point at a time keeps: the
    # first draws inside, in order. The claim holds at --at (x = 0.05) and nowhere else, so
    # the point it fails at is the first draw inside.
    report = check("x**3 + ln(x)", {"x": 0.05},
                   claims={"x": "3*x**2 + 1/x + (x > 0.05) + (x < 0.05)"}, seed=seed)
    rng = np.random.default_rng(seed)
    draws = [0.05 + 0.2 * rng.uniform(-1, 1, ()) for _ in range(100)]
    assert sum(x <= 0 for x in draws[:5]) >= 1  # the batch of the first five draws failed
    claim = _claim(report, "x")
    assert report.random_points == 5 and not claim.ok
    assert float(claim.failed_at["x"]) == next(x for x in draws if x > 0)


def _work(monkeypatch, *args, **kwargs):
    """The NumPy nodes built, NumPy backward passes and torch passes of one check(...)."""
    counts = {"nodes": 0, "backward": 0, "torch": 0}

    def counted(module, name, key):
        original = getattr(module, name)

        def wrapper(*a, **k):
            counts[key] += 1
            return original(*a, **k)

        monkeypatch.setattr(module, name, wrapper)

    counted(graph, "_make", "nodes")
    counted(graph, "backward", "backward")
    counted(tgraph, "evaluate", "torch")
    report = check(*args, **kwargs)
    monkeypatch.undo()
    return counts, report


@pytest.mark.parametrize("claim, ok", [("y*cos(x*y) + 2*x", True), ("y*cos(x*y)", False)])
def test_the_random_points_of_a_claim_cost_one_batched_pass_however_many(monkeypatch, claim, ok):
    # --at and all random points go through scratch.graph together (a trailing points axis):
    # the nodes built and the backward passes run (the diagnosis's cut paths included) do
    # not grow with --points, so a 10,000-node expression checks at 5 points as fast as at 1.
    expr, at = "sin(x*y) + x**2", {"x": 0.7, "y": -1.2}
    one, report_one = _work(monkeypatch, expr, at, claims={"x": claim}, points=1)
    many, report_many = _work(monkeypatch, expr, at, claims={"x": claim}, points=40)
    assert report_one.ok is report_many.ok is ok and report_many.random_points == 40
    assert many == one
    # One NumPy pass (--at and every point) and one torch pass; a wrong claim adds one
    # backward pass per path the diagnosis cuts (x feeds two nodes).
    assert one == {"nodes": 4 + (5 if ok else 3), "backward": 1 if ok else 3, "torch": 1}
    if not ok:
        assert _claim(report_many, "x").slips == ["missing_path"]


# ---- claims of any shape -----------------------------------------------------------------------


@pytest.mark.catalog("D4")
def test_a_matrix_claim_is_compared_entry_by_entry_and_the_worst_entry_is_named():
    values = {"W": W2, "x": [1.0, -1.0], "y": [0.5, 2.0]}
    good = "2*outer(W@x - y, x)"
    assert check("sum((W@x - y)**2)", values, claims={"W": good}).ok
    # Off in one entry only: W[1, 0] is the one entry above 2.5.
    report = check("sum((W@x - y)**2)", values, claims={"W": f"{good} + (W > 2.5)"})
    claim = _claim(report, "W")
    assert not claim.ok and claim.worst == "W[1, 0]"
    assert claim.worst_claimed == pytest.approx(claim.worst_autograd + 1, rel=1e-12)


# ---- the diagnosis of the usual slips ----------------------------------------------------------

SLIPS = [
    # (expression, values, lets, claim var, wrong claim, correct claim, slip, words)
    ("sum((W@x - y)**2)", {"W": W2, "x": [1.0, -1.0], "y": [0.5, 2.0]}, {}, "W",
     "outer(W@x - y, x)", "2*outer(W@x - y, x)", "factor", r"0\.5 x autograd .*factor 1/2"),
    ("sum(sin(w))", {"w": [0.3, 1.2]}, {}, "w", "3.7*cos(w)", "cos(w)", "factor",
     r"your claim is 3\.7 x autograd at every checked point \(a constant factor 3\.7"),
    ("mean((X@w - y)**2)", {"X": [[1.0, 2.0], [0.5, -1.0], [2.0, 1.0], [0.0, 1.5]],
                            "w": [0.3, -0.7], "y": [1.0, 0.0, -1.0, 0.5]}, {}, "w",
     "2*X.T@(X@w - y)", "2*X.T@(X@w - y)/4", "factor",
     r"a constant factor 4; 4 is the number of rows of X: a stray m or 1/m\?"),
    ("ln(x1) + x1*x2 - sin(x2)", {"x1": 2.0, "x2": 5.0}, {}, "x2", "cos(x2) - x1",
     "x1 - cos(x2)", "sign", r"-1 x autograd at every checked point: the sign is flipped"),
    ("y@W@x", {"W": W2, "x": [1.0, -1.0], "y": [0.5, 2.0]}, {}, "W", "outer(x, y)",
     "outer(y, x)", "transpose", r"your claim is the transpose of autograd"),
    ("mse(a, y)", {"W": W2, "x": [1.0, -1.0], "y": [0.5, 0.2]}, {"z": "W@x", "a": "sigmoid(z)"},
     "z", "a - y", "(a - y)*a*(1 - a)", "missing_factor",
     r"your claim times sigmoid'\(z\) \(the derivative of a = sigmoid\(z\)\) equals autograd"),
    ("bce(a, t)", {"W": W2, "x": [1.0, -1.0], "t": [1.0, 0.0]}, {"z": "W@x", "a": "sigmoid(z)"},
     "z", "(a - t)*a*(1 - a)/2", "(a - t)/2", "extra_factor",
     r"divided by sigmoid'\(z\) .* that factor is one too many"),
    ("ln(x1) + x1*x2 - sin(x2)", {"x1": 2.0, "x2": 5.0}, {}, "x1", "x2", "1/x1 + x2",
     "missing_path", r"misses the path through 'ln\(x1\)': x1 feeds 2 nodes .*\(D1\)"),
    ("sum(tanh(h)*h)", {"W": W2, "x": [1.0, -1.0]}, {"h": "W@x"}, "h", "(1 - tanh(h)**2)*h",
     "(1 - tanh(h)**2)*h + tanh(h)", "missing_path", r"misses the path through"),
]


@pytest.mark.catalog("D1", "D6")
@pytest.mark.parametrize("case", SLIPS, ids=[f"{s[6]}: {s[4]}" for s in SLIPS])
def test_each_usual_slip_is_named_and_the_correct_claim_passes(case):
    expr, values, lets, var, wrong, right, slip, words = case
    claim = _claim(check(expr, values, claims={var: wrong}, let=lets), var)
    assert not claim.ok and slip in claim.slips, claim.diagnosis
    assert re.search(words, claim.diagnosis), claim.diagnosis
    assert check(expr, values, claims={var: right}, let=lets).ok


def test_when_no_usual_slip_fits_the_diagnosis_says_so():
    # d/dx2 of -sin(x2) taken as +cos(x2): a sign slip in one term, not in the whole claim.
    claim = _claim(check("ln(x1) + x1*x2 - sin(x2)", {"x1": 2.0, "x2": 5.0},
                         claims={"x2": "x1 + cos(x2)"}), "x2")
    assert claim.slips == [] and claim.diagnosis.startswith("none of the usual slips")


# ---- the renderings --------------------------------------------------------------------------


def test_json_keeps_the_first_edition_keys_and_adds_shapes_nested_lists_and_diagnosis(capsys):
    rc, out, _ = _run(capsys, "sum((W@x - y)**2)", "--at", "W=[[1,2],[3,-1.5]]", "x=1,-1",
                      "y=0.5,2", "--claim", "W=outer(W@x - y, x)", "--json")
    report = json.loads(out)
    assert rc == 1
    assert {"value", "grad", "nodes", "claims", "shapes"} <= set(report)
    assert report["shapes"] == {"W": [2, 2], "x": [2], "y": [2]}
    # By hand: W x - y = (-1, 4.5) - (0.5, 2) = (-1.5, 2.5); the gradient is 2 (W x - y) x^T.
    assert report["grad"]["W"] == [[-3.0, 3.0], [5.0, -5.0]]
    (claim,) = report["claims"]
    assert claim["claimed"] == [[-1.5, 1.5], [2.5, -2.5]] and claim["shape"] == [2, 2]
    assert claim["ok"] is False and claim["slips"] == ["factor"]
    assert claim["diagnosis"].startswith("your claim is 0.5 x autograd")
    assert claim["worst_entry"] in ("W[1, 0]", "W[1, 1]") and claim["points"] == 6
    node = next(n for n in report["nodes"] if n["name"] == "W")
    assert node["shape"] == [2, 2] and node["adjoint_torch"] == [[-3.0, 3.0], [5.0, -5.0]]


def test_the_python_api_returns_a_report_with_a_readable_repr_and_html():
    report = check("bce(a, t)", NET, claims={"z": "(a - t)/2"}, let=NET_LETS)
    text = repr(report)
    assert text == format_report(report)
    assert "with z = W@x + b, a = sigmoid(z)" in text and "df/dz: claimed (a - t)/2" in text
    html = report._repr_html_()
    assert html.startswith("<div>") and "<table>" in html and "<td><code>sigmoid(z)</code>" in html
    assert 'style="color:green"' in html and "df/dz" in html


def test_dot_file_has_a_box_per_node_and_an_edge_per_input(capsys, tmp_path):
    path = tmp_path / "d8.dot"
    rc, _, _ = _run(capsys, "ln(x1) + x1*x2 - sin(x2)", "--at", "x1=2", "x2=5", "--dot",
                    str(path))
    text = path.read_text()
    assert rc == 0 and text.startswith("digraph verify {") and text.rstrip().endswith("}")
    boxes = re.findall(r"^  (n\d+) \[label=\"([^\"]*)\"\];$", text, re.MULTILINE)
    edges = re.findall(r"^  n\d+ -> n\d+;$", text, re.MULTILINE)
    assert len(boxes) == 7 and len(edges) == 8  # D8: 7 nodes; ln, *, sin, +, - take 1+2+1+2+2
    assert r"x1\ninput\nvalue 2\nadjoint 5.5" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d8.dot"]  # no temporary left


def test_dot_is_not_written_on_bad_input(capsys, tmp_path):
    path = tmp_path / "bad.dot"
    rc, _, _ = _run(capsys, "ln(x)", "--at", "x=-1", "--dot", str(path))
    assert rc == 2 and not path.exists()


def test_engines_that_disagree_exit_1_and_mark_the_node(capsys, monkeypatch):
    monkeypatch.setitem(tgraph.OPS, "sin", torch.cos)  # a broken torch side
    rc, out, _ = _run(capsys, "sin(x) + x", "--at", "x=0.5")
    assert rc == 1
    row = next(line for line in out.splitlines() if line.startswith("v1"))
    assert row.rstrip().endswith("DIFFER") and "NOT everywhere" in out


def test_a_node_of_another_shape_in_torch_differs_even_with_the_same_entries(monkeypatch):
    # torch's transpose of a vector as a (3, 1) column: the same three numbers, but not the
    # node scratch.graph computed (a vector stays a vector, as NumPy's .T).
    monkeypatch.setitem(tgraph.OPS, "transpose",
                        lambda a: a.reshape(-1, 1) if a.ndim == 1 else a.t())
    report = check("sum(transpose(w) * 2)", {"w": [1.0, -2.0, 0.5]})
    rows = {n.op: n for n in report.nodes}
    assert not rows["transpose"].agree and rows["mul"].agree is False
    assert not report.ok and report.engines_agree is False
