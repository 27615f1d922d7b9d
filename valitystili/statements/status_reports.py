"""The bank's status reports (pain.002) on the payment files we sent (``import pain002``).

Rules of this module:

- **Which file.** A report names the pain.001 it answers by its ``MsgId``: the batch whose
  exported file had it (``payment_batches.message_id``). A payment-information block must be the
  batch's (``payment_info_id``) and each payment one of the batch's orders, by end-to-end id
  (else instruction id, which our files make the same). An unknown message, block or payment, an
  original amount that is not the order's, or a rejection of a payment the bank has already paid
  out (cleared or returned on a statement) refuses the whole report: one line, nothing written.
- **A rejected payment** (``TxSts`` RJCT; or every payment of a block or a file rejected as a
  whole with no payments listed) was never executed, but approval had debited its client: the
  debit is reversed (ledger key ``reject:<order key>``), so the money is the client's again (a
  refund's is in ``suspense`` again), exactly as when a payment comes back. The order becomes
  ``rejected`` with the day and the reason code; its obligation reopens once
  (``plans.obligations.reopen_returned``) and the next batch pays it again under the next key;
  a rejected instalment's money waits for the next instalment day, as a returned one does. A
  ``payment_rejected`` flag (subject: the order key) names the reason code in words
  (:data:`REASON_WORDS`).
- **The batch's bank status** (``received`` < ``accepted`` < ``partly_accepted`` <
  ``rejected``) only moves forward: from the group and block statuses (RCVD/PDNG received,
  AC… accepted, PART partly accepted, RJCT rejected) and from the orders (some rejected:
  partly accepted; all rejected: rejected). A later ACTC does not undo a rejection.
- **Idempotent.** A payment already rejected is not rejected again and a status already
  reached is not set again: the same report twice changes nothing the second time (no ledger
  posting, no audit entry).
- One report, one unit of work: the reversals, the order and batch changes, the flags and one
  ``batch.bank_report`` audit entry (the batch's state, the rejected orders and the file's
  sha256) — or, on any refusal, nothing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from imports.pain002 import REJECTED, StatusReport, read_pain002
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, Message, _
from valitystili.base.money import format_fi
from valitystili.flags.raising import FlagRaised, raise_flags
from valitystili.people.retention import order_description
from valitystili.plans.obligations import reopen_returned
from valitystili.statements.loading import lock_banks
from valitystili.statements.reading import CityAccount
from valitystili.store.models import BankAccount, PaymentBatch, PaymentOrder
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: ISO 20022 status reason codes (ExternalStatusReason1Code) a bank commonly gives, in words
#: (English where kept, in the reader's language where shown: ``reason_in_words``).
REASON_WORDS = {
    "AC01": N_("the account number is wrong"),
    "AC03": N_("the payee's account number is not valid"),
    "AC04": N_("the account is closed"),
    "AC06": N_("the account is blocked"),
    "AG01": N_("payments to this account are not allowed"),
    "AG02": N_("the bank does not accept this kind of payment"),
    "AM02": N_("the amount is over what is allowed"),
    "AM04": N_("there was not enough money on the city's account"),
    "AM05": N_("the payment is a duplicate"),
    "BE01": N_("the payee's name does not match the account"),
    "CNOR": N_("the payee's bank cannot be reached"),
    "DT01": N_("the date is not valid"),
    "DUPL": N_("the payment is a duplicate"),
    "FF01": N_("the file's format is not valid"),
    "MD07": N_("the account holder has died"),
    "MS02": N_("the payee gave no reason"),
    "MS03": N_("the bank gave no reason"),
    "NARR": N_("the reason is in the bank's own words"),
    "RC01": N_("the bank code (BIC) is wrong"),
    "RR04": N_("for a regulatory reason"),
    "TM01": N_("it came after the bank's cut-off time"),
}

#: A batch's bank status from a group or block status code, and their order (only forward).
STATUS_MEANING = {"RCVD": "received", "PDNG": "received", "PART": "partly_accepted",
                  "RJCT": "rejected"}
BANK_STATUSES = ("received", "accepted", "partly_accepted", "rejected")
#: A status report is a few kilobytes; anything near this is not one (checked before parsing).
MAX_REPORT_BYTES = 16 * 1024 * 1024
#: Order statuses the bank has executed (a statement showed the money leave).
PAID_OUT = ("cleared", "returned")


#: A rejected payment's flag: its money back to its client, or (a refund's) to suspense.
REJECTED_TO_CLIENT = N_("payment {payment} of {amount} to {payee} was rejected by the bank "
                        "({reason}); {amount} returned to client {client}")
REJECTED_TO_SUSPENSE = N_("payment {payment} of {amount} to {payee} was rejected by the bank "
                          "({reason}); {amount} is in suspense again")


def reason_in_words(code: str | None) -> Message:
    """``AC04: the account is closed``; an unknown code is named as it is."""
    if not code:
        return Message("no reason given")
    words = REASON_WORDS.get(code.upper())
    return Message.joined(": ", [code, Message(words) if words else
                                 Message("a code with no words here (see the report)")])


def bank_meaning(status: str | None) -> str | None:
    if status is None:
        return None
    if status in STATUS_MEANING:
        return STATUS_MEANING[status]
    return "accepted" if status.startswith("AC") else None


@dataclass(frozen=True, slots=True)
class Rejection:
    order_id: int
    key: str
    client_id: int | None
    kind: str
    creditor_name: str
    amount_cents: int
    reason: str | None

    def row(self) -> dict:
        return {"order": self.order_id, "key": self.key, "client": self.client_id,
                "kind": self.kind, "payee": self.creditor_name,
                "amount_cents": self.amount_cents, "reason": self.reason,
                "reason_words": reason_in_words(self.reason)}


@dataclass(frozen=True)
class StatusResult:
    """What one report did (or, in a dry run, would do)."""

    file: str
    report: str
    batch: int
    batch_key: str
    group_status: str | None
    bank_status_before: str | None
    bank_status: str | None
    rejected: tuple[Rejection, ...]
    already_rejected: int
    accepted: int
    applied: bool

    @property
    def changed(self) -> bool:
        return bool(self.rejected) or self.bank_status != self.bank_status_before

    def row(self) -> dict:
        return {"file": self.file, "report": self.report, "batch": self.batch,
                "group_status": self.group_status, "bank_status": self.bank_status,
                "rejected": len(self.rejected),
                "rejected_cents": sum(r.amount_cents for r in self.rejected),
                "already_rejected": self.already_rejected, "accepted": self.accepted}


def read_report(path: str | os.PathLike[str]) -> tuple[StatusReport, str]:
    """The report in a file and the file's sha256 (reader errors: ``StatementError``)."""
    report = read_pain002(path, max_bytes=MAX_REPORT_BYTES)
    return report, hashlib.sha256(Path(path).read_bytes()).hexdigest()


