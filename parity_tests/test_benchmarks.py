"""Smoke test of the benchmark harness (`python -m benchmarks`): schema and arithmetic only.

No assertion on any time (machines are noisy): these tests check that a tiny run writes the
documented JSON, that every median is the median of the recorded samples and every ratio
is computed from the medians of the same row, that the markdown table has a line for each
measured row, that the GPU case skips with a reason when there is no GPU, and that the
Lightning comparison trains the same network on both sides (same final loss).
"""

from __future__ import annotations

import json
import statistics

import pytest
import torch

from benchmarks import __main__ as bench
from benchmarks.common import Limit, Ratio, Row

MACHINE_KEYS = {"cpu", "cores_usable", "threads_used", "numpy_blas", "torch", "lightning", "gpu"}


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "r.json"
    bench.main(["--quick", "--cases", "mlp_step", "gpu", "--repeats", "2", "--threads", "1",
                "--out", str(out)])
    return out


def test_quick_run_writes_the_documented_json_and_markdown(quick_result):
    data = json.loads(quick_result.read_text())
    assert data["schema"] == "torchref-benchmarks/1"
    assert data["config"]["quick"] is True and data["config"]["repeats"] == 2
    assert MACHINE_KEYS <= set(data["machine"])
    assert data["machine"]["threads_used"] == 1
    assert data["machine"]["cpu"]["model"]
    assert data["machine"]["torch"]["version"] == torch.__version__
    assert len(data["load_average"]["start"]) == 3
    assert list(data["cases"]) == ["mlp_step", "gpu"]
    rows = data["cases"]["mlp_step"]["rows"]
    # quick mode: two shapes x two dtypes, then the target shape with glibc's defaults
    assert [r["params"]["dtype"] for r in rows] == ["float32", "float64"] * 3
    assert [r["extra"]["malloc_pad"] is None for r in rows] == [False] * 4 + [True] * 2
    md = quick_result.with_suffix(".md").read_text()
    assert md.count("| 1 scratch vs torch |") == len(rows)
    assert "| case | configuration | measured (median) | ratio | target | |" in md


def test_every_median_and_ratio_comes_from_the_samples_of_the_same_row(quick_result):
    data = json.loads(quick_result.read_text())
    checked = 0
    for case in data["cases"].values():
        for row in case["rows"]:
            for key, samples in row["samples"].items():
                assert len(samples) == data["config"]["repeats"]
                assert row["median"][key] == pytest.approx(statistics.median(samples), rel=1e-12)
            for ratio in row["ratios"]:
                med = row["median"]
                expected = ratio["scale"] * med[ratio["num"]] / med[ratio["den"]]
                assert ratio["value"] == pytest.approx(expected, rel=1e-12)
                checked += 1
    assert checked >= 4


def test_the_target_of_the_large_mlp_is_judged_on_its_ratio(quick_result):
    rows = json.loads(quick_result.read_text())["cases"]["mlp_step"]["rows"]
    large = [r for r in rows if r["params"]["sizes"] == [784, 512, 256, 10]]
    assert len(large) == 4  # with and without the heap pad
    for row in large:
        ratio = row["ratios"][0]
        assert ratio["target"] == {"op": "<=", "value": 1.0}
        assert ratio["met"] is (ratio["value"] <= 1.0)
        # the step without a workspace is timed beside it, against the same torch samples
        assert [r["name"] for r in row["ratios"]] == ["scratch/torch",
                                                      "scratch without workspace/torch"]
        assert set(row["samples"]) == {"scratch", "scratch_alloc", "torch"}
    small = [r for r in rows if r["params"]["sizes"] == [64, 128, 10]]
    assert all("target" not in r["ratios"][0] for r in small)


def test_gpu_case_skips_with_a_reason_without_cuda(quick_result):
    gpu = json.loads(quick_result.read_text())["cases"]["gpu"]
    if torch.cuda.is_available():
        assert gpu["status"] == "ok" and gpu["card"] == torch.cuda.get_device_name(0)
    else:
        assert gpu["status"] == "skipped"
        assert "torch.cuda.is_available() is False" in gpu["reason"]
        assert gpu["rows"] == []


