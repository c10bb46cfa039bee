"""Draw the figures of docs/generalization.md (G1-G5, H1-H5) from the project's own code.

Run from the repository root:
    python docs/figures/make_generalization_figures.py [--out docs/figures]
Imports scratch and torchref (like benchmarks/, a consumer of both rooms) and matplotlib with
the Agg backend; every figure is seeded, so re-running reproduces the PNGs. It also prints the
numbers the page quotes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from scratch.augment import augment_images, sample_augment_params  # noqa: E402
from scratch.ensemble import (  # noqa: E402
    capacity_sweep,
    regularized_least_squares,
    train_mlp_gd,
    train_with_early_stopping,
)
from scratch.init import init_params, signal_propagation  # noqa: E402
from scratch.mlp import head_loss, mlp_forward  # noqa: E402
from scratch.normalization import LastKStats, RunningStats, batchnorm_forward  # noqa: E402
from scratch.preprocessing import (  # noqa: E402
    decorrelate,
    pca_fit,
    pca_whiten,
    standardize_fit,
    standardize_transform,
    zca_whiten,
)
from torchref import augment as taug  # noqa: E402

DPI = 90


def _digits(n_train, n_val, seed=0):
    X, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(X))
    tr, va = perm[:n_train], perm[n_train:n_train + n_val]
    return X[tr] / 16.0, y[tr], X[va] / 16.0, y[va]


def fig_preprocessing(out: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2)) @ np.array([[3.0, 1.2], [0.0, 0.6]]) + np.array([6.0, -3.0])
    fit = pca_fit(X)
    panels = [
        ("raw", X),
        ("standardized (G1)", standardize_transform(standardize_fit(X), X)),
        ("decorrelated: PCA (G2)", decorrelate(fit, X)),
        ("PCA-whitened (G2)", pca_whiten(fit, X)),
        ("ZCA-whitened (G2)", zca_whiten(fit, X)),
    ]
    fig, axes = plt.subplots(1, 5, figsize=(15, 3.2))
    for ax, (title, Z) in zip(axes, panels, strict=True):
        ax.scatter(Z[:, 0], Z[:, 1], s=4, alpha=0.6)
        C = np.cov(Z, rowvar=False)
        ax.set_title(f"{title}\ncov = [[{C[0, 0]:.2f}, {C[0, 1]:.2f}], [.., {C[1, 1]:.2f}]]",
                     fontsize=9)
        ax.axhline(0, color="k", lw=0.5)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_aspect("equal", "datalim")
    fig.tight_layout()
    fig.savefig(out / "preprocessing.png", dpi=DPI)
    plt.close(fig)


def fig_signal_propagation(out: Path) -> None:
    cases = [("he", None, "He, std sqrt(2/n)"), ("xavier", None, "notes' Xavier, std 1/sqrt(n)"),
             ("uniform", None, "U[-1/sqrt(n), 1/sqrt(n)]"), ("normal", 0.01, "N(0, 0.01^2)"),
             ("normal", 0.1, "N(0, 0.1^2)"), ("normal", 1.0, "N(0, 1)")]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    print("signal propagation, ReLU, width 128, 20 layers: variance after layers 1, 10, 20")
    for scheme, std, label in cases:
        v = signal_propagation(scheme, np.random.default_rng(0), std=std)
        ax.semilogy(np.arange(1, 21), v, marker="o", ms=3, label=label)
        print(f"  {label:32s} {v[0]:9.3g} {v[9]:9.3g} {v[19]:9.3g}")
    ax.set_xlabel("layer")
    ax.set_ylabel("variance of the ReLU activations")
    ax.set_title("G3: activation variance through 20 ReLU layers (width 128)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "signal_propagation.png", dpi=DPI)
    plt.close(fig)


def fig_batchnorm(out: Path) -> None:
    rng = np.random.default_rng(0)
    torch_rule, notes_rule = RunningStats.init(1), LastKStats(1, k=5)
    true_var, steps = 4.0, 60
    ema, lastk = [], []
    for _ in range(steps):
        x = rng.normal(0.0, np.sqrt(true_var), size=(8, 1))  # batches of m = 8
        _, _, torch_rule = batchnorm_forward(x, np.ones(1), np.zeros(1), torch_rule, True)
        _, _, notes_rule = batchnorm_forward(x, np.ones(1), np.zeros(1), notes_rule, True)
        ema.append(torch_rule.running_var[0])
        lastk.append(notes_rule.running_var[0])
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(ema, label="torch: EMA (momentum 0.1) of unbiased sigma_B^2")
    ax.plot(lastk, label="notes: mean of the last 5 biased sigma_B^2")
    ax.axhline(true_var, color="k", ls="--", lw=1, label="population variance 4")
    ax.axhline(true_var * 7 / 8, color="gray", ls=":", lw=1,
               label="E[biased sigma_B^2] = 3.5 (m=8)")
    ax.set_xlabel("training batch")
    ax.set_ylabel("running_var")
    ax.set_title("G4: test-time variance estimates, batches of 8 from N(0, 4)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "batchnorm_running_var.png", dpi=DPI)
    plt.close(fig)


def fig_augment(out: Path) -> None:
    x = load_digits().images[:6] / 16.0
    p = sample_augment_params(x.shape, np.random.default_rng(3), noise=0.05)
    ours = augment_images(x, p)
    theirs = taug.augment_images(
        torch.from_numpy(x), torch.from_numpy(p.angle), torch.from_numpy(p.scale),
        torch.from_numpy(p.shear), torch.from_numpy(p.stretch), torch.from_numpy(p.flip),
        torch.from_numpy(p.noise),
    ).numpy()
    print(f"augmentation: max |scratch - torch| = {np.max(np.abs(ours - theirs)):.2e}")
    fig, axes = plt.subplots(3, 6, figsize=(9, 4.8))
    for j in range(6):
        for i, (img, name) in enumerate(((x[j], "original"), (ours[j], "scratch (SciPy)"),
                                         (theirs[j], "torch grid_sample"))):
            axes[i, j].imshow(img, cmap="gray_r", vmin=0, vmax=1)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if j == 0:
                axes[i, j].set_ylabel(name, fontsize=8)
        axes[0, j].set_title(f"{np.degrees(p.angle[j]):.0f} deg, x{p.scale[j]:.2f}"
                             + (", flip" if p.flip[j] else ""), fontsize=7)
    fig.suptitle("G5: rotation U[0, 2pi], resize [1/1.6, 1.6], shear, stretch, flip, noise 0.05")
    fig.tight_layout()
    fig.savefig(out / "augmentation.png", dpi=DPI)
    plt.close(fig)


def fig_early_stopping(out: Path) -> None:
    X, y, Xv, yv = _digits(60, 300)
    sizes, act, lr = (64, 64, 10), "relu", 1.0
    init = init_params(sizes, "he", np.random.default_rng(1))
    train_losses = []

    def epoch(p):
        p = train_mlp_gd(p, X, y, act, "multiclass", lr, epochs=1)
        train_losses.append(head_loss(mlp_forward(p, X, act)[0], y, "multiclass"))
        return p

    _, state, hist = train_with_early_stopping(
        init, epoch, lambda p: head_loss(mlp_forward(p, Xv, act)[0], yv, "multiclass"),
        max_epochs=300, patience=10,
    )
    # Continue without stopping to show where the curve goes.
    p, more = init, []
    for _ in range(200):
        p = train_mlp_gd(p, X, y, act, "multiclass", lr, epochs=1)
        more.append(head_loss(mlp_forward(p, Xv, act)[0], yv, "multiclass"))
    print(f"early stopping: best epoch {state.best_epoch} (val CE {state.best:.3f}), "
          f"stopped at {state.epoch}; val CE after 200 epochs {more[-1]:.3f}")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(more, color="C1", alpha=0.4, label="validation CE (training continued)")
    ax.plot(hist, color="C1", label="validation CE")
    ax.plot(train_losses, color="C0", label="training CE")
    ax.axvline(state.best_epoch, color="k", ls="--", lw=1, label="best epoch (weights kept)")
    ax.axvline(state.epoch, color="r", ls=":", lw=1, label="stop (patience 10)")
    ax.set_ylim(0, 1.5)
    ax.set_xlabel("epoch (full batch)")
    ax.set_ylabel("cross-entropy")
    ax.set_title("H1: early stopping, MLP 64-64-10 on 60 digits")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "early_stopping.png", dpi=DPI)
    plt.close(fig)


def fig_capacity(out: Path) -> None:
    X, y, Xv, yv = _digits(100, 500)
    widths = [2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 105, 110, 120, 150, 200, 300, 400]
    r = capacity_sweep(X, y, Xv, yv, widths, np.random.default_rng(0))
    print("capacity sweep (100 training digits): width, train error, val error")
    for w, a, b in zip(r["width"], r["train_error"], r["val_error"], strict=True):
        print(f"  {w:4d} {a:6.3f} {b:6.3f}")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(r["width"], r["train_error"], marker="o", ms=3, label="training error")
    ax.plot(r["width"], r["val_error"], marker="o", ms=3, label="validation error")
    ax.axvline(99, color="k", ls=":", lw=1, label="h + 1 = 100 training rows (interpolation)")
    ax.set_xscale("log")
    ax.set_xlabel("hidden units h (parameters ~ 10 (h + 1) trained)")
    ax.set_ylabel("misclassification rate")
    ax.set_title("H4: capacity sweep, one hidden ReLU layer, least-squares output")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "capacity_sweep.png", dpi=DPI)
    plt.close(fig)


def fig_l1_l2(out: Path) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 20))
    w_true = np.zeros(20)
    w_true[[1, 4, 9, 15]] = [2.0, -1.5, 1.0, 0.5]
    y = X @ w_true + 0.1 * rng.normal(size=200)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    idx = np.arange(20)
    for k, (pen, label) in enumerate((("l2", "L2 (weight decay)"),
                                      ("l1_subgradient", "L1, notes' sub-gradient step"),
                                      ("l1_proximal", "L1, proximal step (softshrink)"))):
        w = regularized_least_squares(X, y, pen, 0.1, 0.2, 2000)
        print(f"{label:32s} exact zeros: {int(np.sum(w == 0)):2d} / 20, "
              f"max |w| off the support: {np.max(np.abs(w[w_true == 0])):.4f}")
        axes[0].bar(idx + (k - 1) * 0.27, np.abs(w), width=0.27, label=label)
    axes[0].set_yscale("symlog", linthresh=1e-3)
    axes[0].set_xlabel("weight index (true support: 1, 4, 9, 15)")
    axes[0].set_ylabel("|w| after 2000 steps (0 plotted at 0)")
    axes[0].legend(fontsize=8)
    # One irrelevant weight over the last steps: the sub-gradient iterate keeps jumping over 0.
    w_sub = regularized_least_squares(X, y, "l1_subgradient", 0.1, 0.2, 1900)
    w_prox = regularized_least_squares(X, y, "l1_proximal", 0.1, 0.2, 1900)
    j = 0
    traj_sub, traj_prox = [], []
    for _ in range(100):
        w_sub = regularized_least_squares(X, y, "l1_subgradient", 0.1, 0.2, 1, w0=w_sub)
        w_prox = regularized_least_squares(X, y, "l1_proximal", 0.1, 0.2, 1, w0=w_prox)
        traj_sub.append(w_sub[j])
        traj_prox.append(w_prox[j])
    axes[1].plot(range(1901, 2001), traj_sub, label="sub-gradient (notes)")
    axes[1].plot(range(1901, 2001), traj_prox, label="proximal: exactly 0")
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("w_0 (true value 0)")
    axes[1].legend(fontsize=8)
    fig.suptitle("H5: L1 vs L2, least squares 200 x 20, lambda = 0.1, lr = 0.2")
    fig.tight_layout()
    fig.savefig(out / "l1_vs_l2.png", dpi=DPI)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for fig in (fig_preprocessing, fig_signal_propagation, fig_batchnorm, fig_augment,
                fig_early_stopping, fig_capacity, fig_l1_l2):
        fig(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
