"""The daily batch's decisions for one client, as a pure function (DESIGN §6).

Given the client's money, open obligations, instalment rule and next expected income, decide
what to pay on execution day E. Nothing here touches the database: ``payments.run`` reads
the inputs (``load_day``), ``decide_day`` calls ``decide_client`` for each client, and the run
stores the result or, with ``--dry-run``, prints it.

Rules:
1. Obligations whose pay-by day is on or before E and that are not settled are paid in priority
   order: arrears (pay-by day already passed), then rent, electricity, other; oldest due date
   first. Each is paid in full, or — when its plan allows partial payment — with what there is.
   The first one that cannot be paid stops the walk: the money stays for it, lower priorities
   and instalments wait. It raises *insufficient funds*, and *arrears* once its due date passed.
2. Money for open obligations whose pay-by day falls after E but before the next expected
   income is reserved. Without any expected income the horizon is 31 days.
3. Instalments whose (banking-day adjusted) date is E are paid from what is left above the
   reserve and the ``keep`` buffer: a fixed amount (or what is left, if less), or an even split
   of it over the instalment dates from E to the day before the next income, floored to cents;
   the last date before the income takes the remainder.
4. Amounts are integer cents; nothing is ever decided above what the client has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.schedules import occurrences
from valitystili.plans.due import rank

NO_INCOME_HORIZON_DAYS = 31


@dataclass(frozen=True)
class OpenObligation:
    obligation_id: int
    key: str
    kind: str
    amount_cents: int          # still to pay (amount - paid so far)
    due_on: date
    pay_by_on: date
    allow_partial: bool = False
    earlier_orders: int = 0    # orders already made for it (partial payments, returned ones)


@dataclass(frozen=True)
class Instalments:
    schedule: str                    # RFC 5545 rule
    mode: str = "even"               # even | fixed
    amount_cents: int | None = None  # for fixed
    keep_cents: int = 0


@dataclass(frozen=True)
class ClientDay:
    client_id: int
    available_cents: int             # ledger balance minus orders not yet posted
    obligations: tuple[OpenObligation, ...]
    instalments: Instalments | None
    next_income_on: date | None      # first expected income strictly after E
    paid_instalment_dates: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Payment:
    key: str
    client_id: int
    kind: str                        # rent | electricity | other | instalment
    amount_cents: int
    obligation_id: int | None = None
    instalment_on: date | None = None


@dataclass(frozen=True)
class Notice:
    kind: str                        # insufficient_funds | arrears
    subject: str
    client_id: int
    amount_cents: int
    detail: str


@dataclass(frozen=True)
class ClientDecision:
    payments: tuple[Payment, ...] = ()
    notices: tuple[Notice, ...] = ()
    reserve_cents: int = 0
    remaining_cents: int = 0


def obligation_order_key(obligation: OpenObligation, execution_on: date) -> str:
    # The first order of an obligation is ``order:<key>``; a further one (the rest of a partial
    # payment, or a retry after a payment came back) is numbered by the orders before it. The
    # number comes from stored orders, so a re-run or a second handler gets the same key.
    if obligation.earlier_orders:
        return f"order:{obligation.key}:{obligation.earlier_orders}"
    return f"order:{obligation.key}"


@lru_cache(maxsize=4096)
def instalment_dates(rule: str, start: date, end: date, calendar: BankingCalendar) -> tuple[tuple[date, date], ...]:
    """(rule date, banking day it is paid on) for rule dates whose paying day is in [start, end].

    Cached: thousands of clients share a handful of instalment rules on a batch day."""
    found = []
    # A rule date up to a week before start may still be paid on start (weekend, holidays).
    for day in occurrences(rule, start - timedelta(days=7), end):
        paid_on = calendar.on_or_after(day)
        if start <= paid_on <= end:
            found.append((day, paid_on))
    return tuple(found)


def decide_client(day: ClientDay, execution_on: date, calendar: BankingCalendar = CALENDAR) -> ClientDecision:
    available = day.available_cents
    payments: list[Payment] = []
    notices: list[Notice] = []

    due_now = sorted(
        (o for o in day.obligations if o.pay_by_on <= execution_on and o.amount_cents > 0),
        key=lambda o: (0 if o.pay_by_on < execution_on else 1, rank(o.kind), o.due_on, o.key),
    )
    blocked = False
    for obligation in due_now:
        if blocked:
            if obligation.due_on < execution_on:
                notices.append(_arrears(day.client_id, obligation, execution_on))
            continue
        if available >= obligation.amount_cents:
            pay = obligation.amount_cents
        elif obligation.allow_partial and available > 0:
            pay = available
        else:
            pay = 0
        short = obligation.amount_cents - max(available, 0)
        if pay:
            payments.append(Payment(obligation_order_key(obligation, execution_on), day.client_id,
                                    obligation.kind, pay, obligation.obligation_id))
            available -= pay
        if pay < obligation.amount_cents:
            blocked = True
            notices.append(Notice(
                "insufficient_funds", obligation.key, day.client_id, short,
                f"{obligation.kind} due {obligation.due_on.isoformat()}: "
                f"{short / 100:.2f} EUR short of {obligation.amount_cents / 100:.2f} EUR"))
            if obligation.due_on < execution_on:
                notices.append(_arrears(day.client_id, obligation, execution_on))
    if blocked:
        return ClientDecision(tuple(payments), tuple(notices), 0, available)

    horizon = day.next_income_on or execution_on + timedelta(days=NO_INCOME_HORIZON_DAYS)
    reserve = sum(o.amount_cents for o in day.obligations
                  if execution_on < o.pay_by_on < horizon and o.amount_cents > 0)

    rule = day.instalments
    if rule is not None:
        spendable = max(0, available - reserve - rule.keep_cents)
        last_day = horizon - timedelta(days=1)
        upcoming = [pair for pair in instalment_dates(rule.schedule, execution_on, last_day, calendar)
                    if pair[0] not in day.paid_instalment_dates]
        today = [rule_day for rule_day, paid_on in upcoming if paid_on == execution_on]
        remaining_dates = len(upcoming)
        for rule_day in today:
            if spendable <= 0:
                break
            if rule.mode == "fixed":
                amount = min(rule.amount_cents or 0, spendable)
            elif remaining_dates <= 1:
                amount = spendable                      # the last date takes the remainder
            else:
                amount = spendable // remaining_dates   # floored to cents
            remaining_dates -= 1
            if amount <= 0:
                continue
            payments.append(Payment(f"order:inst:{day.client_id}:{rule_day.isoformat()}",
                                    day.client_id, "instalment", amount, instalment_on=rule_day))
            spendable -= amount
            available -= amount
    return ClientDecision(tuple(payments), tuple(notices), reserve, available)


def _arrears(client_id: int, obligation: OpenObligation, execution_on: date) -> Notice:
    days = (execution_on - obligation.due_on).days
    return Notice("arrears", obligation.key, client_id, obligation.amount_cents,
                  f"{obligation.kind} due {obligation.due_on.isoformat()} unpaid, {days} days past due")
