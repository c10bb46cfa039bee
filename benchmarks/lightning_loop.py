"""Case 3: seconds per epoch of the app's Lightning training against a plain PyTorch loop.

Imports torch, lightning, yaml and lightning_app (the app's own module, data and CLI).
Measures, never asserts. `benchmarks.gpu` reuses `Workload`, `measure_workload` on CUDA.

Same model (the app's `MLPModule`, reset to one saved initial state before every run), same
data and batch order (the app's DataModule; the order of epoch e is the app's
`EpochSampler`'s permutation for (seed, e)), same optimizer and schedule (the module's
`configure_optimizers`), same number of epochs and threads. Training only: validation and
the sanity check are off in every Lightning setup, so both sides do the same work.

The plain loop does what the app's `training_step` does, by hand: forward, loss, the
torchmetrics accuracy update and the epoch's loss sum, `zero_grad(set_to_none=True)`,
backward, optimizer step; the scheduler steps once per epoch.

Lightning setups:
  app       the Trainer that `python -m lightning_app fit --config <config>` builds (the
            config's logger, callbacks, progress bar, checkpointing, the CLI's always-on
            callbacks and atomic checkpoint IO), built by the app's own CLI, with its default
            `steps_per_execution` ("auto": k optimizer steps per Lightning step on in-memory
            data, `lightning_app.execution`).
  app_k1    the same with `--data.init_args.steps_per_execution 1` (one optimizer step per
            Lightning step, as before the option existed).
  bare      `Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False,
            enable_model_summary=False)`, one step per Lightning step: Lightning's loop alone.
  bare_chunked  the bare Trainer with the data module's default `steps_per_execution`.
  defaults  `Trainer()` with Lightning's defaults (progress bar refreshed every step, model
            summary, a checkpoint every epoch, a TensorBoard logger), one step per Lightning
            step: a default Lightning setup.
Loaders: `memory` is the app's `TensorBatchLoader` (one gather per epoch, then slices);
`dataloader` is a standard `torch.utils.data.DataLoader` over a `TensorDataset` (per-sample
indexing and the default collate) with a sampler that yields the same permutation (one
batch per Lightning step: the chunked setups have no DataLoader rows).

Rows: s/epoch = wall time / epochs, with Trainer construction excluded (the `fit` call
only) and included (Trainer construction + `fit`). The plain loop times the same span
(building the optimizer included); it has no Trainer, so both of its rows are one timing.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import logging
import os
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from benchmarks.common import Ratio, Row, case_result, threads

TITLE = "Lightning vs a plain PyTorch loop: seconds per epoch (CPU)"
SETUPS = ("app", "app_k1", "bare", "bare_chunked", "defaults")
CHUNKED = ("app", "bare_chunked")  # the setups whose k comes from `steps_per_execution`
LOADERS = ("memory", "dataloader")
PARITY_TOL = 1.5e-5  # numpy.testing.assert_almost_equal(decimal=5), as Lightning's parity test


def app_config_path(name: str = "mlp_digits") -> Path:
    from lightning_app.cli import CONFIG_DIR

    return CONFIG_DIR / f"{name}.yaml"


@dataclass
class Workload:
    """A model + data + epochs, as an app config file (the CLI reads the same file)."""

    name: str
    config: Path
    epochs: int
    threads: int
    target: float
    accelerator: str = "cpu"
    extra_args: list[str] = field(default_factory=list)

    def spec(self) -> dict:
        return yaml.safe_load(self.config.read_text())


def digits_workload(quick: bool) -> Workload:
    spec = yaml.safe_load(app_config_path().read_text())
    return Workload(
        name="mlp_digits 64-128-10 b32 (app config)",
        config=app_config_path(),
        epochs=3 if quick else int(spec["trainer"]["max_epochs"]),
        # The config's own thread count (it trains on one thread); both sides use it.
        threads=int(spec.get("num_threads") or 1),
        target=1.3,  # issue 18: app (steps_per_execution auto) / plain
    )


def large_workload(workdir: Path, quick: bool, n_threads: int, n_train: int | None = None,
                   batch: int = 256) -> Workload:
    """784-512-256-10 on synthetic 28x28-sized data, through the app's .npz data path."""
    n = n_train or (2048 if quick else 60000)  # MNIST's training-set shape, 60000 x 784
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 784)).astype(np.float32)  # (N, 784)
    teacher = rng.standard_normal((784, 10)).astype(np.float32)
    y = np.argmax(x @ teacher, axis=1)  # (N,) labels a model can learn
    npz = workdir / f"synthetic_784_{n}.npz"
    np.savez(npz, x=x, y=y)
    spec = yaml.safe_load(app_config_path().read_text())
    spec["model"]["init_args"].pop("hidden_sizes", None)  # the digits config's widths
    spec["model"]["init_args"]["layer_sizes"] = [784, 512, 256, 10]
    spec["model"]["init_args"]["lr"] = 1e-3
    spec["data"] = {
        "class_path": "lightning_app.data.NpzDataModule",
        "init_args": {"path": str(npz), "batch_size": batch, "val_fraction": 0.1,
                      "test_fraction": 0.0, "seed": 0},
    }
    spec["trainer"]["logger"]["init_args"]["name"] = "mlp_784"
    spec["num_threads"] = n_threads
    cfg = workdir / "mlp_784.yaml"
    cfg.write_text(yaml.safe_dump(spec, sort_keys=False))
    return Workload(
        name=f"784-512-256-10 b{batch} synthetic ({n} samples)",
        config=cfg,
        epochs=1 if quick else 3,
        threads=n_threads,
        target=1.05,
    )


