"""Money a handler moves by hand: a one-off payment (``pay``) and money in suspense returned
to its payer (``income refund``) — each an order in the next batch (DESIGN §6, §7, §11).

Rules of this module:

- ``request_payment`` records a **one-off payment** out of an open client's money: to the
  client's own account, or ``--to IBAN --name N`` to someone else (a surprise bill), with a
  message or a reference (never both, as every order). Never more than the client's money: the
  amount must fit in the balance less what draft orders and other waiting payments of the
  client already hold. A closed client is paid only by the final payout.
- ``refund_line`` returns one incoming line in **suspense** to its payer: the whole line, to
  the payer's account and name on the bank line (or ``--to``/``--name`` when the bank gave
  none). A line assigned to a client, split, or already being refunded is refused. The line
  becomes ``refunded`` at once (no one can assign it meanwhile) and its *unmatched income*
  flag resolves; its money stays in ``suspense`` until approval debits it there. A refund
  that comes back puts the money in suspense again (``statements.deciding``).
- A request is a ``manual_payments`` row, ``pending`` until the **next batch run** makes it an
  order (``order:manual:<id>``, or ``order:refund:<id>``), before the client's own payments of
  the day: the handler's decision comes first. The order's ``created_by`` is the handler who
  asked for it, so the batch's four-eyes rule makes someone else approve it; approval debits
  the client (a refund: ``suspense``), export writes it into the pain.001 like every order.
  A request the money no longer covers when the batch runs waits and raises
  *insufficient funds* (subject ``manual:<id>``).
- **Taken out** of a batch (``batch remove``, ``batch cancel``), a manual order is not made
  again: the request is ``withdrawn`` (a refund's line goes back to suspense). A handler asks
  again if it is still wanted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import ledger
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import (
    InsufficientFunds,
    ValidationError,
)
from valitystili.base.i18n import N_, Message, _
from valitystili.base.identifiers import bic_for_iban, classify_reference, validate_iban
from valitystili.base.money import format_fi
from valitystili.base.text import payment_name
from valitystili.flags.raising import FlagRaised, resolve_flags
from valitystili.payments.pain001 import order_id
from valitystili.people.clients import require_open, resolve_client
from valitystili.people.payees import check_name
from valitystili.plans.planfile import check_message
from valitystili.statements.income import suspense_line
from valitystili.store.models import (
    IN_SUSPENSE,
    REFUNDED,
    ManualPayment,
    PaymentOrder,
    StatementLine,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor

PENDING, ORDERED, WITHDRAWN = "pending", "ordered", "withdrawn"
#: The order kind of each request kind.
ORDER_KINDS = {"pay": "manual", "refund": "refund"}


@dataclass(frozen=True)
class Requested:
    """A payment a handler asked for, waiting for the next batch."""

    payment: int
    kind: str
    client: int | None
    line: int | None
    amount_cents: int
    payee: str
    iban: str
    reference: str | None
    message: str | None
    status: str
    created_by: str

    def row(self) -> dict:
        return asdict(self)


def requested(payment: ManualPayment) -> Requested:
    return Requested(payment.id, payment.kind, payment.client_id, payment.line_id,
                     payment.amount_cents, payment.creditor_name, payment.creditor_iban,
                     payment.reference, payment.message, payment.status, payment.created_by)


def checked_remittance(reference: str | None, message: str | None,
                       notes: list[str] | None) -> tuple[str | None, str | None, str | None]:
    """(reference, its ISO kind, message): exactly one of a reference and a message."""
    reference = (reference or "").strip() or None
    message = message if message is not None and message.strip() else None
    if reference is not None and message is not None:
        raise ValidationError(_("give --reference or --message, not both"))
    if reference is None and message is None:
        raise ValidationError(_("give --message (or --reference), so that the payee can tell "
                                "what the payment is for"))
    if reference is not None:
        kind, reference = classify_reference(reference)
        return reference, kind, None
    return None, None, check_message(message, _("payment"), notes)


def held_cents(session: Session, client_id: int) -> int:
    """What the client's draft orders and waiting payments hold of their balance."""
    drafts = session.execute(select(func.coalesce(func.sum(PaymentOrder.amount_cents), 0)).where(
        PaymentOrder.client_id == client_id, PaymentOrder.status == "draft")).scalar_one()
    waiting = session.execute(select(func.coalesce(func.sum(ManualPayment.amount_cents), 0))
                              .where(ManualPayment.client_id == client_id,
                                     ManualPayment.status == PENDING)).scalar_one()
    return int(drafts) + int(waiting)


