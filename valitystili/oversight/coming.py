"""Next month's payments in the client's letter: the daily batch's own decision run forward.

DESIGN §6: the letter's "coming payments" call the same function as the batch, so the letter
never promises what the batch will not do. Rules of this module:

- ``coming_payments`` runs ``payments.decision.project`` over the month's banking days from the
  state the batch will start from: the balance at the end of the day before the month less the
  orders not yet debited (as ``run.load_day`` counts it); the client's open obligations (what
  is left of each, and the orders it has had), and those the plan's items and the client's
  bills will make that are not stored yet (``due.item_dues``, a rent less Kela's part,
  ``obligations.direct_part``), as far ahead as the batch makes them (``decision.HORIZON_DAYS``
  after the month); the expected incomes of the plan, each arriving on its day
  (``expected.income_arrivals``, counted as the batch counts them) as far as the batch reads
  them from the month's last day (``decision.HORIZON_DAYS``); the instalment rule of the plan
  in force on the month's first day (or of the version that comes into force during the month,
  from its date); and the instalment days already ordered.
- Every amount is then known, an even split's instalments too: it is what the batch pays if the
  incomes come as expected.
- **The service period** (DESIGN §5) is the rent ledger's own (``obligations.ServicePeriod``):
  the obligations still to be made are those it holds (none before the first expected income
  unless the plan names a ``first_period``, none paid after the fixed-term end or the close
  date), no income is counted after the last day, and the projection is given the last day, so
  the last instalment day takes the remainder and anything left after it is the final payout
  (kind ``final``), as in the batch. The month's payments stop there: the last day, or the
  banking day after it when it is closed. A month after the last day has nothing coming.
- A rent Kela pays part of carries its whole rent and Kela's part (``rent_parts``): the
  obligation's ``direct_cents``, the share from Kela's decision or else the plan's usual part.
- **Read in bulk**: ``coming_payments_of`` answers for many clients at once, reading each kind
  of row (plans, their items and incomes, obligations, orders, bills, balances) once per chunk
  of clients (``store.chunks.CHUNK``), so its statements do not grow with the number of
  clients; ``coming_payments`` is it for one client.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.payments.decision import (
    HORIZON_DAYS,
    INSTALMENT_SHIFT_DAYS,
    RESERVE_DAYS,
    ComingIncome,
    Instalments,
    OpenObligation,
    project,
)
from valitystili.plans.due import item_dues, obligation_days, rank
from valitystili.plans.expected import counted_on, income_arrivals
from valitystili.plans.obligations import (
    ITEM_COLUMNS,
    ServicePeriod,
    direct_part,
    first_periods,
    income_schedules,
    kela_shares,
    service_periods,
)
from valitystili.plans.versions import approved_versions, in_force
from valitystili.store import settings
from valitystili.store.chunks import chunks, select_in
from valitystili.store.models import (
    Bill,
    Client,
    Obligation,
    Payee,
    PaymentOrder,
    PlanIncome,
    PlanItem,
)


@dataclass(frozen=True)
class Coming:
    """One payment the batch will make."""

    on: date
    kind: str                        # rent | electricity | other | instalment | final
    payee: str                       # the payee's name ("" for an instalment or the final payout)
    amount_cents: int
    rent_cents: int | None = None    # a rent Kela pays part of: the whole rent
    kela_cents: int | None = None    # and Kela's part of it
    key: str = ""                    # the obligation's key ("rent:1:2026-12"; "" an instalment)


def rent_parts(kind: str, account_cents: int | None, direct_cents: int | None) -> dict:
    """The whole rent and Kela's part, for a rent Kela pays part of (else nothing)."""
    if kind != "rent" or not direct_cents:
        return {}
    return {"rent_cents": account_cents + direct_cents, "kela_cents": direct_cents}


@dataclass(frozen=True)
class _Payable:
    """One obligation the projection may pay, with what its letter line shows."""

    obligation: OpenObligation
    payee: str
    parts: dict                  # its ``rent_parts``


def coming_payments(session: Session, client: Client, first: date, last: date,
                    calendar: BankingCalendar = CALENDAR) -> list[Coming]:
    """What the batch will pay for ``client`` on the banking days of [first, last] (a month),
    if the incomes come as expected (see the module rules)."""
    return coming_payments_of(session, [client], first, last, calendar)[client.id]


def coming_payments_of(session: Session, clients: Sequence[Client], first: date, last: date,
                       calendar: BankingCalendar = CALENDAR) -> dict[int, list[Coming]]:
    """``coming_payments`` of each of ``clients``, by client id, read in bulk (module rules)."""
    found: dict[int, list[Coming]] = {}
    for part in chunks(list(clients)):
        rows = _Rows(session, part, first, last)
        for client in part:
            found[client.id] = _coming(client, rows, first, last, calendar)
    return found


