"""Reports on stored data, both backends: balances as of a day, arrears aged to the day at each
bucket edge, reviews with days left, batches; their commands and their audit entries."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from helpers.scenario import HETU_2, WORKED_EXAMPLE, client, plan, world
from sqlalchemy import select
from oversight.test_reports_world import Money

from valitystili.base.errors import PermissionDenied
from valitystili.oversight import reports
from valitystili.store.models import AuditEntry, Lease
from valitystili.trust.auth import Actor

D = date
HANNU = Actor("hannu", "handler")
AS_OF = D(2026, 12, 31)


def views(session):
    return [(e.actor, e.subject, json.loads(e.detail)) for e in session.execute(
        select(AuditEntry).where(AuditEntry.action == "view").order_by(AuditEntry.id)).scalars()]


@pytest.fixture
def two_clients(session_factory):
    """Maija (1) with the worked-example plan and Pekka (2), both opened 1.10.2026."""
    with session_factory() as session, session.begin():
        w = world(session)
        client(session, w)
        plan(session, w, 1, WORKED_EXAMPLE)
        # Every client has a review date (DESIGN §2); Pekka's is after the reports' windows.
        client(session, w, hetu=HETU_2, name="Pekka Puupää", iban="FI4950009420028730",
               review_on=D(2027, 6, 1))
    return w


@pytest.fixture
def arrears(session_factory, two_clients):
    """Maija owes rent at 30, 31, 60, 61, 90 and 91 days past due on 31.12.2026; Pekka owes an
    electricity bill 5 days late, the rest of a part-paid rent, and a rent paid only after the
    day; a rent due on the day itself, and a cancelled one, are not arrears."""
    w = two_clients
    with session_factory() as session, session.begin():
        money = Money(session)
        for days, cents in ((30, 100), (31, 200), (60, 400), (61, 800), (90, 1600), (91, 3200)):
            money.obligation(1, "rent", cents, AS_OF - timedelta(days=days), payee_id=w.landlord,
                             key=f"rent:1:{days}")
        money.credit(2, 200000, D(2026, 11, 2), payer="Pekka")
        money.obligation(2, "electricity", 4500, D(2026, 12, 26), payee_id=w.utility)
        part_paid = money.obligation(2, "rent", 52000, D(2026, 12, 2), payee_id=w.landlord)
        money.order(2, "rent", 50000, D(2026, 12, 2), obligation=part_paid)
        paid_late = money.obligation(2, "rent", 52000, D(2026, 11, 2), payee_id=w.landlord)
        money.order(2, "rent", 52000, D(2027, 1, 4), obligation=paid_late)
        money.obligation(2, "rent", 52000, AS_OF, payee_id=w.landlord)
        money.obligation(2, "other", 9900, D(2026, 10, 1), payee_id=w.landlord).status = "cancelled"
    return w


def bucket_row(group, ident, name, b0, b31, b61, b91):
    return {"group": group, "id": ident, "name": name, "days_0_30_cents": b0,
            "days_31_60_cents": b31, "days_61_90_cents": b61, "days_over_90_cents": b91,
            "total_cents": b0 + b31 + b61 + b91}


@pytest.mark.parametrize("days, bucket", [
    (1, "days_0_30_cents"), (30, "days_0_30_cents"), (31, "days_31_60_cents"),
    (60, "days_31_60_cents"), (61, "days_61_90_cents"), (90, "days_61_90_cents"),
    (91, "days_over_90_cents"), (400, "days_over_90_cents")])
def test_bucket_edges(days, bucket):
    assert reports.bucket_of(days) == bucket


def test_arrears_are_aged_per_client_per_payee_and_in_total(session, arrears):
    w = arrears
    assert reports.arrears_report(session, HANNU, AS_OF) == [
        bucket_row("client", 1, "Maija Meikäläinen", 100, 600, 2400, 3200),
        bucket_row("client", 2, "Pekka Puupää", 4500 + 2000, 52000, 0, 0),
        bucket_row("payee", w.landlord, "Vaasan Asunnot Oy", 100 + 2000, 600 + 52000, 2400, 3200),
        bucket_row("payee", w.utility, "Vaasan Sähkö Oy", 4500, 0, 0, 0),
        bucket_row("total", None, "", 6600, 52600, 2400, 3200),
    ]
    assert views(session)[-1] == ("hannu", "report arrears", {"as_of": "2026-12-31", "clients": 2})


def test_arrears_as_of_a_later_day_count_the_late_payment(session, arrears):
    pekka = reports.arrears_items(session, D(2027, 1, 4), client_id=2)
    assert [(i["obligation"], i["days_past_due"], i["unpaid_cents"]) for i in pekka] == [
        ("rent:2:2026-12-02", 33, 2000), ("electricity:2:2026-12-26", 9, 4500),
        ("rent:2:2026-12-31", 4, 52000)]


def test_balances_as_of_a_day(session, two_clients):
    money = Money(session)
    money.credit(1, 94000, D(2026, 11, 2))
    money.order(1, "rent", 52000, D(2026, 11, 2))
    money.credit(2, 1000, D(2026, 11, 5), payer="Pekka")
    assert reports.balances_report(session, HANNU, D(2026, 11, 4)) == [
        {"client": 1, "name": "Maija Meikäläinen", "status": "open", "balance_cents": 42000},
        {"client": 2, "name": "Pekka Puupää", "status": "open", "balance_cents": 0}]
    assert [r["balance_cents"] for r in reports.balances_report(
        session, HANNU, D(2026, 11, 5))] == [42000, 1000]
    # Today (or later) reads the stored running balances.
    assert [r["balance_cents"] for r in reports.balances_report(
        session, HANNU, D(2027, 1, 1), today=D(2027, 1, 1))] == [42000, 1000]
    assert views(session)[-1] == ("hannu", "report balances", {"as_of": "2027-01-01", "clients": 2})


def test_reviews_fixed_terms_and_leases_with_days_left(session, two_clients):
    w = two_clients
    fixed = client(session, w, hetu="131052-308T", name="Eino Vanha", criterion="rent_debt_fixed_term",
                   until_on=D(2027, 1, 31), review_on=D(2027, 6, 1), exclusions={
                       "guardianship_need": False, "subsidy_against_will": False,
                       "kela_pays_landlord": False}, despite="Agreed with the client")
    session.add(Lease(client_id=2, payee_id=w.landlord, rent_cents=52000, start_on=D(2026, 11, 1),
                      end_on=D(2027, 3, 15), sublet=True))
    session.flush()
    assert reports.reviews_report(session, HANNU, D(2027, 1, 20)) == [
        {"client": fixed, "name": "Eino Vanha", "worker": "sanna", "what": "fixed_term_end",
         "on": D(2027, 1, 31), "days_left": 11},
        {"client": 1, "name": "Maija Meikäläinen", "worker": "sanna", "what": "review",
         "on": D(2027, 2, 1), "days_left": 12},
        {"client": 2, "name": "Pekka Puupää", "worker": "sanna", "what": "lease_end",
         "on": D(2027, 3, 15), "days_left": 54},
    ]


def test_batches_with_counts_totals_and_clearing(session, two_clients):
    money = Money(session)
    money.credit(1, 94000, D(2026, 11, 2))
    money.order(1, "rent", 52000, D(2026, 11, 2), status="cleared")
    money.order(1, "instalment", 7500, D(2026, 11, 2), instalment_on=D(2026, 11, 2))
    money.order(1, "instalment", 7500, D(2026, 11, 9), instalment_on=D(2026, 11, 9),
                status="cancelled")
    rows = reports.batches_report(session, HANNU, D(2026, 11, 30))
    assert [{k: r[k] for k in ("key", "execution_on", "status", "orders", "total_cents",
                               "cleared", "returned")} for r in rows] == [
        {"key": "batch-2026-11-02-test", "execution_on": D(2026, 11, 2), "status": "exported",
         "orders": 2, "total_cents": 59500, "cleared": 1, "returned": 0},
        {"key": "batch-2026-11-09-test", "execution_on": D(2026, 11, 9), "status": "exported",
         "orders": 0, "total_cents": 0, "cleared": 0, "returned": 0},
    ]
    assert reports.batches_report(session, HANNU, D(2026, 12, 31)) == []


def test_reports_need_the_report_role(session, two_clients):
    with pytest.raises(PermissionDenied):
        reports.balances_report(session, Actor("root", "admin"))


# --- the commands ------------------------------------------------------------------------------


def test_report_arrears_command(cli, arrears):
    rows = cli.json("report", "arrears", "--as-of", "31.12.2026", user="hannu")
    assert rows[-1] == bucket_row("total", None, "", 6600, 52600, 2400, 3200)
    csv_lines = cli.ok("--format", "csv", "report", "arrears", "--as-of", "2026-12-31",
                       user="aune").splitlines()
    assert csv_lines[0] == ("group,id,name,days_0_30_eur,days_31_60_eur,days_61_90_eur,"
                            "days_over_90_eur,total_eur")
    assert csv_lines[1] == "client,1,Maija Meikäläinen,1.00,6.00,24.00,32.00,63.00"
    assert csv_lines[-1] == "total,,,66.00,526.00,24.00,32.00,648.00"


def test_report_balances_command(cli, session_factory, two_clients):
    with session_factory() as session, session.begin():
        Money(session).credit(1, 94000, D(2026, 11, 2))
    result = cli("--format", "csv", "report", "balances", "--as-of", "2.11.2026", user="fiona")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "client,name,status,balance_eur", "1,Maija Meikäläinen,open,940.00",
        "2,Pekka Puupää,open,0.00"]
    assert result.stderr == "2 clients, 940,00\u00a0€ in all\n"


def test_report_reviews_and_batches_commands(cli, two_clients):
    reviews = cli.json("report", "reviews", "--as-of", "2027-01-20", user="sanna")
    assert reviews == [{"client": 1, "name": "Maija Meikäläinen", "worker": "sanna",
                        "what": "review", "on": "2027-02-01", "days_left": 12}]
    assert cli.ok("report", "batches", "--as-of", "2026-11-30", user="fiona") == "(none)\n"


def test_report_refused_to_an_admin(cli, two_clients):
    result = cli("report", "balances", user="admin")
    assert result.exit_code == 2
    assert result.stderr == ("valitystili: error: user admin (admin) may not report; allowed "
                             "roles: auditor, finance, handler, social_worker\n")
