"""PyTorch counterparts of `scratch.classic`: threshold units and nets with fixed weights, the
perceptron as SGD on the perceptron criterion, connection graphs of modules, the inhibitory
unit (catalog A1, A9, B8, E1-E4, E6-E9).

Imports torch, the standard library's `graphlib`, `torchref.activations` (`Step`),
`scratch.validation` (shared error wording) and `scratch.perceptron_trace` (the trace's
records and table: presentation, no arithmetic) only; it never imports the rest of `scratch`,
so every parity test compares two independent computations.

`python -m torchref.classic perceptron-and` prints the trace of 003's AND exercise
(inputs, weights before, output, target, update, one row per presentation) and the
convergence line; `perceptron-xor` shows the rule failing to converge on XOR.

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: B8 -> torch.nn:RNNCell
Catalog: E1 -> torch.optim:SGD
Catalog: E3 -> torch:outer
Catalog: E8 -> torch.nn.functional:relu
"""

from __future__ import annotations

import argparse
import graphlib
import itertools
import sys
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from scratch.perceptron_trace import PerceptronResult, PerceptronRow, format_perceptron_trace
from scratch.validation import POSITIVE, Choice, check_count, check_int, check_interval
from torchref.activations import SignUnit, Step

__all__ = [
    "BTU",
    "gate",
    "ThresholdNet",
    "xor_net",
    "xor_net_1_skip",
    "iff_net",
    "construction_theorem_net",
    "invert_output",
    "truth_table_inputs",
    "Perceptron",
    "perceptron_criterion",
    "PerceptronRow",
    "PerceptronResult",
    "perceptron_train",
    "format_perceptron_trace",
    "and_exercise",
    "connection_graph",
    "is_feed_forward",
    "RecurrentBTU",
    "InhibitoryUnit",
    "synapse_depression",
    "main",
]

GATES = Choice(("AND", "OR", "NOT", "NAND", "EDIBLE"))
_SYNAPSE_KINDS = Choice(("artificial", "biological"))
_IFF_HIDDEN = (4, 2, 1)


def _fixed_linear(weight, bias=None, dtype=torch.float64) -> nn.Linear:
    """An `nn.Linear` holding the given weights, frozen (requires_grad False)."""
    weight = torch.as_tensor(weight, dtype=dtype)
    if weight.ndim != 2:
        raise ValueError(f"weight must be 2-D (n_out, n_in), got shape {tuple(weight.shape)}")
    lin = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, dtype=dtype)
    with torch.no_grad():
        lin.weight.copy_(weight)
        if bias is not None:
            lin.bias.copy_(torch.as_tensor(bias, dtype=dtype).reshape(weight.shape[0]))
    lin.requires_grad_(False)
    return lin


# ---- A1 / E4: single threshold units ------------------------------------------------------


class BTU(nn.Module):
    """Binary threshold unit `y = 1{x^T w + b > 0}` with fixed weights. Catalog: A1, E4.

    `nn.Linear(d, 1)` followed by `torchref.activations.Step` (0 at exactly 0).
    Input (N, d) -> output (N,).
    """

    def __init__(self, w: Sequence[float], b: float, dtype=torch.float64) -> None:
        super().__init__()
        self.linear = _fixed_linear([list(w)], [b], dtype)
        self.step = Step()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.step(self.linear(x))[:, 0]

    def inverted(self) -> BTU:
        """The unit with weights and bias negated: its complement off the threshold (003)."""
        return BTU(
            (-self.linear.weight[0]).tolist(), -float(self.linear.bias[0]),
            self.linear.weight.dtype,
        )


_GATE_WEIGHTS = {
    "AND": ((1.0, 1.0), -1.5),
    "OR": ((1.0, 1.0), -0.5),
    "NOT": ((-1.0,), 0.5),
    "NAND": ((-1.0, -1.0), 1.5),
    "EDIBLE": ((1.0, 1.0), -1.5),  # purple AND round (003)
}


