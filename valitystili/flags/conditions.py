"""The nightly flag refresh: conditions a person should look at, raised and resolved from data.

``refresh_flags(session, on)`` judges every condition below as of the end of day ``on`` and, for
each kind, raises a flag per subject that holds (each condition is a ``FlagRaised``, written by
``raising.raise_flags``: a new flag, or the open one refreshed) and resolves every open flag of
that kind whose subject no longer holds (``raising.resolve_flags``). So a flag resolves itself
when its condition clears, and an acknowledged flag keeps its acknowledgement as long as its
condition holds.

Rules of this module (thresholds are settings, see ``settings.DEFAULTS``):

- Only **open** clients are judged for review, fixed-term, lease and income flags; a closed
  client's flags of those kinds resolve.
- **review_due / review_overdue** (subject ``review:<client>:<date>``): a client's review date is
  the ``review_on`` of the client's newest plan version (approved or not: a new plan is how a
  review is recorded, so it is the social worker's latest word), else ``clients.review_on``
  (given when the client was opened, before any plan). Due when it is within
  ``review_warning_days`` from ``on`` (the day itself included), overdue once it has passed.
- **fixed_term_ending** (``fixed_term:<client>:<date>``): ``clients.until_on`` within
  ``fixed_term_warning_days``, or already passed while the service is still open.
- **lease_ending** (``lease:<lease>``): the client's lease that ends last ends within
  ``lease_warning_days`` (or has ended); an earlier lease followed by a later one is not flagged,
  nor a client with an open-ended lease (a sublet or own tenancy without an end).
- **consent_withdrawn**, **lease_rent_differs**: the service record's conditions
  (``flags.service_record``), judged here every night as well; **payment_demand_ends**, a
  closed client's Kela payment demand not yet ended (``flags.closing``), too.
- **income_missing / income_changed** (``income:<client>:<kind>:<scheduled date>``, with
  ``-<position>`` after the kind when one plan expects the same kind twice): every arrival of an
  expected income in the last ``INCOME_LOOKBACK_DAYS`` days is paired with the client's credits
  booked by ``on`` (``expected.income_receipts``, the pairing the daily batch uses to know what
  has come). A credit within the income's tolerance (``expected.income_tolerance_cents``: its
  own, else the larger of 5,00 € and 20 %) settles it; a credit of another amount paired with
  it is *income_changed*; no credit, once ``on`` is ``income_missing_after_banking_days``
  banking days after the day it counts on (its arrival day, or for a benefit without a fixed
  day ``late_days`` banking days later), is *income_missing*. Older arrivals are no longer
  judged and their flags resolve: by then the plan should have been revised.
- **funds_accumulating** (``funds:<client>``): a client's balance above
  ``funds_accumulating_cents`` (any client with money, open or closed).
- **uncleared_payment** (the order's key): an approved or exported order whose execution day
  lies more than ``uncleared_after_banking_days`` banking days before ``on`` and which the bank
  has not yet shown leaving (status still approved/exported).
- **arrears** (the obligation's key, as the daily batch names it): an open obligation due
  before ``on`` that is not fully paid. The batch raises the same flags when it cannot pay; this
  keeps them right on the days the batch does not run. Cancelled obligations never count.
- **income_after_closing** (the line's archive id): money credited to a closed client, booked
  after the close date, in the last ``INCOME_LOOKBACK_DAYS`` days. The batch pays it on to the
  client (DESIGN §5); the flag tells a person that something still pays to the account.

Balances "as of" today (or later) are the ledger's stored running balances, so the nightly run
never sums history; an earlier day sums postings up to that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.accounts import CLIENT_PREFIX
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.i18n import N_, Message
from valitystili.base.money import format_fi
from valitystili.flags import closing, service_record
from valitystili.flags.raising import (
    FlagRaised,
    arrears_detail,
    raise_flags,
    resolve_flags,
)
from valitystili.people.edits import next_review
from valitystili.plans.expected import (  # noqa: F401 - expected_arrivals kept importable here
    INCOME_LOOKBACK_DAYS,
    expected_arrivals,
    income_receipts,
)
from valitystili.store import settings
from valitystili.store.models import (
    BANK_ONLY,
    Client,
    Lease,
    Obligation,
    PaymentOrder,
    Plan,
    StatementLine,
)

#: The kinds ``refresh_flags`` raises and resolves, in the order it judges them.
REFRESHED_KINDS = (
    "review_due", "review_overdue", "fixed_term_ending", "lease_ending", "income_missing",
    "income_changed", "funds_accumulating", "uncleared_payment", "arrears",
    "income_after_closing", *service_record.KINDS, *closing.KINDS,
)

#: Order statuses whose money has left the client's account but not yet the bank.
UNCLEARED_STATUSES = ("approved", "exported")


@dataclass(frozen=True)
class DateItem:
    """A date a person must act by: a review, a fixed-term end or a lease end."""

    what: str            # review | fixed_term_end | lease_end
    client_id: int
    name: str
    worker: str
    on: date
    days_left: int       # negative once passed
    subject: str
    amount_cents: int | None = None


def eur(cents: int) -> str:
    """Money in a flag's or finding's detail: the one display form, ``1 234,56 €``."""
    return format_fi(cents)


# --- shared reading helpers ------------------------------------------------------------------


def client_balances(session: Session, on: date, today: date | None = None) -> dict[str, int]:
    """Balance of every ``client:`` account at the end of ``on`` (stored balances for today)."""
    today = today or date.today()
    as_of = None if on >= today else on
    return {b.code: b.balance_cents for b in ledger.balances(session, as_of, prefix=CLIENT_PREFIX)}


def client_id_of(code: str) -> int | None:
    """``client:12`` → 12 (None when the code is not a client account)."""
    rest = code[len(CLIENT_PREFIX):]
    return int(rest) if code.startswith(CLIENT_PREFIX) and rest.isdigit() else None


def uncleared_orders(session: Session, on: date, calendar: BankingCalendar = CALENDAR
                     ) -> list[tuple[PaymentOrder, date]]:
    """(order, last day it should have cleared by) for orders overdue to clear on ``on``."""
    days = settings.get_int(session, "uncleared_after_banking_days")
    # Cheap pre-filter: N banking days are at least N calendar days.
    query = (select(PaymentOrder)
             .where(PaymentOrder.status.in_(UNCLEARED_STATUSES),
                    PaymentOrder.execution_on < on - timedelta(days=days))
             .order_by(PaymentOrder.execution_on, PaymentOrder.id))
    found = []
    for order in session.execute(query).scalars():
        deadline = calendar.add_banking_days(order.execution_on, days)
        if on > deadline:
            found.append((order, deadline))
    return found


def review_date(client: Client, newest_plan: tuple[int, date | None] | None) -> date | None:
    """The client's next review: the newest plan version's (version, review date), else the one
    given at opening or set later by ``client edit --review`` (``edits.next_review``)."""
    version, review_on = newest_plan if newest_plan is not None else (None, None)
    return next_review(client, version, review_on)


def date_items(session: Session, on: date, *, review_days: int | None = None,
               fixed_term_days: int | None = None, lease_days: int | None = None) -> list[DateItem]:
    """Reviews, fixed-term ends and lease ends of open clients that fall within their warning
    windows from ``on`` (or have passed), soonest first."""
    review_days = settings.get_int(session, "review_warning_days") if review_days is None else review_days
    fixed_term_days = (settings.get_int(session, "fixed_term_warning_days")
                       if fixed_term_days is None else fixed_term_days)
    lease_days = settings.get_int(session, "lease_warning_days") if lease_days is None else lease_days

    clients = {c.id: c for c in session.execute(
        select(Client).where(Client.status == "open").order_by(Client.id)).scalars()}
    newest = _newest_plan_reviews(session)
    items: list[DateItem] = []
    for client in clients.values():
        review_on = review_date(client, newest.get(client.id))
        if review_on is not None and review_on <= on + timedelta(days=review_days):
            items.append(DateItem("review", client.id, client.name, client.worker, review_on,
                                  (review_on - on).days, f"review:{client.id}:{review_on.isoformat()}"))
        until = client.until_on
        if until is not None and until <= on + timedelta(days=fixed_term_days):
            items.append(DateItem("fixed_term_end", client.id, client.name, client.worker, until,
                                  (until - on).days, f"fixed_term:{client.id}:{until.isoformat()}"))
    last_lease: dict[int, Lease] = {}
    for lease in session.execute(select(Lease).where(Lease.end_on.is_not(None))
                                 .order_by(Lease.end_on, Lease.id)).scalars():
        last_lease[lease.client_id] = lease       # ordered by end: the last one wins
    for client_id in session.execute(select(Lease.client_id).where(Lease.end_on.is_(None))):
        last_lease.pop(client_id[0], None)        # an open-ended lease runs on: nothing ends
    for client_id, lease in last_lease.items():
        client = clients.get(client_id)
        if client is not None and lease.end_on <= on + timedelta(days=lease_days):
            items.append(DateItem("lease_end", client.id, client.name, client.worker, lease.end_on,
                                  (lease.end_on - on).days, f"lease:{lease.id}", lease.rent_cents))
    items.sort(key=lambda item: (item.on, item.client_id, item.what))
    return items


def _newest_plan_reviews(session: Session) -> dict[int, tuple[int, date | None]]:
    newest = (select(Plan.client_id, func.max(Plan.version).label("version"))
              .group_by(Plan.client_id).subquery())
    rows = session.execute(
        select(Plan.client_id, Plan.version, Plan.review_on).join(
            newest, (Plan.client_id == newest.c.client_id) & (Plan.version == newest.c.version))
    ).all()
    return {row.client_id: (row.version, row.review_on) for row in rows}


# --- the conditions --------------------------------------------------------------------------


def _date_conditions(session: Session, on: date) -> list[FlagRaised]:
    found = []
    for item in date_items(session, on):
        if item.what == "review":
            if item.days_left < 0:
                found.append(FlagRaised("review_overdue", item.subject, item.client_id, None,
                                        Message("review was due {day}, {days} days ago",
                                                day=item.on.isoformat(), days=-item.days_left)))
            else:
                found.append(FlagRaised("review_due", item.subject, item.client_id, None,
                                        Message("review due {day}, {days} days left",
                                                day=item.on.isoformat(), days=item.days_left)))
        elif item.what == "fixed_term_end":
            detail = (Message("fixed-term service ends {day}, {days} days left",
                              day=item.on.isoformat(), days=item.days_left)
                      if item.days_left >= 0 else
                      Message("fixed-term service ended {day} but the client is still open",
                              day=item.on.isoformat()))
            found.append(FlagRaised("fixed_term_ending", item.subject, item.client_id, None,
                                    detail))
        else:
            detail = (Message("lease ends {day}, {days} days left; no later lease",
                              day=item.on.isoformat(), days=item.days_left)
                      if item.days_left >= 0 else
                      Message("lease ended {day}; no later lease", day=item.on.isoformat()))
            found.append(FlagRaised("lease_ending", item.subject, item.client_id,
                                    item.amount_cents, detail))
    return found


def _income_conditions(session: Session, on: date, calendar: BankingCalendar) -> list[FlagRaised]:
    missing_after = settings.get_int(session, "income_missing_after_banking_days")
    start = on - timedelta(days=INCOME_LOOKBACK_DAYS)
    found: list[FlagRaised] = []
    for receipt in income_receipts(session, start, on, on, calendar):
        item, credit = receipt.expected, receipt.credit
        if credit is not None:
            if not receipt.fits:
                found.append(FlagRaised(
                    "income_changed", item.subject, item.client_id, credit.amount_cents,
                    Message("{kind} from {source} expected {day}: {expected} expected, "
                            "{received} received {booked}", kind=item.kind, source=item.source,
                            day=item.arrival_on.isoformat(), expected=eur(item.amount_cents),
                            received=eur(credit.amount_cents),
                            booked=credit.booked_on.isoformat())))
        elif on >= calendar.add_banking_days(item.counted_on, missing_after):
            found.append(FlagRaised(
                "income_missing", item.subject, item.client_id, item.amount_cents,
                Message("{kind} from {source} of {amount} expected {day} has not arrived",
                        kind=item.kind, source=item.source, amount=eur(item.amount_cents),
                        day=item.arrival_on.isoformat())))
    return found


def _funds_conditions(session: Session, on: date, today: date | None) -> list[FlagRaised]:
    threshold = settings.get_int(session, "funds_accumulating_cents")
    found = []
    for code, balance in client_balances(session, on, today).items():
        client_id = client_id_of(code)
        if client_id is not None and balance > threshold:
            found.append(FlagRaised("funds_accumulating", f"funds:{client_id}", client_id, balance,
                                    Message("balance {balance} is above {threshold}",
                                            balance=eur(balance), threshold=eur(threshold))))
    return found


def uncleared_conditions(session: Session, on: date, calendar: BankingCalendar = CALENDAR
                         ) -> list[FlagRaised]:
    found = []
    for order, deadline in uncleared_orders(session, on, calendar):
        found.append(FlagRaised(
            "uncleared_payment", order.key, order.client_id, order.amount_cents,
            Message(UNCLEARED_EXPORTED if order.status == "exported" else UNCLEARED_UNEXPORTED,
                    kind=order.kind, payee=order.creditor_name,
                    day=order.execution_on.isoformat(), deadline=deadline.isoformat())))
    return found


#: An order not seen leaving the bank in time: exported, or approved and never exported.
UNCLEARED_EXPORTED = N_("{kind} to {payee} executing {day}: exported, not seen leaving the bank "
                        "by {deadline}")
UNCLEARED_UNEXPORTED = N_("{kind} to {payee} executing {day}: approved but never exported, not "
                          "seen leaving the bank by {deadline}")


def arrears_obligations(session: Session, on: date) -> list[Obligation]:
    """Open obligations due before ``on`` and not fully paid (the rent ledger as it stands)."""
    return list(session.execute(
        select(Obligation).where(Obligation.status == "open", Obligation.due_on < on,
                                 Obligation.paid_cents < Obligation.amount_cents)
        .order_by(Obligation.client_id, Obligation.due_on, Obligation.id)).scalars())


def _arrears_conditions(session: Session, on: date) -> list[FlagRaised]:
    found = []
    for obligation in arrears_obligations(session, on):
        days = (on - obligation.due_on).days
        found.append(FlagRaised(
            "arrears", obligation.key, obligation.client_id,
            obligation.amount_cents - obligation.paid_cents,
            arrears_detail(obligation.kind, obligation.due_on, days)))
    return found


def _income_after_closing_conditions(session: Session, on: date) -> list[FlagRaised]:
    found = []
    for line in session.execute(
            select(StatementLine.archive_id, StatementLine.client_id, StatementLine.amount_cents,
                   StatementLine.booked_on, Client.closed_on)
            .join(Client, Client.id == StatementLine.client_id)
            .where(Client.status == "closed", StatementLine.booked_on > Client.closed_on,
                   StatementLine.booked_on.between(on - timedelta(days=INCOME_LOOKBACK_DAYS), on),
                   StatementLine.amount_cents > 0, StatementLine.order_id.is_(None),
                   StatementLine.return_reason.is_(None), StatementLine.state != BANK_ONLY)
            .order_by(StatementLine.booked_on, StatementLine.id)).all():
        found.append(FlagRaised(
            "income_after_closing", line.archive_id, line.client_id, line.amount_cents,
            Message("line {line}: {amount} booked {day} for client {client}, closed {closed}; "
                    "paid on to the client", line=line.archive_id, amount=eur(line.amount_cents),
                    day=line.booked_on.isoformat(), client=line.client_id,
                    closed=line.closed_on.isoformat())))
    return found


def conditions(session: Session, on: date, *, calendar: BankingCalendar = CALENDAR,
               today: date | None = None) -> list[FlagRaised]:
    """Every condition that holds at the end of ``on`` (nothing is written)."""
    return [
        *_date_conditions(session, on),
        *_income_conditions(session, on, calendar),
        *_funds_conditions(session, on, today),
        *uncleared_conditions(session, on, calendar),
        *_arrears_conditions(session, on),
        *_income_after_closing_conditions(session, on),
        *service_record.conditions(session, on),
        *closing.conditions(session, on),
    ]


def apply_conditions(session: Session, kinds: Iterable[str], found: Iterable[FlagRaised],
                     on: date) -> dict[str, dict[str, int]]:
    """Raise a flag for each condition and resolve the open flags of ``kinds`` not among them."""
    by_kind: dict[str, list[FlagRaised]] = {kind: [] for kind in kinds}
    for condition in found:
        by_kind[condition.kind].append(condition)
    raise_flags(session, [c for current in by_kind.values() for c in current], on)
    summary = {}
    for kind, current in by_kind.items():
        resolved = resolve_flags(session, kind, on, keep={c.subject for c in current})
        summary[kind] = {"open": len(current), "resolved": resolved}
    return summary


def refresh_flags(session: Session, on: date, *, calendar: BankingCalendar = CALENDAR,
                  today: date | None = None) -> dict[str, dict[str, int]]:
    """Raise and resolve the flags of ``REFRESHED_KINDS`` as of ``on``.

    Returns ``{kind: {"open": n, "resolved": m}}``: how many of each kind hold now and how many
    open flags this refresh resolved.
    """
    return apply_conditions(session, REFRESHED_KINDS,
                            conditions(session, on, calendar=calendar, today=today), on)
