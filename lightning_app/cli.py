"""The app's command line: LightningCLI with the project's defaults, resume rules and reporting.

Imports lightning and the app's modules (which import torchref); of scratch, none.

    python -m lightning_app fit --config lightning_app/configs/mlp_digits.yaml
    python -m lightning_app fit --config xor            # a shipped config, by name
    python -m lightning_app fit --config mlp_digits --ckpt_path last   # resume the latest run
    python -m lightning_app test --config mlp_digits    # test the newest trained weights
    python -m lightning_app fit --config mlp_digits --print_config
    torchref-train fit --config xor                     # the same command, installed script

What it adds to LightningCLI:
- `fit`/`validate`/`test`/`predict` without `--config` use the default config (mlp_digits);
  `--config NAME` finds a shipped config by name.
- Always-on parts, configurable from YAML or flags: `--checkpoint.*` (`RunCheckpoint`: a
  ModelCheckpoint whose last.ckpt always holds the final weights), `--nan_guard.*`
  (FiniteLossGuard), atomic checkpoint files (AtomicCheckpointIO) and the random state in
  every checkpoint (ExactResume).
- Checkpoint and resume rules (docs/app.md): `--ckpt_path last` is the newest intact
  checkpoint of the config's runs (damaged files passed over with a warning; none: exit 2);
  `fit` continues in that checkpoint's run folder and refuses changed model settings unless
  `--allow_model_changes true`; `validate`/`test`/`predict` use `last` when no `--ckpt_path`
  is given, the checkpoint's model settings, and log into its run folder.
- A flag given on the command line wins over the config: one checkpoint trigger replaces the
  config's other one, `--trainer.enable_progress_bar false` drops the config's bar.
- After `fit`, the final weights are tested (`--test_after_fit false` to skip; `--test_weights
  best`: the checkpoint with the best validation loss), and the CLI prints the test metric,
  the last checkpoint and the `tensorboard --logdir ...` command.
- The user's data: a run on a data file is named after it (`logs/wine/`) unless the logger's
  name is typed or set by the user's own config; `hidden_sizes` lets the data decide the
  input and output widths; `validate`/`test`/`predict` use the checkpoint's data settings
  unless `--data` is given; `predict --data.predict_path new.csv` writes `predictions.csv`
  into the run's folder.
- The console: `lightning_app.progress.AppProgressBar` (loss and validation metric; summary
  lines when stdout is not a terminal) replaces Lightning's default bar; the stages of a
  staged model print Lightning's start-up lines once, not once per stage.
- A model with stages (`StackedAutoencoderModule`) is fitted stage after stage, each stage a
  separate Trainer run logged under the run's directory (see `fit`).
- Bad input (a flag, a config value, a data file, an unwritable or full disk) ends the
  program with one `error: ...` line naming the argument and exit status 2, before anything
  is written, or with the run folder it created removed; a NaN/inf loss with exit status 1
  and the last good checkpoint; Ctrl-C with exit status 130 after saving last.ckpt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Literal

import torch
from jsonargparse import ArgumentError, Namespace
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger

from lightning_app import board, runs
from lightning_app.callbacks import FiniteLossGuard, NonFiniteLossError
from lightning_app.checkpointing import ExactResume, RunCheckpoint
from lightning_app.checks import InputError
from lightning_app.data import compute_dtype
from lightning_app.failures import as_input_error, input_error_line, parse_error_line
from lightning_app.predictions import write_predictions
from lightning_app.progress import AppProgressBar
from lightning_app.twin import add_twin_argument, attach_twin, check_twin


def quiet_known_warnings() -> None:
    """Keep two warnings that say nothing to the app's users out of their console."""
    # Lightning 2.6's own pytree helper trips a torch deprecation on every run.
    warnings.filterwarnings(
        "ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        category=FutureWarning,
    )
    # Lightning warns when an epoch has fewer batches than `log_every_n_steps` (xor: 4, the
    # 8-3-8 encoder: 1, a small user file). It concerns `self.log(on_step=True)`, which the
    # app does not use: the epoch mean is logged every epoch and the step loss every
    # `log_every_n_steps` optimizer steps, counted across epochs (AppModule.training_step).
    warnings.filterwarnings(
        "ignore", message=r"The number of training batches \(\d+\) is smaller than the "
        r"logging interval"
    )


__all__ = [
    "AppCLI", "CONFIG_DIR", "DEFAULT_CONFIG", "command_name", "main", "quiet_known_warnings",
    "resolve_config",
]

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "mlp_digits.yaml"
SUBCOMMANDS = ("fit", "validate", "test", "predict")
TRIGGERS = ("every_n_train_steps", "every_n_epochs", "train_time_interval")
EXIT_INPUT, EXIT_NAN, EXIT_INTERRUPT = 2, 1, 130
# What `--test_weights best` ranks checkpoints by when `--checkpoint.monitor` is not given.
BEST_MONITOR = board.loss_tag("val")
# A process whose launcher (torchrun, SLURM's srun, Lightning's own) gave it a nonzero one of
# these is not rank 0, which alone creates the run's folder.
_RANK_VARIABLES = ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID")
# Lightning's start-up lines (devices, the logger tip) come through this logger.
_LIGHTNING_INFO = logging.getLogger("lightning.pytorch.utilities.rank_zero")


