"""The parity report as static HTML: `index.html` and one page per catalog ID.

Every page carries its CSS inline and loads nothing (no network at view time); everything is
readable without JavaScript. The index has one small inline script: a filter box.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from pathlib import Path

import markdown
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from torchref.report.model import FLOAT_DTYPES, Measured, Page, Source, TestResult

_FORMATTER = HtmlFormatter(cssclass="hl", linenos="table", wrapcode=True)
_CSS = """
:root { --fg: #1d1f21; --muted: #5c6370; --line: #d8dce2; --bg: #fff; --soft: #f5f7fa;
        --ok: #1a7f37; --near: #9a6700; --over: #cf222e; --link: #0550ae; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1500px; margin: 0 auto; padding: 0 1.2rem; }
header { padding-top: .8rem; padding-bottom: .6rem; border-bottom: 1px solid var(--line); }
header .site { font-weight: 600; }
footer { color: var(--muted); font-size: 13px; padding: 2rem 1.2rem; }
a { color: var(--link); text-decoration: none; } a:hover { text-decoration: underline; }
h1 { font-size: 1.6rem; margin: 1rem 0 .3rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .3rem; } h4 { margin: .8rem 0 .2rem; font-size: .95rem; }
.id { display: inline-block; min-width: 2.6em; font-weight: 700; }
.meta, .from, small, .muted { color: var(--muted); }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.doc { background: var(--soft); border: 1px solid var(--line); padding: .7rem .9rem;
          white-space: pre-wrap; border-radius: 6px; }
table.data { border-collapse: collapse; width: 100%; margin: .5rem 0; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: .3rem .5rem;
                               text-align: left; vertical-align: top; }
table.data th { background: var(--soft); position: sticky; top: 0; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ok { color: var(--ok); } .near { color: var(--near); } .over, .failed { color: var(--over); }
.use { font-weight: 600; } td small { white-space: nowrap; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; align-items: start; }
@media (max-width: 1000px) { .side-by-side { grid-template-columns: 1fr; } }
.side-by-side > div { min-width: 0; }
.source > h3 { margin-top: 0; }
td.test code { overflow-wrap: anywhere; }
.source article { border: 1px solid var(--line); border-radius: 6px; margin-bottom: 1rem;
                  overflow: hidden; }
.source article h4 { margin: 0; padding: .4rem .6rem; background: var(--soft);
                     border-bottom: 1px solid var(--line); }
.source .code { overflow-x: auto; max-height: 70vh; overflow-y: auto; }
.source .none { padding: .5rem .6rem; }
.hl { background: transparent; } .hltable { border-spacing: 0; }
.hltable td { vertical-align: top; padding-top: .3rem; padding-bottom: .3rem; }
.hltable pre { margin: 0; line-height: 1.45; } .hltable code { line-height: 1.45; }
.hltable td.linenos { color: #9aa0a6; text-align: right; user-select: none;
                      padding: 0 .5rem; border-right: 1px solid var(--line); }
.hltable td.code { padding-left: .6rem; }
.doc-section { border-left: 3px solid var(--line); padding-left: .9rem; margin: 1rem 0; }
#search { font: inherit; padding: .4rem .6rem; width: min(32rem, 100%); margin: .6rem .6rem .6rem 0;
          border: 1px solid var(--line); border-radius: 6px; }
nav.pager { margin-top: .6rem; }
"""
_SEARCH_JS = """
(function () {
  var table = document.getElementById("ids"), slot = document.getElementById("search-slot");
  var input = document.createElement("input"), shown = document.createElement("span");
  input.type = "search"; input.id = "search"; shown.id = "shown";
  input.placeholder = "Filter: an ID, words of a title, a function or test name";
  slot.appendChild(input); slot.appendChild(shown);
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  function apply() {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean), n = 0;
    rows.forEach(function (row) {
      var hay = row.getAttribute("data-search");
      var show = words.every(function (w) { return hay.indexOf(w) >= 0; });
      row.hidden = !show; if (show) { n++; }
    });
    shown.textContent = n + " of " + rows.length + " IDs";
  }
  input.addEventListener("input", apply);
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) { input.value = q; }
  apply();
})();
"""


def write_site(pages: list[Page], record: dict, out: Path) -> list[Path]:
    """Write `index.html` and `<ID>.html` for every page into `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "index.html"]
    written[0].write_text(index_html(pages, record), encoding="utf-8")
    for i, page in enumerate(pages):
        prev_id = pages[i - 1].id if i > 0 else None
        next_id = pages[i + 1].id if i + 1 < len(pages) else None
        path = out / page_file(page.id)
        path.write_text(page_html(page, record, prev_id, next_id), encoding="utf-8")
        written.append(path)
    return written


def page_file(entry_id: str) -> str:
    return f"{entry_id}.html"


def index_html(pages: list[Page], record: dict) -> str:
    rows = []
    for p in pages:
        search = " ".join(
            [p.id, p.title, p.seed_section, p.status, p.note,
             *(s.ref for s in p.scratch), *(s.ref for s in p.torch), *(t.name for t in p.tests)]
        ).lower()
        rows.append(
            f'<tr id="row-{_e(p.id)}" data-search="{_e(search)}">'
            f'<td><a class="id" href="{page_file(p.id)}">{_e(p.id)}</a></td>'
            f"<td>{_e(p.title)}</td><td>{_e(p.seed_section)}</td>"
            f"<td>{_e(p.status)}{_outcome_line(p.outcomes)}</td>"
            f'<td class="num">{len(p.tests)}</td><td class="num">{p.comparisons:,}</td>'
            + "".join(_worst_cell(p.worst(d)) for d in FLOAT_DTYPES)
            + "</tr>"
        )
    tests = record["tests"]
    outcomes = Counter(t["outcome"] for t in tests)
    n_cmp = sum(r["count"] for t in tests for r in t["comparisons"])
    body = f"""
<h1>Parity report: every formula of the notes, both implementations, the error measured</h1>
<p class="summary">{len(pages)} catalog IDs &middot; {len(tests):,} tests run
({_counts(outcomes)}) &middot; {n_cmp:,} comparisons recorded.</p>
<p class="muted">Each formula of the notes is implemented twice, in NumPy (<code>scratch/</code>)
and with PyTorch (<code>torchref/</code> and <code>torch</code> itself), and the parity tests
compare the two. The worst columns give, over every comparison of the ID's tests in that dtype,
the share of the tolerance the largest error used
(<code>max |a &minus; e| / (atol + rtol &middot; |e|)</code>; a comparison passes below 100%),
then the largest absolute and relative errors observed. A tolerance follows the lower
precision of the two sides (docs/design.md, "Float32 tolerances").</p>
<div id="search-slot"></div>
<table class="data" id="ids">
<thead><tr><th>ID</th><th>Formula</th><th>Seed section</th><th>Status</th>
<th class="num">Tests</th><th class="num">Comparisons</th>
<th class="num">Worst float64</th><th class="num">Worst float32</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<script>{_SEARCH_JS}</script>
"""
    return _document("torchref parity report", body, record)


def page_html(page: Page, record: dict, prev_id: str | None, next_id: str | None) -> str:
    pager = ['<a href="index.html">all IDs</a>']
    if prev_id:
        pager.append(f'<a href="{page_file(prev_id)}">&larr; {_e(prev_id)}</a>')
    if next_id:
        pager.append(f'<a href="{page_file(next_id)}">{_e(next_id)} &rarr;</a>')
    sections = "; ".join(page.sections) or page.source or "not given"
    formula = (
        f'<p class="from">From the docstring of <code>{_e(page.formula_ref)}</code>.</p>'
        f'<pre class="doc">{_e(page.formula)}</pre>'
        if page.formula else '<p class="muted">No scratch docstring names this ID.</p>'
    )
    differs = "".join(f"<li>{_inline_code(s)}</li>" for s in page.torch_differs)
    differs = f"<ul>{differs}</ul>" if differs else (
        '<p class="muted">The scratch docstrings say nothing of PyTorch here.</p>'
    )
    note = f'<p><b>Catalog note.</b> {_inline_code(page.note)}</p>' if page.note else ""
    body = f"""
<nav class="pager">{" &middot; ".join(pager)}</nav>
<h1><span class="id">{_e(page.id)}</span> {_e(page.title)}</h1>
<p class="meta">Seed: {_e(sections)} &middot; documents {_e(page.source or "-")} &middot;
status {_e(page.status)}{_outcome_line(page.outcomes)} &middot; {len(page.tests)} tests,
{page.comparisons:,} comparisons</p>
<section class="formula"><h2>The formula, as the notes write it</h2>{formula}</section>
<section class="measured-summary"><h2>Measured error</h2>{_summary_table(page)}</section>
<section class="differs"><h2>Where PyTorch's convention differs</h2>{differs}{note}</section>
<section class="sources"><h2>The two implementations</h2>
<div class="side-by-side">
<div class="source scratch"><h3>scratch (NumPy)</h3>{_sources(page.scratch)}</div>
<div class="source torch"><h3>torch</h3>{_sources(page.torch)}</div>
</div></section>
<section class="tests"><h2>The tests that compare them</h2>{_tests_table(page)}</section>
<section class="errata"><h2>Errata</h2>{_doc_sections(page.errata, page.id, "erratum")}</section>
<section class="demonstrations"><h2>Demonstrations</h2>
{_doc_sections(page.demonstrations, page.id, "demonstration")}</section>
"""
    return _document(f"{page.id}: {page.title} - torchref parity report", body, record)


# ---- pieces ---------------------------------------------------------------------------------


def _document(title: str, body: str, record: dict) -> str:
    meta = record.get("meta", {})
    blas = "; ".join(meta.get("numpy_blas", [])) or "unknown BLAS"
    env = ", ".join(f"{k}={v}" for k, v in meta.get("env", {}).items())
    machine = (
        f"Measured {_e(meta.get('created', '?'))} on {_e(meta.get('processor', '?'))}: "
        f"torch {_e(meta.get('torch', '?'))} ({_e(meta.get('torch_cpu_capability', '?'))}), "
        f"NumPy {_e(meta.get('numpy', '?'))} with {_e(blas)}"
        + (f", {_e(env)}" if env else "")
        + f", Python {_e(meta.get('python', '?'))}."
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_FORMATTER.get_style_defs(".hl")}{_CSS}</style>
</head><body>
<header><a class="site" href="index.html">torchref parity report</a>
<span class="muted">&middot; {machine}</span></header>
<main>{body}</main>
<footer>Written by <code>python -m torchref.report</code> from a parity record
(<code>pytest --parity-record</code>, pytest {_e(" ".join(meta.get("args", [])))}).
Self-contained: no script or style is loaded from elsewhere.</footer>
</body></html>
"""


def _summary_table(page: Page) -> str:
    rows = []
    for dtype in FLOAT_DTYPES:
        m = page.worst(dtype)
        if m is None:
            continue
        rows.append(f"<tr><td>{dtype}</td>{_measured_cells(m)}</tr>")
    if not rows:
        return '<p class="muted">No float comparison of this ID was recorded in this run.</p>'
    return (
        '<table class="data"><thead><tr><th>dtype</th><th class="num">comparisons</th>'
        '<th class="num">values</th><th class="num">max abs error</th>'
        '<th class="num">max rel error</th><th class="num">of the tolerance</th>'
        '<th class="num">tolerance (rtol, atol)</th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table>"
    )


def _measured_cells(m: Measured) -> str:
    failed = f' <span class="failed">({m.failed} raised)</span>' if m.failed else ""
    tol = "-" if m.rtol is None else f"{_num(m.rtol)}, {_num(m.atol)}"
    return (
        f'<td class="num">{m.count:,}{failed}</td><td class="num">{m.n:,}</td>'
        f'<td class="num measured">{_num(m.max_abs)}</td><td class="num">{_num(m.max_rel)}</td>'
        f'<td class="num">{_usage(m.usage)}</td><td class="num">{tol}</td>'
    )


def _worst_cell(m: Measured | None) -> str:
    if m is None or m.passed == 0:
        return '<td class="num muted">-</td>'
    return (
        f'<td class="num measured">{_usage(m.usage)} of tol<br>'
        f"<small>abs {_num(m.max_abs)} &middot; rel {_num(m.max_rel)}</small></td>"
    )


def _tests_table(page: Page) -> str:
    rows = []
    for t in sorted(page.tests, key=lambda t: t.name):
        dtypes = sorted(t.by_dtype, key=lambda d: (d not in FLOAT_DTYPES, d))
        first = (
            f'<td class="test" rowspan="{max(1, len(dtypes))}"><code>{_e(_test_label(t))}</code>'
            f"<br><small>{t.instances} run{'s' if t.instances != 1 else ''}: "
            f"{_counts(t.outcomes)}</small></td>"
        )
        if not dtypes:
            rows.append(
                f'<tr>{first}<td colspan="8" class="muted">no assert_close / assert_allclose '
                "comparison recorded (this test asserts otherwise)</td></tr>"
            )
            continue
        for i, d in enumerate(dtypes):
            rows.append(f"<tr>{first if i == 0 else ''}<td>{_e(d)}</td>"
                        f"{_measured_cells(t.by_dtype[d])}</tr>")
    table = (
        '<table class="data"><thead><tr><th>test</th><th>dtype</th><th class="num">comparisons'
        '</th><th class="num">values</th><th class="num">max abs error</th>'
        '<th class="num">max rel error</th><th class="num">of the tolerance</th>'
        '<th class="num">tolerance (rtol, atol)</th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table>"
        if rows else '<p class="muted">No test of this ID ran in this record.</p>'
    )
    if page.listed_not_run:
        items = "".join(f"<li><code>{_e(t)}</code></li>" for t in page.listed_not_run)
        table += f'<p>Listed by the catalog, not run in this record:</p><ul>{items}</ul>'
    return table


def _sources(sources: list[Source]) -> str:
    if not sources:
        return '<p class="muted">None listed.</p>'
    parts = []
    for s in sources:
        where = f" <small>{_e(s.path)}:{s.line}</small>" if s.path else ""
        head = f"<h4><code>{_e(s.ref)}</code>{where}</h4>"
        if s.code is not None:
            formatter = HtmlFormatter(cssclass="hl", linenos="table", linenostart=s.line,
                                      wrapcode=True)
            parts.append(f'<article>{head}<div class="code">'
                         f"{highlight(s.code, PythonLexer(), formatter)}</div></article>")
        else:
            doc = f'<pre class="doc">{_e(s.doc)}</pre>' if s.doc else ""
            parts.append(f'<article>{head}<div class="none"><p class="muted">{_e(s.error)}'
                         f"</p>{doc}</div></article>")
    return "".join(parts)


def _doc_sections(sections, entry_id: str, what: str) -> str:
    if not sections:
        return f'<p class="muted">No {what} concerns {_e(entry_id)}.</p>'
    return "".join(
        f'<div class="doc-section"><h3>{_e(s.heading)}</h3>'
        f'{markdown.markdown(s.body, extensions=["tables", "fenced_code"])}</div>'
        for s in sections
    )


def _test_label(t: TestResult) -> str:
    return t.name.removeprefix("parity_tests/")


def _outcome_line(outcomes: Counter) -> str:
    if not outcomes:
        return ' <br><small class="muted">not run</small>'
    cls = "failed" if outcomes.get("failed") else "ok"
    return f' <br><small class="{cls}">{_e(_counts(outcomes))}</small>'


def _counts(outcomes: Counter) -> str:
    order = ("passed", "failed", "skipped")
    return ", ".join(f"{outcomes[k]:,} {k}" for k in order if outcomes.get(k)) or "none"


def _usage(u: float) -> str:
    cls = "ok" if u <= 0.5 else "near" if u <= 1 else "over"
    text = "NaN" if math.isnan(u) else "&infin;" if math.isinf(u) else f"{100 * u:.2g}%"
    return f'<span class="use {cls}">{text}</span>'


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "&infin;"
    return "0" if x == 0 else f"{x:.2e}"


def _inline_code(text: str) -> str:
    """Escape, and show the notes' `backtick` spans as code."""
    parts = _e(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _e(text) -> str:
    return html.escape(str(text), quote=True)