class _Rows:
    """What the projection starts from, read for a chunk of clients: each kind of row once."""

    def __init__(self, session: Session, clients: Sequence[Client], first: date, last: date):
        ids = [client.id for client in clients]
        self.versions = approved_versions(session, ids)
        plan_ids = [plan.id for versions in self.versions.values() for plan in versions]
        self.incomes = income_schedules(session, plan_ids)
        self.periods = service_periods({client.id: client for client in clients}, self.versions,
                                       self.incomes, first_periods(session, plan_ids))
        self.expected: dict[int, list] = defaultdict(list)
        for income in select_in(session, select(
                PlanIncome.plan_id, PlanIncome.kind, PlanIncome.schedule, PlanIncome.amount_cents)
                .order_by(PlanIncome.plan_id, PlanIncome.position), PlanIncome.plan_id, plan_ids):
            self.expected[income.plan_id].append(income)
        self.items: dict[int, list] = defaultdict(list)
        for item in select_in(session, select(*ITEM_COLUMNS), PlanItem.plan_id, plan_ids):
            self.items[item.plan_id].append(item)
        self.shares = kela_shares(session, ids)
        self.payees = dict(session.execute(select(Payee.id, Payee.name)).all())
        self.late_days = settings.get_int(session, "late_days")
        self.stored = _stored_obligations(session, ids)
        self.keys: dict[int, set[str]] = defaultdict(set)
        for client_id, key in select_in(session, select(Obligation.client_id, Obligation.key),
                                        Obligation.client_id, ids):
            self.keys[client_id].add(key)
        self.bills: dict[int, list] = defaultdict(list)
        for bill in select_in(session, select(
                Bill.id, Bill.client_id, Bill.kind, Bill.payee_id, Bill.amount_cents, Bill.due_on)
                .where(Bill.due_on.between(first, last + timedelta(days=HORIZON_DAYS)))
                .order_by(Bill.id), Bill.client_id, ids):
            self.bills[bill.client_id].append(bill)
        self.available = _available(session, clients, first)
        self.ordered: dict[int, set[date]] = defaultdict(set)
        for client_id, day in select_in(session, select(
                PaymentOrder.client_id, PaymentOrder.instalment_on).where(
                PaymentOrder.status != "cancelled",
                PaymentOrder.instalment_on.between(first - timedelta(days=INSTALMENT_SHIFT_DAYS),
                                                   last + timedelta(days=RESERVE_DAYS))),
                PaymentOrder.client_id, ids):
            self.ordered[client_id].add(day)


def _coming(client: Client, rows: _Rows, first: date, last: date,
            calendar: BankingCalendar) -> list[Coming]:
    """One client's coming payments from the chunk's rows (see the module rules)."""
    versions = rows.versions.get(client.id, [])
    plan = in_force(versions, first) or in_force(versions, last)
    if plan is None:
        return []
    period = rows.periods[client.id]
    if period.last_on is not None:
        if period.last_on < first:
            return []
        last = min(last, calendar.on_or_after(period.last_on))
    start = max(first, plan.effective_on, period.begins_on)
    payables = rows.stored.get(client.id, []) + _obligations_to_come(
        rows, client, versions, period, start, last + timedelta(days=HORIZON_DAYS), calendar)
    by_id = {p.obligation.obligation_id: p for p in payables}
    projected = project(
        client.id, rows.available[client.id], [p.obligation for p in payables],
        _incomes_to_come(rows, plan, start, last, period.last_on, calendar),
        instalment_rule(plan), start, last,
        paid_instalment_dates=_instalments_ordered(rows, client, first, last),
        last_day=period.last_on, calendar=calendar)
    found = []
    for step in projected:
        payment = step.payment
        if payment.obligation_id is None:
            found.append(Coming(step.on, payment.kind, "", payment.amount_cents))
        else:
            payable = by_id[payment.obligation_id]
            found.append(Coming(step.on, payment.kind, payable.payee, payment.amount_cents,
                                **payable.parts, key=payable.obligation.key))
    found.sort(key=lambda coming: (coming.on, rank(coming.kind), coming.payee))
    return found


def _available(session: Session, clients: Sequence[Client], first: date) -> dict[int, int]:
    """What the batch starts the month with: the balance at the end of the day before, less
    the orders not yet debited (as ``run.load_day`` counts it)."""
    balances = ledger.balances_of(session, [client.ledger_code for client in clients],
                                  first - timedelta(days=1))
    pending = dict(select_in(session, select(
        PaymentOrder.client_id, func.sum(PaymentOrder.amount_cents))
        .where(PaymentOrder.status == "draft").group_by(PaymentOrder.client_id),
        PaymentOrder.client_id, [client.id for client in clients]))
    return {client.id: balances.get(client.ledger_code, 0) - int(pending.get(client.id, 0))
            for client in clients}