def command_name(argv0: str | None = None) -> str:
    """How the user started the app, for usage texts and hints: `python -m lightning_app`
    (argv[0] is its __main__.py) or the installed script (`torchref-train`)."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    name = Path(argv0).name
    if not name or name in ("__main__.py", "-c") or name.endswith(".py"):
        return "python -m lightning_app"
    return name


class Session:
    """What one command knows across the CLI's phases: its arguments, the run folders it
    created (removed again if it fails before writing a checkpoint there), its checkpoint
    callback (for the final report) and the config name (for hints)."""

    def __init__(self, argv: list[str], typed: list[str] | None = None) -> None:
        self.argv = argv
        self.typed = argv if typed is None else typed  # as the user typed them (for hints)
        self.created: list[Path] = []
        self.checkpoint: RunCheckpoint | None = None
        self.storage_argument = "--trainer.logger.init_args.save_dir"

    def given(self, key: str) -> bool:
        """True if `--key` was typed on the command line (not only set by a config)."""
        flag = f"--{key}"
        return any(a == flag or a.startswith(flag + "=") for a in self.argv)

    def shipped_config(self) -> bool:
        """True if every config file of the command is one of the app's shipped configs
        (the default config counts), so the run's name is the app's, not the user's."""
        configs = [self.argv[i + 1] for i, a in enumerate(self.argv[:-1])
                   if a in ("--config", "-c")]
        configs += [a.split("=", 1)[1] for a in self.argv if a.startswith("--config=")]
        return all(Path(c).resolve().parent == CONFIG_DIR for c in configs)

    def created_folder(self, folder: Path) -> None:
        """Remember `folder` (about to be made by the logger) and its parents that do not
        exist yet, to remove them if this command fails before writing a checkpoint."""
        new = [folder, *(p for p in folder.parents if not p.exists())]
        if not folder.exists():
            self.created.extend(p for p in new if not p.exists())

    def remove_created(self) -> None:
        """Remove the run folder this command created and left without a checkpoint, and the
        parents it created if they are empty then."""
        if not self.created:
            return
        run, parents = self.created[0], self.created[1:]
        if run.is_dir() and runs.holds_checkpoint(run):
            return  # a good checkpoint is worth keeping, whatever failed after it
        shutil.rmtree(run, ignore_errors=True)
        for parent in parents:  # deepest first; only while empty (another run may be there)
            try:
                parent.rmdir()
            except OSError:
                break


