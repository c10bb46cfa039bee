"""Predict and export: scikit-learn's bundled wine set as a user's .csv and .npz, trained with
the default config; `predict` writes predictions.csv, `load_model` hands the trained torchref
MLP to NumPy (scratch.mlp), and `--test_weights best` tests the best checkpoint."""

from __future__ import annotations

import csv
import re
import shutil

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine

from lightning_app import load_model
from lightning_app.board import loss_tag
from lightning_app.checks import InputError
from lightning_app.data import CsvDataModule
from parity_tests.app_support import run_cli, run_cli_failing
from parity_tests.helpers import F32, assert_close
from scratch.mlp import mlp_predict
from scratch.preprocessing import Standardizer, standardize_transform
from torchref.mlp import MLP, to_numpy_params

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EPOCHS = 20


def _write_wine(folder):
    wine = load_wine()
    names = [n.replace("/", "_") for n in wine.feature_names]
    rows = np.column_stack([wine.data, wine.target])
    path = folder / "wine.csv"
    np.savetxt(path, rows, delimiter=",", header=",".join([*names, "class"]), comments="",
               fmt=["%.17g"] * len(names) + ["%d"])
    return path, wine


def _accuracy(out: str) -> float:
    return float(re.search(r"final test acc: (\d\.\d{4})", out).group(1))


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory):
    """The default config on wine.csv with `hidden_sizes [32]`: standardized by default."""
    folder = tmp_path_factory.mktemp("wine")
    data, wine = _write_wine(folder)
    logs = folder / "logs"
    out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--data", "lightning_app.data.CsvDataModule",
        "--data.path", str(data), "--data.label_column", "class",
        "--model.init_args.hidden_sizes", "[32]", "--trainer.max_epochs", str(EPOCHS),
        "--trainer.logger.init_args.save_dir", str(logs)])
    ckpt = logs / "wine" / "version_0" / "checkpoints" / "last.ckpt"
    return {"out": out, "data": data, "wine": wine, "logs": logs, "ckpt": ckpt,
            "folder": folder}


def _wine_test_split(run, dtype=torch.float32):
    dm = CsvDataModule(str(run["data"]), label_column="class")
    dm.prepare(dtype)
    x, y = dm.split("test")
    return x, y


@pytest.mark.slow
def test_wine_standardized_by_default_beats_raw_wine(wine_run, tmp_path):
    standardized = _accuracy(wine_run["out"])
    raw_out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--data", "lightning_app.data.CsvDataModule",
        "--data.path", str(wine_run["data"]), "--data.label_column", "class",
        "--data.standardize", "false", "--model.init_args.hidden_sizes", "[32]",
        "--trainer.max_epochs", str(EPOCHS), "--test_after_fit", "true",
        "--trainer.logger.init_args.save_dir", str(tmp_path)])
    raw = _accuracy(raw_out)
    # Measured (docs/app.md): 1.0000 standardized, 0.7500 raw (features from ~0.1 to ~1700).
    assert standardized >= 0.95
    assert raw <= standardized - 0.1


def test_the_wine_run_is_named_after_its_file_and_its_widths_come_from_the_data(wine_run):
    assert f"logging to {wine_run['logs'] / 'wine' / 'version_0'}" in wine_run["out"]
    checkpoint = torch.load(wine_run["ckpt"], weights_only=True)
    assert checkpoint["hyper_parameters"]["layer_sizes"] == [13, 32, 3]
    x_train = CsvDataModule(str(wine_run["data"]), label_column="class")
    x_train.prepare(torch.float64)
    train = x_train.split("train")[0].numpy()
    state = checkpoint["state_dict"]
    assert_close(state["input_scaler.mean"], train.mean(axis=0), **F32)
    assert_close(state["input_scaler.scale"], train.std(axis=0), **F32)


