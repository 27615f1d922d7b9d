"""The plan check (DESIGN §5): does the plan add up, with the daily batch's own decision run
forward over its months (``oversight.plan_check``).

The months and amounts below were worked out from DESIGN §6 and the Finnish banking calendar:
basic social assistance and housing allowance for the 1st arrive on the first banking day on or
after it (2.11.2026, 4.1.2027, 3.5.2027, 2.8.2027 when the 1st is closed), a pension for the 7th
on the last banking day on or before it; rent is agreed for the 2nd (legally due the next
banking day when closed); on each instalment day the ``minimum`` is paid first, and rent gets
what is above the minimums of the instalment days before the next income.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from helpers.scenario import (
    MONTHLY,
    UTILITY,
    client,
    pay_text,
    plan_text,
    world,
)
from sqlalchemy import select

from valitystili.base.errors import ValidationError
from valitystili.oversight import plan_check
from valitystili.store.models import AuditEntry
from valitystili.trust import audit

NBSP = "\u00a0"
KELA_ON_THE_1ST = (("basic_social_assistance", "560.00", MONTHLY + "1"),
                   ("housing_allowance", "380.00", MONTHLY + "1"))
PENSION_ON_THE_7TH = ("national_pension", "776.19", MONTHLY + "7")
ELECTRICITY_19TH = pay_text("electricity", "45.00", MONTHLY + "19", payee=UTILITY,
                            reference="RF18539007547034")


def eur(text: str) -> str:
    """Money as the check writes it: ``1 065,00 €`` with no-break spaces."""
    return re.sub(r"(\d) (\d{3},)", rf"\1{NBSP}\2", text).replace(" €", f"{NBSP}€")


def set_plan(session, text: str, start: date, **client_options) -> tuple[object, dict]:
    w = world(session)
    number = client(session, w, start_on=start, today=date(2026, 5, 20), **client_options)
    return w, plan_check.set_plan(session, w.sanna, str(number), text, effective_on=start,
                                  today=date(2026, 5, 20))


def test_a_pension_on_the_7th_with_rent_on_the_2nd_adds_up(session):
    """776,19 a month pays 520,00 rent and 45,00 electricity, averaged or run forward: each
    pension keeps the next rent, agreed for the 2nd, before the next pension comes. June's rent
    (pay day 2.6.2026) is before the first pension (Friday 5.6.) and is the client's own."""
    w, result = set_plan(session, plan_text(PENSION_ON_THE_7TH, items=ELECTRICITY_19TH),
                         date(2026, 6, 1))
    assert result["warnings"] == []
    approved = plan_check.approve_plan(session, w.hannu, "1")
    assert approved["approved_despite"] is None
    assert plan_check.show_plan(session, w.hannu, "1")["problems"] == []


def test_a_first_period_before_the_first_pension_does_not_add_up_for_three_months(session):
    """The same plan naming first_period 2026-06: the account pays June's rent too, which it can
    only do when the first pension comes on Friday 5.6., after the rent's legal due date 2.6.
    That pension then holds 776,19 - 520,00 = 256,19 for July's rent (pay day 2.7., before
    July's pension on 7.7.) and none of it may go to the electricity (18.6.) while the coming
    rent needs it. July's pension pays July's rest 263,81 and leaves 512,38 for August's rent
    (2.8. a Sunday: pay day Friday 31.7., legally due Monday 3.8.); August's pension (Friday
    7.8.) pays its last 7,62 and both electricity bills, and from September it adds up."""
    text = 'first_period = "2026-06"\n' + plan_text(PENSION_ON_THE_7TH, items=ELECTRICITY_19TH)
    _w, result = set_plan(session, text, date(2026, 6, 1))
    assert result["warnings"] == [
        "plan does not add up in 3 months; approving it needs --despite",
        ("6/2026: rent paid 5.6.2026, after its legal due date 2.6.2026; electricity paid "
         "7.8.2026, after its legal due date 22.6.2026"),
        eur("7/2026: rent 256,19 € of 520,00 € paid by its legal due date 2.7.2026; electricity "
            "paid 7.8.2026, after its legal due date 20.7.2026"),
        eur("8/2026: rent 512,38 € of 520,00 € paid by its legal due date 3.8.2026")]


