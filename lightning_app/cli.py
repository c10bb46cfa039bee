"""The app's command line: LightningCLI with the project's defaults, resume and reporting.

Imports lightning and the app's modules (which import torchref); never scratch.

    python -m lightning_app fit --config lightning_app/configs/mlp_digits.yaml
    python -m lightning_app fit --config xor            # a shipped config, by name
    python -m lightning_app fit --config mlp_digits --ckpt_path last   # resume the latest run
    python -m lightning_app test --config mlp_digits --ckpt_path PATH.ckpt
    python -m lightning_app fit --config mlp_digits --print_config

What it adds to LightningCLI:
- `fit`/`validate`/`test`/`predict` without `--config` use the default config (mlp_digits);
  `--config NAME` finds a shipped config by name.
- Always-on parts, configurable from YAML or flags: `--checkpoint.*` (ModelCheckpoint,
  `save_last=True`), `--nan_guard.*` (FiniteLossGuard), atomic checkpoint files
  (AtomicCheckpointIO) and the random state in every checkpoint (ExactResume).
- `--ckpt_path last` continues the newest run of the config (same TensorBoard run
  directory), unless a logger version is given.
- After `fit`, the final weights are tested (`--test_after_fit false` to skip), and the CLI
  prints the test metric, the log directory and the `tensorboard --logdir ...` command.
- A model with stages (`StackedAutoencoderModule`) is fitted stage after stage, each stage a
  separate Trainer run logged under the run's directory (see `fit`).
- Data and NaN errors end the program with one line on stderr and exit status 2/1 instead
  of a traceback.
"""

from __future__ import annotations

import re
import shlex
import sys
import warnings
from pathlib import Path

import torch
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import TensorBoardLogger

from lightning_app.callbacks import FiniteLossGuard, NonFiniteLossError
from lightning_app.checkpointing import ExactResume
from lightning_app.data import DataError

# Lightning 2.6's own pytree helper trips a torch deprecation on every run; it is not
# actionable by our users, so keep it out of their console.
warnings.filterwarnings(
    "ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning
)

__all__ = ["AppCLI", "CONFIG_DIR", "DEFAULT_CONFIG", "main", "resolve_config"]

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "mlp_digits.yaml"
SUBCOMMANDS = ("fit", "validate", "test", "predict")


