"""Expected incomes: when they arrive, how far their amount may differ, and whether they came.

Rules of this module (DESIGN §6 "Incomes that are late or never come", §7):

- **Arrival.** A plan income's schedule is shifted by Kela's payment-day rules
  (``banking_calendar.income_day``): :func:`income_arrivals`.
- **Tolerance.** An income's amount may differ by its own ``tolerance`` (a sum, or a share of
  its amount, floored to cents), else by the larger of the settings
  ``income_amount_tolerance_cents`` and ``income_amount_tolerance_percent`` of its amount:
  :func:`income_tolerance_cents` (matching at import and the *income changed* flag use it).
- **Counted day.** A benefit with a fixed day counts on its arrival day; one paid on a cycle of
  its own (``banking_calendar.has_fixed_day``) counts ``late_days`` banking days after it
  (:func:`counted_on`): the reserve holds money as if it came then, and it is missing only
  after that day.
- **Received.** Every expected arrival of the approved plan version in force on its scheduled
  day (open clients, from their start) is paired with the client's credits (statement lines of
  the client, positive, not a returned payment of ours, not a lump sum whose items are booked)
  booked from ``income_window_days`` before its arrival to that many days after its counted
  day: first each arrival in date order takes the closest credit within its tolerance, then
  each arrival still without one takes the closest remaining credit of another amount (the
  income came, changed); last, one still without a credit takes the first later credit within
  its tolerance (the income came late, say a week). A credit settles at most one arrival. :func:`income_receipts` does
  this for every client at once (a few queries, whatever the number of clients); the nightly
  flags and the daily batch both ask it, so "received" means the same thing to both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import (
    CALENDAR,
    BankingCalendar,
    has_fixed_day,
    income_day,
)
from valitystili.base.schedules import occurrences
from valitystili.plans.versions import approved_versions, in_force
from valitystili.store import settings
from valitystili.store.chunks import fetch_rows_of, select_in
from valitystili.store.models import BANK_ONLY, Client, PlanIncome, StatementLine

# A benefit scheduled a few days after a date may arrive before it (fixed-day benefits move to
# the preceding banking day), and one scheduled before may arrive after (first banking day).
SHIFT_DAYS = 7

#: How far back expected incomes are judged (two months: a late benefit is found, an older one
#: belongs to a plan revision, not to a nightly flag or the day's batch).
INCOME_LOOKBACK_DAYS = 62


def income_arrivals(kind: str, schedule: str, start: date, end: date,
                    calendar: BankingCalendar = CALENDAR) -> list[tuple[date, date]]:
    """(scheduled date, arrival banking day) for arrivals in [start, end], in order."""
    found = []
    for scheduled in occurrences(schedule, start - timedelta(days=SHIFT_DAYS),
                                 end + timedelta(days=SHIFT_DAYS)):
        arrival = income_day(kind, scheduled.year, scheduled.month, scheduled.day, calendar=calendar)
        if start <= arrival <= end:
            found.append((scheduled, arrival))
    return found


# --- tolerance and the counted day -----------------------------------------------------------


@dataclass(frozen=True)
class ToleranceDefaults:
    """The tolerance of an income without one of its own: the larger of a sum and a share."""

    cents: int
    percent: int


def tolerance_defaults(session: Session) -> ToleranceDefaults:
    return ToleranceDefaults(settings.get_int(session, "income_amount_tolerance_cents"),
                             settings.get_int(session, "income_amount_tolerance_percent"))


def income_tolerance_cents(expected_cents: int, own_cents: int | None, own_percent: int | None,
                           defaults: ToleranceDefaults) -> int:
    """How far an arrival of ``expected_cents`` may differ: the income's own sum or share, else
    the larger of the defaults (560,00 € expected: max(5,00 €, 20 %) = 112,00 €)."""
    if own_cents is not None:
        return own_cents
    if own_percent is not None:
        return abs(expected_cents) * own_percent // 100
    return max(defaults.cents, abs(expected_cents) * defaults.percent // 100)


def counted_on(kind: str, arrival_on: date, late_days: int,
               calendar: BankingCalendar = CALENDAR) -> date:
    """The day an expected arrival counts as coming: its arrival day, or for a benefit without a
    fixed day ``late_days`` banking days after it."""
    if has_fixed_day(kind):
        return arrival_on
    return calendar.add_banking_days(arrival_on, late_days)


#: What ``expected_arrivals`` reads of each ``[[income]]``.
INCOME_COLUMNS = (PlanIncome.plan_id, PlanIncome.position, PlanIncome.source, PlanIncome.kind,
                  PlanIncome.amount_cents, PlanIncome.tolerance_cents,
                  PlanIncome.tolerance_percent, PlanIncome.schedule)


# --- pairing arrivals with credits -----------------------------------------------------------


class Arrival(NamedTuple):
    """One arrival of one ``[[income]]`` without its client: the same for every client with
    the same incomes, so each is made once (``_plan_arrivals``) and shared."""

    label: str                                   # <kind>[-<position>]
    scheduled_on: date
    kind: str
    source: str
    amount_cents: int
    tolerance_cents: int
    arrival_on: date
    counted_on: date


class ExpectedArrival(NamedTuple):
    """One arrival of one ``[[income]]``; ``subject`` names it in flags
    (``income:<client>:<kind>[-<position>]:<scheduled date>``). A named tuple: a run over
    10,000 clients makes some 100,000 of them."""

    client_id: int
    label: str                                   # <kind>[-<position>]
    scheduled_on: date
    kind: str
    source: str
    amount_cents: int
    tolerance_cents: int
    arrival_on: date
    counted_on: date

    @property
    def subject(self) -> str:
        return f"income:{self.client_id}:{self.label}:{self.scheduled_on.isoformat()}"


class ClientCredit(NamedTuple):
    """Money in for a client as the pairing sees it (one statement line)."""

    line_id: int
    client_id: int
    amount_cents: int
    booked_on: date


class Receipt(NamedTuple):
    """An expected arrival and the credit paired with it (None: not received); ``fits`` when
    the credit is within the income's tolerance."""

    expected: ExpectedArrival
    credit: ClientCredit | None = None
    fits: bool = False


