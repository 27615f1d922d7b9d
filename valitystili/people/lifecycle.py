"""After closing: approving a final payout to someone else, and reopening the service.

Rules of this module:

- **A payout to a guardian or an estate** named at closing (``people.periods``) is paid only
  once a handler approves it (``approve_payout``): with four-eyes on (setting ``four_eyes``),
  not the person who closed the service. Approving is audited (``client.payout_approve``).
- **Reopening** (``reopen_client``, the social worker, as opening) starts a new service period
  for the same person on the same row: same identity code, client number, reference and ledger
  account. The client must be closed; the new start comes after the close date; the review date
  is set again, always (DESIGN §2); the criterion (``other_weighty`` with its reason), the
  worker and a fixed-term end may change (checked as at opening). The client is open from the new start, with no final payout.
- **Nothing is paid before a new plan.** The plan versions of earlier periods are never in force
  again (``plans.versions``: only versions effective on or after the period's start count), so
  the batch pays nothing until a plan is set and approved for the new period. Reopening is
  refused while a version of an earlier period would take effect on or after the new start,
  and while a final payout is still a draft order (it would pay the new period's money out).
- Money the client still holds (a payout that never left) stays on the account for the new
  period; the result says how much.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, ValidationError
from valitystili.base.i18n import _
from valitystili.people import clients, periods
from valitystili.store import settings
from valitystili.store.models import CRITERIA, Client, PaymentOrder, Plan
from valitystili.store.settings import free_text
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def _closed(session: Session, client: str | int) -> Client:
    found = clients.resolve_client(session, client, for_update=True)
    if found.status != "closed":
        raise Conflict(_("client {client} is open: only a closed service is reopened or paid "
                         "out").format(client=found.id))
    return found


# --- the final payout to someone else -----------------------------------------------------------


def approve_payout(session: Session, actor: Actor, client: str | int) -> dict:
    """A second handler's approval of the final payout to the payee named at closing."""
    actor.require("client.payout_approve")
    found = _closed(session, client)
    period = periods.last_period(session, found.id, for_update=True)
    if period is None or period.payout_status != periods.WAITING:
        raise Conflict(_("client {client} has no final payout waiting for approval").format(
            client=found.id))
    if settings.get_bool(session, "four_eyes") and period.closed_by == actor.name:
        raise Conflict(_("four-eyes: {name} closed client {client}'s service; another handler "
                         "must approve the payout to {payee}").format(
            name=actor.name, client=found.id, payee=period.payout_name))
    period.payout_status = periods.APPROVED
    period.payout_approved_by = actor.name
    period.payout_approved_at = datetime.now(UTC).replace(microsecond=0)
    session.flush()
    row = {"client": found.id, "period": period.number, **periods.payout_row(period),
           "balance_cents": ledger.balance(session, found.ledger_code)}
    audit.record(session, actor.name, "client.payout_approve", client_id=found.id,
                 subject=f"client:{found.id}", detail=row)
    return row


# --- reopening ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reopened:
    """A new service period for a client who had left."""

    client: int
    period: int
    start_on: date
    until_on: date | None
    review_on: date
    criterion: str
    worker: str
    balance_cents: int

    def row(self) -> dict:
        return asdict(self)


def reopen_client(session: Session, actor: Actor, client: str | int, *, start_on: date,
                  review_on: date | None, until_on: date | None = None,
                  criterion: str | None = None, criterion_reason: str | None = None,
                  worker: str | None = None, today: date | None = None) -> Reopened:
    """Start a new service period for a closed client (see the module rules)."""
    actor.require("client.reopen")
    today = today or date.today()
    found = _closed(session, client)
    if found.closed_on is not None and start_on <= found.closed_on:
        raise ValidationError(_("the new start {day} is not after the close date {closed}")
                              .format(day=format_fi_date(start_on),
                                      closed=format_fi_date(found.closed_on)))
    criterion = criterion or found.criterion
    if criterion not in CRITERIA:
        raise ValidationError(_("criterion {criterion} is not one of {choices}").format(
            criterion=repr(criterion), choices=", ".join(CRITERIA)))
    criterion_reason = free_text(session, criterion_reason, "--criterion-reason", required=False)
    if criterion_reason is None and criterion == found.criterion:
        criterion_reason = found.criterion_reason
    if criterion == "other_weighty" and criterion_reason is None:
        raise ValidationError(_("criterion other_weighty needs the reason (--criterion-reason), "
                                "e.g. securing a debt-restructuring programme"))
    worker = worker or found.worker
    clients._check_worker(session, worker)
    clients._check_term(criterion, start_on, until_on)
    clients._check_review(review_on, today)
    _check_nothing_pending(session, found, start_on)

    old = {"status": found.status, "start_on": found.start_on, "until_on": found.until_on,
           "closed_on": found.closed_on, "review_on": found.review_on,
           "criterion": found.criterion, "criterion_reason": found.criterion_reason,
           "worker": found.worker, "final_payout": found.final_payout}
    found.status = "open"
    found.start_on, found.until_on, found.review_on = start_on, until_on, review_on
    found.closed_on, found.final_payout = None, False
    found.criterion, found.criterion_reason, found.worker = criterion, criterion_reason, worker
    session.flush()
    number = len(periods.periods_of(session, found))
    new = {"status": "open", "start_on": start_on, "until_on": until_on, "closed_on": None,
           "review_on": review_on, "criterion": criterion, "criterion_reason": criterion_reason,
           "worker": worker, "final_payout": False}
    balance = ledger.balance(session, found.ledger_code)
    audit.record(session, actor.name, "client.reopen", client_id=found.id,
                 subject=f"client:{found.id}",
                 detail={"old": old, "new": new, "period": number, "balance_cents": balance})
    return Reopened(found.id, number, start_on, until_on, review_on, criterion, worker, balance)


def _check_nothing_pending(session: Session, client: Client, start_on: date) -> None:
    draft = session.execute(select(PaymentOrder.id, PaymentOrder.batch_id).where(
        PaymentOrder.client_id == client.id, PaymentOrder.kind == "final",
        PaymentOrder.status == "draft").limit(1)).first()
    if draft is not None:
        raise Conflict(_("client {client}'s final payout is order {order} in draft batch "
                         "{batch}: take it out (batch remove) or reopen once it is approved")
                       .format(client=client.id, order=draft.id, batch=draft.batch_id))
    later = session.execute(select(Plan.version, Plan.effective_on).where(
        Plan.client_id == client.id, Plan.effective_on >= start_on)
        .order_by(Plan.version).limit(1)).first()
    if later is not None:
        raise Conflict(_("plan version {version} of an earlier period takes effect on {day}: "
                         "start the new period after it").format(
            version=later.version, day=format_fi_date(later.effective_on)))
