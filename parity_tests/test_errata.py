"""docs/errata.md is consistent with the code, and its newer entries are measured.

Two parts. (1) The page's conventions: every entry has a unique anchor, names tests that
exist, and is linked both ways with the docstrings that print a corrected form of the
document's formula (`Erratum: docs/errata.md#<id>` in the docstring, `- Code: ...` in the
entry). The code side is read with `ast`, like `torchref.catalog`, so nothing is imported.
(2) One test per erratum whose correction is not pinned elsewhere: each computes the
document's printed expression and the correct one independently (hand arithmetic, closed
forms, torch autograd) and shows that they differ as the entry says.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from parity_tests.helpers import assert_close, to_numpy, to_torch
from scratch import demonstrations as sd
from scratch import losses
from scratch.activations import is_subgradient, softmax, subgradient_abs
from scratch.optim import (
    SGD,
    heavy_ball_spectral_radius,
    iterate_until_divergence,
    quartic_loss_grad,
)
from torchref import demonstrations as td

ROOT = Path(__file__).resolve().parents[1]
ERRATA = ROOT / "docs" / "errata.md"
ROOMS = ("scratch", "torchref")
MARKER = re.compile(r"Erratum: docs/errata\.md#([a-z0-9-]+)")
ANCHOR_HEADING = re.compile(r'<a id="([^"]+)"></a>\n### ([A-Z]\d+): ')
TEST_REF = re.compile(r"parity_tests/(test_\w+\.py)::(test_\w+)")


# ---- (1) the page's conventions --------------------------------------------------------------


@functools.cache
def errata_entries() -> dict[str, str]:
    """`{anchor: entry text}` in page order; an entry runs to the next anchor or section."""
    text = ERRATA.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r'^<a id="', text, re.M)]
    entries = {}
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[start:end].split("\n## ")[0]
        m = ANCHOR_HEADING.match(chunk)
        assert m, f"an anchor not followed by an entry heading: {chunk[:80]!r}"
        assert m.group(1) not in entries, f"anchor {m.group(1)!r} is used twice"
        entries[m.group(1)] = chunk
    return entries


@functools.cache
def code_docstrings() -> dict[str, str]:
    """`{dotted name: docstring}` of every module, class, function and method of the rooms."""
    out = {}
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
            module = module.removesuffix(".__init__")
            tree = ast.parse(path.read_text(encoding="utf-8"))

            def walk(node, prefix: str) -> None:
                doc = ast.get_docstring(node, clean=False)
                if doc:
                    out[prefix] = doc
                for child in node.body:
                    if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                        walk(child, f"{prefix}.{child.name}")

            walk(tree, module)
    return out


def markers() -> dict[str, list[str]]:
    """`{dotted name: [anchor, ...]}` of the docstrings that carry an erratum marker."""
    found = {}
    for name, doc in code_docstrings().items():
        for line in doc.splitlines():
            if "Erratum:" in line:
                m = MARKER.fullmatch(line.strip())
                assert m, f"{name}: malformed marker {line.strip()!r} (Erratum: docs/errata.md#id)"
                found.setdefault(name, []).append(m.group(1))
    return found


def code_lines() -> dict[str, list[str]]:
    """`{anchor: [dotted name, ...]}` from each entry's `- Code:` line."""
    out = {}
    for anchor, text in errata_entries().items():
        m = re.search(r"^- Code: (.+)$", text, re.M)
        if m:
            out[anchor] = re.findall(r"`([\w.]+)`", m.group(1))
    return out


def test_every_entry_has_a_unique_anchor_named_after_its_catalog_id():
    entries = errata_entries()
    assert len(entries) >= 40
    for anchor, text in entries.items():
        heading_id = ANCHOR_HEADING.match(text).group(2).lower()
        assert anchor == heading_id or anchor.startswith(heading_id + "-"), anchor
    # Every entry heading has its anchor (none was added without one).
    headings = re.findall(r"^### ", ERRATA.read_text(encoding="utf-8"), re.M)
    assert len(headings) == len(entries)
    # The worked examples the trace tool replays keep their plain anchors.
    assert {"b6", "d10", "f3", "f4", "f6", "e2"} <= set(entries)


