"""A Lightning callback that writes when training starts and ends, for `benchmarks.startup`.

Imports only what the app has already imported when the CLI builds its callbacks (the
standard library's json, os, sys, time and Lightning's Callback base), so adding it changes
nothing that the command imports.
Added to the command as `--trainer.callbacks+=benchmarks.startup_probe.StartupProbe`; it
writes wall-clock times (`time.time()`, comparable with the parent's) as JSON to the file
named by the environment variable TORCHREF_STARTUP_PROBE.
"""

from __future__ import annotations

import json
import os
import sys
import time

from lightning.pytorch.callbacks import Callback

ENV = "TORCHREF_STARTUP_PROBE"


class StartupProbe(Callback):
    """Records fit start, the first training batch, training end and test end (wall clock),
    and the modules loaded at the first training batch."""

    def __init__(self) -> None:
        self.record: dict = {}

    def _mark(self, name: str) -> None:
        if name not in self.record:
            self.record[name] = time.time()
            if name == "first_step":  # which modules start-up imported
                self.record["modules_at_first_step"] = sorted(sys.modules)
            path = os.environ.get(ENV)
            if path:
                with open(path, "w") as fh:
                    json.dump(self.record, fh)

    def on_fit_start(self, trainer, pl_module) -> None:
        self._mark("fit_start")

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._mark("first_step")

    def on_train_end(self, trainer, pl_module) -> None:
        self._mark("train_end")

    def on_test_end(self, trainer, pl_module) -> None:
        self._mark("test_end")
