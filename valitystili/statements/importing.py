"""Money in and out from bank statements: import, match, clear (DESIGN §4, §7, §8).

Rules of this module:

- **Plan, then apply.** :func:`plan_import` reads the database (accounts, lines already stored,
  clients, plans, orders) and returns an :class:`ImportPlan`: the ledger entries with their keys,
  the statement lines, the flags, the order changes. It writes nothing; ``--dry-run`` prints it.
  :func:`apply_plan` writes it in the caller's transaction: one file, one transaction. All
  ledger writes go through ``ledger.post_many`` (one call per file); lines go in with one bulk
  insert; clients are looked up in dictionaries built once per file.
- **Refused, nothing written** (:func:`check_statements`, before planning): a statement for an
  IBAN that is not one of ``bank_accounts``, a currency other than EUR, a booked entry without a
  booking date, an amount of zero or over :data:`valitystili.base.money.MAX_AMOUNT_CENTS`, items that
  do not add up to their entry, an archive id already imported with another amount, a date
  outside the years the service handles (``dates.check_range``), and a statement whose own
  arithmetic fails: opening balance + booked entries ≠ closing balance (checked only when the
  statement carries both). Reader errors (``StatementError``) are refused the same way by the
  CLI.
- **Only booked entries** (``BOOK``) are posted; PDNG and INFO are counted as skipped.
- **Idempotency.** The bank's archive id is the key: an entry is ``bank:<IBAN>:<archive id>`` in
  the ledger and one ``statement_lines`` row (unique per bank account and archive id). The same
  file twice, or overlapping statements, find their lines stored and add nothing ("already
  present"). Items have their own lines, keyed by the item's archive id when the bank gives a
  distinct one, else ``<entry archive id>/<position>``.
- **The bank side comes from statements** (camt.053, MT940, CSV, FinTS): only they move
  ``bank:<IBAN>``, so the ledger's bank balance is the bank's. A camt.054 notification never
  touches the bank account; it *itemises* an entry.
- **camt.053 lump sums itemised in camt.054** (same ``Ntry/AcctSvcrRef``) are booked once in
  either order, through the clearing account ``incoming:<IBAN>`` (liability: money the bank has
  moved or notified that is not yet both on a statement and attributed):

  * 054 first: its items post ``incoming:<IBAN>`` → client / suspense / outgoing (key
    ``itemise:<IBAN>:<archive id>``) at once, so the day's batch can use the money before the
    statement arrives next morning. ``incoming`` now shows the amount as owed by the bank.
    The 053 entry then posts only ``bank`` ↔ ``incoming`` (``bank:<IBAN>:<archive id>``, line
    state ``bank_only``), and ``incoming`` is back to zero.
  * 053 first: the entry is attributed from its own detail, like any statement entry. A lump
    without detail cannot be, so it goes to ``suspense`` with an ``unmatched_income`` flag.
    When the 054 arrives and finds the entry still in suspense, its items post ``suspense`` →
    clients (key ``itemise:…``), the entry line becomes ``bank_only`` and its flag resolves.
  * The first itemisation wins: an entry already attributed on the statement (to a client, an
    order, a handler's assignment) or already itemised leaves the other file's items unbooked
    ("already present"). Either order ends with the same balances; a camt.054 entry that no
    statement has carried yet leaves its amount in ``incoming`` until one does.
- **Opening balance.** The first statement with balances for an account books its opening
  balance ``bank`` → ``suspense`` (key ``opening:<IBAN>``, dated the day before an OPBD, or the
  PRCD day) and flags it ``unmatched_income``: money held but not yet attributed. Every later
  statement's opening balance is compared with the ledger's bank balance on that day; a
  difference is a warning in the summary (reconciliation proper is ``reconcile``'s), never an
  adjustment. Each statement's opening and closing balances are stored on ``statements``.
- **Credits** are matched by :mod:`valitystili.statements.matching` (reference, hetu, expected income; else
  suspense + ``unmatched_income``); a client who is closed is still credited, and flagged
  ``closed_client_income``. A credit with a return reason or a reversal indicator that carries
  the end-to-end id of one of our orders is a **return**: the money goes back to the order's
  client, the order becomes ``returned``, flag ``payment_returned``.
- **Debits** clear exported orders (:mod:`valitystili.statements.clearing`): ``outgoing`` debit, order
  ``cleared``. An unmatched debit goes to ``suspense`` with an ``unmatched_debit`` flag.
- Every line names the ledger transaction that booked it (``ledger_key``); an itemisation
  that leaves everything in suspense still posts (suspense to suspense), so ``reconcile`` finds
  every line booked.
- Flags name the line's archive id as subject and are dated with the import day.
- One audit entry per imported file (action ``import``: counts and the file's sha256).
- Bulk: the cyclic garbage collector is paused while a file is read, planned and written
  (:func:`paused_gc`), and ``release=True`` lets the records go once planned; 100 000 entries
  take well under 20 s and 300 MB (``bench/import_bench.py``).
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

import imports
import ledger
from imports.records import Entry as BankEntry
from imports.records import Item
from imports.records import Statement as BankStatement
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import FIRST_DATE, LAST_DATE, check_range
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.money import MAX_AMOUNT_CENTS, format_fi
from valitystili.people import clients
from valitystili.plans.versions import in_force_periods
from valitystili.statements.clearing import RETURN, Debit, OpenOrder, OrderBook
from valitystili.statements.matching import (
    NONE,
    Credit,
    Directory,
    ExpectedIncome,
    KnownClient,
    mask_message,
)
from valitystili.store import settings
from valitystili.store.models import (
    BankAccount,
    Client,
    Flag,
    Obligation,
    PaymentBatch,
    PaymentOrder,
    Plan,
    PlanIncome,
    Statement,
    StatementLine,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: Sources that carry the bank side (and balances); camt.054 only itemises.
STATEMENT_SOURCES = frozenset({"camt053", "mt940", "csv", "fints"})
NOTIFICATION_SOURCES = frozenset({"camt054"})
STATEMENT_FORMATS = ("auto", "camt053", "camt054", "mt940", "csv")

SUSPENSE = "suspense"
OUTGOING = "outgoing"
CHUNK = 5000

# Line states (statement_lines.state).
POSTED = "posted"          # money on a client by a matching rule
IN_SUSPENSE = "suspense"   # not attributed: in suspense, flagged
ASSIGNED = "assigned"      # moved from suspense to a client by a handler
BANK_ONLY = "bank_only"    # the bank side of an entry whose items are lines of their own
CLEARED = "outgoing"       # a debit that cleared a payment order
RETURNED = "returned"      # a credit that gave a returned payment back to its client

LINES = StatementLine.__table__
FLAGS = Flag.__table__


def incoming_account(iban: str) -> str:
    return f"incoming:{iban}"


# --- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedStatement:
    index: int
    bank_account_id: int
    iban: str
    source: str
    statement_id: str
    existing_id: int | None
    from_on: date | None
    to_on: date | None
    opening_cents: int | None
    opening_on: date | None
    closing_cents: int | None
    closing_on: date | None


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """A ``statement_lines`` row to insert."""

    statement_index: int
    bank_account_id: int
    archive_id: str
    parent_archive_id: str | None
    level: str
    booked_on: date
    value_on: date | None
    amount_cents: int
    counterparty_name: str | None
    counterparty_iban: str | None
    reference: str | None
    message: str | None
    end_to_end_id: str | None
    bank_code: str | None
    return_reason: str | None
    client_id: int | None
    order_id: int | None
    match_rule: str | None
    state: str
    ledger_key: str | None


@dataclass(frozen=True, slots=True)
class PlannedFlag:
    kind: str
    subject: str
    client_id: int | None
    amount_cents: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class LineChange:
    """An already stored line that changes state (an entry in suspense itemised by camt.054)."""

    line_id: int
    archive_id: str
    state: str


@dataclass(frozen=True, slots=True)
class OrderChange:
    order_id: int
    key: str
    status: str
    cleared_on: date | None
    returned_on: date | None


@dataclass(frozen=True)
class AccountSummary:
    """What one file did (or would do) to one bank account."""

    file: str
    iban: str
    source: str
    statements: int
    entries: int
    skipped: int
    already_present: int
    posted: int
    new_lines: int
    matched_reference: int
    matched_hetu: int
    matched_expected_income: int
    returned: int
    cleared: int
    in_suspense: int
    opening_cents: int | None
    closing_cents: int | None
    ledger_bank_cents: int
    warnings: tuple[str, ...]

    def row(self) -> dict:
        return {
            "file": self.file, "iban": self.iban, "source": self.source,
            "statements": self.statements, "entries": self.entries, "skipped": self.skipped,
            "already_present": self.already_present, "posted": self.posted,
            "new_lines": self.new_lines, "matched_reference": self.matched_reference,
            "matched_hetu": self.matched_hetu,
            "matched_expected_income": self.matched_expected_income,
            "returned": self.returned, "cleared": self.cleared, "in_suspense": self.in_suspense,
            "opening_cents": self.opening_cents, "closing_cents": self.closing_cents,
            "ledger_bank_cents": self.ledger_bank_cents, "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ImportPlan:
    """Everything one file would post and store; nothing of it is written yet."""

    file_name: str
    file_sha256: str | None
    today: date
    statements: tuple[PlannedStatement, ...]
    entries: tuple[ledger.Entry, ...]
    lines: tuple[PlannedLine, ...]
    line_changes: tuple[LineChange, ...]
    flags: tuple[PlannedFlag, ...]
    resolved_flags: tuple[tuple[str, str], ...]
    order_changes: tuple[OrderChange, ...]
    summaries: tuple[AccountSummary, ...]

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.summaries for w in s.warnings]

    def transaction_rows(self) -> list[dict]:
        return [{"key": e.key, "booked_on": e.booked_on, "description": e.description,
                 "legs": [{"account": code, "amount_cents": amount} for code, amount in e.legs]}
                for e in self.entries]

    def leg_rows(self) -> list[dict]:
        return [{"file": self.file_name, "key": e.key, "booked_on": e.booked_on,
                 "account": code, "amount_cents": amount}
                for e in self.entries for code, amount in e.legs]

    def line_rows(self) -> list[dict]:
        return [{"archive_id": l.archive_id, "parent": l.parent_archive_id, "level": l.level,
                 "booked_on": l.booked_on, "amount_cents": l.amount_cents, "state": l.state,
                 "rule": l.match_rule, "client": l.client_id, "order": l.order_id,
                 "ledger_key": l.ledger_key} for l in self.lines]

    def flag_rows(self) -> list[dict]:
        return [{"kind": f.kind, "subject": f.subject, "client": f.client_id,
                 "amount_cents": f.amount_cents, "detail": f.detail} for f in self.flags]

    def order_rows(self) -> list[dict]:
        return [{"order": o.order_id, "key": o.key, "status": o.status,
                 "cleared_on": o.cleared_on, "returned_on": o.returned_on}
                for o in self.order_changes]


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    summaries: tuple[AccountSummary, ...]
    applied: bool

    def rows(self) -> list[dict]:
        return [s.row() for s in self.summaries]


# --- reading and checking ----------------------------------------------------------------------


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector during a bulk load. A 100 000-entry file makes
    several hundred thousand long-lived objects (records, plan rows) and no reference cycles;
    every automatic collection would walk all of them again, which costs a third of the time.
    Reference counting still frees everything as usual."""
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
        raise ValidationError(f"unknown statement format {statement_format!r}; "
                              f"choose one of {', '.join(STATEMENT_FORMATS)}")
    with paused_gc():
        statements = imports.read_statements(path, statement_format)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return statements, digest.hexdigest()


