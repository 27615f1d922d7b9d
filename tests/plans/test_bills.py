"""Bills: only for a plan's bills = true payee, one reference or message, never twice."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import (
    BILLS_EXAMPLE,
    CLI_REVIEW,
    LANDLORD,
    UTILITY,
    cli_world,
    client,
    plan,
    world,
)
from sqlalchemy import select

from valitystili.base.errors import Conflict, PermissionDenied, ValidationError
from valitystili.plans import bills
from valitystili.store.models import AuditEntry, Bill

NBSP = "\u00a0"


def add(session, w, **kw):
    kw.setdefault("payee", UTILITY)
    kw.setdefault("amount_cents", 4520)
    kw.setdefault("due_on", date(2026, 12, 15))
    kw.setdefault("today", date(2026, 11, 20))
    if "message" not in kw:
        kw.setdefault("reference", "RF18 5390 0754 7034")
    return bills.add_bill(session, w.hannu, "1", **kw)


@pytest.fixture
def w(session):
    w = world(session)
    number = client(session, w)
    plan(session, w, number, BILLS_EXAMPLE)
    return w


def test_a_bill_for_the_bills_payee_is_stored_with_the_items_kind(session, w):
    added = add(session, w)
    assert added == {"bill": 1, "client": 1, "payee": UTILITY, "kind": "electricity",
                     "amount_cents": 4520, "due_on": date(2026, 12, 15),
                     "reference": "RF18539007547034", "reference_kind": "ISO", "message": None}
    by_message = add(session, w, message="Lasku 2026-11 asiakas 4455", amount_cents=3990)
    assert (by_message["reference"], by_message["message"]) == (None, "Lasku 2026-11 asiakas 4455")
    rows = bills.list_bills(session, w.fiona, "1")
    assert [(r["bill"], r["amount_cents"], r["status"], r["paid_cents"]) for r in rows] == [
        (1, 4520, "entered", 0), (2, 3990, "entered", 0)]
    actions = session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions[-3:] == ["bill.add", "bill.add", "bill.view"]


def test_the_same_bill_is_refused_whatever_its_due_date(session, w):
    add(session, w)
    with pytest.raises(Conflict) as caught:
        add(session, w, reference="RF18539007547034", due_on=date(2027, 1, 15))
    assert str(caught.value) == (f"bill 1 of client 1 to {UTILITY} for 45,20{NBSP}€ with "
                                 "reference RF18539007547034 is already entered (due 15.12.2026)")
    add(session, w, amount_cents=4521)           # another amount is another bill
    add(session, w, message="Lasku 11/2026")
    with pytest.raises(Conflict, match=r"with message 'Lasku 11/2026' is already entered"):
        add(session, w, message=" Lasku  11/2026 ")
    assert len(session.execute(select(Bill)).all()) == 3


def test_a_payee_without_a_bills_item_gets_no_bills(session, w):
    with pytest.raises(Conflict) as caught:
        add(session, w, payee=LANDLORD, reference="12345672")
    assert str(caught.value) == (
        f"the plan of client 1 in force on 15.12.2026 (version 1) pays no bills to {LANDLORD}: "
        "it needs a [[pay]] item with bills = true for that payee")


def test_no_plan_in_force_means_no_bills(session):
    w = world(session)
    number = client(session, w)
    plan(session, w, number, BILLS_EXAMPLE, approve=False)
    with pytest.raises(Conflict) as caught:
        add(session, w)
    assert str(caught.value) == ("client 1 has no approved plan in force on 15.12.2026; bills "
                                 "are paid only under a plan's bills = true item")


def test_an_overdue_bill_is_checked_against_todays_plan(session, w):
    # Due before the plan took effect, entered while it is in force: today's plan decides.
    assert add(session, w, due_on=date(2026, 10, 15))["due_on"] == date(2026, 10, 15)


@pytest.mark.parametrize("changes, message", [
    ({"reference": "12345672", "message": "x"}, "give --reference or --message, not both"),
    ({"reference": None, "message": "  "}, f"give --reference or --message, so that {UTILITY} "
                                           "can tell what the payment is for"),
    ({"reference": "12345673"}, "reference 12345673 has a wrong check digit (expected 12345672)"),
    ({"amount_cents": 0}, f"bill amount must be more than 0,00{NBSP}€"),
    ({"message": "hetu 010594Y123W"},
     "bill: message contains a henkilötunnus; never put one in a payment message"),
])
def test_bad_bills(session, w, changes, message):
    with pytest.raises(ValidationError) as caught:
        add(session, w, **changes)
    assert str(caught.value) == message
    assert session.execute(select(Bill)).first() is None


def test_only_handlers_enter_bills(session, w):
    with pytest.raises(PermissionDenied, match=r"^user sanna \(social_worker\) may not bill add; "
                                               r"allowed roles: handler$"):
        bills.add_bill(session, w.sanna, "1", payee=UTILITY, amount_cents=100,
                       due_on=date(2026, 12, 1), message="x")


def test_cli_bill_add_and_list(cli, tmp_path):
    cli_world(cli)
    cli.ok("client", "open", "--hetu", "010594Y123W", "--name", "Maija", "--iban",
           "FI5542345670000081", "--criterion", "evictions", "--worker", "sanna", "--start",
           "1.11.2026", "--review", CLI_REVIEW, user="sanna")
    review = date.today().replace(year=date.today().year + 1).isoformat()
    path = tmp_path / "plan.toml"
    path.write_text(BILLS_EXAMPLE.replace("2027-02-01", review), encoding="utf-8")
    cli.ok("plan", "set", "1", "--file", str(path), "--effective", "1.11.2026", user="sanna")
    cli.ok("plan", "approve", "1", user="hannu")
    args = ("bill", "add", "1", "--payee", UTILITY, "--amount", "45,20", "--due", "15.12.2026",
            "--reference", "RF18539007547034")
    added = cli.json(*args, user="hannu")
    assert (added["bill"], added["kind"], added["amount_cents"]) == (1, "electricity", 4520)
    again = cli(*args, user="hannu")
    assert (again.exit_code, again.stderr) == (
        2, f"valitystili: error: bill 1 of client 1 to {UTILITY} for 45,20{NBSP}€ with reference "
           "RF18539007547034 is already entered (due 15.12.2026)\n")
    assert cli.ok("bill", "list", "1", user="hannu").splitlines()[2].split() == [
        "1", "1", "Vaasan", "Sähkö…", "electricity", "45,20", "2026-12-15",
        "RF18539007547034", "entered", "0,00"]
    assert "Vaasan Sähkö Oy" in cli.ok("bill", "list", "1", "--wide", user="hannu")
