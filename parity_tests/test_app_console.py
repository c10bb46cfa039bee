"""What the app prints: the progress bar in a terminal, summary lines elsewhere, no warnings on
the shipped configs, Lightning's start-up lines once per command, frozen parameters counted as
frozen, and the command's name in its usage text."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
import warnings
from pathlib import Path

import lightning.pytorch as pl
import pytest
from lightning.pytorch.utilities.model_summary import ModelSummary

from lightning_app import cli
from lightning_app.cli import CONFIG_DIR, command_name, main
from lightning_app.data import DigitsDataModule
from lightning_app.models import MLPModule, StackedAutoencoderModule
from lightning_app.progress import AppProgressBar
from parity_tests.app_support import restored_process_state, run_cli

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Terminal(io.StringIO):
    """A stdout that says it is a terminal (as a console window does)."""

    def isatty(self) -> bool:
        return True


def _run(args: list[str], stdout: io.StringIO) -> str:
    with restored_process_state(), contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(io.StringIO()):
        main(args)
    return stdout.getvalue()


def _digits(tmp_path, epochs: int, *extra: str) -> list[str]:
    return ["fit", "--config", "mlp_digits", "--trainer.max_epochs", str(epochs),
            "--trainer.logger.init_args.save_dir", str(tmp_path), "--test_after_fit", "false",
            *extra]


def test_in_a_terminal_the_bar_shows_the_training_loss_and_validation_metric_not_v_num(
    tmp_path,
):
    out = _run(_digits(tmp_path, 2), _Terminal())
    frames = [f for f in re.split(r"[\r\n]", out) if f.startswith("Epoch 1:")]
    assert frames, out[-2000:]
    last = frames[-1]  # the end of epoch 2: after its validation
    postfix = dict(re.findall(r"(\w+)=([\d.]+)", last))
    assert {"loss", "val_loss", "val_acc"} <= set(postfix), last
    assert "v_num" not in out
    assert 0 < float(postfix["loss"]) < 2.3  # below chance's log(10) after two epochs
    assert 0.5 < float(postfix["val_acc"]) <= 1


def test_off_a_terminal_no_bar_frames_are_written_but_one_line_per_epoch(tmp_path):
    out = _run(_digits(tmp_path, 2), io.StringIO())
    assert "\r" not in out and "it/s" not in out and "Epoch" not in out
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    for line in lines:
        assert re.fullmatch(r"epoch \d/2: loss \d\.\d{4}, val_loss \d\.\d{4}, "
                            r"val_acc \d\.\d{4} \(\d+\.\d s\)", line), line
    # The whole console output of the run (before: ~1.2 KB of bar frames per epoch).
    assert len(out.encode()) < 1000


@pytest.mark.parametrize(("epochs", "every", "shown"),
                         [(5, 2, [2, 4, 5]), (3, None, [1, 2, 3]), (20, None, [2, 4, 6, 8, 10,
                                                                            12, 14, 16, 18, 20])])
def test_summary_lines_come_every_n_epochs_and_after_the_last(epochs, every, shown, capsys):
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=epochs, limit_train_batches=1, limit_val_batches=1,
        num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
        enable_model_summary=False, callbacks=[AppProgressBar(summary_every_n_epochs=every)],
    )
    trainer.fit(MLPModule(layer_sizes=(64, 8, 10)), datamodule=DigitsDataModule(batch_size=8))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert [int(line.split()[1].split("/")[0]) for line in lines] == shown


def test_summary_line_after_an_early_stop(capsys):
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=10, max_steps=3, limit_train_batches=1,
        limit_val_batches=1, num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
        enable_model_summary=False, callbacks=[AppProgressBar(summary_every_n_epochs=5)],
    )
    trainer.fit(MLPModule(layer_sizes=(64, 8, 10)), datamodule=DigitsDataModule(batch_size=8))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert [line.split(":")[0] for line in lines] == ["epoch 3/10"]


def _python_default_warning_filters() -> None:
    """The filters of a plain `python -m lightning_app` process before `main` adds its own
    (pytest's show more)."""
    warnings.resetwarnings()
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                     ResourceWarning):
        warnings.filterwarnings("ignore", category=category)


def _one_epoch(name: str) -> list[str]:
    if name == "stacked_autoencoder_digits":  # its stages have their own epoch budgets
        return [f"--model.init_args.{k}_epochs=1" for k in ("pretrain", "head", "finetune")]
    return ["--trainer.max_epochs", "1"]


