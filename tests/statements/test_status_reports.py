"""The bank's status reports (pain.002) on stored data, both backends: DESIGN §6's worked example
exported as pain.001, then accepted, or one payment rejected, or the whole file rejected.

Maija (worked example 1) has 940,00 € in on 2.11.2026; the batch of 2.11. pays rent 520,00 € and
the first instalment 75,00 € and is exported; the report arrives on 3.11.
"""

from __future__ import annotations

from datetime import date

import pytest
from helpers import scenario
from helpers.pain002 import payment, report, tx, write
from helpers.statements import snapshot
from oversight.test_reports_world import Money
from sqlalchemy import select

import ledger
from imports.pain002 import read_pain002
from valitystili import payments as batches
from valitystili.base.errors import ValidationError
from valitystili.oversight import checks
from valitystili.statements.status_reports import import_status_report
from valitystili.store.models import Flag, Obligation, PaymentBatch, PaymentOrder
from valitystili.trust import audit_verify
from valitystili.trust.auth import Actor

HANNU = Actor("hannu", "handler")
HILLA = Actor("hilla", "handler")
FIONA = Actor("fiona", "finance")
NOV2, NOV3 = date(2026, 11, 2), date(2026, 11, 3)


def run_day(factory, day: date) -> dict:
    with factory() as session, session.begin():
        result = batches.run_batch(session, HANNU, day)
    if result["orders"]:
        with factory() as session, session.begin():
            batches.approve_batch(session, HILLA, str(result["batch"]), today=day)
    return result


@pytest.fixture
def exported(session_factory, tmp_path):
    """Maija's batch of 2.11. exported: (client number, message id, payment-information id,
    {kind: end-to-end id})."""
    with session_factory() as session, session.begin():
        scenario.world(session)
        number = scenario.client(session, scenario.world_actors(), start_on=date(2026, 11, 1),
                                 review_on=date(2027, 2, 1))
        scenario.plan(session, scenario.world_actors(), number, scenario.WORKED_EXAMPLE,
                      effective_on=date(2026, 11, 1), today=date(2026, 11, 1))
        money = Money(session)
        money.credit(number, 56000, NOV2)
        money.credit(number, 38000, NOV2)
    result = run_day(session_factory, NOV2)
    with session_factory() as session, session.begin():
        batches.export_batch(session, FIONA, str(result["batch"]), tmp_path / "pain001.xml",
                             today=NOV2)
    with session_factory() as session:
        batch = session.get(PaymentBatch, result["batch"])
        e2e = {kind: e2e for kind, e2e in session.execute(
            select(PaymentOrder.kind, PaymentOrder.end_to_end_id))}
        return number, batch.message_id, batch.payment_info_id, e2e


def book(factory, tmp_path, text: str, *, today: date = NOV3, name: str = "status.xml"):
    """Read a report file and import it in one unit of work, as fiona."""
    parsed = read_pain002(write(tmp_path, name, text))
    with factory() as session, session.begin():
        return import_status_report(session, FIONA, parsed, file_name=name, today=today)


def state(factory, number: int) -> dict:
    with factory() as session:
        return {
            "orders": {kind: status for kind, status in session.execute(
                select(PaymentOrder.kind, PaymentOrder.status))},
            "rent": tuple(session.execute(select(Obligation.status, Obligation.paid_cents).where(
                Obligation.key == f"rent:{number}:2026-11")).one()),
            "client": ledger.balance(session, f"client:{number}"),
            "outgoing": ledger.balance(session, "outgoing"),
            "bank_status": session.execute(select(PaymentBatch.bank_status)).scalar_one(),
            "flags": [(f.kind, f.subject, f.client_id, f.amount_cents, f.detail) for f in
                      session.execute(select(Flag).where(Flag.kind == "payment_rejected"))
                      .scalars()],
        }


def clean(factory) -> None:
    """The audit trail and the order checks find nothing after the report."""
    with factory() as session:
        assert audit_verify.verify(session) == []
        assert checks.check_payment_orders(session, None) == []


