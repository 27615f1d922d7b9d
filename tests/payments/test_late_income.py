"""Incomes that are late or never come (DESIGN §6), both backends, through the stored pipeline:
the bank's statement imported, the batch run and approved, the nightly flags refreshed.

An expected income counts as coming on its arrival day until it has been received (the pairing
the *income missing* flag uses); not received by the end of that day, it is missing from the
next banking day and no longer counts. A benefit without a fixed day (a 4-week labour market
subsidy) counts ``late_days`` banking days after its expected day, and is missing only after
that day."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import scenario
from helpers.statements import Tx, camt053, ntry, write
from sqlalchemy import select

from valitystili import payments as batches
from valitystili.base.banking_calendar import CALENDAR
from valitystili.flags.conditions import refresh_flags
from valitystili.payments.decision import ComingIncome
from valitystili.payments.run import coming_incomes, load_day
from valitystili.people import clients
from valitystili.plans.expected import expected_arrivals
from valitystili.statements import service
from valitystili.store.models import Client, Flag
from valitystili.trust import configuration

D = date
W = scenario.world_actors()
DECEMBER = D(2026, 12, 1)          # Tuesday: Kela's December benefits are expected today


@pytest.fixture
def bank(session_factory, tmp_path):
    """The world, and a function importing a day's statement of Kela's credits for client 1."""
    with session_factory() as session, session.begin():
        scenario.world(session)

    def credit(on: date, *amounts: str) -> None:
        with session_factory() as session, session.begin():
            reference = session.get(Client, 1).reference
            entries = [ntry(amount, f"A-{on:%m%d}-{n}", Tx(reference=reference, payer="KELA"),
                            booked=on.isoformat()) for n, amount in enumerate(amounts)]
            statement = camt053(*entries, statement_id=f"STMT-{on:%m%d}", opening_cents=None,
                                on=on.isoformat())
            service.import_file(session, W.fiona, write(tmp_path, f"{on:%m%d}.xml", statement),
                                today=on)
    return credit


def open_client(session_factory, plan: str, start: date = DECEMBER) -> int:
    with session_factory() as session, session.begin():
        number = scenario.client(session, W, start_on=start, review_on=D(2027, 6, 1))
        scenario.plan(session, W, number, plan, effective_on=start, today=start)
    return number


def run_day(session_factory, day: date) -> dict:
    with session_factory() as session, session.begin():
        result = batches.run_batch(session, W.hannu, day)
    if result["orders"]:
        with session_factory() as session, session.begin():
            batches.approve_batch(session, W.hilla, str(result["batch"]), today=day)
    return result


def flags_on(session_factory, day: date, kind: str) -> list[tuple]:
    with session_factory() as session, session.begin():
        refresh_flags(session, day)
        return [(f.subject, f.amount_cents) for f in session.execute(
            select(Flag).where(Flag.kind == kind, Flag.resolved_at.is_(None))
            .order_by(Flag.id)).scalars()]


def paid_on(result: dict) -> list[tuple]:
    return [(r["execution_on"], r["kind"], r["amount_cents"]) for r in result["order_rows"]]


def test_a_housing_allowance_a_week_late(session_factory, bank):
    """Worked example 1's client from 1.12.2026: 560,00 arrives on Tuesday 1.12., the 380,00
    housing allowance a week late on 8.12. Rent is paid from the 560,00 on 2.12.; on Monday 7.12.
    the 40,00 left is held for the electricity of 15.12. (on time, 7.12. would have paid
    (940 − 520 − 45) / 4 = 93,75); the housing allowance is missing from 2.12. until it comes;
    then the three Mondays left share 420,00 − 45,00, and January runs as usual."""
    number = open_client(session_factory, scenario.WORKED_EXAMPLE)
    imports = {D(2026, 12, 1): ("560.00",), D(2026, 12, 8): ("380.00",),
               D(2027, 1, 4): ("560.00", "380.00")}
    missing = {}
    paid = []
    for day in CALENDAR.banking_days(D(2026, 12, 1), D(2027, 1, 4)):
        if day in imports:                        # the day's statement, then the batch
            bank(day, *imports[day])
        paid += paid_on(run_day(session_factory, day))
        if day <= D(2026, 12, 8):
            missing[day] = flags_on(session_factory, day, "income_missing")
    assert paid == [
        (D(2026, 12, 2), "rent", 52000),
        (D(2026, 12, 14), "instalment", 12500),
        (D(2026, 12, 15), "electricity", 4500),
        (D(2026, 12, 21), "instalment", 12500),
        (D(2026, 12, 28), "instalment", 12500),
        (D(2027, 1, 4), "rent", 52000),
        (D(2027, 1, 4), "instalment", 9375),
    ]
    late = [(f"income:{number}:housing_allowance:2026-12-01", 38000)]
    assert missing == {D(2026, 12, 1): [], D(2026, 12, 2): late, D(2026, 12, 3): late,
                       D(2026, 12, 4): late, D(2026, 12, 7): late, D(2026, 12, 8): []}


JANUARY_AND_FEBRUARY = (ComingIncome(D(2027, 1, 4), 38000, "housing_allowance"),
                        ComingIncome(D(2027, 1, 4), 56000, "basic_social_assistance"),
                        ComingIncome(D(2027, 2, 1), 38000, "housing_allowance"),
                        ComingIncome(D(2027, 2, 1), 56000, "basic_social_assistance"))


def test_on_its_arrival_day_an_income_not_yet_seen_counts_once_seen_not_again(session_factory,
                                                                             bank):
    """1.12.: the 560,00 is on the statement, the 380,00 not yet: only the 380,00 is coming.
    2.12.: the 380,00 did not come: nothing is coming until January. (The batch reads the
    incomes of the 70 days after E: the reserve looks on past its 35 days to the next one.)"""
    number = open_client(session_factory, scenario.WORKED_EXAMPLE)
    bank(D(2026, 12, 1), "560.00")
    with session_factory() as session:           # read only: rolled back
        for day, coming in [
            (D(2026, 12, 1), (ComingIncome(D(2026, 12, 1), 38000, "housing_allowance"),
                              *JANUARY_AND_FEBRUARY)),
            (D(2026, 12, 2), JANUARY_AND_FEBRUARY),
        ]:
            day_inputs = load_day(session, day, CALENDAR)
            plan = day_inputs.plans[number]
            assert coming_incomes(day_inputs.incomes[plan.id], day, CALENDAR) == coming


#: The worked example with the rent agreed for the 8th: a Monday lies between the benefits
#: and the rent.
RENT_ON_THE_8TH = scenario.WORKED_EXAMPLE.replace('due = "FREQ=MONTHLY;BYMONTHDAY=2"',
                                                  'due = "FREQ=MONTHLY;BYMONTHDAY=8"')


def test_an_income_that_never_comes(session_factory, bank):
    """December's 560,00 never comes; the 380,00 does (1.12.). From 2.12. the 560,00 is missing
    and the reserve keeps all 380,00 for the rent of 8.12. (520,00, with December's electricity
    and January's rent and electricity after January's benefits: 565,00), so Monday 7.12. pays
    no instalment. On 8.12. the rent gets all 380,00 and 140,00 stays unpaid; electricity waits
    behind it on 15.12."""
    number = open_client(session_factory, RENT_ON_THE_8TH)
    notices = {}
    paid = []
    for day in CALENDAR.banking_days(D(2026, 12, 1), D(2026, 12, 15)):
        if day == D(2026, 12, 1):
            bank(day, "380.00")
        result = run_day(session_factory, day)
        paid += paid_on(result)
        notices[day] = sorted((n["kind"], n["subject"], n["amount_cents"])
                              for n in result["notices"])
    assert paid == [(D(2026, 12, 8), "rent", 38000)]
    rent, electricity = f"rent:{number}:2026-12", f"electricity:{number}:2026-12"
    assert {day: n for day, n in notices.items() if n} == {
        D(2026, 12, 8): [("insufficient_funds", rent, 14000)],
        D(2026, 12, 9): [("arrears", rent, 14000), ("insufficient_funds", rent, 14000)],
        D(2026, 12, 10): [("arrears", rent, 14000), ("insufficient_funds", rent, 14000)],
        D(2026, 12, 11): [("arrears", rent, 14000), ("insufficient_funds", rent, 14000)],
        D(2026, 12, 14): [("arrears", rent, 14000), ("insufficient_funds", rent, 14000)],
        D(2026, 12, 15): [("arrears", rent, 14000), ("insufficient_funds", electricity, 4500),
                          ("insufficient_funds", rent, 14000)],
    }
    assert flags_on(session_factory, D(2026, 12, 1), "income_missing") == []
    assert flags_on(session_factory, D(2026, 12, 2), "income_missing") == [
        (f"income:{number}:basic_social_assistance:2026-12-01", 56000)]


#: Housing allowance on the 1st and a labour market subsidy every four weeks on Thursdays
#: (3.12., 31.12., 28.1.); rent on the 2nd, electricity on the 7th.
SUBSIDY = """\
review = 2027-06-01

