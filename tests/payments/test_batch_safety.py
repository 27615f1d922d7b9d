"""What a payment batch's approval covers, both backends: four-eyes over every order, the
database guard on orders, the reconcile check that every approved order was debited, the
digest that stops an export changed after approval, taking orders out (`batch remove`,
`batch cancel`), the state each batch entry records, the payment file's safety, and the views
that are logged. (Races between processes: tests/test_batch_races.py.)"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from helpers import scenario
from oversight.test_reports_world import Money
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from helpers.statements import valid_hetu

import ledger
from valitystili import payments as batches
from valitystili.base.errors import Conflict, ValidationError
from valitystili.base.i18n import Message
from valitystili.oversight import reconcile
from valitystili.store import db
from valitystili.store.models import (
    AuditEntry,
    Flag,
    Obligation,
    PaymentBatch,
    PaymentOrder,
)
from valitystili.trust import audit, users
from valitystili.trust.auth import Actor

DAY = date(2026, 11, 2)
HANNU = Actor("hannu", "handler")
HILLA = Actor("hilla", "handler")
HELMI = Actor("helmi", "handler")
FIONA = Actor("fiona", "finance")
ATTACKER_IBAN = "FI4950009420028730"
ORDER_CHECKS = ("order_not_debited", "order_debit_mismatch", "order_batch_state",
                "batch_changed_after_approval")


# --- the world ----------------------------------------------------------------------------------


@pytest.fixture
def out_dir(tmp_path):
    """Where payment files go (the SQLite database lives in tmp_path itself)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def maija(session_factory) -> int:
    """Client 1 with the worked example's plan and 940,00 € on 2.11.2026; a third handler."""
    with session_factory() as session, session.begin():
        w = scenario.world(session)
        users.add_user(session, w.admin, "helmi", "handler")
        number = open_client(session, 0)
        receive(session, number)
    return number


def open_client(session, n: int) -> int:
    w = scenario.world_actors()
    number = scenario.client(session, w, hetu=valid_hetu("010190", "-", 100 + n),
                             name=f"Asiakas {n}", start_on=date(2026, 11, 1),
                             review_on=date(2027, 2, 1))
    scenario.plan(session, w, number, scenario.WORKED_EXAMPLE, effective_on=date(2026, 11, 1),
                  today=date(2026, 11, 1))
    return number


def receive(session, number: int) -> None:
    """Kela's 560,00 and 380,00 for the client, booked as an import books them (statement lines,
    postings, audited), so the batch knows the expected incomes came."""
    money = Money(session)
    for cents in (56000, 38000):
        money.credit(number, cents, DAY)


def act(factory, do, *args, **kwargs):
    """One unit of work: ``do(session, *args, **kwargs)``, committed."""
    with factory() as session, session.begin():
        return do(session, *args, **kwargs)


def run(factory, actor=HANNU) -> dict:
    return act(factory, batches.run_batch, actor, DAY)


def approve(factory, batch, actor=HILLA) -> dict:
    return act(factory, batches.approve_batch, actor, str(batch), today=DAY)


def orders(session) -> list[tuple]:
    return [tuple(r) for r in session.execute(
        select(PaymentOrder.id, PaymentOrder.key, PaymentOrder.amount_cents, PaymentOrder.status,
               PaymentOrder.created_by).order_by(PaymentOrder.id))]


def order_findings(session) -> list[tuple]:
    return [(f.check, f.subject, f.detail, f.amount_cents)
            for f in reconcile.check_all(session, DAY, today=DAY) if f.check in ORDER_CHECKS]


def entries(session, action: str) -> list[dict]:
    found = session.execute(select(AuditEntry).where(AuditEntry.action == action)
                            .order_by(AuditEntry.position)).scalars().all()
    shown = audit.shown(session, found)      # the personal values (a reason) put back
    return [shown[entry.hash] for entry in found]


def sql(factory, statement: str, **params) -> None:
    """Plain SQL, as someone with a database login could run it behind the service's back."""
    with factory() as session, session.begin():
        session.execute(text(statement), params)


# --- four-eyes over every order (issue 9 item 5) ------------------------------------------------