@pytest.mark.parametrize("version", ["03", "10"])
def test_a_whole_file_accepted_marks_the_batch_and_moves_no_money(session_factory, tmp_path,
                                                                  exported, version):
    number, message_id, _info_id, _ = exported
    done = book(session_factory, tmp_path, report(message_id, "ACCP", version=version))
    assert (done.bank_status_before, done.bank_status, done.rejected) == (None, "accepted", ())
    assert state(session_factory, number) == {
        "orders": {"rent": "exported", "instalment": "exported"}, "rent": ("settled", 52000),
        "client": 94000 - 52000 - 7500, "outgoing": 52000 + 7500, "bank_status": "accepted",
        "flags": []}
    with session_factory() as session:
        assert batches.show_batch(session, FIONA, "1")["batch"]["bank_status"] == "accepted"
        assert batches.list_batches(session, FIONA)[0]["bank_status"] == "accepted"
    with session_factory() as session:
        before = snapshot(session)
    again = book(session_factory, tmp_path, report(message_id, "ACCP", version=version))
    assert again.changed is False
    with session_factory() as session:
        assert snapshot(session) == before
    clean(session_factory)


@pytest.mark.parametrize("version", ["03", "10"])
def test_a_rejected_rent_goes_back_to_the_client_and_the_next_batch_pays_it_again(
        session_factory, tmp_path, exported, version):
    number, message_id, info_id, e2e = exported
    text = report(message_id, "PART", payment(
        info_id, tx(e2e["rent"], "RJCT", "AC04", amount="520.00"), tx(e2e["instalment"], "ACCP"),
        status="PART"), version=version)
    done = book(session_factory, tmp_path, text)
    assert [r.row() for r in done.rejected] == [{
        "order": 1, "key": f"order:rent:{number}:2026-11", "client": number, "kind": "rent",
        "payee": "Vaasan Asunnot Oy", "amount_cents": 52000, "reason": "AC04",
        "reason_words": "AC04: the account is closed"}]
    assert (done.bank_status, done.accepted, done.already_rejected) == ("partly_accepted", 1, 0)
    assert state(session_factory, number) == {
        "orders": {"rent": "rejected", "instalment": "exported"}, "rent": ("open", 0),
        "client": 94000 - 7500, "outgoing": 7500, "bank_status": "partly_accepted",
        "flags": [("payment_rejected", f"order:rent:{number}:2026-11", number, 52000,
                   (f"payment order:rent:{number}:2026-11 of 520,00\xa0€ to Vaasan Asunnot Oy "
                   f"was rejected by the bank (AC04: the account is closed); 520,00\xa0€ "
                   f"returned to client {number}"))]}
    with session_factory() as session:
        rent = session.execute(select(PaymentOrder).where(PaymentOrder.kind == "rent")).scalar_one()
        assert (rent.rejected_on, rent.reject_reason) == (NOV3, "AC04")
        reversal = ledger.find_transactions(session, [f"reject:{rent.key}"])[f"reject:{rent.key}"]
        assert sorted(reversal.legs) == [(f"client:{number}", -52000), ("outgoing", 52000)]
        before = snapshot(session)
    # The same report again, a day later: nothing changes.
    again = book(session_factory, tmp_path, text, today=date(2026, 11, 4))
    assert (again.rejected, again.already_rejected, again.changed) == ((), 1, False)
    with session_factory() as session:
        assert snapshot(session) == before
    clean(session_factory)
    paid = run_day(session_factory, NOV3)
    assert [(r["key"], r["amount_cents"]) for r in paid["order_rows"]] == [
        (f"order:rent:{number}:2026-11:1", 52000)]


def test_a_rejected_instalment_is_paid_with_the_next_instalment_day(session_factory, tmp_path,
                                                                    exported):
    number, message_id, info_id, e2e = exported
    done = book(session_factory, tmp_path, report(message_id, "PART", payment(
        info_id, tx(e2e["instalment"], "RJCT", "AC01"))))
    assert [(r.kind, r.amount_cents, r.reason) for r in done.rejected] == [
        ("instalment", 7500, "AC01")]
    assert state(session_factory, number) == {
        "orders": {"rent": "exported", "instalment": "rejected"}, "rent": ("settled", 52000),
        "client": 94000 - 52000, "outgoing": 52000, "bank_status": "partly_accepted",
        "flags": [("payment_rejected", f"order:inst:{number}:2026-11-02", number, 7500,
                   (f"payment order:inst:{number}:2026-11-02 of 75,00\xa0€ to Maija "
                   "Meikäläinen was rejected by the bank (AC01: the account number is wrong); "
                   f"75,00\xa0€ returned to client {number}"))]}
    clean(session_factory)
    # 9.11.: 420,00 less 45,00 held for electricity, over the Mondays 9., 16., 23. and 30.11.
    paid = run_day(session_factory, date(2026, 11, 9))
    assert [(r["key"], r["amount_cents"]) for r in paid["order_rows"]] == [
        (f"order:inst:{number}:2026-11-09", 9375)]


