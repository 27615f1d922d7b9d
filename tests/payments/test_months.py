"""The batch over real months (DESIGN §2 calendar facts, §5, §6), through the stored pipeline.

Every table below was worked out from DESIGN §6's rules and the Finnish banking calendar
(weekends; 1.1., 6.1., Good Friday, Easter Monday, 1.5., Ascension Day, Midsummer Eve, 6.12.,
24.-26.12.), not from the product's output. The rules used, in short:

- Kela's housing allowance and basic social assistance for the 1st arrive on the first banking
  day on or after it; every other day (pensions on the 7th, pensioner's housing allowance on the
  4th, the later part of split assistance on the 16th) on the last banking day on or before it.
- An obligation's pay day is the last banking day on or before its agreed date, unless an income
  scheduled on or before the agreed date arrives after that day and by the legal due date (the
  agreed date moved to the next banking day): then the day it arrives.
- On E: rent first, then the others; the reserve is minus the lowest running total of the coming
  obligations (at their pay day) and incomes (at their arrival, income first on one day) over
  the 35 days after E and on to the day before the first income after them (docs/batch.md; without
  that, case "rent on the 5th" below pays July's rent late); instalments are an even split of
  what is above the reserve over the Mondays (a closed Monday paid the next banking day) from E
  to the day before the next income, floored to cents, the last day taking the remainder. The
  split is worked out again on each instalment day, so a remainder's cent moves to later days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from helpers import scenario
from helpers.months import Months, plan_arrivals
from helpers.scenario import MONTHLY, pay_text, plan_text
from sqlalchemy import select

import ledger
from valitystili.store.models import Flag, Obligation

W = scenario.world_actors()
RENT = 52000


def rows(orders) -> list[tuple[date, str, int]]:
    return [order.row for order in orders]


def by_month(orders, kind: str = "instalment") -> dict[tuple[int, int], int]:
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for order in orders:
        if order.kind == kind:
            totals[order.on.year, order.on.month] += order.amount_cents
    return dict(totals)


def short_or_late(session) -> list[str]:
    """The subjects of every *insufficient funds* or *arrears* flag ever raised."""
    return list(session.execute(select(Flag.subject).where(
        Flag.kind.in_(("insufficient_funds", "arrears")))).scalars())


def obligation_days(session, key: str) -> tuple[date, date, date]:
    return tuple(session.execute(select(Obligation.agreed_on, Obligation.due_on, Obligation.pay_on)
                                 .where(Obligation.key == key)).one())


# --- worked example 1 over fourteen months -------------------------------------------------------

#: 560,00 + 380,00 arrive on the first banking day of each month (a closed 1st: a later day).
BENEFITS_ARRIVE = [
    date(2026, 11, 2),    # 1.11. Sunday
    date(2026, 12, 1), date(2027, 1, 4),     # 1.1. New Year's Day, 2.-3.1. weekend
    date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 1),
    date(2027, 5, 3),     # 1.5. Saturday (and May Day)
    date(2027, 6, 1), date(2027, 7, 1),
    date(2027, 8, 2),     # 1.8. Sunday
    date(2027, 9, 1), date(2027, 10, 1), date(2027, 11, 1), date(2027, 12, 1),
]

#: Rent's legal due date where the 2nd is closed (every other month: the 2nd itself).
RENT_MOVED = {(2027, 1): date(2027, 1, 4), (2027, 5): date(2027, 5, 3),
              (2027, 10): date(2027, 10, 4)}

#: Every order, November 2026 - December 2027. Each month: 940 - 520 - 45 = 375,00 over its
#: instalment Mondays: five Mondays 75,00, four 93,75. Electricity on a Saturday or Sunday 15th is
#: paid the Friday before (13.11.2026, 14.5.2027, 13.8.2027). Rent on a closed 2nd: 2.1.2027
#: (Saturday) is paid on 4.1., the day January's money arrives (its legal due date); 2.5.2027
#: (Sunday) on 3.5. likewise; 2.10.2027 (Saturday) on Friday 1.10., the day October's money came.
#: Closed Mondays: Easter Monday 29.3.2027 paid 30.3., Independence Day 6.12.2027 paid 7.12.
EXAMPLE_1 = [
    (date(2026, 11, 2), "rent", 52000), (date(2026, 11, 2), "instalment", 7500),
    (date(2026, 11, 9), "instalment", 7500), (date(2026, 11, 13), "electricity", 4500),
    (date(2026, 11, 16), "instalment", 7500), (date(2026, 11, 23), "instalment", 7500),
    (date(2026, 11, 30), "instalment", 7500),
    (date(2026, 12, 2), "rent", 52000), (date(2026, 12, 7), "instalment", 9375),
    (date(2026, 12, 14), "instalment", 9375), (date(2026, 12, 15), "electricity", 4500),
    (date(2026, 12, 21), "instalment", 9375), (date(2026, 12, 28), "instalment", 9375),
    (date(2027, 1, 4), "rent", 52000), (date(2027, 1, 4), "instalment", 9375),
    (date(2027, 1, 11), "instalment", 9375), (date(2027, 1, 15), "electricity", 4500),
    (date(2027, 1, 18), "instalment", 9375), (date(2027, 1, 25), "instalment", 9375),
    (date(2027, 2, 1), "instalment", 9375), (date(2027, 2, 2), "rent", 52000),
    (date(2027, 2, 8), "instalment", 9375), (date(2027, 2, 15), "electricity", 4500),
    (date(2027, 2, 15), "instalment", 9375), (date(2027, 2, 22), "instalment", 9375),
    (date(2027, 3, 1), "instalment", 7500), (date(2027, 3, 2), "rent", 52000),
    (date(2027, 3, 8), "instalment", 7500), (date(2027, 3, 15), "electricity", 4500),
    (date(2027, 3, 15), "instalment", 7500), (date(2027, 3, 22), "instalment", 7500),
    (date(2027, 3, 30), "instalment", 7500),
    (date(2027, 4, 2), "rent", 52000), (date(2027, 4, 5), "instalment", 9375),
    (date(2027, 4, 12), "instalment", 9375), (date(2027, 4, 15), "electricity", 4500),
    (date(2027, 4, 19), "instalment", 9375), (date(2027, 4, 26), "instalment", 9375),
    (date(2027, 5, 3), "rent", 52000), (date(2027, 5, 3), "instalment", 7500),
    (date(2027, 5, 10), "instalment", 7500), (date(2027, 5, 14), "electricity", 4500),
    (date(2027, 5, 17), "instalment", 7500), (date(2027, 5, 24), "instalment", 7500),
    (date(2027, 5, 31), "instalment", 7500),
    (date(2027, 6, 2), "rent", 52000), (date(2027, 6, 7), "instalment", 9375),
    (date(2027, 6, 14), "instalment", 9375), (date(2027, 6, 15), "electricity", 4500),
    (date(2027, 6, 21), "instalment", 9375), (date(2027, 6, 28), "instalment", 9375),
    (date(2027, 7, 2), "rent", 52000), (date(2027, 7, 5), "instalment", 9375),
    (date(2027, 7, 12), "instalment", 9375), (date(2027, 7, 15), "electricity", 4500),
    (date(2027, 7, 19), "instalment", 9375), (date(2027, 7, 26), "instalment", 9375),
    (date(2027, 8, 2), "rent", 52000), (date(2027, 8, 2), "instalment", 7500),
    (date(2027, 8, 9), "instalment", 7500), (date(2027, 8, 13), "electricity", 4500),
    (date(2027, 8, 16), "instalment", 7500), (date(2027, 8, 23), "instalment", 7500),
    (date(2027, 8, 30), "instalment", 7500),
    (date(2027, 9, 2), "rent", 52000), (date(2027, 9, 6), "instalment", 9375),
    (date(2027, 9, 13), "instalment", 9375), (date(2027, 9, 15), "electricity", 4500),
    (date(2027, 9, 20), "instalment", 9375), (date(2027, 9, 27), "instalment", 9375),
    (date(2027, 10, 1), "rent", 52000), (date(2027, 10, 4), "instalment", 9375),
    (date(2027, 10, 11), "instalment", 9375), (date(2027, 10, 15), "electricity", 4500),
    (date(2027, 10, 18), "instalment", 9375), (date(2027, 10, 25), "instalment", 9375),
    (date(2027, 11, 1), "instalment", 7500), (date(2027, 11, 2), "rent", 52000),
    (date(2027, 11, 8), "instalment", 7500), (date(2027, 11, 15), "electricity", 4500),
    (date(2027, 11, 15), "instalment", 7500), (date(2027, 11, 22), "instalment", 7500),
    (date(2027, 11, 29), "instalment", 7500),
    (date(2027, 12, 2), "rent", 52000), (date(2027, 12, 7), "instalment", 9375),
    (date(2027, 12, 13), "instalment", 9375), (date(2027, 12, 15), "electricity", 4500),
    (date(2027, 12, 20), "instalment", 9375), (date(2027, 12, 27), "instalment", 9375),
]


def test_worked_example_1_over_fourteen_months_to_the_day_and_the_cent(session, tmp_path):
    """November 2026 - December 2027, every banking day through import, batch, approval and
    export. No instalment crosses a month boundary in these months: the two closed Mondays are
    paid the next day in the same month, and every month's money arrives on or before its first
    instalment Monday; so a calendar month of execution days is exactly one month's money."""
    start, end = date(2026, 11, 1), date(2027, 12, 31)
    arrivals = plan_arrivals(scenario.WORKED_EXAMPLE, start, end)
    assert sorted({a.on for a in arrivals}) == BENEFITS_ARRIVE
    run = Months(session, tmp_path, scenario.WORKED_EXAMPLE, start)
    orders = run.through(end)

    assert rows(orders) == EXAMPLE_1
    rents = [o for o in orders if o.kind == "rent"]
    assert [(o.on.year, o.on.month) for o in rents] == [(d.year, d.month) for d in BENEFITS_ARRIVE]
    for rent, money in zip(rents, BENEFITS_ARRIVE, strict=True):
        year, month = map(int, rent.key.rsplit(":", 1)[1].split("-"))   # order:rent:<n>:2027-01
        legal_due = RENT_MOVED.get((year, month), date(year, month, 2))
        assert money <= rent.on <= legal_due, rent
    assert by_month(orders) == {(d.year, d.month): 37500 for d in BENEFITS_ARRIVE}
    assert by_month(orders, "electricity") == {(d.year, d.month): 4500 for d in BENEFITS_ARRIVE}
    number = run.number
    assert obligation_days(session, f"rent:{number}:2027-01") == (
        date(2027, 1, 2), date(2027, 1, 4), date(2027, 1, 4))
    assert obligation_days(session, f"rent:{number}:2027-10") == (
        date(2027, 10, 2), date(2027, 10, 4), date(2027, 10, 1))
    assert short_or_late(session) == []
    assert ledger.balance(session, f"client:{number}") == 0
    assert ledger.balance(session, "outgoing") == 0          # every payment cleared on a statement
    assert ledger.verify(session) == []


