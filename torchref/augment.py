"""Image data augmentation (G5) in PyTorch: F.affine_grid + F.grid_sample, and a random module.

Imports torch, `scratch.validation` and `scratch.augment`'s checks (not its computations;
torchvision is not available here). The geometry
is the one `scratch.augment` documents: A = R(angle) Sh(shear) St(stretch) S(scale) F(flip) about
the image centre in pixel units (x right, y down), resampled bilinearly with zeros outside, via
theta = D^(-1) A^(-1) D, D = diag(W/2, H/2), and align_corners=False. Images (N, H, W) or
(N, C, H, W); `RandomAugment` draws the notes' random parameters from a torch.Generator.

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: G5 -> torch.nn.functional:affine_grid, torch.nn.functional:grid_sample
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from scratch.augment import SCALE_RANGE, check_augment_hparams, check_image_shape, check_theta
from scratch.validation import check_ndim, check_not_empty, check_same_shape

__all__ = [
    "affine_matrices",
    "affine_transform_images",
    "augment_images",
    "sample_augment_params",
    "RandomAugment",
]

def _check_images(x: torch.Tensor) -> torch.Tensor:
    # scratch.augment's checks of x, shapes only (no device synchronization per batch)
    check_ndim("x", tuple(x.shape), (3, 4))
    check_not_empty("x", tuple(x.shape))
    return x


def affine_matrices(
    angle: torch.Tensor,
    scale: torch.Tensor,
    shear: torch.Tensor,
    stretch: torch.Tensor,
    flip: torch.Tensor,
    height: int,
    width: int,
) -> torch.Tensor:
    """theta (N, 2, 3) for `F.affine_grid` from (N,) parameters; see the module docstring.

    Catalog: G5.
    """
    c, s = torch.cos(angle), torch.sin(angle)
    zeros, ones = torch.zeros_like(angle), torch.ones_like(angle)

    def mats(a, b, cc, d):  # four (N,) tensors -> (N, 2, 2)
        return torch.stack([torch.stack([a, b], -1), torch.stack([cc, d], -1)], -2)

    A = (
        mats(c, s, -s, c)  # counter-clockwise on screen (y down)
        @ mats(ones, shear.to(angle), zeros, ones)
        @ mats(stretch.to(angle), zeros, zeros, 1 / stretch.to(angle))
        @ mats(scale.to(angle), zeros, zeros, scale.to(angle))
        @ mats(torch.where(flip.bool(), -ones, ones), zeros, zeros, ones)
    )
    D = torch.diag(torch.tensor([width / 2, height / 2], dtype=angle.dtype))
    theta = torch.linalg.inv(D) @ torch.linalg.inv(A) @ D  # (N, 2, 2)
    return torch.cat([theta, torch.zeros_like(theta[:, :, :1])], dim=2)  # (N, 2, 3)


def affine_transform_images(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Bilinear resampling at theta's source coordinates, zeros outside (align_corners=False).

    Catalog: G5.
    """
    x = _check_images(x)
    check_theta(tuple(theta.shape), tuple(x.shape))
    imgs = x if x.dim() == 4 else x.unsqueeze(1)  # (N, H, W) -> (N, 1, H, W)
    grid = F.affine_grid(theta.to(x.dtype), list(imgs.shape), align_corners=False)
    out = F.grid_sample(imgs, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out if x.dim() == 4 else out.squeeze(1)


def augment_images(
    x: torch.Tensor,
    angle: torch.Tensor,
    scale: torch.Tensor,
    shear: torch.Tensor,
    stretch: torch.Tensor,
    flip: torch.Tensor,
    noise: torch.Tensor,
) -> torch.Tensor:
    """Affine transform with the given (N,) parameters, then add `noise` (the shape of x).

    Catalog: G5.
    """
    x = _check_images(x)
    check_same_shape("noise", noise, "x", x)
    theta = affine_matrices(
        angle.to(torch.float64), scale, shear, stretch, flip, x.shape[-2], x.shape[-1]
    )
    return affine_transform_images(x, theta) + noise.to(x.dtype)


def sample_augment_params(
    shape: tuple[int, ...],
    generator: torch.Generator | None = None,
    noise: float = 0.05,
    max_shear: float = 0.2,
    max_stretch: float = 1.2,
    p_flip: float = 0.5,
    dtype: torch.dtype = torch.float64,
) -> dict[str, torch.Tensor]:
    """The notes' random draw (as `scratch.augment.sample_augment_params`), from a torch RNG.

    Returns a dict with angle, scale, shear, stretch (N,), flip (N,) bool and noise (shape),
    ready for `augment_images(x, **params)`.
    Catalog: G5.
    """
    shape = check_image_shape(shape)
    hp = check_augment_hparams(noise, max_shear, max_stretch, p_flip)
    eps, max_shear, max_stretch = hp["noise"], hp["max_shear"], hp["max_stretch"]
    p_flip = hp["p_flip"]
    n = shape[0]

    def u(lo, hi, size):
        return torch.empty(size, dtype=dtype).uniform_(lo, hi, generator=generator)

    return {
        "angle": u(0.0, 2 * math.pi, n),
        "scale": u(*SCALE_RANGE, n),
        "shear": u(-max_shear, max_shear, n),
        "stretch": max_stretch ** u(-1.0, 1.0, n),
        "flip": torch.rand(n, generator=generator) < p_flip,
        "noise": u(-eps, eps, tuple(shape)),
    }


class RandomAugment(nn.Module):
    """Apply a fresh random augmentation to every batch in train(); the identity in eval().

    Catalog: G5.
    """

    def __init__(
        self,
        noise: float = 0.05,
        max_shear: float = 0.2,
        max_stretch: float = 1.2,
        p_flip: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.kw = check_augment_hparams(noise, max_shear, max_stretch, p_flip)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        params = sample_augment_params(
            tuple(_check_images(x).shape), self.generator, dtype=x.dtype, **self.kw
        )
        return augment_images(x, **params)