def test_test_uses_the_checkpoints_data_and_reproduces_the_fits_accuracy(wine_run):
    # The config (mlp_digits) says digits; the checkpoint was trained on wine.csv.
    out, _ = run_cli(["test", "--ckpt_path", str(wine_run["ckpt"]), "--trainer.logger",
                      "false", "--trainer.default_root_dir", str(wine_run["folder"])])
    assert "data: CsvDataModule as" in out
    assert _accuracy(out) == _accuracy(wine_run["out"])


def _read_predictions(path):
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def test_predict_writes_classes_and_probabilities_of_a_new_csv_and_npz_into_the_run_folder(
    wine_run, tmp_path
):
    wine = wine_run["wine"]
    model = load_model(wine_run["ckpt"])
    with torch.no_grad():
        expected = torch.softmax(model(torch.as_tensor(wine.data, dtype=torch.float32)), 1)
    new_csv = tmp_path / "new.csv"  # as the training file: its label column is left out
    shutil.copy(wine_run["data"], new_csv)
    new_npz = tmp_path / "new.npz"
    np.savez(new_npz, x=wine.data)
    run_folder = wine_run["ckpt"].parent.parent
    # The training file is not read by predict: move it away meanwhile.
    hidden = wine_run["data"].with_suffix(".away")
    shutil.move(wine_run["data"], hidden)
    try:
        for new in (new_csv, new_npz):
            out, _ = run_cli(["predict", "--ckpt_path", str(wine_run["ckpt"]),
                              "--data.predict_path", str(new)])
            path = run_folder / "predictions.csv"
            assert (f"predicted 178 rows (predicted class and class probabilities): {path}"
                    in out)
            header, table = _read_predictions(path)
            assert header == ["row", "predicted_class", "p_0", "p_1", "p_2"]
            assert np.array_equal(table[:, 0], np.arange(178))
            assert_close(table[:, 2:], expected, **F32)
            assert np.array_equal(table[:, 1], expected.argmax(1).numpy())
            path.unlink()
    finally:
        shutil.move(hidden, wine_run["data"])


def test_predict_rows_of_another_width_are_one_line_before_predicting(wine_run, tmp_path):
    new = tmp_path / "narrow.npz"
    np.savez(new, x=wine_run["wine"].data[:, :12])
    status, out, err = run_cli_failing(["predict", "--ckpt_path", str(wine_run["ckpt"]),
                                        "--data.predict_path", str(new)])
    assert status == 2
    assert err.splitlines() == [f"error: --data.init_args.predict_path: the model expects 13 "
                                f"input features but {new} has 12"]
    assert "predicted" not in out


@pytest.mark.catalog("B1", "B4", "B11", "G1")
def test_load_model_and_scratch_mlp_agree_on_the_wine_test_split(wine_run):
    model = load_model(wine_run["ckpt"])
    assert not model.training and isinstance(model.net, MLP)
    x, y = _wine_test_split(wine_run)
    with torch.no_grad():
        torch_probs = model.net.predict(model.standardize(x))
    scaler = Standardizer(model.standardize.mean.numpy(), model.standardize.scale.numpy())
    params = to_numpy_params(model)
    numpy_probs = mlp_predict(params, standardize_transform(scaler, x.numpy()),
                              activations="relu", head="multiclass")
    assert numpy_probs.dtype == np.float32
    assert_close(numpy_probs, torch_probs, **F32)
    # NumPy's predictions score the accuracy the fit printed.
    accuracy = float(np.mean(numpy_probs.argmax(1) == y.numpy()))
    assert f"{accuracy:.4f}" == f"{_accuracy(wine_run['out']):.4f}"


def test_load_model_refuses_a_missing_or_damaged_file_in_one_sentence(tmp_path):
    with pytest.raises(InputError, match="no checkpoint file"):
        load_model(tmp_path / "none.ckpt")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="is damaged"):
        load_model(bad)


def _scalars(run_dir, tag_names):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    tag = next(t for t in tag_names if t in acc.Tags()["scalars"])
    return {e.step: e.value for e in acc.Scalars(tag)}