def import_status_report(session: Session, actor: Actor, report: StatusReport, *,
                         file_name: str, file_sha256: str | None = None,
                         today: date | None = None, dry_run: bool = False) -> StatusResult:
    """Book one status report in the caller's transaction (see the module rules)."""
    actor.require("import")
    today = today or date.today()
    batch = session.execute(select(PaymentBatch).where(
        PaymentBatch.message_id == report.original_message_id)).scalar_one_or_none()
    if batch is None:
        raise ValidationError(
            _("{file}: the report answers payment file {message_id}, which is no file exported "
              "here; nothing was imported").format(file=file_name,
                                                   message_id=report.original_message_id))
    if not dry_run:
        bank = session.get(BankAccount, batch.bank_account_id)
        lock_banks(session, [CityAccount(bank.id, bank.iban, bank.ledger_code)])
        batch = session.execute(select(PaymentBatch).where(PaymentBatch.id == batch.id)
                                .with_for_update()
                                .execution_options(populate_existing=True)).scalar_one()
    orders = list(session.execute(
        select(PaymentOrder).where(PaymentOrder.batch_id == batch.id,
                                   PaymentOrder.status != "cancelled")
        .order_by(PaymentOrder.id)).scalars())
    reasons, accepted, meanings = _read_statuses(report, batch, orders, file_name)

    rejections, already = [], 0
    for order in orders:
        if order.id not in reasons:
            continue
        if order.status == "rejected":
            already += 1
            continue
        if order.status in PAID_OUT:
            raise ValidationError(
                _("{file}: the report rejects payment {key}, which the bank has already paid out "
                  "({status} on a statement); nothing was imported").format(
                    file=file_name, key=order.key, status=order.status))
        if order.status != "exported":       # pragma: no cover - an exported batch's orders
            raise ValidationError(_("{file}: payment {key} is {status}, not exported; nothing "
                                    "was imported").format(file=file_name, key=order.key,
                                                           status=order.status))
        codes = reasons[order.id]
        rejections.append(Rejection(order.id, order.key, order.client_id, order.kind,
                                    order.creditor_name, order.amount_cents,
                                    codes[0] if codes else None))

    rejected_ids = {o.id for o in orders if o.status == "rejected"} | {
        r.order_id for r in rejections}
    if rejected_ids:
        meanings.append("rejected" if len(rejected_ids) == len(orders) else "partly_accepted")
    before = batch.bank_status
    after = max([before, *meanings], key=lambda s: -1 if s is None else BANK_STATUSES.index(s))
    result = StatusResult(file_name, report.message_id, batch.id, batch.key,
                          report.group_status, before, after, tuple(rejections), already,
                          len(accepted), applied=not dry_run)
    if dry_run or not result.changed:
        return result
    _apply(session, actor, batch, {o.id: o for o in orders}, result, file_sha256, today)
    return result