def test_rent_falls_short_in_exactly_the_months_with_five_instalment_days(session):
    """940,00 a month, rent 520,00 and a minimum of 90,00 on every Monday: four Mondays leave
    940 - 520 - 360 = 60,00, five need 30,00 more than there is. The minimums come first, so
    on the rent's pay day of a five-Monday month there are 940 - 5 × 90 = 490,00 for it; the
    30,00 left open is paid from the next month's money, whose four Mondays leave room for it.
    (Averaged, 4.35 Mondays × 90,00 + 520,00 = 911,25 fits in 940,00: the old check passed it.)
    From 11/2026 to 10/2027 the months with five instalment Mondays are 11/2026 (2.-30.11.),
    3/2027 (1.-29.3., Easter Monday 29.3. paid 30.3.), 5/2027 (3.-31.5.) and 8/2027 (2.-30.8.);
    the rent's legal due dates there are 2.11., 2.3., 3.5. (2.5. a Sunday) and 2.8."""
    text = plan_text(*KELA_ON_THE_1ST, instalments='mode = "even"\nminimum = "90.00"\n')
    _w, result = set_plan(session, text, date(2026, 11, 1))
    short = eur("the outgoings 970,00 € exceed the expected income 940,00 €; rent 490,00 € of "
                "520,00 € paid by its legal due date")
    assert result["warnings"] == [
        "plan does not add up in 4 months; approving it needs --despite",
        f"11/2026: {short} 2.11.2026",
        f"3/2027: {short} 2.3.2027",
        f"5/2027: {short} 3.5.2027",
        f"8/2027: {short} 2.8.2027",
    ]


def test_the_minimum_is_paid_before_the_rent_when_money_is_short(session):
    """Rent 900,00 of 940,00 and a minimum of 20,00 on Mondays: the minimum is paid first while
    money lasts and rent takes what is above the minimums of the instalment days before the
    next income (2.11.2026: 940 - 5 × 20 = 840,00 for the 900,00 rent), so every month's rent
    falls short and no month's instalments fall below the minimum."""
    text = plan_text(*KELA_ON_THE_1ST, rent="900.00",
                     instalments='mode = "even"\nminimum = "20.00"\n')
    _w, result = set_plan(session, text, date(2026, 11, 1))
    assert result["warnings"][:2] == [
        "plan does not add up in 12 months; approving it needs --despite",
        eur("11/2026: the outgoings 1 000,00 € exceed the expected income 940,00 €; rent 840,00 € "
            "of 900,00 € paid by its legal due date 2.11.2026")]
    assert [line for line in result["warnings"] if "instalments" in line] == []


def test_a_fixed_instalment_the_money_cannot_pay_is_reported(session):
    """940,00 a month, rent 520,00, a fixed 100,00 every Monday: four Mondays (400,00) fit in the
    420,00 left, five (500,00) do not. A four-Monday month leaves 20,00 on the account, and the
    five-Monday month pays it out on its last Monday: 11/2026 420,00 (nothing left before it),
    3/2027 480,00 (20,00 left in each of 1/2027 and 2/2027 and 12/2026's 20,00 before them),
    5/2027 440,00 (April's 20,00), 8/2027 460,00 (June's and July's)."""
    text = plan_text(*KELA_ON_THE_1ST, instalments='amount = "100.00"\n')
    _w, result = set_plan(session, text, date(2026, 11, 1))

    def short(paid: str) -> str:
        return eur(f"the outgoings 1 020,00 € exceed the expected income 940,00 €; instalments "
                   f"{paid} €, less than the fixed amount 100,00 € on 5 instalment days "
                   "(500,00 €)")
    assert result["warnings"] == [
        "plan does not add up in 4 months; approving it needs --despite",
        f"11/2026: {short('420,00')}", f"3/2027: {short('480,00')}",
        f"5/2027: {short('440,00')}", f"8/2027: {short('460,00')}"]


