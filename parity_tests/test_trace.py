"""scratch.trace against torch autograd, and `python -m torchref.trace` end to end.

The scratch tables (forward, per-example loss, deltas, per-example gradients, 004's Delta
accumulation, the GD step; 003's linear-unit table; the optimizers' torch forms) are compared
with independent torch computations. The tool is run in-process through `main(argv)`:
the issue's file form, --json, --check (marks and slips), --steps, --decimals, 80 columns,
bad input (one line naming the key, exit 2) and a scratch/torch disagreement (exit 1).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from parity_tests.helpers import assert_close, to_torch
from scratch import trace as st
from scratch.backprop import backprop_accumulate
from scratch.optim import linear_neuron_loss_grad
from torchref import optim as toptim
from torchref.activations import get_activation_module
from torchref.trace import cli
from torchref.trace.check import mark
from torchref.trace.inputs import Written, decimals_of

ISSUE_FILE = """\
layers: [2, 2, 2]            # input first
activation: sigmoid          # or one name per layer after the input
loss: half_sse               # 1/2 sum (t - a)^2; also sse, mse, bce, cce (softmax output)
weights:                     # W[l] of shape (out, in), as 001 writes it
  - [[0.15, 0.20], [0.25, 0.30]]
  - [[0.40, 0.45], [0.50, 0.55]]
