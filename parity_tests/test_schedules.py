"""Learning-rate schedules: scratch.schedules (002's closed forms) vs torch.optim.lr_scheduler.

Catalog F11 (step decay, e^{-kt}, 1/(1+kt)) and F15 (warm-up). Two proofs per schedule: the lr
sequence itself over 300 steps (every name of the registry, including the SequentialLR
warm-ups), and training runs of 200 steps on the three problems of test_optim (quadratic,
Rosenbrock, MLP) where the notes' side takes its lr from the closed form and torch's from the
scheduler, parameters compared after every step.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from parity_tests.helpers import assert_close
from parity_tests.test_optim import PROBLEMS, STEPS, Case, assert_runs_match
from scratch import optim as so
from scratch import schedules as ss
from torchref import schedules as ts

EPS0 = 0.1
# name -> hyper-parameters per step (t counts updates here; epochs work the same way)
SEQUENCE_CASES = {
    "step": {"step_size": 7, "gamma": 0.3},
    "halve_every_5": {},
    "tenth_every_20": {},
    "exponential": {"k": 0.02},
    "inverse_time": {"k": 0.1},
    "warmup": {"warmup_steps": 10, "start_factor": 0.1},
    "warmup_exponential": {"warmup_steps": 10, "k": 0.02, "start_factor": 0.2},
    "warmup_inverse_time": {"warmup_steps": 10, "k": 0.1, "start_factor": 0.05},
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _torch_lrs(name: str, n: int, **hparams) -> np.ndarray:
    """The lr of each of the first n steps: read before step t, then scheduler.step()."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=EPS0)
    sched = ts.make_scheduler(name, opt, **hparams)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


def test_registries_name_the_same_schedules():
    assert list(ss.SCHEDULES) == list(ts.SCHEDULERS) == list(SEQUENCE_CASES)


@pytest.mark.catalog("F11", "F15")
@pytest.mark.parametrize("name", list(SEQUENCE_CASES))
def test_scheduler_lr_sequence_is_the_notes_closed_form(name):
    hp = SEQUENCE_CASES[name]
    expected = ss.lr_sequence(ss.SCHEDULES[name], 300, EPS0, **hp)
    # ExponentialLR / LinearLR / StepLR multiply the previous lr step by step (300 roundings
    # at most); the closed form rounds once: float64 default tolerance holds with margin
    assert_close(_torch_lrs(name, 300, **hp), expected)


@pytest.mark.catalog("F11")
def test_the_notes_typical_step_decays_and_the_exponential_mapping():
    # 002: "halve every 5 epochs or divide by 10 every 20"; e^{-kt} as ExponentialLR(e^{-k})
    halve = ss.lr_sequence(ss.halve_every_5, 25, 1.0)
    assert halve.tolist() == [1.0] * 5 + [0.5] * 5 + [0.25] * 5 + [0.125] * 5 + [0.0625] * 5
    tenth = ss.lr_sequence(ss.tenth_every_20, 41, 1.0)
    assert tenth[19] == 1.0 and tenth[20] == pytest.approx(0.1) and tenth[40] == pytest.approx(0.01)
    p = torch.zeros(1, requires_grad=True)
    sched = ts.make_scheduler("exponential", torch.optim.SGD([p], lr=1.0), k=0.3)
    assert sched.gamma == pytest.approx(math.exp(-0.3), rel=1e-15)
    assert ss.inverse_time_decay(10, 2.0, 0.5) == pytest.approx(2.0 / 6.0)


@pytest.mark.catalog("F15")
def test_warmup_rises_linearly_from_start_factor_then_holds_and_the_decay_clock_restarts():
    warm = ss.lr_sequence(ss.linear_warmup, 15, 1.0, warmup_steps=10, start_factor=0.1)
    assert warm[0] == pytest.approx(0.1) and np.all(np.diff(warm[:11]) > 0)
    assert np.all(warm[10:] == 1.0)
    both = _torch_lrs("warmup_exponential", 15, warmup_steps=10, k=0.5, start_factor=0.1)
    assert both[10] == pytest.approx(EPS0)  # the decay starts at its own t = 0
    assert both[11] == pytest.approx(EPS0 * math.exp(-0.5))


# Training with each torch scheduler class (StepLR, ExponentialLR, LambdaLR, LinearLR,
# SequentialLR); halve_every_5 / tenth_every_20 / warmup_inverse_time reuse these classes and
# are covered by the sequence test above.
TRAINING = {
    "step": {"step_size": 50, "gamma": 0.5},
    "exponential": {"k": 0.01},
    "inverse_time": {"k": 0.05},
    "warmup": {"warmup_steps": 20, "start_factor": 0.1},
    "warmup_exponential": {"warmup_steps": 20, "k": 0.01, "start_factor": 0.1},
}
GD_LR = {"quadratic": 0.1, "rosenbrock": 1e-3, "mlp": 0.5}