def test_every_correction_marker_in_a_docstring_links_an_existing_erratum():
    anchors = set(errata_entries())
    found = markers()
    assert len(found) >= 30  # the corrected docstrings of scratch/ and torchref/
    for name, targets in found.items():
        for a in targets:
            assert a in anchors, f"{name} links docs/errata.md#{a}, which does not exist"


def test_every_docstring_an_erratum_names_as_code_carries_the_marker_back():
    found, listed = markers(), code_lines()
    docs = code_docstrings()
    for anchor, names in listed.items():
        for name in names:
            assert name in docs, f"errata #{anchor} names {name}, which has no docstring"
            assert anchor in found.get(name, []), f"{name} lacks 'Erratum: docs/errata.md#{anchor}'"
    for name, targets in found.items():  # and the other way round
        for a in targets:
            assert name in listed.get(a, []), f"errata #{a} does not list {name} on its Code line"


def test_every_test_an_erratum_names_exists():
    defined = {}
    for path in (ROOT / "parity_tests").glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                defined.setdefault(node.name, set()).add(path.name)
    for anchor, text in errata_entries().items():
        refs = TEST_REF.findall(text)
        assert refs, f"errata #{anchor} names no test"
        for _, name in refs:
            # By name: a test moved to a sibling file still counts, a renamed one does not.
            assert name in defined, f"errata #{anchor} names {name}, which no test file defines"


# ---- (2) the corrections, measured ------------------------------------------------------------


@pytest.mark.catalog("A2")
def test_a2_the_neuron_computes_a_weighted_sum_not_an_average():
    r = sd.neuron_input_range([1.0, 1.0], [2.0, 3.0])
    assert r["z"] == 5.0 and not r["inside"]  # 2*1 + 3*1; any average of (1, 1) is 1
    rng = np.random.default_rng(0)
    for _ in range(50):  # with convex weights and no bias it is an average
        x, w = rng.normal(size=4), rng.dirichlet(np.ones(4))
        assert sd.neuron_input_range(x, w)["inside"]
    assert not sd.neuron_input_range([0.2, 0.4], [0.5, 0.5], b=1.0)["inside"]


@pytest.mark.catalog("A11")
def test_a11_the_sub_differential_of_abs_at_0_is_the_whole_interval():
    v = np.linspace(-2, 2, 401)
    assert all(is_subgradient(np.abs, g, 0.0, v) for g in np.linspace(-1, 1, 201))
    assert not is_subgradient(np.abs, 1.001, 0.0, v)
    assert not is_subgradient(np.abs, -1.001, 0.0, v)
    low, high = subgradient_abs(np.array([-3.0, 0.0, 2.0]))
    assert_close(low, [-1.0, -1.0, 1.0])
    assert_close(high, [-1.0, 1.0, 1.0])  # a set, [-1, 1], at 0; one value elsewhere


@pytest.mark.catalog("B3")
def test_b3_a_deeper_sigmoid_network_learns_less_in_the_same_budget():
    rows = sd.depth_sweep(depths=(1, 4), activations=("sigmoid",), seeds=1)
    shallow, deep = rows
    assert shallow["train_accuracy"] > 0.9 and shallow["test_accuracy"] > 0.8
    # Four sigmoid layers learn nothing: the majority class, the entropy of the labels.
    p = 0.745  # share of the larger class among the 200 training points (seed 0)
    assert deep["train_accuracy"] == pytest.approx(p)
    assert deep["train_loss"] == pytest.approx(-(p * math.log(p) + (1 - p) * math.log(1 - p)),
                                               abs=2e-3)
    assert deep["test_accuracy"] == pytest.approx(deep["majority_rate"])
    # torch's SGD on the same initial weights takes the same steps.
    from scratch.mlp import init_mlp
    from torchref.mlp import MLP, load_numpy_params

    X, y = sd.circle_dataset(np.random.default_rng(0), 200)
    params = init_mlp([2, 16, 16, 16, 16, 1], np.random.default_rng(100))
    _, ours = sd.train_full_batch(params, X, y, "sigmoid", lr=0.5, momentum=0.9, steps=60)
    model = load_numpy_params(MLP([2, 16, 16, 16, 16, 1], "sigmoid", head="binary"), params)
    theirs = td.train_full_batch(model, X, y, lr=0.5, momentum=0.9, steps=60)
    assert_close(to_numpy(theirs), ours, rtol=1e-9)