@dataclass(frozen=True, slots=True)
class _Bank:
    id: int
    iban: str
    ledger_code: str


def check_statements(session: Session, statements: Sequence[BankStatement], name: str
                     ) -> dict[str, _Bank]:
    """Refuse what must not be imported (see the module rules); return the accounts by IBAN."""
    banks = {row.iban: _Bank(row.id, row.iban, row.ledger_code) for row in session.execute(
        select(BankAccount.id, BankAccount.iban, BankAccount.ledger_code)).all()}
    limit = format_fi(MAX_AMOUNT_CENTS)
    for statement in statements:
        label = f"{name}: statement {statement.statement_id}"
        if statement.iban not in banks:
            raise ValidationError(
                f"{name}: unknown account {statement.iban}: add it with `valitystili bank add`")
        if statement.currency != "EUR":
            raise ValidationError(
                f"{label} is in {statement.currency}; only EUR accounts are imported")
        for entry in statement.entries:
            where = f"{label} entry {entry.position} ({entry.archive_id})"
            if entry.currency != "EUR":
                raise ValidationError(f"{where} is in {entry.currency}; only EUR is imported")
            if abs(entry.amount_cents) > MAX_AMOUNT_CENTS:
                raise ValidationError(
                    f"{where} has amount {format_fi(entry.amount_cents)}, over the limit of {limit}")
            if entry.status != "BOOK":
                continue
            if entry.amount_cents == 0:
                raise ValidationError(f"{where} is booked with amount 0")
            if entry.booked_on is None:
                raise ValidationError(f"{where} is booked but has no booking date")
            if len(entry.items) > 1:
                total = sum(item.amount_cents for item in entry.items)
                if total != entry.amount_cents:
                    raise ValidationError(
                        f"{where}: its items add up to {format_fi(total)}, "
                        f"the entry is {format_fi(entry.amount_cents)}")
                if any(item.amount_cents * entry.amount_cents < 0 for item in entry.items):
                    raise ValidationError(f"{where} has items of both signs")
        _check_dates(statement, label)
        _check_arithmetic(statement, label)
    return banks