@pytest.mark.slow
@pytest.mark.parametrize("name", CONFIGS)
def test_every_shipped_config_trains_without_a_warning(name, tmp_path, caplog):
    # One epoch each: xor (4 batches) and the 8-3-8 encoder (1 batch) have fewer batches than
    # log_every_n_steps, which made Lightning warn on every run.
    caplog.set_level(logging.INFO)
    with warnings.catch_warnings(record=True) as caught:
        _python_default_warning_filters()
        _, err = run_cli(["fit", "--config", name, *_one_epoch(name),
                          "--trainer.logger.init_args.save_dir", str(tmp_path)])
    assert [str(w.message) for w in caught] == []
    assert "warning" not in err.lower()
    shown = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in shown] == []
    # Lightning's start-up lines once per command, also for the 4 runs of the stacked pipeline.
    messages = [r.getMessage() for r in caplog.records]
    for start in ("GPU available", "TPU available", "💡 Tip"):
        assert sum(m.startswith(start) for m in messages) == 1, start
    # Each of the stacked pipeline's 4 stages has its own model summary.
    summaries = 4 if name == "stacked_autoencoder_digits" else 1
    assert sum("Non-trainable params" in m for m in messages) == summaries


def _summary_counts(module, stage: str = "fit") -> tuple[int, int]:
    module.setup(stage)  # what Lightning calls before its model summary (on_fit_start)
    try:
        summary = ModelSummary(module)
        return summary.trainable_parameters, summary.total_parameters - (
            summary.trainable_parameters)
    finally:
        module.teardown(stage)


@pytest.mark.catalog("I4")
def test_each_stacked_stage_summary_counts_what_its_optimizer_leaves_alone_as_frozen():
    model = StackedAutoencoderModule(sizes=(64, 32, 16), n_classes=10)
    seen = {}
    for name, module, _ in model.stages():
        trained = {id(p) for p in module.trainable_parameters()}
        expected_trainable = sum(p.numel() for p in module.parameters() if id(p) in trained)
        expected_frozen = sum(p.numel() for p in module.parameters() if id(p) not in trained)
        seen[name] = _summary_counts(module)
        assert seen[name] == (expected_trainable, expected_frozen), name
    # By hand: encoder 1 is 64*32 + 32 = 2080 weights, encoder 2 is 32*16 + 16 = 528, the
    # head 16*10 + 10 = 170; autoencoder 1 adds a decoder of 32*64 + 64, autoencoder 2 one
    # of 16*32 + 32.
    assert seen["pretrain_2"][1] == 2080
    assert seen["head"] == (170, 2080 + 528)
    assert seen["finetune"] == (2080 + 528 + 170, 2080 + 2112 + 528 + 544)
    # Thawed again after each stage: the next stage trains them.
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize(
    ("argv0", "name"),
    [("/x/lightning_app/__main__.py", "python -m lightning_app"),
     ("/venv/bin/torchref-train", "torchref-train")],
)
def test_usage_text_names_the_command_the_user_typed(argv0, name, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [argv0])
    assert command_name() == name
    with restored_process_state(), pytest.raises(SystemExit) as exit_info:
        main(["fit", "--help"])
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith(f"usage: {name} [options] fit ")
    assert "__main__.py" not in usage


def test_torchref_train_is_the_installed_script_of_the_same_entry_point():
    # (tomllib is Python 3.11+; the project supports 3.10)
    section = (ROOT / "pyproject.toml").read_text().split("[project.scripts]", 1)[1]
    entry = re.search(r'^torchref-train = "([\w.]+:\w+)"$', section, re.M).group(1)
    module, _, function = entry.partition(":")
    target = getattr(__import__(module, fromlist=[function]), function)
    import lightning_app.__main__ as dunder_main

    assert target is main is dunder_main.main  # `python -m lightning_app` runs the same main


def test_the_resume_hint_uses_the_command_name(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/torchref-train"])
    hint = cli._resume_hint(["fit", "--config", "xor", "--ckpt_path", "old.ckpt"])
    assert hint == "torchref-train fit --config xor --ckpt_path last"


def test_readme_and_app_docs_warn_about_the_pypi_package_of_the_same_import_name():
    for doc in (ROOT / "README.md", ROOT / "docs" / "app.md"):
        text = " ".join(doc.read_text().split())
        assert "`lightning-app`" in text and "same environment" in text, doc


def test_digits_data_are_not_standardized_so_the_console_numbers_stay_the_notes():
    # The built-in sets are already scaled; only user files are standardized by default.
    assert DigitsDataModule().standardizes is False