biases: [[0.35, 0.35], [0.60, 0.60]]
x: [0.05, 0.10]              # one example, or a list of examples
t: [0.01, 0.99]
lr: 0.5
"""


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- scratch.trace against torch autograd ------------------------------------------------

# (loss, activations of the 2 layers after the input)
NETWORKS = [
    ("half_sse", ["sigmoid", "sigmoid"]),
    ("sse", ["tanh", "identity"]),
    ("mse", ["relu", "tanh"]),
    ("bce", ["tanh", "sigmoid"]),
    ("cce", ["swish", "softmax"]),
]


def _torch_per_example_loss(loss, z, a, T):
    if loss == "half_sse":
        return 0.5 * ((a - T) ** 2).sum(1)
    if loss == "sse":
        return ((a - T) ** 2).sum(1)
    if loss == "mse":
        return ((a - T) ** 2).mean(1)
    if loss == "bce":
        return F.binary_cross_entropy(a, T, reduction="none").sum(1)
    return -(T * torch.log_softmax(z, dim=1)).sum(1)


def _network(rng, loss, m):
    sizes = [3, 4, 3]
    W = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(2)]
    b = [rng.normal(size=sizes[i + 1]) for i in range(2)]
    X = rng.normal(size=(m, 3))
    if loss == "cce":
        T = np.eye(3)[rng.integers(0, 3, size=m)]
    elif loss == "bce":
        T = rng.uniform(size=(m, 3))
    else:
        T = rng.normal(size=(m, 3))
    return W, b, X, T


@pytest.mark.catalog("B1", "D4", "D6", "D7", "F1")
@pytest.mark.parametrize("loss, acts", NETWORKS, ids=[n[0] for n in NETWORKS])
@pytest.mark.parametrize("m", [1, 4])
def test_mlp_step_tables_match_torch_autograd_and_sgd(rng, loss, acts, m):
    W, b, X, T = _network(rng, loss, m)
    res = st.mlp_step(W, b, X, T, acts, loss, lr=0.3)
    Wt = [to_torch(w, True) for w in W]
    bt = [to_torch(v, True) for v in b]
    a, zs, as_ = to_torch(X), [], []
    for w, v, name in zip(Wt, bt, acts, strict=True):
        z = a @ w.T + v
        a = torch.softmax(z, 1) if name == "softmax" else get_activation_module(name)(z)
        zs.append(z)
        as_.append(a)
    L = _torch_per_example_loss(loss, zs[-1], as_[-1], to_torch(T))
    for l in range(2):
        assert_close(res.z[l], zs[l])
        assert_close(res.a[l], as_[l])
    assert_close(res.loss_each, L)
    deltas = torch.autograd.grad(L.sum(), zs, retain_graph=True)  # row i: dL_i/dz
    for l in range(2):
        assert_close(res.delta[l], deltas[l])
    for i in range(m):
        each = torch.autograd.grad(L[i], Wt + bt, retain_graph=True)
        for l in range(2):
            assert_close(res.grad_W_each[l][i], each[l])
            assert_close(res.grad_b_each[l][i], each[2 + l])
    opt = torch.optim.SGD(Wt + bt, lr=0.3)
    L.mean().backward()
    for l in range(2):
        assert_close(res.grad_W[l], Wt[l].grad)
        assert_close(res.grad_b[l], bt[l].grad)
        assert_close(res.Delta_W[l][-1], m * res.grad_W[l])  # D = Delta / m
    opt.step()
    for l in range(2):
        assert_close(res.new_W[l], Wt[l])
        assert_close(res.new_b[l], bt[l])


@pytest.mark.catalog("D7")
def test_accumulated_delta_is_the_running_sum_and_equals_004s_backprop_accumulate(rng):
    # An independent scratch implementation of 004's algorithm (thetas, examples as columns).
    W, b, X, T = _network(rng, "bce", 5)
    T = (T > 0.5).astype(float)
    res = st.mlp_step(W, b, X, T, ["sigmoid", "sigmoid"], "bce")
    for l in range(2):
        inputs = X if l == 0 else res.a[0]
        running = np.zeros_like(W[l])
        for i in range(5):  # Delta := Delta + delta a^T, by hand
            running = running + np.outer(res.delta[l][i], inputs[i])
            assert_close(res.Delta_W[l][i], running)
    thetas = [np.column_stack([v, w]) for w, v in zip(W, b, strict=True)]
    D = backprop_accumulate(thetas, X.T, T.T)
    for l in range(2):
        assert_close(D[l], np.column_stack([res.grad_b[l], res.grad_W[l]]))


@pytest.mark.catalog("F3", "F4")
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("bias", [False, True])
def test_linear_unit_table_matches_torch(rng, reduction, bias):
    X = rng.normal(size=(6, 2))
    if bias:
        X = np.column_stack([np.ones(6), X])
    t, w = rng.normal(size=6), rng.normal(size=X.shape[1])
    r = st.linear_unit_table(w, X, t, lr=0.05, reduction=reduction)
    wt = to_torch(w, True)
    per_row = 0.5 * (to_torch(X) @ wt - to_torch(t)) ** 2
    for p in range(6):
        (g,) = torch.autograd.grad(per_row[p], wt, retain_graph=True)
        assert_close(r.contribution[p], g)  # (y_p - t_p) x_p
    loss = per_row.mean() if reduction == "mean" else per_row.sum()
    assert r.loss == pytest.approx(loss.item(), rel=1e-12)
    opt = torch.optim.SGD([wt], lr=0.05)
    loss.backward()
    assert_close(r.grad, wt.grad)
    opt.step()
    assert_close(r.new_w, wt)
    assert_close(r.change, r.new_w - w)


def test_linear_unit_table_f3_row_one_is_115_by_hand():
    X, t = np.array([[10.0], [5], [1], [8], [4]]), np.array([8.5, 3.8, 2, 8, 5])
    r = st.linear_unit_table(np.array([2.0]), X, t, lr=0.01)
    assert r.contribution[0, 0] == (2 * 10 - 8.5) * 10 == 115
    assert r.grad[0] == pytest.approx(linear_neuron_loss_grad(np.array([2.0]), X, t)[0])


def _quadratic(A, b):
    def grad_at(i, w):
        return A @ w - b
    return grad_at


OPT_CASES = [("sgd", {}), ("momentum", {"momentum": 0.9}), ("nesterov", {"momentum": 0.8}),
             ("adagrad", {"eps": 1e-10}), ("rmsprop", {"beta": 0.9, "eps": 1e-8}),
             ("adam", {"eps": 1e-8})]


@pytest.mark.catalog("F1", "F9", "F10", "F12", "F13", "F14")
@pytest.mark.parametrize("name, hp", OPT_CASES, ids=[c[0] for c in OPT_CASES])
def test_optimizer_table_torch_variant_is_torch_optim(name, hp):
    A, b, w0 = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([1.0, -1.0]), np.array([1.0, 2.0])
    betas = (0.8, 0.95) if name == "adam" else None
    rows = st.optimizer_table(name, "torch", w0, _quadratic(A, b), 4, lr=0.1, betas=betas, **hp)
    w = to_torch(w0, True)
    kw = {"lr": 0.1}
    if name in ("momentum", "nesterov"):
        kw.update(momentum=hp["momentum"], nesterov=name == "nesterov")
    opt = {"adagrad": lambda: torch.optim.Adagrad([w], eps=hp.get("eps"), **kw),
           "rmsprop": lambda: torch.optim.RMSprop([w], alpha=hp.get("beta"), eps=hp.get("eps"),
                                                  **kw),
           "adam": lambda: torch.optim.Adam([w], betas=betas, eps=hp.get("eps"), **kw)}.get(
        name, lambda: torch.optim.SGD([w], **kw))()
    for row in rows:
        assert_close(row.w, w)
        opt.zero_grad()
        (0.5 * w @ to_torch(A) @ w - to_torch(b) @ w).backward()
        assert_close(row.grad, w.grad)
        opt.step()
        assert_close(row.new_w, w)
        for key, value in row.state.items():
            assert_close(value, opt.state[w][key])


@pytest.mark.catalog("F9", "F10", "F12", "F13", "F14")
@pytest.mark.parametrize("name, hp", OPT_CASES[1:], ids=[c[0] for c in OPT_CASES[1:]])
def test_optimizer_table_notes_variant_is_torchref_notes_optimizer(rng, name, hp):
    grads = rng.normal(size=(3, 2))
    rows = st.optimizer_table(name, "notes", np.zeros(2), lambda i, w: grads[i], 3, lr=0.2,
                              **hp)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    eps = hp.get("eps")
    opt = {"momentum": lambda: toptim.NotesSGD([w], lr=0.2, momentum=hp.get("momentum")),
           "nesterov": lambda: toptim.NotesSGD([w], lr=0.2, momentum=hp.get("momentum"),
                                               nesterov=True),
           "adagrad": lambda: toptim.NotesAdagrad([w], lr=0.2, eps0=eps),
           "rmsprop": lambda: toptim.NotesRMSprop([w], lr=0.2, beta=hp.get("beta"), eps0=eps),
           "adam": lambda: toptim.NotesAdam([w], lr=0.2, eps0=eps)}[name]()
    for i, row in enumerate(rows):
        def closure(i=i):
            w.grad = to_torch(grads[i])
            return torch.zeros(())
        opt.step(closure)
        assert_close(row.new_w, w)


# ---- marking ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, ours, expected", [
    ("0.47", 0.475021, "rounded wrongly"),  # 003's y1^(2) (B6): truncated, not rounded
    ("0.48", 0.475021, "ok"),
    ("0.12", 0.125, "ok"), ("0.13", 0.125, "ok"),  # exactly half-way: either way
    ("1.9", 1.905148, "ok"), ("-0.1", -0.094852, "ok"),  # 003's F6, one decimal written
    ("-0.09", -0.094852, "ok"), ("-0.10", -0.094852, "rounded wrongly"),
    ("0", 0.9, "wrong"),  # a neighbour on the grid, but not a rounding of 0.9
    ("125", 115.0, "wrong"), ("4.5e-5", 4.5396e-5, "ok"),
    ("4.6e-5", 4.5396e-5, "rounded wrongly"), ("4.7e-5", 4.5396e-5, "wrong"),
])
def test_a_number_is_ok_when_ours_rounds_to_it_at_the_digits_written(text, ours, expected):
    assert mark(float(text), decimals_of(text), ours) == expected


@pytest.mark.parametrize("text, decimals", [("0.470", 3), ("125", 0), ("4.5e-5", 6),
                                            (".89", 2), ("-0.20", 2), ("1e3", 0)])
def test_written_numbers_keep_their_decimals(text, decimals):
    w = Written(text)
    assert (w.decimals, w.text, float(w)) == (decimals, text, float(text))


# ---- the tool, end to end --------------------------------------------------------------------


def _sigmoid(v):
    return 1 / (1 + math.exp(-v))


def test_issue_file_form_prints_the_documented_json_and_hand_arithmetic(tmp_path, capsys):
    rc, out, _ = run(capsys, "mlp", write(tmp_path, "net.yaml", ISSUE_FILE), "--json")
    doc = json.loads(out)
    assert rc == 0 and doc["crosscheck"]["agree"]
    assert list(doc)[:9] == ["layers", "loss", "deltas", "grad_weights", "grad_biases",
                             "change_weights", "change_biases", "new_weights", "new_biases"]
    # by hand: z1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35, and so on
    h = [_sigmoid(0.15 * 0.05 + 0.20 * 0.10 + 0.35), _sigmoid(0.25 * 0.05 + 0.30 * 0.10 + 0.35)]
    o = [_sigmoid(0.40 * h[0] + 0.45 * h[1] + 0.6), _sigmoid(0.50 * h[0] + 0.55 * h[1] + 0.6)]
    assert doc["layers"][0]["a"] == pytest.approx(h, rel=1e-14)
    assert doc["layers"][1]["a"] == pytest.approx(o, rel=1e-14)
    assert doc["loss"] == pytest.approx(0.5 * ((0.01 - o[0]) ** 2 + (0.99 - o[1]) ** 2))
    d_out = (o[0] - 0.01) * o[0] * (1 - o[0])  # (a - t) g'(z) of output unit 1
    assert doc["deltas"][1][0] == pytest.approx(d_out, rel=1e-13)
    assert doc["new_weights"][1][0][0] == pytest.approx(0.40 - 0.5 * d_out * h[0], rel=1e-13)


def test_folded_thetas_give_the_numbers_of_weights_and_biases(tmp_path, capsys):
    folded = ISSUE_FILE.replace(
        "weights:", "thetas:\n  - [[0.35, 0.15, 0.20], [0.35, 0.25, 0.30]]\n"
        "  - [[0.60, 0.40, 0.45], [0.60, 0.50, 0.55]]\nold:").split("old:")[0] + \
        "x: [0.05, 0.10]\nt: [0.01, 0.99]\nlr: 0.5\n"
    _, plain, _ = run(capsys, "mlp", write(tmp_path, "a.yaml", ISSUE_FILE), "--json")
    _, theta, _ = run(capsys, "mlp", write(tmp_path, "b.yaml", folded), "--json")
    plain, theta = json.loads(plain), json.loads(theta)
    for key in ("layers", "deltas", "grad_weights", "new_biases"):
        assert theta[key] == plain[key]
    assert theta["new_thetas"][1][0] == [plain["new_biases"][1][0], *plain["new_weights"][1][0]]


def test_update_biases_false_keeps_the_biases_and_still_reports_their_gradient(tmp_path,
                                                                               capsys):
    path = write(tmp_path, "n.yaml", ISSUE_FILE + "update_biases: false\n")
    rc, out, _ = run(capsys, "mlp", path, "--json")
    doc = json.loads(out)
    assert rc == 0 and doc["new_biases"] == [[0.35, 0.35], [0.6, 0.6]]
    assert doc["change_biases"] == [[0, 0], [0, 0]] and doc["grad_biases"][1][0] != 0


def test_steps_n_chains_n_single_steps(tmp_path, capsys):
    rc, out, _ = run(capsys, "mlp", write(tmp_path, "n.yaml", ISSUE_FILE), "--json",
                     "--steps", 3)
    steps = json.loads(out)["steps"]
    assert rc == 0 and len(steps) == 3
    W, b = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]], [[0.35] * 2, [0.6] * 2]
    for s in range(3):  # one step at a time, from the weights the previous step printed
        text = (f"activation: sigmoid\nloss: half_sse\nweights: {W}\nbiases: {b}\n"
                "x: [0.05, 0.10]\nt: [0.01, 0.99]\nlr: 0.5\n")
        _, one, _ = run(capsys, "mlp", write(tmp_path, f"s{s}.yaml", text), "--json")
        one = json.loads(one)
        assert one["layers"] == steps[s]["layers"]
        assert one["new_weights"] == steps[s]["new_weights"]
        W, b = one["new_weights"], one["new_biases"]


def test_several_examples_give_per_example_gradients_and_their_mean(tmp_path, capsys):
    text = ISSUE_FILE.replace("x: [0.05, 0.10]", "x: [[0.05, 0.10], [0.5, -0.3], [1, 1]]")
    text = text.replace("t: [0.01, 0.99]", "t: [[0.01, 0.99], [1, 0], [0.5, 0.5]]")
    rc, out, _ = run(capsys, "mlp", write(tmp_path, "m.yaml", text), "--json")
    doc = json.loads(out)
    each = np.array(doc["grad_weights_per_example"][0])  # (3, 2, 2)
    assert rc == 0 and each.shape == (3, 2, 2)
    assert_close(np.array(doc["accumulated_weights"][0]), np.cumsum(each, axis=0))
    assert_close(np.array(doc["grad_weights"][0]), each.mean(axis=0))
    assert doc["loss"] == pytest.approx(np.mean(doc["loss_per_example"]))


SLIPS = """\
layers:
  - {a: [0.5069, 0.5106]}
