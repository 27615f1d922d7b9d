"""The batch's per-client decision (DESIGN §6, version 2), without a database.

Scenarios are built from plain values: obligations with their days from ``plans.due``, incomes
arriving on Kela's days, and ``project`` running the decision day by day as the batch would."""

from __future__ import annotations

from datetime import date

import pytest

from valitystili.base.banking_calendar import CALENDAR
from valitystili.payments.decision import (
    ClientDay,
    ComingIncome,
    Instalments,
    OpenObligation,
    decide_client,
    project,
)
from valitystili.plans.due import obligation_days

MONDAYS = Instalments("FREQ=WEEKLY;BYDAY=MO", "even")
MONTHLY_FIRST = (("basic_social_assistance", "FREQ=MONTHLY;BYMONTHDAY=1"),
                 ("housing_allowance", "FREQ=MONTHLY;BYMONTHDAY=1"))


def owed(kind: str, year: int, month: int, day: int, cents: int, *, incomes=MONTHLY_FIRST,
         partial: bool | None = None, earlier_orders: int = 0) -> OpenObligation:
    due_on, pay_on = obligation_days(date(year, month, day), incomes, CALENDAR)
    return OpenObligation(hash((kind, year, month)) % 10**6, f"{kind}:1:{year}-{month:02d}", kind,
                          cents, due_on, pay_on, kind == "rent" if partial is None else partial,
                          earlier_orders)


def benefits(year: int, month: int, sa: int = 56000, ha: int = 38000) -> list[ComingIncome]:
    arrival = CALENDAR.on_or_after(date(year, month, 1))
    return [ComingIncome(arrival, sa, "basic_social_assistance"),
            ComingIncome(arrival, ha, "housing_allowance")]


def month(year: int, month_: int, rent: int = 52000, power: int = 4500) -> list[OpenObligation]:
    return [owed("rent", year, month_, 2, rent), owed("electricity", year, month_, 15, power)]


def paid(projected) -> list[tuple[date, str, int]]:
    return [(p.on, p.payment.kind, p.payment.amount_cents) for p in projected]


def test_worked_example_1_november_2026():
    got = project(1, 0, month(2026, 11) + month(2026, 12), benefits(2026, 11) + benefits(2026, 12),
                  MONDAYS, date(2026, 11, 2), date(2026, 11, 30))
    assert paid(got) == [
        (date(2026, 11, 2), "rent", 52000), (date(2026, 11, 2), "instalment", 7500),
        (date(2026, 11, 9), "instalment", 7500), (date(2026, 11, 13), "electricity", 4500),
        (date(2026, 11, 16), "instalment", 7500), (date(2026, 11, 23), "instalment", 7500),
        (date(2026, 11, 30), "instalment", 7500)]


def test_worked_example_2_a_holiday_before_the_2nd_moves_the_pay_day_to_the_money():
    may_rent = owed("rent", 2026, 5, 2, 52000)
    assert (may_rent.due_on, may_rent.pay_on) == (date(2026, 5, 4), date(2026, 5, 4))
    got = project(1, 0, month(2026, 4) + month(2026, 5),
                  benefits(2026, 4) + benefits(2026, 5) + benefits(2026, 6),
                  MONDAYS, date(2026, 4, 1), date(2026, 5, 4))
    assert paid(got) == [
        (date(2026, 4, 2), "rent", 52000), (date(2026, 4, 7), "instalment", 9375),
        (date(2026, 4, 13), "instalment", 9375), (date(2026, 4, 15), "electricity", 4500),
        (date(2026, 4, 20), "instalment", 9375), (date(2026, 4, 27), "instalment", 9375),
        (date(2026, 5, 4), "rent", 52000), (date(2026, 5, 4), "instalment", 9375)]


