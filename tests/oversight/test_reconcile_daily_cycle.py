"""Reconciliation after the real daily cycle, both backends: the bank's statement imported, the
batch run, approved and exported, the next statement clearing the payments (DESIGN §6, §7)."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import CITY_IBAN, WORKED_EXAMPLE, client, plan, world
from sqlalchemy import select
from helpers.statements import Tx, camt053, ntry, write

from valitystili import payments as batches
from valitystili.oversight import reconcile
from valitystili.statements import service
from valitystili.store.models import Client, PaymentOrder


def findings(session, day):
    return [(f.check, f.subject, f.amount_cents) for f in reconcile.check_all(session, day)]


@pytest.fixture
def monday(session_factory, tmp_path):
    """2.11.2026: Kela's 560,00 and 380,00 on the morning statement (closing 940,00), then the
    batch: rent 520,00 and the first instalment 75,00, approved by a second handler, exported."""
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w)
        plan(session, w, number, WORKED_EXAMPLE)
        reference = session.get(Client, number).reference
        statement = camt053(
            ntry("560.00", "A-0211-1", Tx(reference=reference, payer="KELA")),
            ntry("380.00", "A-0211-2", Tx(reference=reference, payer="KELA")),
            statement_id="STMT-0211", opening_cents=0, closing_cents=94000, on="2026-11-02")
        service.import_file(session, w.fiona, write(tmp_path, "0211.xml", statement),
                            today=date(2026, 11, 2))
    with session_factory() as session, session.begin():
        run = batches.run_batch(session, w.hannu, date(2026, 11, 2))
    with session_factory() as session, session.begin():
        batches.approve_batch(session, w.hilla, str(run["batch"]), today=date(2026, 11, 2))
        batches.export_batch(session, w.fiona, str(run["batch"]), tmp_path / "pain.xml",
                             today=date(2026, 11, 2))
    return w


def test_after_the_batch_the_money_waits_in_outgoing_and_all_agrees(session, monday):
    orders = session.execute(select(PaymentOrder.kind, PaymentOrder.amount_cents,
                                    PaymentOrder.status).order_by(PaymentOrder.id)).all()
    assert [tuple(o) for o in orders] == [("rent", 52000, "exported"),
                                          ("instalment", 7500, "exported")]
    assert findings(session, date(2026, 11, 2)) == []
    assert reconcile.reconcile(session, monday.fiona, date(2026, 11, 2)).clean


def test_the_next_statement_clears_the_payments(session, monday, tmp_path):
    rent, instalment = session.execute(select(PaymentOrder).order_by(PaymentOrder.id)).scalars()
    statement = camt053(
        ntry("520.00", "A-0311-1", Tx(e2e=rent.end_to_end_id, payer="Vaasan Asunnot Oy"),
             debit=True, booked="2026-11-03"),
        ntry("75.00", "A-0311-2", Tx(e2e=instalment.end_to_end_id, payer="Maija Meikäläinen"),
             debit=True, booked="2026-11-03"),
        statement_id="STMT-0311", opening_cents=94000, closing_cents=34500, on="2026-11-03")
    service.import_file(session, monday.fiona, write(tmp_path, "0311.xml", statement),
                        today=date(2026, 11, 3))
    session.expire_all()
    assert [o.status for o in (rent, instalment)] == ["cleared", "cleared"]
    assert findings(session, date(2026, 11, 30)) == []


def test_payments_the_bank_never_shows_are_found_after_three_banking_days(session, monday):
    # Monday 2.11. + 3 banking days = Thursday 5.11.
    assert findings(session, date(2026, 11, 5)) == []
    assert findings(session, date(2026, 11, 6)) == [
        ("uncleared_payment", "order:rent:1:2026-11", 52000),
        ("uncleared_payment", "order:inst:1:2026-11-02", 7500)]


def test_a_statement_that_does_not_fit_the_ledger_is_found(session, monday, tmp_path):
    # The statement adds up (890,00 + 10,00 = 900,00) but opens 50,00 below the ledger's 940,00.
    statement = camt053(
        ntry("10.00", "A-0311-9", Tx(reference=session.get(Client, 1).reference, payer="KELA"),
             booked="2026-11-03"),
        statement_id="STMT-0311", opening_cents=89000, closing_cents=90000, on="2026-11-03")
    service.import_file(session, monday.fiona, write(tmp_path, "0311.xml", statement),
                        today=date(2026, 11, 3))
    assert findings(session, date(2026, 11, 3)) == [
        ("statement_balance", f"{CITY_IBAN} 2026-11-03", 5000)]
