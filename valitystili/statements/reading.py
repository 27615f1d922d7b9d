"""Reading statement files into statement records, and refusing what must not be imported.

Rules of this module:

- **Formats**: camt.052, camt.053, camt.054, MT940 and CSV files (``imports.read_statements``, which
  raises ``StatementError`` for a broken or hostile file); ``auto`` tells them apart. A file is
  read with the cyclic garbage collector paused (:func:`paused_gc`) and hashed (sha256) for the
  audit trail.
- **Refused, nothing written** (:func:`check_statements`, before anything is prepared): a
  statement for an IBAN that is not one of ``bank_accounts``, a currency other than EUR, a booked
  entry without a booking date, an amount of zero or over
  :data:`valitystili.base.money.MAX_AMOUNT_CENTS`, items that do not add up to their entry or
  have both signs, a date outside the years the service handles (``dates.check_range``), and a
  statement whose own arithmetic fails: opening balance + booked entries ≠ closing balance
  (checked only when the statement carries both). An archive id already imported with another
  amount is refused while the import is prepared (``preparing``).
- **One key scheme per account and day** (:func:`_check_key_schemes`): a statement is refused
  when it books a day of an account that a source of another key scheme
  (``sources.key_scheme``: the bank's archive ids, or MT940's or FinTS's derived keys) has
  booked already: neither could recognise the other's entries, so the same money would be
  booked twice (a FinTS fetch during the day and the camt.053 the next morning).
- **Sources** (``statements.sources``): statements carry the bank side and balances; a
  camt.054 notification only itemises entries. The bank's intraday report (camt.052) is a
  statement of the day so far: its
  booked entries carry the archive ids the next morning's camt.053 repeats, so they move the
  bank side once, whichever comes first. It has no closing balance: the balance it reports is
  its interim booked balance (ITBD, :func:`reported_balance`), stored in the statement's closing
  columns and never reconciled as the day's closing (``oversight.checks``).
- **Item archive ids** (:func:`item_archive_ids`): an item is keyed by the bank's own archive id
  when it is distinct within the entry, else ``<entry archive id>/<position>``.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections import defaultdict
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

import imports
from imports.records import Balance as BankBalance
from imports.records import Entry as BankEntry
from imports.records import Statement as BankStatement
from valitystili.base.dates import FIRST_DATE, LAST_DATE, check_range, format_fi_date
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _
from valitystili.base.money import MAX_AMOUNT_CENTS, format_fi
from valitystili.statements.sources import (
    INTRADAY_SOURCES,
    STATEMENT_SOURCES,
    key_scheme,
)
from valitystili.store.models import BankAccount, Statement, StatementLine

#: What ``import --format`` accepts: ``auto`` (told apart by content) or a reader's format.
STATEMENT_FORMATS = ("auto", *imports.FORMATS)
#: Only booked entries are posted; pending (PDNG) and information (INFO) entries are skipped.
BOOKED = "BOOK"
#: Bytes read at a time while a file is hashed.
HASH_BLOCK = 1 << 20


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector during a bulk load. A 100 000-entry file makes
    several hundred thousand long-lived objects (records, prepared rows) and no reference
    cycles; every automatic collection would walk all of them again, which costs a third of the
    time. Reference counting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_file(path: str | os.PathLike[str], statement_format: str = "auto"
              ) -> tuple[list[BankStatement], str]:
    """The statements in a file and the file's sha256 (reader errors: ``StatementError``)."""
    if statement_format not in STATEMENT_FORMATS:
        raise ValidationError(_("unknown statement format {format!r}; choose one of {formats}")
                              .format(format=statement_format,
                                      formats=", ".join(STATEMENT_FORMATS)))
    with paused_gc():
        statements = imports.read_statements(path, statement_format)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(HASH_BLOCK), b""):
            digest.update(block)
    return statements, digest.hexdigest()


@dataclass(frozen=True, slots=True)
class CityAccount:
    """One of the city's bank accounts, as an import sees it."""

    id: int
    iban: str
    ledger_code: str


def check_statements(session: Session, statements: Sequence[BankStatement], name: str
                     ) -> dict[str, CityAccount]:
    """Refuse what must not be imported (see the module rules); return the accounts by IBAN."""
    banks = {row.iban: CityAccount(row.id, row.iban, row.ledger_code) for row in session.execute(
        select(BankAccount.id, BankAccount.iban, BankAccount.ledger_code)).all()}
    for statement in statements:
        label = _("{file}: statement {statement}").format(file=name,
                                                           statement=statement.statement_id)
        if statement.iban not in banks:
            raise ValidationError(
                _("{file}: unknown account {iban}: add it with `valitystili bank add`").format(
                    file=name, iban=statement.iban))
        if statement.currency != "EUR":
            raise ValidationError(
                _("{label} is in {currency}; only EUR accounts are imported").format(
                    label=label, currency=statement.currency))
        for entry in statement.entries:
            _check_entry(entry, _entry_label(label, entry))
        _check_dates(statement, label)
        _check_arithmetic(statement, label)
    _check_key_schemes(session, statements, banks, name)
    return banks


def _entry_label(label: str, entry: BankEntry) -> str:
    return _("{label} entry {position} ({archive_id})").format(
        label=label, position=entry.position, archive_id=entry.archive_id)