def gate(name: str, dtype=torch.float64) -> BTU:
    """The logic gates of 003 as BTUs: "AND", "OR", "NOT", "NAND", "EDIBLE". Catalog: E4."""
    GATES.check("gate", name)
    w, b = _GATE_WEIGHTS[name]
    return BTU(w, b, dtype)


# ---- E6 / E7: two-layer threshold networks ------------------------------------------------


class ThresholdNet(nn.Module):
    """`h = s(W1 x + b1)`, `y = s(W2 h + V x + b2)` with fixed weights; s the 0/1 step.

    Catalog: E6, E7, A9. `hidden` and `output` are frozen `nn.Linear`s, `skip` (no bias) the
    optional direct input-to-output connections. `forward` returns `(y (N,), h (N, H))`.
    """

    def __init__(self, W1, b1, W2, b2, V=None, dtype=torch.float64) -> None:
        super().__init__()
        self.hidden = _fixed_linear(W1, b1, dtype)
        self.output = _fixed_linear(W2, b2, dtype)
        if self.output.in_features != self.hidden.out_features or self.output.out_features != 1:
            raise ValueError(
                f"W2 must have shape (1, {self.hidden.out_features}), "
                f"got {tuple(self.output.weight.shape)}"
            )
        self.skip = None if V is None else _fixed_linear(V, None, dtype)
        self.step = SignUnit()  # 002's 0/1 "sign" unit (A9)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.step(self.hidden(x))  # (N, H)
        z = self.output(h)  # (N, 1)
        if self.skip is not None:
            z = z + self.skip(x)
        return self.step(z)[:, 0], h


def invert_output(net: ThresholdNet) -> ThresholdNet:
    """The same hidden layer, output weights (and bias, and direct weights) negated (003).

    Catalog: E7.
    """
    return ThresholdNet(
        net.hidden.weight, net.hidden.bias, -net.output.weight, -net.output.bias,
        None if net.skip is None else -net.skip.weight, net.hidden.weight.dtype,
    )


def xor_net(dtype=torch.float64) -> ThresholdNet:
    """002 §4.1.3: h1 = s(x1 + x2 - 0.5), h2 = s(x1 + x2 - 1.5), y = s(h1 - h2 - 0.5).

    Catalog: E6.
    """
    return ThresholdNet([[1.0, 1.0], [1.0, 1.0]], [-0.5, -1.5], [[1.0, -1.0]], [-0.5], None, dtype)


def xor_net_1_skip(dtype=torch.float64) -> ThresholdNet:
    """XOR with one hidden unit h = AND(x1, x2) and direct connections: s(x1 + x2 - 2h - 0.5).

    Catalog: E7.
    """
    return ThresholdNet([[1.0, 1.0]], [-1.5], [[-2.0]], [-0.5], [[1.0, 1.0]], dtype)


def truth_table_inputs(n: int, dtype=torch.float64) -> torch.Tensor:
    """All 2^n binary rows in counting order (00, 01, 10, 11 for n = 2): (2^n, n).

    Catalog: E7, E10.
    """
    n = check_count("n", n)
    return torch.tensor(list(itertools.product((0.0, 1.0), repeat=n)), dtype=dtype)


def construction_theorem_net(outputs: str, dtype=torch.float64) -> ThresholdNet:
    """One hidden unit per truth-table row, output = OR of the rows whose output is 1. Catalog: E7.

    Row p's unit has `w = 2p - 1`, `b = 0.5 - |p|`. `outputs` is a string like "1001".
    """
    if not isinstance(outputs, str) or not outputs or set(outputs) - {"0", "1"}:
        raise ValueError(f"outputs must be a string of 0s and 1s, got {outputs!r}")
    n = len(outputs).bit_length() - 1
    if n < 1 or 2**n != len(outputs):
        raise ValueError(f"outputs must hold 2^n values with n >= 1, got {len(outputs)}")
    rows = truth_table_inputs(n, dtype)  # (2^n, n)
    W2 = torch.tensor([[float(c) for c in outputs]], dtype=dtype)  # (1, 2^n)
    return ThresholdNet(2 * rows - 1, 0.5 - rows.sum(dim=1), W2, [-0.5], None, dtype)


