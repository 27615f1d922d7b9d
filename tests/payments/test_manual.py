"""Money a handler moves by hand: a one-off payment (``pay``), a refund of money in suspense to
its payer and a split of it between clients — each through the batch, four-eyes approval and
pain.001 where money leaves. Stored, on both backends."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers import scenario
from helpers.lifecycle import W, maija, maija_paid_in_november, run_day
from helpers.statements import Tx, camt053, ntry, snapshot, write
from sqlalchemy import select

import ledger
from valitystili import payments as batches
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.errors import (
    Conflict,
    InsufficientFunds,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from valitystili.oversight import handover
from valitystili.oversight.checks import context_for, run_checks
from valitystili.payments import manual
from valitystili.statements import income, service, splitting
from valitystili.store.models import (
    AuditEntry,
    Flag,
    ManualPayment,
    PaymentOrder,
    StatementLine,
)
from valitystili.trust import users
from valitystili.trust.auth import Actor

NOVEMBER_9 = date(2026, 11, 9)
WATER = "Vaasan Vesi Oy"
WATER_IBAN = "FI4950009420028730"
PAYER = "Matti Virtanen"
PAYER_IBAN = "FI5542345670000081"
HEIKKI = Actor("heikki", "handler")       # a third handler


def third_handler(factory) -> None:
    with factory() as session, session.begin():
        users.add_user(session, W.admin, "heikki", "handler")


def orders(session) -> list[tuple]:
    return [(o.kind, o.client_id, o.creditor_name, o.creditor_iban, o.amount_cents, o.reference,
             o.message, o.key, o.created_by, o.status)
            for o in session.execute(select(PaymentOrder).order_by(PaymentOrder.id)).scalars()]


def export(factory, batch: int, path, on: date) -> str:
    with factory() as session, session.begin():
        batches.export_batch(session, W.fiona, str(batch), path, today=on)
    return path.read_text(encoding="utf-8")


# --- pay ----------------------------------------------------------------------------------------


def test_a_one_off_payment_goes_through_the_batch_four_eyes_and_pain001(session_factory,
                                                                         tmp_path):
    number = maija_paid_in_november(session_factory)          # 345,00 left
    third_handler(session_factory)
    with session_factory() as session, session.begin():
        extra = manual.request_payment(session, W.hannu, str(number), amount_cents=10000,
                                       message="Ylimääräinen erä: talvitakki")
        bill = manual.request_payment(session, W.hannu, str(number), amount_cents=4550,
                                      reference="RF18539007547034", to_iban=WATER_IBAN,
                                      to_name=WATER)
    assert extra.row() == {
        "payment": 1, "kind": "pay", "client": 1, "line": None, "amount_cents": 10000,
        "payee": "Maija Meikäläinen", "iban": scenario.CLIENT_IBAN, "reference": None,
        "message": "Ylimääräinen erä: talvitakki", "status": "pending", "created_by": "hannu"}
    assert (bill.payee, bill.iban, bill.reference, bill.message) == (
        WATER, WATER_IBAN, "RF18539007547034", None)
    # Never more than the money: 345,00 less the 145,50 already asked for.
    with session_factory() as session, pytest.raises(InsufficientFunds) as refused:
        manual.request_payment(session, W.hannu, str(number), amount_cents=19951,
                               message="liikaa")
    assert str(refused.value) == (
        "client 1 has 199,50\u00a0€ to pay from (balance 345,00\u00a0€, 145,50\u00a0€ already "
        "waiting in draft orders and payments asked for); 199,51\u00a0€ is more")

    # hilla runs the batch: the payments asked for come first, then the day's own.
    with session_factory() as session, session.begin():
        ran = batches.run_batch(session, W.hilla, NOVEMBER_9)
    with session_factory() as session:
        made = orders(session)[2:]
    assert made[:2] == [
        ("manual", 1, "Maija Meikäläinen", scenario.CLIENT_IBAN, 10000, None,
         "Ylimääräinen erä: talvitakki", "order:manual:1", "hannu", "draft"),
        ("manual", 1, WATER, WATER_IBAN, 4550, "RF18539007547034", None, "order:manual:2",
         "hannu", "draft")]
    assert [row[0] for row in made[2:]] == ["instalment"]
    # Four-eyes: hannu asked for two of its orders, hilla ran it; heikki approves.
    for who, message in ((W.hannu, "four-eyes: hannu created 2 of the 3 orders in batch 2; a "
                                   "handler who created none of its orders must approve it"),
                         (W.hilla, "four-eyes: batch 2 was run by hilla; another handler must "
                                   "approve it")):
        with session_factory() as session, pytest.raises(Conflict) as refused:
            batches.approve_batch(session, who, str(ran["batch"]), today=NOVEMBER_9)
        assert str(refused.value) == message
    with session_factory() as session, session.begin():
        batches.approve_batch(session, HEIKKI, str(ran["batch"]), today=NOVEMBER_9)
    with session_factory() as session:
        instalment = orders(session)[-1][4]
        assert ledger.balance(session, "client:1") == 34500 - 10000 - 4550 - instalment
        assert [(p.status, p.order_id) for p in session.execute(
            select(ManualPayment).order_by(ManualPayment.id)).scalars()] == [
            ("ordered", 3), ("ordered", 4)]
    xml = export(session_factory, ran["batch"], tmp_path / "maksut.xml", NOVEMBER_9)
    assert '<InstdAmt Ccy="EUR">100.00</InstdAmt>' in xml
    assert '<InstdAmt Ccy="EUR">45.50</InstdAmt>' in xml
    assert f"<Nm>{WATER}</Nm>" in xml and "<Ref>RF18539007547034</Ref>" in xml
    # The next run does not pay them again.
    with session_factory() as session, session.begin():
        again = batches.run_batch(session, W.hilla, NOVEMBER_9, dry_run=True)
    assert [row["key"] for row in again["order_rows"] if row["kind"] == "manual"] == []


def test_a_payment_the_money_no_longer_covers_waits_and_is_flagged(session_factory):
    number = maija_paid_in_november(session_factory)
    with session_factory() as session, session.begin():
        manual.request_payment(session, W.hannu, str(number), amount_cents=30000,
                               message="vuokravakuus")
    with session_factory() as session, session.begin():       # the money goes meanwhile
        ledger.post(session, "test:out", [("client:1", 10000), ("outgoing", -10000)], NOVEMBER_9)
    assert [r["kind"] for r in run_day(session_factory, NOVEMBER_9)] == ["instalment"]
    with session_factory() as session:
        flag = session.execute(select(Flag).where(Flag.subject == "manual:1")).scalar_one()
        assert (flag.kind, flag.amount_cents, flag.detail) == (
            "insufficient_funds", 5500, "payment 1 of 300,00\u00a0€ to Maija Meikäläinen waits: "
            "245,00\u00a0€ available")
        assert session.get(ManualPayment, 1).status == "pending"


def test_taking_a_manual_order_out_withdraws_it_for_good(session_factory):
    number = maija_paid_in_november(session_factory)
    with session_factory() as session, session.begin():
        manual.request_payment(session, W.hannu, str(number), amount_cents=5000, message="x")
    with session_factory() as session, session.begin():
        ran = batches.run_batch(session, W.hannu, NOVEMBER_9)
    with session_factory() as session, session.begin():
        batches.remove_order(session, W.hilla, str(ran["batch"]), "order:manual:1",
                             reason="the client asked for it in cash instead")
    with session_factory() as session:
        assert session.get(ManualPayment, 1).status == "withdrawn"
    with session_factory() as session, session.begin():
        again = batches.run_batch(session, W.hannu, NOVEMBER_9, dry_run=True)
    assert "manual" not in [row["kind"] for row in again["order_rows"]]


@pytest.mark.parametrize("options, error, message", [
    (dict(amount_cents=0, message="x"), ValidationError, "the amount must be more than 0,00\u00a0€"),
    (dict(amount_cents=100), ValidationError,
     "give --message (or --reference), so that the payee can tell what the payment is for"),
    (dict(amount_cents=100, message="x", reference="12345672"), ValidationError,
     "give --reference or --message, not both"),
    (dict(amount_cents=100, message="x", to_iban=WATER_IBAN), ValidationError,
     "a payment to someone else needs both --to IBAN and --name NAME"),
    (dict(amount_cents=100, message="x", to_iban="FI4950009420028731", to_name=WATER),
     ValidationError, "IBAN FI4950009420028731 has wrong check digits"),
    (dict(amount_cents=100, message="vuokra 010594Y123W"), ValidationError,
     "payment: message contains a henkilötunnus; never put one in a payment message"),
    (dict(amount_cents=34501, message="x"), InsufficientFunds,
     "client 1 has 345,00\u00a0€ to pay from (balance 345,00\u00a0€, 0,00\u00a0€ already waiting "
     "in draft orders and payments asked for); 345,01\u00a0€ is more"),
])
def test_a_bad_payment_is_refused_and_writes_nothing(session_factory, options, error, message):
    number = maija_paid_in_november(session_factory)
    with session_factory() as session:
        before = snapshot(session)
        with pytest.raises(error) as refused:
            manual.request_payment(session, W.hannu, str(number), **options)
        assert str(refused.value) == message
        session.rollback()
        assert snapshot(session) == before


def test_a_closed_client_is_not_paid_by_hand_and_only_a_handler_pays(session_factory):
    number = maija_paid_in_november(session_factory)
    with session_factory() as session, pytest.raises(PermissionDenied):
        manual.request_payment(session, W.sanna, str(number), amount_cents=100, message="x")
    with session_factory() as session, session.begin():
        handover.close_service(session, W.hannu, str(number), closed_on=date(2026, 11, 6),
                               reason="died", final_payout=True, today=date(2026, 11, 6))
    with session_factory() as session, pytest.raises(Conflict, match=(
            r"^client 1 was closed on 6\.11\.2026$")):
        manual.request_payment(session, W.hannu, str(number), amount_cents=100, message="x")


# --- refund -------------------------------------------------------------------------------------


def suspense_line(factory, tmp_path, *, payer: str | None = PAYER, iban: str | None = PAYER_IBAN,
                  amount: str = "25.00", archive: str = "ARK-7", on: str = "2026-11-02") -> int:
    """Money for nobody known, imported from a camt.053: in suspense, flagged."""
    with factory() as session, session.begin():
        service.import_file(session, W.fiona, write(tmp_path, f"{archive}.xml", camt053(
            ntry(amount, archive, Tx(payer=payer, iban=iban, message="lahjoitus"), booked=on),
            statement_id=f"S-{archive}", on=on, opening_cents=None)), today=date(2026, 11, 2))
    with factory() as session:
        return session.execute(select(StatementLine.id).where(
            StatementLine.archive_id == archive)).scalar_one()


def test_a_refund_returns_money_in_suspense_to_its_payer(session_factory, tmp_path):
    maija(session_factory)
    line = suspense_line(session_factory, tmp_path)
    with session_factory() as session, session.begin():
        asked = manual.refund_line(session, W.hannu, line, today=date(2026, 11, 3))
    assert asked.row() == {
        "payment": 1, "kind": "refund", "client": None, "line": line, "amount_cents": 2500,
        "payee": PAYER, "iban": PAYER_IBAN, "reference": None, "message": "Palautus 2.11.2026",
        "status": "pending", "created_by": "hannu"}
    with session_factory() as session:
        assert session.get(StatementLine, line).state == "refunded"
        assert session.execute(select(Flag.resolved_at).where(Flag.subject == "ARK-7")
                               ).scalar_one() == date(2026, 11, 3)
        # Nobody can assign it or refund it again meanwhile.
        with pytest.raises(Conflict, match=r"^line \d+ is not in suspense: it is refunded$"):
            income.assign_line(session, W.hannu, line, "1")
        with pytest.raises(Conflict, match=r"^line \d+ is already being refunded$"):
            manual.refund_line(session, W.hannu, line)

    rows = run_day(session_factory, date(2026, 11, 3))
    assert [(r["client"], r["kind"], r["payee"], r["iban"], r["amount_cents"], r["key"])
            for r in rows] == [(None, "refund", PAYER, PAYER_IBAN, 2500, "order:refund:1")]
    with session_factory() as session:
        assert ledger.balance(session, "suspense") == 0       # approval debited suspense
        order = session.execute(select(PaymentOrder).where(
            PaymentOrder.key == "order:refund:1")).scalar_one()
        e2e, batch = order.end_to_end_id, order.batch_id
        context = context_for(session, date(2026, 11, 3), CALENDAR, date(2026, 11, 3))
        assert [f for f in run_checks(session, context) if f.check.startswith("order")] == []
    xml = export(session_factory, batch, tmp_path / "palautus.xml", date(2026, 11, 3))
    assert f"<IBAN>{PAYER_IBAN}</IBAN>" in xml and "<Ustrd>Palautus 2.11.2026</Ustrd>" in xml

    # The payer's bank sends it back: the money is in suspense again, flagged.
    with session_factory() as session, session.begin():
        service.import_file(session, W.fiona, write(tmp_path, "back.xml", camt053(
            ntry("25.00", "ARK-8", Tx(e2e=e2e, payer=PAYER, iban=PAYER_IBAN), debit=True,
                 booked="2026-11-04"),
            ntry("25.00", "ARK-9", Tx(e2e=e2e, return_reason="AC04"), booked="2026-11-05"),
            statement_id="S-back", on="2026-11-05", opening_cents=None)),
            today=date(2026, 11, 5))
    with session_factory() as session:
        assert ledger.balance(session, "suspense") == 2500
        back = session.execute(select(StatementLine).where(StatementLine.archive_id == "ARK-9")
                               ).scalar_one()
        assert (back.state, back.client_id) == ("suspense", None)
        assert session.execute(select(Flag.detail).where(Flag.subject == "ARK-9")).scalar_one() \
            == "refund order:refund:1 of 25,00\u00a0€ came back (AC04); 25,00\u00a0€ is in " \
               "suspense again"


def test_a_refund_is_refused_for_a_line_not_in_suspense(session_factory, tmp_path):
    maija(session_factory)
    line = suspense_line(session_factory, tmp_path)
    unnamed = suspense_line(session_factory, tmp_path, payer=None, iban=None, archive="ARK-X")
    with session_factory() as session, session.begin():
        income.assign_line(session, W.hannu, line, "1", today=date(2026, 11, 3))
    refusals = [
        (line, {}, Conflict, f"line {line} is already assigned to client 1"),
        (999, {}, NotFound, "no statement line 999"),
        (unnamed, {}, ValidationError,
         f"line {unnamed} does not name the payer's account: give --to IBAN --name NAME"),
        (unnamed, dict(to_iban=PAYER_IBAN), ValidationError,
         f"line {unnamed} does not name the payer's name: give --to IBAN --name NAME"),
    ]
    for target, options, error, message in refusals:
        with session_factory() as session:
            before = snapshot(session)
            with pytest.raises(error) as refused:
                manual.refund_line(session, W.hannu, target, **options)
            assert str(refused.value) == message
            session.rollback()
            assert snapshot(session) == before
    with session_factory() as session, session.begin():   # the payer named by hand
        asked = manual.refund_line(session, W.hannu, unnamed, to_iban=PAYER_IBAN, to_name=PAYER)
    assert (asked.payee, asked.iban, asked.amount_cents) == (PAYER, PAYER_IBAN, 2500)


# --- split --------------------------------------------------------------------------------------


def test_a_line_split_between_clients_balances_to_the_cent(session_factory, tmp_path):
    maija(session_factory)
    with session_factory() as session, session.begin():
        scenario.client(session, W, hetu=scenario.HETU_2, name="Pekka Virtanen")
    line = suspense_line(session_factory, tmp_path, amount="1234.57", payer="Vaasan kaupunki")
    refusals = [
        ([("1", 100000), ("2", 23456)], "the parts add up to 1\u00a0234,56\u00a0€, line "
                                        f"{line} is 1\u00a0234,57\u00a0€ (0,01\u00a0€ missing)"),
        ([("1", 100000), ("2", 23458)], "the parts add up to 1\u00a0234,58\u00a0€, line "
                                        f"{line} is 1\u00a0234,57\u00a0€ (0,01\u00a0€ too much)"),
        ([("1", 123457)], "a split needs at least two parts CLIENT=AMOUNT (one client: income "
                          "assign)"),
        ([("1", 100000), ("1", 23457)], "client 1 has two parts: give each client one"),
        ([("1", 123457), ("2", 0)], "the part of client 2 must be more than 0,00\u00a0€"),
    ]
    for parts, message in refusals:
        with session_factory() as session:
            before = snapshot(session)
            with pytest.raises(ValidationError) as refused:
                splitting.split_line(session, W.hannu, line, parts)
            assert str(refused.value) == message
            session.rollback()
            assert snapshot(session) == before
    with session_factory() as session, session.begin():
        done = splitting.split_line(session, W.hannu, line, [("1", 100001), ("1000 00023", 23456)],
                                    today=date(2026, 11, 3))
    assert [part.row() for part in done] == [
        {"line": str(line), "client": 1, "amount_cents": 100001, "ledger_key": f"split:{line}"},
        {"line": str(line), "client": 2, "amount_cents": 23456, "ledger_key": f"split:{line}"}]
    with session_factory() as session:
        assert (ledger.balance(session, "client:1"), ledger.balance(session, "client:2"),
                ledger.balance(session, "suspense")) == (100001, 23456, 0)
        assert session.get(StatementLine, line).state == "split"
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "income.split")
                                ).scalar_one()
        assert json.loads(entry.detail)["parts"] == [{"client": 1, "amount_cents": 100001},
                                                     {"client": 2, "amount_cents": 23456}]
        with pytest.raises(Conflict, match=rf"^line {line} is not in suspense: it is split$"):
            splitting.split_line(session, W.hannu, line, [("1", 100001), ("2", 23456)])
        with pytest.raises(Conflict, match=rf"^line {line} is not in suspense: it is split$"):
            manual.refund_line(session, W.hannu, line)


def test_the_first_statements_opening_balance_is_split(session_factory, tmp_path):
    maija(session_factory)
    with session_factory() as session, session.begin():
        scenario.client(session, W, hetu=scenario.HETU_2, name="Pekka Virtanen")
        service.import_file(session, W.fiona, write(tmp_path, "first.xml", camt053(
            on="2026-11-02", opening_cents=204510, closing_cents=204510)),
            today=date(2026, 11, 2))
    with session_factory() as session, session.begin():
        done = splitting.split_line(session, W.hannu, "opening", [("1", 84510), ("2", 120000)],
                                    today=date(2026, 11, 3))
    assert [(p.line, p.client, p.amount_cents, p.ledger_key) for p in done] == [
        (f"opening:{scenario.CITY_IBAN}", 1, 84510, f"split:opening:{scenario.CITY_IBAN}"),
        (f"opening:{scenario.CITY_IBAN}", 2, 120000, f"split:opening:{scenario.CITY_IBAN}")]
    with session_factory() as session:
        assert ledger.balance(session, "suspense") == 0
        assert session.execute(select(Flag.resolved_at).where(
            Flag.subject == f"opening:{scenario.CITY_IBAN}")).scalar_one() == date(2026, 11, 3)
        with pytest.raises(Conflict, match=r"^the opening balance is already split "):
            splitting.split_line(session, W.hannu, "opening", [("1", 84510), ("2", 120000)])


# --- the command line ---------------------------------------------------------------------------


def test_cli_pay_refund_and_split(cli, session_factory, tmp_path):
    number = maija_paid_in_november(session_factory)
    asked = cli.json("pay", str(number), "--amount", "50,00", "--message", "Lisäerä",
                     user="hannu")
    assert (asked["payment"], asked["amount_cents"], asked["status"]) == (1, 5000, "pending")
    for args, message in (
            (("pay", str(number), "--amount", "5000,00", "--message", "x"),
             "client 1 has 295,00\u00a0€ to pay from (balance 345,00\u00a0€, 50,00\u00a0€ already "
             "waiting in draft orders and payments asked for); 5\u00a0000,00\u00a0€ is more"),
            (("income", "split", "1", "1=10,00"),
             "a split needs at least two parts CLIENT=AMOUNT (one client: income assign)"),
            (("income", "split", "1", "1:10,00", "2=5"),
             "Invalid value for 'CLIENT=AMOUNT...': '1:10,00' is not CLIENT=AMOUNT"),
            (("income", "refund", "77"), "no statement line 77")):
        refused = cli(*args, user="hannu")
        assert (refused.exit_code, refused.stdout, refused.stderr) == (
            2, "", f"valitystili: error: {message}\n")
    line = suspense_line(session_factory, tmp_path)
    refunded = cli.json("income", "refund", str(line), user="hannu")
    assert (refunded["kind"], refunded["payee"], refunded["amount_cents"]) == (
        "refund", PAYER, 2500)
    with session_factory() as session:
        assert [(p.kind, p.status) for p in session.execute(
            select(ManualPayment).order_by(ManualPayment.id)).scalars()] == [
            ("pay", "pending"), ("refund", "pending")]
