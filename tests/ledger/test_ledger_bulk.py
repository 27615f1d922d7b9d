"""The bulk path at a load's size: many rows per INSERT statement (and a remainder), the
running balances, a refusal in the middle, keys already stored; ``open_accounts``."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

import ledger
from ledger import Entry
from ledger.bulk_sql import ROWS_PER_INSERT

BANK = "bank:FI2112345600000785"
D1 = date(2025, 1, 1)
D2 = date(2025, 1, 5)


@pytest.fixture
def books(session):
    ids = ledger.open_accounts(session, [(BANK, "asset", False)] + [
        (f"client:C{n}", "liability", True) for n in range(1, 4)])
    session.commit()
    assert sorted(ids) == [BANK, "client:C1", "client:C2", "client:C3"]
    return session


def receipts_and_rents(n: int, first: int = 0) -> list[Entry]:
    """n clients' months: 1000.00 in on D1, 400.00 rent out on D2 (a rent goes to the bank)."""
    entries = []
    for i in range(first, first + n):
        client = f"client:C{i % 3 + 1}"
        entries.append(Entry(f"in:{i}", ((BANK, 100_000), (client, -100_000)), D1,
                             description=f"benefit {i}"))
        entries.append(Entry(f"rent:{i}", ((client, 40_000), (BANK, -40_000)), D2))
    return entries


def counts(session) -> tuple[int, int]:
    return (session.execute(text("SELECT count(*) FROM ledger_transactions")).scalar_one(),
            session.execute(text("SELECT count(*) FROM ledger_postings")).scalar_one())


def test_a_load_of_many_insert_statements_posts_every_entry_in_order(books):
    entries = receipts_and_rents(501)               # 1,002 transactions: 5 full statements + 2
    assert len(entries) // ROWS_PER_INSERT == 5
    result = ledger.post_many(books, entries)
    books.commit()
    assert (result.created, result.existing) == (1002, 0)
    assert counts(books) == (1002, 2004)
    assert ledger.balance(books, BANK) == 501 * 60_000
    assert [ledger.balance(books, f"client:C{n}") for n in (1, 2, 3)] == [
        167 * 60_000, 167 * 60_000, 167 * 60_000]
    stored = ledger.find_transactions(books, ["in:0", "rent:500"])
    assert stored["in:0"].id == result.transaction_ids["in:0"]
    assert stored["rent:500"].legs == ((BANK, -40_000), ("client:C3", 40_000))
    assert stored["rent:500"].booked_on == D2
    assert ledger.transaction_legs(books, "in:250") == [(BANK, 100_000), ("client:C2", -100_000)]
    assert ledger.verify(books) == []


def test_an_overdraft_deep_in_a_load_refuses_all_of_it(books):
    ledger.post_many(books, receipts_and_rents(3))          # each client holds 600.00
    books.commit()
    entries = receipts_and_rents(400, first=3)
    # the 701st entry pays 71,000.00 from client C1, who has 600.00 + 117 * 600.00 by then
    entries.insert(700, Entry("big", (("client:C1", 71_000_00), (BANK, -71_000_00)), D2))
    with pytest.raises(ledger.InsufficientFunds) as refused:
        ledger.post_many(books, entries)
    assert (refused.value.account, refused.value.balance_cents,
            refused.value.change_cents) == ("client:C1", 118 * 60_000, -71_000_00)
    books.rollback()
    assert counts(books) == (6, 12)
    assert [ledger.balance(books, f"client:C{n}") for n in (1, 2, 3)] == [60_000] * 3
    assert ledger.balance(books, BANK) == 180_000
    assert ledger.verify(books) == []


def test_a_load_repeated_in_part_posts_only_the_new_keys(books):
    first = receipts_and_rents(150)
    ledger.post_many(books, first)
    books.commit()
    result = ledger.post_many(books, first + receipts_and_rents(150, first=150))
    books.commit()
    assert (result.created, result.existing) == (300, 300)
    assert counts(books) == (600, 1200)
    assert ledger.balance(books, "client:C1") == 100 * 60_000
    assert ledger.verify(books) == []


def test_a_stored_key_with_other_content_refuses_the_whole_load(books):
    ledger.post_many(books, receipts_and_rents(2))
    books.commit()
    entries = receipts_and_rents(300, first=2)
    entries.insert(450, Entry("in:1", ((BANK, 100_001), ("client:C2", -100_001)), D1))
    with pytest.raises(ledger.KeyConflict, match="in:1 was already posted with different content"):
        ledger.post_many(books, entries)
    books.rollback()
    assert counts(books) == (4, 8)
    assert ledger.balance(books, "client:C2") == 60_000


def test_a_key_twice_in_one_load_with_other_content_is_refused(books):
    entries = receipts_and_rents(300)
    entries.append(Entry("rent:7", (("client:C2", 100), (BANK, -100)), D2))
    with pytest.raises(ledger.KeyConflict, match="rent:7 appears twice with different content"):
        ledger.post_many(books, entries)
    books.rollback()
    assert counts(books) == (0, 0)


def test_an_unbalanced_entry_deep_in_a_load_is_refused_before_anything_is_written(books):
    entries = receipts_and_rents(300)
    entries[555] = Entry("odd", ((BANK, 100), ("client:C1", -99)), D1)
    with pytest.raises(ledger.Unbalanced, match="transaction odd: postings sum to 1 cents"):
        ledger.post_many(books, entries)
    books.rollback()
    assert counts(books) == (0, 0)


def test_open_accounts_keeps_identical_accounts_and_refuses_other_settings(books):
    before = ledger.open_accounts(books, [("client:C1", "liability", True)])
    again = ledger.open_accounts(books, [("client:C1", "liability", True),
                                         ("client:C4", "liability", True)])
    books.commit()
    assert again["client:C1"] == before["client:C1"]
    assert again["client:C4"] == ledger.open_account(books, "client:C4", "liability",
                                                     no_negative=True)
    with pytest.raises(ledger.KeyConflict, match="account client:C1 exists with other settings"):
        ledger.open_accounts(books, [("client:C5", "liability", True),
                                     ("client:C1", "liability", False)])
    books.rollback()
    assert not ledger.account_exists(books, "client:C5")
    with pytest.raises(ledger.Unbalanced, match="unknown account kind 'cash'"):
        ledger.open_accounts(books, [("till", "cash", False)])


def test_a_big_load_on_sqlite_gets_a_bigger_page_cache_only_while_it_inserts(books, monkeypatch):
    import ledger.bulk_sql

    monkeypatch.setattr(ledger.bulk_sql, "BIG_LOAD_POSTINGS", 4)
    connection = books.connection()
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one() \
        if connection.dialect.name == "sqlite" else None
    result = ledger.post_many(books, receipts_and_rents(3))
    assert result.created == 6
    if before is not None:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == before
    books.commit()
    assert [ledger.balance(books, f"client:C{n}") for n in (1, 2, 3)] == [60_000] * 3
    assert ledger.verify(books) == []
