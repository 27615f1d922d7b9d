"""Plans: the TOML file, its validation, versions, approval, the plan in force, show and edit."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from helpers.scenario import (
    AS_WRITTEN,
    BILLS_EXAMPLE,
    CLI_REVIEW,
    DESIGN_EXAMPLE,
    EFFECTIVE,
    TODAY,
    WORKED_EXAMPLE,
    WORKED_FULL_EXAMPLE,
    cli_world,
    client,
    plan,
    world,
)
from sqlalchemy import select

from valitystili.base.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from valitystili.oversight import plan_check
from valitystili.people import clients
from valitystili.plans import plans
from valitystili.plans.planfile import parse_plan
from valitystili.store.models import Plan, PlanIncome, PlanItem

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "plan.toml"
NBSP = "\u00a0"


def set_(session, w, text, **kw):
    kw.setdefault("effective_on", EFFECTIVE)
    kw.setdefault("today", TODAY)
    return plan_check.set_plan(session, w.sanna, "1", text, **kw)


def edited(old: str, new: str, text: str = DESIGN_EXAMPLE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# --- the file -----------------------------------------------------------------------------------


def test_the_design_example_is_stored_as_text_and_rows(session):
    w = world(session)
    client(session, w)
    result = set_(session, w, DESIGN_EXAMPLE)
    # §12's example expects 560,00 a month and pays 565,00: each month's electricity waits for
    # the next month's money (tests/plans/test_plan_check.py has the plan check's lines).
    warnings = result.pop("warnings")
    assert warnings[:2] == [
        "plan does not add up in 12 months; approving it needs --despite",
        ("11/2026: the outgoings 565,00\u00a0€ exceed the expected income 560,00\u00a0€; "
         "electricity paid 1.12.2026, after its legal due date 16.11.2026")]
    assert len(warnings) == 13
    assert result == {"client": 1, "version": 1, "status": "draft", "effective_on": EFFECTIVE,
                      "review_on": date(2027, 2, 1), "item_count": 2, "income_count": 1,
                      "expected_monthly_income_cents": 56000}
    stored = session.execute(select(Plan)).scalar_one()
    assert (stored.source, stored.author, stored.approved_by) == (DESIGN_EXAMPLE, "sanna", None)
    assert (stored.instalment_schedule, stored.instalment_mode, stored.instalment_cents,
            stored.keep_cents) == ("FREQ=WEEKLY;BYDAY=MO", "even", None, 0)
    items = session.execute(select(PlanItem).order_by(PlanItem.position)).scalars().all()
    assert [(i.position, i.kind, i.payee_id, i.amount_cents, i.bills, i.schedule, i.reference,
             i.reference_kind, i.message, i.paid_by, i.allow_partial) for i in items] == [
        (1, "rent", w.landlord, 52000, False, "FREQ=MONTHLY;BYMONTHDAY=2", "12345672", "SCOR",
         None, "account", True),                       # rent may be paid in part by default
        (2, "electricity", w.utility, 4500, False, "FREQ=MONTHLY;BYMONTHDAY=15",
         "RF18539007547034", "ISO", None, "account", False),
    ]
    incomes = session.execute(select(PlanIncome)).scalars().all()
    assert [(i.position, i.source, i.kind, i.amount_cents, i.schedule, i.route)
            for i in incomes] == [
        (1, "Kela", "basic_social_assistance", 56000, "FREQ=MONTHLY;BYMONTHDAY=1",
         "client_declared_account")]


def test_docs_example_is_the_design_example_and_loads(session):
    text = EXAMPLE_FILE.read_text(encoding="utf-8")
    assert text == WORKED_FULL_EXAMPLE       # DESIGN §12's file with §6's housing allowance
    w = world(session)
    client(session, w)
    assert set_(session, w, text)["item_count"] == 2
    # Every key it shows is at its default: the same plan as the lean worked example.
    full, lean = (parse_plan(session, t, effective_on=EFFECTIVE, today=TODAY)
                  for t in (text, WORKED_EXAMPLE))
    assert [i.tolerance_percent for i in full.incomes] == [20, None]
    assert replace(full, incomes=tuple(replace(i, tolerance_percent=None)
                                       for i in full.incomes)) == lean


def test_worked_example_expects_940_a_month(session):
    w = world(session)
    client(session, w)
    assert set_(session, w, WORKED_EXAMPLE)["expected_monthly_income_cents"] == 94000


REVIEW = "review = 2027-02-01\n"
OTHER_ITEM = """
[[pay]]
kind = "other"
payee = "Vaasan Sähkö Oy"
amount = "10.00"
due = "FREQ=MONTHLY;BYMONTHDAY=20"
message = "Varasto"
"""

KELA_RENT = """
[[pay]]
kind = "rent"
payee = "Vaasan Asunnot Oy"
amount = "210.00"
due = "FREQ=MONTHLY;BYMONTHDAY=2"
paid_by = "kela_direct"
"""


@pytest.mark.parametrize("text", [
    edited('payee = "Vaasan Sähkö Oy"', "payee = 2"),
    edited('payee = "Vaasan Sähkö Oy"', 'payee = "2"'),
    edited('reference = "RF18539007547034"', 'message = "Sähkö, asiakasnumero 4455"'),
    edited('reference = "12345672"               # Finnish or RF reference; or message = "..."\n'
           'paid_by = "account"', 'paid_by = "client"'),
    edited('amount = "45.00"', 'allow_partial = true\namount = "45,00"'),
    edited('mode = "even"', 'amount = "560.00"'),
    edited('mode = "even"', 'mode = "fixed"\namount = "100"'),
    BILLS_EXAMPLE,
    'review = "1.2.2027"\n',
    DESIGN_EXAMPLE + KELA_RENT,
    edited('amount = "520.00"', 'amount = "520.00"\npaid_directly = "150.00"'),
    edited('amount = "560.00"', 'amount = "560.00"\ntolerance = "5.00"'),
    'first_period = "2026-12"\n' + DESIGN_EXAMPLE,
    DESIGN_EXAMPLE + OTHER_ITEM + OTHER_ITEM.replace("[[pay]]", '[[pay]]\ntag = "storage"'),
])
def test_valid_variants_are_accepted(session, text):
    w = world(session)
    client(session, w)
    assert set_(session, w, text)["version"] == 1


def test_bills_items_have_no_amount_and_need_no_reference(session):
    w = world(session)
    client(session, w)
    set_(session, w, BILLS_EXAMPLE)
    item = session.execute(select(PlanItem).where(PlanItem.position == 2)).scalar_one()
    assert (item.kind, item.bills, item.amount_cents, item.schedule, item.reference,
            item.message) == ("electricity", True, None, None, None, None)


@pytest.mark.parametrize("text, message", [
    ("review = \n", "plan: not valid TOML: Invalid value (at line 1, column 10)"),
    ("# nothing yet\n", "plan: the file is empty"),
    (edited('payee = "Vaasan Asunnot Oy"', 'payee = "Vaasan Vesi Oy"'),
     "plan: pay 1: unknown payee 'Vaasan Vesi Oy'"),
    (edited('payee = "Vaasan Sähkö Oy"', "payee = 7"), "plan: pay 2: unknown payee 7"),
    (edited('reference = "12345672"', 'reference = "12345673"'),
     "plan: pay 1: reference 12345673 has a wrong check digit (expected 12345672)"),
    (edited('reference = "RF18539007547034"', 'reference = "RF98123456789012"'),
     "plan: pay 2: RF reference RF98123456789012 has wrong check digits "
     "(expected RF03123456789012)"),
    (edited('reference = "RF18539007547034"',
            'reference = "RF18539007547034"\nmessage = "sähkö"'),
     "plan: pay 2: give reference or message, not both"),
    (edited('reference = "RF18539007547034"', ""),
     "plan: pay 2: give reference or message, so that Vaasan Sähkö Oy can tell what the "
     "payment is for"),
    (edited('due = "FREQ=MONTHLY;BYMONTHDAY=2"', 'due = "MONTHLY"'),
     "plan: pay 1: schedule 'MONTHLY' has no FREQ (e.g. FREQ=MONTHLY;BYMONTHDAY=2)"),
    (edited('due = "FREQ=MONTHLY;BYMONTHDAY=15"', ""), "plan: pay 2: due is missing"),
    (edited('schedule = "FREQ=MONTHLY;BYMONTHDAY=1"', 'schedule = "FREQ=MONTHLY;BYMONTHDAY=32"'),
     "plan: income 1: schedule 'FREQ=MONTHLY;BYMONTHDAY=32' never occurs"),
    (edited('amount = "520.00"', 'amount = "520,001"'),
     "plan: pay 1: amount 520,001 has more than two decimals"),
    (edited('amount = "520.00"', 'amount = "5 2O"'),
     "plan: pay 1: amount '5 2O' is not a number (use e.g. 512,40 or 512.40)"),
    (edited('amount = "520.00"', "amount = 520.00"),
     'plan: pay 1: amount must be a string in euros, e.g. amount = "520.00"'),
    (edited('amount = "520.00"', 'amount = "0"'),
     f"plan: pay 1: amount must be more than 0,00{NBSP}€"),
    (edited('amount = "560.00"', 'amount = "-560.00"'),
     "plan: income 1: amount -560.00 is negative"),
    (edited('mode = "even"', 'amount = "560.01"'),
     f"plan: instalments: amount 560,01{NBSP}€ is larger than the expected monthly income "
     f"560,00{NBSP}€"),
    (edited('mode = "even"', 'mode = "even"\namount = "100.00"'),
     'plan: instalments: mode = "even" splits what is left; give it or amount, not both'),
    (edited('mode = "even"', 'mode = "fixed"'), 'plan: instalments: mode = "fixed" needs amount'),
    (edited('mode = "even"', 'mode = "weekly"'),
     "plan: instalments: mode 'weekly' is not one of even, fixed"),
    (edited('review = 2027-02-01', "review = 2026-10-19"),
     "plan: review date 19.10.2026 is in the past"),
    (edited('review = 2027-02-01', "review = 2027-02-01T09:00:00"),
     "plan: review must be a date (review = 2027-02-01), without a time"),
    (edited('review = 2027-02-01', 'review = "1.2.2027"\neffective = 2026-11-01'),
     "plan: unknown key 'effective' (known: first_period, income, instalments, pay, review)"),
    (edited('amount = "520.00"', 'amout = "520.00"'),
     "plan: pay 1: unknown key 'amout' (known: allow_partial, amount, bills, due, kind, message, "
     "paid_by, paid_directly, partial, payee, reference, tag)"),
    (edited('route = "client_declared_account"', 'rout = "agreement"'),
     "plan: income 1: unknown key 'rout' (known: amount, kind, route, schedule, source, "
     "tolerance)"),
    (edited('keep = "0.00"', 'keep = "0.00"\nbuffer = "10.00"'),
     "plan: instalments: unknown key 'buffer' (known: amount, keep, minimum, mode, schedule)"),
    (edited('amount = "45.00"', 'amount = "45.00"\nbills = true'),
     "plan: pay 2: give amount or bills = true, not both"),
    (edited('amount = "45.00"', 'amount = "45.00"\nallow_partial = "yes"'),
     "plan: pay 2: allow_partial must be true or false"),
    (edited('kind = "electricity"', 'kind = "water"'),
     "plan: pay 2: kind 'water' is not one of rent, electricity, other"),
    (edited('paid_by = "account"', 'paid_by = "kela"'),
     "plan: pay 1: paid_by 'kela' is not one of account, kela_direct, client"),
    (edited('amount = "520.00"', 'amount = "520.00"\npaid_directly = "520.00"'),
     f"plan: pay 1: paid_directly 520,00{NBSP}€ is not less than the rent 520,00{NBSP}€; an item "
     'the account does not pay at all is paid_by = "kela_direct"'),
    (edited('amount = "45.00"', 'amount = "45.00"\npaid_directly = "5.00"'),
     "plan: pay 2: paid_directly is the part of the rent Kela pays the landlord; only a rent "
     "item has one"),
    (DESIGN_EXAMPLE + OTHER_ITEM + OTHER_ITEM,
     "plan: pay 3 and pay 4 are both other without a tag; give one a tag of its own "
     '(tag = "storage"), and keep it in later versions, so that each is paid once a period'),
    (DESIGN_EXAMPLE + OTHER_ITEM + OTHER_ITEM.replace("[[pay]]", '[[pay]]\ntag = "Storage"'),
     "plan: pay 4: tag 'Storage' must be lower-case letters, digits, - and _ (at most 40)"),
    (edited('amount = "560.00"', 'amount = "560.00"\ntolerance = "lots"'),
     "plan: income 1: amount 'lots' is not a number (use e.g. 512,40 or 512.40)"),
    (edited('amount = "560.00"', 'amount = "560.00"\ntolerance = "120%"'),
     "plan: income 1: tolerance 120% is over 100 %"),
    (edited('amount = "560.00"', 'amount = "560.00"\ntolerance = 20'),
     'plan: income 1: tolerance must be a string, e.g. tolerance = "20%" or tolerance = "5.00"'),
    ('first_period = "12/2026"\n' + DESIGN_EXAMPLE,
     'plan: first_period must be a month, e.g. first_period = "2026-12"'),
    (edited("review = 2027-02-01                  # next review of the need for the service", ""),
     "plan: review is missing: every plan names the next review of the need for the service "
     "(review = 2027-02-01)"),
    (edited('kind = "basic_social_assistance"', 'kind = "housing_allowance"').replace(
        'route = "client_declared_account"', 'route = "payment_demand_ev241n"'),
     "plan: income 1: general housing allowance cannot be demanded with EV 241N; use route "
     "client_declared_account or agreement"),
    (edited('route = "client_declared_account"', 'route = "bank"'),
     "plan: income 1: route 'bank' is not one of client_declared_account, agreement, "
     "payment_demand_ev241n"),
    (edited('kind = "basic_social_assistance"', 'kind = "Toimeentulotuki"'),
     "plan: income 1: kind 'Toimeentulotuki' must be lower-case letters, digits and _ "
     "(e.g. housing_allowance)"),
    (edited('reference = "RF18539007547034"', 'message = "Maija 010594Y123W sähkö"'),
     "plan: pay 2: message contains a henkilötunnus; never put one in a payment message"),
    (edited('reference = "RF18539007547034"', f'message = "{"x" * 141}"'),
     "plan: pay 2: message has 141 characters; at most 140"),
    (REVIEW + '[pay]\nkind = "rent"\n', "plan: pay must be written as [[pay]] tables"),
    (REVIEW + "instalments = 5\n", "plan: instalments must be written as an [instalments] table"),
    (REVIEW + '[[pay]]\nkind = "rent"\n', "plan: pay 1: payee is missing"),
    (REVIEW + '[[income]]\nsource = ""\n', "plan: income 1: source is empty"),
])
def test_every_mistake_is_one_line_and_nothing_is_stored(session, text, message):
    w = world(session)
    client(session, w)
    with pytest.raises(ValidationError) as caught:
        set_(session, w, text)
    assert str(caught.value) == message
    assert session.execute(select(Plan)).first() is None


def test_effective_date_must_lie_within_the_service(session):
    w = world(session)
    client(session, w, until_on=date(2027, 3, 31))
    with pytest.raises(ValidationError, match=r"^plan: effective date 30\.9\.2026 is before the "
                                              r"client's start 1\.10\.2026$"):
        set_(session, w, DESIGN_EXAMPLE, effective_on=date(2026, 9, 30))
    with pytest.raises(ValidationError, match=r"^plan: effective date 1\.4\.2027 is after the "
                                              r"service ends 31\.3\.2027$"):
        set_(session, w, DESIGN_EXAMPLE, effective_on=date(2027, 4, 1))


def test_effective_defaults_to_today(session):
    w = world(session)
    client(session, w)
    assert plans.set_plan(session, w.sanna, "1", DESIGN_EXAMPLE,
                          today=date(2026, 10, 5))["effective_on"] == date(2026, 10, 5)


# --- versions and the plan in force -------------------------------------------------------------


def test_a_draft_pays_nothing_and_the_approved_version_stays_in_force(session):
    w = world(session)
    number = client(session, w)
    assert plan(session, w, number, approve=False) == 1
    assert plans.plan_in_force(session, number, date(2026, 12, 1)) is None
    plan_check.approve_plan(session, w.hannu, "1", despite=AS_WRITTEN)
    assert plans.plan_in_force(session, number, date(2026, 10, 31)) is None
    assert plans.plan_in_force(session, number, date(2026, 11, 1)).version == 1
    # Version 2 (a draft) changes nothing until approved.
    assert plan(session, w, number, WORKED_EXAMPLE, effective_on=date(2027, 1, 1),
                approve=False) == 2
    assert plans.plan_in_force(session, number, date(2027, 1, 15)).version == 1
    plan_check.approve_plan(session, w.hilla, "1", 2)           # the worked example adds up
    assert plans.plan_in_force(session, number, date(2026, 12, 31)).version == 1
    assert plans.plan_in_force(session, number, date(2027, 1, 1)).version == 2


def test_the_latest_approved_version_wins_whatever_its_date(session):
    w = world(session)
    number = client(session, w)
    plan(session, w, number, effective_on=date(2026, 12, 1))
    # A correction dated earlier replaces version 1 entirely once approved.
    plan(session, w, number, WORKED_EXAMPLE, effective_on=date(2026, 11, 1))
    assert plans.plan_in_force(session, number, date(2026, 12, 15)).version == 2


def test_approval_rules(session):
    w = world(session)
    number = client(session, w)
    with pytest.raises(NotFound, match=r"^client 1 has no plan to approve$"):
        plan_check.approve_plan(session, w.hannu, "1")
    plan(session, w, number, approve=False)
    plan(session, w, number, approve=False)
    with pytest.raises(NotFound, match=r"^client 1 has no plan version 3$"):
        plan_check.approve_plan(session, w.hannu, "1", 3)
    at = datetime(2026, 10, 21, 8, 30, tzinfo=timezone.utc)
    approved = plan_check.approve_plan(session, w.hannu, "1", at=at, despite=AS_WRITTEN)
    # The rents paid late without an intraday report: tests/plans/test_intraday_warning.py.
    assert len(approved.pop("warnings")) == 4
    assert approved == {
        "client": 1, "version": 2, "effective_on": EFFECTIVE, "approved_by": "hannu",
        "approved_at": "2026-10-21 08:30:00", "approved_despite": AS_WRITTEN}
    with pytest.raises(Conflict, match=r"^plan version 2 of client 1 is already approved "
                                       r"\(by hannu on 2026-10-21\)$"):
        plan_check.approve_plan(session, w.hilla, "1")
    with pytest.raises(Conflict, match=r"^plan version 1 of client 1 is older than approved "
                                       r"version 2; set a new version instead$"):
        plan_check.approve_plan(session, w.hilla, "1", 1)


def test_roles_for_plans(session):
    w = world(session)
    client(session, w)
    with pytest.raises(PermissionDenied, match=r"^user hannu \(handler\) may not plan set; "
                                               r"allowed roles: social_worker$"):
        plans.set_plan(session, w.hannu, "1", DESIGN_EXAMPLE, today=TODAY)
    set_(session, w, DESIGN_EXAMPLE)
    with pytest.raises(PermissionDenied, match=r"^user sanna \(social_worker\) may not plan "
                                               r"approve; allowed roles: handler$"):
        plan_check.approve_plan(session, w.sanna, "1")
    with pytest.raises(PermissionDenied, match=r"^user admin \(admin\) may not client read;"):
        plans.show_plan(session, w.admin, "1")


def test_a_closed_client_gets_no_new_plan(session):
    w = world(session)
    client(session, w)
    clients.close_client(session, w.sanna, "1", closed_on=date(2026, 10, 31))
    with pytest.raises(Conflict, match=r"^client 1 was closed on 31\.10\.2026$"):
        set_(session, w, DESIGN_EXAMPLE)


def test_show_plan_gives_every_part(session):
    w = world(session)
    number = client(session, w)
    plan(session, w, number, edited('mode = "even"', 'amount = "100.00"', WORKED_EXAMPLE))
    plan(session, w, number, BILLS_EXAMPLE, effective_on=date(2026, 12, 1), approve=False)
    shown = plans.show_plan(session, w.fiona, "1", version=1, today=date(2026, 11, 2))
    assert shown["created_at"] is not None and shown["approved_at"] is not None
    del shown["created_at"], shown["approved_at"]
    assert shown == {
        "client": 1, "version": 1, "status": "approved", "in_force": True,
        "in_force_version": 1, "effective_on": EFFECTIVE, "review_on": date(2027, 2, 1),
        "author": "sanna", "approved_by": "hannu", "approved_despite": AS_WRITTEN,
        "items": [
            {"position": 1, "kind": "rent", "payee": "Vaasan Asunnot Oy", "payee_id": 1,
             "iban": "FI2112345600000785", "amount_cents": 52000,
             "paid_directly_cents": 0, "account_cents": 52000, "bills": False,
             "due": "FREQ=MONTHLY;BYMONTHDAY=2", "reference": "12345672",
             "reference_kind": "SCOR", "message": None, "paid_by": "account",
             "allow_partial": True},
            {"position": 2, "kind": "electricity", "payee": "Vaasan Sähkö Oy", "payee_id": 2,
             "iban": "FI4950009420028730", "amount_cents": 4500,
             "paid_directly_cents": None, "account_cents": None, "bills": False,
             "due": "FREQ=MONTHLY;BYMONTHDAY=15", "reference": "RF18539007547034",
             "reference_kind": "ISO", "message": None, "paid_by": "account",
             "allow_partial": False},
        ],
        "incomes": [
            {"position": 1, "source": "Kela", "kind": "basic_social_assistance",
             "amount_cents": 56000, "schedule": "FREQ=MONTHLY;BYMONTHDAY=1",
             "route": "client_declared_account"},
            {"position": 2, "source": "Kela", "kind": "housing_allowance",
             "amount_cents": 38000, "schedule": "FREQ=MONTHLY;BYMONTHDAY=1",
             "route": "client_declared_account"},
        ],
        "instalments": {"schedule": "FREQ=WEEKLY;BYDAY=MO", "mode": "fixed",
                        "amount_cents": 10000, "keep_cents": 0, "minimum_cents": 0},
    }
    latest = plans.show_plan(session, w.fiona, "1", today=date(2026, 11, 2))
    assert (latest["version"], latest["status"], latest["in_force"], latest["in_force_version"],
            latest["approved_by"], latest["approved_at"], latest["instalments"]) == (
        2, "draft", False, 1, None, None, None)
    with pytest.raises(NotFound, match=r"^client 1 has no plan version 9$"):
        plans.show_plan(session, w.fiona, "1", version=9)


def test_show_plan_without_a_plan(session):
    w = world(session)
    client(session, w)
    with pytest.raises(NotFound, match=r"^client 1 has no plan yet; set one with `plan set`$"):
        plans.show_plan(session, w.hannu, "1")


def test_an_edit_from_an_old_version_is_refused(session):
    w = world(session)
    number = client(session, w)
    plan(session, w, number, approve=False)
    plan(session, w, number, approve=False)
    with pytest.raises(Conflict, match=r"^the plan of client 1 changed while it was being edited "
                                       r"\(now version 2\); edit it again$"):
        set_(session, w, WORKED_EXAMPLE, expect_version=1)


# --- CLI wiring ---------------------------------------------------------------------------------


def _cli_client(cli, tmp_path) -> Path:
    cli_world(cli)
    cli.ok("client", "open", "--hetu", "010594Y123W", "--name", "Maija", "--iban",
           "FI5542345670000081", "--criterion", "evictions", "--worker", "sanna",
           "--review", CLI_REVIEW,
           "--start", "1.11.2026", user="sanna")
    path = tmp_path / "plan.toml"
    # The CLI uses the real date; keep the review date ahead of it.
    review = date.today().replace(year=date.today().year + 1).isoformat()
    path.write_text(DESIGN_EXAMPLE.replace("2027-02-01", review), encoding="utf-8")
    return path


def test_cli_plan_set_and_approve(cli, tmp_path):
    path = _cli_client(cli, tmp_path)
    result = cli.json("plan", "set", "1", "--file", str(path), "--effective", "1.11.2026",
                      user="sanna")
    assert (result["version"], result["status"], result["effective_on"]) == (
        1, "draft", "2026-11-01")
    refused = cli("plan", "approve", "1", user="sanna")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: user sanna (social_worker) may not plan approve; allowed roles: "
           "handler\n")
    short = cli("plan", "approve", "100000010", user="hannu")
    assert (short.exit_code, short.stderr) == (
        2, ("valitystili: error: plan version 1 of client 1 does not add up: 11/2026: the "
            "outgoings 565,00\u00a0€ exceed the expected income 560,00\u00a0€; electricity paid "
            "1.12.2026, after its legal due date 16.11.2026 (and 11 more months; plan show "
            'lists them); approve it with --despite "reason"\n'))
    approved = cli.json("plan", "approve", "100000010", "--despite", "Kela's decision pending",
                        user="hannu")
    assert (approved["version"], approved["approved_by"], approved["approved_despite"]) == (
        1, "hannu", "Kela's decision pending")
    assert cli.json("plan", "show", "1", user="hannu")["approved_despite"] == (
        "Kela's decision pending")
    assert cli.json("audit", "log", "--client", "1", user="aune")[-2]["detail"]["despite"] == (
        "Kela's decision pending")


def test_a_plan_that_adds_up_is_approved_without_a_reason(session):
    w = world(session)
    number = client(session, w)
    assert set_(session, w, WORKED_EXAMPLE)["warnings"] == []
    assert plan_check.approve_plan(session, w.hannu, str(number))["approved_despite"] is None


def test_the_minimum_must_fit_in_what_the_plan_leaves(session):
    """940 - 520 - 45 leaves 375,00 a month, less than 100,00 on four Mondays: the minimum is
    paid first, so every rent falls short (2.11.2026: 940 less five Mondays' 500,00 leaves
    440,00 for the 520,00 rent) and, with rent unpaid, the electricity waits."""
    w = world(session)
    number = client(session, w)
    leaves_little = WORKED_EXAMPLE.replace('mode = "even"', 'mode = "even"\nminimum = "100.00"')
    warnings = set_(session, w, leaves_little)["warnings"]
    assert warnings[:2] == [
        "plan does not add up in 12 months; approving it needs --despite",
        ("11/2026: the outgoings 1\u00a0065,00\u00a0€ exceed the expected income 940,00\u00a0€; "
         "rent 440,00\u00a0€ of 520,00\u00a0€ paid by its legal due date 2.11.2026; electricity "
         "45,00\u00a0€ not paid by its legal due date 16.11.2026")]
    with pytest.raises(ValidationError, match=r"does not add up"):
        plan_check.approve_plan(session, w.hannu, str(number))


def test_cli_plan_set_error_is_one_line(cli, tmp_path):
    path = _cli_client(cli, tmp_path)
    path.write_text(edited('reference = "12345672"', 'reference = "12345673"'), encoding="utf-8")
    result = cli("plan", "set", "1", "--file", str(path), user="sanna")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "valitystili: error: plan: pay 1: reference 12345673 has a wrong check digit "
               "(expected 12345672)\n")


EDITOR = """\
import sys
from pathlib import Path
path = Path(sys.argv[-1])
change = {change!r}
if change is not None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(change[0], change[1]) if change[0] else change[1],
                    encoding="utf-8")