def test_a_second_run_by_another_handler_does_not_let_her_approve_her_own_orders(
        session_factory, maija):
    """hannu runs the day; more money arrives for Ville; hilla runs the day again and Ville's
    orders join hannu's draft. hilla made half of the batch: she cannot approve it."""
    first = run(session_factory)
    with session_factory() as session, session.begin():
        ville = open_client(session, 1)
        receive(session, ville)
    second = run(session_factory, HILLA)
    assert second["batch"] == first["batch"] == 1 and second["orders"] == 2
    with pytest.raises(Conflict) as refused:
        approve(session_factory, 1, HILLA)
    assert str(refused.value) == ("four-eyes: hilla created 2 of the 4 orders in batch 1; a "
                                  "handler who created none of its orders must approve it")
    with pytest.raises(Conflict, match="^four-eyes: batch 1 was run by hannu; another handler "
                                       "must approve it$"):
        approve(session_factory, 1, HANNU)
    approved = approve(session_factory, 1, HELMI)
    assert (approved["status"], approved["approved_by"], approved["total_cents"]) == (
        "approved", "helmi", 2 * (52000 + 7500))
    with session_factory() as session:
        assert [(key, who) for _, key, _, _, who in orders(session)] == [
            (f"order:rent:{maija}:2026-11", "hannu"), (f"order:inst:{maija}:2026-11-02", "hannu"),
            (f"order:rent:{ville}:2026-11", "hilla"), (f"order:inst:{ville}:2026-11-02", "hilla")]


def test_with_four_eyes_off_the_handler_who_ran_it_may_approve(session_factory, maija):
    sql(session_factory, "INSERT INTO settings (key, value) VALUES ('four_eyes', 'false')")
    run(session_factory)
    assert approve(session_factory, 1, HANNU)["status"] == "approved"


# --- the order set of a batch is frozen at approval (issue 9 item 1) ----------------------------


def insert_order(session, batch: int, key: str) -> None:
    session.execute(text(
        "INSERT INTO payment_orders (key, end_to_end_id, batch_id, client_id, kind, creditor_name, "
        "creditor_iban, amount_cents, execution_on, status, created_by) VALUES (:key, :key, "
        ":batch, 1, 'instalment', 'Asiakas 0', :iban, 1000, :day, 'draft', 'hannu')"),
        {"key": key, "batch": batch, "iban": ATTACKER_IBAN, "day": DAY})


def test_the_database_refuses_an_order_added_to_a_batch_that_is_no_longer_a_draft(
        session_factory, maija):
    approve(session_factory, run(session_factory)["batch"])
    with session_factory() as session, session.begin(), pytest.raises(IntegrityError) as refused:
        insert_order(session, 1, "order:late:1")
    assert "orders are added only to a draft batch" in str(refused.value)
    with session_factory() as session, session.begin():
        session.add(PaymentBatch(key="batch-2", run_on=DAY, execution_on=DAY, bank_account_id=1,
                                 status="draft", created_by="hannu"))
        session.flush()
        insert_order(session, 2, "order:late:2")          # a draft takes orders
    with session_factory() as session, session.begin(), pytest.raises(IntegrityError) as moved:
        session.execute(text("UPDATE payment_orders SET batch_id = 1 WHERE key = 'order:late:2'"))
    assert "orders are added only to a draft batch" in str(moved.value)
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(PaymentOrder)
                               .where(PaymentOrder.batch_id == 1)).scalar_one() == 2


# --- reconcile: every approved order debited exactly once (issue 9 item 1) ----------------------


@pytest.fixture
def two_batches(session_factory, maija) -> int:
    """Batch 1 (Maija's rent and instalment) approved; Ville's money came later and his orders
    wait in draft batch 2."""
    approve(session_factory, run(session_factory)["batch"])
    with session_factory() as session, session.begin():
        ville = open_client(session, 1)
        receive(session, ville)
    assert run(session_factory)["batch"] == 2
    return ville


def test_a_clean_day_has_no_order_findings(session_factory, two_batches):
    with session_factory() as session:
        assert order_findings(session) == []


