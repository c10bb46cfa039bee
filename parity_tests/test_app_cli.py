"""The app's command line (LightningCLI): the main job on the digits, every shipped config,
the subcommands, and the errors that must come before any training step.

CLI runs happen in this process through `lightning_app.cli.main(args)` (as Lightning's own CLI
tests patch argv), with logs under tmp_path and fast_dev_run where only wiring is checked."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from lightning_app.cli import CONFIG_DIR, main
from parity_tests.app_support import restored_process_state, run_cli, run_cli_failing
from torchref.autoencoders import Autoencoder, codes_are_distinct, reconstructs_all

CONFIGS = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """The README's main command, shortened to 3 epochs, logging under a temp dir."""
    save_dir = tmp_path_factory.mktemp("logs")
    out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--trainer.max_epochs", "3",
        "--trainer.logger.init_args.save_dir", str(save_dir),
    ])
    return out, save_dir


@pytest.mark.catalog("B4")
def test_fit_prints_test_accuracy_log_dir_and_the_tensorboard_command(digits_run):
    out, save_dir = digits_run
    acc = float(re.search(r"final test acc: (\d\.\d+)", out).group(1))
    assert 0.85 < acc <= 1.0  # 3 of the 40 epochs already get most digits right
    log_dir = save_dir / "mlp_digits" / "version_0"
    assert f"TensorBoard logs: {log_dir}" in out
    assert re.search(rf"tensorboard --logdir {re.escape(str(save_dir / 'mlp_digits'))}\n", out)
    assert list(log_dir.glob("events.out.tfevents.*"))
    assert (log_dir / "checkpoints" / "last.ckpt").is_file()
    assert f"last checkpoint: {log_dir / 'checkpoints' / 'last.ckpt'}" in out


def test_test_validate_predict_reuse_the_fitted_checkpoint(digits_run):
    out, save_dir = digits_run
    fitted = float(re.search(r"final test acc: (\d\.\d+)", out).group(1))
    ckpt = str(save_dir / "mlp_digits" / "version_0" / "checkpoints" / "last.ckpt")
    # default_root_dir: without a logger, LightningCLI saves its config.yaml there (else cwd).
    common = ["--trainer.logger", "false", "--trainer.default_root_dir", str(save_dir),
              "--ckpt_path", ckpt]
    test_out, _ = run_cli(["test", "--config", "mlp_digits", *common])
    # The same weights on the same test split: the same accuracy, to the printed digits.
    assert f"final test acc: {fitted:.4f}" in test_out
    val_out, _ = run_cli(["validate", "--config", "mlp_digits", *common])
    assert re.search(r"final val acc: \d\.\d{4}", val_out)
    pred_out, _ = run_cli(["predict", "--config", "mlp_digits", *common])
    assert "predicted 360 rows" in pred_out


def test_print_config_without_config_shows_the_default_with_the_always_on_parts(capsys):
    with restored_process_state(), pytest.raises(SystemExit) as exit_info:
        main(["fit", "--print_config"])
    assert exit_info.value.code == 0
    cfg = yaml.safe_load(capsys.readouterr().out)
    assert cfg["model"]["class_path"] == "lightning_app.models.MLPModule"
    # 64-128-10 on the digits, the input and output widths taken from the data.
    assert cfg["model"]["init_args"]["hidden_sizes"] == [128]
    assert cfg["model"]["init_args"]["layer_sizes"] is None
    assert cfg["data"]["class_path"] == "lightning_app.data.DigitsDataModule"
    assert cfg["seed_everything"] == 0
    assert cfg["checkpoint"]["save_last"] is True
    assert cfg["checkpoint"]["enable_version_counter"] is False
    assert cfg["nan_guard"]["check_every_n_steps"] == 1
    plugins = [p["class_path"] for p in cfg["trainer"]["plugins"]]
    assert plugins == ["lightning_app.checkpointing.AtomicCheckpointIO"]


@pytest.mark.parametrize("name", CONFIGS)
def test_every_shipped_config_trains_one_batch_under_fast_dev_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written into the caller's directory
    out, _ = run_cli(["fit", "--config", name, "--trainer.fast_dev_run", "true"])
    assert "final" in out
    assert "no TensorBoard logs were written" in out
    # Not even ./checkpoints/last.ckpt (Lightning 2.6 writes it under fast_dev_run).
    assert list(tmp_path.iterdir()) == []