class _SaveConfig(SaveConfigCallback):
    """The fit's config.yaml stays the fit's: test/validate/predict runs in the same folder
    write config_<stage>.yaml."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        stage = getattr(stage, "value", stage)  # Lightning passes a TrainerFn
        if stage != "fit":
            self.config_filename = f"config_{stage}.yaml"
        super().setup(trainer, pl_module, stage)


class AppCLI(LightningCLI):
    """LightningCLI over every LightningModule / LightningDataModule (class_path selects)."""

    def __init__(self, args=None, run: bool = True, session: Session | None = None,
                 **kwargs) -> None:
        self.session = session or Session(list(args or sys.argv[1:]))
        # jsonargparse builds a full parser (every class's arguments) per subcommand: only
        # the one asked for is built (~3/4 of the parse time), all of them when none is
        # named first (top-level --help, or a missing or mistyped subcommand lists them).
        given = list(sys.argv[1:] if args is None else args) if not isinstance(args, dict) else []
        self._only = given[0] if given and given[0] in SUBCOMMANDS else None
        self._resolved: runs.Candidate | None = None  # the checkpoint a run starts from
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("save_config_callback", _SaveConfig)
        # Parse errors raise (main prints one line) instead of printing the whole usage.
        quiet = {"exit_on_error": False}
        kwargs.setdefault("parser_kwargs", {"exit_on_error": False, "prog": command_name(),
                                            **{s: dict(quiet) for s in self.subcommands()}})
        super().__init__(
            model_class=LightningModule,
            datamodule_class=LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=args,
            run=run,
            **kwargs,
        )

    def subcommands(self) -> dict[str, set[str]]:
        every = LightningCLI.subcommands()
        only = getattr(self, "_only", None)
        return {only: every[only]} if only else every

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_lightning_class_args(RunCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True,
                             "checkpoint.enable_version_counter": False})
        parser.add_lightning_class_args(FiniteLossGuard, "nan_guard")
        parser.add_argument(
            "--test_after_fit", type=bool, default=True,
            help="after fit, test the final weights and print the test metric",
        )
        parser.add_argument(
            "--test_weights", type=Literal["final", "best"], default="final",
            help="the weights the test after fit uses: the final ones, or the checkpoint with "
            f"the best validation metric (--checkpoint.monitor, default {BEST_MONITOR}; the "
            "candidates are the checkpoints written, see --checkpoint.every_n_epochs)",
        )
        parser.add_argument(
            "--allow_model_changes", type=bool, default=False,
            help="resume (fit --ckpt_path) although the model settings differ from the "
            "checkpoint's; changed optimizer settings start a fresh optimizer and schedule",
        )
        parser.add_argument(
            "--num_threads", type=int | None, default=None,
            help="torch.set_num_threads for this process (default: torch's choice, one per "
            "core); 1 is fastest for small MLPs and on a busy machine",
        )
        parser.set_defaults(
            {"trainer.plugins": [{"class_path": "lightning_app.checkpointing.AtomicCheckpointIO"}],
             # Lightning's no-op profiler without its per-hook cost (lightning_app.profiler).
             "trainer.profiler": {"class_path": "lightning_app.profiler.QuietProfiler"}}
        )
        add_twin_argument(parser)

    # -- before anything is built: which checkpoint, which run folder
    def _parse_ckpt_path(self) -> None:
        subcommand = self.config.get("subcommand")
        if subcommand not in SUBCOMMANDS:
            return
        cfg = self.config[subcommand]
        self._name_after_data(cfg)
        layout = _layout_of(cfg)
        if layout.root is not None:
            removed = runs.remove_stale_temp_files(
                runs.checkpoint_dirs(layout.root, layout.stage)
            )
            if removed:
                mb = sum(size for _, size in removed) / 2**20
                _info(f"removed {len(removed)} temporary file(s) ({mb:.1f} MB) of interrupted "
                      f"checkpoint writes: {', '.join(str(p) for p, _ in removed)}")
        ckpt = cfg.get("ckpt_path")
        if ckpt is None and subcommand != "fit":
            ckpt = "last"  # evaluate trained weights, never a fresh initialization
        if ckpt is None:
            return
        if ckpt in ("best", "hpc") or "://" in str(ckpt):
            return  # Lightning's own meanings
        if layout.staged and subcommand == "fit":
            raise InputError(
                "a staged model (each stage a separate run) cannot resume; rerun the pipeline",
                "--ckpt_path",
            )
        chosen = self._checkpoint(ckpt, layout, subcommand)
        cfg.ckpt_path = str(chosen.path)
        self._resolved = chosen
        if subcommand == "fit":
            self._check_resume_settings(cfg, chosen)
            self._continue_in(cfg, chosen)
        else:
            self._report_model_settings(cfg, chosen)
            self._log_into(cfg, chosen.path, chosen.checkpoint)
            super()._parse_ckpt_path()  # the model is built from the checkpoint's settings
            self._data_from_checkpoint(subcommand, chosen)

    def _name_after_data(self, cfg) -> None:
        """A run on the user's data file is named after it (`logs/wine/version_0`), not after
        the shipped config it borrowed (`mlp_digits`), unless the user names it: the logger's
        name typed, or set by the user's own config."""
        logger = cfg.trainer.get("logger")
        data = cfg.get("data")
        path = data.get("init_args", {}).get("path") if data is not None else None
        if not path or not _is_tensorboard(logger):
            return
        if self.session.given("trainer.logger.init_args.name") or self.session.given(
                "trainer.logger.name") or not self.session.shipped_config():
            return
        logger.init_args.name = Path(str(path)).stem

    def _data_from_checkpoint(self, subcommand: str, chosen: runs.Candidate) -> None:
        """validate/test/predict evaluate on the data the checkpoint was trained on (its
        class and settings), unless `--data` names other data; data settings typed on the
        command line (e.g. `--data.predict_path`) still apply."""
        saved = dict(chosen.checkpoint.get("datamodule_hyper_parameters") or {})
        saved.pop("_instantiator", None)
        class_path = saved.pop("_class_path", None)
        if class_path is None or self.session.given("data") or self.session.given(
                "data.class_path"):
            return
        cfg = self.config[subcommand]
        current = cfg.get("data")
        typed = {}
        if current is not None:
            for key, value in (current.get("init_args") or {}).items():
                if self.session.given(f"data.init_args.{key}") or self.session.given(
                        f"data.{key}"):
                    typed[key] = value
        accepted = _init_params(class_path)
        init_args = {k: _plain(v) for k, v in saved.items() if k in accepted}
        init_args.update({k: _plain(v) for k, v in typed.items() if k in accepted})
        before = None if current is None else current.get("class_path")
        self.config = self.parser.parse_object(
            {subcommand: {"data": {"class_path": class_path, "init_args": init_args}}},
            self.config,
        )
        if before != class_path:
            _info(f"data: {class_path.rsplit('.', 1)[-1]} as {chosen.path} was trained "
                  f"(config: {str(before).rsplit('.', 1)[-1]})")

    def _checkpoint(self, ckpt: str, layout: runs.Layout, subcommand: str) -> runs.Candidate:
        if ckpt == "last":
            dirs = layout.checkpoint_dirs()
            chosen = runs.newest_intact(runs.checkpoints_in(dirs))
            if chosen.path is None:
                where = layout.describe()
                damaged = f" ({len(chosen.damaged)} damaged file(s) passed over)" if (
                    chosen.damaged) else ""
                hint = ("fit the model first (without --ckpt_path)" if subcommand == "fit"
                        else "fit the model first, or give --ckpt_path PATH")
                raise InputError(f"there is no checkpoint to use as 'last' in {where}{damaged}; "
                                 f"{hint}", "--ckpt_path")
            if chosen.damaged:
                _warn(f"{chosen.damaged[0]} is damaged (empty, truncated or not a checkpoint); "
                      f"using {chosen.path}, the newest intact checkpoint, instead")
            return chosen
        path = Path(ckpt)
        if not path.is_file():
            raise InputError(f"no checkpoint file {ckpt!r}", "--ckpt_path")
        checkpoint = runs.read_checkpoint(path)
        if checkpoint is None:
            raise InputError(f"{ckpt} is damaged (empty, truncated or not a checkpoint)",
                             "--ckpt_path")
        return runs.Candidate(path, checkpoint)

    def _check_resume_settings(self, cfg, chosen: runs.Candidate) -> None:
        changes = _model_changes(chosen.checkpoint, cfg.model)
        if changes and not cfg.get("allow_model_changes"):
            raise InputError(
                f"{chosen.path} was trained with other model settings: {_arrows(changes)}. "
                "Resume with the checkpoint's settings, or add --allow_model_changes true to "
                "resume with the new ones", "--ckpt_path",
            )
        if changes:
            _info(f"resuming with changed model settings: {_arrows(changes)}")

    def _report_model_settings(self, cfg, chosen: runs.Candidate) -> None:
        changes = _model_changes(chosen.checkpoint, cfg.model)
        if changes:
            used = "; ".join(f"{k} {old!r} (config: {new!r})" for k, old, new in changes)
            _info(f"the model is built as {chosen.path} was trained: {used}")

    def _continue_in(self, cfg, chosen: runs.Candidate) -> None:
        """Resume in the checkpoint's run folder, unless the user named a logger version or
        that folder holds newer weights (then a new run folder: never overwrite them)."""
        logger = cfg.trainer.get("logger")
        if not _is_tensorboard(logger) or logger.init_args.get("version") is not None:
            return
        folder = runs.run_folder_of(chosen.path)
        if folder is None:
            return
        newest = runs.newest_intact(runs.checkpoints_in([folder / "checkpoints"])).path
        if newest is not None and newest.resolve() != chosen.path.resolve():
            _info(f"{folder} holds newer weights ({newest.name}); this run continues from "
                  f"{chosen.path.name} in a new run folder")
            return
        self._log_into(cfg, chosen.path, chosen.checkpoint)

    def _log_into(self, cfg, ckpt: Path, checkpoint: dict) -> None:
        """Point the TensorBoardLogger at the checkpoint's run folder (no new version_N)."""
        logger = cfg.trainer.get("logger")
        folder = runs.run_folder_of(ckpt)
        if not _is_tensorboard(logger) or folder is None:
            return
        # The folder as the checkpoint spelled it (relative or absolute), so Lightning's
        # ModelCheckpoint sees the same dirpath and reloads its state without a warning.
        saved = runs.saved_dirpath(checkpoint)
        if saved is not None and Path(saved).resolve() == (folder / "checkpoints").resolve():
            folder = Path(saved).parent
        init = logger.init_args
        init.save_dir = str(folder.parent.parent)
        init.name = folder.parent.name
        init.version = folder.name

    def _cfg(self):
        """This subcommand's config (the whole config when built with run=False)."""
        return self.config[self.subcommand] if self.subcommand else self.config

    def before_instantiate_classes(self) -> None:
        cfg = self._cfg()
        threads = cfg.get("num_threads")
        if threads is not None and threads < 1:
            raise InputError(f"num_threads must be an integer >= 1, got {threads}",
                             "--num_threads")
        if threads is not None:
            torch.set_num_threads(threads)
        self._command_line_wins(cfg)
        if self.subcommand == "fit" and cfg.get("test_weights") == "best":
            checkpoint = cfg.get("checkpoint")
            if checkpoint is not None and checkpoint.get("monitor") is None:
                checkpoint.monitor, checkpoint.mode = BEST_MONITOR, "min"

    def _command_line_wins(self, cfg) -> None:
        """A flag typed on the command line wins over the config's contradicting setting."""
        given = [t for t in TRIGGERS if self.session.given(f"checkpoint.{t}")]
        if len(given) > 1:
            raise InputError(
                f"{' and '.join('--checkpoint.' + t for t in given)} are alternatives; give "
                "one checkpoint trigger", f"--checkpoint.{given[0]}",
            )
        if given and cfg.get("checkpoint") is not None:
            for other in TRIGGERS:
                if other != given[0]:
                    cfg.checkpoint[other] = None
        if self.session.given("trainer.enable_progress_bar") and not cfg.trainer.get(
            "enable_progress_bar", True
        ):
            callbacks = cfg.trainer.get("callbacks") or []
            cfg.trainer.callbacks = [c for c in callbacks if not _is_progress_bar(c)]
        # The widths: typed layer_sizes replace the config's hidden_sizes and vice versa.
        model = cfg.get("model")
        init = model.get("init_args") if model is not None else None
        if init is not None:
            for typed, other in (("layer_sizes", "hidden_sizes"), ("hidden_sizes", "layer_sizes")):
                if (self.session.given(f"model.init_args.{typed}")
                        or self.session.given(f"model.{typed}")) and other in init:
                    init[other] = None

    def _set_seed(self) -> None:
        # Quietly: on bad input the user's console shows the error line alone.
        from lightning.fabric.utilities.seed import seed_everything

        seed = self._get(self.config, "seed_everything")
        if seed is False or seed is True or seed is None:
            super()._set_seed()
            return
        seed = seed_everything(seed, workers=True, verbose=False)
        if self.subcommand:
            self.config[self.subcommand]["seed_everything"] = seed
        else:
            self.config["seed_everything"] = seed

    def instantiate_classes(self) -> None:
        """LightningCLI's, with the model checked against the data before the Trainer exists
        (nothing is printed or written before a mismatch is reported)."""
        try:
            self.config_init = self.parser.instantiate_classes(self.config)
        except InputError:
            raise
        except (ValueError, TypeError, MisconfigurationException) as exc:
            raise as_input_error(exc) from exc
        self.datamodule = self._get(self.config_init, "data")
        self.model = self._get(self.config_init, "model")
        self._check_model_and_data()
        check_twin(self.model, self._cfg(), self.subcommand)  # --twin: refused before the Trainer
        resolved = self._resolved
        if self.subcommand == "fit" and resolved is not None:
            _check_weights_fit(self.model, resolved)
        self._check_log_folder()
        self._add_configure_optimizers_method_to_model(self.subcommand)
        try:
            self.trainer = self.instantiate_trainer()
        except (ValueError, TypeError, MisconfigurationException) as exc:
            raise as_input_error(exc) from exc
        attach_twin(self.trainer, self._cfg())

    def _check_log_folder(self) -> None:
        """Can the run's folder be created? Probed with a temporary file (removed), before the
        Trainer exists; remembered so that a failure removes what the run created."""
        trainer_cfg = self._get(self.config_init, "trainer", default={}) or {}
        logger = trainer_cfg.get("logger")
        if not isinstance(logger, TensorBoardLogger) or trainer_cfg.get("fast_dev_run"):
            return
        if any(os.environ.get(v, "0") != "0" for v in _RANK_VARIABLES):
            return  # a DDP rank started by a launcher (torchrun, SLURM): rank 0 makes the folder
        self.session.storage_argument = "--trainer.logger.init_args.save_dir"
        log_dir = Path(logger.log_dir)
        reason = runs.unwritable_reason(log_dir)
        if reason:
            raise InputError(f"cannot write the run's logs: {reason}",
                             self.session.storage_argument)
        self.session.created_folder(log_dir)

    def _check_model_and_data(self) -> None:
        dm, model = self.datamodule, self.model
        if dm is None or not hasattr(dm, "prepare"):
            return
        precision = self._get(self.config, "trainer", default={}).get("precision")
        dtype = compute_dtype(precision or "32-true")
        try:
            if self.subcommand == "predict" and getattr(dm, "predicts_file", False):
                dm.prepare_predict(dtype)  # the training data are not read
                if hasattr(model, "check_input_width"):
                    model.check_input_width(dm.n_predict_features, dm.predict_source)
                return
            dm.prepare(dtype)
            if self.subcommand == "fit" and hasattr(model, "fit_to_data"):
                model.fit_to_data(dm)
            elif hasattr(model, "check_data"):
                model.check_data(dm)
        except InputError as exc:
            if exc.argument is None and hasattr(dm, "path"):  # the data file is at fault
                exc.argument = "--data.init_args.path"
            raise

    def instantiate_trainer(self, **kwargs):
        trainer = super().instantiate_trainer(**kwargs)
        _arrange_callbacks(trainer)
        self.session.checkpoint = trainer.checkpoint_callback
        self.session.storage_argument = _storage_argument(self._cfg())
        return trainer

    # -- before a run: does everything fit? (no folder exists yet)
    # -- fit, possibly in stages
    def fit(self, model, **kwargs) -> None:
        stages = getattr(model, "stages", None)
        if callable(stages):
            self._fit_stages(model, **kwargs)
        else:
            self.trainer.fit(model, **kwargs)

    def _fit_stages(self, model, datamodule=None, ckpt_path=None, **kwargs) -> None:
        """Run each stage of `model.stages()` as its own Trainer.fit, logged as its own run in
        `<log_dir>/<stage name>/`. The last stage's trainer becomes `self.trainer`, so the
        test after fit and the report use the final network."""
        stages = model.stages()
        log_dir = _log_dir(self.trainer)
        for i, (name, module, epochs) in enumerate(stages):
            trainer = self._stage_trainer(name, epochs, log_dir)
            _print(trainer, f"stage {i + 1}/{len(stages)}: {name} ({epochs} epochs)")
            trainer.fit(module, datamodule=datamodule)
            model.on_stage_end(name, trainer)
        self.trainer = trainer

    def _stage_trainer(self, name: str, epochs: int, log_dir: str | None):
        # A fresh Trainer with fresh callbacks from the same config (callbacks hold state).
        parser = self._parser(self.subcommand)
        fresh = parser.instantiate_classes(self.config[self.subcommand])
        trainer_cfg = dict(fresh["trainer"])
        trainer_cfg["max_epochs"] = epochs
        trainer_cfg["max_steps"] = -1
        if log_dir is not None:
            trainer_cfg["logger"] = TensorBoardLogger(save_dir=log_dir, name="", version=name)
        extra = [fresh[c] for c in parser.callback_keys]
        with _quiet(_LIGHTNING_INFO):  # the devices and the logger tip, printed once already
            trainer = self._instantiate_trainer(trainer_cfg, extra)
        _arrange_callbacks(trainer)
        self.session.checkpoint = trainer.checkpoint_callback
        return trainer

    # -- reporting
    def before_fit(self) -> None:
        cb = self.trainer.checkpoint_callback
        if self._resolved is not None and isinstance(cb, RunCheckpoint):
            cb.resuming = True
        log_dir = _log_dir(self.trainer)
        if log_dir is not None:
            _print(self.trainer, f"logging to {log_dir}")

    def after_fit(self) -> None:
        trainer = self.trainer
        tested_with = None
        if self.config["fit"].get("test_after_fit", True) and _has_test_data(self.datamodule):
            ckpt = None
            if self.config["fit"].get("test_weights") == "best":
                ckpt = getattr(trainer.checkpoint_callback, "best_model_path", "") or None
                if ckpt is None:
                    _warn("--test_weights best: no checkpoint was written; testing the final "
                          "weights")
                else:
                    tested_with = ckpt
            trainer.test(self.model, datamodule=self.datamodule, verbose=False, ckpt_path=ckpt)
        lines = [_metric_line(trainer)]
        if tested_with is not None:
            score = getattr(trainer.checkpoint_callback, "best_model_score", None)
            monitor = getattr(trainer.checkpoint_callback, "monitor", None)
            best = f", {monitor} {float(score):.4f}" if score is not None else ""
            lines.append(f"tested the best weights: {tested_with}{best}")
        report = getattr(self.model, "report", None)
        if callable(report):
            lines.append(report(self.datamodule))
        ckpt = getattr(trainer.checkpoint_callback, "last_model_path", "")
        if ckpt:
            lines.append(f"last checkpoint: {ckpt}")
        lines += _tensorboard_lines(trainer)
        _print(trainer, "\n".join(line for line in lines if line))

    def before_validate(self) -> None:
        self._print_weights()

    def before_test(self) -> None:
        self._print_weights()

    def before_predict(self) -> None:
        self._print_weights()

    def _print_weights(self) -> None:
        resolved = self._resolved
        if resolved is not None:
            step = resolved.checkpoint.get("global_step", "?")
            _print(self.trainer, f"weights: {resolved.path} (step {step})")

    def predict(self, model, **kwargs) -> None:
        self._predictions = self.trainer.predict(model, **kwargs)

    def after_predict(self) -> None:
        batches = getattr(self, "_predictions", None) or []
        if not batches or not self.trainer.is_global_zero:
            return
        folder = self._run_folder()
        path, n_rows, what = write_predictions(batches, folder / "predictions.csv")
        _print(self.trainer, f"predicted {n_rows} rows ({what}): {path}")

    def _run_folder(self) -> Path:
        """Where a predict run writes: its logger's folder (the checkpoint's run folder),
        else the checkpoint's run folder, else the trainer's default_root_dir."""
        log_dir = _log_dir(self.trainer)
        if log_dir is not None:
            return Path(log_dir)
        if self._resolved is not None and runs.run_folder_of(self._resolved.path) is not None:
            return runs.run_folder_of(self._resolved.path)
        return Path(self.trainer.default_root_dir)

    def after_validate(self) -> None:
        _print(self.trainer, _metric_line(self.trainer))

    def after_test(self) -> None:
        _print(self.trainer, _metric_line(self.trainer))


