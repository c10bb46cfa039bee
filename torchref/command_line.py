"""The one usage-error rule of torchref's commands: one line, exit status 2.

argparse answers a bad argument with its whole usage block and the message last; our users
get one line that names what was wrong (docs/design.md, "Bad input"). Every `python -m
torchref.*` command builds its parser from `OneLineParser`; subcommand parsers inherit it.
"""

from __future__ import annotations

import argparse

__all__ = ["OneLineParser"]


class OneLineParser(argparse.ArgumentParser):
    """An `argparse.ArgumentParser` whose usage errors are one line and exit status 2.

    `usage_error`: an exception class to raise with argparse's message instead of exiting,
    for a command whose `main` words and returns its errors itself (verify, trace).
    """

    def __init__(self, *args, usage_error: type[Exception] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.usage_error = usage_error

    def error(self, message: str):
        if self.usage_error is not None:
            raise self.usage_error(message)
        self.exit(2, f"{self.prog}: error: {message}\n")
