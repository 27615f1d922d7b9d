"""Money out on the statement: orders cleared, payments returned, debits nobody ordered.

The daily batch is not used here: ``order`` puts an exported order in place the way approval
leaves it (client debited, ``outgoing`` credited, key = the order's key).
"""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import LANDLORD_IBAN, client, world
from sqlalchemy import select
from helpers.statements import (
    Tx,
    camt053,
    camt054,
    ntry,
    order,
    reference_of,
    write,
)

import ledger
from valitystili.statements import service
from valitystili.statements.clearing import (
    AMOUNT,
    END_TO_END,
    Debit,
    OpenOrder,
    OrderBook,
)
from valitystili.store.models import Flag, PaymentOrder, StatementLine

TODAY = date(2026, 11, 23)
RENT = 52_000

# --- the order book, without a database -------------------------------------------------------


def open_order(id_, e2e, amount=RENT, iban=LANDLORD_IBAN, on=date(2026, 11, 2), status="exported"):
    return OpenOrder(id_, f"order:{id_}", 7, e2e, iban, amount, on, status)


def test_end_to_end_id_clears_once_and_only_with_the_same_amount():
    book = OrderBook([open_order(1, "E2E-1")])
    wrong = book.clear(Debit(-RENT + 1, date(2026, 11, 2), "E2E-1"))
    assert (wrong.order, wrong.reason) == (None, "end-to-end id of order order:1, but the order "
                                                 "is 520,00\xa0€")
    cleared = book.clear(Debit(-RENT, date(2026, 11, 2), "E2E-1"))
    assert (cleared.order.id, cleared.rule) == (1, END_TO_END)
    again = book.clear(Debit(-RENT, date(2026, 11, 2), "E2E-1"))
    assert (again.order, again.reason) == (None, "order order:1 is already cleared")


def test_amount_creditor_and_three_banking_days():
    book = OrderBook([open_order(1, "E2E-1", on=date(2026, 11, 2)),
                      open_order(2, "E2E-2", on=date(2026, 11, 9))])
    # Thursday 5.11. is the third banking day after Monday 2.11.; Friday 6.11. the fourth.
    assert book.clear(Debit(-RENT, date(2026, 11, 6), None, LANDLORD_IBAN)).order.id == 2
    cleared = book.clear(Debit(-RENT, date(2026, 11, 5), None, LANDLORD_IBAN))
    assert (cleared.order.id, cleared.rule) == (1, AMOUNT)
    assert book.clear(Debit(-RENT, date(2026, 11, 5), None, LANDLORD_IBAN)).order is None
    assert book.clear(Debit(-RENT, date(2026, 11, 2))).reason == (
        "no end-to-end id or creditor account to match an order")


def test_returns_name_our_order_once():
    book = OrderBook([open_order(1, "E2E-1", status="cleared")])
    assert book.returned("E2E-1")[0].id == 1
    assert book.returned("E2E-1") == (None, "order order:1 has already been returned")
    assert book.returned("NOT-OURS") == (None, "a return of NOT-OURS, which is none of our orders")


# --- through an import ---------------------------------------------------------------------------


@pytest.fixture
def setup(session, tmp_path):
    """Maija with 1 000,00 € from a reference payment, and her rent order exported."""
    w = world(session)
    maija = client(session, w)
    session.commit()
    reference, _ = reference_of(session, maija)
    path = write(tmp_path, "in.xml", camt053(
        ntry("1000.00", "IN1", Tx(reference=reference), booked="2026-10-30"),
        statement_id="S0", on="2026-10-30"))
    service.import_file(session, w.fiona, path, today=TODAY)
    order_id = order(session, w.bank["bank"], maija, RENT,
                     key=f"order:rent:{maija}:2026-11", e2e="VT-RENT-1",
                     creditor_iban=LANDLORD_IBAN, execution_on=date(2026, 11, 2))
    session.commit()
    assert ledger.balance(session, f"client:{maija}") == 100_000 - RENT
    assert ledger.balance(session, "outgoing") == RENT
    return w, maija, order_id


