"""Changing a client's details: ``client edit`` and the second person's approval of an IBAN.

Rules of this module:

- What may change: the IBAN, the name, the language, the responsible worker, the next
  review date and the term's last day (``EDITABLE``); the identity code, references and
  criterion never here (a decision record may change the criterion: ``people.records``).
- **The last day** (``--until``) is the handler's decision (``client.extend``), with its
  ``--reason``: it extends or shortens the term, checked and applied by ``people.terms`` (not
  in the past, after the start, 3–6 months for ``rent_debt_fixed_term``; shortening cancels the
  obligations after the new end). It is not four-eyes: it changes when the money goes, never
  where (``people.terms``).
- Every value is checked as at opening (IBAN check digits, a name a payment file can carry, a
  registered social worker, a review date not in the past) before anything is written; a value
  equal to the stored one is no change, and an edit that changes nothing is refused. A closed
  client is not edited.
- The name, language, worker, review date and last day change at once; one audit entry
  ``client.edit`` holds each changed field before and after (and, for the last day, the reason
  and the obligations cancelled or left open).
- **The IBAN is four-eyes, like a plan**: ``client edit --iban`` stores the change as waiting
  (``client_edits``, audit ``client.edit.propose``); another person — a handler who did not
  propose it — approves it (``client edit-approve``, audit ``client.edit.approve``) and only
  then is it the client's IBAN (with the BIC its bank code gives), so the next batch pays
  instalments to it. One change waits at a time per client. A handler rejects a waiting change,
  or the person who proposed it withdraws it (``client edit-reject``, with a reason). Approval
  is refused when the IBAN stored is no longer the one the change was made against.
- A review date set here is the client's next review until a newer plan version names one:
  ``clients.review_plan_version`` keeps the newest plan version at the time
  (``clients.next_review``).
- Listing the waiting changes is a view of those clients' data (``access.record_view``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date as fi
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import _
from valitystili.base.identifiers import bic_for_iban, format_iban, validate_iban
from valitystili.base.text import payment_name
from valitystili.people import terms
from valitystili.people.clients import (
    _check_review,
    _check_worker,
    resolve_client,
    utc_text,
)
from valitystili.people.payees import check_name
from valitystili.people.terms import next_review  # noqa: F401  (the flags read it here)
from valitystili.store.models import LANGUAGES, Client, ClientEdit, Plan
from valitystili.store.settings import free_text
from valitystili.trust import access, audit
from valitystili.trust.auth import Actor

EDITABLE = ("iban", "name", "language", "worker", "review", "until")
PENDING = "pending"


def _require_open(client: Client) -> None:
    if client.status != "open":
        if client.closed_on:
            raise ValidationError(_("client {client} was closed on {day}: a closed client's "
                                    "details are not changed").format(
                client=client.id, day=fi(client.closed_on)))
        raise ValidationError(_("client {client} was closed: a closed client's details are not "
                                "changed").format(client=client.id))


def edit_client(session: Session, actor: Actor, client: str | int, *, iban: str | None = None,
                name: str | None = None, language: str | None = None,
                worker: str | None = None, review_on: date | None = None,
                until_on: date | None = None, reason: str | None = None,
                today: date | None = None, notes: list[str] | None = None) -> list[dict]:
    """Change the client's details; returns one row per field changed or waiting."""
    actor.require("client.edit")
    today = today or date.today()
    if all(value is None for value in (iban, name, language, worker, review_on, until_on)):
        raise ValidationError(_("give what to change: --iban, --name, --language, --worker, "
                                "--review or --until"))
    if until_on is not None:
        actor.require("client.extend")
        reason = free_text(session, reason, "--reason")
    elif reason is not None:
        raise ValidationError(_("--reason goes with --until: it is the handler's decision on "
                                "the term"))
    found = resolve_client(session, client, for_update=True)
    _require_open(found)
    old: dict = {}
    new: dict = {}
    if name is not None:
        name = check_name(name, "client name")
        payment = payment_name(name, "client name")
        if name != found.name:
            old["name"], new["name"] = found.name, name
            if payment != found.payment_name:
                old["payment_name"], new["payment_name"] = found.payment_name, payment
    if language is not None:
        if language not in LANGUAGES:
            raise ValidationError(_("language {language} is not one of {choices}").format(
                language=repr(language), choices=", ".join(LANGUAGES)))
        if language != found.language:
            old["language"], new["language"] = found.language, language
    if worker is not None:
        _check_worker(session, worker)
        if worker != found.worker:
            old["worker"], new["worker"] = found.worker, worker
    if review_on is not None:
        _check_review(review_on, today)
        newest = session.execute(select(func.max(Plan.version))
                                 .where(Plan.client_id == found.id)).scalar_one() or 0
        if review_on != found.review_on or found.review_plan_version != newest:
            old["review_on"], new["review_on"] = found.review_on, review_on
            found.review_plan_version = newest
    if until_on is not None:
        terms.check_end(found, until_on, today)
        if until_on != found.until_on:
            old["until_on"], new["until_on"] = found.until_on, until_on
    proposal = None
    if iban is not None:
        iban = validate_iban(iban)
        if iban != found.iban:
            proposal = _propose_iban(session, actor, found, iban)
    if not new and proposal is None:
        raise ValidationError(_("nothing to change: client {client} already has these details")
                              .format(client=found.id))
    if new:
        _apply(session, actor, found, old, new, reason, notes)
    rows = [{"client": found.id, "field": key, "old": old[key], "new": value,
             "status": "changed", "edit": None}
            for key, value in new.items() if key != "payment_name"]
    if proposal is not None:
        rows.append({"client": found.id, "field": "iban", "old": format_iban(proposal.old["iban"]),
                     "new": format_iban(proposal.new["iban"]),
                     "status": "waiting for approval", "edit": proposal.id})
    return rows


