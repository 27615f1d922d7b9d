"""The daily batch's decision for one client, as a pure function (DESIGN §6).

``decide_client(day, E)`` answers: given the client's money, open obligations, instalment rule and the
incomes still to come, what is paid on execution day E? Nothing here touches the database: the
batch builds the inputs and stores the result, ``--dry-run`` prints it, and ``project`` runs the
same function forward over coming days for the client's letter and the plan check, so a letter
never promises what the batch will not do.

The walk (DESIGN §6):
1. **Rent first.** Open rent obligations with pay day <= E, oldest first, from the money less the
   plan's ``minimum`` for every instalment day from E to the day before the next income. In full
   when that suffices, otherwise partially with all of it (unless the plan turned partial rent
   off). While rent is unpaid nothing below is paid except the ``minimum`` instalments.
2. **Then the other obligations** with pay day <= E: electricity, then other items and bills,
   oldest first within each, each in full or partially where allowed. One that cannot be paid
   does not stop a smaller one that fits. They are paid only from money that the coming rents
   do not need (``rent_reserve_cents``: the reserve of step 3 counting rent alone): a bill in
   arrears is never paid on the 1st out of the money for the rent due on the 2nd, since rent
   comes first (DESIGN §6, "It never pays next month's rent out of …"; seen in the demo's
   short clients, whose electricity arrears took the next day's rent money). Each unpaid one raises *insufficient funds*, and
   *arrears* once past its legal due date.
3. **Reserve**: a cash-flow projection over the ``RESERVE_DAYS`` after E (and on to the next
   income after them, ``reserve_cents``): the open obligations
   with pay day after E (at their pay day) and the incomes still to come (at their arrival day;
   on one day the income first), running total from 0. The reserve is the deepest point below
   0, plus whatever is due by E and still unpaid after steps 1-2.
4. **Instalments** on E: first the ``minimum`` on each instalment day while money lasts; then,
   from what is left above the reserve, the minimums of the later instalment days and ``keep``,
   a fixed amount or an even split over the instalment days from E to the day before the next
   income, floored to cents, the last day taking the remainder.

5. **The service's last day** (``ClientDay.last_day``: the fixed-term end or the close date,
   DESIGN §5): instalment days paid after it do not count. From the last instalment day paid on
   or before it (``payout_day``; the last day itself when there is none) the reserve is exactly
   what is still owed for obligations with pay day <= the last day, no income counted and no
   ``keep``: that instalment takes the remainder, and on a later day the whole balance above
   what is owed goes to the client as the final payout (``final_cents``).

Amounts are integer cents; nothing is ever decided above what the client has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.schedules import occurrences
from valitystili.flags.raising import FlagRaised, arrears_detail, short_detail
from valitystili.plans.due import rank

#: Rent's place in the order of payment: while it is unpaid, nothing ranked after it is paid.
RENT_RANK = rank("rent")
#: How far the reserve looks ahead, and how far the even split looks when no income is coming.
RESERVE_DAYS = 35
#: How far ahead a day's decision sees obligations and expected incomes: the reserve's
#: ``RESERVE_DAYS`` and on to the first income after them (``reserve_cents``); a month's
#: incomes all come within 35 more days. The batch reads this far (``run.load_day``) and the
#: projection shows each day only this far, so the two decide from the same view.
HORIZON_DAYS = RESERVE_DAYS + 35
#: A closed instalment day is paid on the next banking day; a rule day up to this many days
#: before E can still be paid on E.
INSTALMENT_SHIFT_DAYS = 7
#: How far before the service's last day its last instalment day is looked for.
LAST_INSTALMENT_DAYS = 35


class OpenObligation(NamedTuple):
    obligation_id: int
    key: str
    kind: str                  # rent | electricity | other (a bill carries its own kind)
    amount_cents: int          # still to pay (amount - paid so far)
    due_on: date               # the legal due date: arrears after it
    pay_on: date               # the pay day (DESIGN §6 "Days")
    allow_partial: bool = False
    earlier_orders: int = 0    # orders already made for it (partial payments, returned ones)


class ComingIncome(NamedTuple):
    arrives_on: date
    amount_cents: int
    source: str = ""


class Instalments(NamedTuple):
    schedule: str                    # RFC 5545 rule
    mode: str = "even"               # even | fixed
    amount_cents: int | None = None  # for fixed
    keep_cents: int = 0
    minimum_cents: int = 0


class ClientDay(NamedTuple):
    client_id: int
    available_cents: int             # ledger balance minus orders not yet posted
    obligations: tuple[OpenObligation, ...]
    instalments: Instalments | None
    incomes: tuple[ComingIncome, ...] = ()   # expected, not yet received, not missing
    paid_instalment_dates: frozenset[date] = frozenset()
    last_day: date | None = None             # the service's last day, when it has one


class Payment(NamedTuple):
    key: str
    client_id: int
    kind: str                        # rent | electricity | other | instalment
    amount_cents: int
    obligation_id: int | None = None
    instalment_on: date | None = None


class ClientDecision(NamedTuple):
    payments: tuple[Payment, ...] = ()
    notices: tuple[FlagRaised, ...] = ()
    reserve_cents: int = 0
    remaining_cents: int = 0
    final_cents: int = 0             # paid to the client after the last instalment day


def obligation_order_key(obligation: OpenObligation) -> str:
    # The first order of an obligation is ``order:<key>``; a further one (the rest of a partial
    # payment, or a retry after a payment came back) is numbered by the orders before it. The
    # number comes from stored orders, so a re-run or a second handler gets the same key.
    if obligation.earlier_orders:
        return f"order:{obligation.key}:{obligation.earlier_orders}"
    return f"order:{obligation.key}"


def instalment_order_key(client_id: int, rule_day: date) -> str:
    return f"order:inst:{client_id}:{rule_day.isoformat()}"


@lru_cache(maxsize=4096)
def instalment_dates(rule: str, start: date, end: date,
                     calendar: BankingCalendar) -> tuple[tuple[date, date], ...]:
    """(rule date, banking day it is paid on) for rule dates whose paying day is in [start, end].

    A closed rule date is paid on the next banking day. Cached: thousands of clients share a
    handful of instalment rules on a batch day."""
    found = []
    for day in occurrences(rule, start - timedelta(days=INSTALMENT_SHIFT_DAYS), end):
        paid_on = calendar.on_or_after(day)
        if start <= paid_on <= end:
            found.append((day, paid_on))
    return tuple(found)


def decide_client(day: ClientDay, execution_on: date, calendar: BankingCalendar = CALENDAR) -> ClientDecision:
    """What is paid for one client on ``execution_on`` (a banking day)."""
    money = day.available_cents
    plan = day.instalments
    next_income = min((i.arrives_on for i in day.incomes if i.arrives_on > execution_on),
                      default=None)
    split_end = (next_income or execution_on + timedelta(days=RESERVE_DAYS)) - timedelta(days=1)
    if day.last_day is not None:
        split_end = min(split_end, day.last_day)
    instalment_days = _instalment_days(day, execution_on, split_end, calendar)
    minimum = plan.minimum_cents if plan else 0
    usable = max(0, money - minimum * len(instalment_days))

    payments: list[Payment] = []
    notices: list[FlagRaised] = []
    unpaid_cents = 0
    rent_unpaid = False
    rent_ahead = None                   # what the coming rents need, asked once rent is paid
    due = sorted((o for o in day.obligations if o.pay_on <= execution_on and o.amount_cents > 0),
                 key=lambda o: (rank(o.kind), o.pay_on, o.due_on, o.key))
    for obligation in due:
        spare = usable
        if rank(obligation.kind) > RENT_RANK:
            if rent_ahead is None:
                rent_ahead = rent_reserve_cents(day, execution_on)
            spare = max(0, usable - rent_ahead)
        if rent_unpaid and rank(obligation.kind) > RENT_RANK:
            pay = 0
        elif spare >= obligation.amount_cents:
            pay = obligation.amount_cents
        else:
            pay = spare if obligation.allow_partial else 0
        if pay:
            payments.append(Payment(obligation_order_key(obligation), day.client_id,
                                    obligation.kind, pay, obligation.obligation_id))
            usable -= pay
            money -= pay
        if pay < obligation.amount_cents:
            short = obligation.amount_cents - pay
            unpaid_cents += short
            rent_unpaid = rent_unpaid or rank(obligation.kind) == RENT_RANK
            notices.append(_insufficient(day.client_id, obligation, short))
            if obligation.due_on < execution_on:
                notices.append(_arrears(day.client_id, obligation, short, execution_on))

    if day.last_day is not None and execution_on >= payout_day(day, calendar):
        return _last_payout(day, execution_on, instalment_days, money, unpaid_cents,
                            tuple(payments), tuple(notices))
    reserve = reserve_cents(day, execution_on) + unpaid_cents
    if plan is not None:
        money, paid = _instalments(day, plan, execution_on, instalment_days, money, reserve)
        payments.extend(paid)
    return ClientDecision(tuple(payments), tuple(notices), reserve, money)


def payout_day(day: ClientDay, calendar: BankingCalendar = CALENDAR) -> date:
    """The day the remainder goes to the client: the last instalment day paid on or before the
    service's last day, else the last day itself."""
    last = day.last_day
    if day.instalments is None:
        return last
    paid_on = [paid for _rule_day, paid in instalment_dates(
        day.instalments.schedule, last - timedelta(days=LAST_INSTALMENT_DAYS), last, calendar)]
    return max(paid_on, default=last)


