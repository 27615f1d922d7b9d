"""Bulk writes (``store.chunks.insert_rows``, ``update_rows``) store exactly what an
``executemany`` stores; on PostgreSQL both with ``COPY`` / ``UPDATE … FROM unnest`` (from
``COPY_ROWS`` rows, set low here) and without."""

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


@BULK_FROM
def test_update_rows_sets_the_given_columns_of_the_rows_with_the_given_keys(session, monkeypatch,
                                                                           copy_rows):
    monkeypatch.setattr(chunks, "COPY_ROWS", copy_rows)
    with session.begin():
        chunks.insert_rows(session, Flag.__table__, _flags(6, "row"))
        ids = session.execute(select(Flag.id).order_by(Flag.id)).scalars().all()
        chunks.update_rows(session, Flag.__table__, "id", [
            {"id": ids[at], "amount_cents": cents, "last_seen": date(2027, 1, at + 1)}
            for at, cents in ((1, 700), (2, None), (4, 900))])
    assert [(subject, cents, last_seen) for subject, cents, _detail, _first, last_seen, *_rest
            in _stored(session, "row")] == [
        ("0", 0, date(2026, 12, 1)), ("1", 700, date(2027, 1, 2)), ("2", None, date(2027, 1, 3)),
        ("3", None, date(2026, 12, 4)), ("4", 900, date(2027, 1, 5)), ("5", None, date(2026, 12, 6))]


def test_update_rows_in_bulk_refuses_a_key_that_is_not_there(session, monkeypatch, backend):
    """PostgreSQL's one statement for many rows checks that it updated every row given."""
    if backend.name != "postgresql":
        pytest.skip("the bulk update is PostgreSQL's")
    monkeypatch.setattr(chunks, "COPY_ROWS", 2)
    with session.begin():
        chunks.insert_rows(session, Flag.__table__, _flags(2, "row"))
        ids = session.execute(select(Flag.id).order_by(Flag.id)).scalars().all()
    with pytest.raises(RuntimeError, match="^3 rows of flags to update, 2 updated$"), \
            session.begin():
        chunks.update_rows(session, Flag.__table__, "id", [
            {"id": flag_id, "amount_cents": 1} for flag_id in (*ids, max(ids) + 1)])
    assert [cents for _subject, cents, *_rest in _stored(session, "row")] == [0, None]
