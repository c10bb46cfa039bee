"""Screenshots of TensorBoard for docs/app.md: the first screen and the embedding projector of
an `mlp_digits` run, taken by headless Chromium from a real `tensorboard` server.

    python docs/figures/make_tensorboard_screenshots.py                 # trains mlp_digits
    python docs/figures/make_tensorboard_screenshots.py --logdir logs/mlp_digits

Without `--logdir` it trains the shipped `mlp_digits` config (40 epochs, about 10 s) into a
temporary folder. Needs Chromium (`apt-get install -y chromium`, or `--chromium PATH`); no
Playwright, no download. Writes `tensorboard_first_screen.png` and `tensorboard_projector.png`
beside this script. Not a test: it checks that the server serves the run and that each
picture was written, and leaves the looking to you.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lightning_app.tensorboard_server import serve

HERE = Path(__file__).resolve().parent
# Headless Chromium on a machine without a display, a GPU or outside network:
# software WebGL for the projector, no sandbox (root), no background connections.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]
# file -> (TensorBoard page, window size). The charts as SVG (TensorBoard's `forceSVG` flag):
# software WebGL may not have drawn every line when Chromium takes the picture.
SHOTS = {
    "tensorboard_first_screen.png": ("/?forceSVG=true#timeseries", (1600, 1700)),
    "tensorboard_projector.png": ("/#projector", (1600, 900)),
}


def train(save_dir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "lightning_app", "fit", "--config", "mlp_digits",
         "--trainer.logger.init_args.save_dir", str(save_dir),
         "--trainer.enable_progress_bar", "false"],
        check=True, stdout=subprocess.DEVNULL,
    )
    return save_dir / "mlp_digits"


def screenshot(chromium: str, url: str, size: tuple[int, int], out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=30000",
             f"--screenshot={out}", url],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180,
        )
    if not out.is_file() or out.stat().st_size < 10_000:
        raise SystemExit(f"error: Chromium wrote no picture of {url}")
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--logdir", type=Path, help="a run folder's parent (default: train one)")
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    p.add_argument("--out", type=Path, default=HERE)
    args = p.parse_args(argv)
    if not Path(args.chromium).is_file():
        raise SystemExit(f"error: --chromium: no Chromium at {args.chromium}; "
                         "apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="tb-shots-") as tmp:
        logdir = args.logdir or train(Path(tmp))
        with serve(logdir, projector=True) as base:
            for name, (page, size) in SHOTS.items():
                screenshot(args.chromium, base + page, size, args.out / name)


if __name__ == "__main__":
    main()