# --- the cases the old reserve got wrong ---------------------------------------------------------

PENSION = ("national_pension", "776.19", MONTHLY + "7")

#: Pension 776,19 on the 7th, rent on the 2nd, electricity 45,00 on the 19th, from 3.6.2026
#: (June's rent, agreed before the service, is the client's). 7.6. is a Sunday: the pension comes
#: on Friday 5.6. 19.6. is Midsummer Eve: June's electricity is legally due on Monday 22.6. and
#: paid on Thursday 18.6.; 19.7. is a Sunday: paid Friday 17.7. 2.8. is a Sunday: August's rent
#: is legally due on Monday 3.8. and paid on Friday 31.7. from July's pension (a pension
#: scheduled after the agreed date never moves a pay day). Each pension keeps 565,00 for the
#: electricity and the next rent and splits 211,19 over the Mondays to the next pension: five
#: (8.6.-6.7.) at 42,23 then 42,24; four (13.7.-3.8., 10.8.-31.8.) at 52,79 then 52,80.
PENSION_ON_7TH = [
    (date(2026, 6, 8), "instalment", 4223), (date(2026, 6, 15), "instalment", 4224),
    (date(2026, 6, 18), "electricity", 4500), (date(2026, 6, 22), "instalment", 4224),
    (date(2026, 6, 29), "instalment", 4224), (date(2026, 7, 2), "rent", 52000),
    (date(2026, 7, 6), "instalment", 4224), (date(2026, 7, 13), "instalment", 5279),
    (date(2026, 7, 17), "electricity", 4500), (date(2026, 7, 20), "instalment", 5280),
    (date(2026, 7, 27), "instalment", 5280), (date(2026, 7, 31), "rent", 52000),
    (date(2026, 8, 3), "instalment", 5280), (date(2026, 8, 10), "instalment", 5279),
    (date(2026, 8, 17), "instalment", 5280), (date(2026, 8, 19), "electricity", 4500),
    (date(2026, 8, 24), "instalment", 5280), (date(2026, 8, 31), "instalment", 5280),
]
ELECTRICITY_19TH = pay_text("electricity", "45.00", MONTHLY + "19", payee=scenario.UTILITY,
                            reference="RF18539007547034")

