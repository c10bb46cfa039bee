"""Trace your own numbers through the notes' algorithms, and check a hand-computed table.

    python -m torchref.trace KIND FILE.yaml [--json] [--check MINE.yaml] [--steps N]
                             [--decimals D]
    python -m torchref.trace example B6

KIND is mlp, linear, perceptron, optimizer or graph. Every intermediate quantity, in the
notes' notation, is computed by `scratch` (NumPy: `scratch.trace`, `scratch.classic`,
`scratch.optim`, `scratch.graph`) and recomputed by torch autograd on every run; a
disagreement is reported as a bug (exit 1). `--check` marks a student's numbers cell by cell
(ok / rounded wrongly / wrong, with the likely slip). The notes' worked examples ship as
input and check files in `examples/` (package data). docs/trace.md walks through it.

Modules: `inputs` (YAML with numbers that remember their decimals), `core` (the Trace, the
scratch/torch comparison, tables), one module per kind, `graph_adapter` (the one bridge to
torchref.verify), `check` (marking), `cli`. torch is imported only when a trace runs.
"""

from torchref.trace.check import Cell, check
from torchref.trace.cli import check_file, examples, main, run_example, trace_file
from torchref.trace.core import Trace

__all__ = ["Trace", "Cell", "check", "trace_file", "check_file", "examples", "run_example",
           "main"]
