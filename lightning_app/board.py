"""What the app writes to TensorBoard beside Lightning's own logging, and under which names.

Imports torch, lightning and tensorboard's protos (the summary helpers of torch and
TensorBoard themselves); never scratch, never matplotlib.

Tags (docs/app.md, "TensorBoard"). TensorBoard opens on its Time Series page, which orders
the groups (the part of a tag before the first '/') by ASCII and expands the first two. The
loss and the head's metric are capitalized groups, so they sort before every lowercase group
(Lightning's `epoch` included) and are the two open on the first screen, for every head:

    Loss/train, Loss/val, Loss/test          epoch means (the test: once per test run)
    Loss/train_step                          every `log_every_n_steps` optimizer steps
    Loss/val_sparsity, Loss/val_members      the sparsity penalty, the ensemble members' mean
    Accuracy/{train,val,test,val_best}       classification heads
    MSE/{train,val,test,val_best}            regression heads and autoencoders
    diagnostics/lr, diagnostics/grad_norm/<parameter>, diagnostics/grad_norm/total, ...
    weights/<parameter>, gradients/<parameter>   histograms
    figures/<name>                           figures (images)

`<parameter>` is the notes' name of a layer's tensor (`layer1.weight`, `encoder.layer1.bias`,
`member2.layer1.weight`), not the PyTorch path (`net.net.0.weight`): `notes_parameter_names`.

Each fit also writes a custom-scalars layout (one chart with the training and validation
loss, one with the metric of every split) and the HPARAMS session: the hyper-parameters of
the model and the data (none of LightningCLI's internal `_...` entries) and three metrics,
read by TensorBoard from the run's scalars: the final test metric, the best validation
metric and the final training loss (`hparams_metrics`). No placeholder values are logged.
"""

from __future__ import annotations

import re

from torch import nn

__all__ = [
    "LOSS",
    "METRIC_GROUPS",
    "DIAGNOSTICS",
    "LR_TAG",
    "GRAD_NORM_TOTAL",
    "loss_tag",
    "metric_tag",
    "grad_norm_tag",
    "hparams_metrics",
    "custom_scalars_layout",
    "final_metrics_line",
    "notes_parameter_names",
    "hparams_for_tensorboard",
    "write_scalars",
    "write_run_header",
]

LOSS = "Loss"
# A module's `metric_name` -> the group its per-epoch metric is logged under.
METRIC_GROUPS = {"acc": "Accuracy", "mse": "MSE"}
DIAGNOSTICS = "diagnostics"
LR_TAG = f"{DIAGNOSTICS}/lr"
GRAD_NORM_TOTAL = f"{DIAGNOSTICS}/grad_norm/total"
BEST = "val_best"  # the suffix of the best validation value so far


def loss_tag(suffix: str) -> str:
    """`Loss/<suffix>`: train, val, test, train_step, val_sparsity, ..."""
    return f"{LOSS}/{suffix}"


def metric_tag(metric_name: str, suffix: str) -> str:
    """`Accuracy/<suffix>` or `MSE/<suffix>` for a module's `metric_name` ('acc', 'mse')."""
    return f"{METRIC_GROUPS[metric_name]}/{suffix}"


def grad_norm_tag(parameter: str) -> str:
    return f"{DIAGNOSTICS}/grad_norm/{parameter}"


def hparams_metrics(metric_names) -> list[str]:
    """The HPARAMS metrics of a run whose heads use `metric_names` (one, or several for a
    pipeline whose stages differ; the first is the one it is tested on): the final test
    metric, the best validation metric of each, the final training loss."""
    names = list(dict.fromkeys(metric_names))
    return [metric_tag(names[0], "test"), *(metric_tag(n, BEST) for n in names),
            loss_tag("train")]


def custom_scalars_layout(metric_names) -> dict:
    """TensorBoard's custom-scalars layout: the training and validation loss in one chart,
    the metric of every split in another (per metric group)."""
    charts = {"loss (train, val)": ["Multiline", [rf"^{LOSS}/(train|val)$"]]}
    for name in dict.fromkeys(metric_names):
        group = METRIC_GROUPS[name]
        charts[f"{group.lower()} (train, val, test)"] = [
            "Multiline", [rf"^{re.escape(group)}/(train|val|test)$"]
        ]
    return {"loss and metrics": charts}