def _check_dates(statement: BankStatement, label: str) -> None:
    """Every date the bank gives lies in the years the service handles (``dates.check_range``)."""
    for what, day in (("start date", statement.from_on), ("end date", statement.to_on)):
        if day is not None:
            check_range(day, f"{label} {what}")
    for balance in statement.balances:
        check_range(balance.on, f"{label} balance {balance.code} date")
    for entry in statement.entries:
        where = f"{label} entry {entry.position} ({entry.archive_id})"
        for what, day in (("booking date", entry.booked_on), ("value date", entry.value_on)):
            if day is not None and not FIRST_DATE <= day <= LAST_DATE:
                check_range(day, f"{where} {what}")
        for item in entry.items:
            if item.payment_date is not None and not FIRST_DATE <= item.payment_date <= LAST_DATE:
                check_range(item.payment_date, f"{where} payment date")


def _check_arithmetic(statement: BankStatement, label: str) -> None:
    """A statement that carries both balances must add up: opening + booked entries = closing.

    Only statements (camt.053, MT940, FinTS) carry the bank side; a statement without an opening
    or a closing balance has nothing to check (CSV, camt.054).
    """
    opening, closing = statement.opening, statement.closing
    if statement.source not in STATEMENT_SOURCES or opening is None or closing is None:
        return
    booked = sum(entry.amount_cents for entry in statement.entries if entry.status == "BOOK")
    expected = opening.amount_cents + booked
    if expected != closing.amount_cents:
        raise ValidationError(
            f"{label} does not add up: opening balance {format_fi(opening.amount_cents)} + "
            f"booked entries {format_fi(booked)} = {format_fi(expected)}, but its closing "
            f"balance is {format_fi(closing.amount_cents)} (difference "
            f"{format_fi(closing.amount_cents - expected)}); nothing was imported")


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


# --- planning ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Known:
    """A line already stored. (Lines planned in this file are known by their PlannedLine.)"""

    id: int
    level: str
    state: str
    amount_cents: int
    client_id: int | None


@dataclass(slots=True)
class _Counts:
    sources: list[str] = field(default_factory=list)
    statements: int = 0
    entries: int = 0
    skipped: int = 0
    already_present: int = 0
    posted: int = 0
    new_lines: int = 0
    matched: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    returned: int = 0
    cleared: int = 0
    in_suspense: int = 0
    opening_cents: int | None = None
    closing_cents: int | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Decision:
    account: str
    state: str
    rule: str | None
    client_id: int | None = None
    order_id: int | None = None


