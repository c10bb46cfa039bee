"""Render a results dict (the JSON of `python -m benchmarks`) as markdown and as plain text.

Imports only the standard library. The markdown is what the README includes verbatim.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import describe_machine


def _t(seconds: float) -> str:
    """A duration with a unit a person reads at a glance."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} us"


def _target(ratio: dict) -> tuple[str, str]:
    if "target" not in ratio:
        return "", ""
    t = ratio["target"]
    value = f"{t['value']:.0%}" if t["value"] < 1 and t["op"] == ">=" else f"{t['value']:g}"
    return f"{t['op']} {value}", ("met" if ratio["met"] else "**missed**")


def _fmt_ratio(ratio: dict) -> str:
    v = ratio["value"]
    if ratio["name"].endswith("peak") or "share" in ratio["name"]:
        return f"{v:.0%}"
    return f"{v:.2f}"


def _lines_mlp_step(case: dict) -> list[list[str]]:
    out = []
    for row in case["rows"]:
        m = row["median"]
        r = row["ratios"][0]
        tgt, met = _target(r)
        out.append(["1 scratch vs torch", row["name"],
                    f"scratch {_t(m['scratch'])}, torch {_t(m['torch'])} per step",
                    f"scratch/torch {_fmt_ratio(r)}", tgt, met])
    return out


def _lines_gemm(case: dict) -> list[list[str]]:
    out = []
    for row in case["rows"]:
        g = row["extra"]["gflops"]
        peak = row["extra"]["peak_used"]
        measured = (f"step {g['scratch_step']:.1f} GFLOP/s (torch {g['torch_step']:.1f}); "
                    f"peak {g[peak]:.1f} ({peak.split('_')[0]} {row['params']['gemm_n']}^2 "
                    f"GEMM; numpy {g['numpy_gemm']:.1f}, torch {g['torch_gemm']:.1f})")
        ratios = {r["name"]: r for r in row["ratios"]}
        main = ratios["scratch step / peak"]
        tgt, met = _target(main)
        extra = (f"; GEMMs alone {_fmt_ratio(ratios['step GEMMs alone / peak'])} "
                 f"(batch-first layout "
                 f"{_fmt_ratio(ratios['step GEMMs, batch-first layout / peak'])}), "
                 f"torch step {_fmt_ratio(ratios['torch step / peak'])}")
        out.append(["2 fraction of peak", row["name"], measured,
                    f"scratch step {_fmt_ratio(main)} of peak{extra}", tgt, met])
        per = "; ".join(f"{p['label'].split(' (')[0]} {p['fraction_of_peak']:.0%}"
                        for p in row["extra"]["products"])
        out.append(["2 fraction of peak", row["name"] + ", each product alone",
                    per, "of peak, each at its shape", "", ""])
    return out


def _lines_lightning(case: dict, label: str = "3 Lightning vs plain") -> list[list[str]]:
    """One line per (workload, setup): both loaders, Trainer construction excluded/included."""
    groups: dict[tuple[str, str], dict] = {}
    out = []
    for row in case["rows"]:
        p = row["params"]
        if p.get("kind") == "loop_overhead":
            m = row["median"]
            out.append([label, row["name"],
                        f"plain {_t(m['plain'])}, Lightning {_t(m['lightning'])} per step "
                        f"(Lightning's loop: {_t(m['lightning'] - m['plain'])} per step)",
                        f"Lightning/plain {_fmt_ratio(row['ratios'][0])}", "", ""])
            continue
        g = groups.setdefault((p["workload"], p["setup"]), {})
        g[(p["loader"], p["trainer_construction"])] = row
    for (workload, setup), g in groups.items():
        measured, ratios, targets, verdicts = [], [], [], []
        same = True
        for loader in dict.fromkeys(ld for ld, _ in g):
            ex, inc = g.get((loader, "excluded")), g.get((loader, "included"))
            if ex is None:
                continue
            m = ex["median"]
            name = "in-memory" if loader == "memory" else "DataLoader"
            text = f"{name}: plain {_t(m['plain'])}, Lightning {_t(m['lightning'])}"
            sps = ex["extra"].get("samples_per_s")
            if sps:
                text += f" ({sps['plain']:.0f} vs {sps['lightning']:.0f} samples/s)"
            measured.append(text)
            r = ex["ratios"][0]
            incl = f" (incl. {_fmt_ratio(inc['ratios'][0])})" if inc else ""
            ratios.append(f"{name} {_fmt_ratio(r)}{incl}")
            tgt, met = _target(r)
            if tgt:
                targets.append(tgt)
                verdicts.append(met)
            same = same and all(x["extra"]["same_loss_5_decimals"] for x in (ex, inc) if x)
        loss = "same final loss" if same else "**final loss differs**"
        verdict = "met" if verdicts and all(v == "met" for v in verdicts) else (
            "**missed**" if verdicts else "")
        out.append([label, f"{workload}; {setup} setup",
                    "; ".join(measured) + f" per epoch; {loss}",
                    "Lightning/plain " + "; ".join(ratios),
                    targets[0] if targets else "", verdict])
    return out


def _lines_tta(case: dict) -> list[list[str]]:
    out = []
    for row in case["rows"]:
        e = row["extra"]
        if "epochs_to_target" in e:
            reached = (f"{e['epochs_to_target']} epochs" if e["epochs_to_target"] is not None
                       else "not reached")
            out.append(["4 time to accuracy", row["name"],
                        f"{_t(row['median']['to_target'])} to {e['target_accuracy']:.0%} test "
                        f"accuracy ({reached}; final {e['final_test_accuracy']:.1%})", "", "",
                        ""])
        else:
            out.append(["4 time to accuracy", row["name"],
                        f"{_t(row['median']['command'])} for the whole command "
                        f"({e['epochs']} epochs, test accuracy {e['test_accuracy']})", "", "",
                        ""])
    return out