def test_a_batch_approved_behind_the_service_s_back_pays_orders_no_client_paid_for(
        session_factory, two_batches):
    """The state the race of issue 9 left: an approved batch holding draft orders."""
    ville = two_batches
    sql(session_factory, "UPDATE payment_batches SET status = 'approved' WHERE id = 2")
    rent, inst = f"order:rent:{ville}:2026-11", f"order:inst:{ville}:2026-11-02"
    with session_factory() as session:
        assert order_findings(session) == [
            ("order_batch_state", rent, "draft order in batch batch-2026-11-02-1-2: the batch "
             "is approved", 52000),
            ("order_batch_state", inst, "draft order in batch batch-2026-11-02-1-2: the batch "
             "is approved", 7500),
            ("batch_changed_after_approval", "batch-2026-11-02-1-2",
             f"order 3 ({rent}) was never approved; order 4 ({inst}) was never approved", 59500)]
    sql(session_factory, "UPDATE payment_orders SET status = 'approved' WHERE batch_id = 2")
    with session_factory() as session, session.begin():
        found = order_findings(session)
        assert found[:2] == [
            ("order_not_debited", rent, f"approved order in batch batch-2026-11-02-1-2: no "
             f"ledger transaction {rent} debits client:{ville}", 52000),
            ("order_not_debited", inst, f"approved order in batch batch-2026-11-02-1-2: no "
             f"ledger transaction {inst} debits client:{ville}", 7500)]
        result = reconcile.reconcile(session, FIONA, DAY, today=DAY)
        assert not result.clean
        flagged = session.execute(select(Flag.subject).where(
            Flag.kind == "reconciliation_mismatch", Flag.subject.like("order_not_debited:%"))
            .order_by(Flag.subject)).scalars().all()
        assert flagged == [f"order_not_debited:{inst}", f"order_not_debited:{rent}"]


def test_an_amount_changed_after_approval_no_longer_matches_its_debit(session_factory, maija):
    approve(session_factory, run(session_factory)["batch"])
    rent = f"order:rent:{maija}:2026-11"
    sql(session_factory, "UPDATE payment_orders SET amount_cents = 62000 WHERE key = :key", key=rent)
    with session_factory() as session:
        assert order_findings(session) == [
            ("order_debit_mismatch", rent, "approved order in batch batch-2026-11-02-1-1: the "
             "debit's legs are client:1 +520,00\u00a0€, outgoing -520,00\u00a0€, not client:1 "
             "+620,00\u00a0€, outgoing -620,00\u00a0€", 62000),
            ("batch_changed_after_approval", "batch-2026-11-02-1-1",
             f"order 1 ({rent}) differs from what was approved", 69500)]


def test_a_debit_for_a_draft_or_a_cancelled_order_is_a_finding(session_factory, maija):
    run(session_factory)
    rent, inst = f"order:rent:{maija}:2026-11", f"order:inst:{maija}:2026-11-02"
    with session_factory() as session, session.begin():
        ledger.post(session, rent, [(f"client:{maija}", 52000), ("outgoing", -52000)], DAY)
    sql(session_factory, "UPDATE payment_orders SET status = 'cancelled' WHERE key = :key", key=rent)
    with session_factory() as session, session.begin():
        ledger.post(session, inst, [(f"client:{maija}", 7500), ("outgoing", -7500)], DAY)
    with session_factory() as session:
        assert order_findings(session) == [
            ("order_debit_mismatch", rent, "cancelled order in batch batch-2026-11-02-1-1: "
             "client:1 was debited (client:1 +520,00\u00a0€, outgoing -520,00\u00a0€) for an order "
             "that is not approved", 52000),
            ("order_debit_mismatch", inst, "draft order in batch batch-2026-11-02-1-1: client:1 "
             "was debited (client:1 +75,00\u00a0€, outgoing -75,00\u00a0€) for an order that is "
             "not approved", 7500)]


# --- what approval covers: the digest (issue 9 item 6) -----------------------------------------


def approved_world(session_factory) -> None:
    with session_factory() as session, session.begin():
        scenario.world(session)
        receive(session, open_client(session, 0))
    approve(session_factory, run(session_factory)["batch"])


