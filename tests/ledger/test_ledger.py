"""The ledger core, scenario by scenario, on both backends."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import literal, select, text
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


def test_an_accounts_postings_in_a_date_range_and_its_balance_day_by_day(books):
    D3 = date(2026, 11, 16)
    receive(books, "arch:1", "client:1001", 94000, on=D1)
    receive(books, "arch:2", "client:1001", 1000, on=D1)
    ledger.post(books, "order:1", [("client:1001", 52000), ("outgoing", -52000)], D2)
    ledger.reverse(books, "rev:arch:2", "arch:2", D3)
    books.commit()
    assert [(p.key, p.booked_on, p.amount_cents, p.reversal)
            for p in ledger.account_postings(books, "client:1001", D1, D2)] == [
        ("arch:1", D1, -94000, False), ("arch:2", D1, -1000, False), ("order:1", D2, 52000, False)]
    assert [(p.key, p.amount_cents, p.reversal)
            for p in ledger.account_postings(books, "client:1001", start=D2)] == [
        ("order:1", 52000, False), ("rev:arch:2", 1000, True)]
    # Natural sign: the client's liability grows with credits, the bank's asset with debits.
    assert [(d.on, d.balance_cents) for d in ledger.balances_by_day(books, "client:1001")] == [
        (D1, 95000), (D2, 43000), (D3, 42000)]
    assert [(d.on, d.balance_cents)
            for d in ledger.balances_by_day(books, "bank:FI7433010001222090", end=D2)] == [
        (D1, 95000)]
    assert ledger.account_postings(books, "client:9999") == []
    assert ledger.balances_by_day(books, "client:9999") == []


def test_balances_and_postings_of_many_accounts_at_once(books):
    receive(books, "arch:1", "client:1001", 94000, on=D1)
    receive(books, "arch:2", "client:1002", 1000, on=D2)
    ledger.post(books, "order:1", [("client:1001", 52000), ("outgoing", -52000)], D2)
    books.commit()
    codes = ["client:1001", "client:1002", "client:9999"]
    assert ledger.balances_of(books, codes, D1) == {"client:1001": 94000, "client:1002": 0}
    assert ledger.balances_of(books, codes, D2) == {"client:1001": 42000, "client:1002": 1000}
    found = ledger.postings_of(books, codes, D1, D2)
    assert {code: [(p.key, p.booked_on, p.amount_cents) for p in postings]
            for code, postings in found.items()} == {
        "client:1001": [("arch:1", D1, -94000), ("order:1", D2, 52000)],
        "client:1002": [("arch:2", D2, -1000)]}
    assert ledger.postings_of(books, codes, start=D2)["client:1001"] == [
        ledger.account_postings(books, "client:1001", start=D2)[0]]


def test_transactions_found_by_key_with_their_legs_and_whether_reversed(books):
    receive(books, "arch:1", "client:1001", 94000)
    ledger.post(books, "order:1", [("client:1001", 30000), ("client:1001", 22000),
                                   ("outgoing", -52000)], D2)
    ledger.reverse(books, "rev:order:1", "order:1", D2)
    books.commit()
    found = ledger.find_transactions(books, ["order:1", "arch:1", "order:2", "order:1"])
    assert sorted(found) == ["arch:1", "order:1"]
    assert (found["order:1"].booked_on, found["order:1"].legs, found["order:1"].reversed) == (
        D2, (("client:1001", 52000), ("outgoing", -52000)), True)
    assert (found["arch:1"].legs, found["arch:1"].reversed) == (
        (("bank:FI7433010001222090", 94000), ("client:1001", -94000)), False)
    assert [key for _, key in ledger.transaction_keys(books)] == ["arch:1", "order:1", "rev:order:1"]
    first = found["arch:1"].id
    assert [key for _, key in ledger.transaction_keys(books, after_id=first)] == [
        "order:1", "rev:order:1"]
    assert (ledger.count_transactions(books), ledger.count_transactions(books, first)) == (3, 1)


def test_key_exists_is_a_condition_for_the_callers_own_rows(books):
    receive(books, "arch:1", "client:1001", 100)
    books.commit()
    wanted = select(literal("arch:1").label("key")).union_all(select(literal("arch:2"))).subquery()
    assert books.execute(select(wanted.c.key).where(~ledger.key_exists(wanted.c.key))
                         ).scalars().all() == ["arch:2"]


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
