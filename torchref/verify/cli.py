"""The command line of verify: `python -m torchref.verify EXPR --at ... [--let ...] [--claim ...]`.

Bad input is one line on stderr and exit status 2 (argparse's usage block included); a
failed claim, or engines that disagree, exit 1; otherwise 0. `--help` lists the language,
generated from `FUNCTIONS`, and the derivative each function takes at its kinks, read from the
"Kink:" lines of `scratch.graph`'s docstrings (where the engine documents them once).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import sys
import tempfile
import textwrap
from collections.abc import Sequence

from scratch import graph
from torchref.verify import ATOL, RTOL, VerifyError, check, parse_value, to_dot
from torchref.verify.engines import no_cyclic_gc
from torchref.verify.language import FUNCTIONS, OPERATORS
from torchref.verify.report import format_report

__all__ = ["main", "language_help", "kink_conventions"]


def kink_conventions() -> dict[str, str]:
    """Function or operator -> its "Kink:" sentence in `scratch.graph` (stated there once)."""
    found = {}
    named = {**OPERATORS, **{n: f.op for n, f in FUNCTIONS.items()}}
    for name, op_name in named.items():
        op = graph.OPS[op_name]
        shared = getattr(op, "func", None)  # an activation: `activation`'s one sentence
        doc = inspect.getdoc(shared or op) or ""
        m = re.search(r"Kink: (.*?)(?:\n\n|$)", doc, re.DOTALL)
        if m and (shared is None or re.search(rf"\b{name}\b", m.group(1))):
            found[name] = " ".join(m.group(1).split())
    return found


def language_help() -> str:
    """The help's epilog: operators, functions by group, kink conventions, examples."""
    groups: dict[str, list[str]] = {}
    for name, fn in FUNCTIONS.items():
        args = ", ".join(fn.args) + (", axis=" if fn.axis else "")
        groups.setdefault(fn.group, []).append(f"{name}({args})")
    wrap = textwrap.TextWrapper(width=96, initial_indent="    ", subsequent_indent="    ")
    lines = ["language:",
             "  numbers, pi, e; + - * / ** with Python's precedence (-x**2 = -(x**2)); @ with",
             "  NumPy's rules for vectors and matrices; A.T; w[0], W[1, 0], W[:, 0];",
             "  comparisons < <= > >= (1 or 0, no derivative) for where(cond, a, b)."]
    for group, names in groups.items():
        lines += [f"  {group}:", wrap.fill(", ".join(names))]
    lines += ["", "derivatives at kinks and jumps (torch autograd's choice, scratch.graph's too):"]
    seen: dict[str, list[str]] = {}
    for name, sentence in kink_conventions().items():
        seen.setdefault(sentence, []).append(name)
    for sentence, names in seen.items():
        lines.append(wrap.fill(f"{', '.join(names)}: {sentence}"))
    lines += ["", "examples:",
              '  python -m torchref.verify "ln(x1) + x1*x2 - sin(x2)" --at x1=2 x2=5 '
              '--claim x1="1/x1 + x2"',
              '  python -m torchref.verify "bce(a, t)" --let z="w@x + b" --let a="sigmoid(z)" \\',
              '      --at w=0.5,-1 x=1,2 b=0.1 t=1 --claim z="a - t" --claim w="(a - t)*x"',
              "", "docs/verify.md has the whole language and worked sessions."]
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit code 2, not argparse's usage block
        raise VerifyError(message)


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m torchref.verify",
        description="Evaluate an expression with scratch.graph and torch autograd side by side "
        "and check hand-derived derivatives (of variables or of --let intermediates).",
        epilog=language_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("expression", help="e.g. 'ln(x1) + x1*x2 - sin(x2)' or 'bce(sigmoid(w@x), t)'")
    p.add_argument("--at", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="input values: x1=2, a vector w=1,2,3, a matrix W='[[1,2],[3,4]]'")
    p.add_argument("--let", action="append", default=[], metavar="NAME=EXPR",
                   help="name an intermediate, e.g. z='W@x + b' (repeatable, in order); the "
                   "table shows it by name and a claim on it is df/dNAME")
    p.add_argument("--claim", action="append", default=[], metavar="VAR=EXPR",
                   help="a hand-derived df/dVAR to check, e.g. x1='1/x1 + x2' (repeatable)")
    p.add_argument("--points", type=int, default=5, metavar="N",
                   help="random points near --at where each claim is checked too (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    p.add_argument("--fix", nargs="+", action="extend", default=[], metavar="NAME",
                   help="variables the random points keep at their --at value (data such as "
                   "one-hot targets)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--dot", metavar="FILE",
                   help="also write the graph with values and adjoints as Graphviz DOT")
    p.add_argument("--rtol", type=float, default=RTOL, help=f"claim tolerance (default {RTOL})")
    p.add_argument("--atol", type=float, default=ATOL, help=f"claim tolerance (default {ATOL})")
    return p


def _positional(argv: Sequence[str]) -> list[str]:
    # argparse takes "-x1**2" for an option; our options are all long (and -h), so a leading
    # space keeps such a word positional (the parser strips it). "-" alone stays as it is.
    return [" " + a if a.startswith("-") and not a.startswith("--") and a not in ("-", "-h")
            else a for a in argv]


def _assignments(specs: Sequence[str], what: str, var: str, example: str
                 ) -> list[tuple[str, str]]:
    out = []
    for spec in specs:
        name, sep, text = spec.partition("=")
        if not sep or not name.strip().isidentifier() or not text.strip():
            raise VerifyError(f"{what} needs {var}=EXPR (e.g. {example}), got {spec.strip()!r}")
        out.append((name.strip(), text))
    return out


def _write(path: str, text: str) -> None:
    # Written whole or not at all: a temporary file beside the target, then one rename.
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".verify-", suffix=".dot")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise VerifyError(f"--dot: cannot write {path!r}: {exc.strerror}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (0 ok, 1 mismatch, 2 bad input)."""
    with no_cyclic_gc():  # the check and its table: ~100,000 objects for 10,000 nodes
        return _main(sys.argv[1:] if argv is None else list(argv))


def _main(argv: list[str]) -> int:
    try:
        args = _build_parser().parse_args(_positional(argv))
        at: dict = {}
        for spec in args.at:
            name, value = parse_value(spec.strip())
            if name in at:
                raise VerifyError(f"--at {name}: given twice ({spec.strip()!r} and an earlier "
                                  "value); give each variable once")
            at[name] = value
        claims = _assignments(args.claim, "--claim", "VAR", "x1='1/x1 + x2'")
        lets = _assignments(args.let, "--let", "NAME", "z='W@x + b'")
        report = check(args.expression.strip(), at, claims, lets, points=args.points,
                       seed=args.seed, fix=args.fix, rtol=args.rtol, atol=args.atol)
        if args.dot:
            _write(args.dot, to_dot(report))
    except VerifyError as exc:
        print(f"torchref.verify: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