def test_an_iban_changed_after_approval_stops_the_export_and_raises_a_flag(
        cli, session_factory, out_dir):
    approved_world(session_factory)
    sql(session_factory, "UPDATE payment_orders SET creditor_iban = :iban WHERE kind = 'rent'",
        iban=ATTACKER_IBAN)
    out = out_dir / "maksut.xml"
    refused = cli("batch", "export", "1", "--out", str(out), user="fiona")
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr == ("valitystili: error: batch 1 was changed after approval: order 1 "
                              "(order:rent:1:2026-11) differs from what was approved; nothing "
                              "was exported\n")
    assert list(out_dir.iterdir()) == []
    with session_factory() as session:
        flag = session.execute(select(Flag).where(Flag.kind == "reconciliation_mismatch")).scalar_one()
        assert (flag.subject, flag.resolved_at) == (
            "batch_changed_after_approval:batch-2026-11-02-1-1", None)
        assert flag.detail == refused.stderr.removeprefix("valitystili: error: ").strip()
        assert entries(session, "batch.export_refused") == [
            {"problems": ["order 1 (order:rent:1:2026-11) differs from what was approved"]}]
        assert entries(session, "batch.export") == []
        assert session.get(PaymentBatch, 1).status == "approved"
        # The nightly reconcile names the same change, so the flag stays open while it holds.
        assert [(f.check, f.subject) for f in reconcile.check_all(session, DAY, today=DAY)
                if f.check == "batch_changed_after_approval"] == [
            ("batch_changed_after_approval", "batch-2026-11-02-1-1")]
    sql(session_factory, "UPDATE payment_orders SET creditor_iban = :iban WHERE kind = 'rent'",
        iban=scenario.LANDLORD_IBAN)
    exported = json.loads(cli.ok("--format", "json", "batch", "export", "1", "--out", str(out),
                                 "--yes", user="fiona"))
    assert (exported["first_export"], exported["orders"], exported["total_cents"]) == (True, 2, 59500)
    assert scenario.LANDLORD_IBAN.encode() in out.read_bytes()



def test_a_change_after_approval_is_told_in_finnish_and_kept_in_english(cli, session_factory,
                                                                        out_dir):
    """The refusal, its flag in `flags` and reconcile's finding in the reader's language; the
    stored flag and the audit entry keep the English (the same for every reader)."""
    approved_world(session_factory)
    sql(session_factory, "UPDATE payment_orders SET creditor_iban = :iban WHERE kind = 'rent'",
        iban=ATTACKER_IBAN)
    refused = cli("--lang", "fi", "batch", "export", "1", "--out", str(out_dir / "maksut.xml"),
                  user="fiona")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: maksuajoa 1 on muutettu hyväksynnän jälkeen: maksumääräys 1 "
           "(order:rent:1:2026-11) poikkeaa hyväksytystä; mitään ei viety\n")
    with session_factory() as session:
        flag = session.execute(select(Flag).where(Flag.kind == "reconciliation_mismatch")).scalar_one()
        assert flag.detail == ("batch 1 was changed after approval: order 1 (order:rent:1:2026-11) "
                               "differs from what was approved; nothing was exported")
        assert entries(session, "batch.export_refused") == [
            {"problems": ["order 1 (order:rent:1:2026-11) differs from what was approved"]}]
    shown = cli.ok("--lang", "fi", "--wide", "flags", user="hannu")
    assert ("maksuajoa 1 on muutettu hyväksynnän jälkeen: maksumääräys 1 (order:rent:1:2026-11) "
            "poikkeaa hyväksytystä; mitään ei viety") in shown
    found = cli("--lang", "fi", "--wide", "reconcile", "--check", user="fiona").stdout
    assert "maksumääräys 1 (order:rent:1:2026-11) poikkeaa hyväksytystä" in found


def test_more_than_three_changes_are_counted_not_named():
    from valitystili.payments.approval import ChangedAfterApproval

    problems = [Message("order {order} ({key}) was never approved", order=n, key=f"k{n}")
                for n in range(1, 6)]
    error = ChangedAfterApproval(PaymentBatch(id=7, key="b7"), problems)
    assert str(error) == ("batch 7 was changed after approval: order 1 (k1) was never approved; "
                          "order 2 (k2) was never approved; order 3 (k3) was never approved; and 2 "
                          "more; nothing was exported")
    assert error.message == str(error)

# --- taking orders out (issue 9 item 7) ----------------------------------------------------------


def remove(factory, order, actor=HILLA, batch="1", reason="Vuokranantajan tili suljettu"):
    return act(factory, batches.remove_order, actor, batch, str(order), reason=reason, today=DAY)