def iff_net(hidden: int, dtype=torch.float64) -> ThresholdNet:
    """IFF (XNOR) with 4 hidden units (construction theorem), 2 (negated XOR net) or 1 hidden
    unit plus direct input-output connections (negated 1-unit XOR). Catalog: E7 (003)."""
    if hidden not in _IFF_HIDDEN:
        raise ValueError(f"hidden must be one of {_IFF_HIDDEN}, got {hidden!r}")
    if hidden == 4:
        return construction_theorem_net("1001", dtype)
    return invert_output(xor_net(dtype) if hidden == 2 else xor_net_1_skip(dtype))


# ---- E1 / E2 / E9: the perceptron ----------------------------------------------------------


class Perceptron(nn.Module):
    """`y = 1{w . x > 0}` with the bias folded in as `x_0 = 1` (003). Catalog: E1.

    `linear` is `nn.Linear(d + 1, 1, bias=False)`, its weight row the notes' (w0, w1, ...).
    `forward` returns the pre-activation z (N,); `predict` the 0/1 output.
    """

    def __init__(self, w0: torch.Tensor) -> None:
        super().__init__()
        w0 = torch.as_tensor(w0)
        if w0.ndim != 1:
            raise ValueError(f"w0 must be 1-D (d + 1,), got shape {tuple(w0.shape)}")
        self.linear = nn.Linear(w0.shape[0], 1, bias=False, dtype=w0.dtype)
        with torch.no_grad():
            self.linear.weight.copy_(w0[None, :])
        self.step = Step()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)[..., 0]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.step(self(x))