class AppCLI(LightningCLI):
    """LightningCLI over every LightningModule / LightningDataModule (class_path selects)."""

    def __init__(self, args=None, run: bool = True, **kwargs) -> None:
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        super().__init__(
            model_class=LightningModule,
            datamodule_class=LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=args,
            run=run,
            **kwargs,
        )

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True})
        parser.add_lightning_class_args(FiniteLossGuard, "nan_guard")
        parser.add_argument(
            "--test_after_fit", type=bool, default=True,
            help="after fit, test the final weights and print the test metric",
        )
        parser.add_argument(
            "--num_threads", type=int | None, default=None,
            help="torch.set_num_threads for this process (default: torch's choice, one per "
            "core); 1 is fastest for small MLPs and on a busy machine",
        )
        parser.set_defaults(
            {"trainer.plugins": [{"class_path": "lightning_app.checkpointing.AtomicCheckpointIO"}]}
        )

    def before_instantiate_classes(self) -> None:
        threads = self._get(self.config, "num_threads")
        if threads is not None:
            if threads < 1:
                raise ValueError(f"num_threads must be an integer >= 1, got {threads}")
            torch.set_num_threads(threads)
        if self.subcommand == "fit":
            self._resume_into_latest_run(self.config["fit"])

    def _resume_into_latest_run(self, cfg) -> None:
        """`fit --ckpt_path last` continues the newest run directory of this config."""
        if cfg.get("ckpt_path") != "last":
            return
        logger = cfg.trainer.get("logger")
        if not _is_tensorboard(logger):
            return
        init = logger.init_args
        if init.get("version") is not None:
            return
        root = Path(init.get("save_dir") or "logs") / str(init.get("name") or "lightning_logs")
        latest = _latest_version(root)
        if latest is not None:
            init.version = latest

    def instantiate_trainer(self, **kwargs):
        trainer = super().instantiate_trainer(**kwargs)
        # Always saved in checkpoints: not a YAML option (a resume without it is not exact).
        trainer.callbacks.insert(0, ExactResume())
        return trainer

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
        if ckpt_path is not None:
            raise ValueError(
                "ckpt_path is not supported for a staged model: each stage is a separate run; "
                "rerun the pipeline"
            )
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
        trainer = self._instantiate_trainer(trainer_cfg, extra)
        trainer.callbacks.insert(0, ExactResume())
        return trainer

    # -- reporting
    def before_fit(self) -> None:
        log_dir = _log_dir(self.trainer)
        if log_dir is not None:
            _print(self.trainer, f"logging to {log_dir}")

    def after_fit(self) -> None:
        trainer = self.trainer
        if self.config["fit"].get("test_after_fit", True) and _has_test_data(self.datamodule):
            trainer.test(self.model, datamodule=self.datamodule, verbose=False)
        lines = [_metric_line(trainer)]
        report = getattr(self.model, "report", None)
        if callable(report):
            lines.append(report(self.datamodule))
        ckpt = getattr(trainer.checkpoint_callback, "last_model_path", "")
        if ckpt:
            lines.append(f"last checkpoint: {ckpt}")
        lines += _tensorboard_lines(trainer)
        _print(trainer, "\n".join(line for line in lines if line))

    def predict(self, model, **kwargs) -> None:
        self._predictions = self.trainer.predict(model, **kwargs)

    def after_predict(self) -> None:
        batches = getattr(self, "_predictions", None) or []
        rows = torch.cat([b.reshape(b.shape[0], -1) for b in batches]) if batches else None
        if rows is None:
            return
        if rows.shape[1] == 1:
            first = f"; first: {rows[:10, 0].tolist()}"
        else:
            first = f" of {rows.shape[1]} values"
        _print(self.trainer, f"predicted {rows.shape[0]} rows{first}")

    def after_validate(self) -> None:
        _print(self.trainer, _metric_line(self.trainer))

    def after_test(self) -> None:
        _print(self.trainer, _metric_line(self.trainer))


def _print(trainer, text: str) -> None:
    if trainer.is_global_zero and text:
        print(text, flush=True)


def _is_tensorboard(logger_cfg) -> bool:
    if logger_cfg is None or isinstance(logger_cfg, bool | list):
        return False
    class_path = logger_cfg.get("class_path", "") if hasattr(logger_cfg, "get") else ""
    return class_path.endswith("TensorBoardLogger")


def _latest_version(root: Path):
    if not root.is_dir():
        return None
    versions = [
        (int(m.group(1)), p.name)
        for p in root.iterdir()
        if p.is_dir() and (m := re.fullmatch(r"version_(\d+)", p.name))
    ]
    return max(versions)[0] if versions else None


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
    metrics = trainer.callback_metrics
    parts = []
    for key in ("test_acc", "test_mse", "test_loss", "val_acc", "val_loss"):
        if key in metrics:
            value = float(metrics[key])
            parts.append(f"{key.replace('_', ' ')}: {value:.4f}")
            if key.startswith("test") and key != "test_loss":
                break
    return "final " + ", ".join(parts) if parts else ""


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


def main(args: list[str] | None = None) -> None:
    """Entry point of `python -m lightning_app`."""
    argv = list(sys.argv[1:] if args is None else args)
    argv = _with_configs(argv)
    if args is None:
        # DDP's launcher re-runs this command for the other ranks from sys.argv.
        sys.argv = [sys.argv[0], *argv]
    try:
        # From the command line LightningCLI reads the (expanded) sys.argv itself; passing it
        # as `args` too makes Lightning warn about "both args and command line arguments".
        AppCLI(args=None if args is None else argv)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except NonFiniteLossError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":  # pragma: no cover
    main()