@pytest.mark.catalog("C1")
def test_c1_004_eps_without_the_square_lets_errors_cancel():
    h, y = np.array([[0.9, 0.1]]), np.array([[0.0, 1.0]])
    printed_middle = 0.5 * np.sum(h - y)  # 1/2 sum_r e_r(k), as printed
    assert printed_middle == pytest.approx(0.0)
    assert float(losses.squared_error(h, y, "half_sum")) == pytest.approx(0.81)  # 1/2 (.81 + .81)
    # Without the square the "cost" is linear in h: lowering an output lowers it without end.
    assert 0.5 * np.sum(h - 10 - y) < printed_middle - 9


@pytest.mark.catalog("C2")
def test_c2_003_first_member_of_dc_dy_has_the_wrong_sign():
    y, t = np.array([0.3, 0.8, 0.05]), np.array([1.0, 0.0, 1.0])
    printed_first = -(-t / y + (1 - t) / (1 - y))
    printed_next = (-t * (1 - y) + y * (1 - t)) / (y * (1 - y))
    yt = to_torch(y, requires_grad=True)
    F.binary_cross_entropy(yt, to_torch(t), reduction="sum").backward()
    autograd = to_numpy(yt.grad)
    assert_close(printed_next, autograd)
    assert_close(printed_first, -autograd)
    assert printed_first[0] == pytest.approx(0.7 / 0.21)  # +3.333 at y = 0.3, t = 1
    assert_close(losses.binary_cross_entropy_grad(y, t) * y.size, autograd)


@pytest.mark.catalog("C5")
def test_c5_003_multi_class_ce_is_a_sum_of_binary_ces_not_the_categorical_ce():
    z = np.array([[2.0, 1.0, 0.0]])
    y, t = softmax(z, axis=1), np.array([[1.0, 0.0, 0.0]])
    mcc = float(losses.multilabel_cross_entropy(y, t))
    cce = float(losses.categorical_cross_entropy(y, t))
    # By hand: -ln y1 - ln(1 - y2) - ln(1 - y3) against -ln y1.
    assert mcc == pytest.approx(-math.log(y[0, 0]) - math.log(1 - y[0, 1]) - math.log(1 - y[0, 2]))
    assert cce == pytest.approx(-math.log(y[0, 0])) == pytest.approx(0.407606, abs=1e-6)
    assert mcc == pytest.approx(0.782628, abs=1e-6)
    # torch's names for the two: BCE summed over K outputs, and cross_entropy on the logits.
    zt = to_torch(z, requires_grad=True)
    F.binary_cross_entropy(torch.softmax(zt, 1), to_torch(t), reduction="sum").backward()
    assert float(F.cross_entropy(to_torch(z), torch.tensor([0]))) == pytest.approx(cce)
    # Through a softmax, only CCE has the gradient y - t.
    assert not np.allclose(to_numpy(zt.grad), y - t, atol=1e-3)


@pytest.mark.catalog("F10")
def test_f10_nesterov_takes_fewer_steps_at_lr_1_over_l_and_diverges_sooner():
    rows = {(r["lr"], r["mu"]): r for r in sd.momentum_vs_nesterov(lrs=(1.0, 1.5), mus=(0.9,),
                                                                    max_steps=600)}
    at_1, at_15 = rows[(1.0, 0.9)], rows[(1.5, 0.9)]
    assert at_1["nesterov"] < 0.8 * at_1["momentum"]
    assert at_15["nesterov"] is None and at_15["momentum"] is not None
    # Stability on one curvature h = eps a, from the 2x2 iteration matrices by hand:
    # momentum [[1-h, mu], [-h, mu]]; Nesterov [[(1-h), mu(1-h)], [-h, mu(1-h)]].
    def rho_nesterov(h, mu=0.9):
        return max(abs(np.linalg.eigvals([[1 - h, mu * (1 - h)], [-h, mu * (1 - h)]])))

    bound = (2 + 2 * 0.9) / (1 + 2 * 0.9)  # 1.357
    assert rho_nesterov(bound - 1e-3) < 1 < rho_nesterov(bound + 1e-3)
    assert heavy_ball_spectral_radius(1.0, 1.5, 0.9) < 1 < rho_nesterov(1.5)
    # torch's SGD(nesterov=True) iterates are the notes' look-ahead points w + mu m.
    w, m = sd.quadratic_momentum_path(sd.CURVATURES, lr=1.0, mu=0.9, nesterov=True, steps=40)
    p = td.quadratic_momentum_path(torch.tensor(sd.CURVATURES), lr=1.0, mu=0.9, nesterov=True,
                                   steps=40)
    assert_close(to_numpy(p)[1:], (w + 0.9 * m)[1:], rtol=1e-9, atol=1e-12)
    w, _ = sd.quadratic_momentum_path(sd.CURVATURES, lr=1.0, mu=0.9, nesterov=False, steps=40)
    p = td.quadratic_momentum_path(torch.tensor(sd.CURVATURES), lr=1.0, mu=0.9, nesterov=False,
                                   steps=40)
    assert_close(to_numpy(p), w, rtol=1e-9, atol=1e-12)


