"""The plan check (DESIGN §5): does the plan add up? The daily batch's own decision, run forward.

A plan adds up when the batch, run over the plan's coming months with its expected incomes
arriving as expected, pays what the plan asks on time. Rules of this module:

- **The projection** is ``payments.decision.project``, the function the batch and the letter's
  coming payments call (``oversight.coming``): from 0,00 € on the day the version's service
  begins, over ``MONTHS_LOOKED_AT`` months or to the service's last day when it comes sooner,
  with
  - the obligations the rent ledger would make of the version's items (``plans.due.item_dues``,
    a rent less Kela's usual direct part), inside the service period
    (``plans.obligations.ServicePeriod``: the first ones are those paid on or after the first
    expected income's arrival or of the plan's ``first_period``; none after the fixed-term end
    or the close date), and
  - the version's expected incomes, each counted on the day the batch counts it
    (``plans.expected.counted_on``), none after the last day,
  both read on past the months looked at as far as the batch reads them (``decision.HORIZON_DAYS``),
  so the reserve at the end holds what the batch would. Nothing stored about the client's
  money is read (balance, orders, Kela's recorded shares): the plan is judged on its own terms,
  the same for ``plan set``, ``plan approve`` and ``plan show``.
- **Where the service begins.** The first version is checked from the service's first day (the
  later of the client's start and its effective date), with its ``first_period``. A version that
  follows an approved one already in force is checked as if its service began on its effective
  date: what falls before its first income was paid from the money held under the earlier
  version and is not judged.
- **What does not add up**, one line per month where it happens (the month of an obligation's
  agreed date; of an instalment's paying day):
  - an obligation (rent first of all, but also electricity and other items) not paid in full by
    its legal due date: how much was paid by then, or the day it was paid when later;
  - instalments below ``minimum`` (a fixed amount: that amount) × the month's instalment days,
    counted from the first income's arrival (nothing can be paid before it);
  - and, in such a month, the month's outgoings when they exceed its expected income: the
    obligations agreed for the month, and the fixed or minimum instalments of its instalment
    days, against the incomes scheduled in it.
  A month whose outgoings exceed its income but whose payments are all made (money held from
  the month before, a four-weekly benefit's thirteenth payment) adds up.
- ``stored_plans_problems`` checks many stored versions (``plans.approve_plans``), reading
  their rows once a call; ``stored_plan_problems`` is it for one.
- ``plan set`` lists the lines as warnings, ``plan approve`` needs ``--despite REASON`` when
  there is one (``plans.plans.approve_plan`` records both) and ``plan show`` lists them. Each
  line is a ``base.i18n.Message``: English in JSON and in the audit trail, in the person's
  language where a person reads it. The
  checks that need no projection stay in ``plans.check`` (Kela's direct part over half the
  rent; rents paid late for want of an intraday statement).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.i18n import N_, Message, PluralMessage
from valitystili.base.money import format_fi
from valitystili.oversight.coming import instalment_rule
from valitystili.payments.decision import (
    ComingIncome,
    OpenObligation,
    instalment_dates,
    project,
)
from valitystili.payments.decision import HORIZON_DAYS
from valitystili.people.clients import resolve_client
from valitystili.plans import plans
from valitystili.plans.check import MONTHS_LOOKED_AT
from valitystili.plans.due import item_dues
from valitystili.plans.expected import counted_on, income_arrivals
from valitystili.plans.obligations import (
    ITEM_COLUMNS,
    ServicePeriod,
    first_arrival,
    last_day,
)
from valitystili.plans.versions import approved_versions
from valitystili.store import settings
from valitystili.store.chunks import select_in
from valitystili.store.models import Client, Plan, PlanIncome, PlanItem
from valitystili.trust.auth import Actor

def forward_problems(plan, items: Sequence, incomes: Sequence[tuple[str, int, str]],
                     period: ServicePeriod, *, late_days: int,
                     calendar: BankingCalendar = CALENDAR) -> list[Message]:
    """What does not add up, one line per month (empty: the plan adds up); see the module rules.

    ``plan`` is a version (``id``, ``client_id`` and the instalment columns), ``items`` its
    items (``ITEM_COLUMNS``), ``incomes`` its expected incomes as (kind, amount, schedule)."""
    start = period.begins_on
    window_end = start + relativedelta(months=MONTHS_LOOKED_AT) - timedelta(days=1)
    if period.last_on is not None:
        window_end = min(window_end, period.last_on)
    if window_end < start:
        return []
    read_end = window_end + timedelta(days=HORIZON_DAYS)
    pairs = tuple(sorted((kind, schedule) for kind, _cents, schedule in incomes))
    outgoing: dict[date, int] = defaultdict(int)
    obligations, judged = _obligations(plan, items, pairs, period, start, window_end, read_end,
                                       outgoing, calendar)
    coming, income = _incomes(incomes, period, start, window_end, read_end, late_days, calendar)
    rule = instalment_rule(plan)
    run_end = max([window_end, *(o.due_on for o, _name, _agreed in judged)])
    projected = project(plan.client_id, 0, obligations, coming, rule, start, run_end,
                        last_day=period.last_on, calendar=calendar)

    lines: dict[date, list[Message]] = defaultdict(list)
    for obligation, name, agreed_on in judged:
        line = _late(obligation, name, projected)
        if line:
            lines[_month(agreed_on)].append(line)
    if rule is not None:
        first_money = max(start, first_arrival(pairs, start, calendar) or start)
        for month, line in _instalment_lines(rule, projected, first_money, window_end, outgoing,
                                             calendar):
            lines[month].append(line)
    found = []
    for month in sorted(lines):
        parts = lines[month]
        if outgoing[month] > income[month]:
            exceed = Message("the outgoings {outgoings} exceed the expected income {income}",
                             outgoings=format_fi(outgoing[month]),
                             income=format_fi(income[month]))
            parts = [exceed, *parts]
        found.append(Message.joined(": ", [f"{month.month}/{month.year}",
                                           Message.joined("; ", parts)]))
    return found


def _obligations(plan, items: Sequence, pairs: tuple, period: ServicePeriod, start: date,
                 window_end: date, read_end: date, outgoing: dict[date, int],
                 calendar: BankingCalendar) -> tuple[list[OpenObligation], list[tuple]]:
    """The obligations the version's items make in the service period up to ``read_end`` (as
    the rent ledger makes them), and those agreed in the months looked at, to be judged, as
    (obligation, name, agreed date); adds the judged ones to each month's ``outgoing``."""
    obligations, judged = [], []
    for due in item_dues(plan.client_id, [plan], {plan.id: items}, {plan.id: (start, read_end)},
                         calendar, {plan.id: pairs}):
        item = due.item
        amount = item.amount_cents - min(item.paid_directly_cents or 0, item.amount_cents)
        if amount <= 0 or not period.holds(due.rule_on, due.pay_on, calendar):
            continue
        obligation = OpenObligation(-len(obligations) - 1, due.key, item.kind, amount, due.due_on,
                                    due.pay_on, item.allow_partial)
        obligations.append(obligation)
        if due.rule_on <= window_end:
            judged.append((obligation, f"{item.kind}-{item.tag}" if item.tag else item.kind,
                           due.rule_on))
            outgoing[_month(due.rule_on)] += amount
    return obligations, judged


