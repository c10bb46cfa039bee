"""The app's figures for TensorBoard, drawn with matplotlib (no pyplot state) and
scikit-learn's displays; each function returns a `matplotlib.figure.Figure` or an image tensor.

Imports torch and numpy; matplotlib and scikit-learn only inside the functions (a run that
draws nothing never imports them). Never scratch.

Readable at TensorBoard's default size: TensorBoard scales an image to its card (about 400 px
wide on the Time Series page), so every figure here is 4-6 inches at 100 dpi with an aspect
near 4:3 whatever the number of classes or images, fonts of 9 pt or more, and at most one
Axes per panel (a grid of images is one mosaic, not one Axes per image: it is also what keeps
a drawing at tens of milliseconds).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "new_figure",
    "confusion_matrix_figure",
    "decision_boundary_figure",
    "image_shape",
    "mosaic",
    "reconstruction_figure",
    "reconstruction_image",
    "code_table_figure",
    "stage_summary_figure",
    "sprite_images",
]

DPI = 100
_TWO_CLASSES = "coolwarm"  # the points of a 2-class boundary: blue (0) and red (1) dots


def new_figure(width: float, height: float):
    """A matplotlib Figure that is not registered with pyplot (no global state, no GUI)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)


def confusion_matrix_figure(cm: torch.Tensor, title: str, labels=None):
    """scikit-learn's `ConfusionMatrixDisplay` of the (k, k) counts `cm` (rows: true class),
    about 480x420 px for any k; empty cells stay blank (a 0 in each of them hides the few
    errors that matter, and text is most of the drawing time)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    counts = cm.detach().cpu().numpy().astype(np.int64)
    k = counts.shape[0]
    fig = new_figure(4.8, 4.2)
    ax = fig.add_subplot()
    display = ConfusionMatrixDisplay(counts, display_labels=labels)
    display.plot(ax=ax, colorbar=False, values_format="d", cmap="Blues",
                 text_kw={"fontsize": 14 if k <= 4 else 10 if k <= 10 else 7})
    for text, value in zip(display.text_.ravel(), counts.ravel(), strict=True):
        text.set_visible(bool(value))
    ax.set_xlabel("predicted class", fontsize=10)
    ax.set_ylabel("true class", fontsize=10)
    ax.tick_params(labelsize=9 if k <= 10 else 7)
    ax.set_title(title, fontsize=10)
    fig.subplots_adjust(left=0.15, right=0.96, bottom=0.13, top=0.91)
    return fig


def decision_boundary_figure(grid0, grid1, scores: torch.Tensor, points: torch.Tensor,
                             labels: torch.Tensor, title: str):
    """Decision regions over the grid `grid0` x `grid1` (r each; `scores` (r*r, k), first
    coordinate slowest) with the labelled `points` (N, 2): P(class 1) and its 0.5 contour
    for two classes, the predicted class of each point for more."""
    r0, r1 = grid0.numel(), grid1.numel()
    k = scores.shape[1]
    g0, g1 = grid0.cpu().numpy(), grid1.cpu().numpy()
    extent = (float(g0[0]), float(g0[-1]), float(g1[0]), float(g1[-1]))
    pts, y = points.cpu().numpy(), labels.cpu().numpy()
    fig = new_figure(5.0, 4.0)
    ax = fig.add_subplot()
    if k == 2:
        score = scores[:, 1].reshape(r0, r1).T.cpu().numpy()  # rows: the second coordinate
        im = ax.imshow(score, origin="lower", extent=extent, cmap="RdBu_r", vmin=0.0,
                       vmax=1.0, aspect="auto")
        ax.contour(g0, g1, score, levels=[0.5], colors="k", linewidths=1.0)
        ax.scatter(pts[:, 0], pts[:, 1], c=y, cmap=_TWO_CLASSES, vmin=0, vmax=1, s=16,
                   edgecolors="white", linewidths=0.6)
        fig.colorbar(im, ax=ax, label="P(class 1)")
    else:
        pred = scores.argmax(dim=1).reshape(r0, r1).T.cpu().numpy()
        im = ax.imshow(pred, origin="lower", extent=extent, cmap="tab10", vmin=-0.5,
                       vmax=9.5, aspect="auto", alpha=0.6)
        ax.scatter(pts[:, 0], pts[:, 1], c=y, cmap="tab10", vmin=-0.5, vmax=9.5, s=16,
                   edgecolors="white", linewidths=0.6)
        fig.colorbar(im, ax=ax, label="predicted class")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title, fontsize=10)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.12, top=0.91)
    return fig


def image_shape(d: int, shape=None) -> tuple[int, int] | None:
    """(H, W) to draw a d-vector as: `shape` if given, a square if d is one, else None."""
    if shape is not None:
        return tuple(int(s) for s in shape)
    side = math.isqrt(d)
    return (side, side) if side * side == d else None


def mosaic(x: torch.Tensor, x_hat: torch.Tensor, shape: tuple[int, int] | None,
           gap: int = 1) -> tuple[np.ndarray, list[tuple[float, str]], str]:
    """One image of inputs and reconstructions, NaN between the tiles (drawn blank).

    Images (H > 1): bands of two rows, the inputs above their reconstructions, as many bands
    as make the whole about 4:3. Vectors (not an image, or H = 1): two blocks side by side,
    the inputs and the reconstructions, one row per sample. Returns the (rows, cols) array,
    the (position, label) of each row band or block and the axis they run along ('y', 'x')."""
    n, d = x.shape
    xs = x.detach().float().cpu().numpy()
    rs = x_hat.detach().float().cpu().numpy()
    if shape is None or shape[0] == 1:
        out = np.full((n, 2 * d + gap), np.nan)
        out[:, :d] = xs
        out[:, d + gap:] = rs
        return out, [((d - 1) / 2, "input"), (d + gap + (d - 1) / 2, "reconstruction")], "x"
    h, w = shape
    band = 2 * h + gap  # an input row and a reconstruction row

    def aspect(bands: int) -> float:
        cols = math.ceil(n / bands)
        return (cols * (w + gap)) / (bands * (band + 2 * gap))

    bands = min(range(1, n + 1), key=lambda b: abs(math.log(aspect(b) / (4 / 3))))
    cols = math.ceil(n / bands)
    out = np.full((bands * (band + 2 * gap) - 2 * gap, cols * (w + gap) - gap), np.nan)
    labels = []
    for b in range(bands):
        top = b * (band + 2 * gap)
        labels += [(top + (h - 1) / 2, "input"), (top + h + gap + (h - 1) / 2, "reconstruction")]
        for c, i in enumerate(range(b * cols, min(n, (b + 1) * cols))):
            left = c * (w + gap)
            out[top:top + h, left:left + w] = xs[i].reshape(h, w)
            out[top + h + gap:top + band, left:left + w] = rs[i].reshape(h, w)
    return out, labels, "y"


def reconstruction_figure(x: torch.Tensor, x_hat: torch.Tensor, shape, title: str,
                          unit_interval: bool):
    """Inputs against reconstructions (`mosaic`) in one Axes, each part labelled."""
    import matplotlib

    grid, parts, axis = mosaic(x, x_hat, shape)
    rows, cols = grid.shape
    # 5 inches for the mosaic's long side, room for the labels and the title around it.
    scale = 5.0 / max(rows, cols)
    left = 1.2 if axis == "y" else 0.6
    fig = new_figure(cols * scale + left + 0.2, rows * scale + 0.9)
    width, height = fig.get_size_inches()
    ax = fig.add_axes((left / width, 0.45 / height, cols * scale / width, rows * scale / height))
    cmap = matplotlib.colormaps["gray"].with_extremes(bad="white")
    lims = {"vmin": 0.0, "vmax": 1.0} if unit_interval else {}
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, interpolation="nearest", aspect="equal",
              **lims)
    positions = [p for p, _ in parts]
    names = [label for _, label in parts]
    if axis == "y":
        ax.set_yticks(positions, names, fontsize=10)
        ax.set_xticks([])
    else:
        ax.set_xticks(positions, names, fontsize=10)
        ax.set_yticks(range(rows), [str(i + 1) for i in range(rows)], fontsize=9)
        ax.set_ylabel("sample", fontsize=10)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=11)
    return fig


def reconstruction_image(x: torch.Tensor, x_hat: torch.Tensor, shape,
                         min_side: int = 240) -> torch.Tensor:
    """The `mosaic` as raw pixels (1, H, W) in [0, 1], blown up by an integer factor (nearest
    neighbour, so each value stays one flat square) until its short side is at least
    `min_side` px: TensorBoard shows an 8x8 digit as 8 screen pixels otherwise."""
    grid, _, _ = mosaic(x, x_hat, shape)
    lo, hi = np.nanmin(grid), np.nanmax(grid)
    img = np.where(np.isnan(grid), 1.0, (grid - lo) / (hi - lo + 1e-12))
    factor = max(1, math.ceil(min_side / min(img.shape)))
    img = np.kron(img, np.ones((factor, factor)))
    return torch.from_numpy(img).float()[None]


def code_table_figure(h: torch.Tensor, bits: torch.Tensor, title: str):
    """003's code table as a heat map: the code of each input (rows), its values and their
    rounding to 0/1 in each cell."""
    n, k = h.shape
    fig = new_figure(1.8 + 0.9 * k, 1.2 + 0.42 * n)
    ax = fig.add_subplot()
    values = h.numpy()
    ax.imshow(values, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(n):
        for j in range(k):
            ax.text(j, i, f"{values[i, j]:.2f} ({int(bits[i, j])})", ha="center",
                    va="center", fontsize=9, color="white" if values[i, j] < 0.5 else "black")
    ax.set_xticks(range(k), [f"h{j + 1}" for j in range(k)], fontsize=9)
    ax.set_yticks(range(n), [str(i + 1) for i in range(n)], fontsize=9)
    ax.set_ylabel("input", fontsize=9)
    ax.set_title(title, fontsize=10)
    fig.tight_layout(pad=0.4)
    return fig


def stage_summary_figure(names: list[str], losses: list[float], accs: dict[str, float]):
    """The stacked pipeline at a glance: each stage's final validation loss, and the
    validation accuracy of the stages that classify (the head alone, fine-tuned)."""
    fig = new_figure(6.4, 3.4)
    ax = fig.add_subplot(1, 2, 1)
    ax.bar(range(len(names)), losses, color="tab:blue")
    ax.set_xticks(range(len(names)), names, rotation=30, fontsize=9)
    ax.set_title("final validation loss", fontsize=10)
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.bar(range(len(accs)), list(accs.values()), color="tab:green")
    ax2.set_xticks(range(len(accs)), list(accs), fontsize=9)
    ax2.set_ylim(0, 1)
    ax2.set_title("validation accuracy", fontsize=10)
    fig.tight_layout(pad=0.4)
    return fig


def sprite_images(x: torch.Tensor, shape) -> torch.Tensor | None:
    """The inputs (N, d) as images (N, 1, H, W) in [0, 1] for the projector's sprite, or None
    when they are not images (then the projector shows points)."""
    hw = image_shape(x.shape[1], shape)
    if hw is None or hw[0] * hw[1] != x.shape[1] or min(hw) < 2:
        return None
    imgs = x.detach().float().cpu().reshape(x.shape[0], 1, *hw)
    lo, hi = float(imgs.min()), float(imgs.max())
    return (imgs - lo) / (hi - lo + 1e-12)
