"""How the command line reports bad input: one line that names the argument.

Imports lightning and jsonargparse's message format; no torch maths.

- `as_input_error(exc)`: a ValueError/TypeError raised while the config's objects are built
  (jsonargparse wraps the constructor's own error; the chain is searched) becomes an
  `InputError` naming the flag: the object being built is found in the traceback (model,
  data, checkpoint, NaN guard, a callback, the Trainer), the argument among its __init__
  parameters (or the InputError's own `argument`).
- `input_error_line(exc)`: `error: --flag: message`.
- `parse_error_line(exc)`: jsonargparse's nested parse error as one line
  (`error: --trainer.max_epochs: expected int or None, got abc (see --help)`).
"""

from __future__ import annotations

import inspect
import re

from jsonargparse import ArgumentError
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import Callback

from lightning_app.callbacks import FiniteLossGuard
from lightning_app.checkpointing import RunCheckpoint
from lightning_app.checks import InputError

__all__ = ["as_input_error", "init_params", "input_error_line", "parse_error_line"]

_GROUPS = (  # (class, flag prefix) of what the config builds, most specific first
    (LightningModule, "--model.init_args."),
    (LightningDataModule, "--data.init_args."),
    (RunCheckpoint, "--checkpoint."),
    (FiniteLossGuard, "--nan_guard."),
    (Callback, "--trainer.callbacks.init_args."),
    (Trainer, "--trainer."),
)


def as_input_error(exc: Exception) -> InputError:
    """A constructor's ValueError/TypeError as an InputError naming the flag: the object being
    built is found in the traceback, the argument among its __init__ parameters."""
    chain, seen = [], exc
    while seen is not None and len(chain) < 20:  # jsonargparse wraps the constructor's error
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for cause in reversed(chain):
        message = " ".join(str(cause).split())
        tb = cause.__traceback__
        while tb is not None:  # the outermost __init__ of something the config builds
            local_self = tb.tb_frame.f_locals.get("self")
            if tb.tb_frame.f_code.co_name == "__init__" and local_self is not None:
                flag = next((f for cls, f in _GROUPS if isinstance(local_self, cls)), None)
                if flag is not None:
                    name = getattr(cause, "argument", None)  # an InputError knows it
                    if name is None:
                        params = init_params(type(local_self))
                        words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message)
                        name = next((w for w in words if w in params), None)
                    if name and name.startswith("--"):
                        return InputError(message, name)
                    return InputError(message, flag + name if name else flag.rstrip("."))
            tb = tb.tb_next
    return InputError(" ".join(str(exc).split()))


def init_params(cls) -> set[str]:
    names = set()
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= {p for p in inspect.signature(init).parameters if p != "self"}
    return names


def input_error_line(exc: InputError) -> str:
    message = " ".join(str(exc).split())
    arg = exc.argument
    if arg and not arg.startswith("--"):
        arg = f"--model.init_args.{arg}"
    return f"error: {arg}: {message}" if arg else f"error: {message}"


def parse_error_line(exc: ArgumentError) -> str:
    """jsonargparse's nested message as one line: the flag, the expected types, the value."""
    message = " ".join(str(exc).split())
    key = re.search(r'Parser key "([^"]+)"', message)
    nested = re.search(r"NestedArg\(key='([^']+)'", message)
    flag = f"--{key[1]}" if key else None
    if flag and nested:
        flag = f"{flag}.init_args.{nested[1]}"
    types = re.findall(r"Expected a <class '([^']+)'>", message)
    if nested:  # the NoneType alternative is the whole model's, not the argument's
        types = [t for t in types if t != "NoneType"]
    got = re.search(r"(?:Given|Got) value: (.*?)(?: - Expected a |$)", message)
    if flag and types and got:
        expected = " or ".join(dict.fromkeys("None" if t == "NoneType" else t for t in types))
        value = got[1].removeprefix("NestedArg(").strip()
        if nested:
            value = re.sub(r"^key='[^']*', val=(.*)\)$", r"\1", value)
        return f"error: {flag}: expected {expected}, got {value} (see --help)"
    unknown = re.search(r"class_path '([^']+)': Option '([^']+)' is not accepted", message)
    if flag and nested and unknown:
        return f"error: {flag}: {unknown[1]} has no argument {unknown[2]!r} (see --help)"
    message = re.sub(r'Parser key "([^"]+)":', r"--\1:", message)
    return f"error: {message} (see --help)"