def test_row_statistics_are_medians_quartiles_and_targets():
    row = Row(
        name="r", unit="s",
        samples={"a": [3.0, 1.0, 2.0, 100.0], "b": [4.0, 8.0, 6.0]},
        ratios=[Ratio("a/b", "a", "b", 2.0, "<=", 0.8)],
        limits=[Limit("a fast", "a", "<", 2.0)],
    ).to_json()
    assert row["median"] == {"a": 2.5, "b": 6.0}  # medians, not means (one outlier: 100)
    assert row["quartiles"]["b"] == [5.0, 7.0]
    ratio = row["ratios"][0]
    assert ratio["value"] == pytest.approx(2.0 * 2.5 / 6.0)
    assert ratio["met"] is False  # 0.833 > 0.8
    assert row["limits"][0]["met"] is False  # 2.5 is not < 2.0


def test_bad_arguments_are_rejected_with_their_name(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--threads", "0"])
    assert "--threads must be >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--cases", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_lightning_and_plain_loop_train_the_same_network(tmp_path):
    # The premise of case 3: same model, data, batches and optimizer on both sides, so the
    # final losses agree (bitwise on CPU; the harness reports agreement to 5 decimals).
    from benchmarks.lightning_loop import digits_workload, measure_workload

    wl = digits_workload(quick=True)
    wl.epochs = 2  # two epochs: the per-epoch schedule step matters
    rows = measure_workload(wl, repeats=1, workdir=tmp_path, setups=("bare",),
                            loaders=("memory",))
    assert [r.params["trainer_construction"] for r in rows] == ["excluded", "included"]
    for row in rows:
        loss = row.extra["final_loss"]
        assert loss["plain"] == loss["lightning"]
        assert row.extra["same_loss_5_decimals"] is True
        assert row.samples["plain"][0] > 0 and row.samples["lightning"][0] > 0


def test_update_readme_replaces_only_the_marked_table_and_refuses_without_markers(tmp_path):
    from benchmarks.report import README_BEGIN, README_END, update_readme

    readme = tmp_path / "README.md"
    readme.write_text(f"# title\nbefore\n{README_BEGIN}\nold table\n{README_END}\nafter\n")
    update_readme(readme, "| new | table |\n")
    text = readme.read_text()
    assert text == f"# title\nbefore\n{README_BEGIN}\n| new | table |\n{README_END}\nafter\n"
    readme.write_text("# no markers\n")
    with pytest.raises(ValueError, match="must contain the markers"):
        update_readme(readme, "x")
    assert readme.read_text() == "# no markers\n"


@pytest.mark.parametrize("sizes", [(784, 512, 256, 10), (20, 16, 12, 4), (6, 3)], ids=str)
def test_case_2_times_the_products_the_workspace_step_calls_in_its_order_and_layout(
        monkeypatch, sizes):
    # The per-GEMM rows of case 2 must describe the real step: record every 2-D matmul of a
    # workspace step (shapes and which operands are transposed views) and compare.
    import numpy as np

    from benchmarks import workloads
    from scratch.mlp import StepWorkspace, init_mlp, loss_and_grads

    shape = workloads.Shape("t", sizes, 8)
    calls = []
    real = np.matmul

    def recording(a, b, *args, **kw):
        if a.ndim == 2 and b.ndim == 2:
            calls.append((a.shape[0], a.shape[1], b.shape[1],
                          not a.flags.c_contiguous, not b.flags.c_contiguous))
        return real(a, b, *args, **kw)

    rng = np.random.default_rng(0)
    params = init_mlp(sizes, rng)
    X, y = rng.normal(size=(8, sizes[0])), rng.integers(0, sizes[-1], size=8)
    ws = StepWorkspace()
    loss_and_grads(params, X, y, "relu", "multiclass", workspace=ws)  # buffers made
    monkeypatch.setattr(np, "matmul", recording)
    loss_and_grads(params, X, y, "relu", "multiclass", workspace=ws)
    expected = [(p.m, p.k, p.n, p.left_t, p.right_t)
                for p in workloads.step_products(shape.sizes, shape.batch)]
    assert calls == expected
    assert sum(2 * m * k * n for m, k, n, _, _ in calls) == workloads.step_flops(sizes, 8)


def test_import_times_add_up_per_top_level_package_split_at_the_first_step():
    from benchmarks.startup import imports_by_package

    log = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       150 |        150 |   _io",
        "import time:      2000 |       2500 |     numpy._core",
        "import time:       500 |       3000 |   numpy",
        "import time:     40000 |      43000 | torch",
        "import time:      7000 |       7000 |     matplotlib.pyplot",
        "not an importtime line",
    ])
    out = imports_by_package(log, before={"numpy", "numpy._core", "torch", "_io"})
    assert list(out) == ["torch", "matplotlib", "numpy", "_io"]  # largest first
    assert out["numpy"] == {"before_first_step": pytest.approx(0.0025), "after": 0.0}
    assert out["matplotlib"] == {"before_first_step": 0.0, "after": pytest.approx(0.007)}
    assert out["torch"]["before_first_step"] == pytest.approx(0.04)