def _apply(session: Session, actor: Actor, found: Client, old: dict, new: dict,
           reason: str | None, notes: list[str] | None) -> None:
    """Store the changed fields and write the one ``client.edit`` entry."""
    for key, value in new.items():
        if key != "until_on":
            setattr(found, key, value)
    session.flush()
    detail: dict = {"old": old, "new": new}
    if "until_on" in new:
        term = terms.change_end(session, found, new["until_on"])
        detail.update(reason=reason, **term.detail())
        if notes is not None:
            notes.extend(term.notes())
    audit.record(session, actor.name, "client.edit", client_id=found.id,
                 subject=f"client:{found.id}", detail=detail)
    if "payment_name" in new and new["payment_name"] != new["name"] and notes is not None:
        notes.append(_("payment files carry the client's name as {name}").format(
            name=repr(new["payment_name"])))


def _propose_iban(session: Session, actor: Actor, client: Client, iban: str) -> ClientEdit:
    waiting = session.execute(select(ClientEdit.id).where(
        ClientEdit.client_id == client.id, ClientEdit.status == PENDING)).scalar_one_or_none()
    if waiting is not None:
        raise Conflict(_("client {client} already has an IBAN change waiting for approval (edit "
                         "{edit}); approve or reject it first").format(client=client.id,
                                                                       edit=waiting))
    edit = ClientEdit(client_id=client.id, field="iban",
                      old={"iban": client.iban, "bic": client.bic},
                      new={"iban": iban, "bic": bic_for_iban(iban)},
                      status=PENDING, proposed_by=actor.name)
    session.add(edit)
    session.flush()
    audit.record(session, actor.name, "client.edit.propose", client_id=client.id,
                 subject=f"client_edit:{edit.id}",
                 detail={"field": "iban", "old": edit.old, "new": edit.new})
    return edit


