"""What preparing an import reads from the database (reads only; DESIGN §7).

Rules of this module:

- One query per kind, chunked (``store.chunks``): the lines a file can touch (by archive id and
  by parent archive id), every client once, the orders named by the file's end-to-end ids and
  the open exported orders of its accounts. Clients are looked up in dictionaries built here
  once per file, never with a query per line.
- Expected incomes are read only when a credit needs them (the :class:`Directory` asks), with
  the days each approved plan version is in force (``plans.versions.in_force_periods``, the one
  rule of the plan version in force) and each income's amount tolerance
  (``plans.expected.income_tolerance_cents``).
- :func:`lock_banks` serialises imports per account on PostgreSQL (SQLite's writer lock already
  does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.plans.expected import income_tolerance_cents, tolerance_defaults
from valitystili.plans.versions import in_force_periods
from valitystili.statements.bookings import opening_key
from valitystili.statements.clearing import OpenOrder, OrderBook
from valitystili.statements.matching import Directory, ExpectedIncome, KnownClient
from valitystili.statements.reading import CityAccount
from valitystili.store import settings
from valitystili.store.chunks import select_in
from valitystili.store.models import (
    BankAccount,
    Client,
    PaymentBatch,
    PaymentOrder,
    Plan,
    PlanIncome,
    Statement,
    StatementLine,
)

LINES = StatementLine.__table__
#: Order states whose money has left (or is leaving) the client: a return can name them.
SENT = ("exported", "cleared", "returned")
#: Order states still waiting to be seen leaving the bank (cleared by amount and creditor).
CLEARABLE = ("exported", "returned")


@dataclass(slots=True)
class StoredLine:
    """A line already stored. Not frozen: preparing marks the state a line takes in this file
    (an entry in suspense becoming ``bank_only`` when a camt.054 itemises it)."""

    id: int
    level: str
    state: str
    amount_cents: int
    client_id: int | None


def stored_lines(session: Session, archive_ids: dict[int, set[str]]
                 ) -> dict[int, dict[str, StoredLine]]:
    """The stored lines of each bank account (by id) with these archive ids."""
    found: dict[int, dict[str, StoredLine]] = defaultdict(dict)
    for bank_id, wanted in archive_ids.items():
        query = select(LINES.c.id, LINES.c.archive_id, LINES.c.level, LINES.c.state,
                       LINES.c.amount_cents, LINES.c.client_id
                       ).where(LINES.c.bank_account_id == bank_id)
        for row in select_in(session, query, LINES.c.archive_id, sorted(wanted)):
            found[bank_id][row.archive_id] = StoredLine(
                row.id, row.level, row.state, row.amount_cents, row.client_id)
    return found


def itemised_entries(session: Session, archive_ids: dict[int, set[str]]) -> dict[int, set[str]]:
    """Of these entry archive ids, those whose items are stored lines already."""
    found: dict[int, set[str]] = defaultdict(set)
    for bank_id, wanted in archive_ids.items():
        query = (select(LINES.c.parent_archive_id).distinct()
                 .where(LINES.c.bank_account_id == bank_id))
        found[bank_id].update(row.parent_archive_id for row in select_in(
            session, query, LINES.c.parent_archive_id, sorted(wanted)))
    return found


def stored_statement(session: Session, bank_id: int, source: str, statement_id: str
                     ) -> int | None:
    """The id of a statement imported before, if it was."""
    return session.execute(
        select(Statement.id).where(Statement.bank_account_id == bank_id,
                                   Statement.source == source,
                                   Statement.statement_id == statement_id)
    ).scalar_one_or_none()


def opening_known(session: Session, bank: CityAccount) -> bool:
    """Whether the account's opening balance is known already (a statement with one is stored,
    or the opening is booked)."""
    stored = session.execute(
        select(Statement.id).where(Statement.bank_account_id == bank.id,
                                   Statement.opening_cents.is_not(None)).limit(1)
    ).first()
    if stored is not None:
        return True
    try:
        ledger.transaction_legs(session, opening_key(bank.iban))
    except ledger.NotFound:
        return False
    return True


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
        defaults = tolerance_defaults(session)
        found = []
        for row in session.execute(select(PlanIncome.plan_id, PlanIncome.source, PlanIncome.kind,
                                          PlanIncome.amount_cents, PlanIncome.tolerance_cents,
                                          PlanIncome.tolerance_percent, PlanIncome.schedule)):
            period = periods.get(row.plan_id)
            if period is not None:
                client_id, start, until = period
                tolerance = income_tolerance_cents(row.amount_cents, row.tolerance_cents,
                                                   row.tolerance_percent, defaults)
                found.append(ExpectedIncome(client_id, row.source, row.kind, row.amount_cents,
                                            tolerance, row.schedule, start, until))
        return found

    return Directory(
        clients, expected,
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
    rows = {}
    for row in select_in(session, select(*columns).where(PaymentOrder.status.in_(SENT)),
                         PaymentOrder.end_to_end_id, sorted(set(end_to_end_ids))):
        rows[row.id] = row
    if bank_account_ids:
        for row in session.execute(
            select(*columns).join(PaymentBatch, PaymentBatch.id == PaymentOrder.batch_id)
            .where(PaymentBatch.bank_account_id.in_(bank_account_ids),
                   PaymentOrder.status.in_(CLEARABLE),
                   PaymentOrder.cleared_on.is_(None))
        ):
            rows[row.id] = row
    return OrderBook(
        (OpenOrder(r.id, r.key, r.client_id, r.end_to_end_id, r.creditor_iban, r.amount_cents,
                   r.execution_on, r.status, r.cleared_on) for r in rows.values()),
        calendar=calendar,
    )


def lock_banks(session: Session, banks: Iterable[CityAccount]) -> None:
    """Serialise imports per account (PostgreSQL; SQLite's writer lock already does)."""
    ids = sorted({bank.id for bank in banks})
    if ids and session.get_bind().dialect.name == "postgresql":
        session.execute(select(BankAccount.id).where(BankAccount.id.in_(ids))
                        .order_by(BankAccount.id).with_for_update())
