"""What the app writes to TensorBoard, read back with TensorBoard's own reader
(EventAccumulator) and served by a real `tensorboard` process over HTTP.

Logged values are checked against independent recomputations: the test accuracy and the
projector's hidden layer from the saved weights (scikit-learn's metric, a fresh torchref MLP),
the learning rate from the schedule's closed form, the validation accuracy from the confusion
matrix, the best validation accuracy from the logged history. Tag names are written out here
as a user sees them, not imported from the app."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from google.protobuf import text_format
from sklearn.metrics import accuracy_score
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from torch import nn

from lightning_app.board import notes_parameter_names
from lightning_app.data import DigitsDataModule
from lightning_app.tensorboard_server import get_json, serve
from parity_tests.app_support import run_cli
from torchref import autoencoders as ae
from torchref.ensemble import Ensemble
from torchref.mlp import MLP

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EPOCHS, STEPS_PER_EPOCH = 2, 41  # mlp_digits: 1293 training rows in batches of 32
DIGITS_SCALARS = {
    "Loss/train", "Loss/train_step", "Loss/val", "Loss/test",
    "Accuracy/train", "Accuracy/val", "Accuracy/val_best", "Accuracy/test",
    "diagnostics/lr", "diagnostics/grad_norm/total", "diagnostics/confusion_matrix_accuracy",
    *(f"diagnostics/grad_norm/layer{i}.{t}" for i in (1, 2) for t in ("weight", "bias")),
    "epoch",  # Lightning's own
}
DIGITS_PARAMETERS = [f"layer{i}.{t}" for i in (1, 2) for t in ("weight", "bias")]


def _events(log_dir) -> EventAccumulator:
    ea = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0,
                                                       "histograms": 0, "tensors": 0})
    ea.Reload()
    return ea


def _scalars(ea: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in ea.Scalars(tag)]


def _hparams(ea: EventAccumulator):
    content = ea.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]).experiment
    return start, experiment


def _projector(run: Path) -> ProjectorConfig:
    return text_format.Parse((run / "projector_config.pbtxt").read_text(), ProjectorConfig())


def _groups_as_tensorboard_orders_them(tags) -> list[str]:
    # The Time Series page: one group per prefix before the first '/', in ASCII order.
    return sorted({t.split("/")[0] for t in tags})


@pytest.fixture(scope="module")
def digits_logs(tmp_path_factory):
    save_dir = tmp_path_factory.mktemp("tb")
    out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--trainer.max_epochs", str(EPOCHS),
        "--trainer.logger.init_args.save_dir", str(save_dir),
    ])
    return save_dir / "mlp_digits", out


def _saved_mlp(run: Path) -> MLP:
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    net = MLP([64, 128, 10])
    net.load_state_dict({k.removeprefix("net."): v for k, v in state["state_dict"].items()
                         if k.startswith("net.")})
    return net.eval()


def _test_split():
    dm = DigitsDataModule(seed=0)
    dm.setup("test")
    return dm.split("test")


# ---- the digits run: names, groups, values --------------------------------------------------


def test_digits_run_opens_on_loss_and_accuracy_and_names_the_notes_layers(digits_logs):
    root, _ = digits_logs
    tags = _events(root / "version_0").Tags()
    assert set(tags["scalars"]) == DIGITS_SCALARS  # no hp_metric, no lr-Adam, no grad_2.0_*
    assert set(tags["histograms"]) == {f"{kind}/{p}" for kind in ("weights", "gradients")
                                       for p in DIGITS_PARAMETERS}
    assert set(tags["images"]) == {"figures/confusion_matrix"}
    # TensorBoard opens the first two groups: the loss and the accuracy, before diagnostics,
    # figures, histograms and Lightning's epoch.
    groups = _groups_as_tensorboard_orders_them(
        tags["scalars"] + tags["histograms"] + tags["images"])
    assert groups[:2] == ["Accuracy", "Loss"]
    assert groups[2:] == ["diagnostics", "epoch", "figures", "gradients", "weights"]


def test_digits_run_logs_epoch_means_step_losses_norms_and_best_validation(digits_logs):
    root, _ = digits_logs
    ea = _events(root / "version_0")
    assert len(_scalars(ea, "Loss/train")) == EPOCHS == len(_scalars(ea, "Accuracy/val"))
    # A step loss every 20 steps (log_every_n_steps).
    assert [s for s, _ in _scalars(ea, "Loss/train_step")] == list(
        range(0, EPOCHS * STEPS_PER_EPOCH, 20))
    # The total gradient norm is the norm of the per-parameter norms, at the same steps.
    per_param = [f"diagnostics/grad_norm/{p}" for p in DIGITS_PARAMETERS]
    total = _scalars(ea, "diagnostics/grad_norm/total")
    assert [s for s, _ in total] == [s for s, _ in _scalars(ea, "Loss/train_step")]
    for step, value in total:
        parts = [dict(_scalars(ea, t))[step] for t in per_param]
        assert value == pytest.approx(math.sqrt(sum(v * v for v in parts)), rel=1e-5)
    # The confusion matrix's diagonal and torchmetrics' accuracy agree on the last epoch.
    assert _scalars(ea, "diagnostics/confusion_matrix_accuracy")[-1][1] == pytest.approx(
        _scalars(ea, "Accuracy/val")[-1][1], abs=1e-6)
    # The best validation accuracy is the running maximum of the logged ones.
    vals = [v for _, v in _scalars(ea, "Accuracy/val")]
    assert [v for _, v in _scalars(ea, "Accuracy/val_best")] == pytest.approx(
        np.maximum.accumulate(vals).tolist())


def test_logged_learning_rate_follows_the_exponential_schedule(digits_logs):
    root, _ = digits_logs
    lrs = _scalars(_events(root / "version_0"), "diagnostics/lr")
    # mlp_digits: lr 0.003, exponential decay eps0 e^{-kt} with k = 0.05 per epoch (F11),
    # logged at the start of each epoch.
    assert [s for s, _ in lrs] == [t * STEPS_PER_EPOCH for t in range(EPOCHS)]
    assert [v for _, v in lrs] == pytest.approx(
        [0.003 * math.exp(-0.05 * t) for t in range(EPOCHS)], rel=1e-6)


def test_logged_test_accuracy_matches_the_saved_weights(digits_logs):
    root, out = digits_logs
    logged = _scalars(_events(root / "version_0"), "Accuracy/test")[-1][1]
    assert f"final test acc: {logged:.4f}" in out
    x, y = _test_split()
    with torch.no_grad():
        pred = _saved_mlp(root / "version_0")(x).argmax(dim=1)
    assert logged == pytest.approx(accuracy_score(y.numpy(), pred.numpy()), abs=1e-6)


def test_hparams_show_the_settings_and_three_real_metrics(digits_logs):
    root, _ = digits_logs
    ea = _events(root / "version_0")
    start, experiment = _hparams(ea)
    names = set(start.hparams)
    assert not [n for n in names if n.startswith("_")]  # no _instantiator, no _class_path
    assert {"model", "data", "layer_sizes", "lr", "batch_size", "scheduler_args/k"} <= names
    assert start.hparams["model"].string_value == "MLPModule"
    assert start.hparams["lr"].number_value == pytest.approx(0.003)
    assert start.hparams["batch_norm"].string_value == "false"  # not 0.0
    assert start.hparams["batch_size"].number_value == 32
    assert [m.name.tag for m in experiment.metric_infos] == [
        "Accuracy/test", "Accuracy/val_best", "Loss/train"]
    for metric in ("Accuracy/test", "Accuracy/val_best", "Loss/train"):
        assert all(v >= 0 for _, v in _scalars(ea, metric))  # no -1 placeholder


def test_custom_scalars_layout_puts_train_and_validation_in_one_chart(digits_logs):
    root, _ = digits_logs
    ea = _events(root / "version_0")
    raw = ea.Tensors("custom_scalars__config__")[-1].tensor_proto.string_val[0]
    layout = layout_pb2.Layout.FromString(raw)
    charts = {c.title: list(c.multiline.tag) for cat in layout.category for c in cat.chart}
    scalars = ea.Tags()["scalars"]

    def shown(chart: str) -> set[str]:
        return {t for t in scalars for rx in charts[chart] if re.search(rx, t)}

    assert shown("loss (train, val)") == {"Loss/train", "Loss/val"}
    assert shown("accuracy (train, val, test)") == {"Accuracy/train", "Accuracy/val",
                                                    "Accuracy/test"}


def test_projector_shows_the_last_hidden_layer_of_the_test_split(digits_logs):
    root, _ = digits_logs
    run = root / "version_0"
    (embedding,) = _projector(run).embeddings
    assert embedding.tensor_name == f"last_hidden_layer:{EPOCHS * STEPS_PER_EPOCH:05d}"
    assert list(embedding.sprite.single_image_dim) == [8, 8]
    logged = np.loadtxt(run / embedding.tensor_path, delimiter="\t", dtype=np.float32)
    x, y = _test_split()
    net = _saved_mlp(run)
    with torch.no_grad():
        hidden = torch.relu(net.net[0](x))  # (360, 128): the notes' a[1] of the test split
    np.testing.assert_allclose(logged, hidden.numpy(), rtol=1e-5, atol=1e-6)
    labels = (run / embedding.metadata_path).read_text().split()
    assert labels == [str(v) for v in y.tolist()]
    from PIL import Image

    with Image.open(run / embedding.sprite.image_path) as sprite:
        assert sprite.size == (19 * 8, 19 * 8)  # ceil(sqrt(360)) digits a side


# ---- the other configs ----------------------------------------------------------------------


@pytest.mark.catalog("C9", "I1")
def test_autoencoder_xor_and_838_runs_log_their_metrics_figures_and_codes(tmp_path):
    short = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3",
             "--trainer.logger.init_args.save_dir", str(tmp_path)]
    run_cli(["fit", "--config", "autoencoder_digits", *short])
    run = tmp_path / "autoencoder_digits" / "version_0"
    ea = _events(run)
    tags = ea.Tags()
    assert {"figures/reconstructions", "images/reconstructions"} <= set(tags["images"])
    assert {"MSE/train", "MSE/val", "MSE/val_best", "MSE/test", "Loss/val"} <= set(
        tags["scalars"])
    assert _groups_as_tensorboard_orders_them(tags["scalars"])[:2] == ["Loss", "MSE"]
    assert {"weights/encoder.layer1.weight", "weights/decoder.layer2.bias"} <= set(
        tags["histograms"])
    assert [m.name.tag for m in _hparams(ea)[1].metric_infos] == [
        "MSE/test", "MSE/val_best", "Loss/train"]
    (embedding,) = _projector(run).embeddings
    assert embedding.tensor_name.startswith("code:")  # the 32 code units, with digit sprites
    assert np.loadtxt(run / embedding.tensor_path, delimiter="\t").shape == (360, 32)
    assert list(embedding.sprite.single_image_dim) == [8, 8]

    run_cli(["fit", "--config", "sparse_autoencoder_digits", *short])
    tags = _events(tmp_path / "sparse_autoencoder_digits" / "version_0").Tags()
    assert "Loss/val_sparsity" in tags["scalars"]

    run_cli(["fit", "--config", "xor", *short])
    tags = _events(tmp_path / "xor" / "version_0").Tags()
    assert "figures/decision_boundary" in tags["images"]

    run_cli(["fit", "--config", "autoencoder_838", *short])
    run = tmp_path / "autoencoder_838" / "version_0"
    ea = _events(run)
    assert "figures/hidden_codes" in ea.Tags()["images"]
    assert "diagnostics/distinct_codes" in ea.Tags()["scalars"]
    # SummaryWriter.add_text stores the text under "<tag>/text_summary".
    text = ea.Tensors("text/hidden_codes/text_summary")[-1].tensor_proto.string_val[0].decode()
    assert "Input" in text and "Hidden values" in text and len(text.splitlines()) == 9
    # Readable at TensorBoard's size: the 8-3-8 strips are not 8x1 px any more.
    for tag in ("figures/reconstructions", "images/reconstructions", "figures/hidden_codes"):
        image = ea.Images(tag)[-1]
        assert min(image.width, image.height) >= 240, (tag, image.width, image.height)
    (embedding,) = _projector(run).embeddings  # the 3-D codes of the 8 one-hot inputs
    assert np.loadtxt(run / embedding.tensor_path, delimiter="\t").shape == (8, 3)
    assert not embedding.sprite.image_path  # 8 features are not an image


def test_no_validation_figure_when_validation_is_off(tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO)
    run_cli(["fit", "--config", "mlp_digits", "--trainer.max_epochs", "1",
             "--trainer.limit_val_batches", "0", "--trainer.logger.init_args.save_dir",
             str(tmp_path)])
    tags = _events(tmp_path / "mlp_digits" / "version_0").Tags()
    assert "figures/confusion_matrix" not in tags["images"]
    assert "Accuracy/test" in tags["scalars"]  # the run itself went on to its test
    said = [r.getMessage() for r in caplog.records
            if r.getMessage().startswith("ConfusionMatrixFigure: not drawn")]
    assert said == ["ConfusionMatrixFigure: not drawn for MLPModule (validation is off "
                    "(limit_val_batches=0))"]


@pytest.mark.catalog("I4")
def test_stacked_pipeline_logs_each_stage_as_its_own_run(tmp_path):
    out, _ = run_cli([
        "fit", "--config", "stacked_autoencoder_digits",
        "--model.init_args.pretrain_epochs", "1", "--model.init_args.head_epochs", "1",
        "--model.init_args.finetune_epochs", "1", "--trainer.limit_train_batches", "3",
        "--trainer.logger.init_args.save_dir", str(tmp_path),
    ])
    run = tmp_path / "stacked_autoencoder_digits" / "version_0"
    assert sorted(p.name for p in run.iterdir()) == [
        "finetune", "head", "pretrain_1", "pretrain_2"
    ]
    for stage in ("pretrain_1", "pretrain_2"):
        ea = _events(run / stage)
        assert {"Loss/train", "Loss/val", "MSE/val"} <= set(ea.Tags()["scalars"])
        assert "figures/reconstructions" in ea.Tags()["images"]
        # One epoch of 3 batches, each stage from step 0: a run of its own.
        assert [s for s, _ in _scalars(ea, "Loss/train")] == [2]
        # Only the autoencoder this stage trains: no frozen encoder, no copy.
        assert set(ea.Tags()["histograms"]) == {
            f"{kind}/{part}.{p}" for kind in ("weights", "gradients")
            for part, layer in (("encoder", 1), ("decoder", 2))
            for p in (f"layer{layer}.weight", f"layer{layer}.bias")}
    layers = {"head": ["head.layer3"],
              "finetune": ["encoder1.layer1", "encoder2.layer2", "head.layer3"]}
    for stage in ("head", "finetune"):
        ea = _events(run / stage)
        assert {"Accuracy/val", "Accuracy/train"} <= set(ea.Tags()["scalars"])
        assert "figures/confusion_matrix" in ea.Tags()["images"]
        # The fine-tuned network's own layers: no stale `weights/autoencoders.*`.
        assert set(ea.Tags()["histograms"]) == {
            f"{kind}/{layer}.{p}" for kind in ("weights", "gradients")
            for layer in layers[stage] for p in ("weight", "bias")}
    # One HPARAMS row per stage, with the same columns and metrics in every stage.
    sessions = {}
    for stage in ("pretrain_1", "pretrain_2", "head", "finetune"):
        start, experiment = _hparams(_events(run / stage))
        sessions[stage] = start.hparams["stage"].string_value
        assert start.hparams["model"].string_value == "StackedAutoencoderModule"
        assert [m.name.tag for m in experiment.metric_infos] == [
            "Accuracy/test", "Accuracy/val_best", "MSE/val_best", "Loss/train"]
    assert sessions == {s: s for s in sessions}
    final = _events(run / "finetune").Tags()
    assert "figures/stages" in final["images"]
    assert "text/stages/text_summary" in final["tensors"]
    (embedding,) = _projector(run / "finetune").embeddings
    assert embedding.tensor_name.startswith("top_code:")
    assert np.loadtxt(run / "finetune" / embedding.tensor_path, delimiter="\t").shape == (
        360, 16)
    assert f"tensorboard --logdir {run}" in out
    for stage in ("pretrain_1", "pretrain_2", "head", "finetune"):
        assert re.search(rf"^  {stage}: .*Loss/val \d", out, re.MULTILINE)


# ---- names and figures, without training ----------------------------------------------------


@pytest.mark.parametrize(("net", "names"), [
    (MLP([4, 8, 8, 2], batch_norm=True, dropout=0.1),
     ["layer1.weight", "layer1.bias", "layer1.batch_norm.weight", "layer1.batch_norm.bias",
      "layer2.weight", "layer2.bias", "layer2.batch_norm.weight", "layer2.batch_norm.bias",
      "layer3.weight", "layer3.bias"]),
    (ae.Autoencoder((8, 3, 8)),
     ["encoder.layer1.weight", "encoder.layer1.bias", "decoder.layer2.weight",
      "decoder.layer2.bias"]),
    (ae.stack_encoders([ae.Autoencoder((6, 4, 6)).encoder, ae.Autoencoder((4, 2, 4)).encoder],
                       3),
     ["encoder1.layer1.weight", "encoder1.layer1.bias", "encoder2.layer2.weight",
      "encoder2.layer2.bias", "head.layer3.weight", "head.layer3.bias"]),
    (Ensemble([MLP([4, 3, 2]), MLP([4, 5, 5, 2])], "multiclass"),
     ["member1.layer1.weight", "member1.layer1.bias", "member1.layer2.weight",
      "member1.layer2.bias", "member2.layer1.weight", "member2.layer1.bias",
      "member2.layer2.weight", "member2.layer2.bias", "member2.layer3.weight",
      "member2.layer3.bias"]),
])
def test_parameters_are_named_as_the_notes_layers(net, names):
    named = notes_parameter_names(net)
    assert list(named) == names
    # The same tensors, in the same order: a renaming, not a copy.
    assert [id(p) for p in named.values()] == [id(p) for p in net.parameters()]
    linear = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert named[names[0]] is linear[0].weight


def _inside(fig, artists) -> None:
    fig.canvas.draw()
    box = fig.bbox
    for artist in artists:
        extent = artist.get_window_extent()
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, artist
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, artist


@pytest.mark.parametrize("k", [2, 10])
def test_confusion_matrix_is_readable_at_tensorboard_size(k):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from lightning_app.figures import confusion_matrix_figure

    cm = torch.eye(k, dtype=torch.long) * 7
    cm[0, k - 1] = 2
    fig = confusion_matrix_figure(cm, "validation confusion matrix, step 1640")
    FigureCanvasAgg(fig)
    width, height = fig.get_size_inches() * fig.dpi
    assert width >= 400 and height >= 350  # not 210x190 px for two classes
    ax = fig.axes[0]
    _inside(fig, [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels()])
    shown = sorted(t.get_text() for t in ax.texts if t.get_visible())
    assert shown == sorted(["2", *["7"] * k])  # the counts; empty cells stay blank


@pytest.mark.parametrize(("shape", "n"), [((1, 8), 8), ((8, 8), 10)])
def test_reconstruction_labels_do_not_overlap(shape, n):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from lightning_app.figures import reconstruction_figure, reconstruction_image

    x = torch.rand(n, shape[0] * shape[1])
    fig = reconstruction_figure(x, x.flip(1), shape, "inputs and reconstructions", True)
    FigureCanvasAgg(fig)
    ax = fig.axes[0]
    labels = ax.get_yticklabels() if shape[0] > 1 else ax.get_xticklabels()
    texts = [t for t in labels if t.get_text() in ("input", "reconstruction")]
    _inside(fig, [ax.title, *texts])
    boxes = [t.get_window_extent() for t in texts]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)
    image = reconstruction_image(x, x, shape)
    assert min(image.shape[1:]) >= 240


# ---- a real TensorBoard ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tensorboard_server(digits_logs):
    """`tensorboard --logdir <the digits run>` on a free loopback port, started once for this
    module and killed after it (lightning_app.tensorboard_server)."""
    with serve(digits_logs[0], timeout=120, projector=True) as base:
        yield base


@pytest.mark.slow
def test_a_real_tensorboard_serves_tags_layout_projector_and_hparams(
    tensorboard_server, digits_logs
):
    base = tensorboard_server
    assert get_json(f"{base}/data/runs") == ["version_0"]
    tags = get_json(f"{base}/data/plugin/scalars/tags")["version_0"]
    assert set(tags) == DIGITS_SCALARS
    enabled = {k for k, v in get_json(f"{base}/data/plugins_listing").items() if v["enabled"]}
    assert {"timeseries", "custom_scalars", "hparams", "projector"} <= enabled

    layout = get_json(f"{base}/data/plugin/custom_scalars/layout")
    (category,) = layout["category"]
    assert [c["multiline"]["tag"] for c in category["chart"]] == [
        ["^Loss/(train|val)$"], ["^Accuracy/(train|val|test)$"]]

    info = get_json(f"{base}/data/plugin/projector/info?run=version_0")
    (embedding,) = info["embeddings"]
    assert embedding["tensorShape"] == [360, 128]
    assert embedding["sprite"]["singleImageDim"] == [8, 8]
    assert embedding["metadataPath"].endswith("metadata.tsv")

    experiment = get_json(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
    columns = {h["name"] for h in experiment["hparamInfos"]}
    assert "layer_sizes" in columns and not [c for c in columns if c.startswith("_")]
    assert [m["name"]["tag"] for m in experiment["metricInfos"]] == [
        "Accuracy/test", "Accuracy/val_best", "Loss/train"]
    groups = get_json(f"{base}/data/plugin/hparams/session_groups", {
        "experimentName": "", "startIndex": 0, "sliceSize": 10,
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                            "STATUS_RUNNING"]})
    (group,) = groups["sessionGroups"]
    shown = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
    ea = _events(digits_logs[0] / "version_0")
    assert shown == pytest.approx({
        "Accuracy/test": _scalars(ea, "Accuracy/test")[-1][1],
        "Accuracy/val_best": max(v for _, v in _scalars(ea, "Accuracy/val")),
        "Loss/train": _scalars(ea, "Loss/train")[-1][1],
    })


# ---- the app's logger: one event per step ----------------------------------------------------


def _scalar_events(run: Path) -> list[tuple[int, dict[str, float]]]:
    """(step, {tag: value}) of every event of the run's files that holds scalars."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event

    out = []
    for path in sorted(run.glob("events.out.tfevents.*")):
        for record in RawEventFileLoader(str(path)).Load():
            event = Event.FromString(record)
            values = {v.tag: v.simple_value for v in event.summary.value
                      if v.WhichOneof("value") == "simple_value"}
            if values:
                out.append((event.step, values))
    return out