# ---- where the runs are; the checkpoint against the config -------------------------------------


def _layout_of(cfg) -> runs.Layout:
    """Where this config's runs are: the TensorBoardLogger's `<save_dir>/<name>` (Lightning's
    default logger: `<default_root_dir>/lightning_logs`), else `<default_root_dir>`."""
    stage = _final_stage(cfg.get("model"))
    logger = cfg.trainer.get("logger")
    default_root = Path(cfg.trainer.get("default_root_dir") or ".")
    if _is_tensorboard(logger):
        init = logger.init_args
        root = Path(init.get("save_dir") or default_root) / str(init.get("name") or "")
        return runs.Layout(root=root, stage=stage)
    if logger is True or logger is None:
        return runs.Layout(root=default_root / "lightning_logs", stage=stage)
    return runs.Layout(loose=default_root / "checkpoints", stage=stage)


def _final_stage(model_cfg) -> str | None:
    """The last stage's name of a staged model's config (its checkpoints are the model's)."""
    path = model_cfg.get("class_path") if model_cfg is not None else None
    if not path:
        return None
    module, _, name = path.rpartition(".")
    try:
        cls = getattr(__import__(module, fromlist=[name]), name)
    except (ImportError, AttributeError):
        return None
    return "finetune" if callable(getattr(cls, "stages", None)) else None


