"""Scratch keeps the input dtype in what it returns, scalars included.

A float32 computation returned as a Python float (a float64) makes a parity test hold it to
the float64 tolerance: on one CPU the roundings happen to agree, on another the test fails
(issue 11: `backprop_slide_form` on an AVX-512 Xeon). Every scratch function below gets
float32 input, and every floating number it returns, scalar or array, at any depth of a
tuple, dict or dataclass, must be float32.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scratch import autoencoders as sae
from scratch import backprop, classic, losses, mlp, normalization, optim, schedules
from scratch import demonstrations as demo

F32 = np.float32


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(F32)


def _probs(rng, *shape):
    return rng.uniform(0.05, 0.95, shape).astype(F32)


def _floating_leaves(value, path="result"):
    """(path, dtype) of every floating number in `value`; a Python float counts as float64."""
    if isinstance(value, bool | int | str | type(None)):
        return []
    if isinstance(value, float):
        return [(path, np.dtype(np.float64))]
    if isinstance(value, np.ndarray | np.generic):
        return [(path, value.dtype)] if value.dtype.kind == "f" else []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, sae.AEConfig):
            return []  # hyper-parameters the caller gave, not results
        return [leaf for f in dataclasses.fields(value)
                for leaf in _floating_leaves(getattr(value, f.name), f"{path}.{f.name}")]
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _floating_leaves(v, f"{path}[{k!r}]")]
    if isinstance(value, tuple | list):
        return [leaf for i, v in enumerate(value) for leaf in _floating_leaves(v, f"{path}[{i}]")]
    raise TypeError(f"{path}: unexpected {type(value).__name__}")


def _slide(rng):
    return backprop.backprop_slide_form(
        _f32(rng, 3), _f32(rng, 4, 3), _f32(rng, 4), _f32(rng, 2, 4), _f32(rng, 2),
        _f32(rng, 2), 0.3, "tanh_half",
    )


def _mlp_params(rng, sizes=(3, 4, 2)):
    return mlp.init_mlp(sizes, rng, dtype=F32)


def _ae(rng, **kw):
    config = sae.AEConfig((6, 3, 6), **kw)
    return sae.init_autoencoder(config, rng, dtype=F32), _probs(rng, 5, 6), config


def _perceptron(rng):
    X = np.array([[1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]], dtype=F32)
    return classic.perceptron_train(X, np.array([0, 1, 1, 0], F32), np.zeros(3, F32),
                                    max_epochs=3)


CASES = {
    "backprop.backprop_slide_form": _slide,
    "losses.squared_error": lambda r: losses.squared_error(_f32(r, 4, 2), _f32(r, 4, 2)),
    "losses.binary_cross_entropy": lambda r: losses.binary_cross_entropy(
        _probs(r, 4), _probs(r, 4)),
    "losses.binary_cross_entropy_with_logits": lambda r: losses.binary_cross_entropy_with_logits(
        _f32(r, 4), _probs(r, 4)),
    "losses.multilabel_cross_entropy": lambda r: losses.multilabel_cross_entropy(
        _probs(r, 4, 3), _probs(r, 4, 3)),
    "losses.categorical_cross_entropy": lambda r: losses.categorical_cross_entropy(
        _probs(r, 3, 2), np.eye(2, dtype=F32)[[0, 1, 1]]),
    "losses.cross_entropy_with_logits": lambda r: losses.cross_entropy_with_logits(
        _f32(r, 3, 4), np.array([0, 3, 1])),
    "losses.l2_penalty": lambda r: losses.l2_penalty([_f32(r, 2, 3), _f32(r, 4)], 0.1),
    "losses.l1_penalty": lambda r: losses.l1_penalty([_f32(r, 2, 3)], 0.1),
    "losses.regularized_logistic_cost": lambda r: losses.regularized_logistic_cost(
        _f32(r, 3), _f32(r, 5, 2), _probs(r, 5), 0.1),
    "losses.network_cost": lambda r: losses.network_cost(
        _probs(r, 4, 2), _probs(r, 4, 2), [_f32(r, 2, 4)], 0.1),
    "losses.bernoulli_log_likelihood": lambda r: losses.bernoulli_log_likelihood(
        _probs(r, 4), np.array([0, 1, 1, 0], F32)),
    "losses.categorical_log_likelihood": lambda r: losses.categorical_log_likelihood(
        np.full((2, 4), 0.25, F32), np.array([0, 3])),
    "losses.gaussian_log_prior": lambda r: losses.gaussian_log_prior([_f32(r, 3)], 2.0),
    "mlp.head_loss[regression]": lambda r: mlp.head_loss(_f32(r, 4, 2), _f32(r, 4, 2),
                                                         "regression"),
    "mlp.head_loss[binary]": lambda r: mlp.head_loss(_f32(r, 4, 1), _probs(r, 4),
                                                     "binary"),
    "mlp.head_loss[multiclass]": lambda r: mlp.head_loss(_f32(r, 3, 2), np.array([0, 1, 1]),
                                                         "multiclass"),
    "mlp.l2_cost": lambda r: mlp.l2_cost(_mlp_params(r), 0.5, 4),
    "mlp.loss_and_grads": lambda r: mlp.loss_and_grads(
        _mlp_params(r), _f32(r, 5, 3), np.array([0, 1, 1, 0, 1]), "tanh", l2=0.1),
    "autoencoders.reconstruction_loss[mse]": lambda r: sae.reconstruction_loss(
        _f32(r, 5, 6), _probs(r, 5, 6), sae.AEConfig((6, 3, 6), "sigmoid", "identity", "mse")),
    "autoencoders.kl_sparsity": lambda r: sae.kl_sparsity(_probs(r, 5, 3), 0.1, 1.0),
    "autoencoders.l1_sparsity": lambda r: sae.l1_sparsity(_f32(r, 5, 3), 1.0),
    "autoencoders.sparsity_penalty[None]": lambda r: sae.sparsity_penalty(
        _probs(r, 5, 3), sae.AEConfig((6, 3, 6))),
    "autoencoders.autoencoder_loss[kl]": lambda r: sae.autoencoder_loss(
        *_ae(r, sparsity="kl", beta=0.5)),
    "classic.perceptron_update": lambda r: classic.perceptron_update(
        np.array([0.5, -1, 1], F32), np.array([1, 1, 0], F32), 0.0, 0.5),
    "classic.perceptron_train": _perceptron,
    "classic.novikoff_bound": lambda r: classic.novikoff_bound(
        np.array([[1, 0, 0], [1, 1, 1]], F32), np.array([0, 1]), np.array([-1, 1, 1], F32)),
    "demonstrations.linear_neuron_loss": lambda r: demo.linear_neuron_loss(
        _f32(r, 2), _f32(r, 4, 2), _f32(r, 4)),
    "demonstrations.absolute_loss": lambda r: demo.absolute_loss(_f32(r, 2), _f32(r, 2), 0.5),
    "demonstrations.mse_sigmoid_loss": lambda r: demo.mse_sigmoid_loss(
        _f32(r, 2), _f32(r, 4, 2), _probs(r, 4)),
    "demonstrations.ce_sigmoid_loss": lambda r: demo.ce_sigmoid_loss(
        _f32(r, 2), _f32(r, 4, 2), _probs(r, 4)),
    "normalization.batchnorm_forward": lambda r: normalization.batchnorm_forward(
        _f32(r, 4, 3), np.ones(3, F32), np.zeros(3, F32), None, True),
    "optim.adam_update": lambda r: optim.adam_update(
        _f32(r, 3), _f32(r, 3), np.zeros(3, F32), np.zeros(3, F32), 1,
        lr=0.1, beta1=0.999, beta2=0.9, eps0=1e-8),
    **{
        f"schedules.{name}": (lambda r, fn=fn, kw=kw: fn(7, F32(0.1), **kw))
        for name, fn, kw in [
            ("step", schedules.step_decay, {"step_size": 3, "gamma": 0.5}),
            ("exponential", schedules.exponential_decay, {"k": 0.1}),
            ("inverse_time", schedules.inverse_time_decay, {"k": 0.1}),
            ("warmup", schedules.linear_warmup, {"warmup_steps": 10}),
            ("warmup_exponential", schedules.SCHEDULES["warmup_exponential"],
             {"warmup_steps": 3, "k": 0.1}),
        ]
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_input_gives_float32_numbers_at_every_depth_of_the_result(name, rng):
    leaves = _floating_leaves(CASES[name](rng))
    assert leaves, f"{name} returned no floating number: the case checks nothing"
    wrong = [(path, str(dtype)) for path, dtype in leaves if dtype != F32]
    assert not wrong, f"{name} returned float64 numbers for float32 input: {wrong}"


def test_the_leaf_walker_reports_a_python_float_as_float64():
    # the check above would pass vacuously if Python floats were skipped
    assert _floating_leaves({"loss": 0.5, "w": np.ones(2, F32)}) == [
        ("result['loss']", np.dtype(np.float64)), ("result['w']", np.dtype(F32)),
    ]