def _waiting(session: Session, edit_id: int) -> tuple[ClientEdit, Client]:
    edit = session.execute(select(ClientEdit).where(ClientEdit.id == edit_id)
                           .with_for_update()).scalar_one_or_none()
    if edit is None:
        raise NotFound(_("no client edit {edit}").format(edit=edit_id))
    if edit.status != PENDING:
        raise Conflict(_("edit {edit} is already {status} (by {name})").format(
            edit=edit.id, status=edit.status, name=edit.decided_by))
    return edit, resolve_client(session, edit.client_id, for_update=True)


def approve_edit(session: Session, actor: Actor, edit_id: int) -> dict:
    """The second person's approval: the new IBAN becomes the client's (audited)."""
    actor.require("client.edit.approve")
    edit, client = _waiting(session, edit_id)
    _require_open(client)
    if edit.proposed_by == actor.name:
        raise Conflict(_("four-eyes: {name} proposed edit {edit}; another handler must approve "
                         "it").format(name=actor.name, edit=edit.id))
    if client.iban != edit.old["iban"]:
        raise Conflict(_("edit {edit} was made against IBAN {old}, but client {client} now has "
                         "{iban}; reject it and propose the change again").format(
            edit=edit.id, old=format_iban(edit.old["iban"]), client=client.id,
            iban=format_iban(client.iban)))
    client.iban, client.bic = edit.new["iban"], edit.new["bic"]
    edit.status, edit.decided_by = "approved", actor.name
    edit.decided_at = datetime.now(UTC)
    session.flush()
    audit.record(session, actor.name, "client.edit.approve", client_id=client.id,
                 subject=f"client_edit:{edit.id}",
                 detail={"old": edit.old, "new": edit.new, "proposed_by": edit.proposed_by})
    return edit_row(edit)


def reject_edit(session: Session, actor: Actor, edit_id: int, *, reason: str | None) -> dict:
    """A handler rejects a waiting change, or its proposer withdraws it (audited)."""
    reason = free_text(session, reason, "--reason")
    edit, client = _waiting(session, edit_id)
    if edit.proposed_by == actor.name:
        status = "withdrawn"
    else:
        actor.require("client.edit.approve")
        status = "rejected"
    edit.status, edit.decided_by = status, actor.name
    edit.decided_at = datetime.now(UTC)
    session.flush()
    action = "client.edit.withdraw" if status == "withdrawn" else "client.edit.reject"
    audit.record(session, actor.name, action, client_id=client.id, subject=f"client_edit:{edit.id}",
                 detail={"old": edit.old, "new": edit.new, "reason": reason})
    return edit_row(edit)


def list_edits(session: Session, actor: Actor, client: str | int | None = None, *,
               all_statuses: bool = False) -> list[dict]:
    """Changes waiting for approval (or all), oldest first; a view of those clients' data."""
    actor.require("client.read")
    query = select(ClientEdit).order_by(ClientEdit.id)
    client_id = None
    if client is not None:
        client_id = resolve_client(session, client).id
        query = query.where(ClientEdit.client_id == client_id)
    if not all_statuses:
        query = query.where(ClientEdit.status == PENDING)
    rows = [edit_row(edit) for edit in session.execute(query).scalars()]
    shown = {row["client"] for row in rows} | ({client_id} if client_id is not None else set())
    access.record_view(session, actor, "client.edits.view", shown,
                       subject=f"client:{client_id}" if client_id is not None else "client_edits",
                       detail={"edits": len(rows), "all": all_statuses})
    return rows


def edit_row(edit: ClientEdit) -> dict:
    return {"edit": edit.id, "client": edit.client_id, "field": edit.field,
            "old": format_iban(edit.old["iban"]), "new": format_iban(edit.new["iban"]),
            "status": edit.status, "proposed_by": edit.proposed_by,
            "proposed_at": utc_text(edit.proposed_at), "decided_by": edit.decided_by,
            "decided_at": utc_text(edit.decided_at)}
