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
  them from the month's last day (``decision.HORIZON_DAYS``); the instalment rule of the plan in force on the month's first day (or of
  the version that comes into force during the month, from its date); and the instalment days
  already ordered.
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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.payments.decision import (
    INSTALMENT_SHIFT_DAYS,
    RESERVE_DAYS,
    ComingIncome,
    Instalments,
    OpenObligation,
    project,
)
from valitystili.payments.decision import HORIZON_DAYS
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
from valitystili.store.chunks import select_in
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
    versions = approved_versions(session, [client.id]).get(client.id, [])
    plan = in_force(versions, first) or in_force(versions, last)
    if plan is None:
        return []
    period = _service_period(session, client, versions)
    if period.last_on is not None:
        if period.last_on < first:
            return []
        last = min(last, calendar.on_or_after(period.last_on))
    start = max(first, plan.effective_on, period.begins_on)
    payables = _stored_obligations(session, client) + _obligations_to_come(
        session, client, versions, period, start, last + timedelta(days=HORIZON_DAYS), calendar)
    by_id = {p.obligation.obligation_id: p for p in payables}
    projected = project(
        client.id, _available(session, client, first), [p.obligation for p in payables],
        _incomes_to_come(session, plan, start, last, period.last_on, calendar),
        instalment_rule(plan), start, last,
        paid_instalment_dates=_instalments_ordered(session, client, first, last),
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


def _available(session: Session, client: Client, first: date) -> int:
    """What the batch starts the month with: the balance at the end of the day before, less
    the orders not yet debited (as ``run.load_day`` counts it)."""
    try:
        balance = ledger.balance(session, client.ledger_code, as_of=first - timedelta(days=1))
    except ledger.UnknownAccount:
        balance = 0
    pending = session.execute(select(func.coalesce(func.sum(PaymentOrder.amount_cents), 0)).where(
        PaymentOrder.client_id == client.id, PaymentOrder.status == "draft")).scalar_one()
    return balance - int(pending)


def _stored_obligations(session: Session, client: Client) -> list[_Payable]:
    """The client's open obligations, each with what is left to pay and its orders so far."""
    orders = dict(session.execute(
        select(PaymentOrder.obligation_id, func.count())
        .join(Obligation, Obligation.id == PaymentOrder.obligation_id)
        .where(Obligation.client_id == client.id, Obligation.status == "open")
        .group_by(PaymentOrder.obligation_id)).all())
    rows = session.execute(
        select(Obligation, Payee.name).join(Payee, Payee.id == Obligation.payee_id)
        .where(Obligation.client_id == client.id, Obligation.status == "open")).all()
    return [_Payable(OpenObligation(o.id, o.key, o.kind, o.amount_cents - o.paid_cents, o.due_on,
                                    o.pay_on, o.allow_partial, orders.get(o.id, 0)),
                     payee, rent_parts(o.kind, o.amount_cents, o.direct_cents))
            for o, payee in rows]


def _service_period(session: Session, client: Client, versions: list) -> ServicePeriod:
    """The client's service period, as the rent ledger sees it."""
    plan_ids = [plan.id for plan in versions]
    return service_periods({client.id: client}, {client.id: versions},
                           income_schedules(session, plan_ids),
                           first_periods(session, plan_ids))[client.id]


def _obligations_to_come(session: Session, client: Client, versions: list,
                         period: ServicePeriod, first: date, end: date,
                         calendar: BankingCalendar) -> list[_Payable]:
    """The obligations the plan's items and the client's bills will make from ``first`` to
    ``end`` that are not stored yet, as ``obligations.ensure_obligations`` will make them
    (numbered below zero: they have no id yet): only those the service period holds."""
    stored = set(session.execute(select(Obligation.key).where(
        Obligation.client_id == client.id)).scalars())
    payees = dict(session.execute(select(Payee.id, Payee.name)).all())
    plan_ids = [plan.id for plan in versions]
    items: dict[int, list] = {}
    for item in select_in(session, select(*ITEM_COLUMNS), PlanItem.plan_id, plan_ids):
        items.setdefault(item.plan_id, []).append(item)
    windows = {plan.id: (max(first, plan.effective_on, period.begins_on), end)
               for plan in versions}
    incomes = income_schedules(session, plan_ids)
    shares = kela_shares(session, [client.id])
    found = []
    for due in item_dues(client.id, versions, items, windows, calendar, incomes):
        direct = direct_part(due.item, client.id, due.rule_on, shares)
        amount = due.item.amount_cents - direct
        if due.key in stored or amount <= 0 or not period.holds(due.rule_on, due.pay_on,
                                                                  calendar):
            continue
        found.append(_Payable(
            OpenObligation(-len(found) - 1, due.key, due.item.kind, amount, due.due_on,
                           due.pay_on, due.item.allow_partial),
            payees.get(due.item.payee_id, ""), rent_parts(due.item.kind, amount, direct)))
    for bill in session.execute(select(Bill).where(
            Bill.client_id == client.id, Bill.due_on.between(first, end))).scalars():
        if f"bill:{bill.id}" in stored:
            continue
        plan = in_force(versions, bill.due_on)
        due_on, pay_on = obligation_days(bill.due_on, incomes.get(plan.id, ()) if plan else (),
                                         calendar)
        if not period.holds(bill.due_on, pay_on, calendar):
            continue
        found.append(_Payable(
            OpenObligation(-len(found) - 1, f"bill:{bill.id}", bill.kind, bill.amount_cents,
                           due_on, pay_on, bill.kind == "rent"),
            payees.get(bill.payee_id, ""), {}))
    return found


def _incomes_to_come(session: Session, plan, start: date, last: date, last_on: date | None,
                     calendar: BankingCalendar) -> list[ComingIncome]:
    """The plan's expected incomes arriving from ``start`` on, as far as the batch reads them
    from the month's last day (``decision.HORIZON_DAYS``) and never after the service's last day
    ``last_on``, each on the day the batch counts it (``expected.counted_on``: a benefit
    without a fixed day ``late_days`` banking days late)."""
    end = last + timedelta(days=HORIZON_DAYS)
    if last_on is not None:
        end = min(end, last_on)
    late_days = settings.get_int(session, "late_days")
    return [ComingIncome(counted_on(income.kind, arrival, late_days, calendar),
                         income.amount_cents, income.kind)
            for income in session.execute(select(PlanIncome).where(
                PlanIncome.plan_id == plan.id).order_by(PlanIncome.position)).scalars()
            for _scheduled, arrival in income_arrivals(income.kind, income.schedule, start, end,
                                                       calendar)]


def instalment_rule(plan) -> Instalments | None:
    """The instalment rule of a plan version (None: it pays no instalments)."""
    if not plan.instalment_schedule:
        return None
    return Instalments(plan.instalment_schedule, plan.instalment_mode, plan.instalment_cents,
                       plan.keep_cents or 0, plan.minimum_cents or 0)


def _instalments_ordered(session: Session, client: Client, first: date, last: date
                         ) -> frozenset[date]:
    """Instalment days already ordered, from a week before the month (a closed day's
    instalment is paid on the next banking day) to as far as an even split looks."""
    return frozenset(session.execute(select(PaymentOrder.instalment_on).where(
        PaymentOrder.client_id == client.id, PaymentOrder.status != "cancelled",
        PaymentOrder.instalment_on.between(first - timedelta(days=INSTALMENT_SHIFT_DAYS),
                                           last + timedelta(days=RESERVE_DAYS)))).scalars())
