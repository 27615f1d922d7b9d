"""Flags: conditions a person should look at. They open, can be acknowledged with a comment,
and resolve themselves when the condition clears.

Listing flags is a view of the clients they concern and is recorded (``access.record_view``).

A flag is identified by (kind, subject) — e.g. ("arrears", "rent:12:2026-11") — so raising the
same condition again refreshes ``last_seen`` instead of adding a row. A resolved flag that
comes back is reopened (its acknowledgement is cleared: the situation is new).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.errors import NotFound, ValidationError
from valitystili.store.models import Flag
from valitystili.store.settings import free_text
from valitystili.trust import access
from valitystili.trust.auth import Actor

KINDS = (
    "arrears", "insufficient_funds", "income_missing", "income_changed", "unmatched_income",
    "unmatched_debit", "payment_returned", "uncleared_payment", "review_due", "review_overdue",
    "fixed_term_ending", "lease_ending", "funds_accumulating", "reconciliation_mismatch",
    "closed_client_income",   # raised by the import: money for a client whose service is closed
)


def raise_flag(session: Session, kind: str, subject: str, on: date, *, client_id: int | None = None,
               amount_cents: int | None = None, detail: str = "") -> Flag:
    flag = session.execute(
        select(Flag).where(Flag.kind == kind, Flag.subject == subject)
    ).scalar_one_or_none()
    if flag is None:
        flag = Flag(kind=kind, subject=subject, client_id=client_id, amount_cents=amount_cents,
                    detail=detail, first_seen=on, last_seen=on)
        session.add(flag)
    else:
        if flag.resolved_at is not None:
            flag.resolved_at = None
            flag.first_seen = on
            flag.ack_by = flag.ack_at = flag.ack_comment = None
        flag.last_seen = max(flag.last_seen, on)
        flag.amount_cents = amount_cents
        flag.detail = detail
    session.flush()
    return flag


def resolve_flags(session: Session, kind: str, on: date, *, keep: Iterable[str] = (),
                  subjects: Iterable[str] | None = None, client_ids: Iterable[int] | None = None) -> int:
    """Resolve open flags of ``kind`` except those whose subject is in ``keep``.

    ``subjects`` / ``client_ids`` limit which flags are considered at all (a batch only judges
    the clients it looked at). Returns how many were resolved.
    """
    keep = set(keep)
    query = select(Flag).where(Flag.kind == kind, Flag.resolved_at.is_(None))
    if subjects is not None:
        query = query.where(Flag.subject.in_(list(subjects)))
    if client_ids is not None:
        query = query.where(Flag.client_id.in_(list(client_ids)))
    count = 0
    for flag in session.execute(query).scalars():
        if flag.subject not in keep:
            flag.resolved_at = on
            count += 1
    session.flush()
    return count


def list_flags(session: Session, actor: Actor, *, kind: str | None = None,
               client_id: int | None = None, include_resolved: bool = False) -> list[dict]:
    """The flags (open ones unless ``include_resolved``), oldest first.

    The listing is a view of the clients whose flags it shows (and of ``client_id``, whose
    flags were asked for even when there are none): one ``flags.view`` entry
    (``access.record_view``).
    """
    actor.require("flags.read")
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"unknown flag kind {kind!r}; known: {', '.join(KINDS)}")
    query = select(Flag).order_by(Flag.id)
    if not include_resolved:
        query = query.where(Flag.resolved_at.is_(None))
    if kind:
        query = query.where(Flag.kind == kind)
    if client_id is not None:
        query = query.where(Flag.client_id == client_id)
    rows = [flag_row(f) for f in session.execute(query).scalars()]
    shown = {row["client"] for row in rows if row["client"] is not None}
    if client_id is not None:
        shown.add(client_id)
    access.record_view(session, actor, "flags.view", shown,
                       subject="flags" if client_id is None else f"client:{client_id}",
                       detail={"kind": kind, "resolved_included": include_resolved,
                               "flags": len(rows)})
    return rows


def flag_row(flag: Flag) -> dict:
    return {
        "flag": flag.id, "kind": flag.kind, "client": flag.client_id, "subject": flag.subject,
        "amount_cents": flag.amount_cents, "detail": flag.detail,
        "first_seen": flag.first_seen, "last_seen": flag.last_seen,
        "resolved": flag.resolved_at, "ack_by": flag.ack_by, "ack_comment": flag.ack_comment,
    }


def acknowledge(session: Session, actor: Actor, flag_id: int, comment: str) -> dict:
    actor.require("flags.ack")
    if comment is None or not comment.strip():
        raise ValidationError("an acknowledgement needs a comment")
    comment = free_text(session, comment, "comment", multiline=True)
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise NotFound(f"no flag {flag_id}")
    flag.ack_by = actor.name
    flag.ack_at = datetime.now(timezone.utc)
    flag.ack_comment = comment
    session.flush()
    from valitystili.trust import audit

    audit.record(session, actor.name, "flag.ack", client_id=flag.client_id,
                 subject=f"flag {flag.id}", detail={"kind": flag.kind, "comment": flag.ack_comment})
    return flag_row(flag)