class _Planner:
    """Walks the statements of one file in order and collects the plan (reads, never writes)."""

    def __init__(self, session: Session, banks: dict[str, _Bank], file_name: str, today: date,
                 calendar: BankingCalendar, progress: Callable[[int], None] | None):
        self.session = session
        self.banks = banks
        self.file_name = file_name
        self.today = today
        self.calendar = calendar
        self.progress = progress
        self.statements: list[PlannedStatement] = []
        self._statement_index: dict[tuple[int, str, str], int] = {}
        self.entries: list[ledger.Entry] = []
        self.lines: list[PlannedLine] = []
        self.line_changes: list[LineChange] = []
        self.flags: dict[tuple[str, str], PlannedFlag] = {}
        self.resolved: list[tuple[str, str]] = []
        self.order_changes: dict[int, OrderChange] = {}
        self.counts: dict[str, _Counts] = {}
        self.known: dict[int, dict[str, _Known | PlannedLine]] = defaultdict(dict)
        self.itemised: dict[int, set[str]] = defaultdict(set)
        self.bank_moves: dict[int, list[tuple[date, int]]] = defaultdict(list)
        self.has_opening: dict[int, bool] = {}
        self._directory: Directory | None = None
        self._orders: OrderBook | None = None
        self._e2e_ids: set[str] = set()

    # --- loading what the file can touch (one query per kind, chunked) -------------------------

    def preload(self, statements: Sequence[BankStatement]) -> None:
        wanted: dict[int, set[str]] = defaultdict(set)
        parents: dict[int, set[str]] = defaultdict(set)
        for statement in statements:
            bank = self.banks[statement.iban]
            for entry in statement.entries:
                if entry.status != "BOOK":
                    continue
                wanted[bank.id].add(entry.archive_id)
                parents[bank.id].add(entry.archive_id)
                if len(entry.items) > 1 or statement.source in NOTIFICATION_SOURCES:
                    wanted[bank.id].update(item_archive_ids(entry))
                for item in entry.items:
                    if item.end_to_end_id:
                        self._e2e_ids.add(item.end_to_end_id)
        for bank_id, archive_ids in wanted.items():
            ids = sorted(archive_ids)
            for start in range(0, len(ids), CHUNK):
                for row in self.session.execute(
                    select(LINES.c.id, LINES.c.archive_id, LINES.c.level, LINES.c.state,
                           LINES.c.amount_cents, LINES.c.client_id)
                    .where(LINES.c.bank_account_id == bank_id,
                           LINES.c.archive_id.in_(ids[start:start + CHUNK]))
                ):
                    self.known[bank_id][row.archive_id] = _Known(
                        row.id, row.level, row.state, row.amount_cents, row.client_id)
        for bank_id, archive_ids in parents.items():
            ids = sorted(archive_ids)
            for start in range(0, len(ids), CHUNK):
                self.itemised[bank_id].update(self.session.execute(
                    select(LINES.c.parent_archive_id).distinct()
                    .where(LINES.c.bank_account_id == bank_id,
                           LINES.c.parent_archive_id.in_(ids[start:start + CHUNK]))
                ).scalars())

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            self._directory = load_directory(self.session, self.calendar)
        return self._directory

    @property
    def orders(self) -> OrderBook:
        if self._orders is None:
            self._orders = load_orders(self.session, self._e2e_ids,
                                       [b.id for b in self.banks.values()], self.calendar)
        return self._orders

    # --- statements -------------------------------------------------------------------------------

    def statement(self, statement: BankStatement) -> None:
        bank = self.banks[statement.iban]
        counts = self.counts.setdefault(bank.iban, _Counts())
        if statement.source not in counts.sources:
            counts.sources.append(statement.source)
        counts.statements += 1
        index, is_new = self._statement_row(bank, statement)
        if statement.opening is not None and counts.opening_cents is None:
            counts.opening_cents = statement.opening.amount_cents
        if statement.source in STATEMENT_SOURCES and is_new:
            self._opening(bank, statement, counts)
        if statement.closing is not None:
            counts.closing_cents = statement.closing.amount_cents
        notification = statement.source in NOTIFICATION_SOURCES
        for entry in statement.entries:
            counts.entries += 1
            if entry.status != "BOOK":
                counts.skipped += 1
            elif notification:
                self._notified_entry(index, bank, statement, entry, counts)
            else:
                self._statement_entry(index, bank, statement, entry, counts)
            if self.progress is not None:
                self.progress(1)

    def _statement_row(self, bank: _Bank, statement: BankStatement) -> tuple[int, bool]:
        ident = (bank.id, statement.source, statement.statement_id)
        if ident in self._statement_index:
            return self._statement_index[ident], False
        existing = self.session.execute(
            select(Statement.id).where(Statement.bank_account_id == bank.id,
                                       Statement.source == statement.source,
                                       Statement.statement_id == statement.statement_id)
        ).scalar_one_or_none()
        opening, closing = statement.opening, statement.closing
        index = len(self.statements)
        self.statements.append(PlannedStatement(
            index=index, bank_account_id=bank.id, iban=bank.iban, source=statement.source,
            statement_id=statement.statement_id, existing_id=existing,
            from_on=statement.from_on, to_on=statement.to_on,
            opening_cents=opening.amount_cents if opening else None,
            opening_on=opening.on if opening else None,
            closing_cents=closing.amount_cents if closing else None,
            closing_on=closing.on if closing else None,
        ))
        self._statement_index[ident] = index
        return index, existing is None

    def _opening(self, bank: _Bank, statement: BankStatement, counts: _Counts) -> None:
        opening = statement.opening
        if opening is None:
            return
        day = opening.on - timedelta(days=1) if opening.code == "OPBD" else opening.on
        if bank.id not in self.has_opening:
            self.has_opening[bank.id] = self._opening_known(bank)
        if not self.has_opening[bank.id]:
            self.has_opening[bank.id] = True
            if opening.amount_cents:
                key = f"opening:{bank.iban}"
                self.entries.append(ledger.Entry(
                    key, ((bank.ledger_code, opening.amount_cents),
                          (SUSPENSE, -opening.amount_cents)),
                    day, description=f"opening balance of {bank.iban} "
                                     f"(statement {statement.statement_id})"))
                self.bank_moves[bank.id].append((day, opening.amount_cents))
                self._flag("unmatched_income", key, None, opening.amount_cents,
                           f"opening balance {format_fi(opening.amount_cents)} of the first "
                           "statement is in suspense: money held before the ledger, not yet "
                           "attributed to clients")
            return
        ledger_then = ledger.balance(self.session, bank.ledger_code, day) + sum(
            amount for booked_on, amount in self.bank_moves[bank.id] if booked_on <= day)
        if ledger_then != opening.amount_cents:
            counts.warnings.append(
                f"statement {statement.statement_id} of {bank.iban} opens with "
                f"{format_fi(opening.amount_cents)} on {opening.on.isoformat()}, the ledger has "
                f"{format_fi(ledger_then)} (difference "
                f"{format_fi(opening.amount_cents - ledger_then)})")

    def _opening_known(self, bank: _Bank) -> bool:
        stored = self.session.execute(
            select(Statement.id).where(Statement.bank_account_id == bank.id,
                                       Statement.opening_cents.is_not(None)).limit(1)
        ).first()
        if stored is not None:
            return True
        try:
            ledger.transaction_legs(self.session, f"opening:{bank.iban}")
        except ledger.NotFound:
            return False
        return True

    # --- entries ----------------------------------------------------------------------------------

    def _statement_entry(self, index: int, bank: _Bank, statement: BankStatement,
                         entry: BankEntry, counts: _Counts) -> None:
        archive_id = entry.archive_id
        known = self.known[bank.id].get(archive_id)
        if known is not None:
            self._same_entry(bank, entry, known)
            counts.already_present += 1
            return
        key = f"bank:{bank.iban}:{archive_id}"
        booked_on = entry.booked_on
        self.bank_moves[bank.id].append((booked_on, entry.amount_cents))
        legs: list[tuple[str, int]] = [(bank.ledger_code, entry.amount_cents)]
        if archive_id in self.itemised[bank.id]:
            # Itemised by a camt.054 already: its items hold the attribution.
            legs.append((incoming_account(bank.iban), -entry.amount_cents))
            self._line(index, bank, entry, entry.items[0] if len(entry.items) == 1 else None,
                       archive_id, None, "entry", entry.amount_cents,
                       _Decision("", BANK_ONLY, None), key, counts)
        elif len(entry.items) == 1:
            item = entry.items[0]
            decision = self._decide(bank, archive_id, item, entry.amount_cents, booked_on,
                                    entry.reversal, counts, detail_hint=True)
            legs.append((decision.account, -entry.amount_cents))
            self._line(index, bank, entry, item, archive_id, None, "entry", entry.amount_cents,
                       decision, key, counts)
        else:
            self._line(index, bank, entry, None, archive_id, None, "entry", entry.amount_cents,
                       _Decision("", BANK_ONLY, None), key, counts)
            legs.extend(self._items(index, bank, entry, key, counts))
            self.itemised[bank.id].add(archive_id)
        self._post(key, legs, booked_on, entry.value_on,
                   f"{statement.source} {statement.statement_id} entry {entry.position}")
        counts.posted += 1

    def _notified_entry(self, index: int, bank: _Bank, statement: BankStatement,
                        entry: BankEntry, counts: _Counts) -> None:
        archive_id = entry.archive_id
        if archive_id in self.itemised[bank.id]:
            counts.already_present += 1
            return
        known = self.known[bank.id].get(archive_id)
        if known is not None:
            self._same_entry(bank, entry, known)
            if known.state != IN_SUSPENSE or not isinstance(known, _Known):
                if known.state == ASSIGNED:
                    counts.warnings.append(
                        f"{archive_id} was assigned by hand to client {known.client_id} before "
                        f"its {statement.source} itemisation arrived; the items are not booked")
                counts.already_present += 1
                return
            # On a statement already, unattributed: the items take the money out of suspense.
            source = SUSPENSE
            self.line_changes.append(LineChange(known.id, archive_id, BANK_ONLY))
            known.state = BANK_ONLY
            self._resolve("unmatched_income" if entry.amount_cents > 0 else "unmatched_debit",
                          archive_id)
        else:
            # Items the bank already booked as entries of their own are on clients already:
            # a notification made only of them adds nothing; one mixing them is not credible.
            known_ids = self.known[bank.id]
            booked = [aid for aid in item_archive_ids(entry)
                      if aid in known_ids and known_ids[aid].level == "entry"]
            if booked and len(booked) == len(entry.items):
                counts.already_present += 1
                return
            if booked:
                raise ValidationError(
                    f"{self.file_name}: entry {entry.archive_id} itemises {booked[0]}, which the "
                    "bank already booked as an entry of its own; nothing was imported")
            source = incoming_account(bank.iban)
        key = f"itemise:{bank.iban}:{archive_id}"
        legs = [(source, entry.amount_cents)]
        legs.extend(self._items(index, bank, entry, key, counts))
        self.itemised[bank.id].add(archive_id)
        self._post(key, legs, entry.booked_on, entry.value_on,
                   f"{statement.source} {statement.statement_id} entry {entry.position}")
        counts.posted += 1

    def _items(self, index: int, bank: _Bank, entry: BankEntry, key: str, counts: _Counts
               ) -> list[tuple[str, int]]:
        legs = []
        single = len(entry.items) == 1
        for position, (item, archive_id) in enumerate(zip(entry.items, item_archive_ids(entry)),
                                                      start=1):
            amount = entry.amount_cents if single else item.amount_cents
            if archive_id in self.known[bank.id]:
                # The bank used this item id for another line too: number it under its entry.
                archive_id = f"{entry.archive_id}/{position}"
            if amount == 0:
                continue
            decision = self._decide(bank, archive_id, item, amount, entry.booked_on,
                                    entry.reversal, counts, detail_hint=False)
            legs.append((decision.account, -amount))
            self._line(index, bank, entry, item, archive_id, entry.archive_id, "item", amount,
                       decision, key, counts)
        return legs

    def _same_entry(self, bank: _Bank, entry: BankEntry, known: _Known | PlannedLine) -> None:
        if known.level != "entry":
            raise ValidationError(
                f"{self.file_name}: entry {entry.archive_id} has the archive id of an item "
                "already imported")
        if known.amount_cents != entry.amount_cents:
            raise ValidationError(
                f"{self.file_name}: entry {entry.archive_id} was imported with amount "
                f"{format_fi(known.amount_cents)}, this file says {format_fi(entry.amount_cents)}")

    # --- deciding where one line's money goes ---------------------------------------------------

    def _decide(self, bank: _Bank, archive_id: str, item: Item, amount: int, booked_on: date,
                reversal: bool, counts: _Counts, *, detail_hint: bool) -> _Decision:
        if amount > 0:
            if item.return_reason or reversal:
                order, why = self.orders.returned(item.end_to_end_id)
                if order is not None:
                    return self._returned(order, archive_id, item, amount, booked_on, counts)
            return self._credit(archive_id, item, amount, booked_on, counts,
                                detail_hint=detail_hint)
        cleared = self.orders.clear(Debit(amount, booked_on, item.end_to_end_id,
                                          item.counterparty_iban))
        if cleared.order is not None:
            order = cleared.order
            previous = self.order_changes.get(order.id)
            status = "returned" if (order.status == "returned" or (
                previous is not None and previous.status == "returned")) else "cleared"
            self.order_changes[order.id] = OrderChange(
                order.id, order.key, status, booked_on,
                previous.returned_on if previous else None)
            counts.cleared += 1
            return _Decision(OUTGOING, CLEARED, cleared.rule, order.client_id, order.id)
        counts.in_suspense += 1
        self._flag("unmatched_debit", archive_id, None, amount,
                   f"{format_fi(-amount)} out on {booked_on.isoformat()}"
                   f"{_to(item)}: {cleared.reason}")
        return _Decision(SUSPENSE, IN_SUSPENSE, NONE)

    def _returned(self, order: OpenOrder, archive_id: str, item: Item, amount: int,
                  booked_on: date, counts: _Counts) -> _Decision:
        client = self.directory.clients.get(order.client_id)
        if client is None:  # pragma: no cover - orders reference clients by foreign key
            raise NotFound(f"order {order.key} names client {order.client_id}, who does not exist")
        previous = self.order_changes.get(order.id)
        self.order_changes[order.id] = OrderChange(
            order.id, order.key, "returned",
            previous.cleared_on if previous else order.cleared_on, booked_on)
        counts.returned += 1
        reason = f" ({item.return_reason})" if item.return_reason else ""
        self._flag("payment_returned", archive_id, order.client_id, amount,
                   f"payment {order.key} of {format_fi(order.amount_cents)} came back"
                   f"{reason}; {format_fi(amount)} returned to client {order.client_id}")
        return _Decision(client.ledger_code, RETURNED, RETURN, order.client_id, order.id)

    def _credit(self, archive_id: str, item: Item, amount: int, booked_on: date,
                counts: _Counts, *, detail_hint: bool) -> _Decision:
        match = self.directory.match(Credit(amount, booked_on, item.reference, item.message,
                                            item.counterparty_name))
        if match.client_id is not None:
            client = self.directory.clients[match.client_id]
            counts.matched[match.rule] += 1
            if not client.open:
                self._flag("closed_client_income", archive_id, client.id, amount,
                           f"{format_fi(amount)} for closed client {client.id} "
                           f"({match.reason}) was credited to the client")
            return _Decision(client.ledger_code, POSTED, match.rule, client.id)
        counts.in_suspense += 1
        reason = match.reason
        if detail_hint and not _has_detail(item):
            reason = ("no payer, reference or message on the statement (a lump sum: its camt.054 "
                      "itemisation will attribute it)")
        self._flag("unmatched_income", archive_id, None, amount,
                   f"{format_fi(amount)} in on {booked_on.isoformat()}{_from(item)}: {reason}")
        return _Decision(SUSPENSE, IN_SUSPENSE, NONE)

    # --- collecting -------------------------------------------------------------------------------

    def _line(self, index: int, bank: _Bank, entry: BankEntry, item: Item | None,
              archive_id: str, parent: str | None, level: str, amount: int,
              decision: _Decision, key: str | None, counts: _Counts) -> None:
        self.lines.append(PlannedLine(
            statement_index=index, bank_account_id=bank.id, archive_id=archive_id,
            parent_archive_id=parent, level=level, booked_on=entry.booked_on,
            value_on=entry.value_on, amount_cents=amount,
            counterparty_name=_cut(item.counterparty_name, 140) if item else None,
            counterparty_iban=_cut(item.counterparty_iban, 34) if item else None,
            reference=_cut(item.reference, 35) if item else None,
            message=item.message if item else None,
            end_to_end_id=_cut(item.end_to_end_id, 35) if item else None,
            bank_code=_cut(entry.bank_code, 40),
            return_reason=_cut(item.return_reason, 8) if item else None,
            client_id=decision.client_id, order_id=decision.order_id,
            match_rule=decision.rule, state=decision.state, ledger_key=key,
        ))
        self.known[bank.id][archive_id] = self.lines[-1]
        counts.new_lines += 1

    def _post(self, key: str, legs: Iterable[tuple[str, int]], booked_on: date,
              value_on: date | None, description: str) -> None:
        # Legs are not merged: an itemisation from suspense back to suspense (nobody matched)
        # still posts, so every line names a ledger transaction (reconcile checks it).
        kept = tuple((code, amount) for code, amount in legs if amount)
        self.entries.append(ledger.Entry(key, kept, booked_on, value_on, description))

    def _flag(self, kind: str, subject: str, client_id: int | None, amount: int | None,
              detail: str) -> None:
        self.flags[(kind, subject)] = PlannedFlag(kind, subject, client_id, amount, detail)

    def _resolve(self, kind: str, subject: str) -> None:
        if self.flags.pop((kind, subject), None) is None:
            self.resolved.append((kind, subject))

    # --- result -----------------------------------------------------------------------------------

    def result(self, file_sha256: str | None) -> ImportPlan:
        summaries = []
        for iban, counts in self.counts.items():
            bank = self.banks[iban]
            predicted = ledger.balance(self.session, bank.ledger_code) + sum(
                amount for _day, amount in self.bank_moves[bank.id])
            summaries.append(_summary(self.file_name, iban, counts, predicted))
        return ImportPlan(
            file_name=self.file_name, file_sha256=file_sha256, today=self.today,
            statements=tuple(self.statements), entries=tuple(self.entries),
            lines=tuple(self.lines), line_changes=tuple(self.line_changes),
            flags=tuple(self.flags.values()), resolved_flags=tuple(self.resolved),
            order_changes=tuple(self.order_changes.values()), summaries=tuple(summaries),
        )


