"""A Lightning profiler that costs nothing per hook: the app's default `--trainer.profiler`.

Imports lightning only.

Lightning wraps every hook call in `trainer.profiler.profile(name)`: for each callback about
ten hooks per training step, plus the module's and the strategy's. Its default profiler
(`PassThroughProfiler`) measures nothing but still enters a `@contextmanager` generator each
time, about 1 us; with the app's callbacks that was some 60 us per optimizer step, 5% of a
step of the digits MLP (docs/performance.md). `QuietProfiler` hands back one shared
`nullcontext` instead. `--trainer.profiler simple` (or `advanced`, `pytorch`) still selects
Lightning's real profilers.
"""

from __future__ import annotations

import contextlib

from lightning.pytorch.profilers import Profiler

__all__ = ["QuietProfiler"]

_NOTHING = contextlib.nullcontext()  # reentrant and stateless: one for every hook call


class QuietProfiler(Profiler):
    """Profiles nothing (as Lightning's `PassThroughProfiler`), without a generator per hook."""

    def __init__(self) -> None:
        super().__init__(dirpath=None, filename=None)

    def profile(self, action_name: str):
        return _NOTHING

    def start(self, action_name: str) -> None:
        pass

    def stop(self, action_name: str) -> None:
        pass

    def summary(self) -> str:
        return ""