def perceptron_criterion(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The perceptron criterion `-(t - y) z` summed, y = 1{z > 0} held constant.

    Its gradient w.r.t. w is `-(t - y) x`, so one SGD step with learning rate lambda is the
    perceptron rule `dw = lambda (t - y) x` (003); it is 0 on correctly classified examples
    and `|z|` on the others (Rosenblatt's criterion). Catalog: E1. Shapes: z, t (N,) -> ().
    """
    y = Step()(z).detach()
    return -((t - y) * z).sum()


def perceptron_train(
    X: torch.Tensor,
    t: torch.Tensor,
    w0: torch.Tensor,
    lr: float = 1.0,
    max_epochs: int = 100,
    max_rows: int | None = None,
) -> PerceptronResult:
    """The perceptron algorithm as online gradient descent on `perceptron_criterion`.

    Each presentation: z = w.x, loss = -(t - y) z, `loss.backward()` (autograd gives
    dL/dw = -(t - y) x), then the plain SGD step `w <- w - lr dL/dw`, which is the rule
    `dw = lambda (t - y) x` (003). One step equals one `torch.optim.SGD` step (tested); the
    step is written out so that the command line does not pay torch.optim's first-call
    start-up. An epoch without an update ends training (converged); otherwise after
    `max_epochs` it returns `converged=False`. Catalog: E1, E2, E9, E5, E10, I5 (the torch side
    of the last three). Scratch twin: `scratch.classic.perceptron_train`, the same trace bit
    for bit.
    Shapes: X (N, d + 1) with x_0 = 1; t (N,) of 0/1; w0 (d + 1,). `max_rows` keeps only
    the first rows of the trace (memory stays flat; the counts cover every epoch).
    """
    if X.ndim != 2 or t.shape != (X.shape[0],) or w0.shape != (X.shape[1],):
        raise ValueError(
            f"expected X (N, d+1), t (N,), w0 (d+1,), got X{tuple(X.shape)}, "
            f"t{tuple(t.shape)}, w0{tuple(w0.shape)}"
        )
    if not bool(((t == 0) | (t == 1)).all()):
        raise ValueError("t must hold labels in {0, 1}")
    lr = check_interval("lr", lr, POSITIVE)
    max_epochs = check_count("max_epochs", max_epochs)
    max_rows = None if max_rows is None else check_count("max_rows", max_rows, 0)
    model = Perceptron(w0.to(X.dtype))
    w = model.linear.weight  # (1, d+1)
    trace: list[PerceptronRow] = []
    per_epoch: list[int] = []
    for epoch in range(1, max_epochs + 1):
        updates = 0
        for x, target in zip(X, t, strict=True):
            before = w.detach()[0].clone()
            w.grad = None
            z = model(x[None, :])  # (1,)
            y = float(model.step(z.detach())[0])
            perceptron_criterion(z, target[None]).backward()
            with torch.no_grad():
                dw = -lr * w.grad[0]  # the SGD step -lr dL/dw = lr (t - y) x
                w += dw
            if max_rows is None or len(trace) < max_rows:
                trace.append(
                    PerceptronRow(epoch, x.clone(), before, float(z.detach()), y, float(target), dw)
                )
            updates += y != float(target)
        per_epoch.append(updates)
        if updates == 0:
            break
    return PerceptronResult(
        w.detach()[0].clone(), per_epoch[-1] == 0, len(per_epoch), sum(per_epoch),
        tuple(per_epoch), tuple(trace), len(per_epoch) * X.shape[0],
    )


def and_exercise(dtype=torch.float64) -> dict:
    """003's AND exercise: X with x_0 = 1 in the table's row order, t = x1 AND x2,
    w0 = (-1.2, -0.3, -0.4), lr = 0.9 (keyword arguments of `perceptron_train`). Catalog: E2."""
    return {
        "X": torch.tensor([[1.0, 1, 0], [1, 0, 1], [1, 0, 0], [1, 1, 1]], dtype=dtype),
        "t": torch.tensor([0.0, 0, 0, 1], dtype=dtype),
        "w0": torch.tensor([-1.2, -0.3, -0.4], dtype=dtype),
        "lr": 0.9,
    }


# ---- B8: connection graphs of modules ---------------------------------------------------------


def connection_graph(module: nn.Module) -> list[tuple]:
    """The neuron-level connections (source, target) with non-zero weight of a module.

    `nn.Linear` layers of an `nn.Sequential` (or `nn.Linear` alone) connect layer l-1's units
    to layer l's, named `(l, k)` (inputs are layer 0): a DAG. `nn.RNNCell`: input unit i feeds
    hidden unit j when `weight_ih[j, i] != 0`, hidden k feeds hidden j when
    `weight_hh[j, k] != 0`; inputs are `("x", i)`, hidden units `("h", j)`: a cycle whenever
    the hidden units feed back. Catalog: B8. Scratch twin: `scratch.classic.connection_graph`.
    """
    if isinstance(module, nn.RNNCell):
        ih = module.weight_ih.detach()
        hh = module.weight_hh.detach()
        edges = [(("x", int(i)), ("h", int(j))) for j, i in torch.nonzero(ih).tolist()]
        return edges + [(("h", int(k)), ("h", int(j))) for j, k in torch.nonzero(hh).tolist()]
    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise TypeError(
            f"module must be an nn.Linear, a Sequential of them or an nn.RNNCell, "
            f"got {type(module).__name__}"
        )
    edges = []
    for l, lin in enumerate(layers, start=1):
        edges += [((l - 1, i), (l, j)) for j, i in torch.nonzero(lin.weight.detach()).tolist()]
    return edges


def is_feed_forward(module: nn.Module) -> bool:
    """True iff the module's connection graph has a topological order (graphlib). Catalog: B8."""
    preds: dict = {}
    for u, v in connection_graph(module):
        preds.setdefault(v, set()).add(u)
    try:
        tuple(graphlib.TopologicalSorter(preds).static_order())
    except graphlib.CycleError:
        return False
    return True


class RecurrentBTU(nn.Module):
    """`h(t+1) = s(W h(t) + U x(t) + b)` over a sequence, fixed weights. Catalog: B8.

    The two mutually connected neurons of 003, fed by external input. `forward(inputs (T, d),
    h0 (n,))` returns the states (T + 1, n).
    """

    def __init__(self, W, U, b, dtype=torch.float64) -> None:
        super().__init__()
        self.recurrent = _fixed_linear(W, b, dtype)
        self.input = _fixed_linear(U, None, dtype)
        self.step = Step()

    def forward(self, inputs: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
        states = [h0]
        h = h0
        for x in inputs:
            h = self.step(self.recurrent(h) + self.input(x))  # (n,)
            states.append(h)
        return torch.stack(states)  # (T+1, n)


# ---- E8: the inhibitory unit ----------------------------------------------------------------


class InhibitoryUnit(nn.Module):
    """Rate `max(0, b + w . x)` with b > 0 and every w_k <= 0 (003's cortical unit). Catalog: E8.

    `F.relu` of a frozen `nn.Linear`. Input (N, K) of rates >= 0 -> rates (N,).
    """

    def __init__(self, w: Sequence[float], b: float, dtype=torch.float64) -> None:
        super().__init__()
        b = check_interval("b", b, POSITIVE)
        if any(v > 0 for v in w):
            raise ValueError(f"w must be inhibitory (every weight <= 0), got max {max(w):g}")
        self.linear = _fixed_linear([list(w)], [b], dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x < 0).any()):
            raise ValueError(f"x must be firing rates >= 0, got min {float(x.min()):g}")
        return F.relu(self.linear(x))[:, 0]


def synapse_depression(
    w0: float, dw: float, steps: int, kind: str, dtype=torch.float64
) -> torch.Tensor:
    """`w0 - k dw` (artificial: crosses 0) or `clamp_min(w0 - k dw, 0)` (biological: stops at
    0, never turns inhibitory), k = 0 .. steps (003). Catalog: E8. Returns (steps + 1,)."""
    _SYNAPSE_KINDS.check("kind", kind)
    w = w0 - dw * torch.arange(steps + 1, dtype=dtype)
    return w if kind == "artificial" else torch.clamp_min(w, 0.0)


# ---- command line ---------------------------------------------------------------------------


# The XOR run never converges, so it always runs --max-epochs epochs (4 autograd steps each,
# ~0.15 ms apiece): 10_000 epochs take a few seconds and print 40_000 rows; 100_000 took over
# a minute and 362 MB. Longer runs teach nothing more: the weights cycle (E9).
MAX_CLI_EPOCHS = 10_000


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m torchref.classic {perceptron-and,perceptron-xor} [--max-epochs N] [--rows K]`."""
    parser = argparse.ArgumentParser(
        prog="python -m torchref.classic",
        description="Perceptron traces of the notes (003): one row per presentation.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_and = sub.add_parser(
        "perceptron-and",
        help="003's AND exercise: w = (-1.2, -0.3, -0.4), lambda = 0.9, run to convergence",
    )
    p_xor = sub.add_parser(
        "perceptron-xor", help="XOR from w = 0, lambda = 1: the rule never converges (E9)"
    )
    for p, default in ((p_and, 100), (p_xor, 10)):
        p.add_argument("--max-epochs", type=int, default=default,
                       help=f"epochs before giving up, 1 to {MAX_CLI_EPOCHS}")
        p.add_argument("--rows", type=int, default=None, help="print only the first ROWS rows")
    args = parser.parse_args(argv)
    try:
        check_int("--max-epochs", args.max_epochs, 1, MAX_CLI_EPOCHS)
        if args.rows is not None:
            check_count("--rows", args.rows, 0)
    except ValueError as exc:
        parser.error(str(exc))
    if args.command == "perceptron-and":
        kw = and_exercise()
        print("AND exercise of 003: x0 = 1, target = x1 AND x2, w = (-1.2, -0.3, -0.4), "
              "lambda = 0.9, y = 1{w.x > 0}")
    else:
        X = torch.tensor([[1.0, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]], dtype=torch.float64)
        kw = {"X": X, "t": torch.tensor([0.0, 1, 1, 0], dtype=torch.float64),
              "w0": torch.zeros(3, dtype=torch.float64), "lr": 1.0}
        print("XOR: x0 = 1, target = x1 XOR x2, w = (0, 0, 0), lambda = 1, y = 1{w.x > 0}")
    # only the printed rows are kept: memory stays flat however long the run
    result = perceptron_train(**kw, max_epochs=args.max_epochs, max_rows=args.rows)
    print(format_perceptron_trace(result, args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
