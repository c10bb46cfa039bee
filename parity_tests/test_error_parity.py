"""The scratch and torch twins reject the same bad input with the same words.

Every case feeds one bad value to a scratch function and to its torch twin and asserts that
both raise, with the same exception type and the very same one-line message, naming the
argument. The checks themselves are written once (`scratch.validation`, and the topic
modules' shared checks that torchref imports), so a case fails when one room checks on its
own again, or not at all: torch's built-ins would broadcast (3, 1) against (3,), drop a
label -100, take momentum = 1.5 or lr = inf, and word a bad `lr='a'` as a failed comparison.

Cases whose two sides name the argument differently (scratch's `X`, torch's `x`) are not
here; the modules' own tests check those messages separately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from scratch import augment as sa
from scratch import autoencoders as sae
from scratch import classic as sc
from scratch import dropout as sdrop
from scratch import ensemble as sens
from scratch import init as sinit
from scratch import losses as sl
from scratch import mlp as smlp
from scratch import normalization as snorm
from scratch import optim as so
from scratch import preprocessing as sprep
from scratch import schedules as ss
from scratch.activations import get_activation
from scratch.validation import ParameterTypeError
from torchref import augment as ta
from torchref import autoencoders as tae
from torchref import classic as tc
from torchref import dropout as tdrop
from torchref import ensemble as tens
from torchref import init as tinit
from torchref import losses as tl
from torchref import mlp as tmlp
from torchref import normalization as tnorm
from torchref import optim as to
from torchref import preprocessing as tprep
from torchref import schedules as ts
from torchref.activations import get_activation_module


@dataclass(frozen=True)
class Case:
    id: str
    scratch: Callable[[], object]
    torch: Callable[[], object]
    argument: str  # the name the message must contain


def _p():
    return [nn.Parameter(torch.zeros(3, dtype=torch.float64))]


def _sgd_step(params, grads):
    so.SGD(0.1).step(params, grads)


def _notes_sgd(params, grads):
    to.notes_sgd(params, grads, [None] * len(params), lr=0.1, momentum=0.0)


T64 = torch.float64


def _least_squares(name, argument, n_y=4, penalty="l2", lr=0.1, steps=5):
    args = (penalty, 0.1, lr, steps)
    return Case(name, lambda: sens.regularized_least_squares(_X, np.ones(n_y), *args),
                lambda: tens.regularized_least_squares(_t(_X), torch.ones(n_y, dtype=T64),
                                                       *args), argument)


def _perceptron(name, argument, **kw):
    X, t = np.eye(2), np.array([0.0, 1.0])
    return Case(name, lambda: sc.perceptron_train(X, t, np.zeros(2), **kw),
                lambda: tc.perceptron_train(_t(X), _t(t), torch.zeros(2, dtype=T64), **kw),
                argument)


def _t(a):
    return torch.as_tensor(np.asarray(a), dtype=T64) if np.asarray(a).dtype.kind == "f" else (
        torch.as_tensor(np.asarray(a)))


_X = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 2.0, 1.0], [0.5, 1.5, 0.0]])
_AE = ((8, 3, 8), np.eye(8)[:4])
_H = np.array([[0.5, 1.0], [0.5, 1.0]])  # a saturated code unit: rho_hat = 1 in column 1

CASES = [
    # ---- losses (issue 11: torch took these silently) -------------------------------------
    Case("squared_error broadcasts (3,1) vs (3,)",
         lambda: sl.squared_error(np.ones((3, 1)), np.ones(3)),
         lambda: tl.squared_error(torch.ones(3, 1), torch.ones(3)), "y_hat"),
    Case("squared_error unknown scaling",
         lambda: sl.squared_error(np.ones(3), np.ones(3), "halfmean"),
         lambda: tl.squared_error(torch.ones(3), torch.ones(3), "halfmean"), "scaling"),
    Case("binary_cross_entropy p above 1",
         lambda: sl.binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0])),
         lambda: tl.binary_cross_entropy(_t([0.5, 1.5]), _t([0.0, 1.0])), "p"),
    Case("bce with logits: NaN logit",
         lambda: sl.binary_cross_entropy_with_logits(np.array([np.nan, 1.0]), np.ones(2)),
         lambda: tl.binary_cross_entropy_with_logits(_t([np.nan, 1.0]), torch.ones(2)), "z"),
    Case("multilabel_cross_entropy of 1-D p",
         lambda: sl.multilabel_cross_entropy(np.full(3, 0.5), np.ones(3)),
         lambda: tl.multilabel_cross_entropy(torch.full((3,), 0.5), torch.ones(3)), "p"),
    Case("categorical_cross_entropy non-one-hot t",
         lambda: sl.categorical_cross_entropy(np.full((2, 2), 0.5), np.array([[0.3, 0.7],
                                                                               [1.0, 0.0]])),
         lambda: tl.categorical_cross_entropy(torch.full((2, 2), 0.5),
                                              torch.tensor([[0.3, 0.7], [1.0, 0.0]])), "t"),
    Case("cross_entropy_with_logits label -100 (torch's ignore_index)",
         lambda: sl.cross_entropy_with_logits(np.zeros((2, 3)), np.array([0, -100])),
         lambda: tl.cross_entropy_with_logits(torch.zeros(2, 3), torch.tensor([0, -100])),
         "labels"),
    Case("cross_entropy_with_logits label = C",
         lambda: sl.cross_entropy_with_logits(np.zeros((2, 3)), np.array([0, 3])),
         lambda: tl.cross_entropy_with_logits(torch.zeros(2, 3), torch.tensor([0, 3])),
         "labels"),
    Case("cross_entropy_with_logits one label per row",
         lambda: sl.cross_entropy_with_logits(np.zeros((2, 3)), np.array([0, 1, 2])),
         lambda: tl.cross_entropy_with_logits(torch.zeros(2, 3), torch.tensor([0, 1, 2])),
         "labels"),
    Case("cross_entropy_with_logits zero-width logits",
         lambda: sl.cross_entropy_with_logits(np.zeros((2, 0)), np.array([0, 0])),
         lambda: tl.cross_entropy_with_logits(torch.zeros(2, 0), torch.tensor([0, 0])), "z"),
    Case("cross_entropy_with_logits 1-D logits",
         lambda: sl.cross_entropy_with_logits(np.zeros(3), np.array([0])),
         lambda: tl.cross_entropy_with_logits(torch.zeros(3), torch.tensor([0])), "z"),
    Case("cross_entropy_with_logits probability rows not summing to 1",
         lambda: sl.cross_entropy_with_logits(np.zeros((1, 2)), np.array([[0.2, 0.2]])),
         lambda: tl.cross_entropy_with_logits(torch.zeros(1, 2), _t([[0.2, 0.2]])), "labels"),
    Case("cross_entropy_with_logits float labels",
         lambda: sl.cross_entropy_with_logits(np.zeros((2, 2)), np.array([0.5, 1.0])),
         lambda: tl.cross_entropy_with_logits(torch.zeros(2, 2), _t([0.5, 1.0])), "labels"),
    Case("l2_penalty lam < 0",
         lambda: sl.l2_penalty([np.ones(2)], -1.0),
         lambda: tl.l2_penalty([torch.ones(2)], -1.0), "lam"),
    Case("l1_penalty lam = 'a'",
         lambda: sl.l1_penalty([np.ones(2)], "a"),
         lambda: tl.l1_penalty([torch.ones(2)], "a"), "lam"),
    Case("network_cost lam = nan",
         lambda: sl.network_cost(np.full((2, 2), 0.5), np.ones((2, 2)), [np.ones((2, 3))],
                                 np.nan),
         lambda: tl.network_cost(torch.full((2, 2), 0.5), torch.ones(2, 2), [torch.ones(2, 2)],
                                 np.nan), "lam"),
    Case("regularized_logistic_cost y rows",
         lambda: sl.regularized_logistic_cost(np.zeros(3), np.zeros((4, 2)), np.zeros(3), 0.1),
         lambda: tl.regularized_logistic_cost(nn.Linear(2, 1), torch.zeros(4, 2),
                                              torch.zeros(3), 0.1), "y"),
    # ---- activations: an unknown name is refused by both, but torch's list of valid names
    # is longer (prelu, softmax are modules there), so only the words before it can agree.
    # ---- optimizer classes (make_optimizer covers torch's built-ins) ------------------------
    Case("lr < 0", lambda: so.SGD(lr=-0.1), lambda: to.NotesSGD(_p(), lr=-0.1), "lr"),
    Case("lr = inf", lambda: so.SGD(lr=np.inf), lambda: to.NotesSGD(_p(), lr=np.inf), "lr"),
    Case("lr = 'a'", lambda: so.Adam(lr="a"), lambda: to.NotesAdam(_p(), lr="a"), "lr"),
    Case("make_optimizer('sgd', lr=inf)", lambda: so.SGD(lr=np.inf),
         lambda: to.make_optimizer("sgd", _p(), lr=np.inf), "lr"),
    Case("make_optimizer('adam', lr='a')", lambda: so.Adam(lr="a"),
         lambda: to.make_optimizer("adam", _p(), lr="a"), "lr"),
    Case("make_optimizer('momentum', momentum=1.5)", lambda: so.SGD(0.1, momentum=1.5),
         lambda: to.make_optimizer("momentum", _p(), momentum=1.5), "momentum"),
    Case("momentum = 1", lambda: so.SGD(0.1, momentum=1.0),
         lambda: to.NotesSGD(_p(), 0.1, momentum=1.0), "momentum"),
    Case("nesterov without momentum", lambda: so.SGD(0.1, nesterov=True),
         lambda: to.NotesSGD(_p(), 0.1, nesterov=True), "momentum"),
    Case("nesterov = 1 (not a bool)", lambda: so.SGD(0.1, 0.9, nesterov=1),
         lambda: to.NotesSGD(_p(), 0.1, 0.9, nesterov=1), "nesterov"),
    Case("weight_decay < 0", lambda: so.RMSprop(weight_decay=-1.0),
         lambda: to.NotesRMSprop(_p(), weight_decay=-1.0), "weight_decay"),
    Case("l1 < 0", lambda: so.SGD(0.1, l1=-1.0), lambda: to.NotesSGD(_p(), 0.1, l1=-1.0), "l1"),
    Case("Adagrad eps0 = 0", lambda: so.Adagrad(eps0=0.0),
         lambda: to.NotesAdagrad(_p(), eps0=0.0), "eps0"),
    Case("RMSprop beta = 1", lambda: so.RMSprop(beta=1.0),
         lambda: to.NotesRMSprop(_p(), beta=1.0), "beta"),
    Case("Adam betas[1] = 1", lambda: so.Adam(betas=(0.9, 1.0)),
         lambda: to.NotesAdam(_p(), betas=(0.9, 1.0)), "betas[1]"),
    Case("Adam betas not a pair", lambda: so.Adam(betas=0.9),
         lambda: to.NotesAdam(_p(), betas=0.9), "betas"),
    Case("AdamThenSGD switch_step = 2.5", lambda: so.AdamThenSGD(switch_step=2.5),
         lambda: to.AdamThenSGD(_p(), switch_step=2.5), "switch_step"),
    Case("AdamThenSGD sgd_lr < 0", lambda: so.AdamThenSGD(sgd_lr=-1.0),
         lambda: to.AdamThenSGD(_p(), sgd_lr=-1.0), "sgd_lr"),
    # ---- functional updaters (issue 11: they checked nothing) ------------------------------
    Case("gd_update / notes_sgd lr = -1",
         lambda: so.gd_update(np.ones(3), np.ones(3), lr=-1.0),
         lambda: to.notes_sgd(_p(), [torch.ones(3, dtype=T64)], [None], lr=-1.0, momentum=0.0),
         "lr"),
    Case("rmsprop_update / notes_rmsprop beta = 1.5",
         lambda: so.rmsprop_update(np.ones(3), np.ones(3), np.zeros(3), lr=0.1, beta=1.5,
                                   eps0=1e-8),
         lambda: to.notes_rmsprop(_p(), [torch.ones(3, dtype=T64)], [torch.zeros(3, dtype=T64)],
                                  lr=0.1, beta=1.5, eps0=1e-8), "beta"),
    Case("adam_update / notes_adam beta1 = 1",
         lambda: so.adam_update(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), 1, lr=0.1,
                                beta1=1.0, beta2=0.9, eps0=1e-8),
         lambda: to.notes_adam(_p(), [torch.ones(3, dtype=T64)], [torch.zeros(3, dtype=T64)],
                               [torch.zeros(3, dtype=T64)], [1], lr=0.1, beta1=1.0, beta2=0.9,
                               eps0=1e-8), "beta1"),
    Case("step / notes_sgd: a gradient of another shape",
         lambda: _sgd_step([np.ones(3)], [np.ones((2, 3))]),
         lambda: _notes_sgd(_p(), [torch.ones(2, 3, dtype=T64)]), "grads[0]"),
    Case("step / notes_sgd: a NaN gradient",
         lambda: _sgd_step([np.ones(3)], [np.array([1.0, np.nan, 0.0])]),
         lambda: _notes_sgd(_p(), [_t([1.0, np.nan, 0.0])]), "grads[0]"),
    Case("step / notes_sgd: one gradient too many",
         lambda: _sgd_step([np.ones(3)], [np.ones(3), np.ones(3)]),
         lambda: _notes_sgd(_p(), [torch.ones(3, dtype=T64)] * 2), "grads"),
    # ---- schedules -------------------------------------------------------------------------
    Case("step_size = 0", lambda: ss.step_decay(0, 0.1, 0, 0.5),
         lambda: ts.step_lr(torch.optim.SGD(_p(), 0.1), 0, 0.5), "step_size"),
    Case("step_size = 2.0 (a float)", lambda: ss.step_decay(0, 0.1, 2.0, 0.5),
         lambda: ts.step_lr(torch.optim.SGD(_p(), 0.1), 2.0, 0.5), "step_size"),
    Case("gamma = 0", lambda: ss.step_decay(0, 0.1, 5, 0.0),
         lambda: ts.step_lr(torch.optim.SGD(_p(), 0.1), 5, 0.0), "gamma"),
    Case("k < 0", lambda: ss.exponential_decay(0, 0.1, -0.1),
         lambda: ts.exponential_lr(torch.optim.SGD(_p(), 0.1), -0.1), "k"),
    Case("warmup_steps = True", lambda: ss.linear_warmup(0, 0.1, True),
         lambda: ts.warmup_lr(torch.optim.SGD(_p(), 0.1), True), "warmup_steps"),
    # ---- init ------------------------------------------------------------------------------
    Case("normal without std", lambda: sinit.init_params((3, 2), "normal",
                                                         np.random.default_rng()),
         lambda: tinit.initialize(nn.Linear(3, 2), "normal"), "std"),
    Case("std < 0", lambda: sinit.init_params((3, 2), "normal", np.random.default_rng(), -1.0),
         lambda: tinit.initialize(nn.Linear(3, 2), "normal", -1.0), "std"),
    # ---- normalization ---------------------------------------------------------------------
    Case("num_features = 0", lambda: snorm.LastKStats(0, 2),
         lambda: tnorm.LastKBatchNorm(0, 2), "num_features"),
    Case("k = 0", lambda: snorm.LastKStats(3, 0), lambda: tnorm.LastKBatchNorm(3, 0), "k"),
    Case("unbiased = 'yes'", lambda: snorm.LastKStats(3, 2, "yes"),
         lambda: tnorm.LastKBatchNorm(3, 2, unbiased="yes"), "unbiased"),
    Case("channel count", lambda: snorm.batchnorm_forward(np.zeros((4, 2)), np.ones(3),
                                                          np.zeros(3), None, True),
         lambda: tnorm.LastKBatchNorm(3, 2)(torch.zeros(4, 2)), "x"),
    Case("empty batch", lambda: snorm.batchnorm_forward(np.zeros((0, 3)), np.ones(3),
                                                        np.zeros(3), None, True),
         lambda: tnorm.LastKBatchNorm(3, 2)(torch.zeros(0, 3)), "x"),
    Case("1-D batch", lambda: snorm.batchnorm_forward(np.zeros(3), np.ones(3), np.zeros(3),
                                                      None, True),
         lambda: tnorm.LastKBatchNorm(3, 2)(torch.zeros(3)), "x"),
    Case("eps = 0", lambda: snorm.batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3),
                                                    None, True, eps=0.0),
         lambda: tnorm.LastKBatchNorm(3, 2, eps=0.0), "eps"),
    # ---- dropout ---------------------------------------------------------------------------
    Case("p = 1", lambda: sdrop.classic_dropout_forward(np.ones(3), 1.0, False),
         lambda: tdrop.classic_dropout(torch.ones(3), 1.0, False), "p"),
    Case("p < 0", lambda: sdrop.inverted_dropout_forward(np.ones(3), -0.1, False),
         lambda: tdrop.inverted_dropout(torch.ones(3), -0.1, False), "p"),
    Case("mask of another shape",
         lambda: sdrop.classic_dropout_forward(np.ones(3), 0.5, True, mask=np.ones(2)),
         lambda: tdrop.classic_dropout(torch.ones(3), 0.5, True, mask=torch.ones(2)), "mask"),
    Case("mask not 0/1",
         lambda: sdrop.inverted_dropout_forward(np.ones(2), 0.5, True, mask=np.array([1, 0.5])),
         lambda: tdrop.inverted_dropout(torch.ones(2), 0.5, True, mask=_t([1, 0.5])), "mask"),
    Case("training = 'yes'", lambda: sdrop.classic_dropout_forward(np.ones(2), 0.5, "yes"),
         lambda: tdrop.classic_dropout(torch.ones(2), 0.5, "yes"), "training"),
    # ---- autoencoders (one AEConfig checks both) --------------------------------------------
    Case("AE code_layer", lambda: sae.AEConfig((8, 3, 8), code_layer=2),
         lambda: tae.Autoencoder((8, 3, 8), code_layer=2), "code_layer"),
    Case("AE rho = 1", lambda: sae.AEConfig((8, 3, 8), rho=1.0),
         lambda: tae.Autoencoder((8, 3, 8), rho=1.0), "rho"),
    Case("AE kl with relu", lambda: sae.AEConfig((8, 3, 8), activation="relu", sparsity="kl"),
         lambda: tae.Autoencoder((8, 3, 8), activation="relu", sparsity="kl"), "activation"),
    Case("AE sizes ends", lambda: sae.AEConfig((8, 3, 7)),
         lambda: tae.Autoencoder((8, 3, 7)), "sizes"),
    Case("KL sparsity of a saturated code", lambda: sae.kl_sparsity(_H, 0.1, 1.0),
         lambda: tae.kl_sparsity(_t(_H), 0.1, 1.0), "rho_hat"),
    Case("L1 sparsity beta < 0", lambda: sae.l1_sparsity(_H, -0.5),
         lambda: tae.l1_sparsity(_t(_H), -0.5), "beta"),
    Case("sparsity of a 1-D code", lambda: sae.l1_sparsity(np.ones(3), 1.0),
         lambda: tae.l1_sparsity(torch.ones(3), 1.0), "H"),
    Case("train_autoencoder steps < 0",
         lambda: sae.train_autoencoder(
             sae.init_autoencoder(sae.AEConfig(_AE[0]), np.random.default_rng(0)), _AE[1],
             sae.AEConfig(_AE[0]), lr=1.0, steps=-1),
         lambda: tae.train_autoencoder(tae.Autoencoder(_AE[0]).double(), _t(_AE[1]), steps=-1,
                                       lr=1.0), "steps"),
    Case("train_autoencoder lr < 0",
         lambda: sae.train_autoencoder(
             sae.init_autoencoder(sae.AEConfig(_AE[0]), np.random.default_rng(0)), _AE[1],
             sae.AEConfig(_AE[0]), lr=-1.0, steps=1),
         lambda: tae.train_autoencoder(tae.Autoencoder(_AE[0]).double(), _t(_AE[1]), steps=1,
                                       lr=-1.0), "lr"),
    Case("one_hot_inputs n = 1", lambda: sae.one_hot_inputs(1),
         lambda: tae.one_hot_inputs(1), "n"),
    Case("fit_838 attempts = 0", lambda: sae.fit_838(attempts=0),
         lambda: tae.fit_838(attempts=0), "attempts"),
    Case("reconstructs_all shapes", lambda: sae.reconstructs_all(np.ones((2, 3)), np.ones((2, 4))),
         lambda: tae.reconstructs_all(torch.ones(2, 3), torch.ones(2, 4)), "X_hat"),
    Case("code_table rows", lambda: sae.code_table(np.ones((2, 3)), np.ones((3, 1)),
                                                   np.ones((2, 3))),
         lambda: tae.code_table(torch.ones(2, 3), torch.ones(3, 1), torch.ones(2, 3)), "H"),
    # ---- MLP -------------------------------------------------------------------------------
    Case("layer_sizes with 0", lambda: smlp.init_mlp([3, 0, 2], np.random.default_rng()),
         lambda: tmlp.MLP([3, 0, 2]), "layer_sizes"),
    Case("unknown head", lambda: smlp.head_output(np.zeros((2, 2)), "softmax"),
         lambda: tmlp.head_output(torch.zeros(2, 2), "softmax"), "head"),
    Case("input width", lambda: smlp.mlp_forward(smlp.init_mlp([3, 4, 2],
                                                               np.random.default_rng()),
                                                 np.zeros((5, 2))),
         lambda: tmlp.MLP([3, 4, 2])(torch.zeros(5, 2)), "x"),
    Case("multiclass label out of range",
         lambda: smlp.head_loss(np.zeros((3, 2)), np.array([0, 1, 3]), "multiclass"),
         lambda: tmlp.head_loss(torch.zeros(3, 2), torch.tensor([0, 1, 3]), "multiclass"), "y"),
    Case("multiclass labels of another shape",
         lambda: smlp.head_loss(np.zeros((3, 2)), np.zeros((3, 2)), "multiclass"),
         lambda: tmlp.head_loss(torch.zeros(3, 2), torch.zeros(3, 2), "multiclass"), "y"),
    Case("binary targets above 1",
         lambda: smlp.head_loss(np.zeros((2, 1)), np.array([0.5, 2.0]), "binary"),
         lambda: tmlp.head_loss(torch.zeros(2, 1), _t([0.5, 2.0]), "binary"), "y"),
    Case("regression targets of another shape",
         lambda: smlp.head_loss(np.zeros((2, 2)), np.zeros((2, 3)), "regression"),
         lambda: tmlp.head_loss(torch.zeros(2, 2), torch.zeros(2, 3), "regression"), "y"),
    Case("l2 < 0", lambda: smlp.l2_cost(smlp.init_mlp([3, 2], np.random.default_rng()), -1.0, 4),
         lambda: tmlp.l2_cost(tmlp.MLP([3, 2]), -1.0, 4), "l2"),
    Case("one activation per hidden layer",
         lambda: smlp.mlp_forward(smlp.init_mlp([3, 4, 2], np.random.default_rng()),
                                  np.zeros((1, 3)), ["relu", "tanh"]),
         lambda: tmlp.MLP([3, 4, 2], ["relu", "tanh"]), "activations"),
    # ---- preprocessing ---------------------------------------------------------------------
    Case("n_components > D", lambda: sprep.pca_fit(_X, n_components=4),
         lambda: tprep.PCATransform(n_components=4).fit(_t(_X)), "n_components"),
    Case("n_components = 0", lambda: sprep.pca_fit(_X, n_components=0),
         lambda: tprep.PCATransform(n_components=0).fit(_t(_X)), "n_components"),
    Case("eps < 0", lambda: sprep.pca_whiten(sprep.pca_fit(_X), _X, eps=-1.0),
         lambda: tprep.PCATransform(eps=-1.0), "eps"),
    Case("features as fitted", lambda: sprep.standardize_transform(sprep.standardize_fit(_X),
                                                                   _X[:, :2]),
         lambda: tprep.Standardize().fit(_t(_X))(_t(_X[:, :2])), "X"),
    Case("1-D X", lambda: sprep.standardize_fit(np.ones(4)),
         lambda: tprep.Standardize().fit(torch.ones(4, dtype=T64)), "X"),
    Case("NaN in X", lambda: sprep.standardize_fit(np.array([[np.nan, 1.0]])),
         lambda: tprep.Standardize().fit(_t([[np.nan, 1.0]])), "X"),
    Case("one row for a covariance", lambda: sprep.pca_fit(_X[:1]),
         lambda: tprep.PCATransform().fit(_t(_X[:1])), "X"),
    # ---- ensemble --------------------------------------------------------------------------
    Case("max_epochs = 0",
         lambda: sens.train_with_early_stopping([np.ones(1)], lambda p: p, lambda p: 0.0, 0),
         lambda: tens.fit_with_early_stopping(nn.Linear(1, 1), lambda: None, lambda: 0.0, 0),
         "max_epochs"),
    Case("patience = 0",
         lambda: sens.train_with_early_stopping([np.ones(1)], lambda p: p, lambda p: 0.0, 3, 0),
         lambda: tens.fit_with_early_stopping(nn.Linear(1, 1), lambda: None, lambda: 0.0, 3, 0),
         "patience"),
    _least_squares("unknown penalty", "penalty", penalty="l3"),
    _least_squares("least squares: y rows", "y", n_y=3),
    _least_squares("least squares: lr = 0", "lr", lr=0.0),
    _least_squares("least squares: steps = 0", "steps", steps=0),
    # ---- classic ---------------------------------------------------------------------------
    Case("truth_table_inputs n = 0", lambda: sc.truth_table_inputs(0),
         lambda: tc.truth_table_inputs(0), "n"),
    Case("iff_net hidden = 3", lambda: sc.iff_net(3), lambda: tc.iff_net(3), "hidden"),
    _perceptron("perceptron max_epochs = 0", "max_epochs", max_epochs=0),
    _perceptron("perceptron lr = 0", "lr", lr=0.0),
    _perceptron("perceptron max_rows = -1", "max_rows", max_rows=-1),
    Case("inhibitory unit b = 0", lambda: sc.inhibitory_rate(np.ones(2), -np.ones(2), 0.0),
         lambda: tc.InhibitoryUnit([-1.0, -1.0], 0.0), "b"),
    Case("inhibitory unit w > 0", lambda: sc.inhibitory_rate(np.ones(2), np.array([-1, 0.5]),
                                                             1.0),
         lambda: tc.InhibitoryUnit([-1.0, 0.5], 1.0), "w"),
    # ---- augment ---------------------------------------------------------------------------
    Case("noise < 0", lambda: sa.sample_augment_params((2, 4, 4), np.random.default_rng(),
                                                       noise=-0.1),
         lambda: ta.sample_augment_params((2, 4, 4), noise=-0.1), "noise"),
    Case("max_stretch < 1", lambda: sa.sample_augment_params((2, 4, 4), np.random.default_rng(),
                                                             max_stretch=0.5),
         lambda: ta.RandomAugment(max_stretch=0.5), "max_stretch"),
    Case("p_flip > 1", lambda: sa.sample_augment_params((2, 4, 4), np.random.default_rng(),
                                                        p_flip=2.0),
         lambda: ta.sample_augment_params((2, 4, 4), p_flip=2.0), "p_flip"),
    Case("image shape", lambda: sa.sample_augment_params((2, 4), np.random.default_rng()),
         lambda: ta.sample_augment_params((2, 4)), "shape"),
    Case("theta shape", lambda: sa.affine_transform_images(np.ones((2, 4, 4)), np.ones((1, 2, 3))),
         lambda: ta.affine_transform_images(torch.ones(2, 4, 4), torch.ones(1, 2, 3)), "theta"),
    Case("images of 2 dimensions", lambda: sa.flip_horizontal(np.ones((4, 4))),
         lambda: ta.affine_transform_images(torch.ones(4, 4), torch.ones(4, 2, 3)), "x"),
]


def _error(call):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    return info.value


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_scratch_and_torch_raise_the_same_one_line_error_naming_the_argument(case):
    s, t = _error(case.scratch), _error(case.torch)
    assert type(s) is type(t), f"scratch: {type(s).__name__}: {s}; torch: {type(t).__name__}: {t}"
    assert str(s) == str(t)
    assert "\n" not in str(s) and case.argument in str(s)


def test_every_wrong_type_is_both_a_type_error_and_a_value_error():
    # `except ValueError` (the app's exit-2 handler) catches a wrong type as well
    for call in (lambda: so.SGD(lr="a"), lambda: to.make_optimizer("sgd", _p(), lr="a"),
                 lambda: ss.step_decay(0, 0.1, 2.0, 0.5), lambda: tnorm.LastKBatchNorm(3, 2.0)):
        err = _error(call)
        assert isinstance(err, ParameterTypeError)
        assert isinstance(err, TypeError) and isinstance(err, ValueError)


@pytest.mark.parametrize(
    ("scratch_call", "torch_call"),
    [
        (lambda: get_activation("relu6"), lambda: get_activation_module("relu6")),
        (lambda: sinit.init_weight((2, 3), "glorot", np.random.default_rng()),
         lambda: tinit.init_weight_(torch.empty(2, 3), "glorot")),
    ],
    ids=["activation", "init scheme"],
)
def test_an_unknown_name_is_refused_alike_where_torch_knows_more_names(scratch_call, torch_call):
    s, t = _error(scratch_call), _error(torch_call)
    assert type(s) is type(t) is ValueError
    head = str(s).split("; valid choices: ")[0]
    assert str(t).startswith(head + "; valid choices: ")
    scratch_names = str(s).split("; valid choices: ")[1].split(", ")
    torch_names = str(t).split("; valid choices: ")[1].split(", ")
    assert set(scratch_names) <= set(torch_names)  # torch offers every scratch name


@pytest.mark.parametrize("step_size", [np.int64(5), np.int32(5), 5])
def test_numpy_integers_are_integers_on_both_sides(step_size):
    # issue 12: scratch took np.int64(5) and torch refused it
    opt = torch.optim.SGD(_p(), lr=0.1)
    sched = ts.step_lr(opt, step_size, 0.5)
    for _ in range(7):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(ss.step_decay(7, 0.1, step_size, 0.5))
    assert ss.step_decay(7, 0.1, step_size, 0.5) == pytest.approx(0.05)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_logits_are_promoted_alike(dtype):
    # issue 11: torch's cross_entropy failed with "not implemented for 'Long'"
    z, labels = np.array([[1, 0], [0, 2]], dtype=dtype), np.array([0, 1])
    expected = sl.cross_entropy_with_logits(z, labels)
    got = tl.cross_entropy_with_logits(torch.as_tensor(z), torch.as_tensor(labels))
    assert got.dtype == torch.float64
    assert float(got) == pytest.approx(float(expected), rel=1e-12)