def test_an_order_taken_out_of_a_draft_is_paid_again_by_the_next_run(session_factory, maija):
    run(session_factory)
    removed = remove(session_factory, 1, HANNU)
    assert removed == {"batch": 1, "order": 1, "key": f"order:rent:{maija}:2026-11",
                       "client": maija, "amount_cents": 52000, "status": "cancelled",
                       "money_back": False, "batch_status": "draft"}
    with session_factory() as session:
        rent = session.execute(select(Obligation.status, Obligation.paid_cents).where(
            Obligation.key == f"rent:{maija}:2026-11")).one()
        assert tuple(rent) == ("open", 0)
        assert ledger.balance(session, f"client:{maija}") == 94000
        assert entries(session, "batch.remove") == [{
            "order": f"order:rent:{maija}:2026-11", "amount_cents": 52000,
            "reason": "Vuokranantajan tili suljettu", "money_back": False,
            "state": {"status": "draft", "created_by": "hannu", "approved_by": None,
                      "approved_digest": None, "orders": 1, "total_cents": 7500}}]
    again = run(session_factory)
    assert (again["batch"], [(r["key"], r["amount_cents"]) for r in again["order_rows"]]) == (
        1, [(f"order:rent:{maija}:2026-11:1", 52000)])


def test_a_removed_instalment_is_planned_again_under_a_further_key(session_factory, maija):
    run(session_factory)
    remove(session_factory, 2, HANNU)
    again = run(session_factory)
    assert [(r["key"], r["amount_cents"]) for r in again["order_rows"]] == [
        (f"order:inst:{maija}:2026-11-02:1", 7500)]


def test_an_order_taken_out_of_an_approved_batch_gives_the_money_back(session_factory, maija,
                                                                     tmp_path):
    approve(session_factory, run(session_factory)["batch"])
    with pytest.raises(Conflict) as refused:
        remove(session_factory, 1, HANNU)
    assert str(refused.value) == ("four-eyes: order 1 in approved batch 1 was created by hannu; "
                                  "another handler must take it out")
    assert remove(session_factory, 1)["money_back"] is True
    with session_factory() as session:
        assert ledger.balance(session, f"client:{maija}") == 94000 - 7500
        assert ledger.balance(session, "outgoing") == 7500
        assert ledger.transaction_legs(session, f"cancel:order:rent:{maija}:2026-11") == [
            (f"client:{maija}", -52000), ("outgoing", 52000)]
        batch = session.get(PaymentBatch, 1)
        assert batch.status == "approved"
        remaining = session.execute(select(PaymentOrder).where(
            PaymentOrder.status == "approved")).scalars().all()
        assert batch.approved_digest == batches.batch_digest(remaining)
        assert order_findings(session) == []
    exported = act(session_factory, batches.export_batch, FIONA, "1", tmp_path / "maksut.xml",
                   today=DAY)
    assert (exported["orders"], exported["total_cents"]) == (1, 7500)


def test_cancelling_an_approved_batch_gives_every_client_the_money_back(session_factory, maija,
                                                                       tmp_path):
    approve(session_factory, run(session_factory)["batch"])
    with pytest.raises(Conflict, match="^four-eyes: batch 1 was run by hannu; another handler "
                                       "must cancel it$"):
        act(session_factory, batches.cancel_batch, HANNU, "1", reason="Ajettu liian aikaisin",
            today=DAY)
    cancelled = act(session_factory, batches.cancel_batch, HILLA, "1",
                    reason="Ajettu liian aikaisin", today=DAY)
    assert (cancelled["status"], cancelled["orders"], cancelled["cancelled_orders"],
            cancelled["money_back_cents"]) == ("cancelled", 0, 2, 59500)
    with session_factory() as session:
        assert ledger.balance(session, f"client:{maija}") == 94000
        assert ledger.balance(session, "outgoing") == 0
        assert {status for _, _, _, status, _ in orders(session)} == {"cancelled"}
        assert order_findings(session) == []
    with pytest.raises(Conflict, match="^batch 1 is cancelled: only approved batches are exported$"):
        act(session_factory, batches.export_batch, FIONA, "1", tmp_path / "maksut.xml",
            today=DAY)
    again = run(session_factory)
    assert (again["batch_key"], [(r["key"], r["amount_cents"]) for r in again["order_rows"]]) == (
        "batch-2026-11-02-1-2", [(f"order:rent:{maija}:2026-11:1", 52000),
                                 (f"order:inst:{maija}:2026-11-02:1", 7500)])