[[income]]
source = "Kela"
kind = "housing_allowance"
amount = "380.00"
schedule = "FREQ=MONTHLY;BYMONTHDAY=1"

[[income]]
source = "Kela"
kind = "labour_market_subsidy"
amount = "700.00"
schedule = "FREQ=WEEKLY;INTERVAL=4;BYDAY=TH"

[[pay]]
kind = "rent"
payee = "Vaasan Asunnot Oy"
amount = "520.00"
due = "FREQ=MONTHLY;BYMONTHDAY=2"
reference = "12345672"

[[pay]]
kind = "electricity"
payee = "Vaasan Sähkö Oy"
amount = "45.00"
due = "FREQ=MONTHLY;BYMONTHDAY=7"
reference = "RF18539007547034"

[instalments]
schedule = "FREQ=WEEKLY;BYDAY=MO"
mode = "even"
"""


HOUSING, SUBSIDISED = "housing_allowance", "labour_market_subsidy"


@pytest.mark.parametrize("late_days, coming, instalment", [
    # Counted on Tuesday 8.12. (31.12.'s on 7.1., after the reserve's 35 days: the reserve looks
    # on to it, but nothing falls due between 4.1. and 7.1.; 28.1.'s on 2.2.): the electricity
    # of Monday 7.12. comes before it. The reserve is 520 − 380 (rent on 2.12. after the housing
    # allowance on 1.12.) + 45 = 185,00.
    ("3", ((D(2026, 12, 1), 38000, HOUSING), (D(2026, 12, 8), 70000, SUBSIDISED),
           (D(2027, 1, 4), 38000, HOUSING), (D(2027, 1, 7), 70000, SUBSIDISED),
           (D(2027, 2, 1), 38000, HOUSING), (D(2027, 2, 2), 70000, SUBSIDISED)), 30000 - 18500),
    # Counted on its days, 3.12., 31.12. and 28.1.: it covers the electricity; the reserve is
    # 140,00.
    ("0", ((D(2026, 12, 1), 38000, HOUSING), (D(2026, 12, 3), 70000, SUBSIDISED),
           (D(2026, 12, 31), 70000, SUBSIDISED), (D(2027, 1, 4), 38000, HOUSING),
           (D(2027, 1, 28), 70000, SUBSIDISED), (D(2027, 2, 1), 38000, HOUSING)),
     30000 - 14000),
])
def test_a_four_week_subsidy_counts_late_days_banking_days_late(session_factory, bank, late_days,
                                                                coming, instalment):
    """Monday 30.11.2026: 300,00 on the account, the only instalment day before the housing
    allowance of 1.12. gets what the reserve leaves."""
    number = open_client(session_factory, SUBSIDY, start=D(2026, 11, 20))
    with session_factory() as session, session.begin():
        configuration.put(session, W.admin, "late_days", late_days)
    bank(D(2026, 11, 25), "300.00")
    with session_factory() as session:           # read only: rolled back
        day_inputs = load_day(session, D(2026, 11, 30), CALENDAR)
        assert coming_incomes(day_inputs.incomes[day_inputs.plans[number].id], D(2026, 11, 30),
                              CALENDAR) == tuple(ComingIncome(*income) for income in coming)
    result = run_day(session_factory, D(2026, 11, 30))
    assert [(r["kind"], r["amount_cents"]) for r in result["order_rows"]] == [
        ("instalment", instalment)]


def test_a_four_week_subsidy_is_missing_only_after_its_late_days(session_factory, bank):
    """Expected Thursday 3.12., counted Tuesday 8.12.: still coming on 8.12., missing (flag and
    batch) from Wednesday 9.12."""
    number = open_client(session_factory, SUBSIDY, start=D(2026, 11, 20))
    bank(D(2026, 12, 1), "380.00")
    subsidy = ComingIncome(D(2026, 12, 8), 70000, "labour_market_subsidy")
    for day, coming, flagged in [(D(2026, 12, 4), True, False), (D(2026, 12, 8), True, False),
                                 (D(2026, 12, 9), False, True)]:
        with session_factory() as session:       # read only: rolled back
            day_inputs = load_day(session, day, CALENDAR)
            incomes = coming_incomes(day_inputs.incomes[day_inputs.plans[number].id], day,
                                     CALENDAR)
            assert (subsidy in incomes) is coming
        assert flags_on(session_factory, day, "income_missing") == (
            [(f"income:{number}:labour_market_subsidy:2026-12-03", 70000)] if flagged else [])


def test_a_client_closing_later_still_expects_incomes_up_to_the_close_date(session):
    """The batch judges a client closed on a later day until that day (the service runs to
    it), so it asks for the incomes of clients closed on or after E; the flags ask for open
    clients only."""
    w = scenario.world(session)
    number = scenario.client(session, w, start_on=DECEMBER, review_on=D(2027, 6, 1))
    scenario.plan(session, w, number, scenario.WORKED_EXAMPLE, effective_on=DECEMBER,
                  today=DECEMBER)
    clients.close_client(session, w.sanna, number, closed_on=D(2026, 12, 31))

    def arrivals(**options):
        return [(e.kind, e.arrival_on) for e in expected_arrivals(
            session, D(2026, 11, 25), D(2027, 1, 31), **options)]
    assert arrivals(closed_from=D(2026, 12, 1)) == [
        ("basic_social_assistance", D(2026, 12, 1)), ("housing_allowance", D(2026, 12, 1))]
    assert arrivals(closed_from=D(2027, 1, 4)) == []
    assert arrivals() == []
