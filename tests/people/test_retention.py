"""Retention (DESIGN §10), both backends: a closed client without money is anonymised (name,
identity code, IBAN and free texts replaced), and afterwards `audit verify` and `ledger verify`
are clean, every balance is unchanged and the identity code is in no text column of the
database; an open client and one with money are refused; `--due` finds who is due."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import lifecycle, scenario
from helpers.scenario import CLIENT_IBAN, HETU, HETU_2
from sqlalchemy import JSON, String, Text, select, text

import ledger
from ledger.models import Transaction
from valitystili import payments
from valitystili.base.errors import Conflict
from valitystili.oversight import handover
from valitystili.people import lifecycle as people_lifecycle
from valitystili.people import records, retention
from valitystili.store.models import (
    AuditPersonal,
    Flag,
    PaymentBatch,
    PaymentOrder,
    metadata,
)
from valitystili.trust import audit_verify

W = scenario.world_actors()
NAME = "Maija Meikäläinen"
PEKKA_IBAN = "FI5442345670000099"
NOTE = "Muutti Maija Meikäläisen siskon luo Ouluun"


def export_approved(factory, tmp_path) -> None:
    """Finance sends every approved batch to the bank (anonymising waits for that)."""
    with factory() as session, session.begin():
        approved = session.execute(select(PaymentBatch.id, PaymentBatch.run_on).where(
            PaymentBatch.status == "approved").order_by(PaymentBatch.id)).all()
        for batch, day in approved:
            payments.export_batch(session, W.fiona, str(batch), tmp_path / f"maksut-{batch}.xml",
                                  today=day)


def closed_client(factory, tmp_path) -> tuple[int, int]:
    """Maija (paid in November, her money paid out by the final payout of 30.11., every batch
    sent to the bank) and Pekka (client 2, open, with no money): (maija's number, pekka's
    number)."""
    number = lifecycle.maija_paid_in_november(factory)
    with factory() as session, session.begin():
        records.add_record(session, W.sanna, str(number), "consent", dated_on=date(2026, 10, 20),
                           fields={"incomes": f"Kelan asumistuki ({NAME})",
                                   "payments": "vuokra"})
        handover.close_service(session, W.sanna, str(number), closed_on=date(2026, 11, 30),
                               reason="moved", note=NOTE, final_payout=True,
                               today=date(2026, 11, 30))
    lifecycle.run_day(factory, date(2026, 11, 30))
    export_approved(factory, tmp_path)
    with factory() as session, session.begin():
        other = scenario.client(session, W, hetu=HETU_2, name="Pekka Puupää", iban=PEKKA_IBAN,
                                start_on=date(2026, 11, 1))
    return number, other


def texts_holding(session, needle: str) -> list[str]:
    """Every table.column of text whose stored value contains ``needle``."""
    found = []
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in session.execute(select(*columns)).all():
            for column, value in zip(columns, row, strict=True):
                if value is not None and needle in str(value):
                    found.append(f"{table.name}.{column.name}")
    return sorted(set(found))


def test_anonymise_keeps_the_books_and_the_chain_and_leaves_no_identity_code(
        cli, session_factory, tmp_path):
    number, other = closed_client(session_factory, tmp_path)
    with session_factory() as session:
        before = {b.code: b.balance_cents for b in ledger.balances(session)}
        assert before[f"client:{number}"] == 0
        assert texts_holding(session, HETU) == ["clients.hetu"]
        assert "audit_personal.personal" in texts_holding(session, NAME)
    result = cli.json("client", "anonymise", str(number), user="admin")
    assert (result["client"], result["anonymised"], result["closed_on"],
            result["legacy_entries"]) == (number, True, "2026-11-30", 0)
    assert result["audit_parts"] > 0
    with session_factory() as session:
        assert {b.code: b.balance_cents for b in ledger.balances(session)} == before
        assert texts_holding(session, HETU) == []
        # The books are append-only, and describe a payout without the client's name.
        assert texts_holding(session, NAME) == []
        assert texts_holding(session, CLIENT_IBAN) == []
        assert texts_holding(session, "Ouluun") == []
        assert texts_holding(session, "Pekka Puupää") != []      # the other client is kept
        assert audit_verify.verify(session) == []
    verified = cli("audit", "verify", user="aune")
    assert (verified.exit_code, verified.stdout) == (0, "(none)\n")
    assert "chain intact" in verified.stderr
    verified = cli("ledger", "verify", user="fiona")
    assert (verified.exit_code, verified.stdout) == (0, "(none)\n")
    shown = cli.json("client", "show", str(number), user="hannu")
    assert (shown["name"], shown["status"]) == ("anonymised", "closed")
    opened = [r for r in cli.json("audit", "log", "--client", str(number), user="aune")
              if r["action"] == "client.open"]
    assert opened[0]["detail"]["personal"] == "anonymised"
    again = cli("client", "anonymise", str(number), user="admin")
    assert (again.exit_code, again.stderr) == (
        2, f"valitystili: error: client {number} was anonymised already\n")
    assert other == 2


def test_an_open_client_and_one_with_money_are_refused(cli, session_factory):
    number = lifecycle.maija_paid_in_november(session_factory)
    result = cli("client", "anonymise", str(number), user="admin")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "valitystili: error: client 1 is open: close the service first\n")
    with session_factory() as session, session.begin():
        handover.close_service(session, W.sanna, str(number), closed_on=date(2026, 11, 30),
                               reason="moved", final_payout=True, today=date(2026, 11, 30))
    result = cli("client", "anonymise", str(number), user="admin")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", ("valitystili: error: client 1 still has money (345,00\u00a0€): the final payout "
                "must go first\n"))
    result = cli("client", "anonymise", str(number), user="hannu")
    assert (result.exit_code, result.stderr) == (
        2, ("valitystili: error: user hannu (handler) may not client anonymise; allowed "
            "roles: admin\n"))
    with session_factory() as session:
        assert session.execute(select(AuditPersonal.personal).where(
            AuditPersonal.personal.is_(None))).all() == []


def test_due_clients_after_the_retention_period(cli, session_factory, tmp_path):
    number, _other = closed_client(session_factory, tmp_path)
    with session_factory() as session:
        assert retention.due(session, W.admin, date(2032, 11, 29)) == []
        assert retention.due(session, W.admin, date(2032, 11, 30)) == [
            {"client": number, "closed_on": date(2026, 11, 30), "due_on": date(2032, 11, 30),
             "balance_cents": 0}]
    assert cli.json("client", "anonymise", "--due", user="admin") == []
    cli.ok("settings", "set", "retention_years_after_closing", "1", user="admin")
    with session_factory() as session, session.begin():
        assert [r["client"] for r in retention.due(session, W.admin, date(2027, 11, 30))] \
            == [number]
        done = retention.anonymise_due(session, W.admin, date(2027, 11, 30))
    assert [(r["client"], r["anonymised"]) for r in done] == [(number, True)]
    with session_factory() as session:
        assert retention.due(session, W.admin, date(2040, 1, 1)) == []
        assert audit_verify.verify(session) == []


def test_an_emptied_personal_part_of_a_client_not_anonymised_is_a_finding(
        cli, session_factory, tmp_path):
    number, _other = closed_client(session_factory, tmp_path)
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE audit_personal SET personal = NULL WHERE client_id = :c"),
                        {"c": number})
    with session_factory() as session:
        findings = {(f.check, f.detail) for f in audit_verify.verify(session)}
    emptied = f"the entry's personal part was emptied, but client {number} was never anonymised"
    assert findings == {("audit_personal", emptied)}


def test_an_altered_personal_part_is_a_finding(cli, session_factory):
    with session_factory() as session, session.begin():
        w = scenario.world(session)
        scenario.client(session, w)
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE audit_personal SET personal = replace(personal, "
                             "'Meikäläinen', 'Virtanen')"))
    with session_factory() as session:
        findings = [(f.check, f.detail) for f in audit_verify.verify(session)]
    assert findings == [("audit_personal",
                         "the entry's personal part was altered after it was written")]


def test_the_service_refuses_an_open_client(session_factory):
    number = lifecycle.maija(session_factory)
    with session_factory() as session, session.begin(), pytest.raises(
            Conflict, match="^client 1 is open: close the service first$"):
        retention.anonymise(session, W.admin, str(number))


ESTATE = "Maija Meikäläisen kuolinpesä"
ESTATE_IBAN = "FI3357200020077788"


def test_a_final_payout_to_an_estate_leaves_no_name_and_waits_for_the_bank(
        cli, session_factory, tmp_path):
    number = lifecycle.maija_paid_in_november(session_factory)
    with session_factory() as session, session.begin():
        handover.close_service(session, W.sanna, str(number), closed_on=date(2026, 11, 6),
                               reason="died", payout_to=ESTATE_IBAN, payee=ESTATE,
                               today=date(2026, 11, 6))
    with session_factory() as session, session.begin():
        people_lifecycle.approve_payout(session, W.hilla, str(number))
    assert [(r["kind"], r["payee"], r["amount_cents"])
            for r in lifecycle.run_day(session_factory, date(2026, 11, 9))] == [
        ("final", ESTATE, 34500)]
    # The batches are approved, not yet sent: their approval covers the creditors' names.
    refused = cli("client", "anonymise", str(number), user="admin")
    assert (refused.exit_code, refused.stdout, refused.stderr) == (
        2, "", (f"valitystili: error: client {number} has order 1 in batch 1, not yet sent to "
                "the bank: export the batch (or take the order out) first\n"))
    export_approved(session_factory, tmp_path)
    with session_factory() as session:
        assert texts_holding(session, ESTATE) == [
            "audit_personal.personal", "payment_orders.creditor_name",
            "service_periods.payout_name", "service_periods.payout_payment_name"]
        assert [(d.key, d.description) for d in session.execute(select(
            Transaction.key, Transaction.description).where(
            Transaction.key.like("order:%")).order_by(Transaction.id))] == [
            ("order:rent:1:2026-11", "rent to Vaasan Asunnot Oy"),
            ("order:inst:1:2026-11-02", "instalment to the client"),
            ("order:final:1:1", "final payout for the client")]
    cli.ok("client", "anonymise", str(number), user="admin")
    with session_factory() as session:
        assert texts_holding(session, ESTATE) == []
        assert texts_holding(session, ESTATE_IBAN) == []
        assert texts_holding(session, NAME) == []
        order = session.execute(select(PaymentOrder).where(
            PaymentOrder.key == "order:final:1:1")).scalar_one()
        assert (order.creditor_name, order.creditor_iban, order.amount_cents, order.status) == (
            "anonymised", "anonymised", 34500, "exported")
        rent = session.execute(select(PaymentOrder).where(
            PaymentOrder.key == "order:rent:1:2026-11")).scalar_one()
        assert rent.creditor_name == "Vaasan Asunnot Oy"          # a payee is not the client's
        assert audit_verify.verify(session) == []
    verified = cli("ledger", "verify", user="fiona")
    assert (verified.exit_code, verified.stdout) == (0, "(none)\n")


def test_anonymise_scrubs_a_flag_s_detail_and_its_message(cli, session_factory, tmp_path):
    from valitystili.base.i18n import Message
    from valitystili.flags.raising import raise_flag, shown_detail

    number, _other = closed_client(session_factory, tmp_path)
    with session_factory() as session, session.begin():
        raise_flag(session, "uncleared_payment", "instalment:1:x", date(2026, 12, 1),
                   client_id=number, detail=Message(
                       "{kind} to {payee} executing {day}: exported, not seen leaving the bank "
                       "by {deadline}", kind="instalment", payee=NAME, day="2026-11-30",
                       deadline="2026-12-01"))
    cli.ok("client", "anonymise", str(number), user="admin")
    with session_factory() as session:
        assert texts_holding(session, NAME) == []
        flag = session.execute(select(Flag).where(Flag.subject == "instalment:1:x")).scalar_one()
        assert flag.detail_message["values"]["payee"] == retention.TOMBSTONE
        assert shown_detail(flag) == flag.detail == (
            f"instalment to {retention.TOMBSTONE} executing 2026-11-30: exported, not seen "
            "leaving the bank by 2026-12-01")
