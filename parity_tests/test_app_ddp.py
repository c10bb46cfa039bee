"""Scale-out on CPU: two DDP processes (gloo) with batch B each train the same network as one
process with batch 2B, because each global batch is split between the ranks by the app's
loader and DDP averages the two halves' mean gradients. Once with two processes of one
launcher (ddp_spawn), once as two "nodes" (two torchrun launchers on loopback)."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys

import lightning.pytorch as pl
import pytest
import torch
import yaml

from lightning_app.data import DigitsDataModule
from lightning_app.models import MLPModule
from parity_tests.app_support import run_cli
from parity_tests.helpers import F64, assert_close

STEPS = 8
B = 16


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _trainer(**kwargs) -> pl.Trainer:
    return pl.Trainer(
        accelerator="cpu", precision="64-true", max_steps=STEPS, limit_val_batches=0,
        num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, **kwargs,
    )


@pytest.mark.slow
def test_two_ddp_processes_with_batch_b_equal_one_process_with_batch_2b(monkeypatch):
    # One thread per process (the spawned ranks read OMP_NUM_THREADS): two processes share
    # the machine's cores.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.manual_seed(0)
    # SGD with momentum: the update depends on every earlier gradient, so any difference in
    # a single step's batch or averaging would carry to the end. No dropout/batch norm: those
    # are per-process by design (masks and batch statistics of each half).
    one = MLPModule(layer_sizes=(64, 32, 10), optimizer="momentum", lr=0.05).double()
    two = copy.deepcopy(one)
    start = [p.detach().clone() for p in one.parameters()]

    _trainer(devices=1).fit(one, datamodule=DigitsDataModule(batch_size=2 * B, seed=1))
    # ddp_spawn: two fresh processes (gloo on CPU, a free port chosen by Lightning); the
    # trained weights come back into `two` in this process.
    _trainer(devices=2, strategy="ddp_spawn").fit(
        two, datamodule=DigitsDataModule(batch_size=B, seed=1)
    )
    moved = max(float((p - s).abs().max()) for p, s in zip(one.parameters(), start,
                                                              strict=True))
    assert moved > 1e-3
    for a, b in zip(one.parameters(), two.parameters(), strict=True):
        # float64: the two sides only differ in summation order (mean of two half-batch
        # means vs one mean over 2B rows).
        assert_close(b, a, **F64)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_torchrun_nodes_with_batch_b_equal_one_process_with_batch_2b(tmp_path):
    # Two "machines" on loopback: two torchrun launchers (one per node, one process each)
    # meeting at a c10d rendezvous; Lightning reads torchrun's environment (RANK, WORLD_SIZE,
    # GROUP_RANK, MASTER_ADDR, ...). The app's command line on both, gloo on CPU.
    config = tmp_path / "two_nodes.yaml"
    config.write_text(yaml.safe_dump({
        "seed_everything": 0, "num_threads": 1, "test_after_fit": False,
        "trainer": {
            "accelerator": "cpu", "strategy": "ddp", "num_nodes": 2, "devices": 1,
            "precision": "64-true", "max_steps": STEPS, "limit_val_batches": 0,
            "num_sanity_val_steps": 0, "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {"class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                       "init_args": {"save_dir": str(tmp_path / "logs"), "name": "two"}},
        },
        "model": {"class_path": "lightning_app.models.MLPModule",
                  "init_args": {"layer_sizes": [64, 32, 10], "optimizer": "momentum",
                                "lr": 0.05}},
        "data": {"class_path": "lightning_app.data.DigitsDataModule",
                 "init_args": {"batch_size": B, "seed": 1}},
    }))
    port = _free_port()
    launch = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2",
              "--nproc-per-node", "1", "--rdzv-backend", "c10d", "--rdzv-endpoint",
              f"127.0.0.1:{port}", "--rdzv-id", "appux", "-m", "lightning_app", "fit",
              "--config", str(config)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    nodes = [subprocess.Popen(launch, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [node.communicate(timeout=300) for node in nodes]
    for node, (_, err) in zip(nodes, results, strict=True):
        assert node.returncode == 0, err[-3000:]
    errs = "".join(err for _, err in results)
    assert "GLOBAL_RANK: 0, MEMBER: 1/2" in errs and "GLOBAL_RANK: 1, MEMBER: 2/2" in errs
    # The reference: one process, batch 2B, the same command line.
    run_cli(["fit", "--config", str(config), "--trainer.strategy", "auto",
             "--trainer.num_nodes", "1", "--data.init_args.batch_size", str(2 * B),
             "--trainer.logger.init_args.name", "one"])
    two = torch.load(tmp_path / "logs" / "two" / "version_0" / "checkpoints" / "last.ckpt",
                     weights_only=True)
    one = torch.load(tmp_path / "logs" / "one" / "version_0" / "checkpoints" / "last.ckpt",
                     weights_only=True)
    assert two["global_step"] == one["global_step"] == STEPS
    assert set(two["state_dict"]) == set(one["state_dict"])
    for key, value in one["state_dict"].items():
        assert_close(two["state_dict"][key], value, **F64)
