"""Parity of `scratch.activations` with torch (A1-A13): values, derivatives, kinks, extremes.

Each test pairs the NumPy formula with an independent computation: the torch module of
`torchref.activations` and torch autograd, central finite differences, or a closed form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn

from parity_tests.helpers import assert_close, to_numpy, to_torch
from scratch import activations as A
from torchref import activations as TA

NAMES = tuple(A.ACTIVATIONS)
SMOOTH = ("identity", "sigmoid", "tanh", "tanh_half", "swish")
SHAPES = [(7,), (4, 5), (2, 3, 4)]
EXTREME = [-1e4, -1e3, -100.0, -40.0, -1.0, 0.0, 1.0, 40.0, 100.0, 1e3, 1e4]


def _torch_value_and_grad(module: nn.Module, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward through the torch module and the element-wise derivative by autograd."""
    zt = to_torch(z, requires_grad=True)
    y = module(zt)
    # For an element-wise function, the vector-Jacobian product with ones is the derivative.
    y.backward(torch.ones_like(y))
    return to_numpy(y), to_numpy(zt.grad)


def _random_z(rng, shape, dtype) -> np.ndarray:
    z = rng.normal(scale=3.0, size=shape).astype(dtype)
    z.flat[0] = 0.0  # every case also crosses the kink at exactly 0
    return z


# ---- values and derivatives vs torch ------------------------------------------------------


@pytest.mark.catalog("A3", "A4", "A5", "A6", "A7", "A8")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_activation_and_derivative_match_torch_module_autograd(name, shape, dtype, rng):
    z = _random_z(rng, shape, dtype)
    fn, grad = A.get_activation(name)
    y_t, g_t = _torch_value_and_grad(TA.get_activation_module(name), z)
    y, g = fn(z), grad(z)
    assert y.dtype == dtype and g.dtype == dtype and y.shape == z.shape == g.shape
    assert_close(y, y_t, dtype)
    assert_close(g, g_t, dtype)


@pytest.mark.catalog("A3", "A4", "A5", "A6", "A7", "A8")
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15)
@given(
    z=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
        elements=st.floats(-60, 60, allow_nan=False, allow_subnormal=False),
    )
)
def test_activation_parity_on_random_shapes_and_values(name, z):
    fn, grad = A.get_activation(name)
    y_t, g_t = _torch_value_and_grad(TA.get_activation_module(name), z)
    assert_close(fn(z), y_t, np.float64)
    assert_close(grad(z), g_t, np.float64)


@pytest.mark.catalog("A3", "A4", "A5", "A6", "A7", "A8")
@pytest.mark.parametrize("name", NAMES)
def test_activation_derivative_matches_central_differences(name, rng):
    z = rng.uniform(-6, 6, size=40)
    z = z[np.abs(z) > 1e-3]  # away from the kink at 0, where no derivative exists
    fn, grad = A.get_activation(name)
    h = 1e-6
    fd = (fn(z + h) - fn(z - h)) / (2 * h)
    # Central differences: O(h^2) truncation plus ~eps/h rounding, so ~1e-9 absolute at best.
    np.testing.assert_allclose(grad(z), fd, rtol=1e-7, atol=1e-8)


@pytest.mark.catalog("A4")
def test_tanh_half_equals_two_sigmoid_minus_one(rng):
    z = rng.normal(scale=5, size=50)
    # Closed-form identity of 000's variant: tanh(x/2) = 2 sigma(x) - 1, derivative 2 sigma'.
    assert_close(A.tanh_half(z), 2 / (1 + np.exp(-z)) - 1)
    s = 1 / (1 + np.exp(-z))
    assert_close(A.tanh_half_grad(z), 2 * s * (1 - s))


@pytest.mark.catalog("A3", "A4")
def test_sigmoid_grad_is_sigma_times_one_minus_sigma(rng):
    z = rng.uniform(-20, 20, size=50)
    s = A.sigmoid(z)
    # The notes' form sigma(1 - sigma) loses relative accuracy in the tails, not absolute.
    assert_close(A.sigmoid_grad(z), s * (1 - s), atol=1e-15)
    t = A.tanh(z)
    assert_close(A.tanh_grad(z), 1 - t**2, atol=1e-15)


# ---- kinks (A5, A6, A7, A11) ---------------------------------------------------------------

