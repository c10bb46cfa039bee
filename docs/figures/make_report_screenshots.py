"""Screenshots of the parity report for the README: the index and one formula's page.

usage: python docs/figures/make_report_screenshots.py [--site build/report] [--id A3]
       (from the repository root; builds the site with `python -m torchref.report` first if
       the folder has none)

Uses Debian's headless Chromium (`apt-get install -y chromium`) and its `--screenshot`; writes
docs/figures/report_index.png and docs/figures/report_page.png.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--force-device-scale-factor=1",
]


def screenshot(url: str, path: Path, width: int, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("make_report_screenshots: no chromium (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={path}", url],
            check=True, capture_output=True, timeout=120,
        )
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "build" / "report")
    parser.add_argument("--id", default="A3", help="the formula whose page is shown")
    args = parser.parse_args()
    if not (args.site / "index.html").is_file():
        subprocess.run([sys.executable, "-m", "torchref.report", "--out", str(args.site)],
                       cwd=ROOT, check=False)
    screenshot((args.site / "index.html").resolve().as_uri(), OUT / "report_index.png",
               1400, 1000)
    screenshot((args.site / f"{args.id}.html").resolve().as_uri(), OUT / "report_page.png",
               1400, 1500)


if __name__ == "__main__":
    main()