@pytest.mark.catalog("F16")
def test_f16_weight_decay_can_let_the_weight_grow_every_step():
    path = sd.weight_decay_path(0.5, 3.0, lr=0.1, lam=0.1, steps=300)
    # 0 < eps lambda = 0.01 < 1, and w rises at every step (until it rounds to its limit).
    assert np.all(np.diff(path[:150]) > 0) and np.all(np.diff(path) >= 0)
    assert_close(path[:4], [0.5, 0.745, 0.96305, 1.1571145])  # by hand: 0.99 w + 0.1 (3 - w)
    assert path[-1] == pytest.approx(3 / 1.1, rel=1e-9)  # the penalized minimizer
    assert_close(to_numpy(td.weight_decay_path(0.5, 3.0, lr=0.1, lam=0.1, steps=300)), path)


@pytest.mark.catalog("F20")
def test_f20_the_quartic_momentum_iterates_alternate_in_sign():
    path, diverged = iterate_until_divergence(quartic_loss_grad, np.array([1.0]),
                                              SGD(lr=1.5, momentum=0.9), steps=10)
    # By hand: m1 = -1.5, w1 = -0.5; m2 = 0.9 m1 - 1.5 (-0.5)^3 = -1.1625, w2 = -1.6625; ...
    assert diverged
    assert_close(path[:3, 0], [1.0, -0.5, -1.6625])
    assert np.sign(path[:6, 0]).tolist() == [1, -1, -1, 1, -1, 1]
    assert path[3, 0] == pytest.approx(4.18, abs=0.01) and path[4, 0] == pytest.approx(-100.4,
                                                                                       abs=0.1)


@pytest.mark.catalog("F21")
def test_f21_a_non_convex_loss_with_a_global_minimum_and_a_convex_one_without():
    r = sd.global_minimum_vs_convexity()
    at_weights, swapped, midpoint = r["losses"]
    assert at_weights == 0.0 and swapped == 0.0  # squared error: 0 is the least it can be
    assert midpoint == pytest.approx((4 + 1 + 4) / 3)  # f = 0 there, targets (2, 1, 2)
    assert midpoint > (at_weights + swapped) / 2  # so the loss is not convex
    for w, ce in r["separable_ce"]:
        assert ce == pytest.approx(math.log1p(math.exp(-w)), rel=1e-9)
        assert ce > 0
    ces = [ce for _, ce in r["separable_ce"]]
    assert all(a > b for a, b in zip(ces, ces[1:], strict=False))  # falling, never reaching 0
    assert r["separable_ce_curvature"] > 0  # convex
    nets = [sd.SYMMETRIC_NET, sd.swap_hidden_units(sd.SYMMETRIC_NET),
            [(a + b) / 2 for a, b in zip(sd.SYMMETRIC_NET, sd.swap_hidden_units(sd.SYMMETRIC_NET),
                                         strict=True)]]
    theirs = td.global_minimum_vs_convexity(nets, sd.SYMMETRIC_X)
    assert_close(theirs["losses"], r["losses"])
    assert_close(theirs["separable_ce"], r["separable_ce"])
    assert theirs["separable_ce_curvature"] == pytest.approx(r["separable_ce_curvature"], rel=1e-6)