def _plain(value):
    """A config value as plain Python (jsonargparse Namespaces as dicts, tuples as lists)."""
    if isinstance(value, Namespace):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# Settings a config may leave to the data (null): the checkpoint's value is what the data
# decided, not a change (MLPModule's layer_sizes under hidden_sizes).
_FROM_DATA = ("layer_sizes",)


def _model_changes(checkpoint: dict, model_cfg) -> list[tuple[str, object, object]]:
    if model_cfg is None:
        return []
    changes = runs.model_changes(checkpoint, model_cfg.get("class_path"),
                                 _plain(model_cfg.get("init_args") or {}), _plain)
    return [c for c in changes if not (c[0] in _FROM_DATA and c[2] is None)]


def _arrows(changes) -> str:
    """'layer_sizes [64, 128, 10] -> [64, 64, 10]; lr 0.003 -> 0.01' (checkpoint -> now)."""
    return "; ".join(f"{k} {old!r} -> {new!r}" for k, old, new in changes)


def _check_weights_fit(model, resolved: runs.Candidate) -> None:
    """With changed settings, the checkpoint's weights must still fit the model's tensors."""
    wrong = runs.weights_mismatch(resolved.checkpoint.get("state_dict") or {},
                                  model.state_dict())
    if wrong:
        raise InputError(
            f"the weights of {resolved.path} do not fit the model: {'; '.join(wrong)}",
            "--ckpt_path",
        )