def statement(session, w, tmp_path, *entries, name, statement_id):
    path = write(tmp_path, name, camt053(*entries, statement_id=statement_id, opening_cents=None))
    result = service.import_file(session, w.fiona, path, today=TODAY)
    session.commit()
    return result.summaries[0]


def test_order_cleared_by_end_to_end_id(session, tmp_path, setup):
    w, maija, order_id = setup
    summary = statement(session, w, tmp_path,
                        ntry("520.00", "OUT1", Tx(e2e="VT-RENT-1", payer="Vaasan Asunnot Oy",
                                                  iban=LANDLORD_IBAN), debit=True),
                        name="out.xml", statement_id="S1")
    assert (summary.cleared, summary.in_suspense) == (1, 0)
    assert ledger.balance(session, "outgoing") == 0
    assert ledger.balance(session, "bank:FI7433010001222090") == 100_000 - RENT
    placed = session.get(PaymentOrder, order_id)
    assert (placed.status, placed.cleared_on) == ("cleared", date(2026, 11, 2))
    line = session.execute(select(StatementLine).where(StatementLine.archive_id == "OUT1")
                           ).scalar_one()
    assert (line.state, line.match_rule, line.order_id, line.client_id) == (
        "outgoing", "end_to_end", order_id, maija)
    assert ledger.transaction_legs(session, "bank:FI7433010001222090:OUT1") == [
        ("bank:FI7433010001222090", -RENT), ("outgoing", RENT)]


def test_order_cleared_by_amount_and_creditor(session, tmp_path, setup):
    w, maija, order_id = setup
    statement(session, w, tmp_path,
              ntry("520.00", "OUT1", Tx(payer="Vaasan Asunnot Oy", iban=LANDLORD_IBAN),
                   debit=True, booked="2026-11-04"),
              name="out.xml", statement_id="S1")
    assert session.get(PaymentOrder, order_id).status == "cleared"
    assert ledger.balance(session, "outgoing") == 0


def test_returned_payment_goes_back_to_the_client(session, tmp_path, setup):
    w, maija, order_id = setup
    statement(session, w, tmp_path,
              ntry("520.00", "OUT1", Tx(e2e="VT-RENT-1", iban=LANDLORD_IBAN), debit=True),
              name="out.xml", statement_id="S1")
    summary = statement(session, w, tmp_path,
                        ntry("520.00", "RET1", Tx(e2e="VT-RENT-1", return_reason="AC04",
                                                  payer="Vaasan Asunnot Oy"),
                             booked="2026-11-04"),
                        name="ret.xml", statement_id="S2")
    assert (summary.returned, summary.in_suspense) == (1, 0)
    assert ledger.balance(session, f"client:{maija}") == 100_000
    assert ledger.balance(session, "outgoing") == 0
    assert ledger.balance(session, "bank:FI7433010001222090") == 100_000
    placed = session.get(PaymentOrder, order_id)
    assert (placed.status, placed.cleared_on, placed.returned_on) == (
        "returned", date(2026, 11, 2), date(2026, 11, 4))
    [flag] = session.execute(select(Flag).where(Flag.kind == "payment_returned")).scalars()
    assert (flag.subject, flag.client_id, flag.amount_cents) == ("RET1", maija, RENT)
    assert flag.detail == (f"payment order:rent:{maija}:2026-11 of 520,00\xa0€ came back (AC04); "
                           f"520,00\xa0€ returned to client {maija}")


def test_return_seen_before_the_debit(session, tmp_path, setup):
    """A reversal on the same statement before the debit: both find the order."""
    w, maija, order_id = setup
    statement(session, w, tmp_path,
              ntry("520.00", "RET1", Tx(e2e="VT-RENT-1"), reversal=True),
              ntry("520.00", "OUT1", Tx(e2e="VT-RENT-1"), debit=True),
              name="both.xml", statement_id="S1")
    placed = session.get(PaymentOrder, order_id)
    assert (placed.status, placed.cleared_on, placed.returned_on) == (
        "returned", date(2026, 11, 2), date(2026, 11, 2))
    assert ledger.balance(session, f"client:{maija}") == 100_000
    assert ledger.balance(session, "outgoing") == 0