def pair_receipts(expected: Iterable[ExpectedArrival], credits: Iterable[ClientCredit],
                  window_days: int) -> list[Receipt]:
    """One client's expected arrivals paired with their credits (the module's rule), in the
    order given (by arrival day); the credits in booking order."""
    items = list(expected)
    paired = pairing(items, list(credits), window_days)
    return [_new(Receipt, (item, *paired[at])) if at in paired else _new(Receipt, (item, None, False))
            for at, item in enumerate(items)]


def pairing(items: Sequence, pool: Sequence[ClientCredit], window_days: int
            ) -> dict[int, tuple[ClientCredit, bool]]:
    """The module's rule for one client: ``{position of an arrival in items: (its credit,
    fits)}`` for the arrivals that have one. ``items`` (``Arrival`` or ``ExpectedArrival``) by
    arrival day, ``pool`` in booking order."""
    window = timedelta(days=window_days)
    # An arrival whose window opens after the last credit can take none in any step (the
    # late step wants a credit after its window): most clients' coming months.
    reach = 0
    if pool:
        last_booked = pool[-1].booked_on
        while reach < len(items) and items[reach].arrival_on - window <= last_booked:
            reach += 1
    if not reach:                                # most clients on most days: nothing to pair
        return {}
    used: set[int] = set()
    in_window = []
    for item in items[:reach]:
        first, last = item.arrival_on - window, item.counted_on + window
        in_window.append([c for c in pool if first <= c.booked_on <= last])

    def candidates(at: int) -> list[ClientCredit]:
        return [c for c in in_window[at] if c.line_id not in used]

    def closest(item, among: list[ClientCredit]) -> ClientCredit:
        return min(among, key=lambda c: (abs(c.amount_cents - item.amount_cents),
                                         abs((c.booked_on - item.arrival_on).days), c.line_id))

    paired: dict[int, tuple[ClientCredit, bool]] = {}
    for at in range(reach):                      # first every arrival that has its own amount
        item = items[at]
        fitting = [c for c in candidates(at)
                   if abs(c.amount_cents - item.amount_cents) <= item.tolerance_cents]
        if fitting:
            credit = fitting[0] if len(fitting) == 1 else closest(item, fitting)
            used.add(credit.line_id)
            paired[at] = (credit, True)
    for at in range(reach):                      # then credits in the window with another amount
        others = [] if at in paired else candidates(at)
        if others:
            credit = closest(items[at], others)
            used.add(credit.line_id)
            paired[at] = (credit, False)
    for at in range(reach):                      # last, a late credit of its amount
        item = items[at]
        late = [] if at in paired else [
            c for c in pool if c.line_id not in used and c.booked_on > item.counted_on + window
            and abs(c.amount_cents - item.amount_cents) <= item.tolerance_cents]
        if late:
            used.add(late[0].line_id)            # the pool is in booking order: the first
            paired[at] = (late[0], True)
    return paired


