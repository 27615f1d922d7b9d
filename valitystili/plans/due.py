"""What falls due when: plan items expanded into dated dues, and the order of payment.

One expansion serves the rent ledger (``obligations.ensure_obligations`` stores the dues) and
the client's letter ("coming payments"), so the two can never disagree about a date.

Rules:
- Only items paid by this account fall due here (``kela_direct`` and ``client`` items are
  recorded in the plan, never paid here); ``bills = true`` items are paid per bill.
- Each rule date of an item is asked the plan-version rule (``versions.in_force``): a date
  belongs to the version in force on it, so a new version never makes a second due.
- The key is stable across plan versions: ``<kind>:<client>:2026-11`` for an item that falls at
  most once a month, ``<kind>:<client>:2026-11-02`` otherwise; an item with a ``tag`` (a plan
  with two items of one kind tags all but one) adds it (``other-storage:<client>:2026-11``),
  so the key does not depend on the item's place in the file. A bill is ``bill:<id>``.
- ``due_on`` is the legal due date: a rule date on a weekend or holiday moves to the next
  weekday (AHVL 34 §). ``pay_on`` is the last banking day on or before the rule's date.
- A bill's days follow the same rule, its due date being the agreed date.
- The order of payment among what is due on one day: rent, electricity, then the rest
  (``rank``); the batch's decision and the letter both sort by it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from valitystili.base.banking_calendar import BankingCalendar
from valitystili.base.schedules import occurrences
from valitystili.plans.expected import income_arrivals
from valitystili.plans.versions import in_force

#: Kinds in their order of payment; any other kind comes after them.
PAYMENT_ORDER = ("rent", "electricity", "other")


def rank(kind: str) -> int:
    """Where ``kind`` stands in the order of payment (lower is paid first)."""
    return PAYMENT_ORDER.index(kind) if kind in PAYMENT_ORDER else len(PAYMENT_ORDER)


@dataclass(frozen=True)
class Due:
    """One plan item falling due once."""
    key: str
    client_id: int
    plan_id: int
    item: object                 # the plan item row (kind, payee, amount, reference, …)
    rule_on: date                # the agreed date
    due_on: date                 # the legal due date
    pay_on: date                 # the pay day


def paid_here(item) -> bool:
    """Items this account pays on their own schedule (not Kela's or the client's, not bills)."""
    return item.paid_by == "account" and not item.bills and bool(item.schedule)


def item_dues(client_id: int, versions: Sequence, items: Mapping[int, Sequence],
              windows: Mapping[int, tuple[date, date]], calendar: BankingCalendar,
              incomes: Mapping[int, tuple[tuple[str, str], ...]] | None = None
              ) -> Iterator[Due]:
    """Every due of the client's plan items whose rule date is in its version's window.

    ``versions`` are the client's approved plan versions, ``items`` their items by plan id,
    ``windows`` the (first, last) rule dates to look at for each version (a version without a
    window is skipped) and ``incomes`` the (kind, schedule) of each version's expected incomes,
    which can move a pay day (``obligation_days``)."""
    for plan in versions:
        window = windows.get(plan.id)
        if window is None or window[0] > window[1]:
            continue
        plan_incomes = None
        for item in items.get(plan.id, ()):
            if not paid_here(item):
                continue
            dates = schedule_dates(item.schedule, window[0], window[1])
            if not dates:               # most items on most days: a day's window is a day
                continue
            if plan_incomes is None:
                plan_incomes = tuple(sorted((incomes or {}).get(plan.id, ())))
            tag = f"-{item.tag}" if item.tag else ""
            prefix = f"{item.kind}{tag}:{client_id}:"
            for rule_on, period in dates:
                if len(versions) > 1 and in_force(versions, rule_on) is not plan:
                    continue
                due_on, pay_on = obligation_days(rule_on, plan_incomes, calendar)
                yield Due(prefix + period, client_id, plan.id, item, rule_on, due_on, pay_on)


@lru_cache(maxsize=65536)
def obligation_days(agreed_on: date, incomes: tuple[tuple[str, str], ...],
                    calendar: BankingCalendar) -> tuple[date, date]:
    """(legal due date, pay day) of a payment agreed for ``agreed_on`` (see the module rules),
    given the client's expected incomes as (kind, schedule) pairs.

    Cached: thousands of clients share a few agreed dates and income schedules."""
    due_on = calendar.on_or_after(agreed_on)
    pay_on = calendar.on_or_before(agreed_on)
    if due_on == agreed_on:
        return due_on, pay_on            # an open agreed date: nothing can move the pay day
    for kind, schedule in incomes:
        for scheduled, arrival in income_arrivals(kind, schedule, pay_on + timedelta(days=1),
                                                  due_on, calendar):
            if scheduled <= agreed_on and arrival > pay_on:
                pay_on = max(pay_on, arrival)
    return due_on, pay_on


@lru_cache(maxsize=512)
def _monthly(rule: str) -> bool:
    """True when the rule falls at most once in any month (so a month names the period)."""
    days = occurrences(rule, date(2025, 1, 1), date(2026, 12, 31))
    months = [(d.year, d.month) for d in days]
    return len(months) == len(set(months))


@lru_cache(maxsize=1024)
def schedule_dates(rule: str, start: date, end: date) -> tuple:
    """(rule date, period text) for the rule's dates in a window.

    The same few rules recur for thousands of clients; this is computed once per rule a day."""
    monthly = _monthly(rule)
    return tuple((day, day.strftime("%Y-%m") if monthly else day.isoformat())
                 for day in occurrences(rule, start, end))