KINK_CASES = {
    # name: (scratch derivative at 0, torch function differentiated at 0, the documented value)
    "relu": (A.relu_grad, F.relu, 0.0),
    "leaky_relu": (A.leaky_relu_grad, lambda z: F.leaky_relu(z, 0.01), 0.01),
    "leaky_relu_0.3": (lambda z: A.leaky_relu_grad(z, 0.3), lambda z: F.leaky_relu(z, 0.3), 0.3),
    "prelu": (
        lambda z: A.prelu_grad(z, 0.25),
        lambda z: F.prelu(z, torch.tensor([0.25], dtype=z.dtype)),
        0.25,
    ),
    "elu": (A.elu_grad, F.elu, 1.0),
    "elu_0.7": (lambda z: A.elu_grad(z, 0.7), lambda z: F.elu(z, 0.7), 0.7),
    "step": (A.step_grad, TA.Step(), 0.0),
    "sign_unit": (A.sign_unit_grad, TA.SignUnit(), 0.0),
    "sign": (A.sign_grad, torch.sign, 0.0),
}


@pytest.mark.catalog("A1", "A5", "A6", "A7", "A9", "A11")
@pytest.mark.parametrize("case", KINK_CASES)
def test_derivative_at_exactly_zero_is_torch_autograd_choice(case, dtype):
    ours, torch_fn, documented = KINK_CASES[case]
    z = np.zeros(3, dtype=dtype)
    zt = to_torch(z, requires_grad=True)
    torch_fn(zt).sum().backward()
    assert_close(ours(z), to_numpy(zt.grad), dtype, rtol=0, atol=0)
    assert_close(ours(z), np.full(3, documented, dtype=dtype), dtype, rtol=0, atol=0)


@pytest.mark.catalog("A11")
@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.25, 1.0])
def test_relu_family_kink_values_are_subgradients(alpha):
    # A11: the value chosen at 0 satisfies f(v) >= f(0) + g v for every v (f is convex for
    # alpha <= 1), and so does every g between the one-sided derivatives alpha and 1.
    v = np.linspace(-3, 3, 61)
    f = lambda x: A.leaky_relu(x, alpha)  # noqa: E731
    g0 = float(A.leaky_relu_grad(np.zeros(1), alpha)[0])
    assert A.is_subgradient(f, g0, 0.0, v)
    for g in np.linspace(alpha, 1, 5):
        assert A.is_subgradient(f, g, 0.0, v)
    assert not A.is_subgradient(f, 1.05, 0.0, v)
    assert not A.is_subgradient(f, alpha - 0.05, 0.0, v)


@pytest.mark.catalog("A11")
def test_subgradient_of_abs_at_zero_is_minus_one_to_one_and_holds_torch_choice():
    low, high = A.subgradient_abs(np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(low, [-1, -1, 1])
    np.testing.assert_array_equal(high, [-1, 1, 1])
    v = np.linspace(-2, 2, 41)
    # Every g in [-1, 1] is a sub-gradient of |v| at 0 (002 §4.2.3: |u| >= g u), none outside.
    for g in (-1.0, -0.3, 0.0, 0.7, 1.0):
        assert A.is_subgradient(np.abs, g, 0.0, v)
    for g in (-1.1, 1.1):
        assert not A.is_subgradient(np.abs, g, 0.0, v)
    zt = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    zt.abs().backward()
    assert low[1] <= zt.grad.item() <= high[1]


# ---- extreme inputs ------------------------------------------------------------------------


@pytest.mark.catalog("A3", "A4", "A5", "A6", "A7", "A8")
@pytest.mark.parametrize("name", NAMES + ("step", "sign_unit", "sign"))
def test_extreme_inputs_give_finite_values_without_warnings(name, dtype):
    z = np.array(EXTREME, dtype=dtype)
    fn, grad = A.get_activation(name)
    y, g = fn(z), grad(z)  # a NumPy RuntimeWarning is an error suite-wide
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    y_t, g_t = _torch_value_and_grad(TA.get_activation_module(name), z)
    assert_close(y, y_t, dtype)
    assert_close(g, g_t, dtype)


@pytest.mark.catalog("A10")
def test_softmax_extreme_logits_are_finite_and_match_torch(dtype):
    z = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    y = A.softmax(z)
    assert np.all(np.isfinite(y))
    assert_close(y, F.softmax(to_torch(z), dim=-1), dtype)
    assert_close(A.softmax_jacobian(z), _torch_softmax_jacobian(z), dtype)


# ---- PReLU (A6) ----------------------------------------------------------------------------


@pytest.mark.catalog("A6")
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)], ids=str)
@pytest.mark.parametrize("per_channel", [False, True], ids=["shared", "per_channel"])
def test_prelu_value_and_both_gradients_match_nn_prelu(shape, per_channel, dtype, rng):
    z = _random_z(rng, shape, dtype)
    c = shape[1] if per_channel else 1
    alpha = rng.uniform(0.05, 0.5, size=c).astype(dtype)
    dout = rng.normal(size=shape).astype(dtype)

    module = nn.PReLU(num_parameters=c).to(to_torch(z).dtype)
    with torch.no_grad():
        module.weight.copy_(to_torch(alpha))
    zt = to_torch(z, requires_grad=True)
    y_t = module(zt)
    y_t.backward(to_torch(dout))

    assert_close(A.prelu(z, alpha), y_t, dtype)
    dz, dalpha = A.prelu_backward(dout, z, alpha)
    assert_close(dz, zt.grad, dtype)
    assert dalpha.shape == module.weight.shape
    assert_close(dalpha, module.weight.grad, dtype)
    assert_close(A.prelu_grad(z, alpha) * dout, zt.grad, dtype)