# ---- building the app's objects ----------------------------------------------------------


def _instantiate(spec: dict):
    module, _, cls = spec["class_path"].rpartition(".")
    return getattr(importlib.import_module(module), cls)(**(spec.get("init_args") or {}))


def build_module_and_data(wl: Workload):
    spec = wl.spec()
    return ready(_instantiate(spec["model"]), _instantiate(spec["data"]))


def ready(module, dm):
    """The data loaded and split, and the module fitted to them (a config's `hidden_sizes`
    waits for the data's widths), as the app's `setup("fit")` does before training."""
    dm.setup("fit")
    module.fit_to_data(dm)
    return module, dm


class PermutationSampler(torch.utils.data.Sampler):
    """A standard Sampler yielding the app's permutation of epoch e (`EpochSampler.order`)."""

    def __init__(self, n: int, shuffle: bool, seed: int) -> None:
        from lightning_app.loader import EpochSampler

        self.inner = EpochSampler(n, shuffle, seed)

    def set_epoch(self, epoch: int) -> None:
        self.inner.set_epoch(epoch)

    def __iter__(self):
        order = self.inner.order()
        return iter(range(self.inner.n) if order is None else order.tolist())

    def __len__(self) -> int:
        return self.inner.n


def standard_loader(dm) -> torch.utils.data.DataLoader:
    x, y = dm.split("train")
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=dm.batch_size,
        sampler=PermutationSampler(x.shape[0], dm.shuffle, dm.seed),
        drop_last=dm.drop_last,
    )


def use_standard_loader(dm) -> None:
    """Make `dm.train_dataloader()` return a standard DataLoader (same batches, same order,
    one batch per Lightning step)."""
    dm.steps_per_execution = 1
    dm.train_dataloader = lambda: standard_loader(dm)


# ---- the two ways to train ---------------------------------------------------------------


def plain_fit(module, dm, epochs: int, device: str = "cpu") -> float:
    """The hand-written loop; returns the wall time of training (optimizer built inside,
    data loaded before the clock starts)."""
    dm.setup("fit")
    module.to(device)
    if device != "cpu":
        # Data resident on the device, as the app's `data_on_device` keeps it.
        dm.splits = {k: tuple(t.to(device) for t in v) for k, v in dm.splits.items()}
    loader = dm.train_dataloader()
    sampler = loader.sampler
    metric = module.train_metric
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    t0 = time.perf_counter()
    conf = module.configure_optimizers()
    opt = conf["optimizer"] if isinstance(conf, dict) else conf
    sched = conf["lr_scheduler"]["scheduler"] if isinstance(conf, dict) else None
    module.train()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        loss_sum, seen = None, 0
        for x, y in loader:
            if x.device.type != device.split(":")[0]:
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = module(x)
            loss = module.loss(logits, y)
            metric.update(module._metric_input(logits.detach()), y)
            n = x.shape[0]
            d = loss.detach() * n
            loss_sum = d if loss_sum is None else loss_sum.add_(d)
            seen += n
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        metric.compute()
        metric.reset()
        float(loss_sum / seen)  # the epoch's mean loss, read once per epoch
        if sched is not None:
            sched.step()
    sync()
    return time.perf_counter() - t0


def bare_trainer(wl: Workload, root: Path, setup: str):
    import lightning.pytorch as pl

    common = {"max_epochs": wl.epochs, "accelerator": wl.accelerator, "devices": 1,
              "limit_val_batches": 0, "num_sanity_val_steps": 0, "default_root_dir": str(root)}
    if setup in ("bare", "bare_chunked"):
        return pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False,
                          enable_model_summary=False, **common)
    return pl.Trainer(**common)  # Lightning's defaults