def _last_payout(day: ClientDay, execution_on: date, instalment_days: list[tuple[date, date]],
                 money: int, unpaid_cents: int, payments: tuple[Payment, ...],
                 notices: tuple[FlagRaised, ...]) -> ClientDecision:
    """From the payout day on: everything above what is still owed goes to the client, as the
    day's instalment when it is one, else as the final payout."""
    owed = unpaid_cents + sum(o.amount_cents for o in day.obligations
                              if execution_on < o.pay_on <= day.last_day and o.amount_cents > 0)
    today = [pair for pair in instalment_days if pair[1] == execution_on]
    if day.instalments is not None and today:
        # The day's instalments split the remainder evenly, the last taking what is left.
        last = day.instalments._replace(mode="even", keep_cents=0)
        money, paid = _instalments(day, last, execution_on, today, money, owed)
        return ClientDecision(payments + tuple(paid), notices, owed, money)
    final = max(0, money - owed)
    return ClientDecision(payments, notices, owed, money - final, final)


def reserve_cents(day: ClientDay, execution_on: date) -> int:
    """The deepest point below zero of the coming obligations less the coming incomes.

    The projection covers the ``RESERVE_DAYS`` after E and goes on to the day before the first
    income after them: a payment due just past the window is paid from money held now, not
    from an income that comes after it (e.g. a pension moved onto a rent day by a weekend,
    which pays that month's rent, leaves the next month's rent to this month's money)."""
    return _deepest(day, execution_on, day.obligations)