def _storage_argument(cfg) -> str:
    logger = cfg.trainer.get("logger")
    if _is_tensorboard(logger):
        return "--trainer.logger.init_args.save_dir"
    return "--trainer.default_root_dir"


# ---- helpers ----------------------------------------------------------------------------------


def _arrange_callbacks(trainer) -> None:
    """ExactResume first (not a YAML option: a resume without it is not exact), then the NaN
    guard, so a non-finite loss stops training before any other callback sees it. Lightning's
    default progress bar (a config that names none) becomes the app's."""
    guards = [c for c in trainer.callbacks if isinstance(c, FiniteLossGuard)]
    others = [_app_bar(c) for c in trainer.callbacks if not isinstance(c, FiniteLossGuard)]
    trainer.callbacks = [ExactResume(), *guards, *others]


def _app_bar(callback):
    if type(callback) is TQDMProgressBar:
        return AppProgressBar(refresh_rate=callback.refresh_rate,
                              process_position=callback.process_position)
    return callback


@contextlib.contextmanager
def _quiet(logger: logging.Logger):
    """Info lines of `logger` held back (warnings still shown)."""
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _init_params(class_path: str) -> set[str]:
    """The __init__ parameters of the class at `class_path` and its bases (empty if it is
    not importable)."""
    from lightning_app.failures import init_params

    module, _, name = class_path.rpartition(".")
    try:
        cls = getattr(__import__(module, fromlist=[name]), name)
    except (ImportError, AttributeError):
        return set()
    return init_params(cls)


