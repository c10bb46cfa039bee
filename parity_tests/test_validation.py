"""scratch.validation: the one place that declares valid ranges, shared by scratch and torchref."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratch.validation import (
    Choice,
    Interval,
    check_array,
    check_autoencoder_sizes,
    check_choice,
    check_interval,
    check_labels,
    check_layer_sizes,
    check_probabilities,
    check_same_shape,
)


@pytest.mark.parametrize(
    ("interval", "text", "inside", "outside"),
    [
        (Interval(0, 1, "left"), "[0, 1)", [0.0, 0.5], [1.0, -1e-12]),
        (Interval(0, 1, "right"), "(0, 1]", [1.0, 1e-12], [0.0, 1.5]),
        (Interval(0, 1, "both"), "[0, 1]", [0.0, 1.0], [1.0000001]),
        (Interval(0, math.inf, "neither"), "(0, inf)", [1e-300, 1e300], [0.0]),
    ],
)
def test_interval_prints_its_brackets_and_contains_exactly_its_points(
    interval, text, inside, outside
):
    assert str(interval) == text
    assert all(v in interval for v in inside)
    assert not any(v in interval for v in outside)


def test_interval_rejects_an_unknown_closedness():
    with pytest.raises(ValueError, match="closed must be one of"):
        Interval(0, 1, "half")


def test_check_interval_names_the_argument_the_range_and_the_value():
    assert check_interval("p", np.float32(0.25), Interval(0, 1, "left")) == 0.25
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1.0"):
        check_interval("p", 1, Interval(0, 1, "left"))
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\), got nan"):
        check_interval("lr", float("nan"), Interval(0, math.inf, "left"))
    with pytest.raises(TypeError, match="lr must be a real number"):
        check_interval("lr", "0.1", Interval(0, math.inf, "left"))
    with pytest.raises(TypeError, match="must be a real number"):
        check_interval("flag", True, Interval(0, 1))


def test_check_choice_lists_every_valid_choice():
    assert Choice(("a", "b")).check("mode", "b") == "b"
    expected = r"unknown activation 'relu6'; valid choices: 'relu', 'tanh'"
    with pytest.raises(ValueError, match=expected):
        check_choice("activation", "relu6", ("relu", "tanh"))


def test_check_array_promotes_ints_keeps_float32_and_rejects_nonfinite_or_wrong_rank():
    assert check_array("x", [1, 2]).dtype == np.float64
    assert check_array("x", np.ones(2, np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"x must have 2 dimension\(s\), got shape \(3,\)"):
        check_array("x", np.ones(3), ndim=2)
    with pytest.raises(ValueError, match=r"x must be finite, got 2 NaN/inf value\(s\)"):
        check_array("x", [np.nan, 1.0, np.inf])
    with pytest.raises(ValueError, match="x must not be empty"):
        check_array("x", np.ones((0, 3)), allow_empty=False)
    with pytest.raises(TypeError, match="x must hold real numbers"):
        check_array("x", np.array(["a"]))


def test_check_same_shape_refuses_what_numpy_would_broadcast():
    expected = r"y_hat and y must have the same shape, got y_hat\(3, 1\) and y\(3,\)"
    with pytest.raises(ValueError, match=expected):
        check_same_shape("y_hat", np.ones((3, 1)), "y", np.ones(3))


def test_check_probabilities_and_labels_report_the_offending_range():
    expected = r"p must be probabilities in \[0, 1\], got values in \[-0.1, 1\]"
    with pytest.raises(ValueError, match=expected):
        check_probabilities("p", [-0.1, 1.0])
    assert check_labels("y", np.array([0.0, 2.0]), 3).dtype == np.int64
    expected = r"y must be class labels in \[0, 2\], got values in \[0, 3\]"
    with pytest.raises(ValueError, match=expected):
        check_labels("y", [0, 3], 3)
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        check_labels("y", [0.5], 3)


def test_layer_size_checks_name_the_argument_and_what_is_wrong():
    assert check_layer_sizes("layer_sizes", [np.int64(4), 3]) == (4, 3)
    with pytest.raises(ValueError, match="layer_sizes must be a sequence of at least two widths"):
        check_layer_sizes("layer_sizes", [4])
    with pytest.raises(ValueError, match="layer_sizes must hold positive integers"):
        check_layer_sizes("layer_sizes", [4, 0])
    with pytest.raises(ValueError, match="must hold positive integers"):
        check_layer_sizes("layer_sizes", [4, True])
    with pytest.raises(ValueError, match="at least two"):
        check_layer_sizes("layer_sizes", "43")
    assert check_autoencoder_sizes((8, 3, 8)) == (8, 3, 8)
    with pytest.raises(ValueError, match=r"sizes\[0\]=8 and sizes\[-1\]=7"):
        check_autoencoder_sizes((8, 3, 7))
