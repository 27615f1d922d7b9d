"""The plan version in force: the one rule, used by everything that asks (DESIGN §5).

A plan is versioned; a version pays nothing until a handler's decision approves it. **On a day
D the version in force is, of the approved versions effective on or before D, the one with the
highest version number** — a later decision supersedes an earlier one whatever its effective
date. Only versions of the client's current service period count: those effective on or after
its start (``clients.start_on``; a reopened client's earlier plans are never in force again,
``people.lifecycle``). ``in_force`` is that rule; everything else here is a way of asking it: for one client in
the database (``plan_in_force``), for many clients at once (``approved_versions`` then
``in_force``), or as the periods each version is in force (``in_force_periods``, for matching
incomes over a window).

Rows, not ORM objects, for the bulk reads: the batch reads thousands of plans and changes none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.store.chunks import select_in
from valitystili.store.models import Client, Plan

#: The columns of a plan version the batch, the obligations and the checks read.
PLAN_COLUMNS = (Plan.id, Plan.client_id, Plan.version, Plan.effective_on, Plan.review_on,
                Plan.instalment_schedule, Plan.instalment_mode, Plan.instalment_cents,
                Plan.keep_cents, Plan.minimum_cents, Plan.obligations_through)


def in_force(versions: Iterable, on: date):
    """The version in force on ``on`` among approved ``versions`` (anything with
    ``effective_on`` and ``version``), or None."""
    current = None
    for plan in versions:
        if plan.effective_on <= on and (current is None or plan.version > current.version):
            current = plan
    return current


def approved_versions(session: Session, client_ids: Sequence[int] | None = None
                      ) -> dict[int, list]:
    """The approved versions of each client (rows of ``PLAN_COLUMNS``), oldest first."""
    query = (select(*PLAN_COLUMNS).join(Client, Client.id == Plan.client_id)
             .where(Plan.approved_at.is_not(None), Plan.effective_on >= Client.start_on)
             .order_by(Plan.client_id, Plan.effective_on, Plan.version))
    if client_ids is None:
        rows = session.execute(query).all()
    else:
        rows = list(select_in(session, query, Plan.client_id, list(client_ids)))
    versions: dict[int, list] = defaultdict(list)
    for plan in rows:
        versions[plan.client_id].append(plan)
    return versions


def plan_in_force(session: Session, client_id: int, on: date) -> Plan | None:
    """The stored version in force for one client on ``on``; None when there is none."""
    current = in_force(approved_versions(session, [client_id]).get(client_id, ()), on)
    return None if current is None else session.get(Plan, current.id)


def in_force_periods(versions: Iterable[tuple[int, date, int]]
                     ) -> dict[int, tuple[date, date | None]]:
    """For plan versions ``(plan id, effective_on, version)`` of one client: the days each is in
    force by ``in_force``, ``{plan id: (from, until exclusive or None)}``. The version in force
    can change only on an effective date, so asking the rule on each of them gives every period;
    a version never in force is left out."""
    rows = [_Version(plan_id, effective_on, version) for plan_id, effective_on, version in versions]
    periods: dict[int, tuple[date, date | None]] = {}
    current, started = None, None
    for day in sorted({row.effective_on for row in rows}):
        chosen = in_force(rows, day)
        if chosen is current:
            continue
        if current is not None:
            periods[current.plan_id] = (started, day)
        current, started = chosen, day
    if current is not None:
        periods[current.plan_id] = (started, None)
    return periods


class _Version:
    __slots__ = ("plan_id", "effective_on", "version")

    def __init__(self, plan_id: int, effective_on: date, version: int) -> None:
        self.plan_id, self.effective_on, self.version = plan_id, effective_on, version