def test_worked_example_3_short_money_pays_all_of_it_to_the_rent():
    day = ClientDay(1, 63700, tuple(month(2026, 11, rent=68700, power=5800)), MONDAYS,
                    (ComingIncome(date(2026, 12, 1), 63700),))
    decision = decide_client(day, date(2026, 11, 2))
    assert [(p.kind, p.amount_cents) for p in decision.payments] == [("rent", 63700)]
    assert [(n.kind, n.amount_cents) for n in decision.notices] == [("insufficient_funds", 5000)]
    assert decision.remaining_cents == 0
    later = decide_client(ClientDay(1, 0, (owed("rent", 2026, 11, 2, 5000),
                                           owed("electricity", 2026, 11, 15, 5800)), MONDAYS,
                                    (ComingIncome(date(2026, 12, 1), 63700),)),
                          date(2026, 11, 13))
    assert later.payments == ()
    assert sorted((n.kind, n.subject, n.amount_cents) for n in later.notices) == [
        ("arrears", "rent:1:2026-11", 5000),
        ("insufficient_funds", "electricity:1:2026-11", 5800),
        ("insufficient_funds", "rent:1:2026-11", 5000)]


def test_rent_comes_before_an_overdue_bill_and_the_rest_waits_for_it():
    # 520,00 on the account, an overdue 60,00 electricity bill and a 500,00 rent.
    overdue = owed("electricity", 2026, 10, 15, 6000)
    day = ClientDay(1, 52000, (overdue, owed("rent", 2026, 11, 2, 50000)), MONDAYS,
                    (ComingIncome(date(2026, 12, 1), 94000),))
    decision = decide_client(day, date(2026, 11, 2))
    assert [(p.kind, p.amount_cents) for p in decision.payments] == [("rent", 50000)]
    assert [(n.kind, n.subject, n.amount_cents) for n in decision.notices] == [
        ("insufficient_funds", "electricity:1:2026-10", 6000),
        ("arrears", "electricity:1:2026-10", 6000)]


def test_an_overdue_bill_never_takes_the_money_of_tomorrows_rent():
    """Worked example 3's client on Tuesday 1.12.2026: 637,00 arrives; November's rent is 50,00
    short and its electricity 58,00 unpaid; December's rent 687,00 is paid on 2.12. The 50,00
    is paid, and the electricity waits: the 587,00 left is December's rent's (seen in the
    demo: paying the bill first left the next day's rent 58,00 shorter)."""
    november_rent = owed("rent", 2026, 11, 2, 5000, earlier_orders=1)
    november_power = owed("electricity", 2026, 11, 15, 5800)
    december_rent = owed("rent", 2026, 12, 2, 68700)
    coming = (ComingIncome(date(2027, 1, 4), 63700),)
    first = decide_client(ClientDay(1, 63700, (november_rent, november_power, december_rent),
                                    None, coming), date(2026, 12, 1))
    assert [(p.kind, p.key, p.amount_cents) for p in first.payments] == [
        ("rent", "order:rent:1:2026-11:1", 5000)]
    assert [(n.kind, n.subject, n.amount_cents) for n in first.notices] == [
        ("insufficient_funds", "electricity:1:2026-11", 5800),
        ("arrears", "electricity:1:2026-11", 5800)]
    second = decide_client(ClientDay(1, 58700, (november_power, december_rent), None, coming),
                           date(2026, 12, 2))
    assert [(p.kind, p.amount_cents) for p in second.payments] == [("rent", 58700)]
    # Money above the coming rents (50,00 + 58,00 + 687,00 here) still pays a bill at once.
    spare = decide_client(ClientDay(1, 5000 + 5800 + 68700, (november_rent, november_power,
                                                              december_rent),
                                    None, coming), date(2026, 12, 1))
    assert [(p.kind, p.amount_cents) for p in spare.payments] == [
        ("rent", 5000), ("electricity", 5800)]


def test_an_unpayable_bill_does_not_stop_a_smaller_one_that_fits():
    day = ClientDay(1, 10000, (owed("other", 2026, 11, 2, 15000), owed("electricity", 2026, 11, 2, 4000)),
                    None, (ComingIncome(date(2026, 12, 1), 94000),))
    decision = decide_client(day, date(2026, 11, 2))
    assert [(p.kind, p.amount_cents) for p in decision.payments] == [("electricity", 4000)]
    assert [(n.kind, n.amount_cents) for n in decision.notices] == [("insufficient_funds", 15000)]