def _check_entry(entry: BankEntry, where: str) -> None:
    """An entry's currency and amount; a booked one's date, and its items against it."""
    if entry.currency != "EUR":
        raise ValidationError(_("{where} is in {currency}; only EUR is imported").format(
            where=where, currency=entry.currency))
    if abs(entry.amount_cents) > MAX_AMOUNT_CENTS:
        raise ValidationError(_("{where} has amount {amount}, over the limit of {limit}").format(
            where=where, amount=format_fi(entry.amount_cents), limit=format_fi(MAX_AMOUNT_CENTS)))
    if entry.status != BOOKED:
        return
    if entry.amount_cents == 0:
        raise ValidationError(_("{where} is booked with amount 0").format(where=where))
    if entry.booked_on is None:
        raise ValidationError(_("{where} is booked but has no booking date").format(where=where))
    if len(entry.items) > 1:
        total = sum(item.amount_cents for item in entry.items)
        if total != entry.amount_cents:
            raise ValidationError(
                _("{where}: its items add up to {total}, the entry is {amount}").format(
                    where=where, total=format_fi(total), amount=format_fi(entry.amount_cents)))
        if any(item.amount_cents * entry.amount_cents < 0 for item in entry.items):
            raise ValidationError(_("{where} has items of both signs").format(where=where))


def _check_dates(statement: BankStatement, label: str) -> None:
    """Every date the bank gives lies in the years the service handles (``dates.check_range``)."""
    for what, day in ((N_("{label} start date"), statement.from_on),
                      (N_("{label} end date"), statement.to_on)):
        if day is not None:
            check_range(day, _(what).format(label=label))
    for balance in statement.balances:
        check_range(balance.on, _("{label} balance {code} date").format(label=label,
                                                                         code=balance.code))
    for entry in statement.entries:
        where = _entry_label(label, entry)
        for what, day in ((N_("{where} booking date"), entry.booked_on),
                          (N_("{where} value date"), entry.value_on)):
            if day is not None and not FIRST_DATE <= day <= LAST_DATE:
                check_range(day, _(what).format(where=where))
        for item in entry.items:
            if item.payment_date is not None and not FIRST_DATE <= item.payment_date <= LAST_DATE:
                check_range(item.payment_date, _("{where} payment date").format(where=where))


def _check_arithmetic(statement: BankStatement, label: str) -> None:
    """A statement that carries both balances must add up: opening + booked entries = closing.

    Only statements (camt.053, MT940, FinTS) carry the bank side; a statement without an opening
    or a closing balance has nothing to check (CSV, camt.054).
    """
    opening, closing = statement.opening, statement.closing
    if statement.source not in STATEMENT_SOURCES or opening is None or closing is None:
        return
    booked = sum(entry.amount_cents for entry in statement.entries if entry.status == BOOKED)
    expected = opening.amount_cents + booked
    if expected != closing.amount_cents:
        raise ValidationError(
            _("{label} does not add up: opening balance {opening} + booked entries {booked} = "
              "{expected}, but its closing balance is {closing} (difference {difference}); "
              "nothing was imported").format(
                label=label, opening=format_fi(opening.amount_cents), booked=format_fi(booked),
                expected=format_fi(expected), closing=format_fi(closing.amount_cents),
                difference=format_fi(closing.amount_cents - expected)))


def _check_key_schemes(session: Session, statements: Sequence[BankStatement],
                       banks: dict[str, CityAccount], name: str) -> None:
    """Refuse a statement booking a day that another key scheme has booked (module rules)."""
    for statement in statements:
        if statement.source not in STATEMENT_SOURCES:
            continue
        days = {e.booked_on for e in statement.entries if e.status == BOOKED and e.booked_on}
        if not days:
            continue
        bank = banks[statement.iban]
        scheme = key_scheme(statement.source)
        stored = session.execute(
            select(StatementLine.booked_on, Statement.source).distinct()
            .join(Statement, Statement.id == StatementLine.statement_id)
            .where(StatementLine.bank_account_id == bank.id, StatementLine.level == "entry",
                   StatementLine.booked_on.in_(sorted(days)))
            .order_by(StatementLine.booked_on, Statement.source)).all()
        other = next((row for row in stored if key_scheme(row.source) != scheme), None)
        if other is not None:
            raise ValidationError(
                _("{file}: statement {statement} ({source}) books {day} on {iban}, which "
                  "{other} has booked already; the two have no entry ids in common, so the "
                  "same money would be booked twice: import one of them for a day; nothing was "
                  "imported").format(file=name, statement=statement.statement_id,
                                     source=statement.source,
                                     day=format_fi_date(other.booked_on), iban=bank.iban,
                                     other=other.source))


def reported_balance(statement: BankStatement) -> BankBalance | None:
    """The last balance a statement reports: its closing balance (CLBD), or for an intraday
    report without one its interim booked balance (ITBD)."""
    if statement.closing is None and statement.source in INTRADAY_SOURCES:
        return statement.interim
    return statement.closing


def item_archive_ids(entry: BankEntry) -> list[str]:
    """The line archive id of each item: the bank's own when it is distinct within the entry,
    else ``<entry archive id>/<position>``."""
    own = [item.archive_id for item in entry.items]
    counts: dict[str | None, int] = defaultdict(int)
    for archive_id in own:
        counts[archive_id] += 1
    return [
        archive_id if archive_id and counts[archive_id] == 1 and archive_id != entry.archive_id
        else f"{entry.archive_id}/{position}"
        for position, archive_id in enumerate(own, start=1)
    ]
