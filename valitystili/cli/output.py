"""Rendering of results: tables for people, CSV and JSON for machines.

Every command that prints data hands this module a list of dicts with stable keys (or one dict)
and, for a list, its :class:`Column` spec: the keys its rows have, in their order, so that an
empty result still has its columns, and how a table shows each (cli/tables.py).

- **JSON** is a list of objects (or one object) with those keys, verbatim: money is integer
  cents in ``*_cents`` keys, dates ISO 8601.
- **CSV** has a header row, also when there are no rows (a header-only file is how a
  spreadsheet knows the columns). Money is decimal euros with a dot (``-1000.00``) under the key
  renamed ``*_eur`` (``amount_cents`` → ``amount_eur``), so no column says cents and holds
  euros. Every column of the data is there, in the data's order (the spec's, when empty).
- **Tables** are for people and fit :data:`TABLE_WIDTH` characters: money in the one display
  form (``1 113,00``, base/money.py) under a header ending in ``€``, IBANs in groups of four,
  columns marked ``wide`` (long keys, archive ids, details) left out, and text cut with ``…``
  (base/text.py ``cut``) — the widest text columns first — until the lines fit. ``--wide`` shows
  every column and every text whole. One record (a dict) is two columns, name and value, its
  long values wrapped rather than cut. An empty list is ``(none)``.
- A table's headers and its words (``yes``, ``no``, ``(none)``) are in the current language
  (``base/i18n.py``): a column's header is its ``Column.header``, else the header ``headers``
  gives its key (``cli/tables.py`` ``HEADERS``), else one made from the key, translated where
  the table is made. CSV headers and JSON keys are the keys, in every language. A value that is
  a ``Message`` (``base/i18n.py``: a plan's warnings, a flag's detail) is shown in the current
  language in a table and stays English in CSV and JSON.

CSV cells that hold text (names, messages, payers — anything that came from a person or a bank)
and start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading ``'``, so a
spreadsheet shows them as text instead of running them as a formula (OWASP, CSV injection).
Numbers, money, dates and flags are never changed, and neither is text that is a plain number
(``-12.50``). JSON and tables are verbatim.

The money and text helpers are loaded when a table or CSV is made, not with this module: the
group loads it for ``--help`` (fast start, STYLE 13).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from valitystili.base.i18n import N_, Message, _

FORMATS = ("table", "csv", "json")
#: What a spreadsheet reads as the start of a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
#: A table's lines are at most this long unless ``--wide`` is given.
TABLE_WIDTH = 100
#: Space between two table columns (tabulate's "simple" and "plain" formats).
COLUMN_GAP = 2
#: A text column cut to fit keeps at least this many characters (or its header's width).
MIN_CUT_WIDTH = 8
#: What a table shows for an empty list.
EMPTY_TABLE = N_("(none)")
#: Keys whose values are IBANs (grouped in fours in tables).
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}")


@dataclass(frozen=True)
class Column:
    """One key of a command's rows, and how a table shows it.

    ``header`` replaces the header made from the key (``days_0_30_cents`` → ``0–30 d €``);
    ``wide`` leaves the column out of a table unless ``--wide`` is given (CSV and JSON always
    carry it); ``cut=False`` keeps a text column whole (a kind, a status) while others are cut;
    ``show`` gives a table's short form of a row's value (the reference, else the message).
    """

    key: str
    header: str | None = None
    wide: bool = False
    cut: bool = True
    show: Callable[[Mapping[str, Any]], Any] | None = None

    def value(self, row: Mapping[str, Any]) -> Any:
        return self.show(row) if self.show is not None else row.get(self.key)


#: A command's columns: keys, or :class:`Column` where a table shows one differently.
Columns = Sequence["Column | str"]


def columns(*specs: Column | str) -> tuple[Column, ...]:
    """A column spec from keys and :class:`Column` values, in the rows' order."""
    return tuple(spec if isinstance(spec, Column) else Column(spec) for spec in specs)


def _money(cents: int, finnish: bool) -> str:
    from valitystili.base import money

    return money.format_fi_number(cents) if finnish else money.format_plain(cents)


def _group_iban(value: str) -> str:
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4))


