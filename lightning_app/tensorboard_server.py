"""A real `tensorboard` server on a free loopback port, for the tests that read a run back over
TensorBoard's HTTP API and for the docs' screenshots (docs/figures/make_tensorboard_screenshots.py).

Imports the standard library only; TensorBoard runs in a child process
(`python -m tensorboard.main`), as a user starts it.

    with serve(logdir) as base:          # "http://127.0.0.1:<port>"
        get_json(f"{base}/data/runs")

The port is 0 (the OS picks a free one; TensorBoard prints the address it serves) and the host
127.0.0.1 (loopback only). `serve` returns once the server answers and lists a run, and, with
`projector=True`, once its projector plugin has found the run's projector config (both scans
are asynchronous); the server is killed when the block ends, also on an error or a timeout.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

__all__ = ["serve", "get_json", "TensorBoardStartError"]

_ADDRESS = re.compile(r"(http://127\.0\.0\.1:\d+)/")


class TensorBoardStartError(RuntimeError):
    """The server did not start, or did not serve the log dir's run, within the timeout."""


def get_json(url: str, body: dict | None = None, timeout: float = 20):
    """GET `url` (POST `body` as JSON when given) and decode the JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
        return json.loads(response.read().decode())


def _drain(proc: subprocess.Popen, lines: list[str]) -> None:
    """Read the server's output (stdout and stderr, one pipe) to its end, so that a full pipe
    never blocks it; the lines are kept for the address and for an error message."""
    for line in proc.stdout:
        lines.append(line)


def _address(proc: subprocess.Popen, lines: list[str], deadline: float) -> str:
    """The address TensorBoard prints on start-up."""
    while time.monotonic() < deadline:
        for line in list(lines):
            m = _ADDRESS.search(line)
            if m:
                return m.group(1)
        if proc.poll() is not None:
            raise TensorBoardStartError(f"tensorboard exited with status {proc.returncode}: "
                                        + "".join(lines[-5:]).strip())
        time.sleep(0.1)
    raise TensorBoardStartError("tensorboard did not print its address in time")


def _ready(base: str, projector: bool) -> bool:
    try:
        if not get_json(f"{base}/data/runs"):
            return False
        return not projector or get_json(f"{base}/data/plugins_listing")["projector"]["enabled"]
    except OSError:  # not answering yet
        return False


@contextlib.contextmanager
def serve(logdir: str | Path, timeout: float = 120, projector: bool = False):
    """`tensorboard --logdir logdir --host 127.0.0.1 --port 0`; yields its base URL once it
    serves a run (and its projector, if asked); kills it on leaving."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host",
         "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=_drain, args=(proc, lines), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        base = _address(proc, lines, deadline)
        while not _ready(base, projector):
            if time.monotonic() > deadline:
                raise TensorBoardStartError(f"tensorboard at {base} served no run of {logdir} "
                                            f"within {timeout:g} s")
            time.sleep(0.25)
        yield base
    finally:
        proc.kill()
        proc.wait(timeout=30)
        reader.join(timeout=30)
        proc.stdout.close()