@pytest.mark.parametrize("partial, payments, short", [(True, [30000], 22000), (False, [], 52000)])
def test_rent_is_paid_in_part_unless_the_plan_turns_it_off(partial, payments, short):
    decision = decide_client(ClientDay(1, 30000, (owed("rent", 2026, 11, 2, 52000, partial=partial),),
                                       None), date(2026, 11, 2))
    assert [p.amount_cents for p in decision.payments] == payments
    assert [n.amount_cents for n in decision.notices if n.kind == "insufficient_funds"] == [short]


def test_the_minimum_is_paid_on_each_instalment_day_before_rent():
    # 300,00 and a 520,00 rent on Monday 2.11.; minimum 20,00 for each of the five Mondays to
    # the next income: 100,00 is held for the minimums, 200,00 goes to the rent, 20,00 paid now.
    rule = Instalments("FREQ=WEEKLY;BYDAY=MO", "even", minimum_cents=2000)
    decision = decide_client(ClientDay(1, 30000, (owed("rent", 2026, 11, 2, 52000),), rule,
                                       (ComingIncome(date(2026, 12, 1), 94000),)),
                             date(2026, 11, 2))
    assert [(p.kind, p.amount_cents) for p in decision.payments] == [
        ("rent", 20000), ("instalment", 2000)]
    assert decision.remaining_cents == 8000          # the four later minimums


def test_fixed_instalment_and_keep_buffer():
    rule = Instalments("FREQ=WEEKLY;BYDAY=MO", "fixed", 10000, keep_cents=25000)
    decision = decide_client(ClientDay(1, 30000, (), rule,
                                       (ComingIncome(date(2026, 12, 1), 94000),)),
                             date(2026, 11, 2))
    assert [p.amount_cents for p in decision.payments] == [5000]   # only what is above the buffer


def test_even_split_with_odd_cents_floors_and_the_last_date_takes_the_remainder():
    got = project(1, 10000, (), [ComingIncome(date(2026, 12, 1), 1)], MONDAYS,
                  date(2026, 11, 16), date(2026, 11, 30))
    assert paid(got) == [(date(2026, 11, 16), "instalment", 3333),
                         (date(2026, 11, 23), "instalment", 3333),
                         (date(2026, 11, 30), "instalment", 3334)]


def test_arrears_are_paid_first_when_money_arrives():
    decision = decide_client(ClientDay(1, 104000, (owed("rent", 2026, 11, 2, 52000),
                                                   owed("rent", 2026, 10, 2, 52000)), None),
                             date(2026, 11, 2))
    assert [p.key for p in decision.payments] == ["order:rent:1:2026-10", "order:rent:1:2026-11"]


def test_a_further_order_of_an_obligation_is_numbered_by_the_orders_before_it():
    rest = owed("rent", 2026, 11, 2, 22000, earlier_orders=1)
    decision = decide_client(ClientDay(1, 30000, (rest,), None), date(2026, 11, 2))
    assert [(p.key, p.amount_cents) for p in decision.payments] == [
        ("order:rent:1:2026-11:1", 22000)]


def test_instalment_on_a_holiday_monday_is_paid_the_next_banking_day():
    # Easter Monday 6.4.2026 is closed: its instalment is paid on Tuesday 7.4.
    decision = decide_client(ClientDay(1, 20000, (), MONDAYS, (ComingIncome(date(2026, 5, 4), 1),)),
                             date(2026, 4, 7))
    assert [(p.instalment_on, p.amount_cents) for p in decision.payments] == [
        (date(2026, 4, 6), 5000)]


def test_nothing_is_decided_beyond_the_money():
    decision = decide_client(ClientDay(1, 0, (owed("rent", 2026, 11, 2, 52000),), MONDAYS),
                             date(2026, 11, 2))
    assert decision.payments == ()