@pytest.mark.slow
def test_test_weights_best_tests_the_checkpoint_with_the_lowest_validation_loss(tmp_path):
    out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--trainer.max_epochs", "6",
        "--checkpoint.every_n_epochs", "1", "--test_weights", "best",
        "--model.init_args.lr", "0.03", "--trainer.logger.init_args.save_dir", str(tmp_path)])
    best = re.search(r"tested the best weights: (\S+), Loss/val (\d\.\d{4})", out)
    assert best, out
    best_path, best_loss = best.group(1), float(best.group(2))
    val = _scalars(tmp_path / "mlp_digits" / "version_0", (loss_tag("val"),))
    assert len(val) == 6
    epoch = torch.load(best_path, weights_only=True)["epoch"]
    assert epoch == sorted(val).index(min(val, key=val.get))  # the lowest Loss/val's epoch
    assert f"{min(val.values()):.4f}" == f"{best_loss:.4f}"
    again, _ = run_cli(["test", "--ckpt_path", best_path, "--trainer.logger", "false",
                        "--trainer.default_root_dir", str(tmp_path)])
    assert _accuracy(again) == _accuracy(out)
    # last.ckpt still holds the final weights (rule 1 of docs/app.md).
    last = tmp_path / "mlp_digits" / "version_0" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 6 * 41  # 41 batches of 32


def _fit_and_predict(tmp_path, rng, model_args, data, head_args=()):
    train = tmp_path / "train.npz"
    np.savez(train, **data)
    logs = tmp_path / "logs"
    run_cli(["fit", "--config", "mlp_digits", *model_args, "--data",
             "lightning_app.data.NpzDataModule", "--data.path", str(train),
             "--trainer.max_epochs", "2", "--test_after_fit", "false",
             "--trainer.logger.init_args.save_dir", str(logs), *head_args])
    ckpt = logs / "train" / "version_0" / "checkpoints" / "last.ckpt"
    new = tmp_path / "new.npz"
    x_new = rng.normal(size=(9, data["x"].shape[1])) * 5 + 3
    np.savez(new, x=x_new)
    out, _ = run_cli(["predict", "--ckpt_path", str(ckpt), "--data.predict_path", str(new)])
    header, table = _read_predictions(ckpt.parent.parent / "predictions.csv")
    return out, header, table, load_model(ckpt), torch.as_tensor(x_new, dtype=torch.float32)


def test_predict_writes_the_regression_output(tmp_path, rng):
    x = rng.normal(size=(120, 3)) * 5 + 3
    y = x @ np.array([[1.0, 0.0], [2.0, 1.0], [0.0, -1.0]])
    out, header, table, model, x_new = _fit_and_predict(
        tmp_path, rng, ["--model.init_args.head", "regression"], {"x": x, "y": y})
    assert "predicted 9 rows (regression output)" in out
    assert header == ["row", "output_0", "output_1"]
    with torch.no_grad():
        assert_close(table[:, 1:], model(x_new), **F32)


@pytest.mark.catalog("I1")
def test_predict_writes_codes_and_reconstructions_in_the_datas_units(tmp_path, rng):
    x = rng.normal(size=(120, 4)) * np.array([1.0, 10.0, 100.0, 0.1]) + 20
    out, header, table, model, x_new = _fit_and_predict(
        tmp_path, rng,
        ["--model", "lightning_app.models.AutoencoderModule", "--model.init_args.sizes",
         "[4, 2, 4]", "--model.init_args.loss", "mse",
         "--model.init_args.output_activation", "identity"],
        {"x": x, "y": np.zeros(120, dtype=int)})
    assert "predicted 9 rows (codes and reconstructions)" in out
    assert header == ["row", "code_0", "code_1", *(f"reconstruction_{j}" for j in range(4))]
    mean, scale = model.standardize.mean, model.standardize.scale
    assert mean.shape == (4,) and bool((scale != 1).all())  # a standardized run
    with torch.no_grad():
        codes = model.net.encode((x_new - mean) / scale)
        reconstruction = model(x_new) * scale + mean
    assert_close(table[:, 1:3], codes, **F32)
    assert_close(table[:, 3:], reconstruction, **F32)
