"""Flags: conditions a person should look at. They open, can be acknowledged with a comment,
and resolve themselves when the condition clears.

Listing flags is a view of the clients they concern and is recorded (``access.record_view``).
Only an open flag is acknowledged: a resolved one is refused (``Conflict``, exit 2), saying
when it resolved.

A flag's detail is stored in English (what JSON shows) and, when it is a ``base.i18n.Message``,
as that message with its values too (``detail_message``), so that a person reads it in their
own language (:func:`shown_detail`).

A flag is identified by (kind, subject) — e.g. ("arrears", "rent:12:2026-11") — so raising the
same condition again refreshes ``last_seen`` instead of adding a row. A resolved flag that
comes back is reopened (its acknowledgement is cleared: the situation is new).

Every flag is written here: whoever raises one (the nightly conditions, the batch, the import,
reconcile) tells it as a ``FlagRaised`` and calls ``raise_flags`` (``raise_flag`` for one), and
resolves with ``resolve_flags``. Flags are written with SQL, in bulk; a copy of a flag already
loaded in the session is expired so that it reads what was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import N_, Message, _
from valitystili.base.money import format_fi
from valitystili.store.chunks import chunks, member_of
from valitystili.store.models import Client, Flag
from valitystili.store.settings import free_text
from valitystili.trust import access
from valitystili.trust.auth import Actor

KINDS = (
    "arrears", "insufficient_funds", "income_missing", "income_changed", "unmatched_income",
    "unmatched_debit", "payment_returned", "uncleared_payment", "review_due", "review_overdue",
    "fixed_term_ending", "lease_ending", "funds_accumulating", "reconciliation_mismatch",
    "closed_client_income",   # no longer raised: income_after_closing is the one flag for it
    "income_after_closing",   # money for a closed client: raised by the import (or by the
                              # assignment), kept by the nightly refresh while booked after
                              # the close date
    "consent_withdrawn", "lease_rent_differs",   # the service record (flags.service_record)
    "payment_demand_ends",    # a closed client's EV 241N not yet ended (flags.closing)
    "payment_rejected",       # the bank refused a payment of ours (pain.002)
)

FLAGS = Flag.__table__


@dataclass(frozen=True)
class FlagRaised:
    """A flag to raise (or keep open): a condition of ``kind`` holds on ``subject``.

    What the nightly conditions find, what the batch could not pay and what an import could not
    place are all told as these, and written by ``raise_flags``."""

    kind: str
    subject: str
    client_id: int | None = None
    amount_cents: int | None = None
    detail: str = ""             # a Message where a person reads it in their language


#: An obligation's kind as a flag's detail names it (in English, the kind itself).
OBLIGATION_WORDS = {"rent": N_("rent"), "electricity": N_("electricity"), "other": N_("other")}


def _obligation_word(kind: str) -> Message | str:
    return Message(OBLIGATION_WORDS[kind]) if kind in OBLIGATION_WORDS else kind


def arrears_detail(kind: str, due_on: date, days: int) -> Message:
    """An *arrears* flag's detail: ``rent due 2026-11-02 unpaid, 8 days past due``."""
    return Message("{kind} due {day} unpaid, {days} days past due", kind=_obligation_word(kind),
                   day=due_on.isoformat(), days=days)


def short_detail(kind: str, due_on: date, short_cents: int, amount_cents: int) -> Message:
    """An *insufficient_funds* flag's detail: ``rent due 2026-11-02: 50,00 € short of …``."""
    return Message("{kind} due {day}: {short} short of {amount}", kind=_obligation_word(kind),
                   day=due_on.isoformat(), short=format_fi(short_cents),
                   amount=format_fi(amount_cents))


def _detail(flag: FlagRaised) -> dict:
    """The stored columns of a flag's detail: the English text, and the message when it is one."""
    message = flag.detail.data() if isinstance(flag.detail, Message) else None
    return {"detail": str(flag.detail), "detail_message": message}


def shown_detail(flag: Flag) -> str:
    """A stored flag's detail: a ``Message`` whose text is the English as stored (JSON, CSV)
    and which a table shows in its reader's language; plain text when stored as such."""
    if flag.detail_message is None:
        return flag.detail
    return Message.from_data(flag.detail_message, english=flag.detail)


def raise_flags(session: Session, flags: Iterable[FlagRaised], on: date) -> None:
    """Raise each flag as of ``on``: a new row, or the stored one refreshed (``last_seen``, amount
    and detail) and, when it had resolved, reopened with its acknowledgement cleared.

    A flag given twice counts once (the last one given wins); new flags are stored in the order
    given. Written with a few statements however many flags there are (bulk-capable for the
    import and the nightly refresh); flags already loaded in the session are expired."""
    wanted = {(flag.kind, flag.subject): flag for flag in flags}
    if not wanted:
        return
    session.flush()                     # pending changes to loaded flags are seen below
    existing = {}
    subjects = sorted({subject for _kind, subject in wanted})
    for part in chunks(subjects):
        for row in session.execute(
                select(FLAGS.c.id, FLAGS.c.kind, FLAGS.c.subject, FLAGS.c.resolved_at,
                       FLAGS.c.last_seen).where(member_of(session, FLAGS.c.subject, part))):
            if (row.kind, row.subject) in wanted:
                existing[(row.kind, row.subject)] = row
    refreshed, reopened, new = [], [], []
    for ident, flag in wanted.items():
        row = existing.get(ident)
        if row is None:
            new.append({"kind": flag.kind, "subject": flag.subject, "client_id": flag.client_id,
                        "amount_cents": flag.amount_cents, **_detail(flag),
                        "first_seen": on, "last_seen": on})
            continue
        values = {"flag_id": row.id, "last_seen": max(row.last_seen, on),
                  "amount_cents": flag.amount_cents, **_detail(flag)}
        if row.resolved_at is None:
            refreshed.append(values)
        else:                           # the condition is back: a new situation
            reopened.append({**values, "resolved_at": None, "first_seen": on, "ack_by": None,
                             "ack_at": None, "ack_comment": None})
    by_id = update(FLAGS).where(FLAGS.c.id == bindparam("flag_id"))
    for rows in (refreshed, reopened):
        if rows:
            session.execute(by_id, rows)
    if new:
        session.execute(insert(FLAGS), new)
    _expire_loaded(session, [row.id for row in existing.values()])