def test_unmatched_debit_goes_to_suspense_with_a_flag(session, tmp_path, setup):
    w, maija, order_id = setup
    summary = statement(session, w, tmp_path,
                        ntry("99.00", "FEE1", Tx(payer="Pankki", message="palvelumaksu"),
                             debit=True),
                        ntry("500.00", "OUT2", Tx(e2e="VT-RENT-1"), debit=True),
                        name="fee.xml", statement_id="S1")
    assert (summary.cleared, summary.in_suspense) == (0, 2)
    assert ledger.balance(session, "suspense") == -9_900 - 50_000
    assert ledger.balance(session, "outgoing") == RENT
    assert session.get(PaymentOrder, order_id).status == "exported"
    flags = {f.subject: f.detail for f in session.execute(
        select(Flag).where(Flag.kind == "unmatched_debit")).scalars()}
    assert flags == {
        "FEE1": "99,00\xa0€ out on 2026-11-02 to Pankki: no end-to-end id or creditor account "
                "to match an order",
        "OUT2": f"500,00\xa0€ out on 2026-11-02: end-to-end id of order "
                f"order:rent:{maija}:2026-11, but the order is 520,00\xa0€",
    }


def test_debits_notified_before_the_statement(session, tmp_path, setup):
    """camt.054 clears at once through incoming; the statement later only moves the bank."""
    w, maija, order_id = setup
    notified = write(tmp_path, "n.xml", camt054(
        ntry("520.00", "OUT1", Tx(e2e="VT-RENT-1", amount="520.00"), debit=True)))
    service.import_file(session, w.fiona, notified, today=TODAY)
    session.commit()
    assert session.get(PaymentOrder, order_id).status == "cleared"
    assert ledger.balance(session, "outgoing") == 0
    assert ledger.balance(session, "incoming:FI7433010001222090") == RENT
    statement(session, w, tmp_path, ntry("520.00", "OUT1", debit=True),
              name="s.xml", statement_id="S1")
    assert ledger.balance(session, "incoming:FI7433010001222090") == 0
    assert ledger.balance(session, "bank:FI7433010001222090") == 100_000 - RENT


def test_a_notification_itemising_entries_already_booked_credits_nothing_twice(session_factory):
    """camt.053 booked X1 and X2 one by one; a later camt.054 lists them as items of a new
    entry A: the money is on the client once, and a notification mixing booked and new items
    is refused."""
    from helpers import scenario as sc

    from imports.records import Entry, Item, Statement
    from valitystili.store.models import Client

    with session_factory() as session, session.begin():
        w = sc.world(session)
        number = sc.client(session, w)
        reference = session.get(Client, number).reference

    def statement(source, ident, entries):
        return Statement(source, ident, sc.CITY_IBAN, "EUR", None, None, None, (), tuple(entries))

    def item(cents, archive):
        return Item(cents, archive, None, reference, None, None, "Payer", None, None, None)

    def entry(position, archive, cents, items):
        return Entry(position, archive, cents, "EUR", "BOOK", date(2026, 11, 2), None, False, None,
                     tuple(items))

    x1, x2, x3 = item(10000, "X1"), item(5000, "X2"), item(700, "X3")
    with session_factory() as session, session.begin():
        service.import_statements(
            session, w.fiona, [statement("camt053", "S1", [entry(1, "X1", 10000, [x1]),
                                                          entry(2, "X2", 5000, [x2])])],
            file_name="053.xml", today=date(2026, 11, 3))
    with session_factory() as session, session.begin():
        result = service.import_statements(
            session, w.fiona, [statement("camt054", "N1", [entry(1, "A", 15000, [x1, x2])])],
            file_name="054.xml", today=date(2026, 11, 3))
        assert result.summaries[0].already_present == 1
    with session_factory() as session:
        assert ledger.balance(session, f"client:{number}") == 15000
        assert not ledger.account_exists(session, f"incoming:{sc.CITY_IBAN}")   # nothing moved
    from valitystili.base.errors import ValidationError
    with session_factory() as session, session.begin(), pytest.raises(
            ValidationError, match="entry B itemises X1, which the bank already booked"):
        service.import_statements(
            session, w.fiona, [statement("camt054", "N2", [entry(1, "B", 10700, [x1, x3])])],
            file_name="054b.xml", today=date(2026, 11, 3))