def _summary(file_name: str, iban: str, counts: _Counts, ledger_bank_cents: int
             ) -> AccountSummary:
    return AccountSummary(
        file=file_name, iban=iban, source=",".join(counts.sources), statements=counts.statements,
        entries=counts.entries, skipped=counts.skipped, already_present=counts.already_present,
        posted=counts.posted, new_lines=counts.new_lines,
        matched_reference=counts.matched.get("reference", 0),
        matched_hetu=counts.matched.get("hetu", 0),
        matched_expected_income=counts.matched.get("expected_income", 0),
        returned=counts.returned, cleared=counts.cleared, in_suspense=counts.in_suspense,
        opening_cents=counts.opening_cents, closing_cents=counts.closing_cents,
        ledger_bank_cents=ledger_bank_cents, warnings=tuple(counts.warnings),
    )


def _has_detail(item: Item) -> bool:
    return any((item.reference, item.message, item.counterparty_name, item.counterparty_iban,
                item.end_to_end_id))


def _from(item: Item) -> str:
    return f" from {item.counterparty_name}" if item.counterparty_name else ""


def _to(item: Item) -> str:
    return f" to {item.counterparty_name}" if item.counterparty_name else ""


def _cut(text: str | None, length: int) -> str | None:
    return text if text is None or len(text) <= length else text[:length]