@pytest.mark.slow
def test_startup_phases_of_the_readme_command_are_ordered_and_add_up(tmp_path):
    from benchmarks.startup import run_once

    r = run_once(tmp_path)
    assert 0 < r["to_fit_start"] <= r["to_first_step"] < r["command"]
    assert r["training"] > 0 and r["after_training"] > 0
    parts = r["to_first_step"] + r["training"] + r["after_training"]
    assert parts == pytest.approx(r["command"], rel=1e-9)
    assert "lightning_app.cli" in r["modules_at_first_step"]


@pytest.mark.parametrize("threads", [1, 2])
def test_case_2_adds_each_products_one_thread_fraction_only_when_it_ran_on_more(
        monkeypatch, threads):
    # With 2 threads each product also gets its fraction of the one-thread peak (the thread
    # split's cost is the difference), in the order of the products, and the table shows it;
    # on one thread the row already is that measurement and nothing is added.
    import types

    import numpy as np

    from benchmarks import gemm_peak, report
    from benchmarks.workloads import TARGET_SHAPE, product_labels

    labels = [label for label, _ in product_labels(TARGET_SHAPE)]
    fake = [0.5 + i / 100 for i in range(len(labels))]
    seen = []

    def one_thread_fractions(dtype, n, cfg, env):
        seen.append((np.dtype(dtype).name, n, env))
        return fake

    monkeypatch.setattr(gemm_peak, "one_thread_fractions", one_thread_fractions)
    row = Row("r", "s/call", {"a": [1.0]},
              extra={"products": [{"label": lb, "fraction_of_peak": 0.9} for lb in labels]})
    cfg = types.SimpleNamespace(threads=threads)
    gemm_peak._add_one_thread(row, np.float64, 512, cfg, {"OPENBLAS_CORETYPE": "Haswell"})
    got = [p.get("fraction_of_peak_one_thread") for p in row.extra["products"]]
    if threads == 1:
        assert got == [None] * len(labels) and seen == []
        return
    assert got == fake
    assert seen == [("float64", 512, {"OPENBLAS_CORETYPE": "Haswell"})]
    per = report._lines_gemm({"rows": [{
        "name": "r", "params": {"gemm_n": 512},
        "extra": {"gflops": dict.fromkeys(("scratch_step", "torch_step", "numpy_gemm",
                                           "torch_gemm"), 1.0),
                  "peak_used": "numpy_gemm", "products": row.extra["products"]},
        "ratios": [{"name": n, "value": 0.8}
                   for n in ("scratch step / peak", "step GEMMs alone / peak",
                             "step GEMMs, batch-first layout / peak", "torch step / peak")],
    }]})[1][2]
    assert f"{labels[0].split(' (')[0]} 90% (1 thread 50%)" in per
    assert per.count("(1 thread ") == len(labels)