def _is_progress_bar(callback_cfg) -> bool:
    path = callback_cfg.get("class_path", "") if hasattr(callback_cfg, "get") else ""
    if not path:
        return isinstance(callback_cfg, ProgressBar)
    return path.rsplit(".", 1)[-1].endswith("ProgressBar")


def _print(trainer, text: str) -> None:
    if trainer.is_global_zero and text:
        print(text, flush=True)


def _info(text: str) -> None:
    print(text, flush=True)


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


def _is_tensorboard(logger_cfg) -> bool:
    if logger_cfg is None or isinstance(logger_cfg, bool | list):
        return False
    class_path = logger_cfg.get("class_path", "") if hasattr(logger_cfg, "get") else ""
    return class_path.endswith("TensorBoardLogger")


def _log_dir(trainer) -> str | None:
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.log_dir
    return None


def _has_test_data(datamodule) -> bool:
    if datamodule is None:
        return False
    from lightning.pytorch.utilities.model_helpers import is_overridden

    return is_overridden("test_dataloader", datamodule, LightningDataModule)


def _metric_line(trainer) -> str:
    return board.final_metrics_line(trainer.callback_metrics)


def _tensorboard_lines(trainer) -> list[str]:
    log_dir = _log_dir(trainer)
    if log_dir is None:
        return ["no TensorBoard logs were written (no TensorBoardLogger or fast_dev_run)"]
    root = str(Path(log_dir).parent)
    return [
        f"TensorBoard logs: {log_dir}",
        f"view them with:  tensorboard --logdir {shlex.quote(_pretty(root))}",
    ]


