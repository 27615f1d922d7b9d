"""CSV statement reader for the documented layout (docs/imports.md, "CSV layout").

Rules:

- UTF-8, a byte-order mark is allowed. The first row is the header; the delimiter is ``;`` or
  ``,``, chosen by which one splits the header into the required columns.
- Required columns: ``account_iban, booking_date, amount, currency, archive_id``. Optional:
  ``value_date, counterparty_name, counterparty_iban, reference, message, end_to_end_id,
  status`` (default BOOK). Column names are case-insensitive; an unknown or repeated column is
  refused, because a misspelt optional column would otherwise be dropped without a word.
- Dates ``2026-11-23`` or ``23.11.2026``. Amounts are signed (+ money in, - money out), with a
  decimal point or a decimal comma (``512,40``, ``-512.40``); no thousands separators. Amounts
  with more than two decimals or over 100 000 000,00 are refused.
- ``archive_id`` is the idempotency key and must be unique per account within the file.
- One ``Statement`` per ``account_iban``, in order of first appearance, without balances;
  ``statement_id`` is ``<file name>:<iban>``; each row is one entry with one item.
- Blank lines are skipped. Every refusal names the line number.
- A control character other than tab (NUL, ESC …) or a bidirectional formatting character
  anywhere in the file refuses it (``parsing.first_hidden``). A quoted line break inside
  ``message`` or ``counterparty_name`` is read as a space; in any other column it is refused.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from datetime import date

from imports.errors import StatementError
from imports.parsing import (
    DEFAULT_MAX_BYTES,
    amount_cents,
    check_text,
    clean_iban,
    compact,
    describe_hidden,
    display_name,
    first_hidden,
    read_capped,
    reference_kind_of,
)
from imports.records import Entry, Item, Statement

REQUIRED_COLUMNS = ("account_iban", "booking_date", "amount", "currency", "archive_id")
OPTIONAL_COLUMNS = (
    "value_date",
    "counterparty_name",
    "counterparty_iban",
    "reference",
    "message",
    "end_to_end_id",
    "status",
)
#: Columns of free text, where a quoted line break is read as a space.
FREE_TEXT_COLUMNS = frozenset({"message", "counterparty_name"})
_STATUSES = frozenset({"BOOK", "PDNG", "INFO"})
_FINNISH_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_CURRENCY = re.compile(r"[A-Z]{3}")


def header_columns(first_line: str) -> tuple[str, list[str]] | None:
    """(delimiter, column names) if the line is a header of this layout, else None."""
    for delimiter in (";", ","):
        names = [n.strip().lower() for n in next(csv.reader([first_line], delimiter=delimiter), [])]
        if all(column in names for column in REQUIRED_COLUMNS):
            return delimiter, names
    return None


def read_csv(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Statement]:
    """Read a CSV statement file; one Statement per account."""
    name = display_name(path)
    raw = read_capped(path, max_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise StatementError(f"{name}: line {line} is not UTF-8 text") from None
    hidden = first_hidden(text)
    if hidden is not None:
        line, char = hidden
        raise StatementError(f"{name}: line {line} has {describe_hidden(char)}")
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise StatementError(f"{name}: file is empty or has no header row")
    delimiter, columns = _header(first_line, name)
    accounts: dict[str, _Account] = {}
    # newline="" lets the csv module see quoted line breaks inside a message as part of the field.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        next(reader)  # the header, already read
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise StatementError(
                    f"{name}: line {line} has {len(row)} fields, the header has {len(columns)}"
                )
            cells = dict(zip(columns, (cell.strip() for cell in row)))
            for column, cell in cells.items():
                if "\n" in cell or "\r" in cell:
                    cells[column] = check_text(cell, name=name, where=f"line {line}",
                                               field=column, free=column in FREE_TEXT_COLUMNS)
            _add_row(cells, line, name, accounts)
    except csv.Error as exc:
        raise StatementError(f"{name}: line {reader.line_num} is not valid CSV: {exc}") from None
    if not accounts:
        raise StatementError(f"{name}: has a header but no rows")
    return [account.statement(name) for account in accounts.values()]


def _header(first_line: str, name: str) -> tuple[str, list[str]]:
    found = header_columns(first_line)
    if found is None:
        semicolon = [n.strip().lower() for n in first_line.split(";")]
        comma = [n.strip().lower() for n in first_line.split(",")]
        names = semicolon if len(semicolon) >= len(comma) else comma
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        raise StatementError(f"{name}: missing required column(s): {', '.join(missing)}")
    delimiter, columns = found
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for column in columns:
        if column not in known:
            raise StatementError(f"{name}: unknown column {column!r}")
        if columns.count(column) > 1:
            raise StatementError(f"{name}: column {column!r} appears twice")
    return delimiter, columns


@dataclass
class _Account:
    iban: str
    currency: str
    entries: list[Entry] = field(default_factory=list)
    archive_lines: dict[str, int] = field(default_factory=dict)

    def statement(self, name: str) -> Statement:
        booked = [e.booked_on for e in self.entries if e.booked_on is not None]
        return Statement(
            source="csv",
            statement_id=f"{name}:{self.iban}",
            iban=self.iban,
            currency=self.currency,
            created_at=None,
            from_on=min(booked) if booked else None,
            to_on=max(booked) if booked else None,
            balances=(),
            entries=tuple(self.entries),
        )


def _add_row(row: dict[str, str], line: int, name: str, accounts: dict[str, _Account]) -> None:
    where = f"line {line}"
    for column in REQUIRED_COLUMNS:
        if not row.get(column):
            raise StatementError(f"{name}: {where} has no {column}")
    iban = clean_iban(row["account_iban"])
    assert iban is not None  # checked non-empty above
    currency = row["currency"].upper()
    if not _CURRENCY.fullmatch(currency):
        raise StatementError(f"{name}: {where} has currency {row['currency']!r}; expected e.g. EUR")
    account = accounts.get(iban)
    if account is None:
        account = accounts[iban] = _Account(iban=iban, currency=currency)
    elif account.currency != currency:
        raise StatementError(
            f"{name}: {where} has currency {currency}, "
            f"earlier rows of {iban} have {account.currency}"
        )
    archive_id = row["archive_id"]
    if archive_id in account.archive_lines:
        earlier = account.archive_lines[archive_id]
        raise StatementError(
            f"{name}: {where} repeats archive_id {archive_id} from line {earlier}"
        )
    account.archive_lines[archive_id] = line
    status = (row.get("status") or "BOOK").upper()
    if status not in _STATUSES:
        raise StatementError(
            f"{name}: {where} has status {row['status']!r}; expected BOOK, PDNG or INFO"
        )
    cents = amount_cents(row["amount"], name=name, where=where, signed=True, decimal_comma=True)
    reference = compact(row.get("reference"))
    end_to_end = row.get("end_to_end_id") or None
    if end_to_end and end_to_end.upper() == "NOTPROVIDED":
        end_to_end = None
    item = Item(
        amount_cents=cents,
        archive_id=None,
        end_to_end_id=end_to_end,
        reference=reference,
        reference_kind=reference_kind_of(reference),
        message=row.get("message") or None,
        counterparty_name=row.get("counterparty_name") or None,
        counterparty_iban=clean_iban(row.get("counterparty_iban")),
        return_reason=None,
        payment_date=None,
    )
    value_date = row.get("value_date")
    account.entries.append(
        Entry(
            position=len(account.entries) + 1,
            archive_id=archive_id,
            amount_cents=cents,
            currency=currency,
            status=status,
            booked_on=_date(row["booking_date"], name, f"{where} booking_date"),
            value_on=_date(value_date, name, f"{where} value_date") if value_date else None,
            reversal=False,
            bank_code=None,
            items=(item,),
        )
    )


def _date(text: str | None, name: str, where: str) -> date:
    raw = (text or "").strip()
    try:
        finnish = _FINNISH_DATE.fullmatch(raw)
        if finnish:
            day, month, year = (int(g) for g in finnish.groups())
            return date(year, month, day)
        if len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise StatementError(f"{name}: {where} is {raw!r}; expected 2026-11-23 or 23.11.2026")