@pytest.mark.catalog("A6")
def test_prelu_grad_alpha_matches_central_differences(rng):
    z = rng.normal(size=(5, 4))
    alpha = np.array([0.2, 0.1, 0.3, 0.05])
    h = 1e-6
    for k in range(4):
        e = np.zeros(4)
        e[k] = h
        fd = (A.prelu(z, alpha + e) - A.prelu(z, alpha - e)) / (2 * h)  # (5, 4)
        # prelu is linear in alpha: only rounding (~eps/h) separates the two.
        np.testing.assert_allclose(A.prelu_grad_alpha(z, alpha)[:, k], fd[:, k], atol=1e-9)


@pytest.mark.catalog("A6")
def test_leaky_relu_is_prelu_with_fixed_alpha_and_notes_max_form_holds_for_alpha_at_most_1(rng):
    z = rng.normal(size=30)
    assert_close(A.leaky_relu(z), A.prelu(z, 0.01), rtol=0, atol=0)
    for alpha in (0.0, 0.01, 0.5, 1.0):
        assert_close(A.prelu(z, alpha), np.maximum(alpha * z, z))  # 002: max(alpha x, x)
    # For alpha > 1 the notes' max form is alpha x on x > 0; PReLU (and torch) keep x there.
    assert not np.allclose(A.prelu(z, 2.0), np.maximum(2.0 * z, z))
    assert_close(A.prelu(z, 2.0), F.prelu(to_torch(z), torch.tensor([2.0], dtype=torch.float64)))



@pytest.mark.catalog("A7")
def test_elu_alpha_is_a_fixed_hyperparameter_while_prelu_alpha_is_learned(rng):
    # 002 §4.1.2 calls ELU's alpha learned; torch (and the ELU paper) fix it, PReLU learns its.
    assert list(nn.ELU(alpha=0.7).parameters()) == []
    (weight,) = nn.PReLU().parameters()
    assert weight.requires_grad
    z = rng.normal(size=(4, 2))
    _, dalpha = A.prelu_backward(np.ones_like(z), z, 0.25)
    assert dalpha.shape == () and dalpha == np.minimum(z, 0).sum()

# ---- softmax (A10) -------------------------------------------------------------------------


def _torch_softmax_jacobian(z: np.ndarray) -> np.ndarray:
    zt = to_torch(z)
    if z.ndim == 1:
        return to_numpy(torch.autograd.functional.jacobian(lambda v: F.softmax(v, dim=-1), zt))
    return np.stack(
        [
            to_numpy(torch.autograd.functional.jacobian(lambda v: F.softmax(v, dim=-1), row))
            for row in zt
        ]
    )


@pytest.mark.catalog("A10")
@pytest.mark.parametrize("shape", [(5,), (3, 4)], ids=str)
def test_softmax_jacobian_matches_torch_autograd_functional_jacobian(shape, dtype, rng):
    z = rng.normal(scale=2, size=shape).astype(dtype)
    jac = A.softmax_jacobian(z)
    assert jac.shape == shape + (shape[-1],)
    assert_close(jac, _torch_softmax_jacobian(z), dtype)
    diag = np.diagonal(jac, axis1=-2, axis2=-1)
    assert_close(A.softmax_diag_grad(z), diag, dtype)


