"""Rendering of results: table for people, CSV and JSON for machines.

Every command that prints data hands this module a list of dicts with stable keys. JSON output
is a list of objects (or one object) with those keys; money is integer cents in ``*_cents``
keys, dates ISO 8601. CSV gives money as decimal euros with a dot (``-1000.00``) under the key
renamed ``*_eur`` (``amount_cents`` → ``amount_eur``), so no column says cents and holds euros;
tables show euros Finnish-style (``1 113,00``) under a header ending in €.

CSV cells that hold text (names, messages, payers — anything that came from a person or a bank)
and start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading ``'``, so a
spreadsheet shows them as text instead of running them as a formula (OWASP, CSV injection).
Numbers, money, dates and flags are never changed, and neither is text that is a plain number
(``-12.50``). JSON and tables are verbatim.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

FORMATS = ("table", "csv", "json")
#: What a spreadsheet reads as the start of a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


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


def _csv_cell(key: str, value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula is neutralised."""
    cell = _cell(key, value, finnish=False)
    is_text = isinstance(value, (str, list, tuple, Mapping))
    if (is_text and isinstance(cell, str) and cell.startswith(FORMULA_START)
            and not _PLAIN_NUMBER.fullmatch(cell)):
        return "'" + cell
    return cell


def _csv_line(cells: list) -> str:
    # Written with CRLF so that the csv module quotes a cell holding a lone CR too; the line
    # itself then ends in LF like all our output.
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()[:-2]


def csv_header(key: str) -> str:
    """The CSV column of a key: money keys say euros, as their cells hold."""
    return key.removesuffix("_cents") + "_eur" if key.endswith("_cents") else key


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
        lines = [_csv_line([csv_header(k) for k in keys])]
        lines.extend(_csv_line([_csv_cell(k, row.get(k)) for k in keys]) for row in rows)
        return "\n".join(lines)
    from tabulate import tabulate  # only tables need it (fast start, STYLE 13)

    if isinstance(data, Mapping):
        return tabulate([[_header(k), _cell(k, data[k], True)] for k in keys], tablefmt="plain")
    return tabulate(
        [[_cell(k, row.get(k), True) for k in keys] for row in rows],
        headers=[_header(k) for k in keys],
        tablefmt="simple",
        disable_numparse=True,
        colalign=["right" if k.endswith("_cents") else "left" for k in keys],
    )
