"""Writing what one file books (``Bookings``), in the caller's transaction (DESIGN §7).

Rules of this module:

- One file, one transaction: :func:`book` writes the statements, the ledger entries (one
  ``ledger.post_many`` call), the lines (one bulk insert), the line and order changes and the
  flags, then one audit entry (action ``import``: counts and the file's sha256).
- The pooled accounts a file posts to are opened on first use (``people.banks``); bank and
  client accounts must exist.
- An order that came back reopens its obligation once (``plans.obligations.reopen_returned``):
  the same return seen again on an overlapping statement changes nothing.
- Flags name the line's archive id as subject and are dated with the import day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

import ledger
from ledger.bulk_sql import COPY_ROWS, copy_rows
from valitystili.flags.raising import raise_flags, resolve_flags
from valitystili.people.banks import open_pooled_accounts
from valitystili.plans.obligations import reopen_returned
from valitystili.statements.bookings import AccountSummary, Bookings, NewLine
from valitystili.store.chunks import chunks
from valitystili.store.models import BankAccount, PaymentOrder, Statement, StatementLine
from valitystili.trust import audit
from valitystili.trust.auth import Actor

LINES = StatementLine.__table__
ORDERS = PaymentOrder.__table__
LINE_COLUMNS = ("bank_account_id", "statement_id", "archive_id", "parent_archive_id", "level",
                "booked_on", "value_on", "amount_cents", "counterparty_name", "counterparty_iban",
                "reference", "message", "end_to_end_id", "bank_code", "return_reason",
                "client_id", "order_id", "match_rule", "state", "ledger_key")
#: Lines per executemany.
INSERT_ROWS = 20_000


def book(session: Session, actor: Actor, bookings: Bookings) -> tuple[AccountSummary, ...]:
    """Write a file's bookings in the caller's transaction; return the summaries with the bank
    balances as they now are."""
    statement_ids = _insert_statements(session, actor, bookings)
    open_pooled_accounts(session, (code for entry in bookings.entries
                                   for code, _amount in entry.legs))
    if bookings.entries:
        ledger.post_many(session, bookings.entries)
    if bookings.lines:
        _insert_lines(session, bookings.lines, statement_ids)
    for change in bookings.line_changes:
        # The line no longer carries an attribution of its own: its items do.
        session.execute(update(LINES).where(LINES.c.id == change.line_id)
                        .values(state=change.state, match_rule=None))
    for change in bookings.order_changes:
        if change.status == "returned":
            order = session.execute(select(ORDERS.c.status, ORDERS.c.obligation_id,
                                           ORDERS.c.amount_cents)
                                    .where(ORDERS.c.id == change.order_id)).one()
            if order.status != "returned" and order.obligation_id is not None:
                reopen_returned(session, order.obligation_id, order.amount_cents)
        session.execute(update(ORDERS).where(ORDERS.c.id == change.order_id)
                        .values(status=change.status, cleared_on=change.cleared_on,
                                returned_on=change.returned_on))
    raise_flags(session, bookings.flags, bookings.today)
    for kind, subject in bookings.resolved_flags:
        resolve_flags(session, kind, bookings.today, subjects=[subject])

    summaries = tuple(
        replace(s, ledger_bank_cents=ledger.balance(
            session, session.execute(select(BankAccount.ledger_code)
                                     .where(BankAccount.iban == s.iban)).scalar_one()))
        for s in bookings.summaries
    )
    audit.record(session, actor.name, "import", subject=bookings.file_name[:200], detail={
        "sha256": bookings.file_sha256,
        "accounts": [{k: v for k, v in s.row().items() if k not in ("file", "warnings")}
                     for s in summaries],
        "flags": len(bookings.flags), "orders": len(bookings.order_changes),
    })
    session.flush()
    return summaries


def _insert_statements(session: Session, actor: Actor, bookings: Bookings) -> dict[int, int]:
    """The new statements stored; the id of each (new or stored before) by its index."""
    statement_ids: dict[int, int] = {}
    for new in bookings.statements:
        if new.existing_id is not None:
            statement_ids[new.index] = new.existing_id
            continue
        statement_ids[new.index] = session.execute(insert(Statement.__table__).values(
            bank_account_id=new.bank_account_id, source=new.source,
            statement_id=new.statement_id[:140], file_name=bookings.file_name[:400],
            file_sha256=bookings.file_sha256, from_on=new.from_on, to_on=new.to_on,
            opening_cents=new.opening_cents, opening_on=new.opening_on,
            closing_cents=new.closing_cents, closing_on=new.closing_on,
            imported_by=actor.name,
        ).returning(Statement.__table__.c.id)).scalar_one()
    return statement_ids


def _insert_lines(session: Session, lines: Sequence[NewLine],
                  statement_ids: dict[int, int]) -> None:
    """Driver-level, as ``ledger.post_many`` writes: at 100 000 lines the per-row parameter
    processing of a Core insert costs more than the insert itself. PostgreSQL takes a big
    file's lines with ``COPY`` (``ledger.bulk_sql.copy_rows``), SQLite an executemany."""
    connection = session.connection()
    day = date.isoformat if connection.dialect.name == "sqlite" else (lambda value: value)

    def rows(part):
        return (
            (l.bank_account_id, statement_ids[l.statement_index], l.archive_id,
             l.parent_archive_id, l.level, day(l.booked_on),
             None if l.value_on is None else day(l.value_on), l.amount_cents,
             l.counterparty_name, l.counterparty_iban, l.reference, l.message, l.end_to_end_id,
             l.bank_code, l.return_reason, l.client_id, l.order_id, l.match_rule, l.state,
             l.ledger_key)
            for l in part
        )

    if connection.dialect.name == "postgresql" and len(lines) >= COPY_ROWS:
        copy_rows(connection, "statement_lines", LINE_COLUMNS, rows(lines))
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO statement_lines ({', '.join(LINE_COLUMNS)}) "
           f"VALUES ({', '.join([mark] * len(LINE_COLUMNS))})")
    for part in chunks(lines, INSERT_ROWS):
        connection.exec_driver_sql(sql, list(rows(part)))