@pytest.mark.catalog("A10")
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_values_and_backward_match_torch(axis, dtype, rng):
    z = rng.normal(scale=3, size=(3, 4, 5)).astype(dtype)
    dy = rng.normal(size=z.shape).astype(dtype)
    zt = to_torch(z, requires_grad=True)
    y_t = F.softmax(zt, dim=axis)
    y_t.backward(to_torch(dy))
    assert_close(A.softmax(z, axis=axis), y_t, dtype)
    assert_close(A.softmax_backward(dy, z, axis=axis), zt.grad, dtype)


@pytest.mark.catalog("A10")
@settings(max_examples=30)
@given(
    z=hnp.arrays(
        np.float64,
        st.integers(2, 6),
        elements=st.floats(-30, 30, allow_nan=False, allow_subnormal=False),
    ),
    i=st.integers(0, 5),
    delta=st.floats(0.1, 5),
)
def test_softmax_sums_to_one_and_raising_one_logit_lowers_the_others(z, i, delta):
    i = i % z.shape[0]
    y = A.softmax(z)
    assert math.isclose(y.sum(), 1.0, rel_tol=1e-12)
    z2 = z.copy()
    z2[i] += delta
    y2 = A.softmax(z2)
    others = np.arange(z.shape[0]) != i
    # 003: "when one softmax unit's y grows, the others shrink"; exactly, every other output
    # is multiplied by the same factor sum_j e^z_j / sum_j e^z2_j < 1.
    # In float64 an output that rounds to 1 (or 0) may not move visibly: check the factor,
    # and that no other output grows.
    shift = z.max()
    factor = np.exp(z - shift).sum() / np.exp(z2 - shift).sum()
    assert factor <= 1  # < 1 exactly; it rounds to 1 when z[i] is far below the others
    np.testing.assert_allclose(y2[others], y[others] * factor, rtol=1e-12, atol=0)
    assert np.all(y2[others] <= y[others])
    assert y2[i] > y[i] or y[i] == 1.0


# ---- step / sign units (A1, A9) ------------------------------------------------------------


@pytest.mark.catalog("A1", "A9")
def test_step_and_sign_unit_match_heaviside_and_have_zero_gradient(dtype, rng):
    z = _random_z(rng, (4, 6), dtype)
    z.flat[1] = -0.0
    expected = torch.heaviside(to_torch(z), torch.zeros((), dtype=to_torch(z).dtype))
    for fn, grad, module in (
        (A.step, A.step_grad, TA.Step()),
        (A.sign_unit, A.sign_unit_grad, TA.SignUnit()),
    ):
        assert_close(fn(z), expected, dtype, rtol=0, atol=0)
        y_t, g_t = _torch_value_and_grad(module, z)
        assert_close(fn(z), y_t, dtype, rtol=0, atol=0)
        assert_close(grad(z), g_t, dtype, rtol=0, atol=0)
    assert_close(A.sign(z), torch.sign(to_torch(z)), dtype, rtol=0, atol=0)
    assert set(np.unique(A.sign_unit(z))) <= {0.0, 1.0}


@pytest.mark.catalog("A1")
def test_threshold_neuron_outputs_zero_on_the_boundary_and_matches_torch():
    # y = 1{x^T w + b > 0}: the AND unit of 003 with w = (1, 1), b = -1.5, and b = -1 puts
    # (0, 1) and (1, 0) exactly on the boundary, where the strict inequality gives 0.
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    w = np.array([1.0, 1.0])
    torch_unit = TA.Neuron(2, activation="step").double()
    with torch.no_grad():
        torch_unit.linear.weight.copy_(torch.tensor([[1.0, 1.0]]))
    for b, expected in ((-1.5, [0, 0, 0, 1]), (-1.0, [0, 0, 0, 1]), (-0.5, [0, 1, 1, 1])):
        with torch.no_grad():
            torch_unit.linear.bias.fill_(b)
        ours = A.threshold_neuron(x, w, b)
        np.testing.assert_array_equal(ours, expected)
        assert_close(ours, torch_unit(to_torch(x)), rtol=0, atol=0)


@pytest.mark.catalog("A2")
@pytest.mark.parametrize("name", NAMES)
def test_generic_neuron_matches_linear_then_activation_module(name, rng):
    x = rng.normal(size=(6, 3))
    w = rng.normal(size=3)
    b = float(rng.normal())
    unit = TA.Neuron(3, activation=name).double()
    with torch.no_grad():
        unit.linear.weight.copy_(to_torch(w[None, :]))
        unit.linear.bias.fill_(b)
    assert_close(A.neuron(x, w, b, activation=name), unit(to_torch(x)))
    assert_close(A.neuron(x[0], w, b, activation=name), unit(to_torch(x[:1]))[0])