# The summary line the command prints after fit/validate/test: (tag, words), first found
# test metric ends it.
_FINAL_LINE = (
    (metric_tag("acc", "test"), "test acc"),
    (metric_tag("mse", "test"), "test mse"),
    (loss_tag("test"), "test loss"),
    (metric_tag("acc", "val"), "val acc"),
    (loss_tag("val"), "val loss"),
)


def final_metrics_line(metrics) -> str:
    """'final test acc: 0.9778' (or the validation values) from the trainer's
    `callback_metrics`; '' when none was logged."""
    parts = []
    for tag, words in _FINAL_LINE:
        if tag in metrics:
            parts.append(f"{words}: {float(metrics[tag]):.4f}")
            if words.startswith("test") and words != "test loss":
                break
    return "final " + ", ".join(parts) if parts else ""


# ---- parameter names ------------------------------------------------------------------------

_CONTAINERS = {"net", "members"}  # path parts that name no layer of the notes


def notes_parameter_names(net: nn.Module) -> dict[str, nn.Parameter]:
    """The parameters of `net` under the notes' layer names, in `named_parameters` order.

    The Linear layers are numbered in forward order from 1 (`layer1.weight`, `layer2.bias`;
    the notes' W[l], b[l]); a batch norm after layer l is `layer<l>.batch_norm.*`, any other
    module with parameters `layer<l>.<its class>.*`. Named parts keep their name in front
    (`encoder.layer1.weight`, `decoder.layer2.weight`, `encoder2.layer2.weight`,
    `head.layer3.weight`); the members of an ensemble are `member<m>.` and each counts its
    own layers. A parameter outside any module keeps its PyTorch name.
    """
    owner_of: dict[int, str] = {}
    count: dict[str, int] = {}
    for path, module in net.named_modules():
        direct = list(module.named_parameters(recurse=False))
        if not direct:
            continue
        prefix, member = _prefix(path)
        if isinstance(module, nn.Linear):
            count[member] = count.get(member, 0) + 1
            label = f"layer{count[member]}"
        else:
            kind = "batch_norm" if isinstance(module, nn.modules.batchnorm._BatchNorm) else (
                type(module).__name__.lower())
            label = f"layer{count.get(member, 0)}.{kind}"
        for name, p in direct:
            owner_of[id(p)] = ".".join(x for x in (prefix, label, name) if x)
    return {owner_of.get(id(p), name): p for name, p in net.named_parameters()}


def _prefix(path: str) -> tuple[str, str]:
    """('encoder1', '') for 'encoder1.0'; ('member2', 'member2') for 'members.1.net.0'."""
    parts = path.split(".") if path else []
    out, member = [], ""
    for i, part in enumerate(parts):
        if part.isdigit():  # a Sequential's index, or a member's
            if i and parts[i - 1] == "members":
                member = f"member{int(part) + 1}"
                out.append(member)
        elif part not in _CONTAINERS:
            out.append(part)
    return ".".join(out), member


# ---- writing ---------------------------------------------------------------------------------


def hparams_for_tensorboard(params: dict) -> dict:
    """Flat, TensorBoard-typed hyper-parameters (`scheduler_args/k`; lists as text), without
    LightningCLI's internal entries (`_instantiator`, `_class_path`)."""
    from lightning.fabric.utilities.logger import _flatten_dict
    from lightning.pytorch.loggers import TensorBoardLogger

    flat = _flatten_dict({k: v for k, v in params.items() if not str(k).startswith("_")})
    # A bool as text: TensorBoard would show True as 1.0 (torch's summary takes it for a number).
    flat = {k: str(v).lower() if isinstance(v, bool) else v for k, v in flat.items()}
    return TensorBoardLogger._sanitize_params(flat)


def write_scalars(writer, values: dict[str, float], step: int) -> None:
    """Several scalars as ONE event (one record and one hand-off to the writer thread, where
    `add_scalar` would make one each)."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    summary = Summary(value=[Summary.Value(tag=k, simple_value=float(v))
                             for k, v in values.items()])
    writer._get_file_writer().add_summary(summary, step)  # step None: 0, as add_scalar


def write_run_header(writer, hparams: dict, metrics: list[str], layout: dict) -> None:
    """The run's HPARAMS session (hyper-parameters and the names of its metrics) and its
    custom-scalars layout. The metric values are the run's own scalars of those tags."""
    from torch.utils.tensorboard.summary import hparams as hparams_summaries

    file_writer = writer._get_file_writer()
    for summary in hparams_summaries(hparams_for_tensorboard(hparams), dict.fromkeys(metrics, 0)):
        file_writer.add_summary(summary)
    writer.add_custom_scalars(layout)
    writer.flush()

