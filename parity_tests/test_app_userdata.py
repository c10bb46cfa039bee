"""The user's own data: standardization from the training split (stored in the model and its
checkpoint), input and output widths from the data, one-line refusals of widths that do not
fit, and runs named after the data file."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from lightning_app.cli import CONFIG_DIR
from lightning_app.data import (
    CsvDataModule,
    DigitsDataModule,
    NpzDataModule,
    OneHotDataModule,
    XORDataModule,
)
from lightning_app.models import AutoencoderModule, MLPModule
from parity_tests.app_support import run_cli, run_cli_failing
from parity_tests.helpers import F32, assert_close

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _shifted_npz(tmp_path, rng, n=120, d=4, classes=3, name="shifted"):
    """Features on very different scales and offsets; the last rows far from the first, so
    statistics over all rows differ from those of any one split."""
    x = rng.normal(size=(n, d)) * np.array([1.0, 10.0, 100.0, 1000.0])[:d] + 50.0
    x[n // 2:] += 30.0
    y = rng.integers(0, classes, n)
    path = tmp_path / f"{name}.npz"
    np.savez(path, x=x, y=y)
    return path, x, y


def test_standardization_is_on_for_user_files_and_off_for_the_built_in_sets(tmp_path, rng):
    path, _, _ = _shifted_npz(tmp_path, rng)
    csv = tmp_path / "t.csv"
    csv.write_text("a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,0\n")
    assert NpzDataModule(str(path)).standardizes
    assert CsvDataModule(str(csv)).standardizes
    for builtin in (DigitsDataModule(), XORDataModule(), OneHotDataModule()):
        assert not builtin.standardizes
    assert not NpzDataModule(str(path), standardize=False).standardizes
    assert DigitsDataModule(standardize=True).standardizes


def test_statistics_are_the_training_splits_alone(tmp_path, rng):
    path, x, _ = _shifted_npz(tmp_path, rng)
    dm = NpzDataModule(str(path), seed=3)
    mean, scale = dm.input_statistics()
    dm.prepare(torch.float64)  # the split as float64 tensors: the rows the statistics saw
    train = dm.split("train")[0].numpy()
    assert train.shape[0] < x.shape[0]  # validation and test rows are held out
    assert_close(mean, train.mean(axis=0), rtol=1e-12, atol=0)
    assert_close(scale, train.std(axis=0), rtol=1e-12, atol=0)  # 1/N, as StandardScaler
    assert np.abs(mean - x.mean(axis=0)).max() > 0.1  # not the statistics of every row


def test_a_constant_feature_gets_scale_one_not_a_division_by_zero(tmp_path, rng):
    x = np.column_stack([rng.normal(size=50), np.full(50, 7.0)])
    np.savez(tmp_path / "c.npz", x=x, y=rng.integers(0, 2, 50))
    mean, scale = NpzDataModule(str(tmp_path / "c.npz")).input_statistics()
    assert mean[1] == 7.0 and scale[1] == 1.0


def test_the_model_standardizes_every_input_it_is_given(tmp_path, rng):
    path, _, _ = _shifted_npz(tmp_path, rng)
    dm = NpzDataModule(str(path))
    model = MLPModule(hidden_sizes=[8])
    model.fit_to_data(dm)
    mean, scale = dm.input_statistics()
    x = torch.as_tensor(rng.normal(size=(5, 4)) * 100, dtype=torch.float32)
    by_hand = (x.double() - torch.from_numpy(mean)) / torch.from_numpy(scale)
    expected = model.net(by_hand.float())
    with torch.no_grad():
        assert_close(model(x), expected.detach(), **F32)
        out = model.predict_step((x,), 0)
        assert_close(out["probabilities"], torch.softmax(expected, 1).detach(), **F32)
        assert torch.equal(out["class"], expected.argmax(1))


def test_without_standardization_inputs_reach_the_net_unchanged(tmp_path, rng):
    path, _, _ = _shifted_npz(tmp_path, rng)
    model = MLPModule(hidden_sizes=[8])
    model.fit_to_data(NpzDataModule(str(path), standardize=False))
    x = torch.randn(5, 4)
    with torch.no_grad():
        assert torch.equal(model(x), model.net(x))
    assert model.input_scaler.mean.numel() == 0


def _fit_one_epoch(model, dm, tmp_path):
    trainer = pl.Trainer(accelerator="cpu", max_epochs=1, logger=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path, num_sanity_val_steps=0)
    trainer.fit(model, datamodule=dm)
    ckpt = tmp_path / "one.ckpt"
    trainer.save_checkpoint(ckpt)
    return ckpt


def test_a_checkpoint_carries_the_statistics_and_the_restored_model_applies_them(
    tmp_path, rng
):
    path, _, _ = _shifted_npz(tmp_path, rng)
    dm = NpzDataModule(str(path), batch_size=32)
    model = MLPModule(hidden_sizes=[8])
    ckpt = _fit_one_epoch(model, dm, tmp_path)
    mean, scale = dm.input_statistics()
    state = torch.load(ckpt, weights_only=True)["state_dict"]
    assert_close(state["input_scaler.mean"], mean, **F32)
    assert_close(state["input_scaler.scale"], scale, **F32)
    restored = MLPModule.load_from_checkpoint(ckpt, weights_only=True).eval()
    model.eval()
    x = torch.as_tensor(rng.normal(size=(6, 4)) * 100 + 50, dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(restored(x), model(x))
    assert restored.hparams["layer_sizes"] == [4, 8, 3]  # rebuilt without the data


def test_a_checkpoint_from_before_standardization_still_loads(tmp_path, rng):
    path, _, _ = _shifted_npz(tmp_path, rng)
    model = MLPModule(layer_sizes=[4, 8, 3])
    ckpt = _fit_one_epoch(model, NpzDataModule(str(path), standardize=False), tmp_path)
    checkpoint = torch.load(ckpt, weights_only=True)
    for key in ("input_scaler.mean", "input_scaler.scale"):
        del checkpoint["state_dict"][key]
    torch.save(checkpoint, ckpt)
    restored = MLPModule.load_from_checkpoint(ckpt, weights_only=True)
    x = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.equal(restored(x), restored.net(x))


@pytest.mark.parametrize(
    ("head", "y_of", "n_out"),
    [("multiclass", lambda r, n: r.integers(0, 5, n), 5),
     ("binary", lambda r, n: r.integers(0, 2, n), 1),
     ("regression", lambda r, n: r.normal(size=(n, 2)), 2)],
)
def test_hidden_sizes_take_the_input_and_output_widths_from_the_data(
    head, y_of, n_out, tmp_path, rng
):
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(80, 7)), y=y_of(rng, 80))
    model = MLPModule(hidden_sizes=[32, 16], head=head)
    assert model.net is None  # nothing to build before the data are known
    model.fit_to_data(NpzDataModule(str(tmp_path / "d.npz")))
    assert model.net.layer_sizes == (7, 32, 16, n_out)
    assert model.hparams["layer_sizes"] == [7, 32, 16, n_out]


def test_hidden_sizes_start_from_the_same_weights_as_the_same_layer_sizes():
    torch.manual_seed(5)
    explicit = MLPModule(layer_sizes=[64, 24, 10], init="he")
    torch.manual_seed(5)
    derived = MLPModule(hidden_sizes=[24], init="he")
    derived.fit_to_data(DigitsDataModule())
    for a, b in zip(explicit.parameters(), derived.parameters(), strict=True):
        assert torch.equal(a, b)


def test_layer_sizes_and_hidden_sizes_that_disagree_are_refused():
    with pytest.raises(ValueError, match=r"layer_sizes \[64, 8, 10\] and hidden_sizes \[16\] "
                                         "disagree"):
        MLPModule(layer_sizes=[64, 8, 10], hidden_sizes=[16])
    both = MLPModule(layer_sizes=[64, 16, 10], hidden_sizes=[16])  # a checkpoint's pair
    assert both.net.layer_sizes == (64, 16, 10)


@pytest.mark.parametrize(
    ("sizes", "line"),
    [("[4, 16, 3]", "the model expects 4 input features but the data ({src}) has 6; set the "
                    "first size to 6"),
     ("[6, 16, 5]", "the data ({src}) has 3 classes (labels 0..2) but the multiclass head has "
                    "5 outputs; set the last size to 3"),
     ("[6, 16, 2]", "the data ({src}) has labels 0..2 but the multiclass head has room for 2 "
                    "classes; set the last size to 3")],
)
def test_explicit_layer_sizes_that_do_not_fit_the_data_get_one_line_with_both_numbers(
    sizes, line, tmp_path, rng
):
    data = tmp_path / "data.npz"
    np.savez(data, x=rng.normal(size=(60, 6)), y=np.arange(60) % 3)
    logs = tmp_path / "logs"
    status, out, err = run_cli_failing([
        "fit", "--config", "mlp_digits", "--data", "lightning_app.data.NpzDataModule",
        "--data.path", str(data), "--model.init_args.layer_sizes", sizes,
        "--trainer.logger.init_args.save_dir", str(logs)])
    assert status == 2
    assert err.splitlines() == ["error: --model.init_args.layer_sizes: "
                                + line.format(src=data)]
    assert not logs.exists() and "epoch" not in out


def test_hidden_sizes_typed_on_the_command_line_replace_a_configs_layer_sizes(
    tmp_path, monkeypatch
):
    # xor's config says layer_sizes [2, 2, 1]; typed hidden_sizes [5] win instead of being
    # refused as disagreeing with them (and the other way round on mlp_digits: see
    # test_app_cli's user .npz run with a typed layer_sizes).
    monkeypatch.chdir(tmp_path)
    out, _ = run_cli(["fit", "--config", "xor", "--model.init_args.hidden_sizes", "[5]",
                      "--trainer.fast_dev_run", "true"])
    assert "final test acc" in out


def test_standardize_true_on_a_bce_autoencoder_is_one_line_and_the_default_leaves_it_off(
    tmp_path, rng
):
    data = tmp_path / "unit.npz"
    np.savez(data, x=rng.uniform(size=(40, 8)), y=np.zeros(40, dtype=int))
    status, _, err = run_cli_failing([
        "fit", "--config", "autoencoder_digits", "--data", "lightning_app.data.NpzDataModule",
        "--data.path", str(data), "--data.standardize", "true",
        "--model.init_args.sizes", "[8, 3, 8]",
        "--trainer.logger.init_args.save_dir", str(tmp_path / "logs")])
    assert status == 2
    assert err.splitlines() == [
        "error: --data.init_args.standardize: AutoencoderModule with loss 'bce' needs inputs "
        "in [0, 1], and standardized inputs are not; set it to false"]
    model = AutoencoderModule(sizes=(8, 3, 8))
    model.fit_to_data(NpzDataModule(str(data)))  # the user-file default: not for bce
    assert model.input_scaler.mean.numel() == 0
    mse = AutoencoderModule(sizes=(8, 3, 8), loss="mse", output_activation="identity")
    mse.fit_to_data(NpzDataModule(str(data)))
    assert mse.input_scaler.mean.shape == (8,)


@pytest.mark.parametrize(
    ("extra", "folder"),
    [([], "blobs"), (["--trainer.logger.init_args.name", "mine"], "mine"), (None, "myrun")],
)
def test_a_run_on_a_data_file_is_named_after_it_unless_the_user_names_it(
    extra, folder, tmp_path, rng
):
    data = tmp_path / "blobs.npz"
    np.savez(data, x=rng.normal(size=(30, 2)), y=np.arange(30) % 2)
    logs = tmp_path / "logs"
    config = "mlp_digits"
    if extra is None:  # the user's own config names its runs
        own = tmp_path / "own.yaml"
        own.write_text((CONFIG_DIR / "mlp_digits.yaml").read_text().replace(
            "name: mlp_digits", "name: myrun"))
        config, extra = str(own), []
    # `test` looks for the newest checkpoint of the run's name: the error says where.
    status, _, err = run_cli_failing([
        "test", "--config", config, "--data", "lightning_app.data.NpzDataModule",
        "--data.path", str(data), "--trainer.logger.init_args.save_dir", str(logs), *extra])
    assert status == 2
    assert f"no checkpoint to use as 'last' in {logs / folder};" in err


def test_a_run_on_built_in_data_keeps_the_configs_name(tmp_path):
    status, _, err = run_cli_failing([
        "test", "--config", "xor", "--trainer.logger.init_args.save_dir", str(tmp_path)])
    assert status == 2
    assert f"no checkpoint to use as 'last' in {tmp_path / 'xor'};" in err