def test_a_whole_file_rejected_gives_every_payment_back(session_factory, tmp_path, exported):
    number, message_id, _, _ = exported
    done = book(session_factory, tmp_path, report(message_id, "RJCT", codes=("FF01",),
                                                  version="10"))
    assert [(r.kind, r.reason) for r in done.rejected] == [("rent", "FF01"),
                                                           ("instalment", "FF01")]
    got = state(session_factory, number)
    assert (got["orders"], got["rent"], got["client"], got["outgoing"], got["bank_status"]) == (
        {"rent": "rejected", "instalment": "rejected"}, ("open", 0), 94000, 0, "rejected")
    assert [f[4].split(" (")[1].split(")")[0] for f in got["flags"]] == [
        "FF01: the file's format is not valid"] * 2
    clean(session_factory)


def test_the_bank_status_only_moves_forward(session_factory, tmp_path, exported):
    number, message_id, info_id, e2e = exported
    assert book(session_factory, tmp_path, report(message_id, "ACTC")).bank_status == "accepted"
    book(session_factory, tmp_path, report(message_id, "PART", payment(
        info_id, tx(e2e["rent"], "RJCT", "MS03"))))
    late = book(session_factory, tmp_path, report(message_id, "ACTC"))
    assert (late.bank_status, late.changed) == ("partly_accepted", False)
    assert state(session_factory, number)["flags"][0][4].endswith(
        "(MS03: the bank gave no reason); 520,00\xa0€ returned to client 1")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda m, i, e: report("NOT-OURS", "ACCP"),
         ("status.xml: the report answers payment file NOT-OURS, which is no file exported "
         "here; nothing was imported")),
        (lambda m, i, e: report(m, "PART", payment(i, tx("E2E-UNKNOWN", "RJCT", "AC04")),
                                version="10"),
         ("status.xml: payment E2E-UNKNOWN is none of the payments of batch 1; nothing was "
         "imported")),
        (lambda m, i, e: report(m, "PART", payment("PMT-OTHER", tx(e["rent"], "RJCT"))),
         ("status.xml: payment information PMT-OTHER is not in payment file {m} (batch 1); "
         "nothing was imported")),
        (lambda m, i, e: report(m, "PART", payment(i, tx(e["rent"], "RJCT", amount="52.00"))),
         ("status.xml: payment {rent} is 52,00\xa0€ in the report, but order order:rent:1:2026-11 "
         "is 520,00\xa0€; nothing was imported")),
    ],
    ids=["unknown-message", "unknown-end-to-end", "unknown-payment-information", "amount"],
)
def test_a_report_naming_what_we_never_sent_is_refused_and_nothing_written(
        session_factory, tmp_path, exported, make, message):
    _number, message_id, info_id, e2e = exported
    with session_factory() as session:
        before = snapshot(session)
    with pytest.raises(ValidationError) as caught:
        book(session_factory, tmp_path, make(message_id, info_id, e2e))
    assert str(caught.value) == message.format(m=message_id, rent=e2e["rent"])
    with session_factory() as session:
        assert snapshot(session) == before


def test_a_payment_the_bank_already_paid_out_cannot_be_rejected(session_factory, tmp_path,
                                                                exported):
    number, message_id, info_id, e2e = exported
    with session_factory() as session, session.begin():
        session.execute(PaymentOrder.__table__.update().where(
            PaymentOrder.kind == "rent").values(status="cleared", cleared_on=NOV2))
    with pytest.raises(ValidationError) as caught:
        book(session_factory, tmp_path, report(message_id, "PART", payment(
            info_id, tx(e2e["rent"], "RJCT", "AC04"))))
    assert str(caught.value) == (
        f"status.xml: the report rejects payment order:rent:{number}:2026-11, which the bank "
        "has already paid out (cleared on a statement); nothing was imported")
