"""Properties of the batch's decision over random plans, incomes and start months (Hypothesis).

For a client whose expected income covers the plan, run day by day from the first income:
no payment is ever above the client's money; every rent once a month of incomes has come is paid in full
between its pay day and its legal due date; and running a day again, after its payments,
decides nothing more. For any client at all, ``project`` (which decides only the days that can
pay) makes exactly the payments of deciding every banking day."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from valitystili.base.banking_calendar import CALENDAR, income_day
from valitystili.payments.decision import (
    HORIZON_DAYS,
    ClientDay,
    ComingIncome,
    Instalments,
    OpenObligation,
    Payment,
    Projected,
    decide_client,
    obligation_order_key,
    project,
)
from valitystili.plans.due import obligation_days

#: (kind, scheduled day) of the benefits a plan may expect.
BENEFITS = (("housing_allowance", 1), ("basic_social_assistance", 1), ("national_pension", 7),
            ("pensioners_housing_allowance", 4), ("guarantee_pension", 22))
MONTHS = 4


@st.composite
def plans(draw):
    chosen = draw(st.lists(st.sampled_from(BENEFITS), min_size=1, max_size=3, unique=True))
    incomes = [(kind, day, draw(st.integers(20000, 90000))) for kind, day in chosen]
    total = sum(cents for _, _, cents in incomes)
    rent = draw(st.integers(10000, total * 6 // 10))
    power = draw(st.integers(0, (total - rent) // 4))
    return dict(incomes=incomes, rent=rent, rent_day=draw(st.integers(1, 5)), power=power,
                power_day=draw(st.integers(8, 25)),
                start=date(2026, 1, 1) + relativedelta(months=draw(st.integers(0, 20))),
                rule=draw(st.sampled_from(["FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=FR",
                                           "FREQ=MONTHLY;BYMONTHDAY=10,25"])))


def world(plan):
    schedules = tuple(sorted((kind, f"FREQ=MONTHLY;BYMONTHDAY={day}")
                             for kind, day, _ in plan["incomes"]))
    coming, obligations = [], []
    for m in range(MONTHS + 2):
        first = plan["start"] + relativedelta(months=m)
        for kind, day, cents in plan["incomes"]:
            coming.append(ComingIncome(income_day(kind, first.year, first.month, day), cents, kind))
        for kind, day, cents in (("rent", plan["rent_day"], plan["rent"]),
                                 ("electricity", plan["power_day"], plan["power"])):
            if cents:
                due_on, pay_on = obligation_days(first.replace(day=day), schedules, CALENDAR)
                obligations.append(OpenObligation(len(obligations) + 1,
                                                  f"{kind}:1:{first:%Y-%m}", kind, cents,
                                                  due_on, pay_on, kind == "rent"))
    service_from = min(income.arrives_on for income in coming)
    # DESIGN §5: the first obligations are those paid on or after the first income's arrival.
    obligations = [o for o in obligations if o.pay_on >= service_from]
    return coming, obligations, service_from


@settings(max_examples=60, deadline=None)
@given(plans())
def test_a_covering_plan_pays_every_rent_on_time_and_never_beyond_the_money(plan):
    coming, obligations, service_from = world(plan)
    end = plan["start"] + relativedelta(months=MONTHS) - timedelta(days=1)
    got = project(1, 0, obligations, coming, Instalments(plan["rule"]), service_from, end)

    balance, events = 0, sorted(
        [(income.arrives_on, 0, income.amount_cents) for income in coming
         if service_from <= income.arrives_on <= end]
        + [(p.on, 1, -p.payment.amount_cents) for p in got])
    for _day, _order, cents in events:
        balance += cents
        assert balance >= 0

    paid_on = {}
    for p in got:
        if p.payment.kind == "rent":
            paid_on.setdefault(p.payment.key.split(":")[3], []).append((p.on, p.payment.amount_cents))
    # Until every income has come once after the first (a whole month of money behind the
    # service), a rent may wait for money that the first month did not bring: the plan check's
    # business. From then on the reserve has kept every rent ready.
    steady_from = max(sorted(i.arrives_on for i in coming if i.source == kind)[1]
                      for kind, _, _ in plan["incomes"])
    for rent in obligations:
        if rent.kind != "rent" or rent.due_on > end or rent.pay_on < steady_from:
            continue
        payments = paid_on.get(rent.key.split(":")[2], [])
        assert sum(cents for _, cents in payments) == rent.amount_cents, (rent, payments)
        assert all(rent.pay_on <= on <= rent.due_on for on, _ in payments), (rent, payments)


@settings(max_examples=60, deadline=None)
@given(plans(), st.integers(0, 60))
def test_running_a_day_again_decides_nothing_more(plan, offset):
    coming, obligations, service_from = world(plan)
    day = CALENDAR.on_or_after(service_from + timedelta(days=offset))
    received = sum(i.amount_cents for i in coming if i.arrives_on <= day)
    before = project(1, 0, obligations, coming, Instalments(plan["rule"]), service_from,
                     day - timedelta(days=1))
    spent = sum(p.payment.amount_cents for p in before)
    remaining = {o.key: o for o in obligations}
    paid_dates = set()
    for p in before:
        if p.payment.instalment_on is not None:
            paid_dates.add(p.payment.instalment_on)
            continue
        key = next(k for k in remaining if p.payment.key.startswith(f"order:{k}"))
        o = remaining[key]
        remaining[key] = OpenObligation(o.obligation_id, o.key, o.kind,
                                        o.amount_cents - p.payment.amount_cents, o.due_on,
                                        o.pay_on, o.allow_partial, o.earlier_orders + 1)
    state = ClientDay(1, received - spent, tuple(remaining.values()), Instalments(plan["rule"]),
                      tuple(i for i in coming if i.arrives_on > day), frozenset(paid_dates))
    first = decide_client(state, day)
    assert sum(p.amount_cents for p in first.payments) <= received - spent
    for payment in first.payments:
        if payment.instalment_on is not None:
            paid_dates.add(payment.instalment_on)
        else:
            key = next(k for k in remaining if payment.key.startswith(f"order:{k}"))
            o = remaining[key]
            remaining[key] = OpenObligation(o.obligation_id, o.key, o.kind,
                                            o.amount_cents - payment.amount_cents, o.due_on,
                                            o.pay_on, o.allow_partial, o.earlier_orders + 1)
    again = decide_client(ClientDay(1, received - spent - sum(p.amount_cents for p in first.payments),
                                    tuple(remaining.values()), Instalments(plan["rule"]),
                                    state.incomes, frozenset(paid_dates)), day)
    assert again.payments == ()


def every_day(client_id, balance_cents, obligations, incomes, instalments, start, end, *,
              paid_instalment_dates=frozenset(), last_day=None, calendar=CALENDAR):
    """``project`` as it was before it skipped days: ``decide_client`` on every banking day."""
    open_now = {o.key: o for o in obligations}
    coming = sorted(incomes, key=lambda i: i.arrives_on)
    paid_dates = set(paid_instalment_dates)
    found = []
    for execution_on in calendar.banking_days(start, end):
        balance_cents += sum(i.amount_cents for i in coming if i.arrives_on == execution_on)
        coming = [i for i in coming if i.arrives_on > execution_on]
        ahead = execution_on + timedelta(days=HORIZON_DAYS)
        decision = decide_client(ClientDay(
            client_id, balance_cents, tuple(o for o in open_now.values() if o.pay_on <= ahead),
            instalments, tuple(i for i in coming if i.arrives_on <= ahead),
            frozenset(paid_dates), last_day), execution_on, calendar)
        payments = list(decision.payments)
        if decision.final_cents:
            payments.append(Payment(f"order:final:{client_id}:{execution_on.isoformat()}",
                                    client_id, "final", decision.final_cents))
        for payment in payments:
            found.append(Projected(execution_on, payment))
            balance_cents -= payment.amount_cents
            if payment.instalment_on is not None:
                paid_dates.add(payment.instalment_on)
                continue
            if payment.obligation_id is None:
                continue
            key = next(k for k, o in open_now.items() if obligation_order_key(o) == payment.key)
            rest = open_now[key].amount_cents - payment.amount_cents
            if rest <= 0:
                del open_now[key]
            else:
                open_now[key] = open_now[key]._replace(
                    amount_cents=rest, earlier_orders=open_now[key].earlier_orders + 1)
    return found


@st.composite
def any_client(draw):
    """Any money, obligations, incomes, instalment rule and last day: short and covered alike."""
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 700)))
    end = start + timedelta(days=draw(st.integers(0, 200)))
    day = st.integers(-40, 230).map(lambda n: start + timedelta(days=n))
    obligations = []
    for number in range(draw(st.integers(0, 8))):
        pay_on = draw(day)
        obligations.append(OpenObligation(
            number + 1, f"{draw(st.sampled_from(['rent', 'electricity', 'other']))}:1:{number}",
            draw(st.sampled_from(["rent", "electricity", "other"])),
            draw(st.integers(1, 90000)), pay_on + timedelta(days=draw(st.integers(0, 10))),
            pay_on, draw(st.booleans())))
    incomes = [ComingIncome(draw(day), draw(st.integers(1, 120000)))
               for _ in range(draw(st.integers(0, 10)))]
    instalments = draw(st.one_of(st.none(), st.builds(
        Instalments, st.sampled_from(["FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=FR,SA",
                                      "FREQ=MONTHLY;BYMONTHDAY=10,25", "FREQ=DAILY"]),
        st.sampled_from(["even", "fixed"]), st.integers(0, 30000), st.integers(0, 5000),
        st.integers(0, 3000))))
    last_day = draw(st.one_of(st.none(), day))
    paid = frozenset(draw(st.lists(day, max_size=3)))
    return dict(balance_cents=draw(st.integers(0, 200000)), obligations=obligations,
                incomes=incomes, instalments=instalments, start=start, end=end,
                last_day=last_day, paid_instalment_dates=paid)


@settings(max_examples=300, deadline=None)
@given(any_client())
def test_the_projection_decides_what_deciding_every_day_would(client):
    """Skipping the days that cannot pay (``decision.paying_days``) changes no payment."""
    args = (7, client["balance_cents"], client["obligations"], client["incomes"],
            client["instalments"], client["start"], client["end"])
    options = dict(paid_instalment_dates=client["paid_instalment_dates"],
                   last_day=client["last_day"])
    assert project(*args, **options) == every_day(*args, **options)