def _incomes(incomes: Sequence[tuple[str, int, str]], period: ServicePeriod, start: date,
             window_end: date, read_end: date, late_days: int, calendar: BankingCalendar
             ) -> tuple[list[ComingIncome], dict[date, int]]:
    """The expected incomes as the batch counts them (none after the last day), and each
    month's expected income (by the month it is scheduled for) in the months looked at."""
    coming, income = [], defaultdict(int)
    for kind, cents, schedule in incomes:
        for scheduled, arrival in income_arrivals(kind, schedule, start, read_end, calendar):
            if period.last_on is not None and arrival > period.last_on:
                continue
            coming.append(ComingIncome(counted_on(kind, arrival, late_days, calendar), cents, kind))
            if arrival <= window_end:
                income[_month(scheduled)] += cents
    return coming, income


def _instalment_lines(rule, projected, first: date, window_end: date,
                      outgoing: dict[date, int], calendar: BankingCalendar
                      ) -> list[tuple[date, Message]]:
    """(month, line) for each month whose instalments fall below the plan's floor (``minimum``,
    or a fixed ``amount``) on each of its instalment days from ``first``; adds the floor of
    each month's instalment days to its ``outgoing``."""
    fixed = (rule.amount_cents or 0) if rule.mode == "fixed" else 0
    floor = max(rule.minimum_cents, fixed)
    if not floor:
        return []
    days: dict[date, int] = defaultdict(int)
    for _rule_day, paid_on in instalment_dates(rule.schedule, first, window_end, calendar):
        days[_month(paid_on)] += 1
    paid: dict[date, int] = defaultdict(int)
    for step in projected:
        if step.payment.kind == "instalment" and step.on <= window_end:
            paid[_month(step.on)] += step.payment.amount_cents
    below = BELOW_FIXED if floor == fixed else BELOW_MINIMUM
    found = []
    for month, count in sorted(days.items()):
        outgoing[month] += floor * count
        if paid[month] < floor * count:
            found.append((month, Message(below, paid=format_fi(paid[month]),
                                         floor=format_fi(floor), count=count,
                                         total=format_fi(floor * count))))
    return found


#: A month's instalments below the plan's floor: its fixed amount, or its minimum.
BELOW_FIXED = N_("instalments {paid}, less than the fixed amount {floor} on {count} instalment "
                 "days ({total})")
BELOW_MINIMUM = N_("instalments {paid}, less than the minimum {floor} on {count} instalment days "
                   "({total})")


def _month(day: date) -> date:
    return day.replace(day=1)