"""


def _editor(tmp_path, change) -> dict:
    script = tmp_path / f"editor{abs(hash(str(change)))}.py"
    script.write_text(EDITOR.format(change=change), encoding="utf-8")
    return {"EDITOR": f"{sys.executable} {script}"}


def test_cli_plan_edit_stores_a_new_version(cli, tmp_path):
    path = _cli_client(cli, tmp_path)
    cli.ok("plan", "set", "1", "--file", str(path), "--effective", "1.11.2026", user="sanna")
    result = cli("--format", "json", "plan", "edit", "1", "--effective", "1.12.2026",
                 user="sanna", env=_editor(tmp_path, ('amount = "520.00"', 'amount = "530.00"')))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["version"] == 2
    shown = cli.json("plan", "show", "1", user="hannu")
    assert (shown["version"], shown["effective_on"], shown["items"][0]["amount_cents"]) == (
        2, "2026-12-01", 53000)


@pytest.mark.parametrize("change, message", [
    (None, "plan not changed; nothing saved"),
    (("x", "x"), "plan not changed; nothing saved"),
    (("", "# only a comment\n\n"), "plan is empty; nothing saved"),
])
def test_cli_plan_edit_without_a_change_saves_nothing_and_exits_1(cli, tmp_path, change,
                                                                   message):
    path = _cli_client(cli, tmp_path)
    cli.ok("plan", "set", "1", "--file", str(path), user="sanna")
    result = cli("plan", "edit", "1", user="sanna", env=_editor(tmp_path, change))
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", f"valitystili: error: {message}\n")
    assert cli.json("plan", "show", "1", user="hannu")["version"] == 1


def test_cli_plan_edit_keeps_refused_text(cli, tmp_path):
    path = _cli_client(cli, tmp_path)
    cli.ok("plan", "set", "1", "--file", str(path), user="sanna")
    result = cli("plan", "edit", "1", user="sanna",
                 env=_editor(tmp_path, ('amount = "520.00"', 'amount = "5x"')))
    assert result.exit_code == 2
    prefix = ("valitystili: error: plan: pay 1: amount '5x' is not a number (use e.g. 512,40 or "
              "512.40) (your text is in ")
    assert result.stderr.startswith(prefix)
    kept = Path(result.stderr[len(prefix):].rstrip(")\n"))
    assert 'amount = "5x"' in kept.read_text(encoding="utf-8")
    kept.unlink()


def test_cli_plan_edit_of_a_new_client_starts_from_the_template(cli, tmp_path):
    _cli_client(cli, tmp_path)
    result = cli("plan", "edit", "1", user="sanna", env=_editor(tmp_path, None))
    assert (result.exit_code, result.stderr) == (
        1, "valitystili: error: plan not changed; nothing saved\n")
    refused = cli("plan", "edit", "1", user="hannu", env=_editor(tmp_path, None))
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: user hannu (handler) may not plan set; allowed roles: "
           "social_worker\n")
