"""Record the error every parity comparison actually measured: `pytest --parity-record=PATH`.

A pytest plugin (registered by `conftest.py`; off unless the option is given). When on, every
comparison a test makes, through `helpers.assert_close` or directly through
`np.testing.assert_allclose`, `np.testing.assert_array_equal` or `torch.testing.assert_close`
(wrapped for the session), is recorded with the test's catalog IDs, the dtype, the number of
values compared and the largest absolute and relative error observed, and how much of the
tolerance that used (`max |a - e| / (atol + rtol |e|)`: below 1 passes). `python -m
torchref.report` turns the file into a site.

Catalog IDs of a test: its `@pytest.mark.catalog(...)` IDs; for a test without the marker,
the IDs whose `tests` list in `torchref.catalog.CATALOG` names it.

The file's format is `torchref/report/recordfile.py`'s. Comparisons are aggregated per test,
call site, kind and dtype (a loop of 300 steps is one row with count 300); `failed` counts
comparisons that raised (a test that proves a mismatch is caught makes some on purpose); the
maxima are over the comparisons that passed. Under pytest-xdist each worker sends its records
with the test's report (`user_properties`); the controller writes the file.

Off, the cost is one `is None` test per `assert_close`: the wrappers are installed only for
a session that records.

PYTEST_DONT_REWRITE: `helpers` imports this module before pytest registers it as a plugin,
and it holds no test assertions to rewrite.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
import torch

from torchref.report import recordfile

__all__ = ["active", "assert_allclose", "comparison_error", "observe"]

_PROPERTY = "parity_record"
# The originals, captured at import: the session's wrappers and `assert_allclose` below call
# these, so a comparison made through the helper is recorded once, not twice.
_NP_ALLCLOSE = np.testing.assert_allclose
_NP_ARRAY_EQUAL = np.testing.assert_array_equal
_TORCH_CLOSE = torch.testing.assert_close
# torch.testing.assert_close's defaults when rtol and atol are omitted (its documented table).
_TORCH_DEFAULT_TOL = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-7, 1e-7),
}

_ACTIVE: _Recorder | None = None


def assert_allclose(actual, desired, rtol=1e-7, atol=0.0, *args, tolerance_dtype=None, **kw):
    """`np.testing.assert_allclose`, recorded when a session records (`helpers.assert_close`)."""
    if _ACTIVE is None:
        _NP_ALLCLOSE(actual, desired, rtol, atol, *args, **kw)
        return
    _ACTIVE.check(
        "assert_close", _NP_ALLCLOSE, (actual, desired, rtol, atol, *args), kw,
        actual, desired, rtol, atol, tolerance_dtype,
    )


def active() -> bool:
    """Whether this session records (`--parity-record` was given)."""
    return _ACTIVE is not None


def observe(actual, desired, rtol: float, atol: float, tolerance_dtype=None) -> None:
    """Record a comparison the caller has already checked passed (e.g. with `np.isclose`)."""
    if _ACTIVE is not None:
        _ACTIVE._note("assert_close", actual, desired, rtol, atol, tolerance_dtype, failed=False)


def _np_allclose(actual, desired, rtol=1e-7, atol=0.0, *args, **kw):
    _ACTIVE.check(
        "np.testing.assert_allclose", _NP_ALLCLOSE, (actual, desired, rtol, atol, *args), kw,
        actual, desired, rtol, atol, None,
    )


def _np_array_equal(x, y, *args, **kw):
    _ACTIVE.check(
        "np.testing.assert_array_equal", _NP_ARRAY_EQUAL, (x, y, *args), kw, x, y, 0.0, 0.0, None
    )


def _torch_close(actual, expected, *args, rtol=None, atol=None, **kw):
    if rtol is None and atol is None:
        dtype = _first_tensor_dtype(actual) or _first_tensor_dtype(expected)
        used_rtol, used_atol = _TORCH_DEFAULT_TOL.get(dtype, (0.0, 0.0))
    else:
        used_rtol, used_atol = rtol, atol
    _ACTIVE.check(
        "torch.testing.assert_close", _TORCH_CLOSE, (actual, expected, *args),
        {"rtol": rtol, "atol": atol, **kw}, actual, expected, used_rtol, used_atol, None,
    )


def comparison_error(actual, desired, rtol: float, atol: float) -> dict:
    """`n`, `max_abs`, `max_rel` and `usage` (`max |a-e| / (atol + rtol |e|)`) of a comparison.

    Equal values (infinities of the same sign, NaN against NaN) count as error 0, as the
    assertions treat them. `max_rel` is over the values whose expected value `e` is nonzero
    (where `e == 0` only the absolute error means anything); `usage` is inf where the
    tolerance is 0 and the values differ.
    """
    a, e = np.broadcast_arrays(_as_array(actual), _as_array(desired))
    if a.size == 0:
        return {"n": 0, "max_abs": 0.0, "max_rel": 0.0, "usage": 0.0}
    real = a.dtype.kind != "c" and e.dtype.kind != "c"
    a = a.astype(np.float64 if real else np.complex128)
    e = e.astype(np.float64 if real else np.complex128)
    with np.errstate(all="ignore"):
        same = (a == e) | (np.isnan(a) & np.isnan(e))
        diff = np.where(same, 0.0, np.abs(a - e))
        diff = np.where(np.isnan(diff), np.inf, diff)
        scale = np.abs(e)
        bound = atol + rtol * scale
        rel = np.where((diff == 0) | (scale == 0), 0.0, _ratio(diff, scale))
        usage = np.where(diff == 0, 0.0, _ratio(diff, bound))
        return {
            "n": int(a.size),
            "max_abs": float(diff.max()),
            "max_rel": float(rel.max()),
            "usage": float(usage.max()),
        }


# ---- the plugin -----------------------------------------------------------------------------


def pytest_addoption(parser):
    parser.getgroup("parity-record").addoption(
        "--parity-record",
        metavar="PATH",
        default=None,
        help="record the error of every parity comparison, with the test's catalog IDs, "
        "into the JSON file PATH (read by `python -m torchref.report`)",
    )


def pytest_configure(config):
    path = config.getoption("parity_record", None)
    if path:
        config.pluginmanager.register(_Recorder(config, Path(path)), "parity-record-session")


class _Recorder:
    """The session's recorder: wraps the assertions, collects per test, writes the file."""

    def __init__(self, config, path: Path):
        self.config = config
        self.path = path if path.is_absolute() else Path(config.invocation_params.dir) / path
        self.root = Path(config.rootpath)
        self.current: dict | None = None  # (site, kind, dtype) -> aggregate, of the running test
        self.tests: dict[str, dict] = {}  # nodeid -> record (filled from the reports)
        self._catalog_ids: dict[str, list[str]] | None = None
        self._paths: dict[str, str] = {}

    # -- session --
    def pytest_configure(self, config):  # called at once for a plugin registered this late
        global _ACTIVE
        _ACTIVE = self
        np.testing.assert_allclose = _np_allclose
        np.testing.assert_array_equal = _np_array_equal
        torch.testing.assert_close = _torch_close

    def pytest_unconfigure(self, config):
        global _ACTIVE
        _ACTIVE = None
        np.testing.assert_allclose = _NP_ALLCLOSE
        np.testing.assert_array_equal = _NP_ARRAY_EQUAL
        torch.testing.assert_close = _TORCH_CLOSE

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.current = {}
        yield
        self.current = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        # The teardown report is the test's last; it carries the test's records (to the
        # controller too, under xdist, which sends user_properties with every report).
        if call.when == "teardown" and self.current is not None:
            rows = [dict(row, site=site, kind=kind, dtype=dtype)
                    for (site, kind, dtype), row in self.current.items()]
            item.user_properties.append((_PROPERTY, {"ids": self._ids(item), "comparisons": rows}))

    def pytest_runtest_logreport(self, report):
        test = self.tests.setdefault(
            report.nodeid,
            {"nodeid": report.nodeid, "ids": [], "outcome": "passed", "duration": 0.0,
             "comparisons": []},
        )
        test["duration"] += report.duration
        if report.failed:
            test["outcome"] = "failed"
        elif report.skipped and test["outcome"] == "passed":
            test["outcome"] = "skipped"
        for name, value in report.user_properties:
            if name == _PROPERTY and report.when == "teardown":
                test["ids"] = value["ids"]
                test["comparisons"] = value["comparisons"]

    def pytest_sessionfinish(self, session, exitstatus):
        if hasattr(self.config, "workerinput"):
            return  # an xdist worker: the controller writes the file
        tests = sorted(self.tests.values(), key=lambda t: t["nodeid"])
        recordfile.write(self.path, _meta(self.config, exitstatus), tests)

    def pytest_terminal_summary(self, terminalreporter):
        if not hasattr(self.config, "workerinput"):
            n = sum(r["count"] for t in self.tests.values() for r in t["comparisons"])
            terminalreporter.write_line(f"parity record: {n} comparisons -> {self.path}")

    # -- recording --
    def check(self, kind, fn, args, kw, actual, desired, rtol, atol, tolerance_dtype):
        try:
            fn(*args, **kw)
        except AssertionError:
            self._note(kind, actual, desired, rtol, atol, tolerance_dtype, failed=True)
            raise
        self._note(kind, actual, desired, rtol, atol, tolerance_dtype, failed=False)

    def _note(self, kind, actual, desired, rtol, atol, tolerance_dtype, failed):
        if self.current is None:
            return  # a comparison outside any test (collection, a session fixture)
        from parity_tests.helpers import precision_of
        from parity_tests.helpers import tolerance_dtype as lowest

        try:
            err = comparison_error(actual, desired, float(rtol), float(atol))
        except Exception:  # noqa: BLE001 -- strings, objects: nothing to measure; never break
            err = None
        if tolerance_dtype is None:
            floats = [precision_of(v) for v in (actual, desired)]
            if any(d is not None for d in floats):
                tolerance_dtype = lowest(actual, desired)
        if tolerance_dtype is None:
            dtype = "unmeasured" if err is None else str(_as_array(actual).dtype)
        else:
            dtype = np.dtype(tolerance_dtype).name
        row = self.current.setdefault(
            (self._site(), kind, dtype),
            {"count": 0, "failed": 0, "n": 0, "max_abs": 0.0, "max_rel": 0.0, "usage": 0.0,
             "rtol": float(rtol), "atol": float(atol)},
        )
        row["count"] += 1
        if failed:
            row["failed"] += 1
            return
        if err is None:
            return
        row["n"] += err["n"]
        row["max_abs"] = _max(row["max_abs"], err["max_abs"])
        row["max_rel"] = _max(row["max_rel"], err["max_rel"])
        if not err["usage"] <= row["usage"]:  # also takes a NaN, which is worth seeing
            row.update(usage=err["usage"], rtol=float(rtol), atol=float(atol))

    def _site(self) -> str:
        here = (__file__, sys.modules["parity_tests.helpers"].__file__)
        frame = sys._getframe(3)
        while frame is not None and frame.f_code.co_filename in here:
            frame = frame.f_back
        if frame is None:
            return "?"
        return f"{self._relative(frame.f_code.co_filename)}:{frame.f_lineno}"

    def _relative(self, filename: str) -> str:
        if filename not in self._paths:  # a few files, thousands of comparisons: cache
            path = Path(filename)
            with contextlib.suppress(ValueError):
                path = path.relative_to(self.root)
            self._paths[filename] = path.as_posix()
        return self._paths[filename]

    def _ids(self, item) -> list[str]:
        # The marker is exact (it may sit on one parameter); the catalog's lists name whole
        # test functions, so they only stand in for a test that has no marker.
        ids = [a for m in item.iter_markers("catalog") for a in m.args]
        ids = ids or self._catalog().get(item.nodeid.split("[")[0], [])
        return sorted(set(ids), key=recordfile.id_key)

    def _catalog(self) -> dict[str, list[str]]:
        if self._catalog_ids is None:
            from torchref.catalog import CATALOG

            self._catalog_ids = {}
            for entry in CATALOG:
                for test in entry.tests:
                    self._catalog_ids.setdefault(test, []).append(entry.id)
        return self._catalog_ids


