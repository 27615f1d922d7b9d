"""The decisions on a batch: approval (the clients' debits) and export (the payment file).

See the package docstring (``valitystili.payments``) for the rules.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

import ledger
from valitystili.base import files
from valitystili.base.accounts import OUTGOING, SUSPENSE
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import (
    Conflict,
    InsufficientFunds,
    PermissionDenied,
    ValidationError,
)
from valitystili.base.i18n import Message, _
from valitystili.base.money import format_fi
from valitystili.flags.raising import raise_flag
from valitystili.payments.batches import (
    NeedsConfirmation,
    batch_digest,
    batch_row,
    batch_state,
    changes_after_approval,
    four_eyes,
    lock_batch,
    order_digest,
    order_rows_in,
    orders_in,
    serialise,
)
from valitystili.payments.pain001 import CreditTransfer, Debtor, make_id, write_pain001
from valitystili.people.retention import order_description
from valitystili.store import settings
from valitystili.store.models import (
    AuditEntry,
    BankAccount,
    Client,
    PaymentBatch,
    PaymentOrder,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: What export reads of each order: what the file says of it, and what ``changes_after_approval``
#: compares (its id, key and status, ``order_digest``'s payment content, the digest approved).
EXPORTED = (PaymentOrder.id, PaymentOrder.key, PaymentOrder.status, PaymentOrder.client_id,
            PaymentOrder.amount_cents, PaymentOrder.creditor_name, PaymentOrder.creditor_iban,
            PaymentOrder.creditor_bic, PaymentOrder.reference, PaymentOrder.reference_kind,
            PaymentOrder.message, PaymentOrder.execution_on, PaymentOrder.end_to_end_id,
            PaymentOrder.approved_digest)

#: How many changed orders an export refusal names (the flag and the audit entry list all).
NAMED_CHANGES = 3


class ChangedAfterApproval(Conflict):
    """A batch's orders no longer give the digest stored at approval: export refused."""

    def __init__(self, batch: PaymentBatch, problems: list[Message]):
        self.batch_id, self.batch_key, self.problems = batch.id, batch.key, problems
        named = list(problems[:NAMED_CHANGES])
        if len(problems) > NAMED_CHANGES:
            named.append(Message("and {count} more", count=len(problems) - NAMED_CHANGES))
        #: The refusal as kept in its flag (English, shown in the reader's language).
        self.message = Message("batch {batch} was changed after approval: {changes}; nothing "
                               "was exported", batch=batch.id, changes=Message.joined("; ", named))
        super().__init__(self.message.shown())


def approve_batch(session: Session, actor: Actor, batch_ref: str, *, today: date | None = None) -> dict:
    """The handler's decision: the orders debit the clients and credit ``outgoing``."""
    actor.require("batch.approve")
    today = today or date.today()
    serialise(session)
    batch = lock_batch(session, batch_ref)
    if batch.status != "draft":
        raise Conflict(_("batch {batch} is already {status}").format(batch=batch.id,
                                                                      status=batch.status))
    orders = orders_in(session, batch, "draft")
    if not orders:
        raise Conflict(_("batch {batch} holds no payments: there is nothing to approve (take it "
                         "away with `batch cancel`)").format(batch=batch.id))
    four_eyes(session, actor, batch, orders, "approve")
    codes = dict(session.execute(select(Client.id, Client.ledger_code).where(
        Client.id.in_({o.client_id for o in orders}))).all()) if orders else {}
    codes[None] = SUSPENSE          # a refund (``payments.manual``) returns money in suspense
    entries = [ledger.Entry(order.key, ((codes[order.client_id], order.amount_cents),
                                        (OUTGOING, -order.amount_cents)),
                            today, description=order_description(order),
                            actor=actor.name) for order in orders]
    try:
        ledger.post_many(session, entries)
    except ledger.InsufficientFunds as error:
        client = error.account.split(":", 1)[1]
        raise InsufficientFunds(
            _("client {client} no longer has the money for this batch ({balance} left); run the "
              "batch again").format(client=client, balance=format_fi(error.balance_cents))
        ) from None
    for order in orders:
        order.status = "approved"
        order.approved_digest = order_digest(order)
    batch.status = "approved"
    batch.approved_by = actor.name
    batch.approved_at = datetime.now(timezone.utc).replace(microsecond=0)
    batch.approved_digest = batch_digest(orders)
    session.flush()
    if orders_in(session, batch, "draft"):     # the lock and the database guard make this impossible
        raise Conflict(_("batch {batch} gained orders while it was approved; nothing was "
                         "approved").format(batch=batch.id))
    audit.record(session, actor.name, "batch.approve", subject=batch.key,
                 detail={"orders": len(orders), "total_cents": sum(o.amount_cents for o in orders),
                         "state": batch_state(session, batch)})
    return batch_row(session, batch)


def require_export(session: Session, actor: Actor) -> None:
    """Finance exports; a handler only where the setting ``handler_exports`` is on."""
    if actor.role == "handler":
        if settings.get_bool(session, "handler_exports"):
            return
        raise PermissionDenied(
            _("user {name} (handler) may not batch export: finance exports the payment files "
              "(an admin lets handlers do it with `settings set handler_exports true`)")
            .format(name=actor.name))
    actor.require("batch.export")