def test_app_logger_writes_the_scalars_of_one_step_as_one_event(tmp_path):
    from lightning_app.logger import AppTensorBoardLogger

    logger = AppTensorBoardLogger(tmp_path, name="", version="run")
    logger.log_metrics({"Loss/train_step": torch.tensor(0.5)}, step=20)
    logger.log_metrics({"diagnostics/grad_norm/total": 2.0}, step=20)  # same step: joined
    logger.log_metrics({"Loss/train": 0.25, "Accuracy/train": 0.75, "epoch": 0}, step=40)
    logger.save()
    logger.log_metrics({"Loss/val": 0.125}, step=40)  # after save: an event of its own
    logger.log_metrics({"pair": {"a": 1.0, "b": 2.0}}, step=41)  # a dict: Lightning's way
    logger.finalize("success")
    run = tmp_path / "run"
    events = [(s, v) for s, v in _scalar_events(run) if not any("pair" in k for k in v)]
    assert events == [
        (20, {"Loss/train_step": 0.5, "diagnostics/grad_norm/total": 2.0}),
        (40, {"Loss/train": 0.25, "Accuracy/train": 0.75, "epoch": 0.0}),
        (40, {"Loss/val": 0.125}),
    ]
    # TensorBoard's own reader sees every value under its tag (the dict as sub-runs).
    ea = _events(run)
    assert _scalars(ea, "diagnostics/grad_norm/total") == [(20, 2.0)]
    assert sorted(p.name for p in run.iterdir() if p.is_dir()) == ["pair_a", "pair_b"]


