"""Taking orders out of a draft or approved batch, and cancelling a batch.

See the package docstring (``valitystili.payments``) for the rules.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.errors import Conflict, NotFound
from valitystili.base.i18n import _
from valitystili.payments import manual
from valitystili.payments.batches import (
    batch_digest,
    batch_row,
    batch_state,
    four_eyes,
    lock_batch,
    orders_in,
    serialise,
)
from valitystili.people.retention import order_description
from valitystili.store import settings
from valitystili.store.models import Obligation, PaymentBatch, PaymentOrder
from valitystili.store.settings import free_text
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def _changeable(batch: PaymentBatch) -> None:
    if batch.status == "exported":
        raise Conflict(_("batch {batch} is exported: the bank has the file, so nothing is taken "
                         "out of it here; ask the bank to stop a payment").format(batch=batch.id))
    if batch.status == "cancelled":
        raise Conflict(_("batch {batch} is already cancelled").format(batch=batch.id))


def _order_in(session: Session, batch: PaymentBatch, order_ref: str) -> PaymentOrder:
    query = select(PaymentOrder).where(PaymentOrder.batch_id == batch.id)
    if order_ref.isdigit():
        query = query.where(PaymentOrder.id == int(order_ref))
    else:
        query = query.where(PaymentOrder.key == order_ref)
    order = session.execute(query).scalar_one_or_none()
    if order is None:
        raise NotFound(_("batch {batch} has no order {order}").format(batch=batch.id,
                                                                      order=order_ref))
    return order


def _take_out(session: Session, actor: Actor, batch: PaymentBatch, order: PaymentOrder,
              today: date) -> bool:
    """Cancel one order: its debit reversed when it was approved, its obligation open again.
    Returns whether money went back to the client."""
    reversed_debit = order.status == "approved"
    if reversed_debit:
        ledger.reverse(session, f"cancel:{order.key}", order.key, today, actor=actor.name,
                       description=f"{order_description(order)} taken out of batch "
                                   f"{batch.id}")
    order.status = "cancelled"
    manual.taken_out(session, order)       # a payment asked for by hand is not made again
    if order.obligation_id is not None:
        obligation = session.get(Obligation, order.obligation_id)
        obligation.paid_cents -= order.amount_cents
        if obligation.status == "settled":
            obligation.status = "open"
    return reversed_debit


def remove_order(session: Session, actor: Actor, batch_ref: str, order_ref: str, *, reason: str,
                 today: date | None = None) -> dict:
    """Take one order out of a draft or approved batch (see the package rules)."""
    actor.require("batch.approve")
    reason = free_text(session, reason, "reason")
    today = today or date.today()
    serialise(session)
    batch = lock_batch(session, batch_ref)
    _changeable(batch)
    order = _order_in(session, batch, order_ref)
    if order.status == "cancelled":
        raise Conflict(_("order {order} is already cancelled").format(order=order.id))
    if (batch.status == "approved" and settings.get_bool(session, "four_eyes")
            and order.created_by == actor.name):
        raise Conflict(_("four-eyes: order {order} in approved batch {batch} was created by "
                         "{name}; another handler must take it out").format(
                             order=order.id, batch=batch.id, name=actor.name))
    money_back = _take_out(session, actor, batch, order, today)
    if batch.status == "approved":
        batch.approved_digest = batch_digest(orders_in(session, batch))
    session.flush()
    audit.record(session, actor.name, "batch.remove", client_id=order.client_id, subject=batch.key,
                 detail={"order": order.key, "amount_cents": order.amount_cents, "reason": reason,
                         "money_back": money_back, "state": batch_state(session, batch)})
    return {"batch": batch.id, "order": order.id, "key": order.key, "client": order.client_id,
            "amount_cents": order.amount_cents, "status": order.status, "money_back": money_back,
            "batch_status": batch.status}


def cancel_batch(session: Session, actor: Actor, batch_ref: str, *, reason: str,
                 today: date | None = None) -> dict:
    """Cancel a draft or approved batch: every order taken out as ``remove_order`` does."""
    actor.require("batch.approve")
    reason = free_text(session, reason, "reason")
    today = today or date.today()
    serialise(session)
    batch = lock_batch(session, batch_ref)
    _changeable(batch)
    orders = orders_in(session, batch)
    if batch.status == "approved":
        four_eyes(session, actor, batch, orders, "cancel")
    money_back = 0
    for order in orders:
        if _take_out(session, actor, batch, order, today):
            money_back += order.amount_cents
    batch.status = "cancelled"
    session.flush()
    audit.record(session, actor.name, "batch.cancel", subject=batch.key,
                 detail={"reason": reason, "orders": len(orders),
                         "total_cents": sum(o.amount_cents for o in orders),
                         "money_back_cents": money_back, "state": batch_state(session, batch)})
    return {**batch_row(session, batch), "cancelled_orders": len(orders),
            "money_back_cents": money_back}
