"""`python -m torchref.report`: the site built from a small run, read back in headless Chromium.

Chromium (Debian's `chromium`; `.ci/run` installs it) renders the pages and runs the index's
filter script; `--dump-dom` returns the document as the browser holds it. Without a Chromium
the browser test FAILS, naming the package to install, unless `TORCHREF_NO_BROWSER=1` says
this machine has no browser on purpose (then it is skipped, with that reason).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from filelock import FileLock

from torchref.catalog import CATALOG

ROOT = Path(__file__).resolve().parents[1]
# A handful of real parity tests: float64 and float32 comparisons of the sigmoid (A3) family.
SMALL_RUN = ["parity_tests/test_activations.py", "-k", "sigmoid"]
_CHROMIUM_FLAGS = [
    # The flags this sandboxed machine needs (no network, running as root): no background
    # connections, no first-run work, a fresh profile per call.
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site of a small run, built once per test session (xdist workers share it)."""
    # pytest-xdist's recipe for a fixture run once: the workers' base temp folders share a
    # parent, and a file lock lets the first worker build while the others wait.
    shared = tmp_path_factory.getbasetemp().parent
    out = shared / "parity-report-site"
    with FileLock(str(shared / "parity-report-site.lock")):
        if not (out / "index.html").is_file():
            proc = subprocess.run(
                [sys.executable, "-m", "torchref.report", "--out", str(out), "-n", "0", "--",
                 *SMALL_RUN],
                cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
            )
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
            assert "parity report:" in proc.stdout
    return out


