"""The ledger core, scenario by scenario, on both backends."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

import ledger
from ledger import Entry

D1 = date(2026, 11, 2)
D2 = date(2026, 11, 9)


@pytest.fixture
def books(session):
    ledger.open_account(session, "bank:FI7433010001222090", "asset")
    ledger.open_account(session, "client:1001", "liability", no_negative=True)
    ledger.open_account(session, "client:1002", "liability", no_negative=True)
    ledger.open_account(session, "outgoing", "liability")
    ledger.open_account(session, "suspense", "liability")
    session.commit()
    return session


def receive(session, key, client, cents, on=D1):
    return ledger.post(session, key, [("bank:FI7433010001222090", cents), (client, -cents)], on)


def test_money_in_and_out_keeps_bank_equal_to_clients_plus_outgoing(books):
    receive(books, "arch:1", "client:1001", 94000)
    ledger.post(books, "order:rent:1001:2026-11", [("client:1001", 52000), ("outgoing", -52000)], D1)
    books.commit()
    assert ledger.balance(books, "bank:FI7433010001222090") == 94000
    assert ledger.balance(books, "client:1001") == 42000
    assert ledger.balance(books, "outgoing") == 52000
    assert ledger.verify(books) == []


def test_same_key_same_content_posts_once_and_says_so(books):
    first = receive(books, "arch:1", "client:1001", 94000)
    again = receive(books, "arch:1", "client:1001", 94000)
    books.commit()
    assert (first.created, again.created) == (True, False)
    assert again.transaction_id == first.transaction_id
    assert ledger.balance(books, "client:1001") == 94000


def test_same_key_different_content_is_a_conflict(books):
    receive(books, "arch:1", "client:1001", 94000)
    with pytest.raises(ledger.KeyConflict, match="arch:1 was already posted with different content"):
        receive(books, "arch:1", "client:1001", 94001)
    with pytest.raises(ledger.KeyConflict):
        receive(books, "arch:1", "client:1002", 94000)
    with pytest.raises(ledger.KeyConflict):
        receive(books, "arch:1", "client:1001", 94000, on=D2)


def test_description_is_not_content(books):
    receive(books, "arch:1", "client:1001", 500)
    again = ledger.post(books, "arch:1", [("bank:FI7433010001222090", 500), ("client:1001", -500)],
                        D1, description="other words")
    assert again.created is False


def test_overdraft_of_a_no_negative_account_is_refused_and_nothing_changes(books):
    receive(books, "arch:1", "client:1001", 10000)
    books.commit()
    with pytest.raises(ledger.InsufficientFunds, match="client:1001 has 100.00 EUR"):
        ledger.post(books, "order:x", [("client:1001", 10001), ("outgoing", -10001)], D1)
    books.rollback()
    assert ledger.balance(books, "client:1001") == 10000
    assert ledger.balance(books, "outgoing") == 0
    # exactly to zero is allowed
    ledger.post(books, "order:y", [("client:1001", 10000), ("outgoing", -10000)], D1)
    assert ledger.balance(books, "client:1001") == 0


def test_accounts_without_the_flag_may_go_negative(books):
    ledger.post(books, "adj:1", [("suspense", 700), ("outgoing", -700)], D1)
    assert ledger.balance(books, "suspense") == -700


@pytest.mark.parametrize(
    "legs, message",
    [
        ([("client:1001", 100)], "at least two postings"),
        ([("bank:FI7433010001222090", 100), ("client:1001", -99)], "sum to 1 cents"),
        ([("bank:FI7433010001222090", 0), ("client:1001", 0)], "a posting of zero"),
        ([("bank:FI7433010001222090", 1.5), ("client:1001", -1.5)], "not integer cents"),
    ],
)
def test_malformed_transactions_are_refused(books, legs, message):
    with pytest.raises(ledger.Unbalanced, match=message):
        ledger.post(books, "bad", legs, D1)


def test_unknown_account_is_refused(books):
    with pytest.raises(ledger.UnknownAccount, match="unknown account client:9999"):
        receive(books, "arch:1", "client:9999", 100)


def test_reversal_restores_balances_and_happens_at_most_once(books):
    receive(books, "arch:1", "client:1001", 94000)
    reversal = ledger.reverse(books, "rev:arch:1", "arch:1", D2)
    books.commit()
    assert reversal.created is True
    assert ledger.balance(books, "client:1001") == 0
    assert ledger.is_reversed(books, "arch:1") is True
    assert ledger.transaction_legs(books, "rev:arch:1") == [
        ("bank:FI7433010001222090", -94000), ("client:1001", 94000)]
    # the same reversal again is idempotent; a second, different reversal is refused
    assert ledger.reverse(books, "rev:arch:1", "arch:1", D2).created is False
    with pytest.raises(ledger.AlreadyReversed, match="already reversed by rev:arch:1"):
        ledger.reverse(books, "rev2:arch:1", "arch:1", D2)


def test_reversal_that_would_overdraw_is_refused(books):
    receive(books, "arch:1", "client:1001", 5000)
    ledger.post(books, "order:1", [("client:1001", 3000), ("outgoing", -3000)], D1)
    with pytest.raises(ledger.InsufficientFunds):
        ledger.reverse(books, "rev:arch:1", "arch:1", D2)


def test_balances_as_of_a_past_date(books):
    receive(books, "arch:1", "client:1001", 94000, on=D1)
    ledger.post(books, "order:1", [("client:1001", 7500), ("outgoing", -7500)], D2)
    books.commit()
    assert ledger.balance(books, "client:1001", as_of=date(2026, 11, 1)) == 0
    assert ledger.balance(books, "client:1001", as_of=D1) == 94000
    assert ledger.balance(books, "client:1001", as_of=D2) == 86500
    past = {b.code: b.balance_cents for b in ledger.balances(books, as_of=D1)}
    assert past == {"bank:FI7433010001222090": 94000, "client:1001": 94000, "client:1002": 0,
                    "outgoing": 0, "suspense": 0}
    today = {b.code: b.balance_cents for b in ledger.balances(books, prefix="client:")}
    assert today == {"client:1001": 86500, "client:1002": 0}


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_postings SET amount_cents = amount_cents + 1",
    "DELETE FROM ledger_postings",
    "UPDATE ledger_transactions SET booked_on = booked_on",
    "DELETE FROM ledger_transactions",
])
def test_postings_and_transactions_cannot_be_changed_in_the_database(books, statement):
    receive(books, "arch:1", "client:1001", 100)
    books.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        books.execute(text(statement))
    books.rollback()
    assert ledger.balance(books, "client:1001") == 100


def test_verify_finds_a_tampered_stored_balance(books):
    receive(books, "arch:1", "client:1001", 100)
    books.execute(text("UPDATE ledger_accounts SET balance_cents = 99 WHERE code = 'client:1001'"))
    findings = ledger.verify(books)
    assert [(f.check, f.subject) for f in findings] == [("stored_balance", "client:1001")]
    assert findings[0].detail == "stored 99 cents, postings give 100"


def test_bulk_load_posts_in_order_and_is_idempotent(books):
    entries = [
        Entry("arch:1", (("bank:FI7433010001222090", 94000), ("client:1001", -94000)), D1),
        Entry("order:1", (("client:1001", 52000), ("outgoing", -52000)), D1),
        Entry("arch:2", (("bank:FI7433010001222090", 100), ("client:1002", -100)), D2),
        Entry("rev:arch:2", (("bank:FI7433010001222090", -100), ("client:1002", 100)), D2,
              reverses_key="arch:2"),
    ]
    result = ledger.post_many(books, entries)
    books.commit()
    assert (result.created, result.existing) == (4, 0)
    assert ledger.balance(books, "client:1001") == 42000
    assert ledger.balance(books, "client:1002") == 0
    assert ledger.is_reversed(books, "arch:2")
    again = ledger.post_many(books, entries)
    assert (again.created, again.existing) == (0, 4)
    assert ledger.verify(books) == []
    # the bulk path and post() share one key space
    assert receive(books, "arch:1", "client:1001", 94000).created is False


def test_bulk_load_refuses_an_overdraft_in_the_middle_and_writes_nothing(books):
    entries = [
        Entry("order:1", (("client:1001", 100), ("outgoing", -100)), D1),   # before the money
        Entry("arch:1", (("bank:FI7433010001222090", 500), ("client:1001", -500)), D1),
    ]
    with pytest.raises(ledger.InsufficientFunds):
        ledger.post_many(books, entries)
    books.rollback()
    assert ledger.balance(books, "client:1001") == 0
    assert books.execute(text("SELECT count(*) FROM ledger_transactions")).scalar_one() == 0


def test_bulk_load_refuses_a_key_repeated_with_other_content(books):
    entries = [
        Entry("arch:1", (("bank:FI7433010001222090", 500), ("client:1001", -500)), D1),
        Entry("arch:1", (("bank:FI7433010001222090", 600), ("client:1001", -600)), D1),
    ]
    with pytest.raises(ledger.KeyConflict, match="arch:1 appears twice"):
        ledger.post_many(books, entries)


def test_bulk_load_then_single_posts_continue_the_id_sequence(books):
    ledger.post_many(books, [
        Entry(f"arch:{i}", (("bank:FI7433010001222090", 100), ("client:1001", -100)), D1)
        for i in range(5)
    ])
    books.commit()
    posted = receive(books, "arch:after", "client:1001", 100)
    books.commit()
    assert posted.created
    assert ledger.balance(books, "client:1001") == 600
    assert ledger.verify(books) == []