def app_cli(wl: Workload, root: Path, setup: str = "app"):
    """The app's CLI with `run=False`: model, data and Trainer exactly as `fit` builds them.

    Returns the CLI; `cli.trainer_build_s` is the time its Trainer construction took.
    """
    from lightning_app.cli import AppCLI

    class TimedCLI(AppCLI):
        def instantiate_trainer(self, **kwargs):
            t0 = time.perf_counter()
            trainer = super().instantiate_trainer(**kwargs)
            self.trainer_build_s = time.perf_counter() - t0
            return trainer

    args = [
        "--config", str(wl.config),
        *(["--data.init_args.steps_per_execution", "1"] if setup == "app_k1" else []),
        "--trainer.max_epochs", str(wl.epochs),
        "--trainer.accelerator", wl.accelerator,
        "--trainer.limit_val_batches", "0",
        "--trainer.num_sanity_val_steps", "0",
        "--trainer.logger.init_args.save_dir", str(root / "logs"),
        "--checkpoint.dirpath", str(root / "checkpoints"),
        "--num_threads", str(wl.threads),
        *wl.extra_args,
    ]
    return TimedCLI(args=args, run=False)


@contextlib.contextmanager
def quiet():
    """No progress bars or info lines on the terminal while timing (they go to /dev/null)."""
    names = ("lightning.pytorch", "lightning.fabric", "lightning")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink), \
            contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            for n, lv in levels.items():
                logging.getLogger(n).setLevel(lv)


def train_loss(module, dm) -> float:
    """Mean loss of the final weights on the whole training split (no_grad, eval mode)."""
    x, y = dm.split("train")
    was = module.training
    module.eval()
    with torch.no_grad():
        value = float(module.loss(module(x.to(module.device)), y.to(module.device)))
    module.train(was)
    return value


def one_run(wl: Workload, kind: str, loader: str, init_state: dict, workdir: Path) -> dict:
    """One timed training run; returns excluded/included seconds and the final loss."""
    root = Path(tempfile.mkdtemp(dir=workdir))
    device = "cuda" if wl.accelerator == "gpu" else "cpu"
    with quiet():
        if kind == "plain":
            module, dm = build_module_and_data(wl)
            module.load_state_dict(init_state)
            if loader == "dataloader":
                use_standard_loader(dm)
            seconds = plain_fit(module, dm, wl.epochs, device)
            return {"excluded": seconds, "included": seconds, "loss": train_loss(module, dm)}
        if kind in ("app", "app_k1"):
            cli = app_cli(wl, root, kind)
            (module, dm), trainer = ready(cli.model, cli.datamodule), cli.trainer
            build = cli.trainer_build_s
        else:
            module, dm = build_module_and_data(wl)
            if kind not in CHUNKED:
                dm.steps_per_execution = 1
            t0 = time.perf_counter()
            trainer = bare_trainer(wl, root, kind)
            build = time.perf_counter() - t0
        # The data were loaded and split before the clock starts (`ready`), as plain_fit
        # does: Lightning's own `setup` call inside `fit` then finds them loaded (reading the
        # data is not the loop's cost and must not be timed on one side only).
        module.load_state_dict(init_state)
        if loader == "dataloader":
            use_standard_loader(dm)
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        sync()
        t0 = time.perf_counter()
        trainer.fit(module, datamodule=dm)
        sync()
        seconds = time.perf_counter() - t0
        return {"excluded": seconds, "included": seconds + build, "loss": train_loss(module, dm)}


def initial_state(wl: Workload) -> dict:
    module, _ = build_module_and_data(wl)
    return copy.deepcopy(module.state_dict())


