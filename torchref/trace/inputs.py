"""Reading the trace tool's YAML files: numbers that remember how they were written.

A student's check file says "0.47", and the tool must know that two decimals were written (0.47
is right for 0.4702 and wrongly rounded for 0.4750). PyYAML turns "0.470" into the float 0.47,
so this loader builds `Written` numbers instead: floats that keep their source text and the
number of decimals it shows. Every error is a `TraceInputError` whose message starts with the
key it is about (`weights[1]: ...`), the one line the command prints before exiting with 2.

Imports PyYAML, NumPy and `scratch.validation` only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from scratch.validation import check_array, check_interval

__all__ = ["TraceInputError", "Written", "load", "Spec", "decimals_of", "as_number", "as_int",
           "to_array"]


class TraceInputError(ValueError):
    """Bad input: the message names the key (or the file) first, and is printed as one line."""


# Integers, decimals and exponent forms YAML 1.1 leaves as strings ("1e-5", "5.", ".5").
_NUMBER = re.compile(r"^[-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


def decimals_of(text: str) -> int:
    """Decimal places a number's text shows: "0.47" -> 2, "125" -> 0, "4.5e-5" -> 6."""
    mantissa, _, exponent = text.strip().lower().partition("e")
    _, _, frac = mantissa.partition(".")
    return max(0, len(frac) - (int(exponent) if exponent else 0))


class Written(float):
    """A float that remembers its source text (`text`) and how many decimals it shows."""

    text: str
    decimals: int

    def __new__(cls, text: str) -> Written:
        obj = super().__new__(cls, float(text.replace("_", "")))
        obj.text = text.strip()
        obj.decimals = decimals_of(obj.text)
        return obj

    def __reduce__(self):  # plain floats when copied or pickled
        return float, (float(self),)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose numbers are `Written` (ints included: "1" is 1 with 0 decimals)."""


def _construct_number(loader: _Loader, node: yaml.ScalarNode) -> Written:
    text = loader.construct_scalar(node)
    if text.lower().lstrip("+-") in (".inf", ".nan"):
        return Written("nan")  # refused later as "must be finite", with the key named
    return Written(text)


# Drop YAML 1.1's int/float resolvers (sexagesimal "1:30", "0b101") and use one for numbers.
# The table is built anew on _Loader: the inherited dict is SafeLoader's own, shared by every
# YAML reader in the process (jsonargparse's too), and must not lose its number resolvers.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _NUMBER, list("-+0123456789."))
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_number)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_number)


def load(path: str | Path, what: str) -> dict:
    """Parse a YAML mapping from `path`; `what` names the file in errors ("input file")."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TraceInputError(f"{what} {str(path)!r}: cannot read it ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise TraceInputError(f"{what} {path.name}: {problem}{where}") from None
    if not isinstance(data, dict):
        raise TraceInputError(
            f"{what} {path.name}: expected a mapping of keys (key: value), "
            f"got {type(data).__name__}")
    return data


@dataclass
class Spec:
    """The keys of one input file, with typed getters that name the key in every error."""

    data: Mapping
    allowed: Sequence[str]
    name: str = "input file"

    def __post_init__(self) -> None:
        for key in self.data:
            if key not in self.allowed:
                raise TraceInputError(
                    f"{key}: unknown key; valid keys: {', '.join(self.allowed)}")

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str, why: str = ""):
        if not self.has(key):
            raise TraceInputError(f"{key}: missing key{': ' + why if why else ''}")
        return self.data[key]

    def array(self, key: str, ndim, value=None) -> np.ndarray:
        """The key's value (or `value`, a part of it) as a float64 array of rank `ndim`."""
        value = self.raw(key) if value is None else value
        return to_array(key, value, ndim)

    def number(self, key: str, interval, default=None) -> float:
        if not self.has(key):
            if default is None:
                raise TraceInputError(f"{key}: missing key")
            return default
        return as_number(key, self.data[key], interval)

    def integer(self, key: str, low: int, default: int | None = None) -> int:
        if not self.has(key):
            if default is None:
                raise TraceInputError(f"{key}: missing key")
            return default
        return as_int(key, self.data[key], low)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            shown = getattr(value, "text", repr(value))
            raise TraceInputError(f"{key}: expected true or false, got {shown}")
        return value

    def name_of(self, key: str, choice, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise TraceInputError(f"{key}: missing key; valid choices: {choice}")
        if not isinstance(value, str) or value not in choice.options:
            raise TraceInputError(f"{key}: unknown {key} {value!r}; valid choices: {choice}")
        return value


def as_number(key: str, value, interval) -> float:
    """`value` as a float inside `interval` (a `scratch.validation.Interval`)."""
    if isinstance(value, bool) or not isinstance(value, float | int):
        raise TraceInputError(f"{key}: expected a number in {interval}, got {value!r}")
    try:
        return check_interval(key, float(value), interval)
    except ValueError:
        shown = getattr(value, "text", repr(value))
        raise TraceInputError(f"{key}: must be in {interval}, got {shown}") from None


def as_int(key: str, value, low: int) -> int:
    """`value` as an int >= low; "3" and 3 are fine, 3.5 and true are not."""
    if isinstance(value, bool) or not isinstance(value, float | int) or not (
            math.isfinite(value) and float(value).is_integer()) or value < low:
        shown = getattr(value, "text", repr(value))
        raise TraceInputError(f"{key}: expected an integer >= {low}, got {shown}")
    return int(value)


def to_array(key: str, value, ndim) -> np.ndarray:
    """Nested lists of numbers as a float64 array; a ragged or non-numeric list names `key`."""
    if isinstance(value, str | bool) or _has_non_number(value):
        raise TraceInputError(f"{key}: expected numbers, got {_short(value)}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TraceInputError(
            f"{key}: expected a rectangular list of numbers (rows of equal length), "
            f"got {_short(value)}") from None
    try:
        return check_array(key, arr, ndim=ndim)
    except (TypeError, ValueError) as exc:
        raise TraceInputError(str(exc).replace(f"{key} must", f"{key}: must", 1)) from None


def _has_non_number(value) -> bool:
    if isinstance(value, list | tuple):
        return any(_has_non_number(v) for v in value)
    return isinstance(value, bool) or not isinstance(value, float | int)


def _short(value) -> str:
    text = repr(value if not isinstance(value, float) else float(value))
    return text if len(text) <= 40 else text[:37] + "..."