def test_the_seven_configs_of_the_issue_are_shipped():
    assert {
        "mlp_digits", "xor", "circle", "autoencoder_838", "autoencoder_digits",
        "sparse_autoencoder_digits", "stacked_autoencoder_digits",
    } <= set(CONFIGS)


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--model.init_args.optimizer", "adamw", "unknown optimizer 'adamw'; valid choices"),
        ("--model.init_args.scheduler", "cosine", "unknown scheduler 'cosine'; valid choices"),
        ("--model.init_args.activation", "relu6", "unknown activation 'relu6'"),
        ("--model.init_args.init", "orthogonal", "unknown scheme 'orthogonal'"),
        ("--model.init_args.head", "poisson", "unknown head 'poisson'"),
        ("--model.init_args.lr", "-1", "lr must be in [0, inf), got -1.0"),
    ],
)
def test_bad_model_settings_fail_while_building_the_model(flag, value, message, tmp_path):
    status, _, err = run_cli_failing(["fit", "--config", "mlp_digits", flag, value,
                                      "--trainer.logger.init_args.save_dir", str(tmp_path)])
    assert status == 2
    # One line: the flag, then the message of the check that refused the value.
    assert err.splitlines() == [f"error: {flag}: " + err.split(f"{flag}: ", 1)[1].strip()]
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_model_that_does_not_fit_the_data_fails_before_the_first_step(tmp_path):
    flag = "--model.init_args.layer_sizes"
    status, _, err = run_cli_failing(["fit", "--config", "mlp_digits", flag, "[30, 10]",
                                      "--trainer.logger.init_args.save_dir", str(tmp_path)])
    assert status == 2
    assert err.splitlines() == [
        f"error: {flag}: the model expects 30 input features but the data (sklearn digits) "
        "has 64; set the first size to 64"
    ]
    status, _, err = run_cli_failing(["fit", "--config", "mlp_digits", flag, "[64, 16, 5]",
                                      "--trainer.logger.init_args.save_dir", str(tmp_path)])
    assert status == 2
    assert err.splitlines() == [
        f"error: {flag}: the data (sklearn digits) has labels 0..9 but the multiclass head has "
        "room for 5 classes; set the last size to 10"
    ]
    assert list(tmp_path.iterdir()) == []


def test_bad_data_file_ends_the_program_with_one_line_and_status_2(tmp_path):
    missing = tmp_path / "missing.npz"
    status, _, err = run_cli_failing(["fit", "--config", "mlp_digits",
                                      "--data", "lightning_app.data.NpzDataModule",
                                      "--data.path", str(missing),
                                      "--trainer.logger.init_args.save_dir", str(tmp_path)])
    assert status == 2
    assert err.splitlines() == [
        f"error: --data.init_args.path: data file '{missing}' does not exist (or is not a file)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_user_npz_trains_through_the_cli(tmp_path, rng):
    # Two unit Gaussian blobs 8 standard deviations apart: any working classifier separates
    # them; chance is 50%.
    y = rng.integers(0, 2, 200)
    x = rng.normal(size=(200, 5)) + 8.0 * y[:, None] * np.array([1, 0, 0, 0, 0])
    path = tmp_path / "blobs.npz"
    np.savez(path, x=x, y=y)
    out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--data", "lightning_app.data.NpzDataModule",
        "--data.path", str(path), "--model.init_args.layer_sizes", "[5, 16, 2]",
        "--model.init_args.lr", "0.05", "--trainer.max_epochs", "10",
        "--trainer.logger.init_args.save_dir", str(tmp_path),
    ])
    assert float(re.search(r"final test acc: (\d\.\d+)", out).group(1)) >= 0.975


@pytest.mark.catalog("I1")
@pytest.mark.slow
def test_838_encoder_reconstructs_all_inputs_with_8_distinct_codes(tmp_path):
    out, _ = run_cli([
        "fit", "--config", "autoencoder_838", "--trainer.logger.init_args.save_dir",
        str(tmp_path),
    ])
    assert "reconstructs every input: yes" in out
    assert "distinct rounded codes: 8 of 8" in out
    table = [line for line in out.splitlines() if re.fullmatch(r"[01]{8} \| .* \| [01]{8}", line)]
    assert len(table) == 8
    for line in table:  # every row of 003's table: the output reproduces the input
        inp, _, outp = (c.strip() for c in line.split("|"))
        assert inp == outp and inp.count("1") == 1
    # Independently of the printout: the saved weights, in a fresh torchref Autoencoder.
    ckpt = tmp_path / "autoencoder_838" / "version_0" / "checkpoints" / "last.ckpt"
    state = torch.load(ckpt, weights_only=True)["state_dict"]
    net = Autoencoder((8, 3, 8))
    net.load_state_dict({k.removeprefix("net."): v for k, v in state.items()
                         if k.startswith("net.")})
    net.eval()
    x = torch.eye(8)
    with torch.no_grad():
        assert reconstructs_all(net(x), x) and codes_are_distinct(net.encode(x))


def test_config_names_resolve_to_shipped_files_and_paths_pass_through(tmp_path):
    from lightning_app.cli import resolve_config

    assert resolve_config("xor") == str(CONFIG_DIR / "xor.yaml")
    assert resolve_config("xor.yaml") == str(CONFIG_DIR / "xor.yaml")
    own = tmp_path / "xor.yaml"
    own.write_text("seed_everything: 1\n")
    assert resolve_config(str(own)) == str(own)
    assert resolve_config("no_such_config") == "no_such_config"
    assert Path(resolve_config("mlp_digits")).is_file()
