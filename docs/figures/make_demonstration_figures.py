"""Regenerate the figures of docs/demonstrations.md from `scratch.demonstrations`.

usage: python docs/figures/make_demonstration_figures.py [NAME ...]   (from the repository root)
       NAME is one of the figure functions below (b3, b7, ..., f22, b3_depth); none: all.

Imports NumPy, matplotlib (Agg backend: no display needed) and `scratch` only. Every number
drawn is computed by the same functions the tests check; nothing is typed in by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scratch import classic as sc  # noqa: E402
from scratch import demonstrations as sd  # noqa: E402
from scratch.mlp import mlp_forward  # noqa: E402

OUT = Path(__file__).resolve().parent


def b3() -> None:
    widths = (2, 4, 8, 16, 32, 64, 128)
    fits = sd.universal_approximation(widths)
    x = np.linspace(0, 1, 1001)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(x, sd.target_function(x), "k", lw=2.5, label="f(x)")
    for r in fits:
        if r.width in (2, 4, 8):
            y, _ = mlp_forward(r.params, x[:, None], "relu")
            ax1.plot(x, y[:, 0], lw=1.2, label=f"width {r.width}")
    ax1.set(title="f and one-hidden-layer ReLU fits", xlabel="x")
    ax1.legend(fontsize=8)
    for act, marker in (("relu", "o"), ("sigmoid", "s")):
        errs = [r.sup_error for r in sd.universal_approximation(widths, activation=act)]
        ax2.loglog(widths, errs, marker=marker, label=act)
    ax2.set(title="sup-norm error on [0, 1]", xlabel="hidden width", ylabel="max |f - f_eps|")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(OUT / "b3_universal_approximation.png", dpi=110)
    plt.close(fig)


def b7() -> None:
    r = sd.circle_demo(seed=0)
    rng = np.random.default_rng(0)
    X, y = sd.circle_dataset(rng, 2000)  # the same training set circle_demo drew first
    sep = sc.linear_separability(r.hidden, r.y_train)
    score = r.hidden @ sep.w + sep.b  # signed distance (scaled) to the LP's hyperplane
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax1.scatter(X[:, 0], X[:, 1], c=y, s=4, cmap="coolwarm")
    t = np.linspace(0, 2 * np.pi, 200)
    for radius in (np.sqrt(3), np.sqrt(8)):
        ax1.plot(radius * np.cos(t), radius * np.sin(t), "k", lw=0.8)
    ax1.set(
        title=f"inputs: not separable; logistic regression {r.logreg_test_accuracy:.3f}",
        aspect="equal",
    )
    bins = np.linspace(score.min(), score.max(), 60)
    ax2.hist(score[r.y_train == 0], bins=bins, alpha=0.7, label="y = 0")
    ax2.hist(score[r.y_train == 1], bins=bins, alpha=0.7, label="y = 1")
    ax2.axvline(0, color="k", lw=0.8)
    ax2.set(
        title=f"hidden layer (64 ReLU): separable; MLP test {r.mlp_test_accuracy:.3f}",
        xlabel="w . h + b  (LP separator of the hidden representation)",
    )
    ax2.legend()
    fig.tight_layout()
    fig.savefig(OUT / "b7_circle_representation.png", dpi=110)
    plt.close(fig)


def c11() -> None:
    demo = sd.nonconvexity_demo()
    w = np.linspace(-8, 4, 600)
    mse = [sd.mse_sigmoid_loss([v], sd.C11_X, sd.C11_T) for v in w]
    ce = [sd.ce_sigmoid_loss([v], sd.C11_X, sd.C11_T) for v in w]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot(w, mse)
    for wm, lm in demo["mse_minima"]:
        ax1.plot(wm, lm, "ro")
    ax1.set(title="MSE of sigma(w x): two local minima", xlabel="w")
    ax2.plot(w, ce, color="C1")
    for wm, lm in demo["ce_minima"]:
        ax2.plot(wm, lm, "ro")
    ax2.set(title="cross-entropy: convex, one minimum", xlabel="w")
    fig.suptitle("data: x = (1, 4), t = (0.02, 0.98)", fontsize=9)
    fig.tight_layout()
    fig.savefig(OUT / "c11_mse_vs_ce.png", dpi=110)
    plt.close(fig)


def d11() -> None:
    z = np.linspace(-15, 15, 301)
    g = sd.saturation_gradients(z, t=1.0)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.semilogy(z, g["mse"], label="|dMSE/dw| = y(1-y)|t-y|")
    ax.semilogy(z, g["ce"], label="|dCE/dw| = |y-t|")
    ax.set(title="one sigmoid unit, x = 1, target t = 1", xlabel="z = w x", ylabel="|gradient|")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "d11_saturation.png", dpi=110)
    plt.close(fig)


def i5() -> None:
    ns = (2, 4, 8)
    one_hot = [sd.code_separability(sd.one_hot_codes(n))["count"] / 2**n for n in ns]
    compact = [sd.code_separability(sd.binary_codes(n))["count"] / 2**n for n in ns]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    pos = np.arange(len(ns))
    ax.bar(pos - 0.2, one_hot, 0.4, label="one-hot (n units)")
    ax.bar(pos + 0.2, compact, 0.4, label="binary (log2 n units)")
    ax.set_xticks(pos, [f"n = {n}" for n in ns])
    ax.set(ylabel="fraction of the 2^n labelings separable", ylim=(0, 1.1))
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "i5_codes.png", dpi=110)
    plt.close(fig)


def f22() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    w = np.linspace(-1.6, 1.6, 400)
    for ax, h in zip(axes, (1.0, 3.0), strict=True):
        r = sd.sgd_escape(h=h)
        ax.plot(w, sd.double_well(w, h)[0], "k", lw=2, label="L(w)")
        ax.axvline(r["barrier"][0], color="gray", ls=":", lw=1)
        ax2 = ax.twinx()
        ax2.hist(r["final"], bins=np.linspace(-1.6, 1.6, 41), color="tab:orange", alpha=0.6,
                 label="SGD end points (200 runs)")
        ax2.set_yticks([])
        ax.plot([r["gd_final"]], [sd.double_well(r["gd_final"], h)[0]], "o", color="tab:blue",
                label="batch GD end point")
        ax.set(title=f"h = {h:g}: barrier {r['barrier_height']:.2f}, T = {r['temperature']:.2f}, "
                     f"{100 * r['fraction_global']:.0f} % escape", xlabel="w", ylim=(-0.5, 3))
        ax.legend(loc="upper center", fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "f22_sgd_escape.png", dpi=110)
    plt.close(fig)


def b3_depth() -> None:
    rows = sd.depth_sweep()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for act, marker in (("sigmoid", "s"), ("tanh", "^"), ("relu", "o")):
        depths = sorted({r["depth"] for r in rows if r["activation"] == act})
        acc = [np.mean([r["test_accuracy"] for r in rows
                        if r["activation"] == act and r["depth"] == d]) for d in depths]
        ax.plot(depths, acc, marker=marker, label=act)
    ax.axhline(rows[0]["majority_rate"], color="gray", ls=":", label="majority rate")
    ax.set(title="circle set, width 16, 500 GD steps", xlabel="hidden layers",
           ylabel="test accuracy (mean of 3 seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "b3_depth.png", dpi=110)
    plt.close(fig)


FIGURES = {f.__name__: f for f in (b3, b7, c11, d11, i5, f22, b3_depth)}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(FIGURES):
        if name not in FIGURES:
            sys.exit(f"unknown figure {name!r}; valid: {', '.join(FIGURES)}")
        FIGURES[name]()
        print("wrote", name)
