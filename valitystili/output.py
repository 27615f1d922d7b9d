"""Rendering of results: table for people, CSV and JSON for machines.

Every command that prints data hands this module a list of dicts with stable keys. JSON output
is a list of objects (or one object) with those keys; money is integer cents in ``*_cents``
keys, dates ISO 8601. Tables and CSV show money in euros; tables Finnish-style.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from tabulate import tabulate

FORMATS = ("table", "csv", "json")


def _euros(cents: int, finnish: bool) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    if finnish:
        return f"{sign}{whole:,}".replace(",", "\u00a0") + f",{part:02d}"
    return f"{sign}{whole}.{part:02d}"


def _cell(key: str, value: Any, finnish: bool) -> Any:
    if value is None:
        return ""
    if key.endswith("_cents") and isinstance(value, int):
        return _euros(value, finnish)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
    return value


def _header(key: str) -> str:
    return key.removesuffix("_cents").replace("_", " ") + (" €" if key.endswith("_cents") else "")


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot render {type(value).__name__}")


def render(data: Sequence[Mapping[str, Any]] | Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, default=_json_default, ensure_ascii=False, indent=2)
    rows = [data] if isinstance(data, Mapping) else list(data)
    if not rows:
        return "" if fmt == "csv" else "(none)"
    keys = list(rows[0].keys())
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(keys)
        for row in rows:
            writer.writerow([_cell(k, row.get(k), finnish=False) for k in keys])
        return buffer.getvalue().rstrip("\n")
    if isinstance(data, Mapping):
        return tabulate([[_header(k), _cell(k, data[k], True)] for k in keys], tablefmt="plain")
    return tabulate(
        [[_cell(k, row.get(k), True) for k in keys] for row in rows],
        headers=[_header(k) for k in keys],
        tablefmt="simple",
        disable_numparse=True,
        colalign=["right" if k.endswith("_cents") else "left" for k in keys],
    )