def test_nothing_is_taken_out_of_an_exported_batch(cli, session_factory, tmp_path):
    approved_world(session_factory)
    cli.ok("batch", "export", "1", "--out", str(tmp_path / "maksut.xml"), "--yes", user="fiona")
    for args in (("remove", "1", "1"), ("cancel", "1")):
        result = cli("batch", *args, "--reason", "Liian myöhään", user="hilla")
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr == ("valitystili: error: batch 1 is exported: the bank has the "
                                 "file, so nothing is taken out of it here; ask the bank to "
                                 "stop a payment\n")


@pytest.mark.parametrize("reason, message", [
    ("   ", "reason is empty"),
    ("ok\u202eko", "reason contains the invisible formatting character U+202E "
                   "(RIGHT-TO-LEFT OVERRIDE)"),
])
def test_a_removal_needs_a_reason_in_plain_text(session_factory, maija, reason, message):
    run(session_factory)
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        remove(session_factory, 1, reason=reason)


def test_remove_and_cancel_on_the_command_line(cli, session_factory):
    approved_world(session_factory)
    result = cli("batch", "remove", "1", "order:rent:1:2026-11", "--reason", "Väärä viite",
                 user="hilla")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("order 1 (order:rent:1:2026-11) taken out of batch 1; the money is "
                             "back on the client's account\n")
    assert cli("batch", "remove", "1", "7", "--reason", "x", user="hilla").stderr == (
        "valitystili: error: batch 1 has no order 7\n")
    cancelled = json.loads(cli.ok("--format", "json", "batch", "cancel", "1", "--reason",
                                  "Uusi ajo", user="hilla"))
    assert (cancelled["status"], cancelled["cancelled_orders"], cancelled["money_back_cents"]) == (
        "cancelled", 1, 7500)


# --- the state each batch entry records (issue 9 item 6, for audit verify) -----------------------


def test_every_entry_that_changes_a_batch_records_its_state(session_factory, maija, tmp_path):
    run(session_factory)
    approve(session_factory, 1)
    remove(session_factory, 2)
    act(session_factory, batches.export_batch, FIONA, "1", tmp_path / "maksut.xml",
        today=DAY)
    with session_factory() as session, session.begin():
        receive(session, open_client(session, 1))
    run(session_factory)
    act(session_factory, batches.cancel_batch, HILLA, "2", reason="Uusi ajo", today=DAY)
    with session_factory() as session:
        recorded = [(e.action, e.subject, json.loads(e.detail)["state"]) for e in session.execute(
            select(AuditEntry).where(AuditEntry.action.like("batch.%"))
            .order_by(AuditEntry.position)).scalars()]
        digests = dict(session.execute(select(PaymentBatch.id, PaymentBatch.approved_digest)).all())
        rent_only = batches.batch_digest(session.execute(select(PaymentOrder).where(
            PaymentOrder.key == f"order:rent:{maija}:2026-11")).scalars())
    assert digests[1] == rent_only
    first, second = "batch-2026-11-02-1-1", "batch-2026-11-02-1-2"
    state = {"created_by": "hannu", "approved_by": None, "approved_digest": None}
    assert [(action, subject) for action, subject, _ in recorded] == [
        ("batch.run", first), ("batch.approve", first), ("batch.remove", first),
        ("batch.export", first), ("batch.run", second), ("batch.cancel", second)]
    assert [s for _, _, s in recorded] == [
        {**state, "status": "draft", "orders": 2, "total_cents": 59500},
        {**state, "status": "approved", "approved_by": "hilla",
         "approved_digest": recorded[1][2]["approved_digest"], "orders": 2, "total_cents": 59500},
        {**state, "status": "approved", "approved_by": "hilla", "approved_digest": rent_only,
         "orders": 1, "total_cents": 52000},
        {**state, "status": "exported", "approved_by": "hilla", "approved_digest": rent_only,
         "orders": 1, "total_cents": 52000},
        # Ville's rent and instalment, and Maija's instalment again (it was taken out).
        {**state, "status": "draft", "orders": 3, "total_cents": 59500 + 7500},
        {**state, "status": "cancelled", "orders": 0, "total_cents": 0},
    ]
    assert recorded[1][2]["approved_digest"] not in (None, rent_only)


