"""Weight initialization (G3): scratch.init vs torchref.init (torch.nn.init), sample statistics
against the intended variance, the symmetry problem, and signal propagation through 20 layers.

Statistical tests: W holds n i.i.d. draws with intended std s. For a normal scheme
sum(W^2)/s^2 ~ chi2(n) exactly (the mean is known to be 0), so the two-sided (1 - ALPHA)
interval for the sample second moment is s^2 [chi2.ppf(ALPHA/2, n), chi2.isf(ALPHA/2, n)] / n.
For the uniform scheme W^2 has mean b^2/3 and variance 4 b^4/45 (b the bound); the CLT bound is
z_{ALPHA/2} sqrt(4 b^4 / (45 n)). Seeds are fixed; ALPHA says how unlikely a false alarm is.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from parity_tests.helpers import TORCH_DTYPE, assert_close, to_numpy
from scratch.init import (
    activation_variances,
    init_params,
    init_std,
    init_weight,
    signal_propagation,
)
from scratch.mlp import loss_and_grads, mlp_forward
from torchref.init import init_weight_, initialize
from torchref.mlp import MLP, load_numpy_params, to_numpy_params

ALPHA = 1e-6
N_OUT, N_IN = 200, 300  # n_in != n_out, so the notes' Xavier and torch's xavier_normal_ differ
NORMAL_CASES = [("normal", 0.01), ("normal", 0.1), ("normal", 1.0), ("xavier", None), ("he", None)]
INTENDED_VAR = {  # the notes' formulas, written independently of init_std
    ("normal", 0.01): 0.01**2, ("normal", 0.1): 0.1**2, ("normal", 1.0): 1.0,
    ("xavier", None): 1 / N_IN, ("he", None): 2 / N_IN, ("uniform", None): 1 / (3 * N_IN),
}


def _chi2_interval(var: float, n: int) -> tuple[float, float]:
    return (var * stats.chi2.ppf(ALPHA / 2, n) / n, var * stats.chi2.isf(ALPHA / 2, n) / n)


def _assert_normal_sample(W: np.ndarray, var: float) -> None:
    w = W.astype(np.float64).ravel()
    lo, hi = _chi2_interval(var, w.size)
    second_moment = float(np.mean(w**2))
    assert lo <= second_moment <= hi, f"mean(W^2) = {second_moment:.6g} not in [{lo:.6g}, {hi:.6g}]"
    z = stats.norm.isf(ALPHA / 2)
    assert abs(w.mean()) <= z * math.sqrt(var / w.size)
    assert stats.kstest(w, stats.norm(0, math.sqrt(var)).cdf).pvalue > ALPHA


def _assert_uniform_sample(W: np.ndarray, n_in: int) -> None:
    w = W.astype(np.float64).ravel()
    b = 1 / math.sqrt(n_in)
    assert np.all(np.abs(w) <= b)
    z = stats.norm.isf(ALPHA / 2)
    assert abs(np.mean(w**2) - b * b / 3) <= z * math.sqrt(4 * b**4 / (45 * w.size))
    assert stats.kstest(w, stats.uniform(-b, 2 * b).cdf).pvalue > ALPHA


# ---- the intended variances -------------------------------------------------------------


@pytest.mark.catalog("G3")
@pytest.mark.parametrize("scheme,std", [*NORMAL_CASES, ("uniform", None)], ids=str)
def test_init_std_is_the_notes_formula(scheme, std):
    assert init_std(scheme, N_IN, std) == pytest.approx(math.sqrt(INTENDED_VAR[(scheme, std)]))


@pytest.mark.catalog("G3")
@pytest.mark.parametrize("scheme", ["xavier", "he"])
def test_torch_kaiming_gain_over_sqrt_fan_in_is_the_notes_std(scheme):
    # torch's own gain table (independent of torchref): std = gain / sqrt(fan_in).
    gain = nn.init.calculate_gain("linear" if scheme == "xavier" else "relu")
    assert gain / math.sqrt(N_IN) == pytest.approx(init_std(scheme, N_IN))


# ---- sample statistics, both sides --------------------------------------------------------


@pytest.mark.catalog("G3")
@pytest.mark.parametrize("scheme,std", NORMAL_CASES, ids=str)
def test_scratch_normal_schemes_have_the_intended_variance_chi_square(rng, dtype, scheme, std):
    W = init_weight((N_OUT, N_IN), scheme, rng, std, dtype=dtype)
    assert W.shape == (N_OUT, N_IN) and W.dtype == dtype
    _assert_normal_sample(W, INTENDED_VAR[(scheme, std)])


@pytest.mark.catalog("G3")
@pytest.mark.parametrize("scheme,std", NORMAL_CASES, ids=str)
def test_torch_normal_schemes_have_the_intended_variance_chi_square(dtype, scheme, std):
    layer = nn.Linear(N_IN, N_OUT).to(TORCH_DTYPE[dtype])
    initialize(layer, scheme, std, generator=torch.Generator().manual_seed(3))
    assert torch.count_nonzero(layer.bias) == 0
    _assert_normal_sample(to_numpy(layer.weight), INTENDED_VAR[(scheme, std)])


@pytest.mark.catalog("G3")
def test_uniform_scheme_is_u_minus_to_plus_one_over_sqrt_n_on_both_sides(rng):
    _assert_uniform_sample(init_weight((N_OUT, N_IN), "uniform", rng), N_IN)
    gen = torch.Generator().manual_seed(4)
    layer = initialize(nn.Linear(N_IN, N_OUT), "uniform", generator=gen)
    _assert_uniform_sample(to_numpy(layer.weight), N_IN)


@pytest.mark.catalog("G3")
def test_torch_default_linear_init_is_the_notes_uniform_and_initialize_leaves_it(rng):
    layer = nn.Linear(N_IN, N_OUT)
    before = layer.weight.detach().clone(), layer.bias.detach().clone()
    assert initialize(layer, "torch_default") is layer
    assert torch.equal(layer.weight, before[0]) and torch.equal(layer.bias, before[1])
    _assert_uniform_sample(to_numpy(layer.weight), N_IN)


@pytest.mark.catalog("G3")
def test_the_notes_xavier_is_not_torch_xavier_normal(rng):
    # torch.nn.init.xavier_normal_ has Var 2/(n_in + n_out) = 1/250, the notes' Xavier 1/300;
    # the chi-square interval for 1/300 is narrow enough to reject xavier_normal_ samples.
    W = nn.init.xavier_normal_(torch.empty(N_OUT, N_IN, dtype=torch.float64),
                               generator=torch.Generator().manual_seed(5))
    lo, hi = _chi2_interval(1 / N_IN, W.numel())
    assert not lo <= float(W.pow(2).mean()) <= hi
    _assert_normal_sample(to_numpy(W), 2 / (N_IN + N_OUT))


@pytest.mark.catalog("G3")
def test_zeros_scheme_is_exactly_zero_on_both_sides(rng):
    assert not np.any(init_weight((3, 4), "zeros", rng))
    layer = initialize(nn.Linear(4, 3), "zeros")
    assert torch.count_nonzero(layer.weight) == 0 and torch.count_nonzero(layer.bias) == 0


@pytest.mark.catalog("G3")
def test_initialize_is_reproducible_with_a_seeded_generator():
    a = initialize(MLP((5, 7, 3)), "he", generator=torch.Generator().manual_seed(9))
    b = initialize(MLP((5, 7, 3)), "he", generator=torch.Generator().manual_seed(9))
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


# ---- the symmetry problem -----------------------------------------------------------------


def _train_scratch(params, X, y, activation, steps=40, lr=0.5):
    for _ in range(steps):
        _, grads = loss_and_grads(params, X, y, activation, "multiclass")
        params = [p - lr * g for p, g in zip(params, grads, strict=True)]
    return params


def _assert_hidden_units_identical(params):
    for l in range(len(params) // 2 - 1):
        W, b, W_next = params[2 * l], params[2 * l + 1], params[2 * l + 2]
        assert np.allclose(W, W[:1]), f"rows of W{l + 1} differ"  # incoming weights
        assert np.allclose(b, b[0])
        assert np.allclose(W_next, W_next[:, :1])  # outgoing weights


@pytest.mark.catalog("G3")
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("value", [0.0, 0.3], ids=["zeros", "constant"])
def test_identical_init_keeps_hidden_units_identical_after_training(rng, activation, value):
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    sizes = (4, 6, 5, 3)
    params = [np.full_like(p, value) for p in init_params(sizes, "zeros", rng)]
    trained = _train_scratch(params, X, y, activation)
    _assert_hidden_units_identical(trained)
    assert not np.allclose(trained[-1], params[-1])  # it did train (the output bias moved)
    # Random init breaks the symmetry: the same training leaves the units different.
    random = _train_scratch(init_params(sizes, "xavier", rng), X, y, activation)
    assert not np.allclose(random[0], random[0][:1])


@pytest.mark.catalog("G3")
def test_zero_init_training_matches_torch_and_keeps_units_identical(rng):
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    model = initialize(MLP((4, 6, 3), "sigmoid").double(), "zeros")
    params = init_params((4, 6, 3), "zeros", rng)
    assert all(np.array_equal(a, b) for a, b in zip(params, to_numpy_params(model), strict=True))
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(40):  # plain GD, autograd gradients (torch.optim would add a dynamo import)
        model.zero_grad()
        model.loss(model(Xt), yt).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    trained = _train_scratch(params, X, y, "sigmoid")
    for a, b in zip(trained, to_numpy_params(model), strict=True):
        assert_close(a, b)
    _assert_hidden_units_identical(to_numpy_params(model))


@pytest.mark.catalog("G3")
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_notes_claim_that_zero_init_gives_zero_outputs_and_gradients_is_wrong(rng, activation):
    """002 §4.3.2: "if all weights are 0, the output and all gradients are 0, no update".

    Pinned values (errata G3), computed by torch autograd independently of scratch:
    the softmax output is 1/K, not 0; the output bias always has a non-zero gradient; with
    sigmoid hidden units (sigma(0) = 1/2) the output weights do too. Only with g(0) = 0 (tanh,
    ReLU) are the weight gradients exactly 0.
    """
    X, y = rng.normal(size=(12, 4)), np.array([0] * 8 + [1] * 3 + [2])
    model = initialize(MLP((4, 5, 3), activation).double(), "zeros")
    out = model.predict(torch.from_numpy(X))
    assert_close(out, np.full((12, 3), 1 / 3))  # not 0
    model.loss(model(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    W1, b1, W2, b2 = (p.grad for p in model.parameters())
    # db2 = mean(softmax - onehot) = 1/3 - class frequency (8/12, 3/12, 1/12), by hand:
    assert_close(b2, np.array([1 / 3 - 8 / 12, 1 / 3 - 3 / 12, 1 / 3 - 1 / 12]))
    assert torch.count_nonzero(W1) == 0 and torch.count_nonzero(b1) == 0  # W2 = 0 blocks them
    if activation == "sigmoid":
        assert_close(W2, np.outer(b2, np.full(5, 0.5)))  # dW2 = delta^T a1, a1 = 1/2
    else:
        assert torch.count_nonzero(W2) == 0
    # Scratch agrees on every gradient.
    _, grads = loss_and_grads(to_numpy_params(model), X, y, activation, "multiclass")
    for g, t in zip(grads, (W1, b1, W2, b2), strict=True):
        assert_close(g, t)
    logits, _ = mlp_forward(to_numpy_params(model), X, activation)
    assert not np.any(logits)  # the logits are 0; the outputs (softmax) are not


# ---- signal propagation through 20 layers -------------------------------------------------

DEPTH, WIDTH = 20, 128
# Per-layer factor on the second moment of ReLU activations: width * Var(W) / 2.
PROPAGATION = {
    "he": (None, 1.0),
    "xavier": (None, 0.5),
    "normal(0.01)": (0.01, WIDTH * 0.01**2 / 2),
    "normal(1)": (1.0, WIDTH * 1.0**2 / 2),
}


@pytest.mark.catalog("G3")
@pytest.mark.parametrize("case", PROPAGATION)
def test_relu_activation_variance_through_20_layers_follows_width_var_over_2(rng, case):
    std, factor = PROPAGATION[case]
    scheme = case.split("(")[0]
    v = signal_propagation(scheme, rng, depth=DEPTH, width=WIDTH, std=std)
    measured = math.log10(v[-1] / v[0])
    predicted = (DEPTH - 1) * math.log10(factor)
    # 19 layers of random weights make ln(ratio) a random walk: its standard deviation is
    # about 0.7 (measured over 300 seeds; the same for every scheme, since a bias-free ReLU
    # net is positively homogeneous in the weight scale). 1.5 decades = ln 3.45 ~ 5 sd, while
    # a wrong factor (say width * Var(W) without the 1/2) would move it by 19 log10 2 = 5.7.
    assert abs(measured - predicted) < 1.5, (case, measured, predicted)


@pytest.mark.catalog("G3")
def test_he_keeps_relu_variance_order_one_while_normal_0_01_collapses(rng):
    he = signal_propagation("he", rng, depth=DEPTH, width=WIDTH)
    small = signal_propagation("normal", rng, depth=DEPTH, width=WIDTH, std=0.01)
    big = signal_propagation("normal", rng, depth=DEPTH, width=WIDTH, std=1.0)
    # Every layer O(1): the first layer's 0.68 times e^(+-5 sd) of the walk above.
    assert np.all((he > 0.02) & (he < 25))
    assert small[-1] < 1e-30  # 0.0064^19 * 0.0044: gradients vanish
    assert big[-1] > 1e30  # 64^19 * 44: they explode


@pytest.mark.catalog("G3")
def test_torch_signal_propagation_agrees_with_scratch_for_the_same_weights(rng):
    weights = [init_weight((WIDTH, WIDTH), "he", rng) for _ in range(DEPTH)]
    X = rng.normal(size=(64, WIDTH))
    net = nn.Sequential(*[m for _ in range(DEPTH) for m in (nn.Linear(WIDTH, WIDTH), nn.ReLU())])
    net = initialize(net.double(), "zeros")  # biases 0; weights overwritten next
    with torch.no_grad():
        for layer, W in zip(net[::2], weights, strict=True):
            layer.weight.copy_(torch.from_numpy(W))
    variances, a = [], torch.from_numpy(X)
    for layer, relu in zip(net[::2], net[1::2], strict=True):
        a = relu(layer(a))
        variances.append(float(a.detach().var(unbiased=False)))
    assert_close(activation_variances(X, weights), np.array(variances), rtol=1e-9)


@pytest.mark.catalog("G3")
def test_torch_he_initialized_net_keeps_variance_order_one():
    gen = torch.Generator().manual_seed(0)
    net = nn.Sequential(*[m for _ in range(DEPTH) for m in (nn.Linear(WIDTH, WIDTH), nn.ReLU())])
    initialize(net.double(), "he", generator=gen)
    a = torch.randn(128, WIDTH, dtype=torch.float64, generator=gen)
    with torch.no_grad():
        for layer, relu in zip(net[::2], net[1::2], strict=True):
            a = relu(layer(a))
            assert 0.02 < float(a.var()) < 25  # as in the scratch test above


# ---- errors -------------------------------------------------------------------------------


def test_init_bad_input_is_a_clear_error(rng):
    with pytest.raises(ValueError, match="unknown scheme 'glorot'; valid choices: 'zeros'"):
        init_weight((2, 3), "glorot", rng)
    with pytest.raises(ValueError, match="unknown scheme 'glorot'; valid choices: 'zeros'"):
        initialize(nn.Linear(3, 2), "glorot")
    with pytest.raises(ValueError, match="std is required for scheme 'normal'"):
        init_weight((2, 3), "normal", rng)
    with pytest.raises(ValueError, match="std is required for scheme 'normal'"):
        initialize(nn.Linear(3, 2), "normal")
    with pytest.raises(ValueError, match="std is only used by scheme 'normal', got std=0.1"):
        init_params((3, 2), "he", rng, std=0.1)
    with pytest.raises(ValueError, match="std is only used by scheme 'normal', got std=0.1"):
        initialize(nn.Linear(3, 2), "he", std=0.1)
    with pytest.raises(ValueError, match=r"std must be in \[0, inf\), got -1.0"):
        init_weight((2, 3), "normal", rng, std=-1.0)
    with pytest.raises(ValueError, match="n_in must be an integer >= 1, got 0"):
        init_std("he", 0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        init_weight((2, 3), "he", 0)
    with pytest.raises(ValueError, match=r"weight.shape must be a tuple of 2 positive integers"):
        init_weight_(torch.zeros(3), "he")
    with pytest.raises(ValueError, match="layer_sizes must be a sequence of at least two widths"):
        init_params((3,), "he", rng)


@pytest.mark.catalog("G3")
def test_load_into_torch_mlp_keeps_scratch_init(rng):
    # init_params produces scratch.mlp's layout, so it loads into torchref's MLP unchanged.
    params = init_params((4, 6, 3), "he", rng)
    model = load_numpy_params(MLP((4, 6, 3)), params)
    for a, b in zip(params, to_numpy_params(model), strict=True):
        assert np.array_equal(a, b)