# --- what planning loads ---------------------------------------------------------------------


def load_directory(session: Session, calendar: BankingCalendar = CALENDAR) -> Directory:
    """Every client (one query) and, only when a credit needs them, the expected incomes of
    the approved plan versions with the days each version is in force."""
    clients = [
        KnownClient(row.id, row.name, row.hetu, row.reference, row.rf_reference, row.ledger_code,
                    row.status == "open")
        for row in session.execute(select(Client.id, Client.name, Client.hetu, Client.reference,
                                          Client.rf_reference, Client.ledger_code, Client.status))
    ]

    def expected() -> list[ExpectedIncome]:
        versions: dict[int, list[tuple[int, date, int]]] = defaultdict(list)
        for row in session.execute(select(Plan.id, Plan.client_id, Plan.effective_on,
                                          Plan.version).where(Plan.approved_at.is_not(None))):
            versions[row.client_id].append((row.id, row.effective_on, row.version))
        periods: dict[int, tuple[int, date, date | None]] = {}
        for client_id, plans in versions.items():
            for plan_id, (start, until) in in_force_periods(plans).items():
                periods[plan_id] = (client_id, start, until)
        found = []
        for row in session.execute(select(PlanIncome.plan_id, PlanIncome.source, PlanIncome.kind,
                                          PlanIncome.amount_cents, PlanIncome.schedule)):
            period = periods.get(row.plan_id)
            if period is not None:
                client_id, start, until = period
                found.append(ExpectedIncome(client_id, row.source, row.kind, row.amount_cents,
                                            row.schedule, start, until))
        return found

    return Directory(
        clients, expected,
        amount_tolerance_cents=settings.get_int(session, "income_amount_tolerance_cents"),
        window_days=settings.get_int(session, "income_window_days"),
        calendar=calendar,
    )


def load_orders(session: Session, end_to_end_ids: Iterable[str], bank_account_ids: list[int],
                calendar: BankingCalendar = CALENDAR) -> OrderBook:
    """Orders a file can touch: those named by its end-to-end ids, and every exported order
    of its accounts not cleared yet (for clearing by amount and creditor)."""
    columns = (PaymentOrder.id, PaymentOrder.key, PaymentOrder.client_id,
               PaymentOrder.end_to_end_id, PaymentOrder.creditor_iban, PaymentOrder.amount_cents,
               PaymentOrder.execution_on, PaymentOrder.status, PaymentOrder.cleared_on)
    sent = ("exported", "cleared", "returned")
    rows = {}
    ids = sorted(set(end_to_end_ids))
    for start in range(0, len(ids), CHUNK):
        for row in session.execute(select(*columns).where(
                PaymentOrder.end_to_end_id.in_(ids[start:start + CHUNK]),
                PaymentOrder.status.in_(sent))):
            rows[row.id] = row
    if bank_account_ids:
        for row in session.execute(
            select(*columns).join(PaymentBatch, PaymentBatch.id == PaymentOrder.batch_id)
            .where(PaymentBatch.bank_account_id.in_(bank_account_ids),
                   PaymentOrder.status.in_(("exported", "returned")),
                   PaymentOrder.cleared_on.is_(None))
        ):
            rows[row.id] = row
    return OrderBook(
        (OpenOrder(r.id, r.key, r.client_id, r.end_to_end_id, r.creditor_iban, r.amount_cents,
                   r.execution_on, r.status, r.cleared_on) for r in rows.values()),
        calendar=calendar,
    )


def _lock_banks(session: Session, banks: Iterable[_Bank]) -> None:
    """Serialise imports per account (PostgreSQL; SQLite's writer lock already does)."""
    ids = sorted({bank.id for bank in banks})
    if ids and session.get_bind().dialect.name == "postgresql":
        session.execute(select(BankAccount.id).where(BankAccount.id.in_(ids))
                        .order_by(BankAccount.id).with_for_update())


