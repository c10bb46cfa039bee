"""The app's input errors and the one integer check it adds to `scratch.validation`.

Imports scratch.validation only (the one place where valid ranges live, docs/design.md).

`InputError` is what the command line turns into one `error: ...` line and exit status 2:
anything the user can fix by changing an argument, a config value or a data file. It may
name the argument (`--model.init_args.layer_sizes`) that the CLI prints in front of the
message. `DataError` is the data's kind of it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["InputError", "DataError", "check_count"]


class InputError(ValueError):
    """Bad input: a config value, a flag or a data file; `argument` names the flag if known."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class DataError(InputError):
    """The data cannot be trained on; the message names the source and the problem."""


def check_count(name: str, value, low: int = 1) -> int:
    """`value` as an int >= `low` (NumPy integers too; never a bool or a float).

    scratch.validation has no integer interval yet; when it has (`check_count`), this goes.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or (
        value < low
    ):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)