def income_receipts(session: Session, start: date, end: date, credits_until: date,
                    calendar: BankingCalendar = CALENDAR, *,
                    closed_from: date | None = None) -> list[Receipt]:
    """Every expected arrival in [start, end] of every open client (and of those closed on or
    after ``closed_from``), paired with the client's credits booked by ``credits_until``; by
    client, then arrival day."""
    window_days = settings.get_int(session, "income_window_days")
    expected = arrivals_by_client(session, start, end, calendar, closed_from=closed_from)
    credits = client_credits(session, start - timedelta(days=window_days), credits_until)
    found: list[Receipt] = []
    for client_id in sorted(expected):
        found += pair_receipts([_new(ExpectedArrival, (client_id, *arrival))
                                for arrival in expected[client_id]],
                               credits.get(client_id, ()), window_days)
    return found


def unreceived(session: Session, start: date, end: date, credits_until: date,
               calendar: BankingCalendar = CALENDAR, *, closed_from: date | None = None,
               versions: dict[int, list] | None = None,
               client_ids: Sequence[int] | None = None) -> dict[int, Sequence[Arrival]]:
    """What ``income_receipts`` finds not received, by client: the same pairing, without a
    receipt made for each arrival (the daily batch asks for 10,000 clients at once).
    ``versions``: the clients' approved versions if the caller has read them already
    (``versions.approved_versions``, for these clients or more); ``client_ids``: only these
    clients (a client's pairing needs its own arrivals and credits alone)."""
    window_days = settings.get_int(session, "income_window_days")
    expected = arrivals_by_client(session, start, end, calendar, closed_from=closed_from,
                                  versions=versions, client_ids=client_ids)
    credits = client_credits(session, start - timedelta(days=window_days), credits_until,
                             client_ids)
    found: dict[int, Sequence[Arrival]] = {}
    for client_id, items in expected.items():
        paired = pairing(items, credits.get(client_id, ()), window_days)
        found[client_id] = ([item for at, item in enumerate(items) if at not in paired]
                            if paired else items)
    return found


def expected_arrivals(session: Session, start: date, end: date,
                      calendar: BankingCalendar = CALENDAR, *,
                      closed_from: date | None = None) -> list[ExpectedArrival]:
    """Arrivals in [start, end] of the incomes the approved plans in force expect, by client and
    arrival day: open clients from their start, and with ``closed_from`` also the clients closed
    on or after it, up to their close date (the service runs to it)."""
    by_client = arrivals_by_client(session, start, end, calendar, closed_from=closed_from)
    return [_new(ExpectedArrival, (client_id, *arrival))
            for client_id in sorted(by_client) for arrival in by_client[client_id]]


def arrivals_by_client(session: Session, start: date, end: date,
                       calendar: BankingCalendar = CALENDAR, *, closed_from: date | None = None,
                       versions: dict[int, list] | None = None,
                       client_ids: Sequence[int] | None = None
                       ) -> dict[int, Sequence[Arrival]]:
    """``expected_arrivals`` by client, without the client in each (clients without one left
    out; with ``client_ids``, of those clients only); a client with one plan version shares its
    arrivals with every client of the same incomes."""
    served = Client.status == "open"
    if closed_from is not None:
        served = served | (Client.closed_on >= closed_from)
    rows = fetch_rows_of(session, select(Client.id, Client.start_on, Client.closed_on)
                         .where(served), Client.id, client_ids)
    clients = {row.id: row.start_on for row in rows}
    last_days = {row.id: row.closed_on for row in rows if row.closed_on is not None}
    if versions is None:
        plans = approved_versions(session, list(clients)) if clients else {}
    else:
        plans = {client_id: versions[client_id] for client_id in clients if client_id in versions}
    plan_ids = [p.id for versions_ in plans.values() for p in versions_]
    incomes: dict[int, list] = defaultdict(list)
    by_position = select(*INCOME_COLUMNS).order_by(PlanIncome.position, PlanIncome.id)
    for income in select_in(session, by_position, PlanIncome.plan_id, plan_ids):
        incomes[income[0]].append(tuple(income[1:]))
    defaults = tolerance_defaults(session)
    late_days = settings.get_int(session, "late_days")
    found: dict[int, Sequence[Arrival]] = {}
    for client_id, client_versions in plans.items():
        first_day, last_day = clients[client_id], last_days.get(client_id, date.max)
        if len(client_versions) == 1:
            # One version (most clients) governs from its effective date: its arrivals are
            # those of its incomes from that date, the same for every client with the same
            # incomes, so they are worked out once (``_plan_arrivals``).
            plan = client_versions[0]
            shared = _plan_arrivals(_income_terms(tuple(incomes.get(plan.id, ())), defaults),
                                    plan.effective_on, start, end, late_days, calendar)
            if shared and (first_day > shared[0][ARRIVAL] or last_day < shared[-1][ARRIVAL]):
                shared = tuple(a for a in shared if first_day <= a[ARRIVAL] <= last_day)
            if shared:
                found[client_id] = shared
            continue
        mine: list[tuple] = []
        for plan in client_versions:
            terms = _income_terms(tuple(incomes.get(plan.id, ())), defaults)
            for arrival in _plan_arrivals(terms, None, start, end, late_days, calendar):
                if (first_day <= arrival[ARRIVAL] <= last_day
                        and in_force(client_versions, arrival[SCHEDULED]) is plan):
                    mine.append(arrival)
        if mine:
            mine.sort(key=_SUBJECT_ORDER)
            found[client_id] = mine
    return found


