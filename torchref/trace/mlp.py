"""`mlp`: a small network's forward pass, deltas, gradients and GD steps, in the notes' notation.

Input keys (the issue's form; `layers` may be left out, it is read off the weights):
    layers: [2, 2, 2]            input width first
    activation: sigmoid          one name for every layer after the input, or a list of them
                                 (with loss cce a single name is the hidden layers' and the
                                 output is softmax; a list must end with softmax)
    loss: half_sse               half_sse 1/2 sum (t - a)^2, sse, mse (1/K sum), bce, cce
    weights: [W1, W2, ...]       W[l] (n_l, n_{l-1}), as 001 writes it
    biases: [b1, b2, ...]
    thetas: [Theta1, ...]        instead of weights/biases: 004's folded form, bias column 0
    x: [0.05, 0.10]              one example, or a list of examples (one a row)
    t: [0.01, 0.99]              the targets, shaped like x's examples (leave t and loss out
                                 for the forward pass alone)
    lr: 0.5                      the GD step (leave out, or --steps 0, for no update)
    update_biases: true          false keeps the biases fixed
    steps: 1                     GD steps (--steps overrides it)
Every number comes from `scratch.trace.mlp_step` and is recomputed with torch autograd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scratch import trace as st
from scratch.activations import get_activation
from scratch.validation import Interval
from torchref.trace.core import Trace, check_finite, fmt, plain, table, wrap
from torchref.trace.inputs import Spec, TraceInputError, to_array

__all__ = ["KEYS", "run"]

KEYS = ("kind", "layers", "activation", "loss", "weights", "biases", "thetas", "x", "t", "lr",
        "update_biases", "steps")
_LR = Interval(0.0, np.inf, "left")
# Activations whose derivative a student may use by mistake (the "wrong activation" slip).
_SLIP_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")


@dataclass
class Net:
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activations: list[str]
    loss: str | None
    X: np.ndarray  # (m, n_0)
    T: np.ndarray | None  # (m, n_L)
    single: bool  # x was one example: vectors, not (1, n) matrices, in the output
    folded: bool  # given as thetas: the output also shows Theta
    lr: float | None
    update_biases: bool

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[1]] + [W.shape[0] for W in self.weights]


def _parse(spec: Spec) -> Net:
    if spec.has("thetas"):
        if spec.has("weights") or spec.has("biases"):
            raise TraceInputError("thetas: give either weights and biases or thetas, not both")
        thetas = _list_of("thetas", spec.raw("thetas"), 2)
        for l, th in enumerate(thetas):
            if th.shape[1] < 2:
                raise TraceInputError(
                    f"thetas[{l}]: needs the bias column 0 and at least one weight column, "
                    f"got shape {th.shape}")
        weights = [th[:, 1:].copy() for th in thetas]
        biases = [th[:, 0].copy() for th in thetas]
    else:
        weights = _list_of("weights", spec.raw("weights", "W[l] of shape (n_l, n_{l-1}) per "
                                                "layer, or thetas with the bias as column 0"), 2)
        biases = _list_of("biases", spec.raw("biases", "one vector per layer (or use thetas "
                                              "with the bias as column 0)"), 1)
        if len(biases) != len(weights):
            raise TraceInputError(
                f"biases: one vector per layer ({len(weights)}), got {len(biases)}")
    for l, (W, b) in enumerate(zip(weights, biases, strict=True)):
        if l and W.shape[1] != weights[l - 1].shape[0]:
            key = "thetas" if spec.has("thetas") else "weights"
            extra = " + 1 (the bias column)" if spec.has("thetas") else ""
            raise TraceInputError(
                f"{key}[{l}]: shapes do not chain: layer {l} has {weights[l - 1].shape[0]} "
                f"units, so it needs {weights[l - 1].shape[0]}{extra} columns, got shape "
                f"{(W.shape[0], W.shape[1] + bool(extra))}")
        if b.shape != (W.shape[0],):
            raise TraceInputError(
                f"biases[{l}]: needs {W.shape[0]} entries (the rows of weights[{l}]), "
                f"got {b.shape[0]}")
    sizes = [weights[0].shape[1]] + [W.shape[0] for W in weights]
    if spec.has("layers"):
        layers = spec.raw("layers")
        if not isinstance(layers, list) or len(layers) < 2:
            raise TraceInputError(f"layers: expected a list of widths, input first, got {layers!r}")
        given = [_int("layers", v) for v in layers]
        if given != sizes:
            raise TraceInputError(f"layers: {given} does not match the weights' shapes {sizes}")
    loss = spec.name_of("loss", st.LOSSES) if spec.has("loss") else None
    activations = _activations(spec, len(weights), loss)
    x = spec.array("x", (1, 2))
    single = x.ndim == 1
    X = x[None, :] if single else x
    if X.shape[1] != sizes[0]:
        raise TraceInputError(
            f"x: each example needs {sizes[0]} inputs (the input layer's width), "
            f"got {X.shape[1]}")
    T = None
    if spec.has("t") or loss is not None:
        if loss is None:
            raise TraceInputError(f"loss: missing key (t is given); valid choices: {st.LOSSES}")
        T = _targets(spec, X.shape[0], sizes[-1], single, loss)
    lr = spec.number("lr", _LR) if spec.has("lr") else None
    return Net(weights, biases, activations, loss, X, T, single, spec.has("thetas"), lr,
               spec.flag("update_biases", True))


def _int(key: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, float) or not v.is_integer() or v < 1:
        raise TraceInputError(f"{key}: widths must be positive integers, got {v!r}")
    return int(v)


def _list_of(key: str, value, ndim: int) -> list[np.ndarray]:
    if not isinstance(value, list) or not value:
        raise TraceInputError(f"{key}: expected a list with one entry per layer, got {value!r}")
    return [to_array(f"{key}[{l}]", v, ndim) for l, v in enumerate(value)]


def _activations(spec: Spec, L: int, loss: str | None) -> list[str]:
    act = spec.raw("activation", f"one of {st.OUTPUT_ACTIVATIONS}")
    if isinstance(act, str):
        names = [act] * L
        if loss == "cce":
            names[-1] = "softmax"
    elif isinstance(act, list):
        if len(act) != L:
            raise TraceInputError(
                f"activation: one name per layer after the input ({L}), got {len(act)}")
        names = list(act)
    else:
        raise TraceInputError(f"activation: expected a name or a list of names, got {act!r}")
    for l, name in enumerate(names):
        key = "activation" if isinstance(act, str) else f"activation[{l}]"
        if not isinstance(name, str) or name not in st.OUTPUT_ACTIVATIONS.options:
            raise TraceInputError(
                f"{key}: unknown activation {name!r}; valid choices: {st.OUTPUT_ACTIVATIONS}")
        if name == "softmax" and (l != L - 1 or loss != "cce"):
            raise TraceInputError(
                f"{key}: softmax is the output layer of a cce network only")
    if loss == "cce" and names[-1] != "softmax":
        raise TraceInputError(
            f"activation[{L - 1}]: loss cce needs a softmax output layer, got {names[-1]!r}")
    return names


def _targets(spec: Spec, m: int, K: int, single: bool, loss: str) -> np.ndarray:
    t = spec.array("t", (0, 1, 2))
    if single:
        T = t.reshape(1, -1)
        if T.shape[1] != K or t.ndim > 1:
            raise TraceInputError(f"t: one target per output unit ({K}), got {t.size}")
    else:
        T = t[:, None] if t.ndim == 1 and K == 1 else t
        if T.shape != (m, K):
            raise TraceInputError(
                f"t: one row of {K} targets per example ({m} examples), got shape {t.shape}")
    if loss in ("bce", "cce") and (T.min() < 0 or T.max() > 1):
        raise TraceInputError(
            f"t: loss {loss} needs targets in [0, 1], got values in [{T.min():g}, {T.max():g}]")
    if loss == "cce" and not np.allclose(T.sum(axis=1), 1, rtol=0, atol=1e-9):
        raise TraceInputError("t: loss cce needs each example's targets to sum to 1 "
                              "(one-hot or class probabilities)")
    return T


# ---- scratch: every step's document ------------------------------------------------------


def _thetas(W: list[np.ndarray], b: list[np.ndarray]) -> list[np.ndarray]:
    return [np.concatenate([bl[:, None], Wl], axis=1) for Wl, bl in zip(W, b, strict=True)]


def _document(net: Net, W, b, z, a, step=None, loss_each=None) -> dict:
    """The JSON document of one step from its arrays (scratch's or torch's)."""
    def ex(arr):  # one example: drop the example axis
        return arr[0] if net.single else arr

    doc = {"layers": [{"z": ex(zl), "a": ex(al)} for zl, al in zip(z, a, strict=True)]}
    if step is None:
        return plain(doc)
    doc["loss"] = float(np.mean(loss_each))
    if not net.single:
        doc["loss_per_example"] = loss_each
    doc["deltas"] = [ex(d) for d in step["delta"]]
    doc["grad_weights"], doc["grad_biases"] = step["grad_W"], step["grad_b"]
    if not net.single:
        doc["grad_weights_per_example"] = step["grad_W_each"]
        doc["grad_biases_per_example"] = step["grad_b_each"]
        doc["accumulated_weights"], doc["accumulated_biases"] = step["Delta_W"], step["Delta_b"]
    if step.get("new_W") is not None:
        doc["change_weights"] = [n - o for n, o in zip(step["new_W"], W, strict=True)]
        doc["change_biases"] = [n - o for n, o in zip(step["new_b"], b, strict=True)]
        doc["new_weights"], doc["new_biases"] = step["new_W"], step["new_b"]
    if net.folded:
        doc["grad_thetas"] = _thetas(step["grad_W"], step["grad_b"])
        if step.get("new_W") is not None:
            doc["change_thetas"] = _thetas(doc["change_weights"], doc["change_biases"])
            doc["new_thetas"] = _thetas(step["new_W"], step["new_b"])
    return plain(doc)


def _scratch_run(net: Net, steps: int, slip=None) -> list[dict]:
    """Every step's document from scratch.trace; `slip(W, b) -> (W, b, overrides)` replays a
    usual mistake."""
    W, b = [w.copy() for w in net.weights], [v.copy() for v in net.biases]
    docs = []
    for _ in range(max(steps, 1)):
        W_used, b_used, over = slip(W, b) if slip else (W, b, {})
        with np.errstate(all="ignore"):  # overflow and domain errors are reported below
            if net.T is None:
                z, a = st.forward_table(W_used, b_used, net.X, net.activations)
                docs.append(_document(net, W, b, z, a))
                return docs
            if net.loss == "bce" and net.activations[-1] != "sigmoid":
                _check_bce_outputs(net, W_used, b_used)
            res = st.mlp_step(W_used, b_used, net.X, net.T, net.activations, net.loss,
                              net.lr if steps else None, net.update_biases, **over)
        step = {k: getattr(res, k) for k in ("delta", "grad_W", "grad_b", "grad_W_each",
                                             "grad_b_each", "Delta_W", "Delta_b")}
        step["new_W"], step["new_b"] = res.new_W, res.new_b
        if slip and res.new_W is not None:  # the slip's step starts from the true weights
            step["new_W"] = [w - net.lr * g for w, g in zip(W, res.grad_W, strict=True)]
            step["new_b"] = [v - net.lr * g if net.update_biases else v
                             for v, g in zip(b, res.grad_b, strict=True)]
        docs.append(_document(net, W, b, res.z, res.a, step, res.loss_each))
        if res.new_W is None:
            break
        W, b = step["new_W"], step["new_b"]
    return docs


def _check_bce_outputs(net: Net, W, b) -> None:
    _, a = st.forward_table(W, b, net.X, net.activations)
    lo, hi = float(a[-1].min()), float(a[-1].max())
    if lo < 0 or hi > 1:
        raise TraceInputError(
            f"loss: bce needs outputs in [0, 1] (the log of a probability); the output layer "
            f"({net.activations[-1]}) gives values in [{lo:.4g}, {hi:.4g}]")


# ---- torch autograd: the same documents, independently ------------------------------------


def _torch_run(net: Net, steps: int) -> list[dict]:
    import torch
    import torch.nn.functional as F

    from torchref.activations import get_activation_module

    def forward(Ws, bs, X):
        z_list, a_list, a = [], [], X
        for Wl, bl, name in zip(Ws, bs, net.activations, strict=True):
            z = F.linear(a, Wl, bl)
            a = torch.softmax(z, dim=1) if name == "softmax" else get_activation_module(name)(z)
            z_list.append(z)
            a_list.append(a)
        return z_list, a_list

    def per_example_loss(z, a, T):
        if net.loss == "half_sse":
            return 0.5 * ((a - T) ** 2).sum(dim=1)
        if net.loss == "sse":
            return ((a - T) ** 2).sum(dim=1)
        if net.loss == "mse":
            return F.mse_loss(a, T, reduction="none").mean(dim=1)
        if net.loss == "bce" and net.activations[-1] == "sigmoid":
            return F.binary_cross_entropy_with_logits(z, T, reduction="none").sum(dim=1)
        if net.loss == "bce":
            return F.binary_cross_entropy(a, T, reduction="none").sum(dim=1)
        return F.cross_entropy(z, T, reduction="none")  # probability targets

    def np_(t):
        return t.detach().numpy()

    X = torch.tensor(net.X)
    W = [w.copy() for w in net.weights]
    b = [v.copy() for v in net.biases]
    docs = []
    for _ in range(max(steps, 1)):
        Ws = [torch.tensor(w, requires_grad=True) for w in W]
        bs = [torch.tensor(v, requires_grad=True) for v in b]
        z, a = forward(Ws, bs, X)
        if net.T is None:
            docs.append(_document(net, W, b, [np_(t) for t in z], [np_(t) for t in a]))
            return docs
        L = per_example_loss(z[-1], a[-1], torch.tensor(net.T))  # (m,)
        # d(sum_i L_i)/dz of example i is dL_i/dz: the delta of every example at once
        deltas = torch.autograd.grad(L.sum(), z, retain_graph=True)
        params = Ws + bs
        each = [torch.autograd.grad(L[i], params, retain_graph=True) for i in range(len(L))]
        mean_grads = torch.autograd.grad(L.mean(), params)
        nW = len(Ws)
        step = {
            "delta": [np_(t) for t in deltas],
            "grad_W": [np_(g) for g in mean_grads[:nW]],
            "grad_b": [np_(g) for g in mean_grads[nW:]],
            "grad_W_each": [np_(torch.stack([e[l] for e in each])) for l in range(nW)],
            "grad_b_each": [np_(torch.stack([e[nW + l] for e in each])) for l in range(nW)],
        }
        step["Delta_W"] = [np.cumsum(g, axis=0) for g in step["grad_W_each"]]
        step["Delta_b"] = [np.cumsum(g, axis=0) for g in step["grad_b_each"]]
        step["new_W"] = step["new_b"] = None
        if net.lr is not None and steps:
            # torch.optim.SGD's step p <- p - lr p.grad, written out: constructing the first
            # torch.optim optimizer of a process costs seconds (test_trace.py checks that the
            # two agree).
            pairs = list(zip(Ws, mean_grads[:nW], strict=True))
            if net.update_biases:
                pairs += list(zip(bs, mean_grads[nW:], strict=True))
            with torch.no_grad():
                for p, g in pairs:
                    p -= net.lr * g
            step["new_W"], step["new_b"] = [np_(t) for t in Ws], [np_(t) for t in bs]
        docs.append(_document(net, W, b, [np_(t) for t in z], [np_(t) for t in a], step,
                              np_(L)))
        if step["new_W"] is None:
            break
        W, b = step["new_W"], step["new_b"]
    return docs


# ---- the usual slips ----------------------------------------------------------------------


def _derivative_slips(own: str, where: str):
    """(label, g'(z, a)) for the derivatives a student may use instead of `own`'s."""
    out = [(f"derivative of the wrong activation ({other}' at {where}, which is {own})",
            lambda z, a, o=other: get_activation(o)[1](z))
           for other in _SLIP_ACTIVATIONS if other != own]
    if own != "sigmoid":  # the a(1 - a) of a sigmoid unit, written for any unit
        out.append((f"derivative of the wrong activation (the sigmoid's a(1 - a) at {where}, "
                    f"which is {own})", lambda z, a: a * (1 - a)))
    if own != "tanh":
        out.append((f"derivative of the wrong activation (tanh's 1 - a^2 at {where}, which "
                    f"is {own})", lambda z, a: 1 - a * a))
    out.append((f"derivative of the wrong activation ({own}' taken at a instead of z, "
                f"{where})", lambda z, a: get_activation(own)[1](a)))
    return out


def _slips(net: Net, steps: int) -> list[tuple[str, dict]]:
    out = []
    if any(np.any(v != 0) for v in net.biases):
        out.append(("bias forgotten",
                    lambda W, b: (W, [np.zeros_like(v) for v in b], {})))
    if net.T is not None:
        first = 2 if net.folded else 1  # the layer numbers the tables print (004 / 001)
        for l in range(len(net.weights) - 1):
            for label, g in _derivative_slips(net.activations[l], f"layer {l + first}"):
                out.append((label, _g_prime_slip(net, l, g)))
        out += _output_slips(net)
    docs = []
    for label, slip in out:
        try:
            run = _scratch_run(net, steps, slip)
        except (ValueError, FloatingPointError):
            continue  # a slip outside a function's domain is not the student's number
        docs.append((label, _wrap(run)))
    return docs


def _g_prime_slip(net: Net, layer: int, g_of):
    def slip(W, b):
        z, a = st.forward_table(W, b, net.X, net.activations)
        g = st.hidden_g_prime(z, net.activations)
        g[layer] = g_of(z[layer], a[layer])
        return W, b, {"g_prime": g}
    return slip


def _output_slips(net: Net):
    act, loss = net.activations[-1], net.loss
    if act == "softmax":
        return []

    def with_delta(make):
        def slip(W, b):
            z, a = st.forward_table(W, b, net.X, net.activations)
            return W, b, {"delta_L": make(z[-1], a[-1])}
        return slip

    grad = get_activation(act)[1]
    if (loss, act) == ("bce", "sigmoid"):
        return [("extra activation derivative at the output (sigmoid + cross-entropy gives "
                 "delta = a - t)", with_delta(lambda z, a: (a - net.T) * grad(z)))]
    out = [("derivative of the output activation left out (delta = dL/da)",
            with_delta(lambda z, a: st.loss_grad_table(a, net.T, loss)))]
    for label, g in _derivative_slips(act, "the output"):
        out.append((label, with_delta(
            lambda z, a, g=g: st.loss_grad_table(a, net.T, loss) * g(z, a))))
    return out


# ---- text ---------------------------------------------------------------------------------


def _wrap(docs: list[dict]) -> dict:
    return docs[0] if len(docs) == 1 else {"steps": docs}


def _render(net: Net, docs: list[dict], decimals: int) -> list[str]:
    acts = net.activations
    uniq = acts[0] if len(set(acts)) == 1 else "/".join(acts)
    head = (f"mlp {'-'.join(map(str, net.sizes))}, activation {uniq}"
            + (f", loss {net.loss}" if net.loss else "")
            + (f", lr {fmt(net.lr, 6)}" if net.lr is not None and "new_weights" in docs[0]
               else "")
            + f", {net.X.shape[0]} example{'s' * (net.X.shape[0] > 1)}")
    lines = wrap(head)
    for s, doc in enumerate(docs, 1):
        if len(docs) > 1:
            lines += ["", f"== step {s} of {len(docs)}"]
        lines += _render_step(net, doc, decimals)
    return lines


def _rows(arr, single: bool) -> np.ndarray:
    arr = np.asarray(arr, dtype=float)
    return arr[None, :] if single else arr


def _render_step(net: Net, doc: dict, decimals: int) -> list[str]:
    f = lambda v: fmt(v, decimals)  # noqa: E731
    m = net.X.shape[0]
    off = 2 if net.folded else 1  # 004 numbers the input layer 1, 001 numbers it 0
    lines = []
    for l, layer in enumerate(doc["layers"]):
        z, a = _rows(layer["z"], net.single), _rows(layer["a"], net.single)
        d = _rows(doc["deltas"][l], net.single) if "deltas" in doc else None
        kind = "output" if l == len(doc["layers"]) - 1 else "hidden"
        lines += ["", f"layer {l + off} ({kind}, {net.activations[l]})"]
        header = (["example"] if m > 1 else []) + ["unit", "z", "a"] + (
            ["delta"] if d is not None else [])
        rows = []
        for i in range(m):
            for j in range(z.shape[1]):
                rows.append(([str(i + 1)] if m > 1 else []) + [str(j + 1), f(z[i, j]), f(a[i, j])]
                            + ([f(d[i, j])] if d is not None else []))
        lines += table(header, rows, keep=2 if m > 1 else 1)
        if kind == "hidden" and m > 1 and net.activations[l] == "sigmoid":
            codes = ["".join(str(int(v >= 0.5)) for v in row) for row in a]
            lines.append(f"  rounded at 0.5: {' '.join(codes)} "
                         f"({len(set(codes))} distinct of {m})")
    if "loss" not in doc:
        return lines
    lines.append("")
    if m > 1:
        per = ", ".join(f(v) for v in doc["loss_per_example"])
        lines.append(f"loss per example: {per}")
        lines.append(f"cost J = 1/m sum L = {f(doc['loss'])}")
    else:
        lines.append(f"loss L = {f(doc['loss'])}")
    for l in range(len(doc["layers"])):
        lines += _render_params(net, doc, l, decimals)
    return lines


def _param_labels(net: Net, l: int) -> list[str]:
    n_out, n_in = net.weights[l].shape
    if net.folded:
        return [f"th{i}{j}" for i in range(1, n_out + 1) for j in range(n_in + 1)]
    return ([f"w{i}{j}" for i in range(1, n_out + 1) for j in range(1, n_in + 1)]
            + [f"b{i}" for i in range(1, n_out + 1)])


def _flat(net: Net, W, b) -> list[float]:
    W, b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
    if net.folded:
        return np.concatenate([b[:, None], W], axis=1).ravel().tolist()
    return W.ravel().tolist() + b.ravel().tolist()


def _render_params(net: Net, doc: dict, l: int, decimals: int) -> list[str]:
    f = lambda v: fmt(v, decimals)  # noqa: E731
    name = f"Theta^({l + 1})" if net.folded else f"W[{l + 1}], b[{l + 1}]"
    labels = _param_labels(net, l)
    rows = []
    if "grad_weights_per_example" in doc:
        for i, (gW, gb) in enumerate(zip(doc["grad_weights_per_example"][l],
                                         doc["grad_biases_per_example"][l], strict=True), 1):
            rows.append([f"example {i}"] + [f(v) for v in _flat(net, gW, gb)])
        rows.append(["Delta (sum, D7)"] + [f(v) for v in _flat(
            net, doc["accumulated_weights"][l][-1], doc["accumulated_biases"][l][-1])])
    grad_label = "D = Delta/m" if "grad_weights_per_example" in doc else "gradient"
    rows.append([grad_label] + [f(v) for v in _flat(net, doc["grad_weights"][l],
                                                    doc["grad_biases"][l])])
    rows.append(["now"] + [f(v) for v in _flat(net, *_current(net, doc, l))])
    if "new_weights" in doc:
        rows.append(["change -lr*D" if "grad_weights_per_example" in doc else "change -lr*g"]
                    + [f(v) for v in _flat(net, doc["change_weights"][l],
                                           doc["change_biases"][l])])
        rows.append(["new"] + [f(v) for v in _flat(net, doc["new_weights"][l],
                                                   doc["new_biases"][l])])
    return ["", name] + table(["", *labels], rows)


def _current(net: Net, doc: dict, l: int):
    if "new_weights" in doc:
        W = np.asarray(doc["new_weights"][l]) - np.asarray(doc["change_weights"][l])
        b = np.asarray(doc["new_biases"][l]) - np.asarray(doc["change_biases"][l])
        return W, b
    return net.weights[l], net.biases[l]


# ---- the kind ------------------------------------------------------------------------------


def run(spec: Spec, steps: int | None) -> Trace:
    """Trace an MLP input file; `steps` (from --steps) overrides the file's `steps`."""
    net = _parse(spec)
    n = steps if steps is not None else spec.integer("steps", 0, 1)
    if n and net.T is not None and net.lr is None:
        raise TraceInputError("lr: missing key: the learning rate of the GD step "
                              "(or --steps 0 for no update)")
    try:
        docs = _scratch_run(net, n)
    except TraceInputError:
        raise
    except ValueError as exc:  # a function's domain the checks above did not foresee
        raise TraceInputError(f"loss: {exc}") from None
    check_finite(_wrap(docs))
    torch_docs = _torch_run(net, n)
    m = net.X.shape[0]
    return Trace("mlp", _wrap(docs), _wrap(torch_docs), lambda d: _render(net, docs, d), m,
                 lambda: _slips(net, n))