# --- the payment file (issue 9 item 9) ------------------------------------------------------------


def test_an_existing_file_is_replaced_only_with_force(cli, session_factory, out_dir):
    approved_world(session_factory)
    out = out_dir / "maksut.xml"
    out.write_text("yesterday's file")
    refused = cli("batch", "export", "1", "--out", str(out), "--yes", user="fiona")
    assert (refused.exit_code, refused.stderr) == (
        2, f"valitystili: error: {out} already exists (use --force to replace it)\n")
    assert out.read_text() == "yesterday's file"
    with session_factory() as session:
        assert session.get(PaymentBatch, 1).status == "approved"
        assert entries(session, "batch.export") == []
    exported = json.loads(cli.ok("--format", "json", "batch", "export", "1", "--out", str(out),
                                 "--force", "--yes", user="fiona"))
    assert exported["first_export"] is True
    assert out.read_bytes().startswith(b"<?xml")
    assert sorted(p.name for p in out_dir.iterdir()) == ["maksut.xml"]
    assert out.stat().st_mode & 0o777 == 0o600


def test_a_file_appears_only_when_the_export_commits(session_factory, maija, out_dir):
    approve(session_factory, run(session_factory)["batch"])
    out = out_dir / "maksut.xml"
    with session_factory() as session:
        with session.begin():
            batches.export_batch(session, FIONA, "1", out, today=DAY)
            assert not out.exists()              # staged under a temporary name only
            session.rollback()
    assert list(out_dir.iterdir()) == []
    with session_factory() as session:
        assert session.get(PaymentBatch, 1).status == "approved"
    act(session_factory, batches.export_batch, FIONA, "1", out, today=DAY)
    assert [p.name for p in out_dir.iterdir()] == ["maksut.xml"]


# --- reads logged (issue 9 item 11) -------------------------------------------------------------