#: National pension 712,40 on the 7th and pensioner's housing allowance 287,35 on the 4th, rent
#: on the 2nd, from 3.3.2026. April 2026: 4.4. is a Saturday and 3.4. Good Friday, so April's
#: allowance comes on Thursday 2.4. — the day April's rent is due. March's pension (7.3. a
#: Saturday: Friday 6.3.) therefore keeps only 520,00 - 287,35 = 232,65 for it and splits
#: 767,10 over the March Mondays; on 2.4. the allowance completes April's rent, and that one rent
#: is all 2.4. pays — May's rent is not taken from April's money then: its pay day is Thursday
#: 30.4. (1.5. May Day, 2.5. a Saturday; the allowance is scheduled after the 2nd and never
#: moves it), and April's pension (7.4.) keeps 520,00 for it and splits 192,40 over Easter Monday
#: 6.4. (paid 7.4.), 13.4., 20.4., 27.4. In steady months the allowance (4.5.) is not needed for
#: rent and is paid out on the next Monday, before the pension comes.
PENSION_AND_ALLOWANCE = [
    (date(2026, 3, 9), "instalment", 19177), (date(2026, 3, 16), "instalment", 19177),
    (date(2026, 3, 23), "instalment", 19178), (date(2026, 3, 30), "instalment", 19178),
    (date(2026, 4, 2), "rent", 52000), (date(2026, 4, 7), "instalment", 4810),
    (date(2026, 4, 13), "instalment", 4810), (date(2026, 4, 20), "instalment", 4810),
    (date(2026, 4, 27), "instalment", 4810), (date(2026, 4, 30), "rent", 52000),
    (date(2026, 5, 4), "instalment", 28735), (date(2026, 5, 11), "instalment", 4810),
    (date(2026, 5, 18), "instalment", 4810), (date(2026, 5, 25), "instalment", 4810),
]

