"""Does the plan add up? (DESIGN §5)

A plan must add up: when its monthly outgoings — items paid by the account (rent less what
Kela pays directly, electricity, other) and fixed instalments — exceed its expected monthly
income, or leave the client less than ``minimum`` × the month's instalment days, ``plan set``
says so and ``plan approve`` needs ``--despite REASON`` (recorded in the audit trail and shown by
``plan show``). Months are the average over the twelve months from the plan's effective date,
so weekly rules and fixed-day rules count as often as they really fall.

It also warns, without blocking, when Kela's direct part is over half the rent: then the
service may not be needed (seed 002's exclusion: people whose housing costs Kela can pay
straight to the landlord).

The check reads plain values, so it serves the parsed file (``plan set``) and the stored rows
(``plan approve``) alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from valitystili.base.money import format_fi
from valitystili.base.schedules import occurrences

MONTHS_LOOKED_AT = 12


def _per_month(schedule: str, start: date) -> float:
    end = start + relativedelta(months=MONTHS_LOOKED_AT) - timedelta(days=1)
    return len(occurrences(schedule, start, end)) / MONTHS_LOOKED_AT


def plan_problems(start: date, items: Iterable[tuple[str, bool, int | None, str | None, int]],
                  incomes: Iterable[tuple[int, str]], instalment_schedule: str | None,
                  instalment_mode: str, instalment_cents: int | None,
                  minimum_cents: int) -> list[str]:
    """What does not add up, one line each (empty: the plan adds up).

    ``items`` are (paid by, bills, amount, schedule, Kela's direct part), ``incomes``
    (amount, schedule)."""
    income = int(sum(cents * _per_month(schedule, start) for cents, schedule in incomes))
    outgoings = int(sum((cents - direct) * _per_month(schedule, start)
                        for paid_by, bills, cents, schedule, direct in items
                        if paid_by == "account" and not bills and cents and schedule))
    days = _per_month(instalment_schedule, start) if instalment_schedule else 0.0
    if instalment_mode == "fixed" and instalment_cents:
        outgoings += int(instalment_cents * days)
    problems = []
    if outgoings > income:
        problems.append(f"the monthly outgoings {format_fi(outgoings)} exceed the expected "
                        f"monthly income {format_fi(income)}")
    minimums = int(minimum_cents * days)
    if minimum_cents and income - outgoings < minimums:
        problems.append(f"the plan leaves the client {format_fi(max(income - outgoings, 0))} a "
                        f"month, less than the minimum {format_fi(minimum_cents)} on "
                        f"{days:.1f} instalment days ({format_fi(minimums)})")
    return problems


def direct_part_warnings(items: Iterable[tuple[int, str, int | None, int]]) -> list[str]:
    """Rent items whose direct part is over half the rent; ``items`` are (position, kind,
    amount, Kela's direct part)."""
    return [f"pay {position}: Kela pays {format_fi(direct)} of the rent {format_fi(cents)} "
            "directly, over half of it; the service may not be needed"
            for position, kind, cents, direct in items
            if kind == "rent" and cents and direct * 2 > cents]