# ---- A12: saturation and centring, as measured facts ---------------------------------------


@pytest.mark.catalog("A12")
@pytest.mark.parametrize("level", [1e-3, 1e-6])
def test_sigmoid_and_tanh_saturation_points_match_closed_forms_and_torch(level):
    z_sig = A.saturation_point(A.sigmoid_grad, level)
    z_tanh = A.saturation_point(A.tanh_grad, level)
    # Closed forms: sigma'(z) = e/(1+e)^2 = level with e = e^-z is the quadratic
    # level e^2 + (2 level - 1) e + level = 0, whose roots multiply to 1, so z = log of the
    # larger root (taken without cancellation); tanh'(z) = sech^2 z = level at
    # z = arccosh(1/sqrt(level)).
    e_big = ((1 - 2 * level) + math.sqrt(1 - 4 * level)) / (2 * level)
    assert math.isclose(z_sig, math.log(e_big), rel_tol=1e-10)
    assert math.isclose(z_tanh, math.acosh(1 / math.sqrt(level)), rel_tol=1e-10)
    # torch autograd agrees that the derivative crosses `level` there.
    for fn, z0 in ((torch.sigmoid, z_sig), (torch.tanh, z_tanh)):
        zt = torch.tensor([z0 - 1e-3, z0 + 1e-3], dtype=torch.float64, requires_grad=True)
        fn(zt).sum().backward()
        assert zt.grad[0] > level > zt.grad[1]


@pytest.mark.catalog("A12")
def test_saturation_values_documented_in_docs_activations_md():
    # The numbers docs/activations.md states, recomputed (rounded to 2 decimals there).
    measured = {
        ("sigmoid", 1e-3): 6.91,
        ("sigmoid", 1e-6): 13.82,
        ("tanh", 1e-3): 4.15,
        ("tanh", 1e-6): 7.60,
    }
    for (name, level), printed in measured.items():
        _, grad = A.get_activation(name)
        assert round(A.saturation_point(grad, level), 2) == printed


@pytest.mark.catalog("A12")
def test_relu_derivative_never_saturates_and_saturation_point_says_so():
    z = np.array([1e-3, 1.0, 1e2, 1e4])
    assert_close(A.relu_grad(z), np.ones(4), rtol=0, atol=0)
    zt = to_torch(z, requires_grad=True)
    torch.relu(zt).sum().backward()
    assert_close(zt.grad, np.ones(4), rtol=0, atol=0)
    with pytest.raises(ValueError, match="level must be in"):
        A.saturation_point(A.relu_grad, 1e-3)  # relu'(0) = 0: no level below it


@pytest.mark.catalog("A12")
@pytest.mark.parametrize(
    ("name", "mean"), [("sigmoid", 0.5), ("tanh", 0.0), ("tanh_half", 0.0)]
)
def test_mean_output_over_symmetric_inputs_shows_which_is_zero_centred(name, mean, rng):
    z = rng.normal(scale=4, size=200)
    z = np.concatenate([z, -z])  # symmetric inputs
    fn, _ = A.get_activation(name)
    # sigma(z) + sigma(-z) = 1 and tanh is odd: the means are exact up to rounding.
    assert math.isclose(fn(z).mean(), mean, abs_tol=1e-14)
    torch_mean = TA.get_activation_module(name)(to_torch(z)).mean().item()
    assert math.isclose(torch_mean, mean, abs_tol=1e-14)
    # ReLU and swish are not zero-centred either: their mean is strictly positive.
    assert A.relu(z).mean() > 0.5 and A.swish(z).mean() > 0.5


# ---- A13: dying ReLU units -----------------------------------------------------------------


def _dying_setup(rng, bias):
    x = rng.normal(size=(32, 4))
    y = x @ np.array([1.0, -2.0, 0.5, 1.5])
    W = rng.normal(scale=0.5, size=(8, 4))
    b = np.full(8, bias)
    b[:2] = 0.5  # two healthy units, the rest under a large negative bias
    v = rng.normal(size=8)
    return x, y, W, b, v, 0.1


