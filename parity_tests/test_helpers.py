"""The test helpers themselves: the tolerance rule of `assert_close` and the parity recorder.

Tolerance rule (docs/design.md, "Float32 tolerances"): the default tolerance follows the lower
precision of the two sides compared and of the test's dtype.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from parity_tests import record
from parity_tests.helpers import F32, F64, assert_close, precision_of, tol, tolerance_dtype

ROOT = Path(__file__).resolve().parents[1]
F32_DT, F64_DT = np.dtype(np.float32), np.dtype(np.float64)

# A float32 result 2 ulps from the float64 truth: fine for float32, far outside float64's rtol.
_TRUTH = 1 / 3
_F32_RESULT = np.nextafter(np.nextafter(np.float32(_TRUTH), np.float32(1)), np.float32(1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.5, F64_DT),  # a Python float is a float64
        (np.float32(1.5), F32_DT),
        (np.ones(3, np.float32), F32_DT),
        (np.ones(3), F64_DT),
        (torch.ones(2, dtype=torch.float32), F32_DT),
        (torch.ones(2, dtype=torch.float64), F64_DT),
        (torch.ones(2, dtype=torch.complex64), F32_DT),
        (np.ones(2, np.complex128), F64_DT),
        ([np.float32(1), np.float32(2)], F32_DT),
        (3, None),  # integers carry no rounding
        (True, None),
        (np.arange(3), None),
        (torch.arange(3), None),
    ],
    ids=repr,
)
def test_precision_of_names_the_floating_precision_a_value_carries(value, expected):
    assert precision_of(value) == expected


def test_tolerance_dtype_is_the_lowest_precision_of_both_sides_and_the_test_dtype():
    x64, x32 = np.ones(2), np.ones(2, np.float32)
    assert tolerance_dtype(x64, x64) == F64_DT
    assert tolerance_dtype(x64, x32) == F32_DT
    assert tolerance_dtype(x32, 1.0) == F32_DT
    assert tolerance_dtype(x64, x64, dtype=np.float32) == F32_DT  # the test's dtype counts
    assert tolerance_dtype(x64, x64, dtype=torch.float32) == F32_DT
    assert tolerance_dtype(x32, x32, dtype=np.float64) == F32_DT  # never tighter than a side
    assert tolerance_dtype(np.arange(2), [1, 2]) == F64_DT  # no float anywhere: the tightest
    assert tol(tolerance_dtype(x64, x32)) is F32


def test_float32_result_vs_a_float64_truth_fails_at_float64_tolerance_but_passes_assert_close():
    # The failure of issue 11: a float32 computation compared with a float64 value (a scalar
    # the scratch side returned as a Python float, or a float64 reference).
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(_F32_RESULT, _TRUTH, **F64)
    assert_close(_F32_RESULT, _TRUTH)  # Python float vs float32 scalar
    assert_close(np.float64(_TRUTH), torch.tensor([_F32_RESULT])[0])  # either side, torch too
    assert_close(np.full(4, _F32_RESULT), np.full(4, _TRUTH), dtype=np.float32)  # test dtype


def test_float32_error_above_the_float32_tolerance_still_fails():
    # 3e-5 relative is three times float32's rtol (1e-5): a real error, caught.
    wrong = np.float32(_TRUTH * (1 + 3e-5))
    with pytest.raises(AssertionError):
        assert_close(wrong, _TRUTH)
    with pytest.raises(AssertionError):
        assert_close(np.full(3, _TRUTH), np.full(3, wrong), dtype=np.float32)


def test_float64_comparison_keeps_the_float64_tolerance():
    off = _TRUTH * (1 + 1e-8)  # inside float32's tolerance, 100x outside float64's
    with pytest.raises(AssertionError):
        assert_close(np.float64(off), _TRUTH)
    with pytest.raises(AssertionError):
        assert_close(np.full(2, off), np.full(2, _TRUTH), dtype=np.float64)


def test_explicit_rtol_and_atol_replace_the_default():
    assert_close(np.float64(1.001), 1.0, rtol=1e-2, atol=0)
    with pytest.raises(AssertionError):
        assert_close(np.float32(1.5), np.float32(1.5 + 2**-22), rtol=0, atol=0)


def test_a_dtype_without_a_default_tolerance_is_named():
    with pytest.raises(KeyError, match="float16"):
        assert_close(np.ones(2, np.float16), np.ones(2, np.float16))
    assert_close(np.ones(2, np.float16), np.ones(2), rtol=1e-3, atol=0)  # given: fine


# ---- the measured error the recorder writes -------------------------------------------------


def test_comparison_error_measures_abs_rel_and_the_share_of_the_tolerance_used():
    err = record.comparison_error([1.0, 2.5, 0.0, -4.0], [1.0, 2.0, 1e-3, -4.0], 0.1, 0.01)
    assert err["n"] == 4
    assert err["max_abs"] == pytest.approx(0.5)
    assert err["max_rel"] == pytest.approx(1.0)  # 1e-3 against 1e-3
    # 0.5 / (0.01 + 0.1 * 2) at the second value; 1e-3 / (0.01 + 1e-4) at the third
    assert err["usage"] == pytest.approx(0.5 / 0.21)


def test_comparison_error_counts_equal_infinities_and_nans_as_equal_and_skips_rel_at_zero():
    err = record.comparison_error([np.inf, np.nan, 0.5, 1e-9], [np.inf, np.nan, 0.5, 0.0], 0, 0)
    assert err["max_abs"] == pytest.approx(1e-9)
    assert err["max_rel"] == 0.0  # the only difference is against an expected 0
    assert err["usage"] == math.inf  # a nonzero error against a zero tolerance
    err = record.comparison_error(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]), 0, 0)
    assert err == {"n": 2, "max_abs": 0.0, "max_rel": 0.0, "usage": 0.0}
    err = record.comparison_error(np.ones((2, 3)), 1.0 + 1e-6, 1e-5, 0)  # broadcast, like numpy
    assert err["n"] == 6 and err["max_rel"] == pytest.approx(1e-6 / (1 + 1e-6))


_SAMPLE_TESTS = '''
import numpy as np
import pytest
import torch

from parity_tests.helpers import assert_close, record_passed_comparison


@pytest.mark.catalog("A3", "A4")
def test_helper_float32():
    assert_close(np.float32([1.5, 3.0]), [1.5 + 3e-7, 3.0])


@pytest.mark.catalog("B1")
@pytest.mark.parametrize("k", [1, 2])
def test_direct_numpy(k):
    np.testing.assert_allclose([1.0, 2.0 * k], [1.0, 2.0 * k + 1e-9], rtol=1e-6)


@pytest.mark.catalog("B2")
def test_direct_torch_and_exact():
    torch.testing.assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 2**-22]))
    np.testing.assert_array_equal(np.arange(3), [0, 1, 2])
    np.testing.assert_array_equal(["a"], ["a"])  # nothing numeric to measure


@pytest.mark.catalog("C1")
def test_mismatch_proven_caught():
    with pytest.raises(AssertionError):
        assert_close(np.ones(2), np.zeros(2))
    for _ in range(3):
        record_passed_comparison(np.ones(2), np.ones(2) + 1e-13, rtol=0, atol=1e-12)


def test_unmarked_listed_by_the_catalog():
    assert_close(np.ones(2), np.ones(2))


@pytest.mark.catalog("C2")
def test_failing():
    assert_close(np.ones(2), np.full(2, 1.5))
'''
# Stands in for torchref.catalog.CATALOG: names the unmarked test under Z9 (and a marked one,
# whose marker wins).
_SAMPLE_CONFTEST = '''
import types
import torchref.catalog

torchref.catalog.CATALOG = (
    types.SimpleNamespace(id="Z9", tests=("test_sample.py::test_unmarked_listed_by_the_catalog",
                                          "test_sample.py::test_helper_float32")),
)


def pytest_configure(config):
    config.addinivalue_line("markers", "catalog(*ids): catalog IDs")
'''


def _line(text: str) -> int:
    """The line of the sample test file that holds `text` (the call site a row names)."""
    lines = textwrap.dedent(_SAMPLE_TESTS).splitlines()
    return 1 + next(i for i, line in enumerate(lines) if text in line)


@pytest.fixture(params=["-n0", "-n1"])
def sample_record(request, tmp_path) -> dict:
    """The record of the sample suite, run without xdist and through an xdist worker."""
    (tmp_path / "test_sample.py").write_text(textwrap.dedent(_SAMPLE_TESTS))
    (tmp_path / "conftest.py").write_text(textwrap.dedent(_SAMPLE_CONFTEST))
    path = tmp_path / "record.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "parity_tests.record", request.param,
         "-p", "no:cacheprovider", f"--rootdir={tmp_path}", f"--parity-record={path}",
         str(tmp_path / "test_sample.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # test_failing fails, by design
    return {t["nodeid"].split("::", 1)[1]: t for t in json.loads(path.read_text())["tests"]}


@pytest.mark.slow
def test_record_holds_ids_dtype_count_and_measured_error_of_every_comparison(sample_record):
    tests = sample_record
    assert len(tests) == 7
    [row] = tests["test_helper_float32"]["comparisons"]
    assert tests["test_helper_float32"]["ids"] == ["A3", "A4"]  # the marker, not the catalog
    assert row["kind"] == "assert_close" and row["dtype"] == "float32"
    assert row["site"] == f"test_sample.py:{_line('assert_close(np.float32')}"
    assert (row["count"], row["n"], row["failed"]) == (1, 2, 0)
    assert row["max_abs"] == pytest.approx(3e-7, rel=1e-6)
    assert row["max_rel"] == pytest.approx(3e-7 / (1.5 + 3e-7), rel=1e-6)
    assert (row["rtol"], row["atol"]) == (F32["rtol"], F32["atol"])
    assert row["usage"] == pytest.approx(3e-7 / (F32["atol"] + F32["rtol"] * (1.5 + 3e-7)))

    for k in (1, 2):
        [row] = tests[f"test_direct_numpy[{k}]"]["comparisons"]
        assert tests[f"test_direct_numpy[{k}]"]["ids"] == ["B1"]
        assert (row["kind"], row["dtype"], row["n"]) == ("np.testing.assert_allclose", "float64", 2)
        assert row["max_abs"] == pytest.approx(1e-9, rel=1e-5)
        assert (row["rtol"], row["atol"]) == (1e-6, 0.0)

    rows = {r["kind"]: r for r in tests["test_direct_torch_and_exact"]["comparisons"]}
    close = rows["torch.testing.assert_close"]
    assert close["dtype"] == "float32" and close["max_abs"] == 2**-22
    assert (close["rtol"], close["atol"]) == (1.3e-6, 1e-5)  # torch's float32 defaults
    exact = [r for r in tests["test_direct_torch_and_exact"]["comparisons"]
             if r["kind"] == "np.testing.assert_array_equal"]
    assert sorted(r["dtype"] for r in exact) == ["int64", "unmeasured"]

    caught = tests["test_mismatch_proven_caught"]
    assert caught["outcome"] == "passed"
    rows = {int(r["site"].rsplit(":", 1)[1]): r for r in caught["comparisons"]}
    raised = rows[_line("assert_close(np.ones(2), np.zeros(2))")]
    assert raised["failed"] == 1 and raised["max_abs"] == 0.0  # raised: not a maximum
    observed = rows[_line("record_passed_comparison(")]
    assert observed["count"] == 3 and observed["max_abs"] == pytest.approx(1e-13, rel=1e-3)

    assert tests["test_unmarked_listed_by_the_catalog"]["ids"] == ["Z9"]  # the fallback
    failing = tests["test_failing"]
    assert failing["outcome"] == "failed" and failing["comparisons"][0]["failed"] == 1


def test_the_assertions_are_wrapped_exactly_when_the_session_records():
    # A normal run leaves numpy and torch untouched (no cost, no behaviour change); a session
    # started with --parity-record (python -m torchref.report) has them wrapped.
    wrapped = np.testing.assert_allclose is not record._NP_ALLCLOSE
    assert wrapped == record.active()
    assert (torch.testing.assert_close is not record._TORCH_CLOSE) == record.active()
    assert (np.testing.assert_array_equal is not record._NP_ARRAY_EQUAL) == record.active()