deltas:
  - [0.0316, 0.00995]
  - [-0.1385, -0.0381]
loss: 0.5967
"""


def test_check_marks_each_cell_and_names_the_usual_slips(tmp_path, capsys):
    path = write(tmp_path, "mine.yaml", SLIPS)
    rc, out, _ = run(capsys, "mlp", write(tmp_path, "n.yaml", ISSUE_FILE), "--check", path,
                     "--json")
    cells = {c["path"]: c for c in json.loads(out)["check"]["cells"]}
    assert rc == 1
    assert cells["layers[0].a[0]"]["slip"] == "bias forgotten"
    assert cells["deltas[0][0]"]["slip"] == ("derivative of the wrong activation (tanh' at "
                                             "layer 1, which is sigmoid)")
    assert cells["deltas[0][1]"]["mark"] == "ok"
    assert cells["deltas[1][0]"]["slip"] == "sign"
    assert cells["deltas[1][1]"]["mark"] == "ok"
    assert cells["loss"]["slip"] == "extra factor 2"
    rc, out, _ = run(capsys, "mlp", tmp_path / "n.yaml", "--check", path)
    line = next(x for x in out.splitlines() if x.strip().startswith("deltas[1][0]"))
    assert line.split()[1:4] == ["-0.1385", "0.1384986", "wrong"]  # yours beside ours


def test_check_missing_factor_1_over_m_with_several_examples(tmp_path, capsys):
    text = ISSUE_FILE.replace("x: [0.05, 0.10]", "x: [[0.05, 0.10], [0.5, -0.3]]")
    text = text.replace("t: [0.01, 0.99]", "t: [[0.01, 0.99], [1, 0]]")
    _, out, _ = run(capsys, "mlp", write(tmp_path, "m.yaml", text), "--json")
    g = json.loads(out)["grad_weights"][1][0][0]
    mine = write(tmp_path, "mine.yaml", f"grad_weights: [null, [[{2 * g:.6f}]]]\n")
    rc, out, _ = run(capsys, "mlp", tmp_path / "m.yaml", "--check", mine, "--json")
    (cell,) = json.loads(out)["check"]["cells"]
    assert rc == 1 and "missing factor 1/m" in cell["slip"]


def test_a_torch_disagreement_is_exit_1_and_a_bug_line(tmp_path, capsys, monkeypatch):
    original = st.output_delta_table
    monkeypatch.setattr(st, "output_delta_table", lambda *a: original(*a) + 1e-6)
    rc, out, err = run(capsys, "mlp", write(tmp_path, "n.yaml", ISSUE_FILE))
    assert rc == 1 and "DISAGREE" in out
    assert err.startswith("torchref.trace: BUG: scratch and torch autograd disagree at deltas")


OTHER_KINDS = {
    "linear": "w: [-1, 2]\nbias: true\nx: [10, 5, 1]\nt: [8.5, 3.8, 2]\nlr: 0.01\n",
    "perceptron": "x: [[1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]]\nt: [0, 1, 1, 0]\n"
                  "w: [0.1, -0.2, 0.3]\nlr: 0.373\nmax_epochs: 5\n",
    "optimizer": "optimizer: nesterov\nmomentum: 0.9\nw: [1, -1]\n"
                 "quadratic: {A: [[1, 0], [0, 10]], b: [0.5, 0]}\nlr: 0.05\nsteps: 3\n",
    "graph": "expression: q*q + sin(q)\nlet: {q: x*y}\nat: {x: 1.5, y: -2}\n",
}


@pytest.mark.parametrize("kind", ["mlp", *OTHER_KINDS])
def test_every_kind_fits_80_columns_and_decimals_change_only_the_display(kind, tmp_path,
                                                                         capsys):
    path = write(tmp_path, f"{kind}.yaml", OTHER_KINDS.get(kind, ISSUE_FILE))
    outs = [run(capsys, kind, path, "--decimals", d) for d in (2, 8)]
    assert all(rc == 0 for rc, _, _ in outs)
    assert outs[0][1] != outs[1][1]
    for _, out, _ in outs:
        assert max(map(len, out.splitlines())) <= 80
        assert "scratch and torch autograd agree" in out
    jsons = [run(capsys, kind, path, "--json", "--decimals", d)[1] for d in (2, 8)]
    assert jsons[0] == jsons[1]


def test_perceptron_on_xor_says_it_did_not_converge(tmp_path, capsys):
    rc, out, _ = run(capsys, "perceptron", write(tmp_path, "p.yaml", OTHER_KINDS["perceptron"]))
    assert rc == 0 and "did NOT converge in 5 epochs" in out


def test_graph_let_used_twice_is_one_node_whose_adjoint_sums_both_uses(tmp_path, capsys):
    rc, out, _ = run(capsys, "graph", write(tmp_path, "g.yaml", OTHER_KINDS["graph"]),
                     "--json")
    nodes = {n["name"]: n for n in json.loads(out)["nodes"]}
    q = 1.5 * -2
    assert rc == 0 and nodes["q"]["value"] == q
    assert nodes["q"]["adjoint"] == pytest.approx(2 * q + math.cos(q))  # d(q^2 + sin q)/dq
    assert nodes["q"]["local"] == [-2, 1.5]  # dq/dx = y, dq/dy = x


BAD = [
    ("mlp", ISSUE_FILE.replace("[[0.40, 0.45], [0.50, 0.55]]",
                               "[[0.40, 0.45, 0.1], [0.50, 0.55, 0.1]]"),
     r"weights\[1\]: shapes do not chain"),
    ("mlp", ISSUE_FILE.replace("x: [0.05, 0.10]", ""), r"x: missing key"),
    ("mlp", ISSUE_FILE.replace("activation: sigmoid", "activation: sigmod"),
     r"activation: unknown activation 'sigmod'"),
    ("mlp", ISSUE_FILE.replace("loss: half_sse", "loss: hinge"), r"loss: unknown loss 'hinge'"),
    ("mlp", ISSUE_FILE.replace("activation: sigmoid", "activation: [sigmoid, identity]")
     .replace("loss: half_sse", "loss: bce"), r"loss: bce needs outputs in \[0, 1\]"),
    ("mlp", ISSUE_FILE.replace("lr: 0.5", ""), r"lr: missing key"),
    ("mlp", ISSUE_FILE + "weigths: 1\n", r"weigths: unknown key"),
    ("mlp", ISSUE_FILE.replace("t: [0.01, 0.99]", "t: [0.01]"), r"t: one target per output"),
    ("mlp", ISSUE_FILE.replace("x: [0.05, 0.10]", "x: [1e300, 1e300]")
     .replace("activation: sigmoid", "activation: [relu, identity]"),
     r"new_weights\[1\]\[1\]\[1\]: not finite"),
    ("linear", OTHER_KINDS["linear"].replace("t: [8.5, 3.8, 2]", "t: [8.5]"),
     r"t: one target per example"),
    ("perceptron", OTHER_KINDS["perceptron"].replace("t: [0, 1, 1, 0]", "t: [0, 1, 2, 0]"),
     r"t: the perceptron's targets must be 0 or 1"),
    ("optimizer", OTHER_KINDS["optimizer"].replace("momentum: 0.9", "momentum: 1.5"),
     r"momentum: must be in \(0, 1\)"),
    ("optimizer", OTHER_KINDS["optimizer"].replace("nesterov", "adamw"),
     r"optimizer: unknown optimizer 'adamw'"),
    ("graph", "expression: ln(x)\nat: {x: -1}\n", r"expression: .*log"),
    ("graph", "expression: x*y\nat: {x: 1}\n", r"expression: no value for 'y'"),
]


@pytest.mark.parametrize("kind, text, message", BAD, ids=[b[2][:30] for b in BAD])
def test_bad_input_is_one_line_naming_the_key_and_exit_2(kind, text, message, tmp_path,
                                                         capsys):
    rc, out, err = run(capsys, kind, write(tmp_path, "bad.yaml", text))
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert re.search(rf"^torchref\.trace: error: bad\.yaml: {message}", err), err


def test_check_file_naming_a_quantity_the_trace_lacks_is_exit_2(tmp_path, capsys):
    mine = write(tmp_path, "mine.yaml", "layers: [{zz: [1, 2]}]\n")
    rc, _, err = run(capsys, "mlp", write(tmp_path, "n.yaml", ISSUE_FILE), "--check", mine)
    assert rc == 2 and err.startswith("torchref.trace: error: mine.yaml: layers[0].zz: no such")


def test_numbers_from_torch_and_scratch_are_float64_full_precision_in_json(tmp_path, capsys):
    _, out, _ = run(capsys, "mlp", write(tmp_path, "n.yaml", ISSUE_FILE), "--json",
                    "--decimals", 1)
    z = json.loads(out)["layers"][0]["z"][1]
    assert z == 0.25 * 0.05 + 0.30 * 0.10 + 0.35  # not rounded to 1 decimal



def test_scratch_tables_keep_the_input_dtype_and_agree_with_float64(rng, dtype, tolerance):
    W, b, X, T = _network(rng, "half_sse", 3)
    W, b, X, T = ([w.astype(dtype) for w in W], [v.astype(dtype) for v in b],
                  X.astype(dtype), T.astype(dtype))
    res = st.mlp_step(W, b, X, T, ["tanh", "sigmoid"], "half_sse", lr=0.1)
    ref = st.mlp_step([w.astype(np.float64) for w in W], [v.astype(np.float64) for v in b],
                      X.astype(np.float64), T.astype(np.float64), ["tanh", "sigmoid"],
                      "half_sse", lr=0.1)
    for ours, theirs in ((res.delta[0], ref.delta[0]), (res.grad_W[0], ref.grad_W[0]),
                         (res.new_W[1], ref.new_W[1]), (res.loss, ref.loss)):
        assert np.asarray(ours).dtype == dtype
        np.testing.assert_allclose(ours, theirs, **tolerance)
    lin = st.linear_unit_table(W[0][0], X, T[:, 0], lr=0.1)
    rows = st.optimizer_table("adam", "notes", W[0][0], lambda i, w: w, 2, lr=0.1)
    assert lin.loss.dtype == lin.new_w.dtype == rows[-1].new_w.dtype == dtype


def test_the_trace_yaml_loader_leaves_every_other_yaml_reader_its_numbers():
    # The trace reader drops YAML 1.1's number resolvers on its own Loader only; once it did so
    # on the dict it inherits from SafeLoader, and jsonargparse (the app's CLI) read "0.1" as
    # a string in every later test of the same process.
    import yaml

    import torchref.trace.inputs  # noqa: F401  (the import is the action under test)

    assert yaml.safe_load("lr: 0.1\nn: 3\nx: 1.0e-3") == {"lr": 0.1, "n": 3, "x": 1e-3}
