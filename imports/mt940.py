"""MT940 reader (through the ``mt-940`` package), also used to convert FinTS results.

Rules:

- Each ``:20:`` block is one ``Statement`` (source ``"mt940"``): ``statement_id`` is the
  transaction reference (``:20:``) and the statement number (``:28C:``) joined with ``/``.
- The account is ``:25:`` as the bank wrote it: an IBAN is cleaned (spaces removed, upper case);
  a German ``BLZ/account`` is kept as that raw string.
- Balances: ``:60F:``/``:60M:`` -> OPBD, ``:62F:``/``:62M:`` -> CLBD, ``:64:`` -> CLAV, signed by
  their C/D mark. Every ``:61:`` line is a booked (BOOK) entry; ``RC``/``RD`` marks are reversals
  and ``RC`` (reversal of a credit) takes money out, so it is negative.
- MT940 has no archive id. The key is ``mt940:`` + sha256 (first 24 hex digits) of account,
  statement number, booking date, amount, bank reference, customer reference and position in
  the statement, so the same statement read twice gives the same ids; two identical lines in one
  statement differ by position.
- Amounts go through the same refusals as everywhere (more than two decimals, over
  100 000 000,00). Anything the library cannot parse is a ``StatementError``.
- Text is decoded as UTF-8, else ISO-8859-1 (SWIFT's character set is a subset of both).
- A control character other than tab, CR and LF, or a bidirectional formatting character,
  anywhere in the file refuses it, naming the line (``parsing.first_hidden``); the fields of
  each transaction are checked again (``parsing.check_text``), which covers FinTS, whose
  transactions do not come from a file. Line breaks in ``:86:`` become spaces.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import mt940

from imports.errors import StatementError
from imports.parsing import (
    DEFAULT_MAX_BYTES,
    check_text,
    clean_iban,
    compact,
    decimal_cents,
    describe_hidden,
    display_name,
    first_hidden,
    read_capped,
    reference_kind_of,
    stable_id,
)
from imports.records import Balance, Entry, Item, Statement

# mt940 keeps 5.0.0 behaviour unless asked; every switch here fixes a way the old behaviour
# loses or mis-signs data (RC positive, :61: customer reference lost to :86:, BOM hiding :20:).
MT940_OPTIONS = mt940.Options.all()

# mt-940 logs every line it cannot parse at ERROR level and has no handler of its own, so
# Python's last-resort handler would print a multi-line regex dump to stderr next to our one-line
# StatementError. A NullHandler (what libraries are meant to install) stops that; an application
# that configures logging still receives the records.
logging.getLogger("mt940").addHandler(logging.NullHandler())

_BALANCE_KEYS: tuple[tuple[str, str], ...] = (
    ("final_opening_balance", "OPBD"),
    ("intermediate_opening_balance", "OPBD"),
    ("opening_balance", "OPBD"),
    ("final_closing_balance", "CLBD"),
    ("intermediate_closing_balance", "CLBD"),
    ("closing_balance", "CLBD"),
    ("available_balance", "CLAV"),
)
_NO_REFERENCE = frozenset({"NONREF", "NOTPROVIDED", "NONE"})


def read_mt940(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Statement]:
    """Read every statement block in an MT940 file."""
    name = display_name(path)
    raw = read_capped(path, max_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    return parse_mt940_text(text, name)


def parse_mt940_text(text: str, name: str) -> list[Statement]:
    """Parse MT940 text; ``name`` is used in messages."""
    try:
        blocks = mt940.parse_statements(text, options=MT940_OPTIONS)
    except Exception as exc:  # RuntimeError, ValueError, KeyError...: all of it is bad input
        raise StatementError(f"{name}: not a readable MT940 file: {_describe(exc)}") from None
    if not blocks:
        raise StatementError(f"{name}: no MT940 statement (no :20: line)")
    # After the parse, so that a file that is no MT940 at all is called that.
    hidden = first_hidden(text)
    if hidden is not None:
        line, char = hidden
        raise StatementError(f"{name}: line {line} has {describe_hidden(char)}")
    return [_statement(block, name, index) for index, block in enumerate(blocks, start=1)]


def _describe(exc: BaseException) -> str:
    """One line for a library failure; a tag mismatch names the tag and the line's text."""
    args = exc.args
    if len(args) >= 3 and hasattr(args[1], "id") and isinstance(args[2], str):
        first = (args[2].splitlines() or [""])[0]
        return f"cannot parse :{args[1].id}: {first!r}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _statement(block: Any, name: str, index: int) -> Statement:
    data = block.data
    label = "statement" if index == 1 else f"statement {index}"
    account = account_of(data.get("account_identification"))
    if account is None:
        raise StatementError(f"{name}: {label} has no account (:25:)")
    reference = (data.get("transaction_reference") or "").strip()
    number = str(data.get("statement_number") or "").strip()
    sequence = str(data.get("sequence_number") or "").strip()
    statement_number = f"{number}/{sequence}" if sequence else number
    balances = balances_of(data, name, label)
    currency = block.currency
    if currency is None and len(block):
        currency = block[0].data.get("currency")
    if not currency:
        raise StatementError(f"{name}: {label} has no currency (no balance line)")
    entries = tuple(
        entry_from_transaction(
            transaction.data,
            position=position,
            currency=currency,
            archive_id=stable_id(
                "mt940", account, statement_number,
                *_key_parts(transaction.data, name, label, position),
            ),
            name=name,
            where=_where(label, position),
        )
        for position, transaction in enumerate(block, start=1)
    )
    opening = next((b for b in balances if b.code == "OPBD"), None)
    closing = next((b for b in balances if b.code == "CLBD"), None)
    return Statement(
        source="mt940",
        statement_id="/".join(p for p in (reference, statement_number) if p) or f"{name}#{index}",
        iban=account,
        currency=currency,
        created_at=None,
        from_on=opening.on if opening else None,
        to_on=closing.on if closing else None,
        balances=balances,
        entries=entries,
    )