def raise_flag(session: Session, kind: str, subject: str, on: date, *, client_id: int | None = None,
               amount_cents: int | None = None, detail: str = "") -> Flag:
    """Raise one flag (``raise_flags``); returns it as stored."""
    raise_flags(session, [FlagRaised(kind, subject, client_id, amount_cents, detail)], on)
    return session.execute(
        select(Flag).where(Flag.kind == kind, Flag.subject == subject)).scalar_one()


def resolve_flags(session: Session, kind: str, on: date, *, keep: Iterable[str] = (),
                  subjects: Iterable[str] | None = None, client_ids: Iterable[int] | None = None) -> int:
    """Resolve open flags of ``kind`` except those whose subject is in ``keep``.

    ``subjects`` / ``client_ids`` limit which flags are considered at all (a batch only judges
    the clients it looked at; an import resolves the subjects it settled). Returns how many
    were resolved.
    """
    session.flush()
    keep = set(keep)
    subjects = None if subjects is None else set(subjects)
    client_ids = None if client_ids is None else set(client_ids)
    query = select(FLAGS.c.id, FLAGS.c.subject, FLAGS.c.client_id).where(
        FLAGS.c.kind == kind, FLAGS.c.resolved_at.is_(None))
    if subjects is not None:
        queries = [query.where(member_of(session, FLAGS.c.subject, part))
                   for part in chunks(sorted(subjects))]
    elif client_ids is not None:
        queries = [query.where(member_of(session, FLAGS.c.client_id, part))
                   for part in chunks(sorted(client_ids))]
    else:
        queries = [query]
    ids = [row.id for q in queries for row in session.execute(q)
           if row.subject not in keep
           and (subjects is None or row.subject in subjects)
           and (client_ids is None or row.client_id in client_ids)]
    for part in chunks(ids):
        session.execute(update(FLAGS).where(member_of(session, FLAGS.c.id, part))
                        .values(resolved_at=on))
    _expire_loaded(session, ids)
    return len(ids)


def _expire_loaded(session: Session, flag_ids: Iterable[int]) -> None:
    """Flags written here with SQL: a copy already loaded in the session reads them afresh."""
    for flag_id in flag_ids:
        loaded = session.identity_map.get(session.identity_key(Flag, flag_id))
        if loaded is not None:
            session.expire(loaded)


def list_flags(session: Session, actor: Actor, *, kind: str | None = None,
               client_id: int | None = None, include_resolved: bool = False) -> list[dict]:
    """The flags (open ones unless ``include_resolved``), oldest first.

    The listing is a view of the clients whose flags it shows (and of ``client_id``, whose
    flags were asked for even when there are none): one ``flags.view`` entry
    (``access.record_view``).
    """
    actor.require("flags.read")
    if kind is not None and kind not in KINDS:
        raise ValidationError(_("unknown flag kind {kind}; known: {known}")
                              .format(kind=repr(kind), known=", ".join(KINDS)))
    query = select(Flag).where(access.visible(actor, Flag.client_id)).order_by(Flag.id)
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
        "amount_cents": flag.amount_cents, "detail": shown_detail(flag),
        "first_seen": flag.first_seen, "last_seen": flag.last_seen,
        "resolved": flag.resolved_at, "ack_by": flag.ack_by, "ack_comment": flag.ack_comment,
    }


def acknowledge(session: Session, actor: Actor, flag_id: int, comment: str) -> dict:
    actor.require("flags.ack")
    if comment is None or not comment.strip():
        raise ValidationError(_("an acknowledgement needs a comment"))
    comment = free_text(session, comment, _("comment"), multiline=True)
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise NotFound(_("no flag {flag}").format(flag=flag_id))
    if flag.client_id is not None:
        access.check(session, session.get(Client, flag.client_id))    # need to know
    if flag.resolved_at is not None:
        # Nothing to answer: the condition cleared (and if it comes back, the flag reopens
        # without its old acknowledgement, as a new situation).
        raise Conflict(_("flag {flag} ({kind}) resolved itself on {day}: its condition has "
                         "cleared, there is nothing to acknowledge").format(
                             flag=flag.id, kind=flag.kind, day=format_fi_date(flag.resolved_at)))
    flag.ack_by = actor.name
    flag.ack_at = datetime.now(timezone.utc)
    flag.ack_comment = comment
    session.flush()
    from valitystili.trust import audit

    audit.record(session, actor.name, "flag.ack", client_id=flag.client_id,
                 subject=f"flag {flag.id}", detail={"kind": flag.kind, "comment": flag.ack_comment})
    return flag_row(flag)