#: Basic social assistance split in two, 310,00 on the 1st and 310,00 on the 16th, rent 520,00
#: on the 2nd, from 3.12.2026. The first part never covers the rent, yet the rent is never
#: paid in part: DESIGN §6 pays rent in part only when the money on its pay day is short, and
#: the part on the 16th keeps back what the next first part will not cover (520 - 310 = 210,00),
#: so on the pay day there are exactly 520,00. 1.1.2027 is New Year's Day and 2.-3.1. a weekend:
#: the first part comes on Monday 4.1., which is January rent's legal due date and so its pay
#: day. 16.1.2027 is a Saturday: the second part comes on Friday 15.1. The Mondays between the
#: first part and the 16th get nothing (there is nothing above the rent); those after the 16th
#: share 100,00 (Christmas Eve to Boxing Day are closed, Monday 28.12. is open).
SPLIT_ASSISTANCE = [
    (date(2026, 12, 21), "instalment", 5000), (date(2026, 12, 28), "instalment", 5000),
    (date(2027, 1, 4), "rent", 52000),
    (date(2027, 1, 18), "instalment", 5000), (date(2027, 1, 25), "instalment", 5000),
    (date(2027, 2, 2), "rent", 52000),
    (date(2027, 2, 22), "instalment", 10000),
]

#: Rent agreed for the 5th, pension 776,19 on the 7th, from 6.5.2026. 7.6.2026 is a Sunday: June's
#: pension comes on Friday 5.6., June rent's pay day. 5.7. is a Sunday: July's rent is due on
#: Monday 6.7. and paid on Friday 3.7., before July's pension (7.7.). So June's pension must pay
#: July's rent, and May's pension keeps what June's pension cannot also pay of June's rent:
#: 520,00 + 520,00 - 776,19 = 263,81 (this needs the reserve to look past its 35 days, to the day
#: before the pension of 7.7.). May's Mondays (11.5.-1.6.) share 512,38; the Mondays from 8.6. to
#: 6.7. get nothing — all of June's pension goes to rent — and from 13.7. each pension again
#: keeps 520,00 and splits 256,19.
RENT_ON_5TH = [
    (date(2026, 5, 11), "instalment", 12809), (date(2026, 5, 18), "instalment", 12809),
    (date(2026, 5, 25), "instalment", 12810), (date(2026, 6, 1), "instalment", 12810),
    (date(2026, 6, 5), "rent", 52000), (date(2026, 7, 3), "rent", 52000),
    (date(2026, 7, 13), "instalment", 6404), (date(2026, 7, 20), "instalment", 6405),
    (date(2026, 7, 27), "instalment", 6405),
]