def request_payment(session: Session, actor: Actor, client: str | int, *, amount_cents: int,
                    message: str | None = None, reference: str | None = None,
                    to_iban: str | None = None, to_name: str | None = None,
                    notes: list[str] | None = None) -> Requested:
    """A one-off payment out of the client's money, into the next batch (see the rules)."""
    actor.require("pay")
    if amount_cents <= 0:
        raise ValidationError(_("the amount must be more than {least}").format(
            least=format_fi(0)))
    reference, reference_kind, message = checked_remittance(reference, message, notes)
    if (to_iban is None) != (to_name is None):
        raise ValidationError(_("a payment to someone else needs both --to IBAN and --name NAME"))
    found = resolve_client(session, client, for_update=True)
    require_open(found)
    if to_iban is not None:
        iban = validate_iban(to_iban)
        name = check_name(to_name, _("payee name"))
        creditor = (name, payment_name(name, _("payee name")), iban, bic_for_iban(iban))
    else:
        creditor = (found.name, found.payment_name, found.iban, found.bic)
    balance = ledger.balance(session, found.ledger_code)
    held = held_cents(session, found.id)
    if amount_cents > balance - held:
        raise InsufficientFunds(
            _("client {client} has {free} to pay from (balance {balance}, {held} already waiting "
              "in draft orders and payments asked for); {amount} is more").format(
                client=found.id, free=format_fi(max(balance - held, 0)),
                balance=format_fi(balance), held=format_fi(held),
                amount=format_fi(amount_cents)))
    payment = ManualPayment(kind="pay", client_id=found.id, amount_cents=amount_cents,
                            creditor_name=creditor[0], creditor_payment_name=creditor[1],
                            creditor_iban=creditor[2], creditor_bic=creditor[3],
                            reference=reference, reference_kind=reference_kind, message=message,
                            status=PENDING, created_by=actor.name)
    session.add(payment)
    session.flush()
    result = requested(payment)
    audit.record(session, actor.name, "pay.request", client_id=found.id,
                 subject=f"manual:{payment.id}", detail=result.row())
    return result


def refund_line(session: Session, actor: Actor, line_id: int, *, to_iban: str | None = None,
                to_name: str | None = None, message: str | None = None,
                notes: list[str] | None = None, today: date | None = None) -> Requested:
    """Money in suspense back to its payer, into the next batch (see the rules)."""
    actor.require("income.refund")
    today = today or date.today()
    line = suspense_line(session, line_id, "refunded", underway=REFUNDED)
    iban = to_iban or line.counterparty_iban
    name = to_name or line.counterparty_name
    if not iban or not (name or "").strip():
        unnamed = (N_("line {line} does not name the payer's account: give --to IBAN --name "
                      "NAME") if not iban else
                   N_("line {line} does not name the payer's name: give --to IBAN --name NAME"))
        raise ValidationError(_(unnamed).format(line=line_id))
    iban = validate_iban(iban)
    name = check_name(name, _("payer name"))
    message = check_message(message or f"Palautus {format_fi_date(line.booked_on)}", _("refund"),
                            notes)
    payment = ManualPayment(kind="refund", line_id=line.id, amount_cents=line.amount_cents,
                            creditor_name=name, creditor_payment_name=payment_name(name,
                                                                                   _("payer name")),
                            creditor_iban=iban, creditor_bic=bic_for_iban(iban),
                            message=message, status=PENDING, created_by=actor.name)
    session.add(payment)
    line.state = REFUNDED
    session.flush()
    resolve_flags(session, "unmatched_income", today, subjects=[line.archive_id])
    result = requested(payment)
    audit.record(session, actor.name, "income.refund", subject=f"line {line.id}",
                 detail={"archive_id": line.archive_id, **result.row()})
    return result


