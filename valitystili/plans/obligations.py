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
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.plans.due import item_dues, obligation_days
from valitystili.plans.versions import approved_versions, in_force
from valitystili.store.chunks import chunks, select_in
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
                       calendar: BankingCalendar = CALENDAR) -> dict[str, int]:
    """Create (or update, while unpaid) the obligations with rule dates in [start, end]."""
    clients = dict(session.execute(
        select(Client.id, Client.start_on).where(Client.status == "open")).all())
    plans = approved_versions(session, list(clients)) if clients else {}
    plan_ids = [p.id for versions in plans.values() for p in versions]
    items: dict[int, list] = defaultdict(list)
    for item in select_in(session, select(*ITEM_COLUMNS), PlanItem.plan_id, plan_ids):
        items[item.plan_id].append(item)
    incomes = income_schedules(session, plan_ids)
    shares = kela_shares(session, list(plans))
    wanted = _wanted_from_plans(clients, plans, items, incomes, shares, start, end, calendar)
    wanted.update(_wanted_from_bills(session, clients, plans, incomes, start, end, calendar))
    created, updated = _store(session, wanted)
    cancelled = _cancel_superseded(session, plans, wanted, start)
    table = Plan.__table__
    for chunk in chunks(plan_ids):
        session.execute(table.update().where(
            table.c.id.in_(chunk),
            (table.c.obligations_through.is_(None)) | (table.c.obligations_through < end))
            .values(obligations_through=end))
    return {"created": created, "updated": updated, "cancelled": cancelled}


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


def _wanted_from_plans(clients: dict[int, date], plans: dict[int, list], items: dict[int, list],
                       incomes: dict[int, tuple], shares: dict[tuple[int, str], int],
                       start: date, end: date, calendar: BankingCalendar) -> dict[str, dict]:
    wanted: dict[str, dict] = {}
    for client_id, versions in plans.items():
        client_start = clients[client_id]
        windows = {}
        for plan in versions:
            if plan.obligations_through is not None:
                # Continue where this version stopped, even before the lookback: a gap
                # between runs must never leave a period without its obligation.
                windows[plan.id] = (max(plan.effective_on, client_start,
                                        plan.obligations_through + timedelta(days=1)), end)
            else:
                windows[plan.id] = (max(start, plan.effective_on, client_start), end)
        for due in item_dues(client_id, versions, items, windows, calendar, incomes):
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


def _wanted_from_bills(session: Session, clients: dict[int, date], plans: dict[int, list],
                       incomes: dict[int, tuple], start: date, end: date,
                       calendar: BankingCalendar) -> dict[str, dict]:
    wanted: dict[str, dict] = {}
    for bill in session.execute(select(Bill).where(Bill.due_on.between(start, end))).scalars():
        if bill.client_id not in clients:
            continue
        key = f"bill:{bill.id}"
        plan = in_force(plans.get(bill.client_id, ()), bill.due_on)
        due_on, pay_on = obligation_days(bill.due_on, incomes.get(plan.id, ()) if plan else (),
                                         calendar)
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
    if new_rows:
        session.execute(Obligation.__table__.insert(), new_rows)
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
