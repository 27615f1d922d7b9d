"""Bulk inserts (``store.chunks.insert_rows``) store exactly what an ``executemany`` stores; on
PostgreSQL both with ``COPY`` (from ``COPY_ROWS`` rows, set low here) and without."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError

from valitystili.base.identifiers import client_reference, rf_from_finnish
from valitystili.store import chunks
from valitystili.store.models import (
    BankAccount,
    Client,
    Flag,
    PaymentBatch,
    PaymentOrder,
)


def _flags(n: int, prefix: str) -> list[dict]:
    return [{"kind": "income_missing", "subject": f"{prefix}:{i}", "client_id": None,
                 "amount_cents": None if i % 2 else 1000 * i,
                 "first_seen": date(2026, 11, 1 + i % 28), "last_seen": date(2026, 12, 1 + i % 28),
                 "ack_at": datetime(2026, 11, 2, 10, 30, tzinfo=UTC) if i % 3 == 0 else None}
            for i in range(n)]


def _stored(session, prefix: str) -> list[tuple]:
    return [(row.subject.split(":")[1], row.amount_cents, row.detail, row.first_seen,
             row.last_seen, row.resolved_at, row.ack_at)
            for row in session.execute(select(Flag).where(Flag.subject.like(f"{prefix}:%"))
                                       .order_by(Flag.id)).scalars()]


#: ``COPY_ROWS`` for a test: from two rows (PostgreSQL's bulk statements) or the default.
BULK_FROM = pytest.mark.parametrize("copy_rows", [2, chunks.COPY_ROWS], ids=["bulk", "few"])


@BULK_FROM
def test_insert_rows_stores_what_executemany_stores(session, monkeypatch, copy_rows):
    monkeypatch.setattr(chunks, "INSERT_VALUES", 20)     # several statements of a few rows
    monkeypatch.setattr(chunks, "COPY_ROWS", copy_rows)
    with session.begin():
        chunks.insert_rows(session, Flag.__table__, _flags(11, "bulk"))
        session.execute(Flag.__table__.insert(), _flags(11, "many"))
    bulk, many = _stored(session, "bulk"), _stored(session, "many")
    assert len(bulk) == 11
    assert bulk == many
    # The Python-side default of a column left out is stored, dates read back as dates.
    assert bulk[0][:6] == ("0", 0, "", date(2026, 11, 1), date(2026, 12, 1), None)
    assert bulk[0][6].replace(tzinfo=None) == datetime(2026, 11, 2, 10, 30)
    assert bulk[1] == ("1", None, "", date(2026, 11, 2), date(2026, 12, 2), None, None)


def test_insert_rows_of_nothing_writes_nothing(session):
    with session.begin():
        chunks.insert_rows(session, Flag.__table__, [])
    assert session.execute(select(Flag)).first() is None


@BULK_FROM
def test_the_draft_batch_guard_still_refuses_a_bulk_insert(session, monkeypatch, copy_rows):
    """The guard that keeps orders out of an approved batch holds for multi-row inserts and
    for ``COPY``."""
    monkeypatch.setattr(chunks, "INSERT_VALUES", 40)
    monkeypatch.setattr(chunks, "COPY_ROWS", copy_rows)
    with session.begin():
        session.add(BankAccount(iban="FI7433010001222090", name="Kaupunki", bic="ESSEFIHX",
                                ledger_code="bank:FI7433010001222090"))
        session.add(Client(
            id=1, hetu="010594Y123W", name="Maija", payment_name="Maija",
            iban="FI4950009420028730", language="fi", criterion="evictions", worker="sanna",
            start_on=date(2026, 11, 1), reference=client_reference(1),
            rf_reference=rf_from_finnish(client_reference(1)), ledger_code="client:1",
            exclusions={}, status="open", final_payout=False))
        session.flush()
        session.add(PaymentBatch(id=1, key="b1", run_on=date(2026, 11, 2),
                                 execution_on=date(2026, 11, 2), bank_account_id=1,
                                 status="approved", created_by="hannu"))
    orders = [{"key": f"order:other:{i}", "end_to_end_id": f"E2E{i}", "batch_id": 1, "client_id": 1,
                   "kind": "instalment", "creditor_name": "x", "creditor_iban": "FI2112345600000785",
                   "amount_cents": 100, "execution_on": date(2026, 11, 2)} for i in range(3)]
    with pytest.raises(DatabaseError, match="draft batch"), session.begin():
        chunks.insert_rows(session, PaymentOrder.__table__, orders)
    assert session.execute(select(PaymentOrder)).first() is None

