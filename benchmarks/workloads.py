"""What cases 1-2 time: the training steps, their matrix products and the square GEMM.

Imports numpy and scratch (mlp, optim); torch and torchref only inside the builders of torch
workloads, so the NumPy-side worker (`benchmarks.worker`) never loads torch. Measures
nothing itself: every builder returns a zero-argument callable that a worker times.
Imported by `benchmarks.worker` (which builds them) and by the cases (shapes, FLOP counts);
it imports neither.

One step = forward, loss, backward and an SGD update, on one fixed batch:
  scratch:       `scratch.mlp.loss_and_grads(params, X, y, "relu", "multiclass",
                 workspace=ws)` then `scratch.optim.SGD(lr).step(params, grads)`: the step
                 in reused buffers (`scratch.mlp.StepWorkspace`);
  scratch_alloc: the same without a workspace: new arrays every step, batch-first layout;
  torch:         `opt.zero_grad(); model.loss(model(X), y).backward(); opt.step()` with
                 `torchref.mlp.MLP` and `torch.optim.SGD(lr)` (torch's default foreach update).
Both start from the same weights, in the same dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scratch.mlp import StepWorkspace, init_mlp, loss_and_grads
from scratch.optim import SGD

LR = 0.01


@dataclass(frozen=True)
class Shape:
    name: str
    sizes: tuple[int, ...]
    batch: int
    target: bool = False  # case 1's and case 2's targets apply to this shape


SHAPES = (
    Shape("64-128-10", (64, 128, 10), 64),
    Shape("784-512-256-10", (784, 512, 256, 10), 256, target=True),
    Shape("784-1024-1024-10", (784, 1024, 1024, 10), 1024),
)
QUICK_SHAPES = SHAPES[:2]
TARGET_SHAPE = next(s for s in SHAPES if s.target)
DTYPES = (np.float32, np.float64)


def step_flops(sizes: tuple[int, ...], batch: int) -> int:
    """Multiply-adds x 2 of the step's matrix products, exactly; element-wise ops not counted.

    Per layer (n_in -> n_out) with batch N: forward `x W^T` 2 N n_in n_out, backward
    `dW = dz^T x` 2 N n_in n_out, and `dx = dz W` 2 N n_in n_out for every layer but the
    first (its input is data: neither side computes that product).
    """
    return sum(p.flops for p in step_products(sizes, batch))


def shape_spec(shape: Shape, dtype) -> dict:
    return {"name": shape.name, "sizes": list(shape.sizes), "batch": shape.batch,
            "dtype": np.dtype(dtype).name}


def _shape(spec: dict) -> Shape:
    return Shape(spec["name"], tuple(spec["sizes"]), spec["batch"])


def _problem(shape: Shape, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = init_mlp(shape.sizes, rng, dtype=dtype)
    X = rng.standard_normal((shape.batch, shape.sizes[0])).astype(dtype)  # (N, d)
    y = rng.integers(0, shape.sizes[-1], size=shape.batch)  # (N,)
    return params, X, y


def make_scratch_step(shape: Shape, dtype, seed: int = 0, workspace: bool = True):
    """The scratch step as a closure over its own weights (updated in place every call)."""
    params, X, y = _problem(shape, dtype, seed)
    opt = SGD(lr=LR)
    ws = StepWorkspace() if workspace else None

    def scratch_step() -> None:
        _, grads = loss_and_grads(params, X, y, "relu", "multiclass", workspace=ws)
        opt.step(params, grads)

    return scratch_step


def make_torch_step(shape: Shape, dtype, seed: int = 0):
    """The torch step from the same initial weights and batch as `make_scratch_step`."""
    import torch

    from torchref.mlp import MLP, load_numpy_params

    params, X, y = _problem(shape, dtype, seed)
    model = load_numpy_params(MLP(list(shape.sizes)), params)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def torch_step() -> None:
        opt.zero_grad(set_to_none=True)
        model.loss(model(Xt), yt).backward()
        opt.step()

    return torch_step


# ---- the step's matrix products, one by one ---------------------------------------------------


@dataclass(frozen=True)
class Product:
    """One matrix product of the step: `out (m, n) = left (m, k) @ right (k, n)`.

    `left_t` / `right_t`: the operand is the transpose of a C-ordered array (a free view that
    OpenBLAS reads as a transposed operand), as the step itself holds it.
    """

    name: str
    m: int
    k: int
    n: int
    left_t: bool = False
    right_t: bool = False

    @property
    def flops(self) -> int:
        return 2 * self.m * self.k * self.n

    @property
    def label(self) -> str:
        return f"{self.name} ({self.m}x{self.k} @ {self.k}x{self.n})"


def step_products(sizes: tuple[int, ...], batch: int, layout: str = "columns") -> list[Product]:
    """The step's products in the order it runs them, as each layout's step calls them.

    columns (the workspace step, examples as columns; 001's D4):
      Z[l] = W[l] A[l-1]  (A[0] = X^T),  dW[l] = dZ[l] A[l-1]^T,  dA[l-1] = W[l]^T dZ[l];
    rows (`mlp_forward` / `mlp_backward`, batch first):
      z = x W^T,  dW = dz^T x,  dx = dz W.
    """
    N = batch
    layers = list(enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1))
    out = []
    for l, (i, o) in layers:
        out.append(Product(f"Z{l} = W{l} A{l - 1}", o, i, N, right_t=l == 1) if layout == "columns"
                   else Product(f"z{l} = x{l - 1} W{l}^T", N, i, o, right_t=True))
    for l, (i, o) in reversed(layers):
        if layout == "columns":
            out.append(Product(f"dW{l} = dZ{l} A{l - 1}^T", o, N, i, right_t=l > 1))
            if l > 1:
                out.append(Product(f"dA{l - 1} = W{l}^T dZ{l}", i, o, N, left_t=True))
        else:
            out.append(Product(f"dW{l} = dz{l}^T x{l - 1}", o, N, i, left_t=True))
            if l > 1:
                out.append(Product(f"dx{l - 1} = dz{l} W{l}", N, o, i))
    return out


def _operands(p: Product, dtype, rng: np.random.Generator):
    def stored(rows: int, cols: int, transposed: bool) -> np.ndarray:
        a = rng.standard_normal((cols, rows) if transposed else (rows, cols)).astype(dtype)
        return a.T if transposed else a

    return (stored(p.m, p.k, p.left_t), stored(p.k, p.n, p.right_t),
            np.empty((p.m, p.n), dtype=dtype))


def product_labels(shape: Shape, layout: str = "columns") -> list[tuple[str, int]]:
    """(label, FLOPs) of each product of the step, in the order the step runs them."""
    return [(p.label, p.flops) for p in step_products(shape.sizes, shape.batch, layout)]


def make_products(shape: Shape, dtype, layout: str = "columns", index: int | None = None,
                  seed: int = 1) -> Callable[[], None]:
    """The step's products alone (all, or the one at `index`) on random operands, `out=`."""
    rng = np.random.default_rng(seed)
    prods = step_products(shape.sizes, shape.batch, layout)
    if index is not None:
        prods = [prods[index]]
    calls = [_operands(p, dtype, rng) for p in prods]

    def run() -> None:
        for left, right, out in calls:
            np.matmul(left, right, out=out)

    return run


def make_square_gemm(n: int, dtype, lib: str):
    """`A @ B` on two random n x n matrices (2 n^3 FLOPs), NumPy or torch, into a result
    allocated once (a fresh n x n result every call would time page faults as well)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    C = np.empty((n, n), dtype=dtype)
    if lib == "numpy":
        return lambda: np.matmul(A, B, out=C)
    import torch

    At, Bt, Ct = torch.from_numpy(A), torch.from_numpy(B), torch.from_numpy(C)
    return lambda: torch.mm(At, Bt, out=Ct)


# kind -> builder(spec): what a worker can be asked to build (see benchmarks.worker)
BUILDERS: dict[str, Callable[[dict], Callable[[], object]]] = {
    "scratch_step": lambda s: make_scratch_step(_shape(s), np.dtype(s["dtype"])),
    "scratch_alloc_step": lambda s: make_scratch_step(_shape(s), np.dtype(s["dtype"]),
                                                      workspace=False),
    "torch_step": lambda s: make_torch_step(_shape(s), np.dtype(s["dtype"])),
    "step_gemms": lambda s: make_products(_shape(s), np.dtype(s["dtype"]),
                                          s.get("layout", "columns"), s.get("index")),
    "numpy_gemm": lambda s: make_square_gemm(s["n"], np.dtype(s["dtype"]), "numpy"),
    "torch_gemm": lambda s: make_square_gemm(s["n"], np.dtype(s["dtype"]), "torch"),
}
