"""The stored batch: finding and locking it, its state, the views, what approval covers.

See the package docstring (``valitystili.payments``) for the rules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import N_, Message, _
from valitystili.base.money import format_fi
from valitystili.store import settings
from valitystili.store.db import advisory_lock
from valitystili.store.models import PaymentBatch, PaymentOrder
from valitystili.trust import access
from valitystili.trust.auth import Actor

BATCH_LOCK = 72207003

#: A batch executing more banking days ahead than this needs the user's confirmation.
CONFIRM_AHEAD_BANKING_DAYS = 5

#: Order statuses whose client has been debited (by approval) and not given the money back.
DEBITED = ("approved", "exported", "cleared", "returned")


class NeedsConfirmation(ValidationError):
    """An unusual request (a batch executing in the past or far ahead, a second export) that
    the user must confirm (``--yes``, ``--again`` or a prompt); nothing was written."""

    def __init__(self, reason: str, how: str, option: str = "--yes"):
        self.reason, self.option = reason, option
        super().__init__(f"{reason}: {how}")


def date_to_confirm(execution_on: date, today: date,
                    calendar: BankingCalendar = CALENDAR) -> str | None:
    """Why a batch executing on ``execution_on`` needs confirming, or None (DESIGN §11).

    The past cannot be paid on (the bank executes late, or refuses the file); more than
    ``CONFIRM_AHEAD_BANKING_DAYS`` banking days ahead is most likely a mistyped date, and it
    would reserve the clients' money for that long."""
    if execution_on < today:
        return _("the execution date {day} is in the past").format(
            day=format_fi_date(execution_on))
    ahead, day = 0, today
    while day < execution_on:
        day += timedelta(days=1)
        if calendar.is_banking_day(day):
            ahead += 1
            if ahead > CONFIRM_AHEAD_BANKING_DAYS:
                return _("the execution date {day} is more than {count} banking days ahead").format(
                    day=format_fi_date(execution_on), count=CONFIRM_AHEAD_BANKING_DAYS)
    return None


def held_for_day(session: Session, bank_account_id: int, execution_on: date) -> str:
    """What the batches already stored for an execution day hold, for "nothing new":
    ``batch 3 already holds 2 payments (845,00 €)``; empty when there is none."""
    rows = session.execute(
        select(PaymentBatch.id, func.count(PaymentOrder.id),
               func.coalesce(func.sum(PaymentOrder.amount_cents), 0))
        .join(PaymentOrder, (PaymentOrder.batch_id == PaymentBatch.id)
              & (PaymentOrder.status != "cancelled"))
        .where(PaymentBatch.execution_on == execution_on,
               PaymentBatch.bank_account_id == bank_account_id,
               PaymentBatch.status != "cancelled")
        .group_by(PaymentBatch.id).order_by(PaymentBatch.id)).all()
    return "; ".join(f"batch {batch} already holds {_payments(count)} ({format_fi(int(total))})"
                     for batch, count, total in rows)


def _payments(count: int) -> str:
    return "1 payment" if count == 1 else f"{count} payments"


def serialise(session: Session) -> None:
    """One batch decision at a time (run, approve, remove, cancel): see the package rules."""
    advisory_lock(session, BATCH_LOCK)


def _batch_id(session: Session, text_value: str) -> int:
    """The id of the batch named by its number or its key."""
    found = None
    if text_value.isdigit():
        found = session.execute(select(PaymentBatch.id).where(
            PaymentBatch.id == int(text_value))).scalar_one_or_none()
    if found is None:
        found = session.execute(select(PaymentBatch.id).where(
            PaymentBatch.key == text_value)).scalar_one_or_none()
    if found is None:
        raise NotFound(_("no batch {batch}").format(batch=text_value))
    return found


def resolve_batch(session: Session, text_value: str) -> PaymentBatch:
    return session.get(PaymentBatch, _batch_id(session, text_value))


def lock_batch(session: Session, text_value: str) -> PaymentBatch:
    """The batch, its row locked until the transaction ends and read after the lock."""
    return session.execute(
        select(PaymentBatch).where(PaymentBatch.id == _batch_id(session, text_value))
        .with_for_update().execution_options(populate_existing=True)).scalar_one()


def orders_in(session: Session, batch: PaymentBatch, *statuses: str) -> list[PaymentOrder]:
    """The batch's orders (of these statuses; else all not cancelled), in export order."""
    return list(session.execute(_in_batch(select(PaymentOrder), batch, statuses)).scalars())


def order_rows_in(session: Session, batch: PaymentBatch, *columns) -> list[Row]:
    """``orders_in`` (all not cancelled) as rows of ``columns`` only, for reading: a row holds
    what is read of an order in a fraction of the memory an order object takes."""
    return list(session.execute(_in_batch(select(*columns), batch, ())))


def _in_batch(query: Select, batch: PaymentBatch, statuses: tuple[str, ...]) -> Select:
    query = query.where(PaymentOrder.batch_id == batch.id)
    if statuses:
        query = query.where(PaymentOrder.status.in_(statuses))
    else:
        query = query.where(PaymentOrder.status != "cancelled")
    return query.order_by(PaymentOrder.execution_on, PaymentOrder.id)