# --- the batch's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A waiting request as the day's run reads it."""

    id: int
    kind: str
    client_id: int | None
    amount_cents: int
    creditor_payment_name: str
    creditor_iban: str
    creditor_bic: str | None
    reference: str | None
    reference_kind: str | None
    message: str | None
    created_by: str

    @property
    def order_key(self) -> str:
        return f"order:{ORDER_KINDS[self.kind]}:{self.id}"


def pending(session: Session) -> tuple[Pending, ...]:
    """The requests waiting for a batch, oldest first (few: a day's handwork)."""
    return tuple(Pending(row.id, row.kind, row.client_id, row.amount_cents,
                         row.creditor_payment_name, row.creditor_iban, row.creditor_bic,
                         row.reference, row.reference_kind, row.message, row.created_by)
                 for row in session.execute(
                     select(ManualPayment).where(ManualPayment.status == PENDING)
                     .order_by(ManualPayment.id)).scalars())


def decide(waiting: Iterable[Pending], available: dict[int, int]
           ) -> tuple[tuple[Pending, ...], dict[int, int], tuple[FlagRaised, ...]]:
    """Which requests the day's money covers (pure): (those paid, what they take from each
    client, *insufficient funds* notices for those that wait). A refund's money is in
    suspense, held for it since it was asked for."""
    paid, taken, notices = [], {}, []
    for request in waiting:
        if request.client_id is None:
            paid.append(request)
            continue
        if request.client_id not in available:
            continue
        left = available[request.client_id] - taken.get(request.client_id, 0)
        if request.amount_cents <= left:
            paid.append(request)
            taken[request.client_id] = taken.get(request.client_id, 0) + request.amount_cents
        else:
            notices.append(FlagRaised(
                "insufficient_funds", f"manual:{request.id}", request.client_id,
                request.amount_cents - max(left, 0),
                Message("payment {payment} of {amount} to {payee} waits: {available} available",
                        payment=request.id, amount=format_fi(request.amount_cents),
                        payee=request.creditor_payment_name,
                        available=format_fi(max(left, 0)))))
    return tuple(paid), taken, tuple(notices)


def order_rows(paid: Iterable[Pending], common: dict) -> list[dict]:
    """The day's order rows of the requests paid (``common``: the batch's shared columns)."""
    return [dict(common, key=request.order_key,
                 end_to_end_id=order_id(request.order_key, common["execution_on"]),
                 client_id=request.client_id, kind=ORDER_KINDS[request.kind],
                 creditor_name=request.creditor_payment_name,
                 creditor_iban=request.creditor_iban, creditor_bic=request.creditor_bic,
                 amount_cents=request.amount_cents, reference=request.reference,
                 reference_kind=request.reference_kind, message=request.message,
                 created_by=request.created_by)
            for request in paid]


def mark_ordered(session: Session, paid: Iterable[Pending]) -> None:
    """The stored orders carry the requests now (called after the orders are inserted)."""
    by_key = {request.order_key: request.id for request in paid}
    if not by_key:
        return
    for stored, key in session.execute(select(PaymentOrder.id, PaymentOrder.key).where(
            PaymentOrder.key.in_(list(by_key)))).all():
        session.execute(update(ManualPayment).where(ManualPayment.id == by_key[key])
                        .values(status=ORDERED, order_id=stored))


def taken_out(session: Session, order: PaymentOrder) -> None:
    """An order taken out of a batch: its request (if any) is withdrawn for good, and a
    refund's line is money in suspense again."""
    if order.kind not in ORDER_KINDS.values():
        return
    request = session.execute(select(ManualPayment).where(ManualPayment.order_id == order.id)
                              ).scalar_one_or_none()
    if request is None:
        return
    request.status = WITHDRAWN
    if request.line_id is not None:
        line = session.get(StatementLine, request.line_id)
        if line is not None and line.state == REFUNDED:
            line.state = IN_SUSPENSE
    session.flush()
