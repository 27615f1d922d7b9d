"""Bills: amounts that are not known in advance (electricity, water), entered as they come.

Rules of this module:

- A handler enters a bill (``bill.add``) for a payee whom the client's plan pays by bills: the
  plan in force on the bill's due date (or today, for a bill already past due) must have a
  ``[[pay]]`` item with ``bills = true`` for that payee, paid by the account. The item gives the
  bill its kind (electricity, other …). Without one the bill is refused: a plan decides what the
  client's money is used for, a bill only says how much and when.
- A bill carries its own reference (Finnish or RF, check digits checked, stored with its
  ISO 20022 kind) or a message — exactly one of them, as EPC rules require. The message is
  stored in its payment form (``planfile.check_message``).
- The same bill is never entered twice: another bill of the same client to the same payee with
  the same reference (or message) and amount is refused, whatever its due date.
- Entering a bill is audited; listing a client's bills is a view of their data and is audited.
- The daily batch turns bills into obligations (``obligations.source = 'bill'``); the listing
  shows their state when it exists.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, ValidationError
from valitystili.base.i18n import _
from valitystili.base.identifiers import classify_reference
from valitystili.base.money import format_fi
from valitystili.people.clients import require_open, resolve_client
from valitystili.people.payees import resolve_payee
from valitystili.plans.planfile import check_message
from valitystili.plans.plans import plan_items
from valitystili.plans.versions import plan_in_force
from valitystili.store.models import Bill, Obligation, Payee
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def add_bill(session: Session, actor: Actor, client: str | int, *, payee: str | int,
             amount_cents: int, due_on: date, reference: str | None = None,
             message: str | None = None, today: date | None = None,
             notes: list[str] | None = None) -> dict:
    """Enter a bill; a message is stored in its payment form (``notes`` says when that differs)."""
    actor.require("bill.add")
    today = today or date.today()
    found = resolve_client(session, client, for_update=True)
    require_open(found)
    to = resolve_payee(session, payee)
    if amount_cents <= 0:
        raise ValidationError(_("bill amount must be more than {zero}").format(zero=format_fi(0)))
    reference = (reference or "").strip() or None
    message = message if message is not None and message.strip() else None
    if reference is not None and message is not None:
        raise ValidationError(_("give --reference or --message, not both"))
    if reference is None and message is None:
        raise ValidationError(_("give --reference or --message, so that {payee} can tell what "
                                "the payment is for").format(payee=to.name))
    reference_kind = None
    if reference is not None:
        reference_kind, reference = classify_reference(reference)
    else:
        message = check_message(message, _("bill"), notes)

    on = max(today, due_on)
    plan = plan_in_force(session, found.id, on)
    if plan is None:
        raise Conflict(_("client {client} has no approved plan in force on {day}; bills are "
                         "paid only under a plan's bills = true item").format(
                             client=found.id, day=format_fi_date(on)))
    item = next((i for i in plan_items(session, plan)
                 if i.bills and i.payee_id == to.id and i.paid_by == "account"), None)
    if item is None:
        raise Conflict(_("the plan of client {client} in force on {day} (version {version}) "
                         "pays no bills to {payee}: it needs a [[pay]] item with bills = true "
                         "for that payee").format(client=found.id, day=format_fi_date(on),
                                                  version=plan.version, payee=to.name))

    same = select(Bill).where(Bill.client_id == found.id, Bill.payee_id == to.id,
                              Bill.amount_cents == amount_cents)
    same = same.where(Bill.reference == reference) if reference is not None \
        else same.where(Bill.message == message)
    duplicate = session.execute(same.limit(1)).scalar_one_or_none()
    if duplicate is not None:
        raise Conflict((_("bill {bill} of client {client} to {payee} for {amount} with "
                          "reference {reference} is already entered (due {day})")
                        if reference is not None else
                        _("bill {bill} of client {client} to {payee} for {amount} with message "
                          "{message!r} is already entered (due {day})")).format(
            bill=duplicate.id, client=found.id, payee=to.name, amount=format_fi(amount_cents),
            reference=reference, message=message, day=format_fi_date(duplicate.due_on)))

    bill = Bill(client_id=found.id, payee_id=to.id, kind=item.kind, amount_cents=amount_cents,
                due_on=due_on, reference=reference, reference_kind=reference_kind,
                message=message, created_by=actor.name)
    session.add(bill)
    session.flush()
    row = _row(bill, to.name)
    audit.record(session, actor.name, "bill.add", client_id=found.id, subject=f"bill:{bill.id}",
                 detail={"old": None, "new": row})
    return row


def list_bills(session: Session, actor: Actor, client: str | int) -> list[dict]:
    """A client's bills, oldest due first, with the state of their obligation; audited."""
    actor.require("client.read")
    found = resolve_client(session, client)
    names = dict(session.execute(select(Payee.id, Payee.name)).all())
    bills = session.execute(
        select(Bill).where(Bill.client_id == found.id).order_by(Bill.due_on, Bill.id)
    ).scalars().all()
    obligations = {
        o.source_id: o for o in session.execute(
            select(Obligation).where(Obligation.client_id == found.id,
                                     Obligation.source == "bill")
        ).scalars()
    }
    rows = []
    for bill in bills:
        obligation = obligations.get(bill.id)
        rows.append({**_row(bill, names[bill.payee_id]),
                     "status": obligation.status if obligation is not None else "entered",
                     "paid_cents": obligation.paid_cents if obligation is not None else 0})
    audit.record(session, actor.name, "bill.view", client_id=found.id,
                 subject=f"client:{found.id}", detail={"bills": len(rows)})
    return rows


def _row(bill: Bill, payee_name: str) -> dict:
    return {"bill": bill.id, "client": bill.client_id, "payee": payee_name, "kind": bill.kind,
            "amount_cents": bill.amount_cents, "due_on": bill.due_on,
            "reference": bill.reference, "reference_kind": bill.reference_kind,
            "message": bill.message}