def _stored_obligations(session: Session, client_ids: list[int]) -> dict[int, list[_Payable]]:
    """Each client's open obligations, each with what is left to pay and its orders so far."""
    orders = dict(select_in(session, select(PaymentOrder.obligation_id, func.count())
                            .join(Obligation, Obligation.id == PaymentOrder.obligation_id)
                            .where(Obligation.status == "open")
                            .group_by(PaymentOrder.obligation_id),
                            Obligation.client_id, client_ids))
    found: dict[int, list[_Payable]] = defaultdict(list)
    for o in select_in(session, select(
            Obligation.id, Obligation.client_id, Obligation.key, Obligation.kind,
            Obligation.amount_cents, Obligation.paid_cents, Obligation.direct_cents,
            Obligation.due_on, Obligation.pay_on, Obligation.allow_partial,
            Payee.name.label("payee"))
            .join(Payee, Payee.id == Obligation.payee_id)
            .where(Obligation.status == "open").order_by(Obligation.id),
            Obligation.client_id, client_ids):
        found[o.client_id].append(_Payable(
            OpenObligation(o.id, o.key, o.kind, o.amount_cents - o.paid_cents, o.due_on,
                           o.pay_on, o.allow_partial, orders.get(o.id, 0)),
            o.payee, rent_parts(o.kind, o.amount_cents, o.direct_cents)))
    return found


def _obligations_to_come(rows: _Rows, client: Client, versions: list, period: ServicePeriod,
                         first: date, end: date, calendar: BankingCalendar) -> list[_Payable]:
    """The obligations the plan's items and the client's bills will make from ``first`` to
    ``end`` that are not stored yet, as ``obligations.ensure_obligations`` will make them
    (numbered below zero: they have no id yet): only those the service period holds."""
    stored = rows.keys.get(client.id, set())
    windows = {plan.id: (max(first, plan.effective_on, period.begins_on), end)
               for plan in versions}
    found = []
    for due in item_dues(client.id, versions, rows.items, windows, calendar, rows.incomes):
        direct = direct_part(due.item, client.id, due.rule_on, rows.shares)
        amount = due.item.amount_cents - direct
        if due.key in stored or amount <= 0 or not period.holds(due.rule_on, due.pay_on,
                                                                  calendar):
            continue
        found.append(_Payable(
            OpenObligation(-len(found) - 1, due.key, due.item.kind, amount, due.due_on,
                           due.pay_on, due.item.allow_partial),
            rows.payees.get(due.item.payee_id, ""), rent_parts(due.item.kind, amount, direct)))
    for bill in rows.bills.get(client.id, ()):
        if not first <= bill.due_on <= end or f"bill:{bill.id}" in stored:
            continue
        plan = in_force(versions, bill.due_on)
        due_on, pay_on = obligation_days(
            bill.due_on, rows.incomes.get(plan.id, ()) if plan else (), calendar)
        if not period.holds(bill.due_on, pay_on, calendar):
            continue
        found.append(_Payable(
            OpenObligation(-len(found) - 1, f"bill:{bill.id}", bill.kind, bill.amount_cents,
                           due_on, pay_on, bill.kind == "rent"),
            rows.payees.get(bill.payee_id, ""), {}))
    return found


def _incomes_to_come(rows: _Rows, plan, start: date, last: date, last_on: date | None,
                     calendar: BankingCalendar) -> list[ComingIncome]:
    """The plan's expected incomes arriving from ``start`` on, as far as the batch reads them
    from the month's last day (``decision.HORIZON_DAYS``) and never after the service's last day
    ``last_on``, each on the day the batch counts it (``expected.counted_on``: a benefit
    without a fixed day ``late_days`` banking days late)."""
    end = last + timedelta(days=HORIZON_DAYS)
    if last_on is not None:
        end = min(end, last_on)
    return [ComingIncome(counted_on(income.kind, arrival, rows.late_days, calendar),
                         income.amount_cents, income.kind)
            for income in rows.expected.get(plan.id, ())
            for _scheduled, arrival in income_arrivals(income.kind, income.schedule, start, end,
                                                       calendar)]


def instalment_rule(plan) -> Instalments | None:
    """The instalment rule of a plan version (None: it pays no instalments)."""
    if not plan.instalment_schedule:
        return None
    return Instalments(plan.instalment_schedule, plan.instalment_mode, plan.instalment_cents,
                       plan.keep_cents or 0, plan.minimum_cents or 0)


def _instalments_ordered(rows: _Rows, client: Client, first: date, last: date
                         ) -> frozenset[date]:
    """Instalment days already ordered, from a week before the month (a closed day's
    instalment is paid on the next banking day) to as far as an even split looks."""
    since = first - timedelta(days=INSTALMENT_SHIFT_DAYS)
    until = last + timedelta(days=RESERVE_DAYS)
    return frozenset(day for day in rows.ordered.get(client.id, ()) if since <= day <= until)
