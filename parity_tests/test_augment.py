"""Image augmentation (G5): scratch.augment (SciPy map_coordinates) vs torchref.augment
(F.affine_grid + F.grid_sample), against exact array operations, and its random draws.

Interpolation tolerance: both sides evaluate the same bilinear formula at the same source
coordinates (align_corners=False, zeros outside); the coordinates are computed in a different
order, so they differ by a few ulps, and the values by (coordinate error) x (pixel-to-pixel
difference). float64: rtol 1e-10, atol 1e-12 (the defaults). float32: affine_grid computes the
grid in float32, ~1e-7 relative on coordinates up to ~3 pixels out: atol 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.datasets import load_digits

from parity_tests.helpers import assert_close, to_numpy, to_torch
from scratch.augment import (
    AugmentParams,
    affine_matrices,
    affine_transform_images,
    augment_images,
    flip_horizontal,
    sample_augment_params,
)
from torchref import augment as taug

ALPHA = 1e-6
SHAPES = [(5, 8, 8), (4, 3, 7, 9), (3, 2, 10, 6)]  # (N, H, W), (N, C, H, W), portrait
F32_INTERP = {"rtol": 1e-5, "atol": 1e-5}  # see the module docstring


def _images(rng, shape, dtype):
    if shape == (5, 8, 8):  # real content: the bundled digits, scaled to [0, 1]
        return (load_digits().images[:5] / 16.0).astype(dtype)
    return rng.uniform(0, 1, shape).astype(dtype)


def _torch_params(p: AugmentParams) -> dict:
    return {
        "angle": torch.from_numpy(p.angle), "scale": torch.from_numpy(p.scale),
        "shear": torch.from_numpy(p.shear), "stretch": torch.from_numpy(p.stretch),
        "flip": torch.from_numpy(p.flip), "noise": torch.from_numpy(p.noise),
    }


def _fixed(n, shape, angle=0.0, scale=1.0, shear=0.0, stretch=1.0, flip=False):
    return AugmentParams(
        np.full(n, angle), np.full(n, scale), np.full(n, shear), np.full(n, stretch),
        np.full(n, flip), np.zeros(shape),
    )


def _tol(dtype):
    return {} if dtype == np.float64 else F32_INTERP


@pytest.mark.catalog("G5")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_affine_matrices_match_torch(rng, shape):
    p = sample_augment_params(shape, rng)
    tp = _torch_params(p)
    theta = taug.affine_matrices(
        tp["angle"], tp["scale"], tp["shear"], tp["stretch"], tp["flip"], shape[-2], shape[-1]
    )
    assert_close(affine_matrices(p, shape[-2], shape[-1]), theta)


@pytest.mark.catalog("G5")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_augmented_images_match_torch_grid_sample_given_the_same_parameters(rng, dtype, shape):
    x = _images(rng, shape, dtype)
    p = sample_augment_params(shape, rng)
    ours = augment_images(x, p)
    theirs = taug.augment_images(to_torch(x), **_torch_params(p))
    assert ours.dtype == dtype and theirs.dtype == to_torch(x).dtype
    assert_close(ours, theirs, dtype, **_tol(dtype))
    # Not vacuous: the transform moved the content.
    assert np.max(np.abs(ours - x)) > 0.1


@pytest.mark.catalog("G5")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_affine_transform_matches_torch_for_each_transform_alone(rng, shape):
    x = _images(rng, shape, np.float64)
    n = shape[0]
    for kw in ({"angle": 0.7}, {"scale": 1 / 1.6}, {"scale": 1.6}, {"shear": 0.3},
               {"stretch": 1.3}, {"flip": True}):
        p = _fixed(n, shape, **kw)
        theta = affine_matrices(p, shape[-2], shape[-1])
        ours = affine_transform_images(x, theta)
        assert_close(ours, taug.affine_transform_images(to_torch(x), torch.from_numpy(theta)))


@pytest.mark.catalog("G5")
def test_identity_parameters_return_the_images_unchanged(rng):
    x = _images(rng, (4, 3, 7, 9), np.float64)
    p = _fixed(4, x.shape)
    assert_close(augment_images(x, p), x)
    assert_close(taug.augment_images(to_torch(x), **_torch_params(p)), x)


@pytest.mark.catalog("G5")
@pytest.mark.parametrize("shape", [(5, 8, 8), (4, 3, 7, 9)], ids=str)
def test_flip_and_half_turn_equal_exact_array_reversal(rng, shape):
    # align_corners=False maps pixel centres onto pixel centres for these two maps.
    x = _images(rng, shape, np.float64)
    flipped = augment_images(x, _fixed(shape[0], shape, flip=True))
    assert_close(flipped, flip_horizontal(x))
    assert_close(flip_horizontal(x), torch.flip(to_torch(x), dims=(-1,)))
    half_turn = augment_images(x, _fixed(shape[0], shape, angle=np.pi))
    assert_close(half_turn, x[..., ::-1, ::-1])


@pytest.mark.catalog("G5")
def test_quarter_turn_is_counter_clockwise_like_rot90(rng):
    x = _images(rng, (5, 8, 8), np.float64)
    quarter = augment_images(x, _fixed(5, x.shape, angle=np.pi / 2))
    assert_close(quarter, np.rot90(x, k=1, axes=(-2, -1)))
    assert not np.allclose(quarter, np.rot90(x, k=-1, axes=(-2, -1)))


@pytest.mark.catalog("G5")
def test_scale_enlarges_the_content_about_the_centre():
    # A centred 2-pixel bright bar at columns 4, 5 of 10, scaled by 2 about the centre (x = 5):
    # output column j samples input column 5 + (j + 0.5 - 5)/2 - 0.5, linearly interpolated:
    # j = 2 -> 3.25 (0.25 of pixel 4), j = 3 -> 3.75 (0.75), j = 4, 5 -> 1, then mirrored.
    profile = np.array([0, 0, 0.25, 0.75, 1, 1, 0.75, 0.25, 0, 0])
    x = np.zeros((1, 10, 10))
    x[0, 4:6, 4:6] = 1.0
    out = augment_images(x, _fixed(1, x.shape, scale=2.0))
    assert_close(out[0], np.outer(profile, profile))
    assert out.sum() == pytest.approx(4 * x.sum())  # area grows by scale^2


@pytest.mark.catalog("G5")
def test_noise_is_bounded_and_varies_from_pixel_to_pixel(rng):
    p = sample_augment_params((50, 8, 8), rng, noise=0.1)
    assert np.all(np.abs(p.noise) <= 0.1)
    assert np.unique(p.noise).size == p.noise.size  # different at every pixel
    # U[-eps, eps] has variance eps^2/3: chi-square-free CLT bound on the mean square.
    n, eps = p.noise.size, 0.1
    z = stats.norm.isf(ALPHA / 2)
    assert abs(np.mean(p.noise**2) - eps**2 / 3) <= z * np.sqrt((eps**4 / 5 - eps**4 / 9) / n)
    t = taug.sample_augment_params((50, 8, 8), torch.Generator().manual_seed(1), noise=0.1)
    assert float(t["noise"].abs().max()) <= 0.1


@pytest.mark.catalog("G5")
def test_sampled_parameters_follow_the_notes_distributions(rng):
    n = 3000
    ours = sample_augment_params((n, 2, 2), rng)
    theirs = {k: to_numpy(v) for k, v in taug.sample_augment_params(
        (n, 2, 2), torch.Generator().manual_seed(2)).items()}
    for angle, scale, stretch, flip in (
        (ours.angle, ours.scale, ours.stretch, ours.flip),
        (theirs["angle"], theirs["scale"], theirs["stretch"], theirs["flip"]),
    ):
        assert stats.kstest(angle, stats.uniform(0, 2 * np.pi).cdf).pvalue > ALPHA
        assert stats.kstest(scale, stats.uniform(1 / 1.6, 1.6 - 1 / 1.6).cdf).pvalue > ALPHA
        assert np.all((stretch >= 1 / 1.2) & (stretch <= 1.2))
        assert stats.kstest(np.log(stretch), stats.uniform(-np.log(1.2), 2 * np.log(1.2)).cdf
                            ).pvalue > ALPHA
        assert stats.binomtest(int(flip.sum()), n, 0.5).pvalue > ALPHA


@pytest.mark.catalog("G5")
def test_seeded_runs_are_reproducible_and_seeds_matter():
    x = load_digits().images[:4] / 16.0

    def scratch_run(seed):
        return augment_images(x, sample_augment_params(x.shape, np.random.default_rng(seed)))

    def torch_run(seed):
        aug = taug.RandomAugment(generator=torch.Generator().manual_seed(seed)).train()
        return to_numpy(aug(torch.from_numpy(x)))

    for run in (scratch_run, torch_run):
        assert np.array_equal(run(0), run(0))
        assert not np.allclose(run(0), run(1))
    xt = torch.from_numpy(x)
    assert torch.equal(taug.RandomAugment().eval()(xt), xt)  # eval: no augmentation


def test_augment_bad_input_is_a_clear_error(rng):
    x = rng.uniform(size=(2, 4, 4))
    with pytest.raises(ValueError, match=r"x must have 3 or 4 dimension\(s\), got shape \(4, 4\)"):
        affine_transform_images(x[0], np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"theta must have shape \(2, 2, 3\)"):
        affine_transform_images(x, np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="noise and x must have the same shape"):
        augment_images(x, _fixed(2, (2, 4, 5)))
    with pytest.raises(ValueError, match=r"noise must be in \[0, inf\), got -0.1"):
        sample_augment_params(x.shape, rng, noise=-0.1)
    with pytest.raises(ValueError, match=r"max_stretch must be in \[1, inf\), got 0.5"):
        sample_augment_params(x.shape, rng, max_stretch=0.5)
    with pytest.raises(ValueError, match=r"shape must be \(N, H, W\) or \(N, C, H, W\)"):
        sample_augment_params((4, 4), rng)
    with pytest.raises(ValueError, match=r"x must have 3 or 4 dimension\(s\), got shape \(4, 4\)"):
        taug.affine_transform_images(torch.zeros(4, 4), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match=r"noise must be in \[0, inf\), got -0.1"):
        taug.RandomAugment(noise=-0.1)
