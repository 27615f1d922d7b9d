"""The batch's per-client decisions (DESIGN §6), without a database."""

from __future__ import annotations

from datetime import date

import pytest

from valitystili.payments.decision import (
    ClientDay,
    Instalments,
    OpenObligation,
    decide_client,
)

MONDAYS = Instalments("FREQ=WEEKLY;BYDAY=MO", "even")


def rent(month: int, cents: int = 52000, year: int = 2026, **kw) -> OpenObligation:
    due = date(year, month, 2)
    from valitystili.base.banking_calendar import pay_by
    return OpenObligation(month, f"rent:1:{year}-{month:02d}", "rent", cents, due, pay_by(due), **kw)


def power(month: int, cents: int = 4500) -> OpenObligation:
    from valitystili.base.banking_calendar import pay_by
    due = date(2026, month, 15)
    return OpenObligation(100 + month, f"electricity:1:2026-{month:02d}", "electricity", cents, due,
                          pay_by(due))


def test_the_worked_example_day_by_day():
    """DESIGN §6: 940,00 in on Monday 2.11.2026; rent, electricity reserve, 75,00 every Monday."""
    balance = 94000
    open_items = {o.key: o for o in (rent(11), power(11), rent(12))}
    paid_dates: set[date] = set()
    ledger: list[tuple[date, str, int]] = []
    for day in [date(2026, 11, d) for d in (2, 3, 9, 13, 16, 23, 30)]:
        plan = decide_client(ClientDay(1, balance, tuple(open_items.values()), MONDAYS,
                                     date(2026, 12, 1), frozenset(paid_dates)), day)
        assert plan.notices == ()
        for payment in plan.payments:
            ledger.append((day, payment.kind, payment.amount_cents))
            balance -= payment.amount_cents
            if payment.obligation_id is not None:
                key = next(k for k, o in open_items.items() if o.obligation_id == payment.obligation_id)
                del open_items[key]
            else:
                paid_dates.add(payment.instalment_on)
    assert ledger == [
        (date(2026, 11, 2), "rent", 52000),
        (date(2026, 11, 2), "instalment", 7500),
        (date(2026, 11, 9), "instalment", 7500),
        (date(2026, 11, 13), "electricity", 4500),
        (date(2026, 11, 16), "instalment", 7500),
        (date(2026, 11, 23), "instalment", 7500),
        (date(2026, 11, 30), "instalment", 7500),
    ]
    assert balance == 0


def test_reserve_is_held_for_electricity_due_before_the_next_income():
    plan = decide_client(ClientDay(1, 94000, (rent(11), power(11)), MONDAYS, date(2026, 12, 1)),
                       date(2026, 11, 2))
    assert plan.reserve_cents == 4500
    assert [(p.kind, p.amount_cents, p.key) for p in plan.payments] == [
        ("rent", 52000, "order:rent:1:2026-11"),
        ("instalment", 7500, "order:inst:1:2026-11-02"),
    ]


def test_even_split_with_odd_cents_floors_and_the_last_date_takes_the_remainder():
    balance = 10000   # 100,00 over three Mondays: 33,33 + 33,33 + 33,34
    paid: set[date] = set()
    amounts = []
    for day in (date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)):
        plan = decide_client(ClientDay(1, balance, (), MONDAYS, date(2026, 12, 1), frozenset(paid)), day)
        (payment,) = plan.payments
        amounts.append(payment.amount_cents)
        balance -= payment.amount_cents
        paid.add(payment.instalment_on)
    assert amounts == [3333, 3333, 3334]
    assert balance == 0


def test_fixed_instalment_and_keep_buffer():
    plan = decide_client(
        ClientDay(1, 30000, (), Instalments("FREQ=WEEKLY;BYDAY=MO", "fixed", 10000, keep_cents=25000),
                  date(2026, 12, 1)), date(2026, 11, 2))
    assert [p.amount_cents for p in plan.payments] == [5000]   # only what is above the buffer


def test_insufficient_funds_pays_nothing_of_that_item_and_blocks_lower_priorities():
    plan = decide_client(ClientDay(1, 50000, (rent(11), power(11)), MONDAYS, date(2026, 12, 1)),
                       date(2026, 11, 13))
    assert plan.payments == ()
    assert [(n.kind, n.subject, n.amount_cents) for n in plan.notices] == [
        ("insufficient_funds", "rent:1:2026-11", 2000),
        ("arrears", "rent:1:2026-11", 52000),
    ]
    assert plan.notices[1].detail == "rent due 2026-11-02 unpaid, 11 days past due"


def test_arrears_are_paid_first_when_money_arrives():
    # October rent unpaid; November money arrives: October first, then November.
    plan = decide_client(ClientDay(1, 104000, (rent(11), rent(10)), None, date(2026, 12, 1)),
                       date(2026, 11, 2))
    assert [p.key for p in plan.payments] == ["order:rent:1:2026-10", "order:rent:1:2026-11"]


@pytest.mark.parametrize("allow_partial, expected", [(True, [30000]), (False, [])])
def test_partial_payment_only_when_the_plan_allows_it(allow_partial, expected):
    plan = decide_client(ClientDay(1, 30000, (rent(11, allow_partial=allow_partial),), None, None),
                       date(2026, 11, 2))
    assert [p.amount_cents for p in plan.payments] == expected
    assert [n.amount_cents for n in plan.notices if n.kind == "insufficient_funds"] == [22000]


def test_a_further_order_of_an_obligation_is_numbered_by_the_orders_before_it():
    first = decide_client(ClientDay(1, 30000, (rent(11, allow_partial=True),), None, None),
                        date(2026, 11, 2))
    assert first.payments[0].key == "order:rent:1:2026-11"
    rest = rent(11, cents=22000, allow_partial=True, earlier_orders=1)
    second = decide_client(ClientDay(1, 30000, (rest,), None, None), date(2026, 11, 2))
    assert [(p.key, p.amount_cents) for p in second.payments] == [("order:rent:1:2026-11:1", 22000)]


def test_instalment_on_a_holiday_monday_is_paid_the_next_banking_day():
    # Easter Monday 6.4.2026 is closed: its instalment is paid on Tuesday 7.4.
    plan = decide_client(ClientDay(1, 20000, (), MONDAYS, date(2026, 5, 4)), date(2026, 4, 7))
    assert [(p.instalment_on, p.amount_cents) for p in plan.payments] == [(date(2026, 4, 6), 5000)]


def test_nothing_is_planned_beyond_the_money():
    plan = decide_client(ClientDay(1, 0, (rent(11),), MONDAYS, date(2026, 12, 1)), date(2026, 11, 2))
    assert plan.payments == ()