def rent_reserve_cents(day: ClientDay, execution_on: date) -> int:
    """The reserve counting the coming rents alone: what other obligations may not take."""
    return _deepest(day, execution_on,
                    [o for o in day.obligations if rank(o.kind) == RENT_RANK])


def _deepest(day: ClientDay, execution_on: date, obligations: Iterable[OpenObligation]) -> int:
    end = execution_on + timedelta(days=RESERVE_DAYS)
    later = min((i.arrives_on for i in day.incomes if i.arrives_on > end), default=None)
    if later is not None:
        end = later - timedelta(days=1)
    events = [(o.pay_on, 1, -o.amount_cents) for o in obligations
              if execution_on < o.pay_on <= end and o.amount_cents > 0]
    events += [(i.arrives_on, 0, i.amount_cents) for i in day.incomes
               if execution_on <= i.arrives_on <= end]
    running = lowest = 0
    for _day, _income_first, amount in sorted(events):
        running += amount
        if running < lowest:
            lowest = running
    return -lowest


def _instalment_days(day: ClientDay, execution_on: date, split_end: date,
                     calendar: BankingCalendar) -> list[tuple[date, date]]:
    if day.instalments is None or split_end < execution_on:
        return []
    return [pair for pair in instalment_dates(day.instalments.schedule, execution_on, split_end,
                                              calendar)
            if pair[0] not in day.paid_instalment_dates
            and (day.last_day is None or pair[1] <= day.last_day)]


def _instalments(day: ClientDay, plan: Instalments, execution_on: date,
                 instalment_days: list[tuple[date, date]], money: int,
                 reserve: int) -> tuple[int, list[Payment]]:
    today = [rule_day for rule_day, paid_on in instalment_days if paid_on == execution_on]
    if not today:
        return money, []
    minimums = {}
    for rule_day in today:                       # the minimum comes before everything else
        minimums[rule_day] = min(plan.minimum_cents, money)
        money -= minimums[rule_day]
    later_minimums = plan.minimum_cents * (len(instalment_days) - len(today))
    spendable = max(0, money - reserve - later_minimums - plan.keep_cents)
    remaining_days = len(instalment_days)
    payments = []
    for rule_day in today:
        if plan.mode == "fixed":
            extra = min(max(0, (plan.amount_cents or 0) - minimums[rule_day]), spendable)
        elif remaining_days <= 1:
            extra = spendable                    # the last day takes the remainder
        else:
            extra = spendable // remaining_days  # floored to cents
        remaining_days -= 1
        spendable -= extra
        money -= extra
        amount = minimums[rule_day] + extra
        if amount > 0:
            payments.append(Payment(instalment_order_key(day.client_id, rule_day), day.client_id,
                                    "instalment", amount, instalment_on=rule_day))
    return money, payments