def _late(obligation: OpenObligation, name: str, projected) -> Message | None:
    """A line when the projection leaves ``obligation`` unpaid at its legal due date."""
    steps = [step for step in projected
             if step.payment.obligation_id == obligation.obligation_id]
    by_due = sum(step.payment.amount_cents for step in steps if step.on <= obligation.due_on)
    if by_due >= obligation.amount_cents:
        return None
    due = format_fi_date(obligation.due_on)
    if by_due:
        return Message("{item} {paid} of {amount} paid by its legal due date {due}", item=name,
                       paid=format_fi(by_due), amount=format_fi(obligation.amount_cents),
                       due=due)
    if sum(step.payment.amount_cents for step in steps) >= obligation.amount_cents:
        return Message("{item} paid {day}, after its legal due date {due}", item=name,
                       day=format_fi_date(steps[-1].on), due=due)
    return Message("{item} {amount} not paid by its legal due date {due}", item=name,
                   amount=format_fi(obligation.amount_cents), due=due)


# --- a stored version ---------------------------------------------------------------------------


def stored_plan_problems(session: Session, plan: Plan,
                         calendar: BankingCalendar = CALENDAR) -> list[Message]:
    """``forward_problems`` of a stored version (a draft or an approved one)."""
    return stored_plans_problems(session, [plan], calendar)[0]


def stored_plans_problems(session: Session, plans: Sequence[Plan],
                          calendar: BankingCalendar = CALENDAR) -> list[list[Message]]:
    """``forward_problems`` of each stored version; their rows, their clients' approved
    versions and the settings are read once a call."""
    ids = [plan.id for plan in plans]
    items, incomes = defaultdict(list), defaultdict(list)
    for row in select_in(session, select(*ITEM_COLUMNS).order_by(PlanItem.plan_id,
                                                                 PlanItem.position),
                         PlanItem.plan_id, ids):
        items[row.plan_id].append(row)
    for row in select_in(session, select(PlanIncome.plan_id, PlanIncome.kind,
                                         PlanIncome.amount_cents, PlanIncome.schedule)
                         .order_by(PlanIncome.plan_id, PlanIncome.position),
                         PlanIncome.plan_id, ids):
        incomes[row.plan_id].append((row.kind, row.amount_cents, row.schedule))
    approved = approved_versions(session, sorted({plan.client_id for plan in plans}))
    late_days = settings.get_int(session, "late_days")
    found = []
    for plan in plans:
        client = session.get(Client, plan.client_id)
        others = [v for v in approved.get(client.id, ()) if v.id != plan.id]
        found.append(forward_problems(
            plan, items[plan.id], incomes[plan.id],
            _period(client, plan, incomes[plan.id], others), late_days=late_days,
            calendar=calendar))
    return found


def _period(client: Client, plan: Plan, incomes: Sequence[tuple[str, int, str]],
            others: Sequence) -> ServicePeriod:
    """The service period the version is checked in (see the module rules); ``others`` are the
    client's other approved versions."""
    begins_on = max([client.start_on, min([plan.effective_on, *(v.effective_on for v in others)])])
    pairs = tuple(sorted((kind, schedule) for kind, _cents, schedule in incomes))
    if plan.effective_on > begins_on:              # the service runs already: a later version
        return ServicePeriod(plan.effective_on, pairs, None, last_day(client))
    month = plan.first_period
    return ServicePeriod(begins_on, pairs,
                         date(int(month[:4]), int(month[5:7]), 1) if month else None,
                         last_day(client))


def _version(session: Session, client_id: int, version: int) -> Plan:
    return session.execute(select(Plan).where(Plan.client_id == client_id,
                                              Plan.version == version)).scalar_one()


# --- the services the command line calls ------------------------------------------------------


def set_plan(session: Session, actor: Actor, client: str | int, toml_text: str,
             **options) -> dict:
    """``plans.set_plan``, its warnings led by what does not add up (how many months, then one
    line a month)."""
    result = plans.set_plan(session, actor, client, toml_text, **options)
    problems = stored_plan_problems(session, _version(session, result["client"],
                                                      result["version"]))
    if problems:
        count = len(problems)
        result["warnings"] = [
            PluralMessage("plan does not add up in {count} month; approving it needs --despite",
                          "plan does not add up in {count} months; approving it needs --despite",
                          count, count=count),
            *problems, *result["warnings"]]
    return result


def approve_plan(session: Session, actor: Actor, client: str | int, version: int | None = None,
                 **options) -> dict:
    """``plans.approve_plan`` with this module's check: a plan that does not add up needs
    ``despite``."""
    return plans.approve_plan(session, actor, client, version, check=stored_plans_problems,
                              **options)


def approve_plans(session: Session, actor: Actor, approvals: Sequence[plans.Approval],
                  **options) -> list[dict]:
    """``plans.approve_plans`` (many decisions in one call) with this module's check."""
    return plans.approve_plans(session, actor, approvals, check=stored_plans_problems,
                               **options)


def show_plan(session: Session, actor: Actor, client: str | int, *,
              version: int | None = None, today: date | None = None) -> dict:
    """``plans.show_plan`` with ``problems``: what does not add up, one line a month."""
    shown = plans.show_plan(session, actor, client, version=version, today=today)
    shown["problems"] = stored_plan_problems(
        session, _version(session, resolve_client(session, client).id, shown["version"]))
    return shown