def first_export(session: Session, batch: PaymentBatch) -> str:
    """When, by whom and to which file the batch was first exported, from the audit trail:
    ``on 2.11.2026 at 09:14 by fiona (maksut-2026-11-02.xml)``."""
    entry = session.execute(
        select(AuditEntry.actor, AuditEntry.at, AuditEntry.detail)
        .where(AuditEntry.action == "batch.export", AuditEntry.subject == batch.key)
        .order_by(AuditEntry.position).limit(1)).first()
    at = entry.at if entry is not None else batch.exported_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    local = at.astimezone()
    when = f"on {format_fi_date(local.date())} at {local:%H:%M}"
    if entry is None:
        return when
    file = json.loads(entry.detail).get("file")
    return f"{when} by {entry.actor}" + (f" ({file})" if file else "")


def export_batch(session: Session, actor: Actor, batch_ref: str, out: Path, *,
                 version: str | None = None, force: bool = False, again: bool = False,
                 confirmed: bool = False, today: date | None = None) -> dict:
    """Write the approved batch as pain.001 to ``out`` when the caller's transaction commits.

    Refused (``NeedsConfirmation``, nothing written) unless the caller confirms: a batch
    already exported (``again``: the bank would pay a file uploaded twice twice), and a batch
    whose execution date is before ``today`` (``confirmed``)."""
    require_export(session, actor)
    today = today or date.today()
    batch = lock_batch(session, batch_ref)
    if batch.status not in ("approved", "exported"):
        raise Conflict(_("batch {batch} is {status}: only approved batches are exported")
                       .format(batch=batch.id, status=batch.status))
    version = version or settings.get(session, "pain_version")
    bank = session.get(BankAccount, batch.bank_account_id)
    orders = order_rows_in(session, batch, *EXPORTED)
    if not orders:
        raise ValidationError(_("batch {batch} has no orders to export").format(batch=batch.id))
    problems = changes_after_approval(batch, orders)
    if problems:           # before any question: a changed batch is refused and flagged
        raise ChangedAfterApproval(batch, problems)
    if batch.status == "exported" and not again:
        raise NeedsConfirmation(
            _("batch {batch} was already exported {when}").format(
                batch=batch.id, when=first_export(session, batch)),
            _("give --again to write the file once more, and do not upload it to the bank twice"),
            "--again")
    if batch.execution_on < today and not confirmed:
        raise NeedsConfirmation(
            _("batch {batch} executes on {day}, which is in the past").format(
                batch=batch.id, day=format_fi_date(batch.execution_on)),
            _("the bank pays it late or refuses it; confirm with --yes"))
    debtor = Debtor(name=settings.get(session, "debtor_name") or bank.name, iban=bank.iban,
                    bic=bank.bic, initiating_party_id=settings.get(session, "initiating_party_id") or None)
    approved_at = batch.approved_at
    if approved_at.tzinfo is None:
        approved_at = approved_at.replace(tzinfo=timezone.utc)
    transfers = [CreditTransfer(
        key=o.key, execution_on=o.execution_on, amount_cents=o.amount_cents,
        creditor_name=o.creditor_name, creditor_iban=o.creditor_iban, creditor_bic=o.creditor_bic,
        reference=o.reference, reference_kind=o.reference_kind, message=o.message,
        end_to_end_id=o.end_to_end_id) for o in orders]
    digests = []     # the file is written into the staged file, never whole in memory
    staged = files.stage_written(Path(out), lambda handle: digests.append(write_pain001(
        handle, message_key=batch.key, created_at=approved_at, debtor=debtor, version=version,
        transfers=transfers)), force=force)
    _publish_on_commit(session, staged)
    (digest,) = digests
    first = batch.status == "approved"
    # The ids the bank's status reports (pain.002) name the file and its one payment block by.
    batch.message_id = make_id(batch.key)
    batch.payment_info_id = make_id(f"{batch.key}:{orders[0].execution_on.isoformat()}")
    if first:
        batch.status = "exported"
        batch.exported_at = datetime.now(timezone.utc)
        batch.file_sha256 = digest
        session.execute(update(PaymentOrder)
                        .where(PaymentOrder.batch_id == batch.id,
                               PaymentOrder.status == "approved")
                        .values(status="exported"))
    session.flush()
    audit.record(session, actor.name, "batch.export", subject=batch.key,
                 detail={"file": staged.path.name, "sha256": digest, "version": version,
                         "first_export": first, "state": batch_state(session, batch)})
    result = {"batch": batch.id, "file": str(staged.path), "orders": len(orders),
              "total_cents": sum(o.amount_cents for o in orders), "sha256": digest,
              "version": f"pain.001.001.{version}", "first_export": first}
    if not first:
        result["exported_before"] = first_export(session, batch)
    return result


def _publish_on_commit(session: Session, staged: files.StagedFile) -> None:
    """The staged file takes its name after the commit; any other end of the transaction
    removes it. (``publish`` after a discard, or the reverse, does nothing.)"""
    event.listen(session, "after_commit", lambda _session: staged.publish(), once=True)

    def ended(_session: Session, transaction) -> None:
        if transaction.parent is None:
            staged.discard()

    event.listen(session, "after_transaction_end", ended)


def record_changed_after_approval(session: Session, actor: Actor, error: ChangedAfterApproval, *,
                                  on: date | None = None) -> None:
    """Keep the refusal: a *reconciliation_mismatch* flag (the subject ``reconcile`` gives the
    same finding, so it stays open while the change does) and a ``batch.export_refused`` entry.
    Called in a unit of its own after the refused export's unit rolled back."""
    on = on or date.today()
    raise_flag(session, "reconciliation_mismatch",
               f"batch_changed_after_approval:{error.batch_key}", on, detail=error.message)
    audit.record(session, actor.name, "batch.export_refused", subject=error.batch_key,
                 detail={"problems": error.problems})
