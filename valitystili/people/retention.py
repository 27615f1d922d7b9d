"""Retention: a closed client's personal data is anonymised once its time is up (DESIGN §10).

Rules of this module:

- **How long.** ``retention_years_after_closing`` (default 6: DESIGN §10 names no period, and
  six years is how long the accounting vouchers are kept, kirjanpitolaki 2:10 §; a county sets
  its own from its records plan). A client is *due* once that many years have passed since the
  day the service closed (``closed_on``), and it has not been anonymised yet.
- **Who, and when not.** An admin (``client.anonymise``). An open client is refused, and so is a
  closed one that still has money (balance ≠ 0: the final payout has not gone) or money moved
  by hand still waiting (a pending ``pay``): the tombstone would hide whom it belongs to.
- **What is replaced** by a tombstone (``TOMBSTONE``, the identity code by ``X`` and the client
  number, unique as the column needs): the client's name, payment name, identity code, IBAN,
  BIC and free texts (criterion reason); every text in the client's service records and IBAN
  changes; the closing notes and the payee named for a final payout; the creditor of the
  client's own payments (orders and payments by hand to the client's IBANs, and the final payout
  to the payee a closing named) and the counterparty
  of the client's statement lines when it is the client; in the messages of the client's
  orders, statement lines and flags (and flag comments), any occurrence of the name, identity
  code or IBAN; and the personal parts of the audit entries about the client
  (``trust.audit``: the entries and the chain stay as they were).
- **What stays**: the client number, reference and ledger account, every amount, date, order,
  statement line, flag and audit entry; ``ledger verify`` and ``audit verify`` hold afterwards.
- **The books carry no one's name but a registered payee's** (:func:`order_description`): the
  ledger's transactions are append-only (database triggers refuse UPDATE), so what a
  description says stays for good. An order to a payee (a landlord, a utility) is described
  with the payee's name; one to the client, to someone named for the client (a guardian or an
  estate at closing, a payment by hand) or a refund to a payer, without a name. Descriptions
  posted before this rule keep the name as posted (``docs/clients-and-plans.md``, retention).
- An order of the client still in a batch that has not gone to the bank (draft or approved)
  refuses the anonymisation: approval covers the order's creditor name (``order_digest``), and
  export would refuse the batch once the name is replaced.
- The anonymisation is one audit entry ``client.anonymise`` (no personal values: the closing
  date, how many audit parts were emptied, and how many entries from before revision 0011 still
  hold the client's details as written, ``legacy_entries``), and a ``client_anonymisations`` row.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

import ledger
from valitystili.base.errors import Conflict
from valitystili.base.i18n import N_, Message, _
from valitystili.base.identifiers import ANONYMISED, ANONYMISED_HETU_PREFIX
from valitystili.base.money import format_fi
from valitystili.people.clients import resolve_client
from valitystili.store.models import (
    AuditEntry,
    AuditPersonal,
    Bill,
    Client,
    ClientAnonymisation,
    ClientEdit,
    ClientRecord,
    Flag,
    ManualPayment,
    PaymentOrder,
    Plan,
    ServicePeriod,
    StatementLine,
)
from valitystili.store.settings import get_int
from valitystili.trust import audit
from valitystili.trust.auth import Actor

TOMBSTONE = ANONYMISED
RETENTION_KEY = "retention_years_after_closing"


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:                       # 29 February
        return day.replace(year=day.year + years, day=28)


class Refused(Conflict):
    """Why a client is not anonymised, in the current language; ``english`` keeps the English
    text, which :func:`anonymise_due` returns (a JSON result stays English)."""

    def __init__(self, message: str, **values):
        super().__init__(_(message).format(**values))
        self.english = message.format(**values)


def due(session: Session, actor: Actor, today: date | None = None) -> list[dict]:
    """The closed clients whose retention ran out by ``today``, not yet anonymised."""
    actor.require("client.anonymise")
    today = today or date.today()
    years = get_int(session, RETENTION_KEY)
    done = select(ClientAnonymisation.client_id)
    rows = []
    for client in session.execute(select(Client).where(
            Client.status == "closed", Client.closed_on.is_not(None),
            Client.id.not_in(done)).order_by(Client.id)).scalars():
        until = _years_later(client.closed_on, years)
        if until <= today:
            rows.append({"client": client.id, "closed_on": client.closed_on, "due_on": until,
                         "balance_cents": ledger.balance(session, client.ledger_code)})
    return rows


def anonymise(session: Session, actor: Actor, client: str | int) -> dict:
    """Replace the client's personal data by tombstones (see the module rules)."""
    actor.require("client.anonymise")
    found = resolve_client(session, client, for_update=True)
    done = session.get(ClientAnonymisation, found.id)
    if done is not None:
        raise Refused(N_("client {client} was anonymised already"), client=found.id)
    if found.status != "closed":
        raise Refused(N_("client {client} is open: close the service first"), client=found.id)
    balance = ledger.balance(session, found.ledger_code)
    if balance != 0:
        raise Refused(N_("client {client} still has money ({amount}): the final payout must go "
                         "first"), client=found.id, amount=format_fi(balance))
    waiting = session.execute(select(func.count()).select_from(ManualPayment).where(
        ManualPayment.client_id == found.id, ManualPayment.status == "pending")).scalar_one()
    if waiting:
        raise Refused(N_("client {client} has {count} payment(s) by hand waiting for a batch"),
                      client=found.id, count=waiting)
    unsent = session.execute(select(PaymentOrder.id, PaymentOrder.batch_id).where(
        PaymentOrder.client_id == found.id, PaymentOrder.status.in_(("draft", "approved")))
        .order_by(PaymentOrder.id).limit(1)).first()
    if unsent is not None:
        raise Refused(N_("client {client} has order {order} in batch {batch}, not yet sent to "
                         "the bank: export the batch (or take the order out) first"),
                      client=found.id, order=unsent.id, batch=unsent.batch_id)
    secrets_ = _secrets(session, found)
    ibans = {value for value in secrets_ if _looks_like_iban(value)}

    def scrub(text: str | None) -> str | None:
        if not text:
            return text
        for secret in sorted(secrets_, key=len, reverse=True):
            text = text.replace(secret, TOMBSTONE)
        return text

    # The client row.
    found.name = TOMBSTONE
    found.payment_name = TOMBSTONE
    found.hetu = f"{ANONYMISED_HETU_PREFIX}{found.id:010d}"
    found.iban = TOMBSTONE
    found.bic = None
    if found.criterion_reason:
        found.criterion_reason = TOMBSTONE
    # The service record and IBAN changes: every text.
    for record in session.execute(select(ClientRecord).where(
            ClientRecord.client_id == found.id)).scalars():
        record.detail = _tombstoned(record.detail)
    for edit in session.execute(select(ClientEdit).where(
            ClientEdit.client_id == found.id)).scalars():
        edit.old, edit.new = _tombstoned(edit.old), _tombstoned(edit.new)
    for period in session.execute(select(ServicePeriod).where(
            ServicePeriod.client_id == found.id)).scalars():
        for column in ("note", "payout_name", "payout_payment_name", "payout_iban"):
            if getattr(period, column):
                setattr(period, column, TOMBSTONE)
        period.payout_bic = None
    # Money records: the amounts stay, the client's own name and account go.
    for payment in session.execute(select(ManualPayment).where(
            ManualPayment.client_id == found.id)).scalars():
        if payment.creditor_iban in ibans:
            payment.creditor_name = payment.creditor_payment_name = TOMBSTONE
            payment.creditor_iban, payment.creditor_bic = TOMBSTONE, None
        payment.message = scrub(payment.message)
    for order in session.execute(select(PaymentOrder).where(
            PaymentOrder.client_id == found.id)).scalars():
        if order.payee_id is None and order.creditor_iban in ibans:
            order.creditor_name, order.creditor_iban, order.creditor_bic = TOMBSTONE, TOMBSTONE, None
        order.message = scrub(order.message)
    for line in session.execute(select(StatementLine).where(
            StatementLine.client_id == found.id)).scalars():
        if line.counterparty_iban in ibans or line.counterparty_name in secrets_:
            line.counterparty_name, line.counterparty_iban = TOMBSTONE, TOMBSTONE
        line.message = scrub(line.message)
        line.reference = scrub(line.reference)
    for plan in session.execute(select(Plan).where(Plan.client_id == found.id)).scalars():
        plan.source = scrub(plan.source)
        if plan.approved_despite:
            plan.approved_despite = TOMBSTONE
    for bill in session.execute(select(Bill).where(Bill.client_id == found.id)).scalars():
        bill.message = scrub(bill.message)
    for flag in session.execute(select(Flag).where(Flag.client_id == found.id)).scalars():
        flag.detail = scrub(flag.detail)
        if flag.detail_message is not None:    # its values are scrubbed as its text is
            flag.detail_message = Message.from_data(flag.detail_message).with_texts(scrub).data()
        flag.ack_comment = scrub(flag.ack_comment)
    # The audit trail: the personal parts of the entries about the client.
    emptied = session.execute(update(AuditPersonal).where(
        AuditPersonal.client_id == found.id, AuditPersonal.personal.is_not(None))
        .values(personal=None)).rowcount
    legacy = session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.client_id == found.id,
        AuditEntry.hash.not_in(select(AuditPersonal.entry_hash)),
        or_(*(AuditEntry.detail.contains(f'"{key}":') for key in ("name", "iban")))
    )).scalar_one()
    session.add(ClientAnonymisation(client_id=found.id, anonymised_by=actor.name))
    session.flush()
    detail = {"closed_on": found.closed_on.isoformat(), "audit_parts": emptied,
              "legacy_entries": legacy}
    audit.record(session, actor.name, "client.anonymise", client_id=found.id,
                 subject=f"client:{found.id}", detail=detail)
    return {"client": found.id, "anonymised": True, **detail}