class _ScheduledSGD(so.SGD):
    """scratch GD whose lr at step t is the notes' closed form (set before each step)."""

    def __init__(self, lr, schedule, hparams):
        super().__init__(lr)
        self.eps0, self.schedule, self.hparams, self.t = lr, schedule, hparams, 0

    def step(self, params, grads):
        self.lr = self.schedule(self.t, self.eps0, **self.hparams)
        self.t += 1
        super().step(params, grads)


class _SGDWithScheduler(torch.optim.SGD):
    """torch SGD that steps its scheduler after every update, as Lightning does per step."""

    def __init__(self, params, lr, name, hparams):
        super().__init__(params, lr=lr)
        self.scheduler = ts.make_scheduler(name, self, **hparams)

    def step(self, closure=None):
        loss = super().step(closure)
        self.scheduler.step()
        return loss


@pytest.mark.catalog("F11")
@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("name", list(TRAINING))
def test_scheduled_gd_matches_torch_scheduler_step_for_step(name, problem, rng):
    hp = TRAINING[name]
    case = Case(
        f"gd+{name}",
        lambda lr: _ScheduledSGD(lr, ss.SCHEDULES[name], hp),
        lambda ps, lr: _SGDWithScheduler(ps, lr, name, hp),
        GD_LR,
    )
    prob = PROBLEMS[problem](rng, np.float64)
    run = assert_runs_match(case, prob, np.float64, steps=STEPS)
    # after 200 scheduler steps torch's lr is the closed form at t = 200
    assert run.topt.param_groups[0]["lr"] == pytest.approx(
        ss.SCHEDULES[name](STEPS, GD_LR[problem], **hp), rel=1e-12)
    assert prob.np_loss(run.params, 0) < prob.np_loss(prob.params0, 0)


def test_inverse_time_lambda_survives_state_dict_and_pickling():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = ts.make_scheduler("warmup_inverse_time", opt, warmup_steps=3, k=0.25)
    for _ in range(7):
        opt.step()
        sched.step()
    buffer = io.BytesIO()
    torch.save(sched.state_dict(), buffer)  # a plain lambda would not be saved at all
    opt2 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    resumed = ts.make_scheduler("warmup_inverse_time", opt2, warmup_steps=3, k=99.0)
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=False))
    assert resumed._schedulers[1].lr_lambdas[0].k == 0.25
    for t in range(7, 12):
        opt.step()
        sched.step()
        opt2.step()
        resumed.step()
        assert opt2.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"], rel=1e-15)
        assert opt.param_groups[0]["lr"] == pytest.approx(
            ss.SCHEDULES["warmup_inverse_time"](t + 1, 1.0, warmup_steps=3, k=0.25), rel=1e-12)


BAD = [
    ("step", {"step_size": 0, "gamma": 0.5}, lambda: ss.step_decay(0, 1.0, 0, 0.5),
     r"step_size must be an integer >= 1, got 0"),
    ("step", {"step_size": 5, "gamma": 0.0}, lambda: ss.step_decay(0, 1.0, 5, 0.0),
     r"gamma must be in \(0, 1\], got 0.0"),
    ("exponential", {"k": -0.1}, lambda: ss.exponential_decay(0, 1.0, -0.1),
     r"k must be in \[0, inf\), got -0.1"),
    ("inverse_time", {"k": math.nan}, lambda: ss.inverse_time_decay(0, 1.0, math.nan),
     r"k must be in \[0, inf\), got nan"),
    ("warmup", {"warmup_steps": 5, "start_factor": 0.0},
     lambda: ss.linear_warmup(0, 1.0, 5, 0.0), r"start_factor must be in \(0, 1\], got 0.0"),
    ("warmup", {"warmup_steps": 2.5}, lambda: ss.linear_warmup(0, 1.0, 2.5),
     r"warmup_steps must be an integer >= 1, got 2.5"),
]


@pytest.mark.parametrize("name, hparams, scratch_call, message", BAD)
def test_bad_schedule_hyperparameters_are_rejected_alike(name, hparams, scratch_call, message):
    p = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match=message):
        ts.make_scheduler(name, torch.optim.SGD([p], lr=1.0), **hparams)
    with pytest.raises(ValueError, match=message):
        scratch_call()


def test_unknown_schedule_name_lists_the_valid_ones():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    with pytest.raises(ValueError, match=r"unknown scheduler 'cosine'; valid choices: 'step', "):
        ts.make_scheduler("cosine", opt)
    with pytest.raises(ValueError, match=r"unknown hyper-parameter\(s\) 'gamma' for scheduler "
                                         r"'exponential'; valid: k"):
        ts.make_scheduler("exponential", opt, gamma=0.9)
    with pytest.raises(ValueError, match=r"t must be an integer >= 0, got -1"):
        ss.exponential_decay(-1, 1.0, 0.1)
