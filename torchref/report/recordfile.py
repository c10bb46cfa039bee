"""The parity record file: written by `parity_tests/record.py`, read by the report.

JSON: `{"format": 1, "meta": {...}, "tests": [{"nodeid", "ids", "outcome", "duration",
"comparisons": [{"site", "kind", "dtype", "count", "failed", "n", "max_abs", "max_rel",
"usage", "rtol", "atol"}]}]}`. Non-finite floats are stored as the strings "inf", "nan"
(standard JSON has no Infinity).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

FORMAT = 1
_FLOATS = ("max_abs", "max_rel", "usage")


def write(path: Path, meta: dict, tests: list[dict]) -> None:
    """Write the record atomically (a reader never sees half a file)."""
    data = {"format": FORMAT, "meta": meta, "tests": tests}
    for test in tests:
        for row in test["comparisons"]:
            for key in _FLOATS:
                if not math.isfinite(row[key]):
                    row[key] = str(row[key])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=False), encoding="utf-8")
    tmp.replace(path)


def read(path: Path) -> dict:
    """Read a record; ValueError with one line naming the file if it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read a parity record ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "tests" not in data:
        raise ValueError(
            f"{path}: not a parity record of format {FORMAT} (write one with "
            "`pytest --parity-record=PATH`)"
        )
    for test in data["tests"]:
        for row in test["comparisons"]:
            for key in _FLOATS:
                row[key] = float(row[key])
    return data


def id_key(entry_id: str) -> tuple:
    """Sort key of catalog IDs: A2 before A10, letters first."""
    head = entry_id.rstrip("0123456789")
    tail = entry_id[len(head):]
    return (head, int(tail) if tail else -1, entry_id)