def _where(label: str, position: int) -> str:
    return f"entry {position}" if label == "statement" else f"{label} entry {position}"


def account_of(raw: object) -> str | None:
    """``:25:`` as the account: a cleaned IBAN, or the raw ``BLZ/account`` string."""
    text = str(raw or "").strip()
    if not text:
        return None
    if "/" in text:
        return text
    return clean_iban(text)


def balances_of(data: dict[str, Any], name: str, label: str) -> tuple[Balance, ...]:
    """Balances from a parsed block's statement-level data, one per code (first key wins)."""
    balances: list[Balance] = []
    seen: set[str] = set()
    for key, code in _BALANCE_KEYS:
        balance = data.get(key)
        if balance is None or code in seen or not hasattr(balance, "amount"):
            continue
        amount = getattr(balance.amount, "amount", None)
        if not isinstance(amount, Decimal) or balance.date is None:
            raise StatementError(f"{name}: {label} has an unreadable {code} balance")
        seen.add(code)
        cents = decimal_cents(amount, name=name, where=f"{label} balance {code}")
        balances.append(Balance(code=code, amount_cents=cents, on=_plain_date(balance.date)))
    return tuple(balances)


def _plain_date(value: date) -> date:
    # mt940 returns its own date subclass; plain dates compare and print the same everywhere.
    return date(value.year, value.month, value.day)


def _key_parts(data: dict[str, Any], name: str, label: str, position: int) -> Sequence[object]:
    """The transaction's part of its stable id: booking date, amount, references, position."""
    booked_on, _value_on = _dates(data)
    cents = _cents(data, name, _where(label, position))
    return (
        booked_on.isoformat() if booked_on else "",
        cents,
        (data.get("bank_reference") or "").strip(),
        (data.get("customer_reference") or "").strip(),
        position,
    )


def _dates(data: dict[str, Any]) -> tuple[date | None, date | None]:
    value_on = data.get("date")
    entry_on = data.get("entry_date")
    value_on = _plain_date(value_on) if value_on else None
    booked_on = _plain_date(entry_on) if entry_on else value_on
    return booked_on, value_on


def _cents(data: dict[str, Any], name: str, where: str) -> int:
    amount = getattr(data.get("amount"), "amount", None)
    if not isinstance(amount, Decimal):
        raise StatementError(f"{name}: {where} has no amount")
    return decimal_cents(amount, name=name, where=where)


def entry_from_transaction(
    data: dict[str, Any], *, position: int, currency: str, archive_id: str, name: str, where: str
) -> Entry:
    """One ``mt940`` transaction's data as a booked ``Entry`` with a single item."""
    cents = _cents(data, name, where)
    booked_on, value_on = _dates(data)

    def text(key: str, *, free: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        return check_text(str(value), name=name, where=where, field=key, free=free)

    mark = str(data.get("status") or "").upper()
    customer_reference = compact(text("customer_reference"))
    if customer_reference and customer_reference.upper() in _NO_REFERENCE:
        customer_reference = None
    end_to_end = (text("end_to_end_reference") or "").strip() or None
    if end_to_end and end_to_end.upper() in _NO_REFERENCE:
        end_to_end = None
    # Structured :86: (German GVC) gives a purpose; otherwise the raw :86: text is the message.
    details_key = "purpose" if data.get("purpose") else "transaction_details"
    message = " ".join((text(details_key, free=True) or "").split()) or None
    item = Item(
        amount_cents=cents,
        archive_id=(text("bank_reference") or "").strip() or None,
        end_to_end_id=end_to_end,
        reference=customer_reference,
        reference_kind=reference_kind_of(customer_reference),
        message=message,
        counterparty_name=(text("applicant_name", free=True) or "").strip() or None,
        counterparty_iban=clean_iban(text("applicant_iban") or text("gvc_applicant_iban")),
        return_reason=None,
        payment_date=None,
    )
    return Entry(
        position=position,
        archive_id=archive_id,
        amount_cents=cents,
        currency=(text("currency") or currency),
        status="BOOK",
        booked_on=booked_on,
        value_on=value_on,
        reversal=mark.startswith("R"),
        bank_code=(text("transaction_code") or text("id") or "").strip() or None,
        items=(item,),
    )