def plan_import(session: Session, statements: Sequence[BankStatement], *, file_name: str,
                file_sha256: str | None = None, today: date | None = None,
                calendar: BankingCalendar = CALENDAR,
                progress: Callable[[int], None] | None = None) -> ImportPlan:
    """What importing these statements would do (see the module rules); writes nothing."""
    banks = check_statements(session, statements, file_name)
    return _plan(session, statements, banks, file_name=file_name, file_sha256=file_sha256,
                 today=today, calendar=calendar, progress=progress)


def _plan(session: Session, statements: Sequence[BankStatement], banks: dict[str, _Bank], *,
          file_name: str, file_sha256: str | None, today: date | None,
          calendar: BankingCalendar, progress: Callable[[int], None] | None) -> ImportPlan:
    planner = _Planner(session, banks, file_name, today or date.today(), calendar, progress)
    planner.preload(statements)
    for statement in statements:
        planner.statement(statement)
    return planner.result(file_sha256)


# --- applying ------------------------------------------------------------------------------------


def apply_plan(session: Session, actor: Actor, plan: ImportPlan) -> tuple[AccountSummary, ...]:
    """Write a plan in the caller's transaction; return the summaries with the bank balances
    as they now are."""
    statement_ids: dict[int, int] = {}
    for planned in plan.statements:
        if planned.existing_id is not None:
            statement_ids[planned.index] = planned.existing_id
            continue
        statement_ids[planned.index] = session.execute(insert(Statement.__table__).values(
            bank_account_id=planned.bank_account_id, source=planned.source,
            statement_id=planned.statement_id[:140], file_name=plan.file_name[:400],
            file_sha256=plan.file_sha256, from_on=planned.from_on, to_on=planned.to_on,
            opening_cents=planned.opening_cents, opening_on=planned.opening_on,
            closing_cents=planned.closing_cents, closing_on=planned.closing_on,
            imported_by=actor.name,
        ).returning(Statement.__table__.c.id)).scalar_one()

    _ensure_accounts(session, plan.entries)
    if plan.entries:
        ledger.post_many(session, plan.entries)

    if plan.lines:
        _insert_lines(session, plan.lines, statement_ids)

    for change in plan.line_changes:
        # The line no longer carries an attribution of its own: its items do.
        session.execute(update(LINES).where(LINES.c.id == change.line_id)
                        .values(state=change.state, match_rule=None))
    for change in plan.order_changes:
        if change.status == "returned":
            _reopen_obligation(session, change.order_id)
        session.execute(update(PaymentOrder.__table__)
                        .where(PaymentOrder.__table__.c.id == change.order_id)
                        .values(status=change.status, cleared_on=change.cleared_on,
                                returned_on=change.returned_on))
    _write_flags(session, plan.flags, plan.today)
    _resolve_flags(session, plan.resolved_flags, plan.today)

    summaries = tuple(
        replace(s, ledger_bank_cents=ledger.balance(
            session, session.execute(select(BankAccount.ledger_code)
                                     .where(BankAccount.iban == s.iban)).scalar_one()))
        for s in plan.summaries
    )
    audit.record(session, actor.name, "import", subject=plan.file_name[:200], detail={
        "sha256": plan.file_sha256,
        "accounts": [{k: v for k, v in s.row().items() if k not in ("file", "warnings")}
                     for s in summaries],
        "flags": len(plan.flags), "orders": len(plan.order_changes),
    })
    session.flush()
    return summaries


LINE_COLUMNS = ("bank_account_id", "statement_id", "archive_id", "parent_archive_id", "level",
                "booked_on", "value_on", "amount_cents", "counterparty_name", "counterparty_iban",
                "reference", "message", "end_to_end_id", "bank_code", "return_reason",
                "client_id", "order_id", "match_rule", "state", "ledger_key")


def _reopen_obligation(session: Session, order_id: int) -> None:
    """A payment that came back did not pay its obligation: open it again for the batch
    (once — the same return seen again on an overlapping statement changes nothing)."""
    order = session.execute(select(PaymentOrder.status, PaymentOrder.obligation_id,
                                   PaymentOrder.amount_cents)
                            .where(PaymentOrder.id == order_id)).one()
    if order.status == "returned" or order.obligation_id is None:
        return
    table = Obligation.__table__
    session.execute(update(table).where(table.c.id == order.obligation_id).values(
        paid_cents=table.c.paid_cents - order.amount_cents, status="open"))


def _insert_lines(session: Session, lines: Sequence[PlannedLine],
                  statement_ids: dict[int, int]) -> None:
    """One driver-level executemany (as ``ledger.post_many`` does): at 100 000 lines the
    per-row parameter processing of a Core insert costs more than the insert itself."""
    connection = session.connection()
    day = date.isoformat if connection.dialect.name == "sqlite" else (lambda value: value)
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO statement_lines ({', '.join(LINE_COLUMNS)}) "
           f"VALUES ({', '.join([mark] * len(LINE_COLUMNS))})")
    for start in range(0, len(lines), 20_000):
        connection.exec_driver_sql(sql, [
            (l.bank_account_id, statement_ids[l.statement_index], l.archive_id,
             l.parent_archive_id, l.level, day(l.booked_on),
             None if l.value_on is None else day(l.value_on), l.amount_cents,
             l.counterparty_name, l.counterparty_iban, l.reference, l.message, l.end_to_end_id,
             l.bank_code, l.return_reason, l.client_id, l.order_id, l.match_rule, l.state,
             l.ledger_key)
            for l in lines[start:start + 20_000]
        ])


def _ensure_accounts(session: Session, entries: Sequence[ledger.Entry]) -> None:
    """Open the service's own pooled accounts on first use (bank and client accounts are
    opened by ``bank add`` and ``client open`` and must exist)."""
    codes = {code for entry in entries for code, _amount in entry.legs}
    for code in sorted(codes):
        if (code in (SUSPENSE, OUTGOING) or code.startswith("incoming:")) and \
                not ledger.account_exists(session, code):
            name = {"suspense": "money not yet attributed to a client",
                    "outgoing": "payments ordered, not yet seen leaving the bank"}.get(
                code, "notified or booked by the bank, not yet both on a statement and attributed")
            ledger.open_account(session, code, "liability", name=name)