@lru_cache(maxsize=4096)
def _income_terms(plan_incomes: tuple[tuple, ...], defaults: ToleranceDefaults
                  ) -> tuple[tuple, ...]:
    """What the arrivals of one version's incomes (``INCOME_COLUMNS`` after the plan id, in
    position order) depend on: (label, kind, source, amount, tolerance, schedule) of each
    (``label`` is ``<kind>[-<position>]``). Cached: thousands of clients have the same incomes."""
    kinds: dict[str, int] = defaultdict(int)
    for _position, _source, kind, *_rest in plan_incomes:
        kinds[kind] += 1
    return tuple(
        (f"{kind}-{position}" if kinds[kind] > 1 else kind, kind, source, amount_cents,
         income_tolerance_cents(amount_cents, own_cents, own_percent, defaults), schedule)
        for position, source, kind, amount_cents, own_cents, own_percent, schedule
        in plan_incomes)


#: Positions in an ``Arrival`` (the tuples of ``_plan_arrivals``).
SCHEDULED, ARRIVAL = 1, 6


@lru_cache(maxsize=4096)
def _plan_arrivals(terms: tuple[tuple, ...], since: date | None, start: date, end: date,
                   late_days: int, calendar: BankingCalendar) -> tuple[Arrival, ...]:
    """The arrivals in [start, end] of incomes ``terms``, scheduled on or after ``since`` (if
    given), as ``Arrival``s in the order of their subjects.
    Cached: thousands of clients have the same incomes."""
    found = []
    for label, kind, source, amount_cents, tolerance, schedule in terms:
        for scheduled, arrival, counted in _arrivals(kind, schedule, start, end, late_days,
                                                     calendar):
            if since is None or scheduled >= since:
                found.append(_new(Arrival, (label, scheduled, kind, source, amount_cents,
                                            tolerance, arrival, counted)))
    found.sort(key=_SUBJECT_ORDER)
    return tuple(found)


#: Makes a named tuple from a tuple of all its fields without the keyword handling of its
#: constructor (three times faster; the hot loops here make some 100,000 a day).
_new = tuple.__new__


#: A client's arrivals in the order of their subjects on each day: (arrival, label, scheduled).
#: Comparing labels gives the subjects' order, as no kind contains "-" and a kind is labelled
#: with its position on all of a plan's incomes of that kind or on none. (Fields without the
#: client: the tuples of ``_plan_arrivals``.)
_SUBJECT_ORDER = itemgetter(ARRIVAL, 0, SCHEDULED)


def client_credits(session: Session, start: date, end: date,
                   client_ids: Sequence[int] | None = None) -> dict[int, list[ClientCredit]]:
    """Each client's credits booked in [start, end] (one query for all clients, or for
    ``client_ids`` one per chunk of them)."""
    credits: dict[int, list[ClientCredit]] = defaultdict(list)
    for row in fetch_rows_of(session,
            select(StatementLine.id, StatementLine.client_id, StatementLine.amount_cents,
                   StatementLine.booked_on)
            .where(StatementLine.client_id.is_not(None), StatementLine.amount_cents > 0,
                   StatementLine.order_id.is_(None), StatementLine.return_reason.is_(None),
                   StatementLine.state != BANK_ONLY,
                   StatementLine.booked_on.between(start, end))
            .order_by(StatementLine.booked_on, StatementLine.id),
            StatementLine.client_id, client_ids):
        credits[row[1]].append(_new(ClientCredit, row))
    return credits


# Cached: thousands of clients share a few schedules, and the flags and the batch ask each day.
@lru_cache(maxsize=4096)
def _arrivals(kind: str, schedule: str, start: date, end: date, late_days: int,
              calendar: BankingCalendar) -> tuple[tuple[date, date, date], ...]:
    """(scheduled date, arrival day, counted day) of each arrival in [start, end]."""
    return tuple((scheduled, arrival, counted_on(kind, arrival, late_days, calendar))
                 for scheduled, arrival in income_arrivals(kind, schedule, start, end, calendar))