def test_a_fixed_term_is_checked_to_its_last_day(session):
    """DESIGN §12's example (560,00 in, 565,00 out) for a service that ends on 15.1.2027: the
    months looked at are November to January; each month's electricity waits for the next
    month's money, and January's, with nothing coming after the last day, is not paid."""
    text = plan_text(("basic_social_assistance", "560.00", MONTHLY + "1"),
                     items=pay_text("electricity", "45.00", MONTHLY + "15", payee=UTILITY,
                                    reference="RF18539007547034"))
    _w, result = set_plan(session, text, date(2026, 11, 1), until_on=date(2027, 1, 15))
    exceed = eur("the outgoings 565,00 € exceed the expected income 560,00 €")
    assert result["warnings"] == [
        "plan does not add up in 3 months; approving it needs --despite",
        f"11/2026: {exceed}; electricity paid 1.12.2026, after its legal due date 16.11.2026",
        f"12/2026: {exceed}; electricity paid 4.1.2027, after its legal due date 15.12.2026",
        eur(f"1/2027: {exceed}; electricity 45,00 € not paid by its legal due date 15.1.2027")]


# --- DESIGN §6 worked example 3: approval despite, audited and shown -----------------------------

EXAMPLE_3 = plan_text(("basic_social_assistance", "637.00", MONTHLY + "1"), rent="687.00",
                      items=pay_text("electricity", "58.00", MONTHLY + "15", payee=UTILITY,
                                     reference="RF18539007547034"))
#: 2.11.2026 (1.11. a Sunday): 637,00 arrive on the rent's pay day and all go to the rent; the
#: electricity (15.11. a Sunday, legally due Monday 16.11.) waits while the rent is unpaid.
NOVEMBER_3 = eur("11/2026: the outgoings 745,00 € exceed the expected income 637,00 €; rent "
                 "637,00 € of 687,00 € paid by its legal due date 2.11.2026; electricity 58,00 € "
                 "not paid by its legal due date 16.11.2026")
REASON = "rent debt plan agreed with the landlord"


def test_worked_example_3_is_approved_only_despite_a_reason_recorded_and_shown(session):
    w, result = set_plan(session, EXAMPLE_3, date(2026, 11, 1))
    problems = result["warnings"][1:]
    assert (result["warnings"][0], problems[0], len(problems)) == (
        "plan does not add up in 12 months; approving it needs --despite", NOVEMBER_3, 12)
    with pytest.raises(ValidationError) as refused:
        plan_check.approve_plan(session, w.hannu, "1")
    assert str(refused.value) == (
        f"plan version 1 of client 1 does not add up: {NOVEMBER_3} (and 11 more months; plan "
        'show lists them); approve it with --despite "reason"')
    assert plan_check.approve_plan(session, w.hannu, "1", despite=REASON)[
        "approved_despite"] == REASON
    approved = session.execute(select(AuditEntry).where(
        AuditEntry.action == "plan.approve")).scalar_one()
    detail = audit.shown(session, [approved])[approved.hash]     # the personal values put back
    assert (detail["despite"], detail["problems"]) == (REASON, problems)
    shown = plan_check.show_plan(session, w.hannu, "1")
    assert (shown["approved_despite"], shown["problems"]) == (REASON, problems)


def test_cli_plan_show_lists_the_months_that_do_not_add_up(cli, session_factory):
    with session_factory() as session, session.begin():
        w, _result = set_plan(session, EXAMPLE_3, date(2026, 11, 1))
        plan_check.approve_plan(session, w.hannu, "1", despite=REASON)
    shown = cli.ok("plan", "show", "1", user="hannu")
    section = shown.split("does not add up\n", 1)[1]
    assert NOVEMBER_3.split(";")[0] in section
    assert cli.json("plan", "show", "1", user="hannu")["problems"][0] == NOVEMBER_3