# ---- small parts ----------------------------------------------------------------------------


def _as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.resolve_conj().numpy()
    if isinstance(x, Mapping):
        x = list(x.values())
    if isinstance(x, list | tuple) and any(isinstance(v, torch.Tensor | Mapping) for v in x):
        return np.concatenate([_as_array(v).ravel() for v in x]) if x else np.zeros(0)
    return np.asarray(x)


def _first_tensor_dtype(x):
    if isinstance(x, torch.Tensor):
        return x.dtype
    if isinstance(x, Mapping):
        x = list(x.values())
    if isinstance(x, list | tuple):
        for v in x:
            d = _first_tensor_dtype(v)
            if d is not None:
                return d
    return None


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, inf where den is 0 (a nonzero error against a zero scale or tolerance)."""
    return np.divide(num, den, where=den > 0, out=np.full_like(num, np.inf, dtype=np.float64))


def _max(a: float, b: float) -> float:
    return b if not b <= a else a  # a NaN error (NaN against a number) wins, and shows


def _meta(config, exitstatus) -> dict:
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
                for i in threadpool_info() if i.get("user_api") == "blas"]
    except Exception:  # noqa: BLE001 -- informative only
        blas = []
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "args": list(config.invocation_params.args),
        "exitstatus": int(exitstatus),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "processor": _cpu_name(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "numpy_blas": blas,
        "env": {k: os.environ[k] for k in ("ATEN_CPU_CAPABILITY", "OPENBLAS_CORETYPE")
                if k in os.environ},
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