def _read_statuses(report: StatusReport, batch: PaymentBatch, orders: list[PaymentOrder],
                   file_name: str) -> tuple[dict[int, tuple[str, ...]], set[int], list[str]]:
    """(reasons of each rejected order by id, accepted order ids, the batch meanings given)."""
    by_id = {o.end_to_end_id: o for o in orders}
    reasons: dict[int, tuple[str, ...]] = {}
    accepted: set[int] = set()
    meanings = [m for m in [bank_meaning(report.group_status)] if m]
    if not report.payments and report.group_status == REJECTED:
        reasons = {o.id: report.group_reasons for o in orders}
    for block in report.payments:
        if block.payment_info_id != batch.payment_info_id:
            raise ValidationError(
                _("{file}: payment information {info_id} is not in payment file {message_id} "
                  "(batch {batch}); nothing was imported").format(
                    file=file_name, info_id=block.payment_info_id,
                    message_id=report.original_message_id, batch=batch.id))
        if block.status and (meaning := bank_meaning(block.status)):
            meanings.append(meaning)
        if not block.transactions and block.status == REJECTED:
            codes = block.reasons or report.group_reasons
            reasons.update({o.id: codes for o in orders})
        for tx in block.transactions:
            order = by_id.get(tx.end_to_end_id or "") or by_id.get(tx.instruction_id or "")
            if order is None:
                raise ValidationError(
                    _("{file}: payment {ident} is none of the payments of batch {batch}; nothing "
                      "was imported").format(file=file_name, ident=tx.ident, batch=batch.id))
            if tx.amount_cents is not None and tx.amount_cents != order.amount_cents:
                raise ValidationError(
                    _("{file}: payment {ident} is {amount} in the report, but order {key} is "
                      "{order_amount}; nothing was imported").format(
                        file=file_name, ident=tx.ident, amount=format_fi(tx.amount_cents),
                        key=order.key, order_amount=format_fi(order.amount_cents)))
            status = tx.status or block.status or report.group_status
            if status == REJECTED:
                reasons[order.id] = tx.reasons or block.reasons or report.group_reasons
            else:
                accepted.add(order.id)
    return reasons, accepted, meanings


def _apply(session: Session, actor: Actor, batch: PaymentBatch, orders: dict[int, PaymentOrder],
           result: StatusResult, file_sha256: str | None, today: date) -> None:
    flags = []
    for rejection in result.rejected:
        order = orders[rejection.order_id]
        words = reason_in_words(rejection.reason)
        ledger.reverse(session, f"reject:{order.key}", order.key, today, actor=actor.name,
                       description=f"{order_description(order)} rejected by the bank "
                                   f"({words})"[:200])
        order.status = "rejected"
        order.rejected_on = today
        order.reject_reason = rejection.reason
        if order.obligation_id is not None:
            reopen_returned(session, order.obligation_id, order.amount_cents)
        values = {"payment": order.key, "amount": format_fi(order.amount_cents),
                  "payee": order.creditor_name, "reason": words, "client": order.client_id}
        flags.append(FlagRaised(
            "payment_rejected", order.key, order.client_id, order.amount_cents,
            Message(REJECTED_TO_SUSPENSE if order.client_id is None else REJECTED_TO_CLIENT,
                    **values)))
    raise_flags(session, flags, today)
    if result.bank_status != batch.bank_status:
        batch.bank_status = result.bank_status
        batch.bank_status_on = today
    session.flush()
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentOrder.amount_cents), 0))
        .where(PaymentOrder.batch_id == batch.id, PaymentOrder.status != "cancelled")).one()
    audit.record(session, actor.name, "batch.bank_report", subject=batch.key, detail={
        "file": result.file[:200], "sha256": file_sha256, "report": result.report,
        "group_status": result.group_status,
        "rejected": [{"order": r.key, "client": r.client_id, "amount_cents": r.amount_cents,
                      "reason": r.reason} for r in result.rejected],
        "state": {"status": batch.status, "created_by": batch.created_by,
                  "approved_by": batch.approved_by, "approved_digest": batch.approved_digest,
                  "bank_status": batch.bank_status, "orders": count,
                  "total_cents": int(total)}})


def import_report_files(unit, paths: list[str | os.PathLike[str]], *, dry_run: bool = False,
                        today: date | None = None) -> list[StatusResult]:
    """Read every file, check each against the database (a dry run), then book each in its
    own unit of work in the order given: a bad file refuses the command before anything is
    written. ``unit`` is ``statements.service.Unit``."""
    with unit(read_only=True) as (_session, actor):
        actor.require("import")
    reports = [(Path(path).name, *read_report(path)) for path in paths]
    with unit(read_only=True) as (session, actor):
        checked = [import_status_report(session, actor, report, file_name=name, today=today,
                                        dry_run=True) for name, report, _digest in reports]
    if dry_run:
        return checked
    results = []
    for name, report, digest in reports:
        with unit() as (session, actor):
            results.append(import_status_report(session, actor, report, file_name=name,
                                                file_sha256=digest, today=today))
    return results