def test_a_pension_moved_onto_a_rent_day_does_not_leave_next_months_rent_short():
    # Pensioner's housing allowance 200,00 on the 4th; rent 100,00 on the 2nd. 4.10.2026 is a
    # Sunday, so October's allowance comes on Friday 2.10. with October's rent; November's rent
    # (2.11.) is due before November's allowance (4.11.), just past September's 35 days: the
    # reserve keeps it from September's money, and every rent is paid in full on its day.
    incomes = (("pensioners_housing_allowance", "FREQ=MONTHLY;BYMONTHDAY=4"),)
    rents = [owed("rent", 2026, m, 2, 10000, incomes=incomes) for m in (9, 10, 11, 12)]
    power = [owed("electricity", 2026, m, 8, 1, incomes=incomes) for m in (8, 9, 10, 11, 12)]
    coming = [ComingIncome(CALENDAR.on_or_before(date(2026, m, 4)), 20000) for m in (8, 9, 10, 11, 12)]
    got = project(1, 0, rents + power, coming, Instalments("FREQ=WEEKLY;BYDAY=FR"),
                  date(2026, 8, 4), date(2026, 11, 30))
    assert [(p.on, p.payment.amount_cents) for p in got if p.payment.kind == "rent"] == [
        (date(2026, 9, 2), 10000), (date(2026, 10, 2), 10000), (date(2026, 11, 2), 10000)]


# --- the service's last day (DESIGN §5) ----------------------------------------------------------

LAST_DAY = date(2027, 1, 31)           # a Sunday: the last instalment day is Monday 25.1.2027


def last_days(money: int, on: date, *, obligations=(), incomes=(), last_day=LAST_DAY,
              instalments=Instalments("FREQ=WEEKLY;BYDAY=MO", "even", keep_cents=5000)):
    return decide_client(ClientDay(1, money, tuple(obligations), instalments, tuple(incomes),
                                   last_day=last_day), on)


def test_instalment_days_after_the_last_day_do_not_share_the_money():
    # 18.1. and 25.1. share 300,00 less the keep; without a last day five Mondays would.
    assert [p.amount_cents for p in last_days(30000, date(2027, 1, 18)).payments] == [12500]
    assert [p.amount_cents for p in last_days(30000, date(2027, 1, 18), last_day=None).payments
            ] == [5000]


def test_the_last_instalment_day_takes_all_but_what_is_still_owed():
    # No keep on the last day, and no income counted: only electricity on 29.1. stays.
    power = OpenObligation(7, "electricity:1:2027-01", "electricity", 4500, date(2027, 1, 29),
                           date(2027, 1, 29))
    rent = OpenObligation(8, "rent:1:2027-02", "rent", 52000, date(2027, 2, 2), date(2027, 2, 2))
    decision = last_days(30000, date(2027, 1, 25), obligations=[power],
                         incomes=[ComingIncome(date(2027, 1, 27), 10000)])
    assert ([(p.kind, p.amount_cents) for p in decision.payments], decision.reserve_cents,
            decision.final_cents) == ([("instalment", 25500)], 4500, 0)
    # Without a last day February's rent is the account's too: all is held back for it.
    normal = last_days(30000, date(2027, 1, 25), obligations=[power, rent],
                       incomes=[ComingIncome(date(2027, 1, 27), 10000)], last_day=None)
    assert (normal.payments, normal.reserve_cents) == ((), 46500)


def test_after_the_last_instalment_day_the_rest_is_the_final_payout():
    power = OpenObligation(7, "electricity:1:2027-01", "electricity", 4500, date(2027, 1, 29),
                           date(2027, 1, 29))
    decision = last_days(12345, date(2027, 1, 27), obligations=[power])
    assert (decision.payments, decision.final_cents, decision.remaining_cents) == ((), 7845, 4500)
    after = last_days(12345, date(2027, 2, 1))             # after the last day: all of it
    assert (after.payments, after.final_cents, after.remaining_cents) == ((), 12345, 0)


def test_a_plan_without_instalments_pays_out_from_the_last_day():
    assert last_days(5000, date(2027, 1, 29), instalments=None).final_cents == 0
    assert last_days(5000, date(2027, 2, 1), instalments=None).final_cents == 5000