def test_showing_a_batch_and_a_dry_run_are_logged_with_the_clients_shown(cli, session_factory):
    with session_factory() as session, session.begin():
        scenario.world(session)
        for n in range(2):
            receive(session, open_client(session, n))
    cli.ok("batch", "run", "--date", "2.11.2026", "--dry-run", user="hannu")
    cli.ok("batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    cli.ok("batch", "show", "1", user="aune")
    with session_factory() as session:
        viewed = [(e.actor, e.action, e.subject, json.loads(e.detail)) for e in session.execute(
            select(AuditEntry).where(AuditEntry.action.in_(("batch.dry_run", "batch.view",
                                                            "batch.run")))
            .order_by(AuditEntry.position)).scalars()]
    assert [(actor, action, subject) for actor, action, subject, _ in viewed] == [
        ("hannu", "batch.dry_run", "execution 2026-11-02"),
        ("hannu", "batch.run", "batch-2026-11-02-1-1"),
        ("aune", "batch.view", "batch-2026-11-02-1-1")]
    assert viewed[0][3] == {"clients": 2, "orders": 4, "total_cents": 119000}
    assert viewed[2][3] == {"clients": 2}
    for client in ("1", "2"):
        history = cli.json("audit", "log", "--client", client, user="aune")
        assert [e["action"] for e in history if e["action"].startswith("batch.")] == [
            "batch.dry_run", "batch.view"]
    audit = cli("audit", "verify", user="aune")
    assert audit.exit_code == 0, audit.stdout + audit.stderr


# --- the migration (revision 0003) on a database with batches ----------------------------------


def test_upgrading_a_database_with_batches_keeps_the_orders_and_digests_the_approved_ones(backend):
    engine = db.make_engine(backend.url)
    try:
        db.upgrade(engine, "0002")
        with engine.begin() as connection:
            for statement in OLD_WORLD:
                connection.execute(text(statement), {"day": DAY})
        db.upgrade(engine, "0003")
        with db.session_factory(engine)() as session:
            rows = session.execute(select(PaymentOrder.key, PaymentOrder.created_by,
                                          PaymentOrder.approved_digest)
                                   .order_by(PaymentOrder.id)).all()
            # Only the columns revision 0003 has (later revisions add more to the models).
            approved = session.execute(select(
                PaymentOrder.key, PaymentOrder.client_id, PaymentOrder.amount_cents,
                PaymentOrder.creditor_name, PaymentOrder.creditor_iban, PaymentOrder.creditor_bic,
                PaymentOrder.reference, PaymentOrder.reference_kind, PaymentOrder.message,
                PaymentOrder.execution_on).where(PaymentOrder.batch_id == 1)
                .order_by(PaymentOrder.id)).all()
            assert [(key, who) for key, who, _ in rows] == [
                ("order:rent:1:2026-11", "hannu"), ("order:inst:1:2026-11-02", "hannu"),
                ("order:rent:1:2026-12", "hilla")]
            assert [digest == batches.order_digest(o) for o, (_, _, digest)
                    in zip(approved, rows)] == [True, True]
            assert rows[2][2] is None                        # a draft: nothing approved
            digests = dict(session.execute(select(PaymentBatch.id,
                                                  PaymentBatch.approved_digest)).all())
            assert digests == {1: batches.batch_digest(approved), 2: None}
            assert session.execute(text("SELECT order_id FROM statement_lines")).scalar_one() == 1
        with engine.begin() as connection, pytest.raises(IntegrityError):
            connection.execute(text(
                "INSERT INTO payment_orders (key, end_to_end_id, batch_id, client_id, kind, "
                "creditor_name, creditor_iban, amount_cents, execution_on, status, created_by) "
                "VALUES ('x', 'x', 1, 1, 'other', 'x', 'x', 1, :day, 'draft', 'x')"), {"day": DAY})
        with engine.begin() as connection:
            connection.execute(text("UPDATE payment_batches SET status = 'cancelled' WHERE id = 2"))
        with engine.begin() as connection, pytest.raises(RuntimeError, match=(
                "^1 payment batches are cancelled, which revision 0002 cannot hold; nothing was "
                "downgraded$")):
            command.downgrade(db.alembic_config(connection), "0002")
        assert db.current_revision(engine) == "0003"
        db.upgrade(engine)
    finally:
        engine.dispose()


OLD_WORLD = (
    "INSERT INTO bank_accounts (id, iban, name, ledger_code, created_by) VALUES "
    "(1, 'FI7433010001222090', 'Välitystili', 'bank:FI7433010001222090', 'admin')",
    "INSERT INTO clients (id, hetu, name, iban, language, criterion, worker, start_on, reference, "
    "rf_reference, ledger_code, exclusions, status, final_payout, created_by) VALUES (1, "
    "'010190-100W', 'Asiakas', 'FI5542345670000081', 'fi', 'evictions', 'sanna', :day, '10003', "
    "'RF4510003', 'client:1', '{}', 'open', false, 'sanna')",
    "INSERT INTO payment_batches (id, key, run_on, execution_on, bank_account_id, status, "
    "created_by, approved_by) VALUES (1, 'batch-2026-11-02-1-1', :day, :day, 1, 'exported', "
    "'hannu', 'hilla'), (2, 'batch-2026-12-01-1-1', :day, :day, 1, 'draft', 'hilla', NULL)",
    "INSERT INTO payment_orders (id, key, end_to_end_id, batch_id, client_id, kind, "
    "creditor_name, creditor_iban, amount_cents, reference, reference_kind, message, "
    "execution_on, status) VALUES "
    "(1, 'order:rent:1:2026-11', 'E1', 1, 1, 'rent', 'Vaasan Asunnot Oy', 'FI2112345600000785', "
    "52000, '12345672', 'SCOR', NULL, :day, 'cleared'), "
    "(2, 'order:inst:1:2026-11-02', 'E2', 1, 1, 'instalment', 'Asiakas', 'FI5542345670000081', "
    "7500, NULL, NULL, 'Välitystili 2.11.2026', :day, 'exported'), "
    "(3, 'order:rent:1:2026-12', 'E3', 2, 1, 'rent', 'Vaasan Asunnot Oy', 'FI2112345600000785', "
    "52000, '12345672', 'SCOR', NULL, :day, 'draft')",
    "INSERT INTO statements (id, bank_account_id, source, statement_id, file_name, imported_by) "
    "VALUES (1, 1, 'camt053', 'S1', 's.xml', 'fiona')",
    "INSERT INTO statement_lines (bank_account_id, statement_id, archive_id, level, booked_on, "
    "amount_cents, order_id, state) VALUES (1, 1, 'A1', 'entry', :day, -52000, 1, 'outgoing')",
)