def measure_workload(wl: Workload, repeats: int, workdir: Path, setups=SETUPS,
                     loaders=LOADERS, repeats_cap: int | None = None) -> list[Row]:
    """Interleaved runs of the plain loop and each Lightning setup; one Row per
    (setup, loader, construction excluded/included)."""
    if repeats_cap is not None:
        repeats = min(repeats, repeats_cap)
    init = initial_state(wl)
    kinds = ["plain", *setups]
    runs: dict[tuple[str, str], list[dict]] = {
        (k, ld): [] for k in kinds for ld in loaders if ld == "memory" or k not in CHUNKED}
    with threads(wl.threads):
        # Warm-up: one epoch of each, so imports and first-call costs are not timed.
        warm = Workload(**{**wl.__dict__, "epochs": 1})
        for key in runs:
            one_run(warm, *key, init, workdir)
        for r in range(repeats):
            order = list(runs) if r % 2 == 0 else list(runs)[::-1]
            for key in order:
                runs[key].append(one_run(wl, *key, init, workdir))
    rows = []
    for loader in loaders:
        plain = runs[("plain", loader)]
        for setup in setups:
            if (setup, loader) not in runs:
                continue
            light = runs[(setup, loader)]
            for span in ("excluded", "included"):
                samples = {
                    "plain": [r[span] / wl.epochs for r in plain],
                    "lightning": [r[span] / wl.epochs for r in light],
                }
                loss_p = statistics.median(r["loss"] for r in plain)
                loss_l = statistics.median(r["loss"] for r in light)
                target = {"target_op": "<=", "target": wl.target} if (
                    setup == "app" and span == "excluded") else {}
                rows.append(Row(
                    name=f"{wl.name} | {setup} | {loader} | Trainer construction {span}",
                    unit="s/epoch",
                    samples=samples,
                    ratios=[Ratio("lightning/plain", "lightning", "plain",
                                  what="seconds per epoch, Lightning / plain loop", **target)],
                    params={"workload": wl.name, "setup": setup, "loader": loader,
                            "trainer_construction": span, "epochs": wl.epochs,
                            "threads": wl.threads, "accelerator": wl.accelerator},
                    extra={"final_loss": {"plain": loss_p, "lightning": loss_l},
                           "loss_abs_diff": abs(loss_p - loss_l),
                           "same_loss_5_decimals": bool(abs(loss_p - loss_l) < PARITY_TOL),
                           "losses_all_runs": {"plain": [r["loss"] for r in plain],
                                               "lightning": [r["loss"] for r in light]}},
                ))
    return rows


# ---- the floor: Lightning's own cost per optimizer step ------------------------------------


def loop_overhead_row(repeats: int, steps: int = 2000, device: str = "cpu") -> Row:
    """Seconds per step of a 1-parameter model: plain loop vs bare Lightning. The step does
    almost nothing, so the difference is what Lightning's automatic-optimization loop itself
    costs per optimizer step (hooks, closure, optimizer wrapper, progress tracking)."""
    import lightning.pytorch as pl

    class Tiny(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1, device=device))

        def training_step(self, batch, batch_idx):
            return (self.w * batch[0]).sum()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.0)

    data = [(torch.ones(1, device=device),)] * steps

    def plain() -> float:
        model = Tiny()
        opt = model.configure_optimizers()
        t0 = time.perf_counter()
        for (x,) in data:
            loss = (model.w * x).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return (time.perf_counter() - t0) / steps

    def lightning() -> float:
        trainer = pl.Trainer(max_epochs=1, accelerator="gpu" if device == "cuda" else "cpu",
                             devices=1, logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False)
        loader = torch.utils.data.DataLoader(data, batch_size=None)
        t0 = time.perf_counter()
        trainer.fit(Tiny(), train_dataloaders=loader)
        return (time.perf_counter() - t0) / steps

    samples: dict[str, list[float]] = {"plain": [], "lightning": []}
    with quiet(), threads(1):
        plain()
        lightning()
        for r in range(repeats):
            for k in ("plain", "lightning") if r % 2 == 0 else ("lightning", "plain"):
                samples[k].append(plain() if k == "plain" else lightning())
    return Row(
        name="1-parameter model: Lightning's own cost per optimizer step",
        unit="s/step",
        samples=samples,
        ratios=[Ratio("lightning/plain", "lightning", "plain",
                      what="seconds per step of a step that does almost nothing")],
        params={"kind": "loop_overhead", "steps": steps, "device": device, "threads": 1},
    )


def run(cfg) -> dict:
    repeats = max(2, min(cfg.repeats, 5))
    with tempfile.TemporaryDirectory(prefix="torchref-bench-") as tmp:
        workdir = Path(tmp)
        rows = measure_workload(digits_workload(cfg.quick), repeats, workdir)
        rows += measure_workload(large_workload(workdir, cfg.quick, cfg.threads), repeats,
                                 workdir, repeats_cap=3)
        rows.append(loop_overhead_row(repeats))
    return case_result(
        TITLE, rows,
        notes="Training only (validation and sanity check off in every setup). Targets "
              "(app setup, Trainer construction excluded): <= 1.5 on mlp_digits, <= 1.05 on "
              "784-512-256-10. Final loss = mean training loss of the final weights; "
              "'same' means |plain - Lightning| < 1.5e-5 (5 decimals).",
        repeats=repeats,
    )
