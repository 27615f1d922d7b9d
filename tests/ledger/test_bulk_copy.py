"""PostgreSQL takes a big load with ``COPY`` (``ledger.bulk_sql.copy_flat``) and adds its balance
changes in one statement (``add_to_balances``): the same rows, balances, refusals and "already
posted" as the executemany. ``COPY_ROWS`` and ``ARRAY_UPDATE_ACCOUNTS`` are lowered here so that
a small load takes those paths; on SQLite the same tests run the multi-row inserts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

import ledger
from ledger import Entry

BANK = "bank:FI2112345600000785"
D1 = date(2025, 1, 1)
D2 = date(2025, 1, 5)
AWKWARD = "tab\there, new\nline, back\\slash, quote ' and \" , nul-free ä€"


@pytest.fixture
def books(session, monkeypatch):
    import ledger.bulk_sql

    monkeypatch.setattr(ledger.bulk_sql, "COPY_ROWS", 2)
    monkeypatch.setattr(ledger.bulk_sql, "ARRAY_UPDATE_ACCOUNTS", 2)
    ledger.open_accounts(session, [(BANK, "asset", False)] + [
        (f"client:C{n}", "liability", True) for n in range(1, 4)])
    session.commit()
    return session


def months(n: int, first: int = 0) -> list[Entry]:
    entries = []
    for i in range(first, first + n):
        client = f"client:C{i % 3 + 1}"
        entries.append(Entry(f"in:{i}", ((BANK, 100_000), (client, -100_000)), D1,
                             description=AWKWARD if i == 1 else f"benefit {i}", actor="fiona"))
        entries.append(Entry(f"rent:{i}", ((client, 40_000), (BANK, -40_000)), D2,
                             value_on=D1 if i == 2 else None))
    return entries


def test_a_copied_load_stores_every_row_as_given(books):
    result = ledger.post_many(books, months(6))
    books.commit()
    assert (result.created, result.existing) == (12, 0)
    assert [ledger.balance(books, f"client:C{n}") for n in (1, 2, 3)] == [120_000] * 3
    assert ledger.balance(books, BANK) == 360_000
    rows = books.execute(text(
        "SELECT key, booked_on, value_on, description, actor FROM ledger_transactions "
        "WHERE key IN ('in:1', 'rent:2', 'rent:3') ORDER BY key")).all()
    assert [(r.key, str(r.booked_on), str(r.value_on), r.description, r.actor) for r in rows] == [
        ("in:1", "2025-01-01", "2025-01-01", AWKWARD, "fiona"),
        ("rent:2", "2025-01-05", "2025-01-01", "", ""),
        ("rent:3", "2025-01-05", "2025-01-05", "", ""),
    ]
    assert books.execute(text("SELECT count(*) FROM ledger_postings")).scalar_one() == 24
    assert ledger.verify(books) == []


def test_a_copied_load_repeated_in_part_posts_only_the_new_keys(books):
    ledger.post_many(books, months(3))
    books.commit()
    result = ledger.post_many(books, months(5))       # 0-2 stored, 3-4 new
    books.commit()
    assert (result.created, result.existing) == (4, 6)
    assert [ledger.balance(books, f"client:C{n}") for n in (1, 2, 3)] == [
        120_000, 120_000, 60_000]
    assert books.execute(text("SELECT count(*) FROM ledger_transactions")).scalar_one() == 10
    assert ledger.verify(books) == []


def test_a_copied_load_with_an_overdraft_writes_nothing(books):
    entries = months(4) + [Entry("over", (("client:C1", 500_000), (BANK, -500_000)), D2)]
    with pytest.raises(ledger.InsufficientFunds):
        ledger.post_many(books, entries)
    books.rollback()
    assert books.execute(text("SELECT count(*) FROM ledger_transactions")).scalar_one() == 0
    assert ledger.balance(books, BANK) == 0


def test_two_copied_loads_in_one_transaction(books):
    ledger.post_many(books, months(2))
    ledger.post_many(books, months(2, first=2))
    books.commit()
    assert books.execute(text("SELECT count(*) FROM ledger_postings")).scalar_one() == 16
    assert [ledger.balance(books, f"client:C{n}") for n in (1, 2, 3)] == [
        120_000, 60_000, 60_000]


def test_a_key_stored_twice_in_a_copied_insert_is_refused_by_the_database(books):
    from sqlalchemy.exc import IntegrityError

    from ledger.bulk_sql import TX_COLUMNS, insert_flat

    row = (9_001, "dup", D1, D1, "", "", None)
    with pytest.raises(IntegrityError):
        insert_flat(books, "ledger_transactions", TX_COLUMNS, [*row, 9_002, *row[1:]])
    books.rollback()
    assert books.execute(text("SELECT count(*) FROM ledger_transactions")).scalar_one() == 0
