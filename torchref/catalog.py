"""The formula catalog: every ID of the notes' inventory, what implements it, what proves it.

`python -m torchref.catalog` prints the table; `--json` prints a list of objects with `id`,
`title`, `source`, `scratch`, `torch`, `tests`, `status`, `note`. Names are strings so the
catalog can be read without importing torch; `parity_tests/test_catalog.py` imports every
callable and finds every test named here, so the catalog cannot claim what does not exist.

Reference forms:
  callable  "package.module:qualname"   e.g. "scratch.activations:sigmoid", "torch.nn:Sigmoid"
  test      "parity_tests/test_x.py::test_name" (or "...::TestClass::test_name")

Status: covered = scratch, torch and tests all named; partial = some named; missing = none.
Seed documents: 000 lecture-10 slides, 001 "math behind neural networks", 002 chapter 4
"Deep Neural Networks", 003 exam-prep slides, 004 cost function and backpropagation slides.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

__all__ = ["Entry", "CATALOG", "by_id", "main"]


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    source: str
    scratch: tuple[str, ...] = ()
    torch: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    note: str = ""

    @property
    def status(self) -> str:
        parts = (self.scratch, self.torch, self.tests)
        if all(parts):
            return "covered"
        return "partial" if any(parts) else "missing"

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(scratch=list(self.scratch), torch=list(self.torch), tests=list(self.tests))
        d["status"] = self.status
        return d


E = Entry

# fmt: off
CATALOG: tuple[Entry, ...] = (
    # ---- A. Neurons and activation functions ------------------------------------------------
    E("A1", "Threshold (binary threshold unit, BTU) neuron y = 1{x^T w + b > 0}", "000 003"),
    E("A2", "Generic neuron h(x; w, b) = phi(x^T w + b)", "000 001"),
    E("A3", "Sigmoid 1/(1+e^-z) and derivative sigma(1-sigma)", "000 002 003 004"),
    E("A4", "tanh and derivative 1-tanh^2; slide variant tanh(x/2) = 2 sigma(x) - 1", "000 002"),
    E("A5", "ReLU max(0,z), derivative 1{z>0} (0 at z = 0)", "000 002"),
    E("A6", "PReLU max(alpha x, x) with learnable alpha; Leaky ReLU = PReLU with alpha 0.01", "002"),
    E("A7", "ELU x if x>0 else alpha(e^x - 1)", "002"),
    E("A8", "Swish (self-gated) z * sigmoid(z)", "003"),
    E("A9", "Sign/step unit for logic constructions (outputs 0/1)", "002 003"),
    E("A10", "Softmax, dy_i/dz_i = y_i(1-y_i), full Jacobian diag(y) - y y^T", "000 003"),
    E("A11", "Sub-gradient definition and the choice used at kinks", "002"),
    E("A12", "Saturation: sigmoid' and tanh' vanish, ReLU' does not; zero-centred outputs", "002"),
    E("A13", "ReLU trains faster; with a bad initialization many ReLU units die (concept)", "002"),
    # ---- B. Forward pass and architecture ---------------------------------------------------
    E("B1", "Fully connected layer; vectorized Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l])", "000 001"),
    E("B2", "One-hidden-layer network y = f2(w2 f1(w1^T x + b1) + b2)", "002"),
    E("B3", "Universal approximation f_eps(x) = W2 phi(W1 x + b1) + b2", "000 002"),
    E("B4", "Output heads: regression, binary (sigmoid), C-class (softmax)", "000"),
    E("B5", "Bias folded into the weights: a_0 = 1, z_i = sum_{j>=0} theta_ij a_j", "004"),
    E("B6", "Worked feed-forward example (Theta1, Theta2, input (1,1,0), output ~0.56)", "003"),
    E("B7", "Representation learning: 3 <= x^2 + y^2 <= 8 separable after one hidden layer", "002"),
    E("B8", "Feed-forward nets are DAGs; recurrent nets have cycles (concept)", "000 003"),
    E("B9", "Without activations the network is one affine map", "000 001 002"),
    E("B10", "A single sigmoid/softmax neuron is logistic regression", "002"),
    E("B11", "Shapes of W1, W2, w3 and theta with the bias; four-layer forward pass", "000 004"),
    # ---- C. Losses and cost functions -------------------------------------------------------
    E("C1", "Squared error in its three scalings (sum, 1/2 sum, mean)", "002 003 004"),
    E("C2", "Binary cross-entropy, J = 1/m sum L", "001 003"),
    E("C3", "Regularized logistic-regression cost, bias not penalized", "004"),
    E("C4", "Neural-network cost: CE + lambda/(2m) sum Theta^2 (bias column excluded)", "004"),
    E("C5", "Multi-label CE over independent sigmoid outputs", "003"),
    E("C6", "Categorical CE -sum t_i log y_i; CE = CCE when C = 2", "003"),
    E("C7", "L2-regularized cost L + lambda/2 ||w||^2", "002"),
    E("C8", "L1-regularized cost L + lambda sum |w_i|", "002"),
    E("C9", "Sparse-autoencoder activation penalty on the hidden layer", "003"),
    E("C10", "ERM, MLE (CE = NLL) and MAP (Gaussian prior = L2 penalty)", "000"),
    E("C11", "With a sigmoid output MSE is non-convex in the weights, CE is convex", "003"),
    # ---- D. Gradients and backpropagation ---------------------------------------------------
    E("D1", "Chain rule, scalar and multivariable (sum over paths)", "000"),
    E("D2", "Chain through a path of units (and the branched example)", "000"),
    E("D3", "MLP backward in slide form with Diag(phi')", "000"),
    E("D4", "Vectorized backprop, examples as columns, 1/m averaging", "001"),
    E("D5", "Per-neuron MSE + sigmoid backprop recursion", "002"),
    E("D6", "Delta form, delta^(L) = a^(L) - y for sigmoid + CE", "004"),
    E("D7", "Per-example Delta accumulation with the lambda term, bias not regularized", "004"),
    E("D8", "Computational graph of ln(x1) + x1 x2 - sin(x2): values and adjoints", "002"),
    E("D9", "f(x,y,z) = (x+y) z at x=-2, y=5, z=-4: upstream x local gradients", "003"),
    E("D10", "Sigmoid-neuron graph and local-gradient table", "003"),
    E("D11", "Vanishing gradient of MSE through a sigmoid output", "003"),
    E("D12", "CE through a sigmoid cancels y(1-y); ReLU- and tanh-unit update rules", "003"),
    E("D13", "Generic forward/backward pass over N nodes in topological order", "002"),
    # ---- E. Classic units and learning rules ------------------------------------------------
    E("E1", "Perceptron learning rule dw_j = lambda (t_j - y_j) x_j", "003"),
    E("E2", "Worked AND exercise from w = (-1.2, -0.3, -0.4), lambda = 0.9", "003"),
    E("E3", "Hebbian and anti-Hebbian rules; the perceptron rule by case", "003"),
    E("E4", "Logic gates from BTUs: AND, OR, NOT, purple AND round", "003"),
    E("E5", "XOR is not linearly separable; 4 points is the minimum for a non-separable labeling", "003"),
    E("E6", "XOR with two hidden step units and its truth table", "002"),
    E("E7", "IFF (XNOR) with 4, 2 and 1 hidden units", "003"),
    E("E8", "The inhibitory unit: positive bias, only negative weights (concept)", "003"),
    E("E9", "Perceptron convergence on separable data, no convergence otherwise", "003"),
    E("E10", "14 of the 16 Boolean functions of two inputs are linearly separable", "002"),
    # ---- F. Optimization --------------------------------------------------------------------
    E("F1", "Gradient-descent update w <- w - eps dL/dw", "001 002 004"),
    E("F2", "Batch GD over a training set, epochs until a stopping rule", "003"),
    E("F3", "Worked example: one GD step, one variable, no bias", "003"),
    E("F4", "Worked example with bias (w0 = -1, w1 = 2): reproducible from the data?", "003"),
    E("F5", "LMS rule, online and mini-batch; comparison with the perceptron rule", "003"),
    E("F6", "Worked SGD step for one sigmoid unit (w1=-2, w0=1, x=2, t=1)", "003"),
    E("F7", "Sub-gradient SGD w(t+1) = w(t) - eta g(t)", "002"),
    E("F8", "Mini-batch SGD with shuffling; an epoch is N/S iterations", "002"),
    E("F9", "Momentum m <- mu m - eps dL/dw, w <- w + m", "002"),
    E("F10", "Nesterov momentum: gradient at w + mu m", "002"),
    E("F11", "Learning-rate decay: step, exponential, 1/t", "002"),
    E("F12", "Adagrad eps_i = eps / sqrt(alpha_i + eps0)", "002"),
    E("F13", "RMSprop alpha_i = beta alpha_{i-1} + (1-beta) g^2", "002"),
    E("F14", "Adam as written in the notes, with bias correction", "002"),
    E("F15", "Learning-rate warm-up; Adam then switch to SGD", "002"),
    E("F16", "Weight decay from L2: w <- (1 - eps lambda) w - eps dL/dw", "002"),
    E("F17", "L1 update w <- w - eps (dL/dw + lambda sign(w))", "002"),
    E("F18", "Linear neuron's bowl: batch GD vs SGD paths", "003"),
    E("F19", "Learning-rate size: diverges above 2/a on a w^2 / 2, stalls when tiny", "001 002"),
    E("F20", "The claim that momentum cannot hurt, tested", "002"),
    # ---- G. Data, initialization, normalization ---------------------------------------------
    E("G1", "Standardization (X_i - mu_i) / sigma_i", "002"),
    E("G2", "Decorrelation (PCA) and whitening (PCA and ZCA)", "002"),
    E("G3", "Weight initialization: zeros, N(0, alpha), Xavier, He, uniform", "002"),
    E("G4", "Batch normalization, training and test statistics", "002"),
    E("G5", "Image augmentation: rotation, noise, resize, flip, shear/stretch", "002"),
    # ---- H. Generalization ------------------------------------------------------------------
    E("H1", "Train/validation split; early stopping when validation loss turns up", "002"),
    E("H2", "Ensembles by initialization, data subset and architecture", "002"),
    E("H3", "Dropout: classic (scale at test time) vs inverted (scale at training time)", "002"),
    E("H4", "Overfitting vs underfitting as capacity grows (concept)", "002"),
    E("H5", "L1 drives weights to exactly 0, L2 only shrinks them", "002"),
    # ---- I. Autoencoders --------------------------------------------------------------------
    E("I1", "Autoencoder through a bottleneck; the 8-3-8 encoder and its hidden codes", "003"),
    E("I2", "Sparse autoencoder (penalty on hidden activations)", "003"),
    E("I3", "Autoencoder regularized by dropout on the hidden layer", "003"),
    E("I4", "Stacked autoencoders: greedy layer-wise pretraining, softmax head, fine-tuning", "003"),
    E("I5", "One-hot codes are separable under every labeling, compact codes are not", "003"),
)
# fmt: on

del E


def by_id(entry_id: str) -> Entry:
    """Return the entry with this ID; a clear error names the valid IDs otherwise."""
    for entry in CATALOG:
        if entry.id == entry_id:
            return entry
    raise KeyError(
        f"unknown catalog id {entry_id!r}; valid ids: {', '.join(e.id for e in CATALOG)}"
    )


def _table(entries) -> str:
    rows = [("ID", "status", "scratch", "torch", "tests", "title")]
    for e in entries:
        rows.append(
            (e.id, e.status, str(len(e.scratch)), str(len(e.torch)), str(len(e.tests)), e.title)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        head = "  ".join(cell.ljust(w) for cell, w in zip(r[:5], widths, strict=True))
        lines.append(f"{head}  {r[5]}")
    counts = {s: sum(e.status == s for e in entries) for s in ("covered", "partial", "missing")}
    lines.append("")
    lines.append(
        f"{len(entries)} ids: {counts['covered']} covered, {counts['partial']} partial, "
        f"{counts['missing']} missing"
    )
    return "\n".join(lines)


def _details(e: Entry) -> str:
    out = [f"{e.id} [{e.status}] {e.title}", f"  source documents: {e.source}"]
    for label, refs in (("scratch", e.scratch), ("torch", e.torch), ("tests", e.tests)):
        out.append(f"  {label}:")
        out.extend(f"    {r}" for r in refs) if refs else out.append("    (none)")
    if e.note:
        out.append(f"  note: {e.note}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m torchref.catalog",
        description="Which formula of the notes is implemented, by what, and proven by which tests.",
    )
    parser.add_argument("ids", nargs="*", help="show these IDs in detail (e.g. A3 F14)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--status", choices=("covered", "partial", "missing"), help="only entries with this status"
    )
    args = parser.parse_args(argv)

    try:
        entries = [by_id(i) for i in args.ids] if args.ids else list(CATALOG)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if args.status:
        entries = [e for e in entries if e.status == args.status]
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
    elif args.ids:
        print("\n\n".join(_details(e) for e in entries))
    else:
        print(_table(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