def batch_state(session: Session, batch: PaymentBatch) -> dict:
    """The batch row's state as the audit trail records it (see the package rules)."""
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentOrder.amount_cents), 0))
        .where(PaymentOrder.batch_id == batch.id, PaymentOrder.status != "cancelled")).one()
    return {"status": batch.status, "created_by": batch.created_by,
            "approved_by": batch.approved_by, "approved_digest": batch.approved_digest,
            "orders": count, "total_cents": int(total)}


def batch_row(session: Session, batch: PaymentBatch) -> dict:
    state = batch_state(session, batch)
    return {"batch": batch.id, "key": batch.key, "run_on": batch.run_on,
            "execution_on": batch.execution_on, "status": batch.status,
            "orders": state["orders"], "total_cents": state["total_cents"],
            "created_by": batch.created_by, "approved_by": batch.approved_by,
            "exported": batch.exported_at is not None, "bank_status": batch.bank_status}


def order_row(order: PaymentOrder) -> dict:
    return {
        "order": order.id, "client": order.client_id, "kind": order.kind,
        "payee": order.creditor_name, "iban": order.creditor_iban,
        "amount_cents": order.amount_cents, "reference": order.reference,
        "message": order.message, "execution_on": order.execution_on, "status": order.status,
        "key": order.key,
    }


def show_batch(session: Session, actor: Actor, batch_ref: str) -> dict:
    actor.require("batch.read")
    batch = resolve_batch(session, batch_ref)
    orders = session.execute(select(PaymentOrder).where(PaymentOrder.batch_id == batch.id)
                             .order_by(PaymentOrder.id)).scalars().all()
    access.record_view(session, actor, "batch.view",
                       {o.client_id for o in orders if o.client_id is not None},
                       subject=batch.key)
    return {"batch": batch_row(session, batch), "orders": [order_row(o) for o in orders]}


def list_batches(session: Session, actor: Actor, *, since: date | None = None) -> list[dict]:
    actor.require("batch.read")
    query = select(PaymentBatch).order_by(PaymentBatch.id)
    if since:
        query = query.where(PaymentBatch.execution_on >= since)
    return [batch_row(session, b) for b in session.execute(query).scalars()]


def order_digest(order: PaymentOrder) -> str:
    """SHA-256 of an order's payment content, in a canonical form."""
    content = [order.key, order.client_id, order.amount_cents, order.creditor_name,
               order.creditor_iban, order.creditor_bic, order.reference, order.reference_kind,
               order.message, order.execution_on.isoformat()]
    material = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def batch_digest(orders: Iterable[PaymentOrder]) -> str:
    """SHA-256 over the orders' digests, sorted by order key."""
    material = "".join(f"{key}\t{digest}\n"
                       for key, digest in sorted((o.key, order_digest(o)) for o in orders))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def changes_after_approval(batch: PaymentBatch, orders: list[PaymentOrder]) -> list[Message]:
    """How an approved batch's orders (those not cancelled) differ from what was approved."""
    if batch.approved_digest is not None and batch_digest(orders) == batch.approved_digest:
        return []
    problems = []
    for order in orders:
        if order.status == "draft" or order.approved_digest is None:
            problems.append(Message("order {order} ({key}) was never approved",
                                    order=order.id, key=order.key))
        elif order_digest(order) != order.approved_digest:
            problems.append(Message("order {order} ({key}) differs from what was approved",
                                    order=order.id, key=order.key))
    if not problems:
        problems.append(Message("its orders do not add up to the approved digest "
                                "(an order was taken out or its record rewritten)"))
    return problems


#: Four-eyes refusals, by what was refused (one whole sentence each, for the translations).
RUN_BY_YOU = {
    "approve": N_("four-eyes: batch {batch} was run by {name}; another handler must approve it"),
    "cancel": N_("four-eyes: batch {batch} was run by {name}; another handler must cancel it"),
}
MADE_BY_YOU = {
    "approve": N_("four-eyes: {name} created {made} of the {orders} orders in batch {batch}; a "
                  "handler who created none of its orders must approve it"),
    "cancel": N_("four-eyes: {name} created {made} of the {orders} orders in batch {batch}; a "
                 "handler who created none of its orders must cancel it"),
}


def four_eyes(session: Session, actor: Actor, batch: PaymentBatch, orders: list[PaymentOrder],
              verb: str) -> None:
    """Refuse ``verb`` (approve, cancel) of the batch by a handler who ran it or made its orders."""
    if not settings.get_bool(session, "four_eyes"):
        return
    if batch.created_by == actor.name:
        raise Conflict(_(RUN_BY_YOU[verb]).format(batch=batch.id, name=actor.name))
    made = sum(1 for order in orders if order.created_by == actor.name)
    if made:
        raise Conflict(_(MADE_BY_YOU[verb]).format(name=actor.name, made=made,
                                                   orders=len(orders), batch=batch.id))
