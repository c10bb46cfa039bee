"""A trained run as the plain torchref module it trained, for use outside Lightning.

Imports torch, lightning (to rebuild the LightningModule from its checkpoint) and torchref.

    from lightning_app import load_model
    from torchref.mlp import to_numpy_params

    model = load_model("logs/wine/version_0/checkpoints/last.ckpt")   # eval mode, on the CPU
    logits = model(torch.as_tensor(x_raw, dtype=torch.float32))       # standardizes, then the MLP
    model.net              # the torchref module: torchref.mlp.MLP, an Autoencoder, an Ensemble
    model.standardize      # torchref.preprocessing.Standardize with the training split's
                           # mean and scale (mean 0, scale 1 if the run did not standardize)
    params = to_numpy_params(model)   # [W1, b1, W2, b2, ...] for scratch.mlp

`model(x)` is `model.net(model.standardize(x))`: what the Lightning module computed in
training (logits for an MLP, reconstructions for an autoencoder, averaged probabilities for an
ensemble).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from lightning_app.checks import InputError
from lightning_app.runs import read_checkpoint
from torchref.preprocessing import Standardize

__all__ = ["load_model"]


def _lightning_class(class_path: str, source: Path):
    module, _, name = class_path.rpartition(".")
    try:
        return getattr(__import__(module, fromlist=[name]), name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"{source}: its model class {class_path!r} cannot be imported "
                         f"({exc})", "ckpt_path") from exc


def load_model(ckpt_path: str | Path, map_location: str | torch.device = "cpu") -> nn.Sequential:
    """The torchref module a checkpoint of the app holds, in eval mode, preceded by its
    standardization: `nn.Sequential(standardize=Standardize, net=<torchref module>)`.

    A missing or damaged file, or a checkpoint that is not the app's, is an `InputError`
    naming `ckpt_path`.
    """
    path = Path(ckpt_path).expanduser()
    if not path.is_file():
        raise InputError(f"no checkpoint file {str(path)!r}", "ckpt_path")
    checkpoint = read_checkpoint(path)
    if checkpoint is None:
        raise InputError(f"{path} is damaged (empty, truncated or not a checkpoint)",
                         "ckpt_path")
    class_path = (checkpoint.get("hyper_parameters") or {}).get("_class_path")
    if not class_path:
        raise InputError(f"{path} was not written by the app (no model class in its "
                         "hyper-parameters)", "ckpt_path")
    cls = _lightning_class(class_path, path)
    module = cls.load_from_checkpoint(path, map_location=map_location, weights_only=True)
    net = module.net
    scaler = Standardize()
    if module._standardizes:
        scaler.mean = module.input_scaler.mean.detach().clone()
        scaler.scale = module.input_scaler.scale.detach().clone()
    else:  # the identity, so `model.standardize` always has a mean and a scale
        weight = next(net.parameters())
        d = module.input_size
        scaler.mean = torch.zeros(d, dtype=weight.dtype, device=weight.device)
        scaler.scale = torch.ones(d, dtype=weight.dtype, device=weight.device)
    model = nn.Sequential(OrderedDict(standardize=scaler, net=net))
    return model.eval()
