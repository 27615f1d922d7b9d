"""The client's service file (``client show``): who the client is, the service's periods and
records, the plan in force, the money, the leases, and what waits for a person.

Rules of this module:

- It reads across the service (the client, its periods, the service record, the ledger
  balance, the plan version in force and any version waiting for a decision, the leases, the
  open flags and the details waiting for approval), so it sits above them.
- The card's own fields come first and keep their names; the file's lists follow:
  ``periods`` (``people.periods``), ``records`` (every record, superseded ones too, each with
  how it stands: ``people.records``), ``leases``, ``open_flags`` and ``pending_edits``.
- The review date shown is the plan in force's, unless ``client edit --review`` or a decision
  record set one after that version (``edits.next_review``). ``decision_in_force`` names the
  decision record in force (the newest that stands): the client's last day, review date and
  criterion follow it when it is recorded (``people.terms``).
- Showing it is one view in the access log (``client.view``, or ``client.view_hetu`` with the
  identity code in clear): the lists inside it are not logged again one by one.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.identifiers import format_iban, format_reference, mask_hetu
from valitystili.flags.raising import shown_detail
from valitystili.people import periods
from valitystili.people.clients import (
    EXCLUSIONS,
    answer_text,
    format_rf,
    resolve_client,
)
from valitystili.people.edits import edit_row
from valitystili.people.leases import lease_row, leases_of
from valitystili.people.payees import shown_payment_name
from valitystili.people.records import record_row, records_of
from valitystili.people.terms import next_review
from valitystili.plans.versions import plan_in_force
from valitystili.store.models import ClientEdit, Flag, Payee, Plan
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: The lists of the service file, in the order they are shown after the card.
SECTIONS = ("periods", "records", "leases", "open_flags", "pending_edits")


def show_client(session: Session, actor: Actor, client: str | int, *, show_hetu: bool = False,
                today: date | None = None) -> dict:
    """One client's service file; the view is audited."""
    actor.require("client.read")
    if show_hetu:
        actor.require("client.hetu")
    today = today or date.today()
    found = resolve_client(session, client)
    in_force = plan_in_force(session, found.id, today)
    latest = session.execute(
        select(Plan).where(Plan.client_id == found.id).order_by(Plan.version.desc()).limit(1)
    ).scalar_one_or_none()
    pending = latest.version if latest is not None and latest.approved_by is None else None
    answers = found.exclusions or {}
    review_on = next_review(found, in_force.version if in_force is not None else None,
                            in_force.review_on if in_force is not None else None)
    row = {
        "client": found.id,
        "name": found.name,
        "payment_name": shown_payment_name(found.name, found.payment_name),
        "hetu": found.hetu if show_hetu else mask_hetu(found.hetu),
        "reference": format_reference(found.reference),
        "rf_reference": format_rf(found.rf_reference),
        "status": found.status,
        "criterion": found.criterion,
        "criterion_reason": found.criterion_reason,
        "worker": found.worker,
        "language": found.language,
        "iban": format_iban(found.iban),
        "bic": found.bic,
        "start_on": found.start_on,
        "until_on": found.until_on,
        "review_on": review_on,
        "closed_on": found.closed_on,
        "final_payout": found.final_payout,
        **{key: answer_text(answers.get(key)) for key in EXCLUSIONS},
        "despite": answers.get("despite"),
        "balance_cents": ledger.balance(session, found.ledger_code),
        "plan_in_force": in_force.version if in_force is not None else None,
        "plan_effective_on": in_force.effective_on if in_force is not None else None,
        "plan_pending": pending,
        "opened_by": found.created_by,
        "decision_in_force": decision_in_force(session, found.id),
        **_sections(session, found.id, found, today),
    }
    audit.record(session, actor.name, "client.view_hetu" if show_hetu else "client.view",
                 client_id=found.id, subject=f"client:{found.id}",
                 detail={"hetu_shown": show_hetu})
    return row


def decision_in_force(session: Session, client_id: int) -> int | None:
    """The record number of the decision in force: the newest that stands (as the decision
    text takes it, ``people.decisions``); None before a decision is recorded."""
    standing = [kept.record.id for kept in records_of(session, client_id, "decision")
                if kept.superseded_by is None]
    return standing[-1] if standing else None


def _sections(session: Session, client_id: int, found, today: date) -> dict:
    names = dict(session.execute(select(Payee.id, Payee.name)).all())
    flags = session.execute(select(Flag).where(Flag.client_id == client_id,
                                               Flag.resolved_at.is_(None))
                            .order_by(Flag.id)).scalars()
    edits = session.execute(select(ClientEdit).where(ClientEdit.client_id == client_id,
                                                     ClientEdit.status == "pending")
                            .order_by(ClientEdit.id)).scalars()
    return {
        "periods": [period.row() for period in periods.periods_of(session, found)],
        "records": [_record(kept.record, kept.superseded_by, today)
                    for kept in records_of(session, client_id)],
        "leases": [lease_row(lease, names[lease.payee_id])
                   for lease in leases_of(session, client_id)],
        "open_flags": [{"flag": flag.id, "kind": flag.kind, "amount_cents": flag.amount_cents,
                        "first_seen": flag.first_seen, "detail": shown_detail(flag),
                        "ack_by": flag.ack_by} for flag in flags],
        "pending_edits": [edit_row(edit) for edit in edits],
    }


def _record(record, superseded_by: int | None, today: date) -> dict:
    row = record_row(record, superseded_by, today)
    return {key: row[key] for key in ("record", "kind", "dated_on", "summary", "state",
                                      "supersedes", "recorded_by", "detail", "start_on",
                                      "end_on", "review_on")}
