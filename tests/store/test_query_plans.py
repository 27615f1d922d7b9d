"""The reads that must not grow with years of history go through their indexes (migration 0020).

Each test runs the service's own read, catches the statement it sends and asks the database
how it would run it, and which index it names. SQLite chooses without looking at the rows; on
PostgreSQL sequential scans are switched off for the question (its tables here are empty).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from helpers.scenario import LANDLORD_IBAN, client, world
from helpers.statements import order
from oversight.test_reports_world import Money
from sqlalchemy import event

from valitystili.oversight.letter_sections import returned
from valitystili.plans.expected import client_credits
from valitystili.store.models import Client, PaymentOrder


@contextmanager
def statements_of(session, table: str):
    """The (statement, parameters) the block sends that read ``table``."""
    caught: list[tuple[str, object]] = []
    connection = session.connection()

    def catch(_conn, _cursor, statement, parameters, _context, _executemany):
        if f"FROM {table}" in statement:
            caught.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", catch)
    try:
        yield caught
    finally:
        event.remove(connection, "before_cursor_execute", catch)


def plan(session, statement: str, parameters) -> str:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(row[3] for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
    return "\n".join(row[0] for row in rows)


def index_used(found: str, index: str) -> bool:
    """Whether the plan reads through ``index`` (SQLite: ``USING [COVERING] INDEX name``;
    PostgreSQL: ``Index [Only] Scan using name``, ``Bitmap Index Scan on name``)."""
    return f"INDEX {index}" in found or f"using {index} " in found or f"on {index}" in found


def test_the_batch_reads_its_credits_by_their_days(session):
    # Not through the lines of no order: that index answered "order_id IS NULL" with every
    # credit of every year.
    for client_ids in (None, range(1, 5001)):
        with statements_of(session, "statement_lines") as caught:
            client_credits(session, date(2026, 9, 1), date(2026, 11, 2), client_ids)
        [(statement, parameters)] = caught
        found = plan(session, statement, parameters)
        assert index_used(found, "ix_statement_lines_client_day"), found
        assert "ix_statement_lines_order" not in found


def test_a_letter_finds_the_lines_of_its_returned_orders_by_the_orders(session):
    # The lines of an order are now a partial index; a lookup by order still goes through it.
    w = world(session)
    number = client(session, w)
    Money(session).credit(number, 52_000, date(2026, 11, 2))
    placed = order(session, w.bank["bank"], number, 52_000, key=f"order:rent:{number}:2026-11",
                   e2e="E2E-1", creditor_iban=LANDLORD_IBAN, execution_on=date(2026, 11, 2),
                   status="returned")
    session.get(PaymentOrder, placed).returned_on = date(2026, 11, 4)
    session.flush()
    with statements_of(session, "statement_lines") as caught:
        returned(session, [session.get(Client, number)], date(2026, 11, 1), date(2026, 11, 30))
    [(statement, parameters)] = caught
    found = plan(session, statement, parameters)
    assert index_used(found, "ix_statement_lines_order"), found

