"""The perceptron's trace as records and as the notes' table (presentation, no arithmetic).

`scratch.classic.perceptron_train` (NumPy) and `torchref.classic.perceptron_train` (torch)
compute their traces independently and both return these records: NumPy arrays in the
vector fields on one side, torch tensors on the other. The table and the message read either
kind (one `float()` per entry), so they are written once, here; this is the one scratch
module besides `scratch.validation` that torchref imports. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PerceptronRow", "PerceptronResult", "format_perceptron_trace"]

# A 1-D vector: np.ndarray in scratch's trace, torch.Tensor in torchref's.
Vector = Any


@dataclass(frozen=True)
class PerceptronRow:
    """One presentation: inputs, weights before, z = w.x, output, target, update, epoch."""

    epoch: int
    x: Vector
    w_before: Vector
    z: float
    y: float
    t: float
    dw: Vector

    @property
    def updated(self) -> bool:
        return self.y != self.t


@dataclass(frozen=True)
class PerceptronResult:
    """Outcome of a `perceptron_train`.

    converged: True iff an epoch passed with no update (then w separates the data); False
        when `max_epochs` ran out first. Non-convergence is a result, not an error: on data
        that are not linearly separable (XOR) the rule never stops changing (E9), and the
        caller decides what to do (`message` says it in words).
    epochs: epochs run (the final, update-free epoch included when converged).
    updates_per_epoch: number of updates in each epoch.
    trace: every presentation, in order (the first `max_rows` only, when the trainer was
        given one). Catalog: E1, E2, E9.
    """

    w: Vector
    converged: bool
    epochs: int
    n_updates: int
    updates_per_epoch: tuple[int, ...]
    trace: tuple[PerceptronRow, ...] = field(repr=False)
    # every presentation, also those a `max_rows` trace left out (None: len(trace))
    n_presentations: int | None = None

    @property
    def message(self) -> str:
        w = ", ".join(f"{float(v):.4g}" for v in self.w)
        n = len(self.trace) if self.n_presentations is None else self.n_presentations
        if self.converged:
            return (
                f"converged after {self.epochs} epochs ({n} presentations, "
                f"{self.n_updates} updates): w = ({w})"
            )
        return (
            f"did NOT converge in {self.epochs} epochs ({self.n_updates} updates, "
            f"{self.updates_per_epoch[-1]} in the last epoch): w = ({w}); the data may not "
            f"be linearly separable (check with scratch.classic.linear_separability)"
        )


def format_perceptron_trace(result: PerceptronResult, rows: int | None = None) -> str:
    """The trace as the notes' table: row, epoch, inputs, weights before, output, target,
    update; one line per presentation (the first `rows` only, if given), then the `message`.

    Numbers print with 4 significant digits, so 0.6000000000000001 reads 0.6. Catalog: E2.
    """
    d = len(result.trace[0].x) if result.trace else 0
    head = ["row", "epoch"] + [f"x{j}" for j in range(d)] + [f"w{j}" for j in range(d)]
    lines = ["  ".join(f"{h:>6}" for h in head + ["output", "target"]) + "  update"]
    shown = result.trace if rows is None else result.trace[:rows]
    for i, r in enumerate(shown, 1):
        if r.updated:
            verb = "add" if r.t > r.y else "subtract"
            upd = f"{verb} ({', '.join(f'{abs(float(v)):.4g}' for v in r.dw)})"
        else:
            upd = "-"
        cells = (
            [f"{i:>6d}", f"{r.epoch:>6d}"]
            + [f"{float(v):>6.4g}" for v in r.x]
            + [f"{float(v):>6.4g}" for v in r.w_before]
            + [f"{r.y:>6.0f}", f"{r.t:>6.0f}"]
        )
        lines.append("  ".join(cells) + "  " + upd)
    lines.append(result.message)
    return "\n".join(lines)