def _chromium() -> str:
    for name in (os.environ.get("TORCHREF_BROWSER"), "chromium", "chromium-browser",
                 "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    if os.environ.get("TORCHREF_NO_BROWSER") == "1":
        pytest.skip("TORCHREF_NO_BROWSER=1: this machine has no browser on purpose")
    pytest.fail("no Chromium to render the report: `apt-get install -y chromium` "
                "(or set TORCHREF_NO_BROWSER=1 on a machine that must not have one)")


def _dump_dom(url: str, tmp_path: Path) -> str:
    # A new profile per call: a Chromium still closing holds its profile's lock, and a second
    # one started on that profile hands over to it and prints nothing.
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    cmd = [_chromium(), *_CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    proc = subprocess.run([*cmd, "--dump-dom", url], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0 and "</html>" in proc.stdout, (cmd, url, proc.stderr[-2000:])
    return proc.stdout


class _Dom(HTMLParser):
    """The parts of a page the tests read: index rows, text by class (and by "#id")."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: dict[str, dict] = {}  # row id -> {"hidden", "search", "links"}
        self.text_by_class: dict[str, list[str]] = {}
        self.external: list[str] = []
        self.hidden = 0  # elements with the `hidden` attribute
        self._stack: list[tuple[str, list[str]]] = []
        self._row: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split() + ([f"#{a['id']}"] if a.get("id") else [])
        self.hidden += "hidden" in a
        for key in ("src", "href"):
            if a.get(key) and re.match(r"(https?:)?//", a[key]):
                self.external.append(a[key])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.external.append(a.get("href", "?"))
        if tag == "tr" and a.get("id", "").startswith("row-"):
            self._row = self.rows.setdefault(
                a["id"][4:], {"hidden": "hidden" in a, "search": a.get("data-search", ""),
                              "links": []}
            )
        if tag == "a" and self._row is not None and "id" in classes:
            self._row["links"].append(a.get("href"))
        if tag not in ("br", "meta", "input", "link", "img"):
            self._stack.append((tag, classes))

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, _ = self._stack.pop()
            if open_tag == tag:
                break
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        for _, classes in self._stack:
            for c in classes:
                self.text_by_class.setdefault(c, []).append(data)

    def text(self, cls: str) -> str:
        return "".join(self.text_by_class.get(cls, []))


def _measured_id(site: Path) -> tuple[str, dict]:
    """An ID of the small run with scratch and torch code, and its largest float64 error."""
    record = json.loads((site / "record.json").read_text())
    entries = {e.id: e for e in CATALOG}
    for test in record["tests"]:
        for entry_id in test["ids"]:
            entry = entries.get(entry_id)
            if entry and entry.scratch and entry.torch and entry.torch[0].startswith("torch"):
                rows = [r for t in record["tests"] if entry_id in t["ids"]
                        for r in t["comparisons"] if r["dtype"] == "float64"]
                if rows:
                    return entry_id, {"max_abs": max(float(r["max_abs"]) for r in rows),
                                      "scratch": entry.scratch[0], "torch": entry.torch[0]}
    raise AssertionError("the small run recorded no float64 comparison of a catalog ID")


@pytest.mark.slow
def test_report_index_lists_every_id_and_a_page_shows_both_sources_and_a_measured_error(
    site, tmp_path
):
    index = _Dom(_dump_dom((site / "index.html").as_uri(), tmp_path))
    ids = [e.id for e in CATALOG]
    assert sorted(index.rows) == sorted(ids)
    for entry_id, row in index.rows.items():
        assert row["links"] == [f"{entry_id}.html"] and (site / f"{entry_id}.html").is_file()

    entry_id, want = _measured_id(site)
    page = _Dom(_dump_dom((site / f"{entry_id}.html").as_uri(), tmp_path))
    scratch_name = want["scratch"].rpartition(":")[2].rpartition(".")[2]
    torch_name = want["torch"].rpartition(":")[2].rpartition(".")[2]
    scratch_code = page.text("scratch")
    torch_code = page.text("torch")
    # Both columns hold highlighted source: the definition line of their first callable.
    # (Line numbers run into the first word of the code in the text: no \b before it.)
    assert re.search(rf"(def|class)\s+{scratch_name}\b", scratch_code), scratch_code[:500]
    assert re.search(rf"(def|class)\s+{torch_name}\b", torch_code), torch_code[:500]
    assert page.text_by_class.get("hl"), "no syntax-highlighted block"
    # The measured error: the largest float64 absolute error of the record, as the page
    # prints it (two significant digits).
    expected = "0" if want["max_abs"] == 0 else f"{want['max_abs']:.2e}"
    summary = page.text("measured-summary")
    assert expected in summary, (expected, summary[:800])
    assert re.search(r"\d+(\.\d+)?%", summary)  # the share of the tolerance it used


@pytest.mark.slow
def test_report_index_filter_script_hides_the_ids_that_do_not_match(site, tmp_path):
    query = "sigmoid"
    index = _Dom(_dump_dom((site / "index.html").as_uri() + f"?q={query}", tmp_path))
    shown = {i for i, r in index.rows.items() if not r["hidden"]}
    assert shown == {i for i, r in index.rows.items() if query in r["search"]}
    assert 0 < len(shown) < len(index.rows)
    assert index.text("#shown") == f"{len(shown)} of {len(index.rows)} IDs"


@pytest.mark.slow
def test_report_is_self_contained_and_readable_without_javascript(site):
    # As served, before any script runs (what a browser without JavaScript shows; Chromium's
    # --dump-dom itself needs JavaScript, so the file is read directly): every row is there
    # and visible, and the only script is the index's inline filter.
    for path in sorted(site.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        dom = _Dom(text)
        assert dom.external == [], f"{path.name} loads {dom.external}"
        assert re.findall(r"<script[^>]*>", text) == (["<script>"] if path.name == "index.html"
                                                      else [])
        assert dom.hidden == 0  # no element hidden
        assert not re.search(r"display:\s*none", text)  # nor hidden by the stylesheet
    index = _Dom((site / "index.html").read_text(encoding="utf-8"))
    assert len(index.rows) == len(CATALOG)
    assert not any(r["hidden"] for r in index.rows.values())


def test_report_refuses_a_file_that_is_not_a_record_with_one_line_and_status_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"tests": []}')
    out = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "torchref.report", "--from", str(bad), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a parity record" in proc.stderr
    assert not out.exists()  # nothing half-written
