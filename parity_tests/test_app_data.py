"""The app's data: the tensor-slicing loader (order, sharding, resume) and the DataModules
(embedded sets, user files, and one clear error for every kind of bad data)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lightning_app.data import (
    CircleDataModule,
    CsvDataModule,
    DataError,
    DigitsDataModule,
    NpzDataModule,
    OneHotDataModule,
    XORDataModule,
)
from lightning_app.loader import TensorBatchLoader

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rows(n: int, d: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    # Row i of x is (i, i, i): a batch's rows name the samples it holds.
    x = torch.arange(n, dtype=torch.float64)[:, None].repeat(1, d)  # (n, d)
    return x, torch.arange(n)


def _epoch(loader: TensorBatchLoader, epoch: int) -> list[torch.Tensor]:
    loader.sampler.set_epoch(epoch)
    return [y for _, y in loader]


@given(n=st.integers(1, 60), batch=st.integers(1, 17), shuffle=st.booleans())
@settings(max_examples=30)
def test_loader_visits_every_sample_once_per_epoch(n, batch, shuffle):
    x, y = _rows(n)
    loader = TensorBatchLoader((x, y), batch, shuffle=shuffle, seed=3)
    ys = _epoch(loader, 0)
    assert len(ys) == len(loader) == -(-n // batch)
    assert sorted(torch.cat(ys).tolist()) == list(range(n))
    for xb, yb in loader:
        assert torch.equal(xb[:, 0].long(), yb)  # features and labels stay paired


def test_loader_order_is_a_function_of_seed_and_epoch_only():
    x, y = _rows(50)
    a = TensorBatchLoader((x, y), 8, shuffle=True, seed=1)
    b = TensorBatchLoader((x, y), 8, shuffle=True, seed=1)
    c = TensorBatchLoader((x, y), 8, shuffle=True, seed=2)
    first = torch.cat(_epoch(a, 0))
    assert torch.equal(first, torch.cat(_epoch(b, 0)))  # same seed, same epoch
    _epoch(b, 5)  # other epochs in between change nothing
    assert torch.equal(first, torch.cat(_epoch(b, 0)))
    assert not torch.equal(first, torch.cat(_epoch(a, 1)))  # a new order each epoch
    assert not torch.equal(first, torch.cat(_epoch(c, 0)))  # and per seed


def test_unshuffled_batches_are_views_of_the_data_not_copies():
    x, y = _rows(20)
    batches = list(TensorBatchLoader((x, y), 6))
    assert [b[1].tolist() for b in batches][0] == [0, 1, 2, 3, 4, 5]
    for xb, _ in batches:
        assert xb.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()


@given(
    n=st.integers(1, 80),
    batch=st.integers(1, 9),
    world=st.integers(1, 4),
    shuffle=st.booleans(),
)
@settings(max_examples=40)
def test_ranks_with_batch_b_together_see_one_process_batches_of_world_times_b(
    n, batch, world, shuffle
):
    x, y = _rows(n)
    single = _epoch(TensorBatchLoader((x, y), batch * world, shuffle=shuffle, seed=7), 4)
    ranks = [
        _epoch(
            TensorBatchLoader((x, y), batch, shuffle=shuffle, seed=7, rank=r, world_size=world),
            4,
        )
        for r in range(world)
    ]
    n_steps = {len(r) for r in ranks}
    assert len(n_steps) == 1, "every rank must take the same number of steps"
    for g in range(n_steps.pop()):
        together = torch.cat([ranks[r][g] for r in range(world)])
        assert torch.equal(together, single[g])
        sizes = [ranks[r][g].numel() for r in range(world)]
        assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    # A short last global batch with fewer samples than ranks is dropped (no empty batch).
    covered = sum(ranks[r][g].numel() for r in range(world) for g in range(len(ranks[0])))
    assert n - covered < world


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("done", [0, 1, 4, 7])
def test_loader_resumes_mid_epoch_from_its_state_dict(shuffle, done):
    x, y = _rows(29)
    original = TensorBatchLoader((x, y), 4, shuffle=shuffle, seed=11)
    original.sampler.set_epoch(2)
    it = iter(original)
    seen = [next(it)[1] for _ in range(done)]
    state = original.state_dict()
    rest = [b[1] for b in it]
    assert state["epoch"] == 2 and state["batches_done"] == done

    resumed = TensorBatchLoader((x, y), 4, shuffle=shuffle, seed=11)
    resumed.load_state_dict(state)
    got = _epoch(resumed, 2)
    assert [t.tolist() for t in got] == [t.tolist() for t in rest]
    assert len(seen) + len(got) == len(original)
    # The following epoch starts from its first batch again.
    assert torch.equal(torch.cat(_epoch(resumed, 3)), torch.cat(_epoch(original, 3)))


def test_loader_state_from_an_epoch_already_over_starts_the_next_epoch_whole():
    x, y = _rows(12)
    a = TensorBatchLoader((x, y), 4, shuffle=True, seed=0)
    _epoch(a, 0)
    b = TensorBatchLoader((x, y), 4, shuffle=True, seed=0)
    b.load_state_dict(a.state_dict())
    assert len(_epoch(b, 1)) == 3


def test_loader_refuses_a_state_from_other_data():
    x, y = _rows(12)
    state = TensorBatchLoader((x, y), 4).state_dict()
    other = TensorBatchLoader(_rows(13), 4)
    with pytest.raises(DataError, match=r"checkpoint has n=12 but this run has n=13"):
        other.load_state_dict(state)


def test_loader_rejects_bad_arguments():
    x, y = _rows(5)
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got 0"):
        TensorBatchLoader((x, y), 0)
    with pytest.raises(ValueError, match=r"same number of rows, got shapes \(5, 3\), \(4,\)"):
        TensorBatchLoader((x, y[:4]), 2)
    with pytest.raises(ValueError, match=r"rank must be in \[0, 2\), got 2"):
        TensorBatchLoader((x, y), 2, rank=2, world_size=2)


# ---- embedded data sets ---------------------------------------------------------------------


@pytest.mark.catalog("H1")
def test_digits_are_scaled_to_unit_interval_and_split_stratified_and_seeded():
    from sklearn.datasets import load_digits

    dm = DigitsDataModule(val_fraction=0.1, test_fraction=0.2, seed=0)
    dm.setup("fit")
    sizes = {k: dm.split(k)[0].shape[0] for k in ("train", "val", "test")}
    assert sizes == {"train": 1293, "val": 144, "test": 360}
    assert dm.n_features == 64 and dm.n_classes == 10
    x_all = torch.cat([dm.split(k)[0] for k in ("train", "val", "test")])
    assert float(x_all.min()) == 0.0 and float(x_all.max()) == 1.0
    # The three parts are a partition of the bundled images (as multisets of rows).
    raw = np.sort((load_digits().data / 16.0).astype(np.float32), axis=0)
    assert np.array_equal(np.sort(x_all.numpy(), axis=0), raw)
    # Stratified: each class is within one sample of its share of the test split.
    y_test = dm.split("test")[1]
    counts = torch.bincount(y_test, minlength=10).double()
    share = torch.bincount(torch.as_tensor(load_digits().target), minlength=10) * 0.2
    assert torch.all((counts - share).abs() <= 1.0)
    again = DigitsDataModule(seed=0)
    again.setup("fit")
    assert torch.equal(again.split("test")[0], dm.split("test")[0])
    other = DigitsDataModule(seed=1)
    other.setup("fit")
    assert not torch.equal(other.split("test")[0], dm.split("test")[0])


def test_circle_labels_follow_the_annulus_rule():
    dm = CircleDataModule(n_samples=400, seed=5)
    dm.setup("fit")
    for name in ("train", "val", "test"):
        x, y = dm.split(name)
        r2 = (x.double() ** 2).sum(dim=1)
        inside = (r2 >= 3.0) & (r2 <= 8.0)
        # float32 storage may move a point across the boundary by ~1e-6; none lies that close.
        assert torch.equal(inside.long(), y)
    ys = torch.cat([dm.split(k)[1] for k in ("train", "val", "test")])
    assert 0.25 < ys.double().mean() < 0.65  # both classes well represented


def test_xor_truth_table_and_jittered_copies():
    dm = XORDataModule()
    dm.setup("fit")
    x, y = dm.split("train")
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    noisy = XORDataModule(copies=25, noise=0.1, seed=2)
    noisy.setup("fit")
    x, y = noisy.split("train")
    assert x.shape == (100, 2)
    corner = x.round().long()
    assert torch.equal(corner[:, 0] ^ corner[:, 1], y)


def test_one_hot_set_is_the_identity_in_every_split():
    dm = OneHotDataModule(n=8)
    dm.setup("fit")
    for name in ("train", "val", "test"):
        x, y = dm.split(name)
        assert torch.equal(x, torch.eye(8)) and y.tolist() == list(range(8))


# ---- user files -----------------------------------------------------------------------------


def _npz(tmp_path, name="data", **arrays):
    path = tmp_path / f"{name}.npz"
    np.savez(path, **arrays)
    return str(path)


def test_npz_with_its_own_test_split_is_used_as_given(tmp_path, rng):
    x, y = rng.normal(size=(40, 5)), rng.integers(0, 3, 40)
    xt, yt = rng.normal(size=(10, 5)), rng.integers(0, 3, 10)
    dm = NpzDataModule(_npz(tmp_path, x=x, y=y, x_test=xt, y_test=yt), val_fraction=0.25)
    dm.setup("fit")
    assert np.allclose(dm.split("test")[0].numpy(), xt.astype(np.float32))
    assert dm.split("test")[1].tolist() == yt.tolist()
    assert dm.split("train")[0].shape == (30, 5) and dm.split("val")[0].shape == (10, 5)
    assert dm.n_classes == 3


def test_csv_label_column_is_split_off_by_name(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,target,b\n" + "".join(f"{i},{i % 2},{2 * i}\n" for i in range(20)))
    dm = CsvDataModule(str(path), label_column="target", val_fraction=0.0, test_fraction=0.0)
    dm.setup("fit")
    x, y = dm.split("train")
    assert x.shape == (20, 2)
    assert torch.equal(x[:, 1], 2 * x[:, 0]) and torch.equal(y, x[:, 0].long() % 2)


def _bad_npz(tmp_path, rng):
    x = rng.normal(size=(10, 3))
    y = rng.integers(0, 2, 10)
    x_nan = x.copy()
    x_nan[2, 1] = np.nan
    return {
        "missing file": (str(tmp_path / "nope.npz"), r"nope\.npz' does not exist"),
        "no y": (_npz(tmp_path, "noy", x=x), r"missing array\(s\) 'y'; found 'x'"),
        "wrong key": (
            _npz(tmp_path, "wrongkey", x=x, labels=y),
            r"missing array\(s\) 'y'; found 'labels', 'x'; expected keys 'x', 'y' and "
            r"optionally 'x_test', 'y_test'",
        ),
        "nan": (
            _npz(tmp_path, "nan", x=x_nan, y=y),
            r"x must be finite, got 1 NaN/inf value\(s\) \(the first at row 2, column 1\)",
        ),
        "inf in y": (
            _npz(tmp_path, "infy", x=x, y=np.where(np.arange(10) == 3, np.inf, 1.0)),
            r"y must be finite, got 1 NaN/inf",
        ),
        "row mismatch": (
            _npz(tmp_path, "rows", x=x, y=y[:7]),
            r"y has 7 labels but x has 10 samples",
        ),
        "test without labels": (
            _npz(tmp_path, "xtest", x=x, y=y, x_test=x),
            r"x_test is given but y_test is missing",
        ),
        "test feature mismatch": (
            _npz(tmp_path, "feat", x=x, y=y, x_test=x[:, :2], y_test=y),
            r"x_test has 2 features but x has 3",
        ),
        "3-d x": (
            _npz(tmp_path, "x3", x=x[:, :, None], y=y), r"x must be 2-D \(samples, features\)"
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file", "no y", "wrong key", "nan", "inf in y", "row mismatch",
        "test without labels", "test feature mismatch", "3-d x",
    ],
)
def test_bad_npz_is_one_clear_error_before_training(tmp_path, rng, case):
    path, message = _bad_npz(tmp_path, rng)[case]
    dm = NpzDataModule(path)
    with pytest.raises(DataError, match=message):
        dm.setup("fit")


@pytest.mark.parametrize(
    ("text", "label", "message"),
    [
        ("a,b\n1,2\n", "label", r"no label column 'label'; columns are 'a', 'b'"),
        ("a,label\n1,x\n", "label", r"every value must be a number"),
        ("a,label\n", "label", r"no data rows after the header"),
        ("", "label", r"empty file"),
        ("label\n1\n2\n", "label", r"no feature columns besides the label"),
        ("a,label\nnan,1\n2,0\n", "label", r"x must be finite, got 1 NaN/inf"),
    ],
)
def test_bad_csv_is_one_clear_error(tmp_path, text, label, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        CsvDataModule(str(path), label_column=label).setup("fit")


def test_wrong_suffix_and_bad_fractions_are_rejected(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("x")
    with pytest.raises(DataError, match=r"must be a \.csv file, got suffix '\.txt'"):
        CsvDataModule(str(path)).setup("fit")
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\), got 1.5"):
        DigitsDataModule(val_fraction=1.5)
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got -2"):
        DigitsDataModule(batch_size=-2)


@pytest.mark.parametrize("value", [1e39, -4e38])
def test_a_value_finite_in_float64_but_not_in_the_training_dtype_is_refused_at_load(
    tmp_path, rng, value
):
    x = rng.normal(size=(30, 4))
    x[17, 2] = value
    path = _npz(tmp_path, x=x, y=rng.integers(0, 2, 30))
    with pytest.raises(DataError, match=re.escape(f"x holds {value:g} at row 17, column 2, "
                                                  "beyond the range of float32 (largest "
                                                  "3.403e+38)")):
        NpzDataModule(path).prepare(torch.float32)
    dm = NpzDataModule(path, val_fraction=0.0, test_fraction=0.0)
    dm.prepare(torch.float64)  # training in float64 keeps it
    assert float(dm.split("train")[0].abs().max()) == abs(value)
    # Half precision overflows much earlier (65504).
    x[17, 2] = 7e4
    with pytest.raises(DataError, match=r"x holds 70000 at row 17, column 2, beyond the range "
                                        r"of float16"):
        NpzDataModule(_npz(tmp_path, "half", x=x, y=rng.integers(0, 2, 30))).prepare(
            torch.float16
        )
    # A csv names the column by its header.
    csv = tmp_path / "big.csv"
    csv.write_text("a,label,b\n" + "".join(f"{i},{i % 2},{1e39 if i == 5 else i}\n"
                                           for i in range(20)))
    with pytest.raises(DataError, match=r"x holds 1e\+39 at row 5, column 'b', beyond"):
        CsvDataModule(str(csv)).prepare(torch.float32)


def test_the_loader_lives_in_its_own_module():
    import lightning_app.data as data
    import lightning_app.loader as loader

    assert TensorBatchLoader.__module__ == "lightning_app.loader"
    assert loader.EpochSampler.__module__ == "lightning_app.loader"
    assert not hasattr(data, "EpochSampler")