@pytest.mark.catalog("A13")
def test_dying_relu_units_output_zero_get_zero_gradient_and_never_recover(rng):
    x, y, W, b, v, c = _dying_setup(rng, bias=-20.0)
    out = A.dying_relu_demo(x, y, W, b, v, c, lr=0.05, steps=3)
    dead = out["dead"]
    assert dead[2:].all() and not dead[:2].any()

    # torch: the same net, nn.Linear + nn.ReLU, one backward pass.
    lin = nn.Linear(4, 8).double()
    head = nn.Linear(8, 1).double()
    with torch.no_grad():
        lin.weight.copy_(to_torch(W))
        lin.bias.copy_(to_torch(b))
        head.weight.copy_(to_torch(v[None, :]))
        head.bias.fill_(c)
    h = nn.ReLU()(lin(to_torch(x)))
    assert torch.all(h[:, to_torch(dead)] == 0)  # dead units output 0 for every input
    loss = 0.5 * F.mse_loss(head(h).squeeze(-1), to_torch(y), reduction="mean")
    loss.backward()
    assert_close(out["dW"], lin.weight.grad)
    assert_close(out["db"], lin.bias.grad)
    assert_close(out["dv"], head.weight.grad[0])
    assert np.all(out["dW"][dead] == 0) and np.all(out["db"][dead] == 0)
    assert np.any(out["dW"][~dead] != 0)
    # Zero gradient: gradient descent never moves them, so they stay dead.
    np.testing.assert_array_equal(out["W"][dead], W[dead])
    np.testing.assert_array_equal(out["b"][dead], b[dead])
    np.testing.assert_array_equal(out["dead_after"], dead)


@pytest.mark.catalog("A13")
def test_dead_relu_units_are_those_with_nonpositive_preactivation_everywhere(rng):
    x, _, W, b, _, _ = _dying_setup(rng, bias=-20.0)
    z = F.linear(to_torch(x), to_torch(W), to_torch(b))  # (N, H)
    torch_dead = to_numpy((z <= 0).all(dim=0))
    np.testing.assert_array_equal(A.dead_relu_units(x, W, b), torch_dead)
    _, _, W2, b2, _, _ = _dying_setup(rng, bias=0.0)  # a sane bias: no unit dead
    assert not A.dead_relu_units(x, W2, b2).any()


# ---- registry and bad input ----------------------------------------------------------------


@pytest.mark.catalog("A2")
def test_torchref_has_a_module_for_every_scratch_activation():
    for name in A.ACTIVATION_NAMES.options:
        assert isinstance(TA.get_activation_module(name), nn.Module)
    assert isinstance(TA.get_activation_module("prelu"), nn.PReLU)
    assert isinstance(TA.get_activation_module("softmax"), nn.Softmax)
    assert TA.get_activation_module("leaky_relu").negative_slope == 0.01


def test_unknown_activation_name_is_rejected_with_the_valid_choices():
    with pytest.raises(ValueError, match=r"unknown activation 'relu6'; valid choices: 'identity'"):
        A.get_activation("relu6")
    with pytest.raises(ValueError, match=r"unknown activation 'relu6'; valid choices: 'identity'"):
        TA.get_activation_module("relu6")
    with pytest.raises(ValueError, match="unknown activation 'Sigmoid'"):
        A.neuron(np.ones(2), np.ones(2), 0.0, activation="Sigmoid")


def test_bad_activation_inputs_raise_errors_naming_the_argument():
    with pytest.raises(ValueError, match="z must be finite, got 1 NaN/inf"):
        A.sigmoid(np.array([0.0, np.nan]))
    with pytest.raises(TypeError, match="z must hold real numbers"):
        A.relu(np.array(["a"]))
    with pytest.raises(TypeError, match="alpha must be a real number"):
        A.leaky_relu(np.ones(3), alpha="0.1")
    with pytest.raises(ValueError, match=r"alpha must hold 1 value or one per.*alpha\(4,\)"):
        A.prelu(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"alpha must hold 1 value or one per channel.*z\(3,\)"):
        A.prelu(np.ones(3), np.ones(3))  # no channel axis on a 1-D input, as nn.PReLU
    with pytest.raises(ValueError, match=r"dout and z must have the same shape"):
        A.prelu_backward(np.ones((2, 2)), np.ones((2, 3)), 0.25)
    with pytest.raises(ValueError, match=r"z must have 1 or 2 dimension\(s\), got shape \(1, 2"):
        A.softmax_jacobian(np.ones((1, 2, 3)))
    with pytest.raises(ValueError, match=r"x and w must agree.*x\(2, 3\) and w\(2,\)"):
        A.neuron(np.ones((2, 3)), np.ones(2), 0.0)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        A.dying_relu_demo(np.ones((2, 1)), np.ones(2), np.ones((1, 1)), np.ones(1), np.ones(1), 0.0,
                          steps=0)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\), got 2.0"):
        A.saturation_point(A.sigmoid_grad, 2.0)