def _cell(key: str, value: Any, finnish: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, Message):
        return value.shown() if finnish else str(value)    # a table for people; CSV English
    if key.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return _money(value, finnish)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        word = N_("yes") if value else N_("no")
        return _(word) if finnish else word     # a table for people; CSV stays the same
    if isinstance(value, (list, tuple)):
        return ", ".join(v.shown() if finnish and isinstance(v, Message) else str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
    if (finnish and (key == "iban" or key.endswith("_iban")) and isinstance(value, str)
            and _IBAN.fullmatch(value)):
        return _group_iban(value)
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


def _header(key: str, headers: Mapping[str, str] | None = None) -> str:
    """A table's header of ``key`` in the current language."""
    if headers and key in headers:
        return _(headers[key])
    return key.removesuffix("_cents").replace("_", " ") + (" €" if key.endswith("_cents") else "")


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot render {type(value).__name__}")


def render(data: Sequence[Mapping[str, Any]] | Mapping[str, Any], fmt: str,
           spec: Columns | None = None, *, wide: bool = False,
           headers: Mapping[str, str] | None = None) -> str:
    """``data`` as ``fmt`` (see the module rules); ``spec`` names a list's columns and
    ``headers`` a table's header of a key (English, translated here)."""
    if fmt == "json":
        return json.dumps(data, default=_json_default, ensure_ascii=False, indent=2)
    shown = columns(*(spec or ()))
    rows = [data] if isinstance(data, Mapping) else list(data)
    if fmt == "csv":
        keys = list(rows[0].keys()) if rows else [column.key for column in shown]
        lines = [_csv_line([csv_header(k) for k in keys])] if keys else []
        lines.extend(_csv_line([_csv_cell(k, row.get(k)) for k in keys]) for row in rows)
        return "\n".join(lines)
    if not rows:
        return _(EMPTY_TABLE)
    if isinstance(data, Mapping):
        return _record_table(data, wide, headers)
    return _list_table(rows, shown, wide, headers)


def _record_table(data: Mapping[str, Any], wide: bool,
                  headers: Mapping[str, str] | None = None) -> str:
    import textwrap

    from tabulate import tabulate  # only tables need it (fast start, STYLE 13)

    names = [_header(k, headers) for k in data]
    values = [str(_cell(k, v, True)) for k, v in data.items()]
    if not wide:
        room = max(TABLE_WIDTH - COLUMN_GAP - max(map(len, names)), MIN_CUT_WIDTH)
        values = ["\n".join(textwrap.wrap(value, room, break_on_hyphens=False)) or value
                  for value in values]
    return tabulate(list(zip(names, values)), tablefmt="plain", disable_numparse=True)


def _list_table(rows: list[Mapping[str, Any]], spec: tuple[Column, ...], wide: bool,
                header_of: Mapping[str, str] | None = None) -> str:
    from valitystili.base.text import cut

    known = {column.key: column for column in spec}
    shown = [known.get(key) or Column(key) for key in rows[0]]    # the data's order
    if not wide:
        shown = [column for column in shown if not column.wide]
    headers = [_(column.header) if column.header else _header(column.key, header_of)
               for column in shown]
    values = [[column.value(row) for column in shown] for row in rows]
    cells = [[str(_cell(column.key, value, True)) for column, value in zip(shown, line)]
             for line in values]
    if wide:
        # Whole texts, but still one line per row.
        cells = [[" ".join(cell.splitlines()) for cell in line] for line in cells]
        widths = [max([len(h)] + [len(line[i]) for line in cells]) for i, h in enumerate(headers)]
    else:
        cuttable = [column.cut and not column.key.endswith("_cents")
                    and all(isinstance(line[i], (str, type(None))) for line in values)
                    for i, column in enumerate(shown)]
        widths = _fit(headers, cells, cuttable)
        cells = [[cut(cell, width) if len(cell) > width or "\n" in cell else cell
                  for cell, width in zip(line, widths)] for line in cells]
    right = [column.key.endswith("_cents") for column in shown]

    def line(values: list[str]) -> str:
        return (" " * COLUMN_GAP).join(value.rjust(width) if at_right else value.ljust(width)
                                        for value, width, at_right in zip(values, widths, right)
                                        ).rstrip()

    rule = (" " * COLUMN_GAP).join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(values) for values in cells)])


def _fit(headers: list[str], cells: list[list[str]], cuttable: list[bool]) -> list[int]:
    """Column widths that fit :data:`TABLE_WIDTH`: the widest cuttable column loses a character
    at a time, none below its header or :data:`MIN_CUT_WIDTH`."""
    widths = [max([len(header)] + [len(line[i]) for line in cells])
              for i, header in enumerate(headers)]
    floors = [max(len(header), MIN_CUT_WIDTH) if can else width
              for header, width, can in zip(headers, widths, cuttable)]
    excess = sum(widths) + COLUMN_GAP * (len(widths) - 1) - TABLE_WIDTH
    while excess > 0:
        shrinkable = [i for i, width in enumerate(widths) if width > floors[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths
