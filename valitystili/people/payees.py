"""Payees: the landlords, utilities and others the account pays on a client's behalf.

Rules of this module:

- A payee has a unique name, an IBAN checked with its national check digit
  (:func:`identifiers.validate_iban`) and a BIC; when none is given it is derived from the IBAN
  (:func:`identifiers.bic_for_iban`), and an IBAN whose bank schwifty does not know simply has
  none (SEPA payments need no BIC).
- Plans, bills and leases name a payee by its name or its id (:func:`resolve_payee`). So that
  the two never collide, a payee's name may not consist of digits only.
- The name is checked where it enters (``text.clean_line``) and its payment form
  (``text.payment_name``: Latin, ISO-8859-15, at most 70 characters) is stored beside it as
  ``payment_name``; payment files use that, listings show it where it differs from the name, and
  a name that cannot be written in a payment file is refused here, not at export.
- Adding a payee is a change and is audited; payees are not client data, so listing them is not.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import _
from valitystili.base.identifiers import bic_for_iban, validate_bic, validate_iban
from valitystili.base.text import clean_line, payment_name
from valitystili.store.models import Payee
from valitystili.trust import audit
from valitystili.trust.auth import Actor

PAYEE_KINDS = ("landlord", "utility", "other")
MAX_NAME_LENGTH = 140   # the stored name; its payment form is at most text.MAX_PAYMENT_NAME_CHARS


def payee_row(payee: Payee) -> dict:
    return {"payee": payee.id, "name": payee.name,
            "payment_name": shown_payment_name(payee.name, payee.payment_name),
            "iban": payee.iban, "bic": payee.bic, "kind": payee.kind}


def shown_payment_name(name: str, payment: str) -> str | None:
    """The payment form as listings show it: only where it differs from the name."""
    return payment if payment != name else None


def check_name(text: str, what: str = "payee name") -> str:
    """A name as typed, with the one-line rule of ``text.clean_line``."""
    return clean_line(text, what, max_chars=MAX_NAME_LENGTH)


def add_payee(session: Session, actor: Actor, *, name: str, iban: str, kind: str = "other",
              bic: str | None = None, notes: list[str] | None = None) -> dict:
    """Register a payee; returns its row (``payee`` is the id). When payment files will carry
    the name in another form, ``notes`` gets a line saying so."""
    actor.require("payee.add")
    name = check_name(name)
    payment = payment_name(name, "payee name")
    if name.isdigit():
        raise ValidationError(_("payee name {name} must not be digits only (ids are digits)")
                              .format(name=repr(name)))
    if kind not in PAYEE_KINDS:
        raise ValidationError(_("payee kind {kind} is not one of {choices}").format(
            kind=repr(kind), choices=", ".join(PAYEE_KINDS)))
    iban = validate_iban(iban)
    bic = validate_bic(bic) if bic else bic_for_iban(iban)
    existing = session.execute(select(Payee.id).where(Payee.name == name)).scalar_one_or_none()
    if existing is not None:
        raise Conflict(_("payee {name} already exists (payee {payee})").format(
            name=repr(name), payee=existing))
    payee = Payee(name=name, payment_name=payment, iban=iban, bic=bic, kind=kind,
                  created_by=actor.name)
    session.add(payee)
    session.flush()
    row = payee_row(payee)
    audit.record(session, actor.name, "payee.add", subject=f"payee:{payee.id}",
                 detail={"old": None, "new": row})
    if payment != name and notes is not None:
        notes.append(_("payment files carry the payee name as {name}").format(
            name=repr(payment)))
    return row


def list_payees(session: Session, actor: Actor) -> list[dict]:
    actor.require("payee.list")
    return [payee_row(p) for p in session.execute(select(Payee).order_by(Payee.id)).scalars()]


def resolve_payee(session: Session, text: str | int) -> Payee:
    """The payee named by its id (digits) or name (exact, else its one case-insensitive match)."""
    if isinstance(text, int) and not isinstance(text, bool):
        payee = session.get(Payee, text)
        if payee is None:
            raise NotFound(_("unknown payee {payee}").format(payee=text))
        return payee
    if not isinstance(text, str):
        raise ValidationError(_("payee {payee} must be a name or an id").format(
            payee=repr(text)))
    wanted = " ".join(text.split())
    if wanted.isdigit():
        payee = session.get(Payee, int(wanted))
        if payee is None:
            raise NotFound(_("unknown payee {payee}").format(payee=wanted))
        return payee
    payee = session.execute(select(Payee).where(Payee.name == wanted)).scalar_one_or_none()
    if payee is not None:
        return payee
    # People type "vaasan asunnot oy"; accept it when it names exactly one payee. Compared in
    # Python: SQLite's lower() folds ASCII only, and "SÄHKÖ" must match "Sähkö" on both backends.
    folded = wanted.casefold()
    every = session.execute(select(Payee)).scalars().all()
    matches = [p for p in every if p.name.casefold() == folded]
    if not matches:  # "Lódz Asunnot" for "Łódź Asunnot": its payment form names it too
        matches = [p for p in every if p.payment_name.casefold() == folded]
    if len(matches) == 1:
        return matches[0]
    raise NotFound(_("unknown payee {payee}").format(payee=repr(wanted)))
