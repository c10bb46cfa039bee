"""The perceptron trace is presented once (scratch.perceptron_trace) for both rooms' runs.

scratch.classic and torchref.classic compute their traces independently (NumPy vs torch
autograd); the records, the table and the message are shared, so a run in either room reads
the same, character for character.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratch import classic as sc
from scratch.perceptron_trace import PerceptronResult, PerceptronRow, format_perceptron_trace
from torchref import classic as tc

XOR_X = [[1.0, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]]
XOR_T = [0.0, 1, 1, 0]


def _both(X, t, w0, lr, max_epochs):
    ours = sc.perceptron_train(np.array(X), np.array(t), np.array(w0), lr, max_epochs)
    theirs = tc.perceptron_train(
        torch.tensor(X, dtype=torch.float64), torch.tensor(t, dtype=torch.float64),
        torch.tensor(w0, dtype=torch.float64), lr, max_epochs,
    )
    return ours, theirs


@pytest.mark.catalog("E2", "E9")
@pytest.mark.parametrize(
    "case",
    [
        ("AND of 003, converges", sc.and_exercise()["X"].tolist(), [0.0, 0, 0, 1],
         [-1.2, -0.3, -0.4], 0.9, 100),
        ("XOR, never converges", XOR_X, XOR_T, [0.0, 0, 0], 1.0, 7),
    ],
    ids=lambda c: c[0],
)
def test_scratch_and_torch_runs_print_the_same_table_and_message(case):
    _, X, t, w0, lr, max_epochs = case
    ours, theirs = _both(X, t, w0, lr, max_epochs)
    assert isinstance(theirs.trace[0].x, torch.Tensor) and isinstance(ours.trace[0].x, np.ndarray)
    table = format_perceptron_trace(ours)
    assert format_perceptron_trace(theirs) == table
    assert table.splitlines()[-1] == ours.message == theirs.message
    assert len(table.splitlines()) == len(ours.trace) + 2  # header, rows, message


def test_the_table_prints_four_significant_digits_and_names_the_update():
    row = PerceptronRow(2, np.array([1.0, 1, 0]), np.array([-0.3, 0.6000000000000001, 0.5]),
                        0.8, 1.0, 0.0, np.array([-0.9, -0.9, 0.0]))
    result = PerceptronResult(np.array([-1.2, -0.3, -0.4]), False, 1, 1, (1,), (row,))
    lines = format_perceptron_trace(result).splitlines()
    assert lines[0].split() == ["row", "epoch", "x0", "x1", "x2", "w0", "w1", "w2", "output",
                                "target", "update"]
    assert lines[1].split() == ["1", "2", "1", "1", "0", "-0.3", "0.6", "0.5", "1", "0",
                                "subtract", "(0.9,", "0.9,", "0)"]
    assert lines[2].startswith("did NOT converge in 1 epochs (1 updates, 1 in the last epoch)")
    assert format_perceptron_trace(result, rows=0).splitlines()[1:] == lines[2:]


def test_both_rooms_return_the_one_record_type():
    assert tc.PerceptronResult is sc.PerceptronResult is PerceptronResult
    assert tc.format_perceptron_trace is sc.format_perceptron_trace
