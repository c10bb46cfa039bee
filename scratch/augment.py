"""Image data augmentation (G5) in NumPy/SciPy: rotation, resizing, shear, stretch, flip, noise.

NumPy and SciPy (`scipy.ndimage.map_coordinates` does the bilinear resampling). Images are
batches (N, H, W) or (N, C, H, W). The notes (002 §4.4.4) list: rotation by an angle drawn from
U[0, 2 pi], per-pixel noise smaller than |eps| that varies from pixel to pixel, resizing by a
factor in [1/1.6, 1.6], flipping, shearing and stretching.

Geometry. Every transform but the noise is one affine map A about the image centre, in pixel
units with x to the right and y down:  A = R(angle) Sh(shear) St(stretch) S(scale) F(flip)
(F first). Positive angles turn the content counter-clockwise on screen; scale > 1 enlarges
the content (the canvas keeps its size: corners are cut, scale < 1 pads with zeros); shear
moves rows sideways, x' = x + shear * y; stretch scales x by `stretch` and y by 1/`stretch`;
flip mirrors left-right. Output pixel p takes the input at A^(-1) p, bilinearly interpolated,
0 outside the image. This is exactly torch's `F.affine_grid` + `F.grid_sample(mode="bilinear",
padding_mode="zeros", align_corners=False)` with theta = D^(-1) A^(-1) D, D = diag(W/2, H/2):
pixel centres sit at normalized coordinates (2j + 1)/W - 1, and SciPy's mode="grid-constant"
interpolates against zeros beyond the edge as grid_sample does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from scratch.validation import (
    NONNEGATIVE,
    PROBABILITY,
    Interval,
    check_array,
    check_ndim,
    check_rng,
    check_same_shape,
)

__all__ = [
    "AugmentParams",
    "sample_augment_params",
    "affine_matrices",
    "affine_transform_images",
    "augment_images",
    "flip_horizontal",
    "check_augment_hparams",
    "check_image_shape",
    "check_theta",
]

SCALE_RANGE = (1 / 1.6, 1.6)  # the notes' resize factors
STRETCH = Interval(1, None, "left")  # stretch = max_stretch^u, u in [-1, 1]: >= 1 spans both ways


# ---- checks shared with torchref.augment (which imports them) ------------------------------


def check_augment_hparams(noise, max_shear, max_stretch, p_flip) -> dict[str, float]:
    """The random draw's hyper-parameters: noise, max_shear >= 0; max_stretch >= 1; p_flip in
    [0, 1]. Returns them as floats, by name."""
    return {
        "noise": NONNEGATIVE.check("noise", noise),
        "max_shear": NONNEGATIVE.check("max_shear", max_shear),
        "max_stretch": STRETCH.check("max_stretch", max_stretch),
        "p_flip": PROBABILITY.check("p_flip", p_flip),
    }


def check_image_shape(shape) -> tuple[int, ...]:
    """A batch shape (N, H, W) or (N, C, H, W) of positive sizes."""
    if len(shape) not in (3, 4) or min(shape) < 1:
        raise ValueError(f"shape must be (N, H, W) or (N, C, H, W), got {tuple(shape)!r}")
    return tuple(shape)


def check_theta(theta_shape: tuple[int, ...], x_shape: tuple[int, ...]) -> None:
    """Raise unless theta is (N, 2, 3) for images x (N, ...)."""
    check_ndim("theta", theta_shape, 3)
    if theta_shape != (x_shape[0], 2, 3):
        raise ValueError(
            f"theta must have shape ({x_shape[0]}, 2, 3) for x{x_shape}, got theta{theta_shape}"
        )


@dataclass(frozen=True)
class AugmentParams:
    """Per-image parameters of one augmentation draw; every array has N entries first.

    angle (N,) radians; scale (N,); shear (N,); stretch (N,) > 0; flip (N,) bool;
    noise: the images' shape, added after the geometric transform.
    Catalog: G5 (002 §4.4.4). torch: the keyword arguments of `torchref.augment.augment_images`.
    """

    angle: np.ndarray
    scale: np.ndarray
    shear: np.ndarray
    stretch: np.ndarray
    flip: np.ndarray
    noise: np.ndarray


def _check_images(x) -> np.ndarray:
    return check_array("x", x, ndim=(3, 4), allow_empty=False)


def sample_augment_params(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    noise: float = 0.05,
    max_shear: float = 0.2,
    max_stretch: float = 1.2,
    p_flip: float = 0.5,
) -> AugmentParams:
    """Draw the notes' random augmentation for a batch of images of `shape`.

    angle ~ U[0, 2 pi]; scale ~ U[1/1.6, 1.6]; shear ~ U[-max_shear, max_shear];
    stretch = max_stretch^u, u ~ U[-1, 1] (so stretch and 1/stretch are equally likely);
    flip ~ Bernoulli(p_flip); noise ~ U[-noise, noise] per pixel (|noise| <= eps).
    Catalog: G5 (002 §4.4.4). PyTorch: `torchref.augment.sample_augment_params` (its own
    generator; the same distributions). Shapes: shape (N, H, W) or (N, C, H, W).
    """
    check_rng(rng)
    shape = check_image_shape(shape)
    hp = check_augment_hparams(noise, max_shear, max_stretch, p_flip)
    eps, max_shear, max_stretch = hp["noise"], hp["max_shear"], hp["max_stretch"]
    p_flip = hp["p_flip"]
    n = shape[0]
    return AugmentParams(
        angle=rng.uniform(0.0, 2 * np.pi, n),
        scale=rng.uniform(*SCALE_RANGE, n),
        shear=rng.uniform(-max_shear, max_shear, n),
        stretch=max_stretch ** rng.uniform(-1.0, 1.0, n),
        flip=rng.random(n) < p_flip,
        noise=rng.uniform(-eps, eps, shape),
    )


def affine_matrices(params: AugmentParams, height: int, width: int) -> np.ndarray:
    """theta (N, 2, 3): output normalized coordinates -> input ones, torch's affine_grid form.

    A = R(angle) Sh(shear) St(stretch) S(scale) F(flip) in centred pixel units (x right, y down),
    theta[:, :, :2] = D^(-1) A^(-1) D with D = diag(W/2, H/2), theta[:, :, 2] = 0 (the map
    fixes the centre). Catalog: G5. Shapes: params of N images -> (N, 2, 3).
    """
    n = np.shape(params.angle)[0]
    c, s = np.cos(params.angle), np.sin(params.angle)
    zeros, ones = np.zeros(n), np.ones(n)

    def mats(a, b, cc, d):  # four (N,) arrays -> (N, 2, 2)
        return np.stack([np.stack([a, b], -1), np.stack([cc, d], -1)], -2)

    # Counter-clockwise on screen with y pointing down: (x, y) -> (x cos + y sin, -x sin + y cos).
    R = mats(c, s, -s, c)
    Sh = mats(ones, params.shear, zeros, ones)
    St = mats(params.stretch, zeros, zeros, 1 / params.stretch)
    S = mats(params.scale, zeros, zeros, params.scale)
    F = mats(np.where(params.flip, -1.0, 1.0), zeros, zeros, ones)
    A = R @ Sh @ St @ S @ F  # (N, 2, 2)
    D = np.diag([width / 2, height / 2])  # normalized -> centred pixel units
    theta = np.linalg.inv(D) @ np.linalg.inv(A) @ D  # (N, 2, 2)
    return np.concatenate([theta, np.zeros((n, 2, 1))], axis=2)  # (N, 2, 3)


def affine_transform_images(x, theta) -> np.ndarray:
    """Resample every image at theta's source coordinates: bilinear, zeros outside.

    For output pixel (i, j): (u, v) = ((2j + 1)/W - 1, (2i + 1)/H - 1) (align_corners=False),
    (u', v') = theta [u, v, 1], and the value is the input at column ((u' + 1) W - 1)/2, row
    ((v' + 1) H - 1)/2 by `ndimage.map_coordinates(order=1, mode="grid-constant", cval=0)`.
    Catalog: G5. PyTorch: `F.affine_grid(theta, size, align_corners=False)` then
    `F.grid_sample(x, grid, "bilinear", "zeros", align_corners=False)`.
    Shapes: x (N, H, W) or (N, C, H, W); theta (N, 2, 3); returns the shape of x.
    """
    x = _check_images(x)
    theta = check_array("theta", theta)
    check_theta(theta.shape, x.shape)
    N, H, W = x.shape[0], x.shape[-2], x.shape[-1]
    u = (2 * np.arange(W) + 1) / W - 1  # (W,) normalized x of the pixel centres
    v = (2 * np.arange(H) + 1) / H - 1  # (H,)
    grid = np.stack(np.broadcast_arrays(u[None, :], v[:, None], 1.0), axis=-1)  # (H, W, 3)
    out = np.empty_like(x)
    imgs = x.reshape(N, -1, H, W)  # (N, C, H, W) view; C = 1 for (N, H, W)
    flat_out = out.reshape(N, -1, H, W)
    for n in range(N):
        src = grid @ theta[n].T  # (H, W, 2): normalized (u', v')
        cols = ((src[..., 0] + 1) * W - 1) / 2
        rows = ((src[..., 1] + 1) * H - 1) / 2
        for ch in range(imgs.shape[1]):
            flat_out[n, ch] = ndimage.map_coordinates(
                imgs[n, ch], [rows, cols], order=1, mode="grid-constant", cval=0.0
            )
    return out


def augment_images(x, params: AugmentParams) -> np.ndarray:
    """The notes' augmentation with given parameters: affine transform, then add the noise.

    out = T_A(x) + noise, T_A the resampling of `affine_transform_images` with
    theta = `affine_matrices(params, H, W)`. No clipping: the value range is the caller's.
    Catalog: G5 (002 §4.4.4). PyTorch: `torchref.augment.augment_images`.
    Shapes: x (N, H, W) or (N, C, H, W); params of N images; returns the shape of x.
    """
    x = _check_images(x)
    noise = check_array("noise", params.noise)
    check_same_shape("noise", noise, "x", x)
    theta = affine_matrices(params, x.shape[-2], x.shape[-1])
    return affine_transform_images(x, theta) + noise.astype(x.dtype)


def flip_horizontal(x) -> np.ndarray:
    """Mirror every image left-right (the notes' flip), exactly: x[..., ::-1].

    Catalog: G5. PyTorch: `torch.flip(x, dims=(-1,))`. Shapes: (N, [C,] H, W) -> same.
    """
    return _check_images(x)[..., ::-1].copy()
