"""Reopening: a closed client comes back as a new service period of the same person, and nothing
is paid before a new plan is approved. Stored, on both backends."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers import scenario
from helpers.lifecycle import W, maija_paid_in_november, receive, run_day
from sqlalchemy import func, select

from valitystili import payments as batches
from valitystili.base.errors import Conflict, PermissionDenied, ValidationError
from valitystili.oversight import handover
from valitystili.people import lifecycle, periods
from valitystili.plans.versions import plan_in_force
from valitystili.store.models import (
    AuditEntry,
    Client,
    Obligation,
    PaymentOrder,
    ServicePeriod,
)

FEBRUARY_1 = date(2027, 2, 1)


def closed_maija(factory) -> int:
    """Maija closed on 6.11.2026 (she moved) and paid out on 9.11.2026."""
    number = maija_paid_in_november(factory)
    with factory() as session, session.begin():
        handover.close_service(session, W.hannu, str(number), closed_on=date(2026, 11, 6),
                               reason="moved", final_payout=True, today=date(2026, 11, 6))
    assert [(r["kind"], r["amount_cents"]) for r in run_day(factory, date(2026, 11, 9))] == [
        ("final", 34500)]
    return number


def test_a_reopened_client_is_paid_again_only_under_a_new_plan(session_factory):
    number = closed_maija(session_factory)
    with session_factory() as session, session.begin():
        before = session.get(Client, number)
        same = (before.id, before.hetu, before.reference, before.rf_reference, before.ledger_code)
        reopened = lifecycle.reopen_client(session, W.sanna, str(number), start_on=FEBRUARY_1,
                                           review_on=date(2027, 5, 3), today=date(2027, 1, 25))
    assert reopened.row() == {
        "client": 1, "period": 2, "start_on": FEBRUARY_1, "until_on": None,
        "review_on": date(2027, 5, 3), "criterion": "evictions", "worker": "sanna",
        "balance_cents": 0}
    with session_factory() as session:
        client = session.get(Client, number)
        assert (client.id, client.hetu, client.reference, client.rf_reference,
                client.ledger_code) == same
        assert (client.status, client.start_on, client.closed_on, client.final_payout) == (
            "open", FEBRUARY_1, None, False)
        assert [p.row() for p in periods.periods_of(session, client)] == [
            {"period": 1, "start_on": date(2026, 11, 1), "until_on": None,
             "closed_on": date(2026, 11, 6), "reason": "moved",
             "reason_label": "the client moved away", "note": None, "payout_to": None,
             "payee": None, "payout_status": "own_account"},
            {"period": 2, "start_on": FEBRUARY_1, "until_on": None, "closed_on": None,
             "reason": None, "reason_label": "", "note": None, "payout_to": None,
             "payee": None, "payout_status": None}]
        # The first period's plan, approved and effective 1.11.2026, is not in force again.
        assert plan_in_force(session, number, date(2027, 2, 2)) is None
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "client.reopen")
                                ).scalar_one()
        assert (entry.actor, json.loads(entry.detail)["period"]) == ("sanna", 2)

    # February's benefits come: without a plan for the new period nothing is paid.
    receive(session_factory, number, FEBRUARY_1, 56000, 38000)
    assert run_day(session_factory, FEBRUARY_1) == []
    assert run_day(session_factory, date(2027, 2, 2)) == []
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(Obligation).where(
            Obligation.client_id == number, Obligation.pay_on >= FEBRUARY_1)).scalar_one() == 0

    with session_factory() as session, session.begin():
        scenario.plan(session, W, number, scenario.WORKED_EXAMPLE.replace(
            "review = 2027-02-01", "review = 2027-05-03"), effective_on=FEBRUARY_1,
            today=date(2027, 2, 2))
    assert [(r["kind"], r["amount_cents"], r["key"]) for r in run_day(
        session_factory, date(2027, 2, 3))] == [("rent", 52000, "order:rent:1:2027-02")]


def test_reopening_is_refused_with_a_reason_and_writes_nothing(session_factory):
    number = closed_maija(session_factory)
    refusals = [
        (W.hannu, dict(), PermissionDenied,
         "user hannu (handler) may not client reopen; allowed roles: social_worker"),
        (W.sanna, dict(start_on=date(2026, 11, 6)), ValidationError,
         "the new start 6.11.2026 is not after the close date 6.11.2026"),
        (W.sanna, dict(review_on=None), ValidationError,
         "give the date the need for the service is next reviewed (--review DATE)"),
        (W.sanna, dict(review_on=date(2027, 1, 1)), ValidationError,
         "review date 1.1.2027 is in the past"),
        (W.sanna, dict(worker="hannu"), ValidationError,
         "worker hannu is a handler, not a social_worker"),
        (W.sanna, dict(criterion="other_weighty"), ValidationError,
         "criterion other_weighty needs the reason (--criterion-reason), e.g. securing a "
         "debt-restructuring programme"),
        (W.sanna, dict(criterion="rent_debt_fixed_term"), ValidationError,
         "criterion rent_debt_fixed_term is fixed-term: give --until 3–6 months after the "
         "start"),
    ]
    for actor, changes, error, message in refusals:
        options = dict(start_on=FEBRUARY_1, review_on=date(2027, 5, 3), today=date(2027, 1, 25))
        options.update(changes)
        with session_factory() as session:
            with pytest.raises(error) as refused:
                lifecycle.reopen_client(session, actor, str(number), **options)
            assert str(refused.value) == message
    with session_factory() as session:
        assert session.get(Client, number).status == "closed"
        assert session.execute(select(func.count()).select_from(ServicePeriod)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "client.reopen")).scalar_one() == 0


def test_an_open_client_or_a_final_payout_not_yet_approved_is_not_reopened(session_factory):
    number = maija_paid_in_november(session_factory)
    with session_factory() as session, pytest.raises(Conflict, match=(
            r"^client 1 is open: only a closed service is reopened or paid out$")):
        lifecycle.reopen_client(session, W.sanna, str(number), start_on=FEBRUARY_1,
                                review_on=date(2027, 5, 3), today=date(2027, 1, 25))
    with session_factory() as session, session.begin():
        handover.close_service(session, W.hannu, str(number), closed_on=date(2026, 11, 6),
                               reason="moved", final_payout=True, today=date(2026, 11, 6))
    with session_factory() as session, session.begin():       # drafted, not yet approved
        drafted = batches.run_batch(session, W.hannu, date(2026, 11, 9))
    with session_factory() as session, pytest.raises(Conflict) as refused:
        order = session.execute(select(PaymentOrder.id).where(
            PaymentOrder.key == "order:final:1:1")).scalar_one()
        lifecycle.reopen_client(session, W.sanna, str(number), start_on=FEBRUARY_1,
                                review_on=date(2027, 5, 3), today=date(2027, 1, 25))
    assert str(refused.value) == (
        f"client 1's final payout is order {order} in draft batch {drafted['batch']}: take it "
        "out (batch remove) or reopen once it is approved")


def test_cli_reopen_and_the_periods_on_client_show(cli, session_factory):
    number = closed_maija(session_factory)
    refused = cli("client", "reopen", str(number), "--start", "1.2.2027", user="sanna")
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.startswith("valitystili: error: Missing option '--review'")
    review = scenario.CLI_REVIEW
    result = cli("--format", "json", "client", "reopen", str(number), "--start", "1.2.2027",
                 "--review", review, user="sanna")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("valitystili: warning: client 1: set and approve a plan for the "
                             "new period (plan set, plan approve); nothing is paid before\n")
    assert json.loads(result.stdout)["period"] == 2
    shown = cli.json("client", "show", str(number), user="hannu")
    assert [(p["period"], p["start_on"], p["closed_on"], p["reason"]) for p in shown["periods"]
            ] == [(1, "2026-11-01", "2026-11-06", "moved"), (2, "2027-02-01", None, None)]