def test_per_batch_hooks_a_callback_leaves_empty_are_not_dispatched(tmp_path):
    import lightning.pytorch as pl
    from lightning.pytorch.profilers import Profiler

    from lightning_app.callbacks import (
        ConfusionMatrixFigure,
        EmbeddingProjector,
        FiniteLossGuard,
        WeightsAndGradients,
    )
    from lightning_app.checkpointing import ExactResume, RunCheckpoint
    from lightning_app.logger import AppTensorBoardLogger
    from lightning_app.models import MLPModule

    class Recorder(Profiler):  # the names of the hook calls Lightning dispatches
        def __init__(self) -> None:
            super().__init__()
            self.called: set[str] = set()

        def start(self, action_name: str) -> None:
            self.called.add(action_name)

        def stop(self, action_name: str) -> None:
            pass

        def summary(self) -> str:
            return ""

    recorder = Recorder()
    trainer = pl.Trainer(
        max_epochs=1, limit_train_batches=3, limit_val_batches=1, num_sanity_val_steps=0,
        log_every_n_steps=1, enable_progress_bar=False, enable_model_summary=False,
        profiler=recorder, logger=AppTensorBoardLogger(tmp_path, name="", version="run"),
        callbacks=[FiniteLossGuard(), WeightsAndGradients(), ConfusionMatrixFigure(1),
                   EmbeddingProjector(), ExactResume(),
                   RunCheckpoint(dirpath=tmp_path / "checkpoints")],
    )
    trainer.fit(MLPModule(hidden_sizes=[8]), datamodule=DigitsDataModule(seed=0))
    per_batch = ("batch_start", "batch_end", "backward", "optimizer_step", "zero_grad")
    called = {re.sub(r"\{.*\}", "", n) for n in recorder.called  # ModelCheckpoint{...}.hook
              if n.startswith("[Callback]") and n.endswith(per_batch)}
    assert called == {
        "[Callback]FiniteLossGuard.on_before_backward",
        "[Callback]WeightsAndGradients.on_before_optimizer_step",
        "[Callback]ExactResume.on_train_batch_start",
        "[Callback]ModelCheckpoint.on_train_batch_end",
    }
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    # ... and the callbacks still did their work.
    tags = _events(tmp_path / "run").Tags()
    assert "diagnostics/grad_norm/total" in tags["scalars"]
    assert "figures/confusion_matrix" in tags["images"]
