"""What the app writes to TensorBoard, read back with TensorBoard's own reader
(EventAccumulator) and served by a real `tensorboard` process over HTTP.

Logged values are checked against independent recomputations: the test accuracy from the saved
weights with scikit-learn, the learning rate from the schedule's closed form, the validation
accuracy from the confusion matrix."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
import urllib.request

import pytest
import torch
from sklearn.metrics import accuracy_score
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from lightning_app.data import DigitsDataModule
from parity_tests.app_support import run_cli
from torchref.mlp import MLP

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _events(log_dir) -> EventAccumulator:
    ea = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0,
                                                       "histograms": 0, "tensors": 0})
    ea.Reload()
    return ea


def _scalars(ea: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in ea.Scalars(tag)]


@pytest.fixture(scope="module")
def digits_logs(tmp_path_factory):
    save_dir = tmp_path_factory.mktemp("tb")
    out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--trainer.max_epochs", "2",
        "--trainer.logger.init_args.save_dir", str(save_dir),
    ])
    return save_dir / "mlp_digits", out


def test_digits_run_logs_scalars_histograms_figures_and_hparams(digits_logs):
    root, _ = digits_logs
    ea = _events(root / "version_0")
    tags = ea.Tags()
    assert {
        "train_loss", "train_loss_step", "train_acc", "val_loss", "val_acc", "test_loss",
        "test_acc", "hp_metric", "lr-Adam", "grad_2.0_norm_total",
        "grad_2.0_norm/net.net.0.weight", "val_confusion/accuracy_from_matrix",
    } <= set(tags["scalars"])
    for kind in ("weights", "gradients"):
        assert {f"{kind}/net.net.0.weight", f"{kind}/net.net.2.bias"} <= set(tags["histograms"])
    assert "figures/confusion_matrix" in tags["images"]
    assert len(_scalars(ea, "train_loss")) == 2 and len(_scalars(ea, "val_acc")) == 2
    # 41 steps per epoch, a step loss every 20 steps: steps 0, 20, 40, 60, 80.
    assert [s for s, _ in _scalars(ea, "train_loss_step")] == [0, 20, 40, 60, 80]
    # The total gradient norm is the norm of the per-parameter norms, at every logged step.
    per_param = [t for t in tags["scalars"] if t.startswith("grad_2.0_norm/")]
    assert len(per_param) == 4  # W1, b1, W2, b2
    for i, (step, total) in enumerate(_scalars(ea, "grad_2.0_norm_total")):
        parts = [dict(_scalars(ea, t))[step] for t in per_param]
        assert total == pytest.approx(math.sqrt(sum(v * v for v in parts)), rel=1e-5), i
    # The confusion matrix's diagonal and torchmetrics' accuracy agree on the last epoch.
    assert _scalars(ea, "val_confusion/accuracy_from_matrix")[-1][1] == pytest.approx(
        _scalars(ea, "val_acc")[-1][1], abs=1e-6
    )


def test_logged_learning_rate_follows_the_exponential_schedule(digits_logs):
    root, _ = digits_logs
    lrs = [v for _, v in _scalars(_events(root / "version_0"), "lr-Adam")]
    # mlp_digits: lr 0.003, exponential decay eps0 e^{-kt} with k = 0.05 per epoch (F11).
    assert lrs == pytest.approx([0.003 * math.exp(-0.05 * t) for t in range(2)], rel=1e-6)


def test_logged_test_accuracy_and_hp_metric_match_the_saved_weights(digits_logs):
    root, out = digits_logs
    ea = _events(root / "version_0")
    logged = _scalars(ea, "test_acc")[-1][1]
    assert _scalars(ea, "hp_metric")[-1][1] == pytest.approx(logged)
    assert f"final test acc: {logged:.4f}" in out
    # Recompute from the checkpoint with a fresh torchref MLP and scikit-learn's metric.
    state = torch.load(root / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    net = MLP([64, 128, 10])
    net.load_state_dict({k.removeprefix("net."): v for k, v in state["state_dict"].items()
                         if k.startswith("net.")})
    dm = DigitsDataModule(seed=0)
    dm.setup("test")
    x, y = dm.split("test")
    with torch.no_grad():
        pred = net(x).argmax(dim=1)
    assert logged == pytest.approx(accuracy_score(y.numpy(), pred.numpy()), abs=1e-6)
    # The hyper-parameters are in the HPARAMS plugin, with hp_metric as their metric.
    content = ea.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]
    ).session_start_info
    assert start.hparams["lr"].number_value == pytest.approx(0.003)
    assert start.hparams["optimizer"].string_value == "adam"
    assert start.hparams["batch_size"].number_value == 32
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"])
    assert [m.name.tag for m in experiment.experiment.metric_infos] == ["hp_metric"]


@pytest.mark.catalog("C9", "I1")
def test_autoencoder_xor_and_838_runs_log_their_figures(tmp_path):
    short = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3",
             "--trainer.logger.init_args.save_dir", str(tmp_path)]
    run_cli(["fit", "--config", "autoencoder_digits", *short])
    tags = _events(tmp_path / "autoencoder_digits" / "version_0").Tags()
    assert {"figures/reconstructions", "images/reconstructions"} <= set(tags["images"])
    assert {"val_mse", "test_mse", "val_loss"} <= set(tags["scalars"])

    run_cli(["fit", "--config", "sparse_autoencoder_digits", *short])
    tags = _events(tmp_path / "sparse_autoencoder_digits" / "version_0").Tags()
    assert "val_sparsity" in tags["scalars"]

    run_cli(["fit", "--config", "xor", *short])
    tags = _events(tmp_path / "xor" / "version_0").Tags()
    assert "figures/decision_boundary" in tags["images"]

    run_cli(["fit", "--config", "autoencoder_838", *short])
    ea = _events(tmp_path / "autoencoder_838" / "version_0")
    assert "figures/hidden_codes" in ea.Tags()["images"]
    assert "codes/distinct_rounded" in ea.Tags()["scalars"]
    # SummaryWriter.add_text stores the text under "<tag>/text_summary".
    text = ea.Tensors("text/hidden_codes/text_summary")[-1].tensor_proto.string_val[0].decode()
    assert "Input" in text and "Hidden values" in text and len(text.splitlines()) == 9


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
        assert {"train_loss", "val_loss", "val_mse"} <= set(ea.Tags()["scalars"])
        assert "figures/reconstructions" in ea.Tags()["images"]
        # One epoch of 3 batches, each stage from step 0: a run of its own.
        assert [s for s, _ in _scalars(ea, "train_loss")] == [2]
    for stage in ("head", "finetune"):
        ea = _events(run / stage)
        assert {"val_acc", "train_acc"} <= set(ea.Tags()["scalars"])
        assert "figures/confusion_matrix" in ea.Tags()["images"]
    final = _events(run / "finetune").Tags()
    assert "figures/stages" in final["images"]
    assert "text/stages/text_summary" in final["tensors"]
    assert f"tensorboard --logdir {run}" in out
    for stage in ("pretrain_1", "pretrain_2", "head", "finetune"):
        assert re.search(rf"^  {stage}: .*val_loss \d", out, re.MULTILINE)


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (localhost)
        return json.loads(response.read().decode())


@pytest.mark.slow
def test_a_real_tensorboard_serves_the_run_and_its_scalar_tags(digits_logs):
    root, _ = digits_logs
    # Port 0: the OS picks a free port (safe under pytest-xdist); TensorBoard prints it.
    proc = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(root), "--host",
         "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 90
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            port = int(m.group(1)) if m else None
        assert port is not None, "tensorboard did not report its address"
        base = f"http://127.0.0.1:{port}"
        runs = []
        while time.monotonic() < deadline:  # the first scan of the log dir is asynchronous
            runs = _get_json(f"{base}/data/runs")
            if runs:
                break
            time.sleep(0.5)
        assert runs == ["version_0"]
        tags = _get_json(f"{base}/data/plugin/scalars/tags")
        assert {"train_loss", "val_acc", "test_acc", "hp_metric"} <= set(tags["version_0"])
    finally:
        proc.kill()
        proc.wait(timeout=30)