def anonymise_due(session: Session, actor: Actor, today: date | None = None) -> list[dict]:
    """Anonymise every due client that may be (one with money is listed with why not)."""
    rows = []
    for row in due(session, actor, today):
        if row["balance_cents"] != 0:
            rows.append({**row, "anonymised": False, "why_not": "money on the account"})
            continue
        with session.begin_nested():
            try:
                anonymise(session, actor, row["client"])
            except Conflict as refused:
                why_not = getattr(refused, "english", str(refused))
                rows.append({**row, "anonymised": False, "why_not": why_not})
                continue
        rows.append({**row, "anonymised": True, "why_not": None})
    return rows


#: How the books name an order paid to no registered payee, by its kind.
UNNAMED_ORDERS = {"instalment": "instalment to the client",
                  "final": "final payout for the client",
                  "manual": "payment by hand for the client",
                  "refund": "refund to the payer"}


def order_description(order) -> str:
    """How the ledger describes a payment order (see the module rules): ``rent to Vaasan
    Asunnot Oy``, ``instalment to the client``, ``refund to the payer``."""
    if order.payee_id is not None:
        return f"{order.kind} to {order.creditor_name}"
    return UNNAMED_ORDERS.get(order.kind, f"{order.kind} for the client")


def _secrets(session: Session, client: Client) -> set[str]:
    """The client's name, identity code and every IBAN the client has had (and the payee a
    closing named for the final payout)."""
    found = {client.name, client.payment_name, client.hetu, client.iban}
    for period in session.execute(select(ServicePeriod).where(
            ServicePeriod.client_id == client.id)).scalars():
        found.update((period.payout_name, period.payout_payment_name, period.payout_iban))
    for old, new in session.execute(select(ClientEdit.old, ClientEdit.new).where(
            ClientEdit.client_id == client.id)):
        for value in (*(old or {}).values(), *(new or {}).values()):
            if isinstance(value, str) and _looks_like_iban(value):
                found.add(value)
    return {value for value in found if value and len(value) >= 4}


def _looks_like_iban(value: str) -> bool:
    return len(value) >= 15 and value[:2].isalpha() and value[2:4].isdigit()


#: Keys of a record's fields that are the service's, not the client's (kept as they are).
KEPT_KEYS = frozenset({"worker", "criterion", "kind", "field"})


def _tombstoned(value, key: str = ""):
    """Every text of a record's fields replaced, except dates and the service's own keys."""
    if isinstance(value, dict):
        return {k: _tombstoned(inner, k) for k, inner in value.items()}
    if isinstance(value, list):
        return [_tombstoned(inner, key) for inner in value]
    if isinstance(value, str) and value and key not in KEPT_KEYS and not _is_date(value):
        return TOMBSTONE
    return value


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