def _lines_suite(case: dict) -> list[list[str]]:
    out = []
    for row in case["rows"]:
        e = row["extra"]
        lim = row["limits"][0]
        t = lim["target"]
        out.append(["5 test suite", row["name"],
                    f"{_t(row['median']['suite'])} wall ({e.get('summary', '')})",
                    f"{lim['median'] / t['value']:.0%} of the {t['value']:g} s budget",
                    f"{t['op']} {t['value']:g} s", "met" if lim["met"] else "**missed**"])
    return out


def _lines_gpu(case: dict) -> list[list[str]]:
    out = []
    peak = [r for r in case["rows"] if r["params"].get("kind") == "peak"]
    for row in peak:
        out.append(["6 GPU", row["name"], row["extra"]["summary"],
                    f"{_fmt_ratio(row['ratios'][0])} of peak", "", ""])
    rest = {"rows": [r for r in case["rows"] if r["params"].get("kind") != "peak"]}
    out += _lines_lightning(rest, "6 GPU")
    return out


def _lines_startup(case: dict) -> list[list[str]]:
    phases, imports = case["rows"]
    m = phases["median"]
    r = {x["name"]: x for x in phases["ratios"]}
    out = [["7 start-up", phases["name"],
            f"{_t(m['command'])} in all: {_t(m['to_first_step'])} to the first training step "
            f"({_t(m['to_fit_start'])} to fit start), {_t(m['training'])} training, "
            f"{_t(m['after_training'])} after",
            f"command/training {_fmt_ratio(r['command / training'])}", "", ""]]
    pk = imports["extra"]["seconds_by_package"]
    top = ", ".join(f"{name} {_t(v['before_first_step'] + v['after'])}"
                    for name, v in list(pk.items())[:6])
    mi = imports["median"]
    out.append(["7 start-up", imports["name"],
                f"{_t(mi['imports_before_first_step'])} before the first step "
                f"(+{_t(mi['imports_after'])} after); {top}",
                f"{_fmt_ratio(imports['ratios'][0])} of start-up is imports", "", ""])
    return out


def _lines_verify(case: dict) -> list[list[str]]:
    out = []
    for row in case["rows"]:
        m = row["median"]
        timed = ", ".join(f"{k} {_t(v)}" for k, v in m.items() if k != "loop")
        for r in row["ratios"]:
            tgt, met = _target(r)
            out.append(["8 verify size", row["name"] if r is row["ratios"][0] else "",
                        f"{timed}; loop {_t(m['loop'])}" if r is row["ratios"][0] else "",
                        f"{r['name']} {_fmt_ratio(r)}", tgt, met])
    return out


RENDER = {
    "mlp_step": _lines_mlp_step,
    "gemm_peak": _lines_gemm,
    "lightning_loop": _lines_lightning,
    "time_to_accuracy": _lines_tta,
    "suite_cost": _lines_suite,
    "gpu": _lines_gpu,
    "startup": _lines_startup,
    "verify_size": _lines_verify,
}
NUMBER = {"mlp_step": 1, "gemm_peak": 2, "lightning_loop": 3, "time_to_accuracy": 4,
          "suite_cost": 5, "gpu": 6, "startup": 7, "verify_size": 8}


def table_lines(result: dict) -> list[list[str]]:
    lines = []
    for name, case in result["cases"].items():
        if case["status"] != "ok":
            lines.append([f"{NUMBER[name]} {name}", "skipped", case["reason"], "", "", ""])
            continue
        lines += RENDER[name](case)
    return lines


def render_markdown(result: dict) -> str:
    m = result["machine"]
    la = result["load_average"]
    head = [
        f"Machine: {describe_machine(m)}.",
        f"Load average (1, 5, 15 min) at start {la['start']}, at end {la.get('end')}; "
        f"run {result['created']}, `{result['command'].strip()}`"
        f"{' (quick mode: small sizes, not for comparison)' if result['config']['quick'] else ''}"
        ".",
        "Every figure is the median of several runs; every ratio compares medians of the same "
        "run (candidates interleaved).",
        "",
        "| case | configuration | measured (median) | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    body = ["| " + " | ".join(cells) + " |" for cells in table_lines(result)]
    return "\n".join(head + body) + "\n"


def render_text(result: dict) -> str:
    rows = [["case", "configuration", "measured (median)", "ratio", "target", ""]]
    rows += [[c.replace("**", "") for c in line] for line in table_lines(result)]
    widths = [min(60, max(len(r[i]) for r in rows)) for i in range(6)]
    out = []
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    out.insert(1, "-" * min(200, sum(widths) + 10))
    out.append("")
    out.append("machine: " + describe_machine(result["machine"]))
    out.append(f"load average: start {result['load_average']['start']}, "
               f"end {result['load_average'].get('end')}")
    return "\n".join(out)


README_BEGIN = "<!-- benchmarks:begin (written by `python -m benchmarks`; do not edit by hand) -->"
README_END = "<!-- benchmarks:end -->"


def update_readme(readme: Path, markdown: str) -> None:
    """Replace the text between the README's benchmark markers with `markdown` (atomically)."""
    text = readme.read_text()
    if text.count(README_BEGIN) != 1 or text.count(README_END) != 1:
        raise ValueError(
            f"{readme} must contain the markers {README_BEGIN!r} and {README_END!r} once each"
        )
    head, rest = text.split(README_BEGIN)
    _, tail = rest.split(README_END)
    new = f"{head}{README_BEGIN}\n{markdown.strip()}\n{README_END}{tail}"
    tmp = readme.with_name(f".{readme.name}.tmp")
    tmp.write_text(new)
    tmp.replace(readme)