CASES = [
    pytest.param(plan_text(PENSION, items=ELECTRICITY_19TH), date(2026, 6, 3), date(2026, 8, 31),
                 [date(2026, 6, 5), date(2026, 7, 7), date(2026, 8, 7)], PENSION_ON_7TH,
                 id="pension on the 7th, rent on the 2nd"),
    pytest.param(plan_text(("national_pension", "712.40", MONTHLY + "7"),
                           ("pensioners_housing_allowance", "287.35", MONTHLY + "4")),
                 date(2026, 3, 3), date(2026, 5, 31),
                 [date(2026, 3, 4), date(2026, 3, 6), date(2026, 4, 2), date(2026, 4, 7),
                  date(2026, 5, 4), date(2026, 5, 7)], PENSION_AND_ALLOWANCE,
                 id="pension on the 7th and pensioner's housing allowance on the 4th"),
    pytest.param(plan_text(("basic_social_assistance", "310.00", MONTHLY + "1,16")),
                 date(2026, 12, 3), date(2027, 2, 28),
                 [date(2026, 12, 16), date(2027, 1, 4), date(2027, 1, 15), date(2027, 2, 1),
                  date(2027, 2, 16)], SPLIT_ASSISTANCE,
                 id="split social assistance, the first part short of the rent"),
    pytest.param(plan_text(PENSION, rent_due=MONTHLY + "5"), date(2026, 5, 6),
                 date(2026, 7, 31), [date(2026, 5, 7), date(2026, 6, 5), date(2026, 7, 7)],
                 RENT_ON_5TH, id="rent on the 5th, pension on the 7th"),
]


@pytest.mark.parametrize("plan, start, end, arrive, expected", CASES)
def test_the_cases_the_old_reserve_got_wrong(session, tmp_path, plan, start, end, arrive,
                                              expected):
    """Each table to the day and the cent; each rent once, whole, from its pay day to its legal
    due date; no month without instalments. Months are counted by the execution day: an
    instalment paid from the income before a month's first income (6.7. and 3.8.2026 from the
    pension before them, 1.6.2026 from May's, 30.3.2026 from March's) counts where it is paid."""
    assert [arrival.on for arrival in plan_arrivals(plan, start, end)] == arrive
    run = Months(session, tmp_path, plan, start)
    orders = run.through(end)
    assert rows(orders) == expected
    # Each rent once, in full, by its legal due date and never before the money meant for it.
    rents = [o for o in orders if o.kind == "rent"]
    assert len({o.key for o in rents}) == len(rents)
    assert all(o.amount_cents == RENT for o in rents)
    with_days = [obligation_days(session, o.key.removeprefix("order:")) for o in rents]
    assert all(pay_on <= o.on <= due_on for o, (_agreed, due_on, pay_on) in zip(rents, with_days))
    # The plan's income covers the rent every month, and no month is without instalments.
    months = {(d.year, d.month) for d in (start, end)} | {(o.on.year, o.on.month) for o in orders}
    assert set(by_month(orders)) == months
    assert short_or_late(session) == []
    assert ledger.verify(session) == []



# --- two items of one kind, and a new plan version in mid-December -------------------------------

def other_items(*items: tuple[str | None, str, int, str]) -> str:
    """``[[pay]]`` items of kind other: (tag, amount, day of the month, message)."""
    text = "".join(pay_text("other", amount, f"{MONTHLY}{day}", tag=tag, message=message)
                   for tag, amount, day, message in items)
    return scenario.WORKED_EXAMPLE.replace("\n[instalments]", text + "\n[instalments]", 1)


#: Version 1 from 1.11.2026: home insurance 25,00 on the 5th (no tag), storage 30,00 on the 20th
#: (tag "storage"). Version 2, effective 15.12.2026 (approved on Sunday 13.12.): storage first,
#: at 35,00, then insurance at 27,50.
V1 = other_items((None, "25.00", 5, "Kotivakuutus"), ("storage", "30.00", 20, "Varasto"))
V2 = other_items(("storage", "35.00", 20, "Varasto"), (None, "27.50", 5, "Kotivakuutus"))

