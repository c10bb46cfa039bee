"""Autoencoders (I1-I4) and the sparsity penalty (C9): scratch vs torch autograd vs finite
differences, the 8-3-8 encoder of 003, and the stacked pipeline stage by stage.

Initial weights come from torch (`nn.Linear`'s init under the test's seed) and are copied to
scratch with `torchref.mlp.to_numpy_params`, so both sides start from identical weights.
Dropout parity uses mask injection: the same 0/1 keep-mask goes to both sides, or torch's own
`F.dropout` draw is read back from its zeros (codes of a sigmoid are never 0) and replayed.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from parity_tests.helpers import TORCH_DTYPE, assert_close, to_numpy, to_torch, tol
from scratch import autoencoders as S
from scratch.demonstrations import minibatches
from scratch.dropout import classic_to_inverted_weights
from scratch.gradcheck import gradcheck
from torchref import autoencoders as T
from torchref.mlp import linear_layers, load_numpy_params, to_numpy_params

# (id, sizes, keyword arguments shared by AEConfig and Autoencoder)
CASES = [
    ("838-sigmoid-bce", (8, 3, 8), {}),
    ("deep-tanh-bce", (6, 4, 2, 4, 6), {"activation": "tanh"}),
    ("relu-identity-mse", (5, 7, 5), {"activation": "relu", "output_activation": "identity",
                                      "loss": "mse"}),
    ("sigmoid-output-mse", (6, 3, 6), {"loss": "mse"}),
    ("swish-code-layer-1", (6, 3, 4, 6), {"activation": "swish", "code_layer": 1}),
    ("sparse-kl", (7, 5, 7), {"sparsity": "kl", "rho": 0.1, "beta": 2.5}),
    ("sparse-l1-relu", (7, 5, 7), {"activation": "relu", "sparsity": "l1", "beta": 0.3}),
    ("dropout-inverted", (8, 5, 8), {"hidden_dropout": 0.4}),
    ("dropout-classic", (8, 5, 8), {"hidden_dropout": 0.4, "dropout_kind": "classic"}),
    ("dropout-sparse-kl-deep", (6, 5, 4, 5, 6), {"hidden_dropout": 0.3, "sparsity": "kl",
                                                 "rho": 0.2, "beta": 1.0}),
]
CASE_IDS = [c[0] for c in CASES]


def _pair(sizes, kw, dtype):
    """A torch Autoencoder, its weights as NumPy arrays, and the matching scratch config."""
    ae = T.Autoencoder(sizes, **kw).to(TORCH_DTYPE[np.dtype(dtype)])
    return ae, to_numpy_params(ae), S.AEConfig(sizes, **kw)


def _data(rng, config, n, dtype):
    d = config.sizes[0]
    X = rng.random((n, d)) if config.loss == "bce" else rng.normal(size=(n, d))
    return X.astype(dtype)


def _mask(rng, config, n, dtype):
    if config.hidden_dropout == 0:
        return None
    n_code = config.sizes[config.code_layer]
    return (rng.random((n, n_code)) >= config.hidden_dropout).astype(dtype)


def _torch_terms(ae, X, mask, training=True):
    ae.train(training)
    x = to_torch(X)
    terms = ae.loss_terms(x, None if mask is None else to_torch(mask))
    return x, terms


# ---- I1-I3: one batch, forward and backward ---------------------------------------------


@pytest.mark.catalog("I1")
@pytest.mark.parametrize("sizes,kw", [c[1:] for c in CASES], ids=CASE_IDS)
def test_autoencoder_code_reconstruction_and_loss_terms_match_torch(sizes, kw, dtype, rng):
    ae, params, config = _pair(sizes, kw, dtype)
    X = _data(rng, config, 5, dtype)
    mask = _mask(rng, config, 5, dtype)
    _, terms = _torch_terms(ae, X, mask)
    X_hat, cache = S.autoencoder_forward(params, X, config, training=True, mask=mask)
    ours = S.autoencoder_loss(params, X, config, training=True, mask=mask)
    assert X_hat.dtype == dtype
    assert_close(cache["h"], terms["code"], dtype)
    assert_close(X_hat, terms["x_hat"], dtype)
    for key in ("loss", "reconstruction", "sparsity"):
        assert_close(ours[key], terms[key], dtype)
    assert_close(S.encode(params, X, config), ae.encode(to_torch(X)), dtype)


@pytest.mark.catalog("I1", "I2", "I3")
@pytest.mark.parametrize("sizes,kw", [c[1:] for c in CASES], ids=CASE_IDS)
def test_autoencoder_gradients_match_torch_autograd(sizes, kw, dtype, rng):
    ae, params, config = _pair(sizes, kw, dtype)
    X = _data(rng, config, 6, dtype)
    mask = _mask(rng, config, 6, dtype)
    _, terms = _torch_terms(ae, X, mask)
    terms["loss"].backward()
    torch_grads = [p.grad for layer in linear_layers(ae) for p in (layer.weight, layer.bias)]
    _, grads = S.autoencoder_loss_and_grads(params, X, config, training=True, mask=mask)
    assert len(grads) == len(torch_grads)
    for g, tg in zip(grads, torch_grads, strict=True):
        assert g.dtype == dtype
        assert_close(g, tg, dtype)


@pytest.mark.catalog("I1", "I2")
@pytest.mark.parametrize("sizes,kw", [c[1:] for c in CASES], ids=CASE_IDS)
def test_autoencoder_gradients_match_central_differences(sizes, kw, rng):
    _, params, config = _pair(sizes, kw, np.float64)
    X = _data(rng, config, 4, np.float64)
    mask = _mask(rng, config, 4, np.float64)
    _, grads = S.autoencoder_loss_and_grads(params, X, config, training=True, mask=mask)

    def loss(p):
        return S.autoencoder_loss(p, X, config, training=True, mask=mask)["loss"]

    report = gradcheck(loss, params, grads)
    assert report.ok, str(report)


@pytest.mark.catalog("I3")
@pytest.mark.parametrize("kind", ["inverted", "classic"])
def test_dropout_autoencoder_eval_mode_matches_torch_and_classic_equals_rescaled_inverted(
    kind, dtype, rng
):
    # eval(): inverted dropout is the identity, classic scales the code by 1 - p (H3).
    p = 0.4
    ae, params, config = _pair((8, 5, 8), {"hidden_dropout": p, "dropout_kind": kind}, dtype)
    X = _data(rng, config, 5, dtype)
    _, terms = _torch_terms(ae, X, None, training=False)
    X_hat, _ = S.autoencoder_forward(params, X, config, training=False)
    assert_close(X_hat, terms["x_hat"], dtype)
    # Independently: a classic net equals the inverted net whose decoder weights are (1-p) W.
    inverted = S.AEConfig((8, 5, 8), hidden_dropout=p, dropout_kind="inverted")
    plain = S.AEConfig((8, 5, 8))
    if kind == "classic":
        rescaled = list(params)
        rescaled[2] = classic_to_inverted_weights(params[2], p)
        assert_close(X_hat, S.autoencoder_forward(rescaled, X, inverted)[0], dtype)
    else:
        assert_close(X_hat, S.autoencoder_forward(params, X, plain)[0], dtype)


@pytest.mark.catalog("I3")
def test_dropout_autoencoder_replays_torch_own_dropout_draw(dtype, rng):
    # No injected mask on the torch side: F.dropout draws it; read it back from the zeros.
    ae, params, config = _pair((8, 6, 8), {"hidden_dropout": 0.5}, dtype)
    X = _data(rng, config, 7, dtype)
    x = to_torch(X)
    ae.train()
    state = torch.get_rng_state()
    terms = ae.loss_terms(x)
    terms["loss"].backward()
    torch.set_rng_state(state)
    dropped = ae.drop(ae.encode(x)).detach()  # the same draw again
    mask = to_numpy(dropped != 0).astype(dtype)
    assert 0 < mask.sum() < mask.size  # some units dropped, some kept
    ours, grads = S.autoencoder_loss_and_grads(params, X, config, training=True, mask=mask)
    assert_close(ours["loss"], terms["loss"], dtype)
    for g, layer_grad in zip(
        grads, [q.grad for m in linear_layers(ae) for q in (m.weight, m.bias)], strict=True
    ):
        assert_close(g, layer_grad, dtype)


# ---- C9 / I2: the sparsity penalties ---------------------------------------------------------


@st.composite
def code_batches(draw):
    n = draw(st.integers(1, 6))
    k = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    rho = draw(st.floats(0.01, 0.99))
    beta = draw(st.floats(0.0, 5.0))
    H = np.random.default_rng(seed).uniform(0.02, 0.98, (n, k)).astype(dtype)
    return H, rho, beta


@pytest.mark.catalog("C9")
@settings(max_examples=25)
@given(case=code_batches())
def test_kl_sparsity_value_and_gradient_match_torch_autograd(case):
    H, rho, beta = case
    h = to_torch(H, requires_grad=True)
    value = T.kl_sparsity(h, rho, beta)
    value.backward()
    assert_close(S.kl_sparsity(H, rho, beta), value, H.dtype)
    grad = S.kl_sparsity_grad(H, rho, beta)
    assert grad.dtype == H.dtype and grad.shape == H.shape
    assert_close(grad, h.grad, H.dtype)


@pytest.mark.catalog("C9")
@settings(max_examples=25)
@given(case=code_batches())
def test_l1_sparsity_value_and_gradient_match_torch_autograd(case):
    H, _, beta = case
    H = H - H.dtype.type(0.5)  # signs of both kinds...
    H[0, 0] = 0  # ...and an exact zero, where torch's |h|' is 0 like np.sign
    h = to_torch(H, requires_grad=True)
    value = T.l1_sparsity(h, beta)
    value.backward()
    assert_close(S.l1_sparsity(H, beta), value, H.dtype)
    assert_close(S.l1_sparsity_grad(H, beta), h.grad, H.dtype)


@pytest.mark.catalog("C9")
@pytest.mark.parametrize("rho", [0.05, 0.3, 0.8])
def test_kl_sparsity_gradient_matches_central_differences(rho, rng):
    H = rng.uniform(0.05, 0.95, (5, 4))
    report = gradcheck(
        lambda p: S.kl_sparsity(p[0], rho, 1.7), [H], [S.kl_sparsity_grad(H, rho, 1.7)]
    )
    assert report.ok, str(report)


@pytest.mark.catalog("C9")
def test_kl_sparsity_is_zero_exactly_at_the_target_rate_and_positive_elsewhere(rng):
    rho = 0.2
    H = rng.uniform(0.05, 0.95, (6, 3))
    H_at = H - H.mean(axis=0) + rho  # every column's mean is rho
    assert S.kl_sparsity(H_at, rho, 3.0) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(S.kl_sparsity_grad(H_at, rho, 3.0), 0.0, atol=1e-14)
    assert S.kl_sparsity(H, rho, 3.0) > 0
    # With the closed form of KL for Bernoulli rates, independently of the code's layout:
    rho_hat = H.mean(axis=0)
    expected = 3.0 * sum(
        rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r)) for r in rho_hat
    )
    assert S.kl_sparsity(H, rho, 3.0) == pytest.approx(expected, rel=1e-12)


@pytest.mark.catalog("I2")
def test_kl_sparse_training_pulls_the_mean_code_activation_to_rho(rng):
    # I2: the same AE trained with and without the KL penalty; only the penalised one ends
    # with every code unit's mean activation near the target rate.
    X = (rng.random((20, 10)) < 0.5).astype(np.float64)
    rho = 0.1
    dense, sparse = S.AEConfig((10, 8, 10)), S.AEConfig((10, 8, 10), sparsity="kl", rho=rho,
                                                        beta=3.0)
    init = S.init_autoencoder(dense, rng)
    gaps = {}
    for name, config in (("dense", dense), ("sparse", sparse)):
        params, history = S.train_autoencoder(init, X, config, lr=1.0, steps=200)
        assert history[-1] < history[0]
        gaps[name] = np.abs(S.encode(params, X, config).mean(axis=0) - rho).max()
    assert gaps["sparse"] < 0.1
    assert gaps["dense"] > 0.3


# ---- I1-I3: training, step for step ------------------------------------------------------

TRAIN_CASES = [
    ("plain", (8, 4, 8), {}),
    ("kl-sparse", (8, 5, 8), {"sparsity": "kl", "rho": 0.1, "beta": 1.0}),
    ("l1-dropout-mse", (6, 4, 6), {"sparsity": "l1", "beta": 0.2, "hidden_dropout": 0.3,
                                   "loss": "mse", "output_activation": "identity"}),
]


def _batches(rng, n, batch_size, steps):
    out: list[np.ndarray] = []
    while len(out) < steps:
        out += minibatches(n, batch_size, rng)
    return out[:steps]


@pytest.mark.catalog("I1", "I2", "I3")
@pytest.mark.parametrize("sizes,kw", [c[1:] for c in TRAIN_CASES], ids=[c[0] for c in TRAIN_CASES])
def test_train_autoencoder_matches_torch_sgd_step_for_step(sizes, kw, dtype, rng):
    ae, params, config = _pair(sizes, kw, dtype)
    X = _data(rng, config, 12, dtype)
    steps = 20
    batches = _batches(rng, 12, 5, steps)
    masks = None
    if config.hidden_dropout:
        masks = [_mask(rng, config, len(b), dtype) for b in batches]
    ours, history = S.train_autoencoder(
        params, X, config, lr=0.5, steps=steps, batches=batches, masks=masks
    )
    theirs = T.train_autoencoder(
        ae, to_torch(X), lr=0.5, steps=steps, batches=batches,
        masks=None if masks is None else [to_torch(m) for m in masks],
    )
    # float32: 20 steps of rounding differences compound through the updates.
    kw_tol = tol(dtype) if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(history, theirs, **kw_tol)
    for a, b in zip(ours, to_numpy_params(ae), strict=True):
        np.testing.assert_allclose(a, b, **kw_tol)


# ---- I1: the 8-3-8 encoder of 003 -----------------------------------------------------------

# 003's table "Learned hidden layer representation", as printed (input row i is e_i).
DOC_838_HIDDEN = np.array([
    [.89, .04, .08], [.01, .11, .88], [.01, .97, .27], [.99, .97, .71],
    [.03, .05, .02], [.22, .99, .99], [.80, .01, .98], [.60, .94, .01],
])


@pytest.mark.catalog("I1")
def test_003_printed_hidden_values_round_to_all_eight_3bit_codes():
    # The document's claim, recomputed from its own numbers: rounding gives a 3-bit code.
    for codes in (S.rounded_codes(DOC_838_HIDDEN), to_numpy(T.rounded_codes(
            torch.tensor(DOC_838_HIDDEN)))):
        assert {tuple(c) for c in codes} == set(itertools.product((0, 1), repeat=3))
    assert S.codes_are_distinct(DOC_838_HIDDEN)
    assert T.codes_are_distinct(torch.tensor(DOC_838_HIDDEN))


@pytest.mark.catalog("I1")
def test_rounded_codes_round_half_up_at_one_half_in_scratch_and_torch(rng):
    H = np.concatenate([rng.random((5, 3)), [[0.49, 0.5, 0.51]], [[0.3, 0.7, 0.0]]])
    expected = np.floor(H + 0.5).astype(np.int64)  # round half up: 003's "round to 0/1"
    np.testing.assert_array_equal(S.rounded_codes(H), expected)
    np.testing.assert_array_equal(to_numpy(T.rounded_codes(torch.tensor(H))), expected)


@pytest.mark.catalog("I1")
def test_code_table_reproduces_003_layout_in_scratch_and_torch():
    X = np.eye(8)
    text = S.code_table(X, DOC_838_HIDDEN, X)
    lines = text.splitlines()
    assert lines[0].split(" | ") == ["Input   ", "Hidden values", "Output"]
    assert lines[1] == "10000000 | .89 .04 .08   | 10000000"  # 003: "10000000 → .89 .04 .08 →"
    assert lines[4] == "00010000 | .99 .97 .71   | 00010000"
    assert len(lines) == 9
    assert T.code_table(torch.eye(8), torch.tensor(DOC_838_HIDDEN), torch.eye(8)) == text


@pytest.mark.catalog("I1")
def test_838_scratch_and_torch_train_to_the_same_weights_and_codes():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ae = T.Autoencoder((8, 3, 8)).double()
    params0 = to_numpy_params(ae)
    ours, history = S.train_838(params=params0)
    ae, theirs = T.train_838(ae=ae)
    np.testing.assert_allclose(history, theirs, **tol(np.float64))
    for a, b in zip(ours, to_numpy_params(ae), strict=True):
        # 1000 full-batch steps: rounding differences grow a little beyond the 1e-12 default.
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    X, config = S.one_hot_inputs(), S.AEConfig((8, 3, 8))
    X_hat, cache = S.autoencoder_forward(ours, X, config)
    assert S.reconstructs_all(X_hat, X) and S.codes_are_distinct(cache["h"])
    ae.eval()
    x = T.one_hot_inputs(8, torch.float64)
    with torch.no_grad():
        h, x_hat = ae.encode(x), ae(x)
    assert T.reconstructs_all(x_hat, x) and T.codes_are_distinct(h)
    np.testing.assert_array_equal(S.rounded_codes(cache["h"]), to_numpy(T.rounded_codes(h)))
    assert S.code_table(X, cache["h"], X_hat) == T.code_table(x, h, x_hat)


@pytest.mark.catalog("I1")
def test_838_torch_default_float32_run_reconstructs_with_distinct_codes():
    # The run the app's autoencoder_838 config makes: float32, seed 0, SGD(3.0), 1000 steps.
    ae, history = T.train_838(0)
    assert history[-1] < 0.1 * history[0]
    ae.eval()
    x = T.one_hot_inputs(8)
    with torch.no_grad():
        assert T.reconstructs_all(ae(x), x) and T.codes_are_distinct(ae.encode(x))


def _838_ok(params) -> bool:
    X, config = S.one_hot_inputs(), S.AEConfig((8, 3, 8))
    X_hat, cache = S.autoencoder_forward(params, X, config)
    return S.reconstructs_all(X_hat, X) and S.codes_are_distinct(cache["h"])


@pytest.mark.catalog("I1")
def test_838_distinct_codes_rate_over_seeds_and_restart_past_a_colliding_seed():
    # Honest rate: not every seed gives 8 distinct rounded codes. Seeds 0..5 with the
    # defaults give 4 of 6 (seeds 3 and 4 reconstruct but two codes round alike); 200
    # seeds give 73.5% (scratch.autoencoders.LR_838). A wrong gradient (sign of dW, a
    # dropped activation derivative) fails it.
    results = {s: S.train_838(s) for s in range(6)}
    ok = {s: _838_ok(p) for s, (p, _) in results.items()}
    assert sum(ok.values()) >= 4
    X, config = S.one_hot_inputs(), S.AEConfig((8, 3, 8))
    for p, history in results.values():
        assert history[-1] < 0.1 * history[0]  # every run learns the identity...
        assert S.reconstructs_all(S.autoencoder_forward(p, X, config)[0], X)  # ...fully
    bad = next(s for s in range(5) if not ok[s] and ok[s + 1])  # a failing seed, then a good one
    params, _, used = S.fit_838(bad)
    expected = bad + 1
    assert used == expected
    for a, b in zip(params, results[expected][0], strict=True):
        np.testing.assert_array_equal(a, b)


# ---- I4: the stacked pipeline, stage by stage ------------------------------------------------


@pytest.mark.catalog("I4")
def test_stacked_pipeline_matches_torch_at_the_end_of_every_stage(dtype, rng):
    n, sizes, n_classes, steps = 24, (10, 7, 4), 3, 15
    tdtype = TORCH_DTYPE[np.dtype(dtype)]
    X = rng.random((n, sizes[0])).astype(dtype)
    y = rng.integers(0, n_classes, n)
    batches = _batches(rng, n, 8, steps)
    x, yt = to_torch(X), torch.tensor(y)
    # float32: three stages of 15 steps each compound rounding differences.
    kw_tol = tol(dtype) if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}

    # Stage 1: greedy layer-wise pretraining (decoders discarded, encoders kept).
    aes = [T.Autoencoder((a, b, a)).to(tdtype) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    stage_params = [to_numpy_params(ae) for ae in aes]
    encoders, codes = S.greedy_pretrain(X, stage_params, lr=0.8, steps=steps, batches=batches)
    t_encoders = T.greedy_pretrain(x, aes, lr=0.8, steps=steps, batches=batches)
    for enc, t_enc in zip(encoders, t_encoders, strict=True):
        for a, b in zip(enc, to_numpy_params(t_enc), strict=True):
            np.testing.assert_allclose(a, b, **kw_tol)
    np.testing.assert_allclose(codes[-1], to_numpy(T.encode_through(t_encoders, x)), **kw_tol)
    # Stage 2 really trained on stage 1's codes: retraining it alone on them agrees.
    stage2 = S.AEConfig((sizes[1], sizes[2], sizes[1]))
    alone, _ = S.train_autoencoder(stage_params[1], codes[0], stage2, lr=0.8, steps=steps,
                                   batches=batches)
    np.testing.assert_allclose(alone[0], encoders[1][0], **kw_tol)

    # Stage 2: a softmax head on the top features; the encoders stay frozen.
    head = nn.Linear(sizes[-1], n_classes).to(tdtype)
    head_params = to_numpy_params(head)
    model = T.stack_encoders(t_encoders, head)
    before = [p.detach().clone() for name, p in model.named_parameters() if "head" not in name]
    ours_head, h_hist = S.train_softmax_head(head_params, codes[-1], y, lr=0.5, steps=steps,
                                             batches=batches)
    t_hist = T.train_head(model, x, yt, lr=0.5, steps=steps, batches=batches)
    np.testing.assert_allclose(h_hist, t_hist, **kw_tol)
    for a, b in zip(ours_head, to_numpy_params(model.head), strict=True):
        np.testing.assert_allclose(a, b, **kw_tol)
    after = [p for name, p in model.named_parameters() if "head" not in name]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert all(p.requires_grad for p in model.parameters())  # restored after the stage

    # Stage 3: supervised fine-tuning of the whole network.
    stacked = S.stack_encoders(encoders, ours_head)
    ours_all, f_hist = S.fine_tune(stacked, X, y, lr=0.5, steps=steps, batches=batches)
    t_fhist = T.fine_tune(model, x, yt, lr=0.5, steps=steps, batches=batches)
    np.testing.assert_allclose(f_hist, t_fhist, **kw_tol)
    for a, b in zip(ours_all, to_numpy_params(model), strict=True):
        np.testing.assert_allclose(a, b, **kw_tol)
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=1)
    np.testing.assert_allclose(S.stacked_predict(ours_all, X), to_numpy(probs), **kw_tol)
    # Fine-tuning moved the encoders too (unlike the head stage).
    assert not np.allclose(ours_all[0], encoders[0][0])


@pytest.mark.catalog("I4")
def test_stacked_pipeline_fine_tuning_beats_the_frozen_head_on_digits():
    # I4 as a result, not only parity: on 200 of scikit-learn's digits, fine-tuning the
    # whole pretrained network lowers the training loss below what the head alone reached.
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = (X[:200] / 16.0).astype(np.float64), y[:200]
    rng = np.random.default_rng(0)
    stages, head = S.init_stacked((64, 24, 12), 10, rng)
    encoders, codes = S.greedy_pretrain(X, stages, lr=1.0, steps=40)
    head, head_hist = S.train_softmax_head(head, codes[-1], y, lr=1.0, steps=40)
    params, fine_hist = S.fine_tune(S.stack_encoders(encoders, head), X, y, lr=1.0, steps=40)
    assert head_hist[-1] < head_hist[0]
    assert fine_hist[-1] < 0.8 * head_hist[-1]
    accuracy = (S.stacked_predict(params, X).argmax(axis=1) == y).mean()
    assert accuracy > 0.5  # 10 classes: chance is 0.1


# ---- bad input: both sides reject alike ---------------------------------------------------

CONFIG_ERRORS = [
    ({"sizes": (8, 3, 7)}, "sizes must end with the input width"),
    ({"sizes": (8, 8)}, "sizes must be a sequence of at least three layer widths"),
    ({"sizes": (8, 3, 8), "rho": 1.0}, r"rho must be in \(0, 1\), got 1.0"),
    ({"sizes": (8, 3, 8), "rho": 0}, r"rho must be in \(0, 1\), got 0.0"),
    ({"sizes": (8, 3, 8), "beta": -1.0}, r"beta must be in \[0, inf\), got -1.0"),
    ({"sizes": (8, 3, 8), "hidden_dropout": 1.0}, r"hidden_dropout must be in \[0, 1\), got 1.0"),
    ({"sizes": (8, 3, 8), "loss": "hinge"}, "unknown loss 'hinge'; valid choices: 'bce', 'mse'"),
    ({"sizes": (8, 3, 8), "activation": "relu6"}, "unknown activation 'relu6'"),
    ({"sizes": (8, 3, 8), "output_activation": "identity"},
     "loss 'bce' needs output_activation 'sigmoid'"),
    ({"sizes": (8, 3, 8), "sparsity": "kl", "activation": "relu"},
     "sparsity 'kl' needs activation 'sigmoid'"),
    ({"sizes": (8, 3, 8), "sparsity": "l2"}, "unknown sparsity 'l2'; valid choices: 'kl', 'l1'"),
    ({"sizes": (8, 3, 8), "code_layer": 2},
     r"code_layer \(a hidden-layer index\) must be an integer in \[1, 1\], got 2"),
    ({"sizes": (8, 3, 8), "dropout_kind": "gaussian"}, "unknown dropout_kind 'gaussian'"),
]


@pytest.mark.catalog("I1")
@pytest.mark.parametrize("kw,message", CONFIG_ERRORS, ids=[m[:30] for _, m in CONFIG_ERRORS])
def test_bad_autoencoder_arguments_raise_the_same_error_in_scratch_and_torch(kw, message):
    kw = dict(kw)
    sizes = kw.pop("sizes")
    with pytest.raises(ValueError, match=message):
        S.AEConfig(sizes, **kw)
    with pytest.raises(ValueError, match=message):
        T.Autoencoder(sizes, **kw)


@pytest.mark.catalog("I1")
def test_wrong_feature_count_is_rejected_by_name_and_shape():
    ae, params, config = _pair((8, 3, 8), {}, np.float64)
    with pytest.raises(ValueError, match=r"X must have 8 features .*got X\(4, 7\)"):
        S.autoencoder_forward(params, np.zeros((4, 7)), config)
    with pytest.raises(ValueError, match=r"x must have 8 features .*got x\(4, 7\)"):
        ae(torch.zeros(4, 7, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"X must have 2 dimension\(s\), got shape \(8,\)"):
        S.encode(params, np.zeros(8), config)


@pytest.mark.catalog("I1")
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_is_rejected_before_training(bad):
    ae, params, config = _pair((8, 3, 8), {}, np.float64)
    X = np.full((4, 8), 0.5)
    X[1, 2] = bad
    with pytest.raises(ValueError, match=r"X must be finite, got 1 NaN/inf value\(s\)"):
        S.train_autoencoder(params, X, config, lr=1.0, steps=2)
    before = to_numpy_params(ae)
    with pytest.raises(ValueError, match=r"x must be finite, got 1 NaN/inf value\(s\)"):
        T.train_autoencoder(ae, torch.tensor(X), lr=1.0, steps=2)
    for a, b in zip(before, to_numpy_params(ae), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing half-trained


def test_bce_needs_inputs_in_unit_interval():
    ae, params, config = _pair((4, 2, 4), {}, np.float64)
    X = np.array([[0.0, 0.5, 1.0, 1.5]])
    with pytest.raises(ValueError, match=r"X must be probabilities in \[0, 1\], got values in"):
        S.autoencoder_loss(params, X, config)
    with pytest.raises(ValueError, match=r"x must be probabilities in \[0, 1\], got values in"):
        T.train_autoencoder(ae, torch.tensor(X), lr=1.0, steps=1)


@pytest.mark.catalog("C9")
def test_sparsity_functions_reject_bad_rho_beta_and_saturated_rates():
    H = np.full((3, 2), 0.5)
    for rho in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"rho must be in \(0, 1\)"):
            S.kl_sparsity(H, rho, 1.0)
        with pytest.raises(ValueError, match=r"rho must be in \(0, 1\)"):
            T.kl_sparsity(torch.tensor(H), rho, 1.0)
    with pytest.raises(ValueError, match=r"beta must be in \[0, inf\), got -0.5"):
        S.l1_sparsity(H, -0.5)
    with pytest.raises(ValueError, match=r"beta must be in \[0, inf\), got -0.5"):
        T.l1_sparsity(torch.tensor(H), -0.5)
    H[:, 1] = 1.0  # a unit that always fires: KL(rho || 1) is infinite
    with pytest.raises(ValueError, match=r"rho_hat must lie in \(0, 1\)"):
        S.kl_sparsity(H, 0.1, 1.0)
    with pytest.raises(ValueError, match=r"rho_hat must lie in \(0, 1\)"):
        T.kl_sparsity(torch.tensor(H), 0.1, 1.0)


def test_training_schedules_must_match_the_step_count():
    ae, params, config = _pair((4, 2, 4), {"hidden_dropout": 0.5}, np.float64)
    X = np.full((3, 4), 0.5)
    with pytest.raises(ValueError, match=r"masks must hold one entry per step \(3\), got 1"):
        S.train_autoencoder(params, X, config, lr=1.0, steps=3, masks=[np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"batches must hold one entry per step \(2\), got 1"):
        T.train_autoencoder(ae, torch.tensor(X), lr=1.0, steps=2, batches=[[0, 1]])
    with pytest.raises(ValueError, match="steps must be an integer >= 0, got -1"):
        S.train_autoencoder(params, X, config, lr=1.0, steps=-1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        S.train_autoencoder(params, X, config, lr=-1.0, steps=1)
    with pytest.raises(ValueError, match=r"training-mode dropout needs a mask or an rng"):
        S.train_autoencoder(params, X, config, lr=1.0, steps=1)


def test_params_that_do_not_fit_the_config_are_rejected():
    _, params, config = _pair((8, 3, 8), {}, np.float64)
    with pytest.raises(ValueError, match=r"params have layer sizes \(8, 3, 8\), but config.sizes "
                                         r"is \(8, 4, 8\)"):
        S.autoencoder_forward(params, np.zeros((2, 8)), S.AEConfig((8, 4, 8)))
    with pytest.raises(ValueError, match=r"params\[0\] \(W1\) must have shape \(4, 8\)"):
        load_numpy_params(T.Autoencoder((8, 4, 8)), params)


@pytest.mark.catalog("I4")
def test_freeze_encoders_keeps_them_fixed_even_under_an_optimizer_of_all_parameters():
    # What a Lightning head stage relies on: after freeze_encoders, an optimizer over every
    # parameter moves the head only; unfreezing restores training of the encoders.
    encoders = [nn.Sequential(nn.Linear(5, 4), nn.Sigmoid()), nn.Sequential(nn.Linear(4, 3),
                                                                            nn.Sigmoid())]
    model = T.freeze_encoders(T.stack_encoders(encoders, 2))
    before = to_numpy_params(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    x, y = torch.rand(6, 5), torch.tensor([0, 1, 0, 1, 1, 0])
    T.classifier_loss(model(x), y).backward()
    opt.step()
    after = to_numpy_params(model)
    for a, b in zip(before[:4], after[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(before[4], after[4])
    T.freeze_encoders(model, frozen=False)
    assert all(p.requires_grad for p in model.parameters())
