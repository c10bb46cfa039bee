"""Check a derivative you worked out by hand against torch autograd, node by node.

    python -m torchref.verify "ln(x1) + x1*x2 - sin(x2)" --at x1=2 x2=5 --claim x1="1/x1 + x2"

In a notebook: `torchref.verify.check(expr, at={...}, claims={...}, let={...})` returns a
`Report` (its repr is the text table; Jupyter shows it as HTML).

The expression is parsed by a small whitelist parser (never `eval`; `language`) into one
DAG, evaluated twice (`engines`): by the NumPy engine `scratch.graph` and by torch autograd
(`torchref.graph`), both in float64; the table shows every node's value and adjoint from both.
Each claim `VAR=EXPR` is a hand-derived df/dVAR for a variable or a `--let` node, checked
entry by entry at `--at` and at random points near it (`claims`); a failed one is diagnosed.
The language, the kink conventions and worked sessions: docs/verify.md and `--help`.

For tools built on it (`torchref.trace`): `parse_program(expression, let)` -> `Program`
(the DAG, `Expr` nodes), `evaluate(program, at)` -> `Table` (node rows with both engines'
values and adjoints); `check` adds the claims.

Exit status of the command: 0 every claim holds (and the engines agree), 1 a claim or the
engines disagree, 2 bad input (one line on stderr).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from torchref.verify.claims import ATOL, RTOL, Claim, check_claims
from torchref.verify.engines import NodeRow, Table, evaluate, no_cyclic_gc
from torchref.verify.language import (
    CONSTANTS,
    FUNCTIONS,
    Expr,
    Program,
    VerifyError,
    as_value,
    pairs,
    parse,
    parse_program,
    parse_value,
)
from torchref.verify.report import Report, format_report, to_dot

__all__ = ["check", "verify", "Report", "Claim", "NodeRow", "Table", "Program", "Expr",
           "VerifyError", "FUNCTIONS", "CONSTANTS", "parse", "parse_program", "parse_value",
           "evaluate", "format_report", "to_dot", "main", "RTOL", "ATOL"]


def _tolerances(rtol, atol) -> None:
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, int | float | np.floating) \
                or not np.isfinite(v) or v < 0:
            raise VerifyError(f"{name} must be a finite number >= 0, got {v!r}")
    if rtol >= 1:
        raise VerifyError(f"rtol must be below 1 (1 accepts a claim twice too large), got {rtol!r}")


def check(
    expression: str,
    at: Mapping[str, object],
    claims: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    let: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    *,
    points: int = 5,
    seed: int = 0,
    fix: Sequence[str] = (),
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Report:
    """Evaluate `expression` at `at` with scratch.graph and torch autograd; check `claims`.

    `at` maps variable names to numbers, vectors or matrices (nested lists or arrays);
    `claims` maps a variable or let name to its claimed derivative (an expression); `let`
    names intermediates in order, each usable by the later ones, the expression and claims.
    Each claim is checked at `at` and at `points` random points near it (`seed`), holding the
    variables of `fix` at their values. Raises VerifyError (a ValueError) for bad input.
    Catalog: D8, D13 (002 §4.2.2).
    """
    _tolerances(rtol, atol)
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= 1000:
        raise VerifyError(f"points must be an integer in [0, 1000], got {points!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise VerifyError(f"seed must be an integer >= 0, got {seed!r}")
    with no_cyclic_gc():
        return _check(expression, at, pairs(claims, "--claim"), pairs(let, "--let"), points,
                      seed, fix, rtol, atol)


def _check(expression, at, claims, lets, points, seed, fix, rtol, atol) -> Report:
    program = parse_program(expression, lets)
    if not isinstance(at, Mapping):
        raise VerifyError(f"at must map names to values, got {type(at).__name__}")
    values = {}
    for name, v in at.items():
        if name in program.lets:
            raise VerifyError(f"--at {name}: {name!r} is a --let name, computed, not given")
        values[name] = as_value(name, v, f"--at {name}")
    table, found, random_points, held = check_claims(program, values, claims, points, seed,
                                                     list(fix), rtol, atol)
    used = {n: values[n] for n in table.grad}
    return Report(expression, used, table.value, table.grad, table.rows, found,
                  {k: v for k, v in lets}, random_points, points if claims else 0, held)


verify = check  # the name of the first edition (and of the catalog's D8 entry)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m torchref.verify` (the `torchref-verify` script); see `cli`."""
    from torchref.verify.cli import main as cli_main

    return cli_main(argv)