def _write_flags(session: Session, planned: Sequence[PlannedFlag], today: date) -> None:
    if not planned:
        return
    wanted = {(f.kind, f.subject): f for f in planned}
    subjects = sorted({f.subject for f in planned})
    existing: dict[tuple[str, str], tuple[int, date | None, date]] = {}
    for start in range(0, len(subjects), CHUNK):
        for row in session.execute(
            select(FLAGS.c.id, FLAGS.c.kind, FLAGS.c.subject, FLAGS.c.resolved_at,
                   FLAGS.c.last_seen).where(FLAGS.c.subject.in_(subjects[start:start + CHUNK]))
        ):
            if (row.kind, row.subject) in wanted:
                existing[(row.kind, row.subject)] = (row.id, row.resolved_at, row.last_seen)
    new_rows = []
    for ident, flag in wanted.items():
        if ident in existing:
            flag_id, resolved_at, last_seen = existing[ident]
            values = {"last_seen": max(last_seen, today), "amount_cents": flag.amount_cents,
                      "detail": flag.detail}
            if resolved_at is not None:  # the condition is back: a new situation
                values.update(resolved_at=None, first_seen=today, ack_by=None, ack_at=None,
                              ack_comment=None)
            session.execute(update(FLAGS).where(FLAGS.c.id == flag_id).values(**values))
        else:
            new_rows.append({"kind": flag.kind, "subject": flag.subject,
                             "client_id": flag.client_id, "amount_cents": flag.amount_cents,
                             "detail": flag.detail, "first_seen": today, "last_seen": today})
    if new_rows:
        session.execute(insert(FLAGS), new_rows)


def _resolve_flags(session: Session, resolved: Sequence[tuple[str, str]], today: date) -> None:
    for kind, subject in resolved:
        session.execute(update(FLAGS).where(FLAGS.c.kind == kind, FLAGS.c.subject == subject,
                                            FLAGS.c.resolved_at.is_(None))
                        .values(resolved_at=today))


# --- the service's entry points -------------------------------------------------------------------


def import_statements(session: Session, actor: Actor, statements: list[BankStatement], *,
                      file_name: str, file_sha256: str | None = None, dry_run: bool = False,
                      today: date | None = None, calendar: BankingCalendar = CALENDAR,
                      progress: Callable[[int], None] | None = None,
                      release: bool = False) -> ImportResult:
    """Import one file's (or one fetch's) statements in the caller's transaction.

    ``release``: empty the ``statements`` list once it is planned, so that the records can be
    freed before the plan is written (peak memory of a large file is then the larger of the
    two, not their sum).
    """
    actor.require("import")
    with paused_gc():
        banks = check_statements(session, statements, file_name)
        if not dry_run:
            _lock_banks(session, banks.values())
        plan = _plan(session, statements, banks, file_name=file_name, file_sha256=file_sha256,
                     today=today, calendar=calendar, progress=progress)
        if release:
            statements.clear()
        if dry_run:
            return ImportResult(plan, plan.summaries, applied=False)
        return ImportResult(plan, apply_plan(session, actor, plan), applied=True)


def import_file(session: Session, actor: Actor, path: str | os.PathLike[str],
                statement_format: str = "auto", **options) -> ImportResult:
    """Read one statement file and import it (see :func:`import_statements`)."""
    actor.require("import")
    statements, digest = read_file(path, statement_format)
    return import_statements(session, actor, statements, file_name=Path(path).name,
                             file_sha256=digest, release=True, **options)


# --- incoming money for handlers -----------------------------------------------------------------


def list_income(session: Session, actor: Actor, *, unmatched: bool = False,
                start: date | None = None, end: date | None = None) -> list[dict]:
    """Incoming lines (credits that carry their own attribution), oldest first; identity codes
    in messages are masked. Recorded in the audit trail as a view."""
    actor.require("income.read")
    query = (select(StatementLine, BankAccount.iban)
             .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
             .where(StatementLine.amount_cents > 0, StatementLine.state != BANK_ONLY))
    if unmatched:
        query = query.where(StatementLine.state == IN_SUSPENSE)
    if start is not None:
        query = query.where(StatementLine.booked_on >= start)
    if end is not None:
        query = query.where(StatementLine.booked_on <= end)
    rows = [
        {"line": line.id, "iban": iban, "booked_on": line.booked_on,
         "amount_cents": line.amount_cents, "payer": line.counterparty_name,
         "reference": line.reference, "message": mask_message(line.message),
         "state": line.state, "rule": line.match_rule, "client": line.client_id,
         "archive_id": line.archive_id}
        for line, iban in session.execute(query.order_by(StatementLine.booked_on,
                                                         StatementLine.id)).all()
    ]
    audit.record(session, actor.name, "income.list", detail={
        "unmatched": unmatched, "from": start, "to": end, "lines": len(rows),
        "clients": sorted({r["client"] for r in rows if r["client"] is not None}),
    })
    return rows


def assign_line(session: Session, actor: Actor, line_id: int, client_text: str, *,
                today: date | None = None) -> dict:
    """Move one unattributed incoming line from suspense to a client, at most once."""
    actor.require("income.assign")
    today = today or date.today()
    line = session.execute(select(StatementLine).where(StatementLine.id == line_id)
                           .with_for_update()).scalar_one_or_none()
    if line is None:
        raise NotFound(f"no statement line {line_id}")
    if line.amount_cents <= 0:
        raise ValidationError(f"line {line_id} is money out; only incoming money is assigned")
    if line.state == ASSIGNED:
        raise Conflict(f"line {line_id} is already assigned to client {line.client_id}")
    if line.state != IN_SUSPENSE:
        held = f" (client {line.client_id})" if line.client_id else ""
        raise Conflict(f"line {line_id} is not in suspense: it is {line.state}{held}")
    client = clients.resolve_client(session, client_text)
    key = f"assign:{line.id}"
    posted = ledger.post(session, key, [(SUSPENSE, line.amount_cents),
                                        (client.ledger_code, -line.amount_cents)],
                         today, description=f"line {line.id} ({line.archive_id}) assigned to "
                                            f"client {client.id}", actor=actor.name)
    if not posted.created:
        raise Conflict(f"line {line_id} is already assigned ({key})")
    line.state = ASSIGNED
    line.client_id = client.id
    resolved = session.execute(
        update(FLAGS).where(FLAGS.c.kind == "unmatched_income", FLAGS.c.subject == line.archive_id,
                            FLAGS.c.resolved_at.is_(None)).values(resolved_at=today)
    ).rowcount
    if client.status != "open":
        _write_flags(session, [PlannedFlag(
            "closed_client_income", line.archive_id, client.id, line.amount_cents,
            f"{format_fi(line.amount_cents)} assigned by {actor.name} to closed client "
            f"{client.id}")], today)
    audit.record(session, actor.name, "income.assign", client_id=client.id,
                 subject=f"line {line.id}", detail={
                     "archive_id": line.archive_id, "amount_cents": line.amount_cents,
                     "ledger_key": key})
    session.flush()
    return {"line": line.id, "client": client.id, "amount_cents": line.amount_cents,
            "booked_on": today, "ledger_key": key, "flag_resolved": bool(resolved)}


__all__ = [
    "AccountSummary", "ImportPlan", "ImportResult", "LineChange", "OrderChange",
    "PlannedFlag", "PlannedLine", "PlannedStatement", "apply_plan", "assign_line",
    "check_statements", "import_file", "import_statements", "incoming_account",
    "item_archive_ids", "list_income", "load_directory", "load_orders", "plan_import",
    "read_file",
]