#: 940 - 520 - 45 - 25 - 30 = 320,00 a month: November's five Mondays 64,00. December:
#: insurance (5.12. a Saturday) paid Friday 4.12. under version 1; 7.12. keeps 45 + 30 and pays
#: 320 / 4 = 80,00; from 14.12. the storage (20.12. a Sunday, paid Friday 18.12.) is 35,00 under
#: version 2, so 14.12. keeps 45 + 35 and splits 315 - 80 = 235,00 over three Mondays: 78,33,
#: 78,33, 78,34. January under version 2: 940 - 520 - 45 - 27,50 - 35 = 312,50 over four Mondays.
PLAN_CHANGE = [
    (date(2026, 11, 2), "rent", 52000), (date(2026, 11, 2), "instalment", 6400),
    (date(2026, 11, 5), "other", 2500), (date(2026, 11, 9), "instalment", 6400),
    (date(2026, 11, 13), "electricity", 4500), (date(2026, 11, 16), "instalment", 6400),
    (date(2026, 11, 20), "other", 3000), (date(2026, 11, 23), "instalment", 6400),
    (date(2026, 11, 30), "instalment", 6400),
    (date(2026, 12, 2), "rent", 52000), (date(2026, 12, 4), "other", 2500),
    (date(2026, 12, 7), "instalment", 8000),
    # version 2 from here
    (date(2026, 12, 14), "instalment", 7833), (date(2026, 12, 15), "electricity", 4500),
    (date(2026, 12, 18), "other", 3500), (date(2026, 12, 21), "instalment", 7833),
    (date(2026, 12, 28), "instalment", 7834),
    (date(2027, 1, 4), "rent", 52000), (date(2027, 1, 4), "instalment", 7812),
    (date(2027, 1, 5), "other", 2750), (date(2027, 1, 11), "instalment", 7812),
    (date(2027, 1, 15), "electricity", 4500), (date(2027, 1, 18), "instalment", 7813),
    (date(2027, 1, 20), "other", 3500), (date(2027, 1, 25), "instalment", 7813),
]


def test_a_new_version_in_mid_december_reorders_two_other_items_and_changes_an_amount(
        session, tmp_path):
    run = Months(session, tmp_path, V1, date(2026, 11, 1))
    before = run.through(date(2026, 12, 13))
    number = run.number
    with session.begin():
        scenario.plan(session, W, number, V2, effective_on=date(2026, 12, 15),
                      today=date(2026, 12, 13))
    after = run.through(date(2027, 1, 31))

    assert rows(before + after) == PLAN_CHANGE
    others = [(o.on, o.key, o.amount_cents) for o in before + after if o.kind == "other"]
    assert others == [
        (date(2026, 11, 5), f"order:other:{number}:2026-11", 2500),
        (date(2026, 11, 20), f"order:other-storage:{number}:2026-11", 3000),
        (date(2026, 12, 4), f"order:other:{number}:2026-12", 2500),      # paid, never again
        (date(2026, 12, 18), f"order:other-storage:{number}:2026-12", 3500),   # new amount
        (date(2027, 1, 5), f"order:other:{number}:2027-01", 2750),
        (date(2027, 1, 20), f"order:other-storage:{number}:2027-01", 3500),
    ]
    december = dict(session.execute(
        select(Obligation.key, Obligation.amount_cents).where(Obligation.key.in_(
            [f"other:{number}:2026-12", f"other-storage:{number}:2026-12"]))).all())
    assert december == {f"other:{number}:2026-12": 2500, f"other-storage:{number}:2026-12": 3500}
    assert ledger.verify(session) == []


# --- the first month of service ------------------------------------------------------------------

def test_the_pension_clients_first_rent_is_the_one_after_the_first_pension(session, tmp_path):
    """DESIGN §5: the service opens on 1.6.2026, the first pension arrives on Friday 5.6. (7.6. is
    a Sunday). June's rent (pay day 2.6.) is before it, so the client pays it; the first rent
    the account pays is July's, and the orders are exactly those of a service opened on 3.6."""
    run = Months(session, tmp_path, plan_text(PENSION, items=ELECTRICITY_19TH), date(2026, 6, 1))
    assert rows(run.through(date(2026, 8, 31))) == PENSION_ON_7TH
    keys = set(session.execute(select(Obligation.key).where(Obligation.kind == "rent")).scalars())
    assert f"rent:{run.number}:2026-06" not in keys
    assert short_or_late(session) == []