def _pretty(path: str) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def resolve_config(value: str) -> str:
    """A config path as given, or the shipped config of that name (`xor`, `xor.yaml`)."""
    if Path(value).is_file():
        return value
    name = value if value.endswith((".yaml", ".yml")) else f"{value}.yaml"
    shipped = CONFIG_DIR / Path(name).name
    return str(shipped) if shipped.is_file() else value


def _with_configs(args: list[str]) -> list[str]:
    out: list[str] = []
    has_config = False
    it = iter(range(len(args)))
    for i in it:
        a = args[i]
        if a in ("--config", "-c") and i + 1 < len(args):
            out += [a, resolve_config(args[i + 1])]
            next(it, None)
            has_config = True
        elif a.startswith("--config="):
            out.append("--config=" + resolve_config(a.split("=", 1)[1]))
            has_config = True
        else:
            out.append(a)
    if out and out[0] in SUBCOMMANDS and not has_config:
        out = [out[0], "--config", str(DEFAULT_CONFIG), *out[1:]]
    return out


def _resume_hint(argv: list[str]) -> str:
    kept, skip = [], False
    for a in argv:
        if skip or a.startswith("--ckpt_path="):
            skip = False
            continue
        if a == "--ckpt_path":
            skip = True
            continue
        kept.append(a)
    return " ".join([command_name(), shlex.join([*kept, "--ckpt_path", "last"])])


def _fail(line: str, status: int) -> None:
    print(line, file=sys.stderr, flush=True)
    raise SystemExit(status) from None


def main(args: list[str] | None = None) -> None:
    """Entry point of `python -m lightning_app`."""
    quiet_known_warnings()
    typed = list(sys.argv[1:] if args is None else args)
    argv = _with_configs(typed)
    if args is None:
        # DDP's launcher re-runs this command for the other ranks from sys.argv.
        sys.argv = [sys.argv[0], *argv]
    session = Session(argv, typed)
    main_thread = threading.current_thread() is threading.main_thread()
    sigint = signal.getsignal(signal.SIGINT) if main_thread else None
    try:
        # From the command line LightningCLI reads the (expanded) sys.argv itself; passing it
        # as `args` too makes Lightning warn about "both args and command line arguments".
        AppCLI(args=None if args is None else argv, session=session)
    except InputError as exc:
        session.remove_created()
        _fail(input_error_line(exc), EXIT_INPUT)
    except ArgumentError as exc:
        _fail(parse_error_line(exc), EXIT_INPUT)
    except NonFiniteLossError as exc:
        session.remove_created()
        cb = session.checkpoint
        last = getattr(cb, "last_model_path", "") or "none (no step ended with a finite loss)"
        step = f" (step {cb.last_step})" if cb is not None and cb.last_step is not None else ""
        _fail(f"error: {exc} Last good checkpoint: {last}{step}.", EXIT_NAN)
    except OSError as exc:
        if exc.errno not in runs.STORAGE_ERRNOS:
            raise
        session.remove_created()
        where = f" {exc.filename}" if exc.filename else ""
        _fail(f"error: {session.storage_argument}: cannot write{where}: "
              f"{exc.strerror or exc}; free space or choose another folder", EXIT_INPUT)
    except (KeyboardInterrupt, SystemExit) as exc:
        cb = session.checkpoint
        # Lightning ends a run interrupted by Ctrl-C with SystemExit(1), SIGINT ignored.
        by_ctrl_c = (
            isinstance(exc, KeyboardInterrupt)
            or (cb is not None and cb.interrupted_at is not None)
            or (main_thread and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
                and sigint is not signal.SIG_IGN)
        )
        if not by_ctrl_c:
            raise
        if cb is not None and cb.interrupted_at is not None and cb.last_model_path:
            hint = _resume_hint(session.typed)
            _fail(f"interrupted: stopped after step {cb.interrupted_at}; {cb.last_model_path} "
                  f"holds those weights. Continue with: {hint}", EXIT_INTERRUPT)
        _fail("interrupted", EXIT_INTERRUPT)
    finally:
        if main_thread and sigint is not None:
            signal.signal(signal.SIGINT, sigint)


if __name__ == "__main__":  # pragma: no cover
    main()