def _insufficient(client_id: int, obligation: OpenObligation, short: int) -> FlagRaised:
    return FlagRaised("insufficient_funds", obligation.key, client_id, short,
                      short_detail(obligation.kind, obligation.due_on, short,
                                   obligation.amount_cents))


def _arrears(client_id: int, obligation: OpenObligation, unpaid: int, execution_on: date) -> FlagRaised:
    days = (execution_on - obligation.due_on).days
    return FlagRaised("arrears", obligation.key, client_id, unpaid,
                      arrears_detail(obligation.kind, obligation.due_on, days))


# --- running the decision forward ----------------------------------------------------------------

@dataclass(frozen=True)
class Projected:
    """One payment the batch will make if the money comes as expected."""
    on: date
    payment: Payment


def project(client_id: int, balance_cents: int, obligations: Iterable[OpenObligation],
            incomes: Iterable[ComingIncome], instalments: Instalments | None, start: date,
            end: date, *, paid_instalment_dates: frozenset[date] = frozenset(),
            last_day: date | None = None,
            calendar: BankingCalendar = CALENDAR) -> list[Projected]:
    """Run ``decide_client`` on every banking day in [start, end], each income arriving on its day.

    The letter's "coming payments" and the plan check ask this, so they say exactly what the
    batch will do when the incomes come as the plan expects. ``last_day`` is the service's last
    day (step 5): a final payout is a payment of kind ``final`` without an obligation.

    Only the days that can pay are decided (``paying_days``): a day with no obligation due, no
    instalment paid and before the last payout decides nothing, and skipping it changes
    nothing but the time taken (its incomes still arrive)."""
    open_now = {o.key: o for o in obligations}
    coming = sorted(incomes, key=lambda i: i.arrives_on)
    paid_dates = set(paid_instalment_dates)
    found: list[Projected] = []
    horizon = timedelta(days=HORIZON_DAYS)
    may_pay = paying_days(instalments, start, end, last_day, calendar)
    first_due = min((o.pay_on for o in open_now.values() if o.amount_cents > 0), default=None)
    for execution_on in calendar.banking_days(start, end):
        balance_cents += sum(i.amount_cents for i in coming if i.arrives_on == execution_on)
        coming = [i for i in coming if i.arrives_on > execution_on]
        if not may_pay(execution_on) and (first_due is None or first_due > execution_on):
            continue
        ahead = execution_on + horizon              # what the day's batch reads (``run``)
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
            if payment.obligation_id is None:        # the final payout
                continue
            key = next(k for k, o in open_now.items() if obligation_order_key(o) == payment.key)
            rest = open_now[key].amount_cents - payment.amount_cents
            if rest <= 0:
                del open_now[key]                   # paid: the decision looks at it no more
            else:
                open_now[key] = open_now[key]._replace(amount_cents=rest,
                                                       earlier_orders=open_now[key].earlier_orders + 1)
        if payments:
            first_due = min((o.pay_on for o in open_now.values() if o.amount_cents > 0),
                            default=None)
    return found


def paying_days(instalments: Instalments | None, start: date, end: date, last_day: date | None,
                calendar: BankingCalendar = CALENDAR):
    """Whether ``decide_client`` can pay anything on a day in [start, end] when no obligation
    is due by then: an instalment day's paying day, or a day from the last payout's day on."""
    instalment_on = frozenset(paid for _rule_day, paid in instalment_dates(
        instalments.schedule, start, end, calendar)) if instalments is not None else frozenset()
    payout_on = None
    if last_day is not None:
        payout_on = payout_day(ClientDay(0, 0, (), instalments, last_day=last_day), calendar)

    def may_pay(day: date) -> bool:
        return day in instalment_on or (payout_on is not None and day >= payout_on)

    return may_pay
