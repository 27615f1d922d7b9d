"""The rent ledger: obligations generated from approved plans and bills.

Rules:
- What falls due when — which items, their stable keys, legal due dates and pay-by days — is
  ``plans.due``'s one expansion; this module stores it as obligations (one per key), and bills
  as ``bill:<id>``. The key is the same whichever plan version generates it, so a new version
  never makes a second obligation for the same period.
- Generation looks at a window around the batch day (from ``LOOKBACK_DAYS`` before to the
  horizon after). Each approved plan version remembers how far its obligations have been
  generated (``plans.obligations_through``), so a day's run only generates the dates that
  entered the horizon since the last run — the cost follows the day's work, never the years
  of history. A newly approved version starts from the window's beginning, and an open, still
  unpaid obligation whose amount or payee it changed is updated to it; a paid one is never
  touched.
- A rent item's amount is the whole rent; the account's obligation is the rest after Kela's
  direct part: the month's share recorded from Kela's decision (``KelaShare``) where there is
  one, else the item's usual ``paid_directly``. The obligation keeps that part in
  ``direct_cents``; one whose whole rent Kela pays is stored settled, nothing to pay.
- Leases do not create obligations: the plan's rent item does, and the lease is checked
  against it — so rent can never be paid twice.
- **Obligations exist only inside the client's service period** (DESIGN §5, ``ServicePeriod``),
  plan items and bills alike. The first ones are those whose pay day is on or after the arrival
  of the first expected income (any ``[[income]]`` of the plan version in force when the
  service begins: the later of the client's start and the first approved version's effective
  date); earlier ones the client pays. A plan that names ``first_period`` overrides that: the
  first ones are then those agreed for that month and later. Nothing has a pay day after the
  service's last day: the fixed-term end (``clients.until_on``) or the close date, the day
  itself included. Closing cancels what lies after it (``people.clients.close_client``).
- For a client with a last day, a version's obligations are recorded as generated only up to
  ``LAST_DAY_MARGIN_DAYS`` before it, so every run looks again at the dates around and after
  it: when a handler's decision extends the term (``client extend``), the next run makes the
  obligations up to the new end.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.plans.due import item_dues, obligation_days, schedule_dates
from valitystili.plans.expected import income_arrivals
from valitystili.plans.versions import approved_versions, in_force
from valitystili.store.chunks import (
    chunks,
    fetch_rows_of,
    insert_rows,
    member_of,
    scalars_in,
    select_in,
)
from valitystili.store.models import (
    Bill,
    Client,
    KelaShare,
    Obligation,
    Plan,
    PlanIncome,
    PlanItem,
)

LOOKBACK_DAYS = 62
#: How far after the service begins the first expected income is looked for (a monthly benefit
#: arrives within a month, a four-weekly one within four weeks); a pay day later than this is
#: after the first arrival whenever there is one.
FIRST_INCOME_DAYS = 62
#: How far before the service's last day each run looks again (see the module rules): more than
#: a pay day can move past its agreed date (to the legal due date).
LAST_DAY_MARGIN_DAYS = 7


#: The fields a still unpaid obligation takes over from a newer plan version or bill.
UPDATED_FIELDS = ("amount_cents", "direct_cents", "payee_id", "reference", "reference_kind",
                  "message", "allow_partial", "source_id", "agreed_on", "due_on", "pay_on")
#: Those compared to decide whether an obligation changed.
COMPARED_FIELDS = ("amount_cents", "direct_cents", "payee_id", "reference", "message",
                   "source_id", "due_on", "pay_on")
ITEM_COLUMNS = (PlanItem.id, PlanItem.plan_id, PlanItem.position, PlanItem.kind,
                PlanItem.payee_id, PlanItem.amount_cents, PlanItem.bills, PlanItem.schedule,
                PlanItem.reference, PlanItem.reference_kind, PlanItem.message,
                PlanItem.paid_by, PlanItem.allow_partial, PlanItem.paid_directly_cents,
                PlanItem.tag)


def ensure_obligations(session: Session, start: date, end: date, *,
                       calendar: BankingCalendar = CALENDAR,
                       client_ids: Sequence[int] | None = None) -> dict:
    """Create (or update, while unpaid) the obligations with rule dates in [start, end]; the
    counts created, updated and cancelled, and under ``versions`` the approved versions of the
    clients it looked at (``versions.approved_versions``: the day's run reads them once).

    The clients are those ``generating`` from ``start``; with ``client_ids``, only those of them
    (a day's run over many clients does a part of them at a time: each client's obligations
    depend on that client's plans, bills and shares alone).

    Only what can fall due is read in full: the items of the versions whose window holds a date
    of their schedule, the bills due in the window, and for their clients the incomes, Kela's
    shares and the service periods (``_items_in_windows``). On most days a day's window holds
    no item's date, and nothing but the clients and their versions is read."""
    clients = {row.id: row for row in fetch_rows_of(session, select(
        Client.id, Client.start_on, Client.until_on, Client.status, Client.closed_on)
        .where(generating(start)), Client.id, client_ids)}
    plans = approved_versions(session, list(clients)) if clients else {}
    windows = _windows(clients, plans, start, end)
    items = _items_in_windows(session, windows)
    due = select(Bill).where(Bill.due_on.between(start, end))
    bills = [bill for bill in (session.execute(due).scalars() if client_ids is None
                               else scalars_in(session, due, Bill.client_id, client_ids))
             if bill.client_id in clients]
    concerned = {plan.client_id for versions in plans.values() for plan in versions
                 if plan.id in items} | {bill.client_id for bill in bills}
    plan_ids = [plan.id for client_id in concerned for plan in plans.get(client_id, ())]
    incomes = income_schedules(session, plan_ids)
    shares = kela_shares(session, list(concerned))
    periods = service_periods({client_id: clients[client_id] for client_id in concerned},
                              plans, incomes, first_periods(session, plan_ids))
    wanted = _wanted_from_plans(periods, plans, items, incomes, shares, windows, calendar)
    wanted.update(_wanted_from_bills(bills, periods, plans, incomes, calendar))
    created, updated = _store(session, wanted)
    cancelled = _cancel_superseded(session, plans, wanted, start)
    _record_generated(session, plans, clients, end)
    return {"created": created, "updated": updated, "cancelled": cancelled, "versions": plans}


def generating(start: date) -> ColumnElement[bool]:
    """The clients whose obligations a run from ``start`` generates: the open ones and those
    closed on or after ``start`` (their service ran into the window)."""
    return (Client.status == "open") | (Client.closed_on >= start)


def _windows(clients: dict[int, object], plans: dict[int, list], start: date, end: date
             ) -> dict[int, tuple[date, date]]:
    """The rule dates each approved version looks at in a run over [start, end], by plan id."""
    windows = {}
    for client_id, versions in plans.items():
        begins_on = service_begins(clients[client_id], versions)
        for plan in versions:
            if plan.obligations_through is not None:
                # Continue where this version stopped, even before the lookback: a gap
                # between runs must never leave a period without its obligation.
                first = max(plan.effective_on, begins_on,
                            plan.obligations_through + timedelta(days=1))
            else:
                first = max(start, plan.effective_on, begins_on)
            if first <= end:
                windows[plan.id] = (first, end)
    return windows


def _items_in_windows(session: Session, windows: dict[int, tuple[date, date]]
                      ) -> dict[int, list]:
    """The items, by plan id, of the versions whose window holds a date of the item's schedule
    (and perhaps others: ``item_dues`` looks at each date).

    Most versions share one window, the days that entered the horizon since the last run; for
    them only the schedules that have a date in it are read (the distinct schedules first, a
    few dozen), which on most days is none. The others (a new version, a fixed term near its
    end) are read whole."""
    shared = next(iter(Counter(windows.values()).most_common(1)), (None,))[0]
    regular = [plan_id for plan_id, window in windows.items() if window == shared]
    others = [plan_id for plan_id, window in windows.items() if window != shared]
    items: dict[int, list] = defaultdict(list)
    if regular:
        first, last = shared
        schedules = {schedule for (schedule,) in select_in(
            session, select(PlanItem.schedule).distinct().where(PlanItem.schedule.is_not(None)),
            PlanItem.plan_id, regular)}
        live = [schedule for schedule in schedules if schedule_dates(schedule, first, last)]
        if live:
            for item in select_in(session, select(*ITEM_COLUMNS).where(
                    PlanItem.schedule.in_(live)), PlanItem.plan_id, regular):
                items[item.plan_id].append(item)
    for item in select_in(session, select(*ITEM_COLUMNS), PlanItem.plan_id, others):
        items[item.plan_id].append(item)
    return items


@dataclass(frozen=True)
class ServicePeriod:
    """Which obligations a client's service period holds (see the module rules)."""

    begins_on: date                              # the client's start or the first plan's date
    incomes: tuple[tuple[str, str], ...] = ()    # (kind, schedule) of the plan it begins with
    first_agreed_on: date | None = None          # the plan's ``first_period``, its first day
    last_on: date | None = None                  # the fixed-term end or the close date

    def holds(self, agreed_on: date, pay_on: date, calendar: BankingCalendar = CALENDAR) -> bool:
        """True when an obligation agreed for ``agreed_on``, paid on ``pay_on``, is the
        account's to pay."""
        if self.last_on is not None and pay_on > self.last_on:
            return False
        if self.first_agreed_on is not None:
            return agreed_on >= self.first_agreed_on
        if pay_on > self.begins_on + timedelta(days=FIRST_INCOME_DAYS):
            return True          # after any first arrival: no need to look for it
        first = first_arrival(self.incomes, self.begins_on, calendar)
        return first is None or pay_on >= first


def generated_through(last_on: date | None, end: date) -> date:
    """How far a run up to ``end`` records a version's obligations as generated, for a service
    whose last day is ``last_on`` (None: until further notice)."""
    if last_on is None:
        return end
    return min(end, last_on - timedelta(days=LAST_DAY_MARGIN_DAYS))


def service_begins(client, versions: list) -> date:
    """The day the service begins: the client's start, or the first approved version's
    effective date if later."""
    return max([client.start_on, *(plan.effective_on for plan in versions[:1])])


def last_day(client) -> date | None:
    """The service's last day: the close date of a closed client, else the fixed-term end."""
    return client.closed_on if client.status == "closed" else client.until_on


def service_periods(clients: dict[int, object], plans: dict[int, list],
                    incomes: dict[int, tuple], first_periods: dict[int, str]
                    ) -> dict[int, ServicePeriod]:
    """The service period of each client (rows with ``start_on``, ``until_on``, ``status``,
    ``closed_on``), from the approved plan versions in force when it begins."""
    periods = {}
    for client_id, client in clients.items():
        versions = plans.get(client_id, ())
        begins_on = service_begins(client, versions)
        first = in_force(versions, begins_on)
        month = first_periods.get(first.id) if first is not None else None
        periods[client_id] = ServicePeriod(
            begins_on, incomes.get(first.id, ()) if first is not None else (),
            date(int(month[:4]), int(month[5:7]), 1) if month else None, last_day(client))
    return periods


@lru_cache(maxsize=4096)
def first_arrival(incomes: tuple[tuple[str, str], ...], begins_on: date,
                  calendar: BankingCalendar) -> date | None:
    """The first day on or after ``begins_on`` that one of ``incomes`` arrives; None when none
    arrives within ``FIRST_INCOME_DAYS``. Cached: clients opened on one day share it."""
    arrivals = [arrival for kind, schedule in incomes
                for _scheduled, arrival in income_arrivals(
                    kind, schedule, begins_on, begins_on + timedelta(days=FIRST_INCOME_DAYS),
                    calendar)]
    return min(arrivals, default=None)


def first_periods(session: Session, plan_ids: list[int]) -> dict[int, str]:
    """The ``first_period`` ("2026-12") of the plan versions that name one."""
    return dict(select_in(session, select(Plan.id, Plan.first_period).where(
        Plan.first_period.is_not(None)), Plan.id, plan_ids))


def _record_generated(session: Session, plans: dict[int, list], clients: dict[int, object],
                      end: date) -> None:
    """Remember how far each version's obligations are generated (one update per day)."""
    by_day: dict[date, list[int]] = defaultdict(list)
    for client_id, versions in plans.items():
        through = generated_through(last_day(clients[client_id]), end)
        by_day[through].extend(plan.id for plan in versions)
    table = Plan.__table__
    for through, plan_ids in by_day.items():
        for chunk in chunks(plan_ids):
            session.execute(table.update().where(
                member_of(session, table.c.id, chunk),
                (table.c.obligations_through.is_(None)) | (table.c.obligations_through < through))
                .values(obligations_through=through))


def income_schedules(session: Session, plan_ids: list[int]
                     ) -> dict[int, tuple[tuple[str, str], ...]]:
    """(kind, schedule) of each plan version's expected incomes: they can move a pay day."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for plan_id, kind, schedule in select_in(
            session, select(PlanIncome.plan_id, PlanIncome.kind, PlanIncome.schedule),
            PlanIncome.plan_id, plan_ids):
        found[plan_id].append((kind, schedule))
    return {plan_id: tuple(sorted(pairs)) for plan_id, pairs in found.items()}


def kela_shares(session: Session, client_ids: list[int]) -> dict[tuple[int, str], int]:
    """The recorded direct parts of the rent, by (client, "2026-11")."""
    return {(row.client_id, row.month): row.amount_cents for row in select_in(
        session, select(KelaShare.client_id, KelaShare.month, KelaShare.amount_cents),
        KelaShare.client_id, client_ids)}


def direct_part(item, client_id: int, agreed_on: date,
                shares: dict[tuple[int, str], int]) -> int:
    """Kela's direct part of a rent item's period: the recorded share, else the usual one;
    never more than the whole rent."""
    if item.kind != "rent":
        return 0
    share = shares.get((client_id, agreed_on.strftime("%Y-%m")), item.paid_directly_cents or 0)
    return min(share, item.amount_cents)


def _wanted_from_plans(periods: dict[int, ServicePeriod], plans: dict[int, list],
                       items: dict[int, list], incomes: dict[int, tuple],
                       shares: dict[tuple[int, str], int], windows: dict[int, tuple[date, date]],
                       calendar: BankingCalendar) -> dict[str, dict]:
    wanted: dict[str, dict] = {}
    for client_id, period in periods.items():
        versions = plans.get(client_id, ())
        for due in item_dues(client_id, versions, items, windows, calendar, incomes):
            if not period.holds(due.rule_on, due.pay_on, calendar):
                continue
            item = due.item
            direct = direct_part(item, client_id, due.rule_on, shares)
            wanted[due.key] = dict(
                key=due.key, client_id=client_id, kind=item.kind, payee_id=item.payee_id,
                amount_cents=item.amount_cents - direct, direct_cents=direct,
                agreed_on=due.rule_on, due_on=due.due_on,
                pay_on=due.pay_on,
                reference=item.reference, reference_kind=item.reference_kind,
                message=item.message, allow_partial=item.allow_partial, source="plan_item",
                source_id=item.id)
    return wanted


def _wanted_from_bills(bills: list, periods: dict[int, ServicePeriod], plans: dict[int, list],
                       incomes: dict[int, tuple], calendar: BankingCalendar) -> dict[str, dict]:
    wanted: dict[str, dict] = {}
    for bill in bills:
        period = periods[bill.client_id]
        key = f"bill:{bill.id}"
        plan = in_force(plans.get(bill.client_id, ()), bill.due_on)
        due_on, pay_on = obligation_days(bill.due_on, incomes.get(plan.id, ()) if plan else (),
                                         calendar)
        if not period.holds(bill.due_on, pay_on, calendar):
            continue
        wanted[key] = dict(
            key=key, client_id=bill.client_id, kind=bill.kind, payee_id=bill.payee_id,
            amount_cents=bill.amount_cents, direct_cents=0, agreed_on=bill.due_on, due_on=due_on,
            pay_on=pay_on,
            reference=bill.reference, reference_kind=bill.reference_kind, message=bill.message,
            allow_partial=bill.kind == "rent", source="bill", source_id=bill.id)
    return wanted


def _store(session: Session, wanted: dict[str, dict]) -> tuple[int, int]:
    """Insert the new obligations and update the unpaid ones that changed; (created, updated)."""
    columns = (Obligation.key, Obligation.id, Obligation.status, Obligation.paid_cents,
               *(getattr(Obligation, name) for name in COMPARED_FIELDS))
    existing = {row.key: row for row in select_in(session, select(*columns), Obligation.key,
                                                  list(wanted))}
    new_rows, changes = [], []
    for key, row in wanted.items():
        current = existing.get(key)
        status = "open" if row["amount_cents"] > 0 else "settled"
        if current is None:
            new_rows.append({**row, "paid_cents": 0, "status": status})
        elif current.status in ("open", "cancelled") and current.paid_cents == 0 and (
                (current.status, *(getattr(current, name) for name in COMPARED_FIELDS))
                != (status, *(row[name] for name in COMPARED_FIELDS))):
            changes.append({"obligation_id": current.id, "status": status,
                            **{name: row[name] for name in UPDATED_FIELDS}})
    insert_rows(session, Obligation.__table__, new_rows)
    if changes:
        table = Obligation.__table__
        session.execute(
            table.update().where(table.c.id == bindparam("obligation_id")).values(
                {name: bindparam(name) for name in changes[0] if name != "obligation_id"}),
            changes)
    return len(new_rows), len(changes)


def _cancel_superseded(session: Session, plans: dict[int, list], wanted: dict[str, dict],
                       start: date) -> int:
    """Cancel open, unpaid obligations that a newer plan version no longer asks for (an item
    removed, or now paid by Kela directly or by the client), so they are never paid.

    Only clients with more than one approved version can have such obligations. An obligation
    that is partly paid or has an order is left alone (a person must look at it)."""
    several = [client for client, versions in plans.items() if len(versions) > 1]
    if not several:
        return 0
    rows = list(select_in(session, select(
        Obligation.id, Obligation.key, Obligation.client_id, Obligation.due_on, PlanItem.plan_id)
        .join(PlanItem, PlanItem.id == Obligation.source_id)
        .where(Obligation.source == "plan_item", Obligation.status == "open",
               Obligation.paid_cents == 0, Obligation.due_on >= start - timedelta(days=31)),
        Obligation.client_id, several))
    stale = [row.id for row in rows
             if row.key not in wanted
             and (current := in_force(plans[row.client_id], row.due_on)) is not None
             and current.id != row.plan_id]
    if stale:
        table = Obligation.__table__
        session.execute(table.update().where(table.c.id.in_(stale)).values(status="cancelled"))
    return len(stale)


def reopen_returned(session: Session, obligation_id: int, amount_cents: int) -> None:
    """A payment of ``amount_cents`` that came back did not pay its obligation: the amount is
    unpaid again and the obligation open for the next batch. (The import calls it once per
    return: the same return seen again on an overlapping statement changes nothing.)"""
    table = Obligation.__table__
    session.execute(table.update().where(table.c.id == obligation_id).values(
        paid_cents=table.c.paid_cents - amount_cents, status="open"))
