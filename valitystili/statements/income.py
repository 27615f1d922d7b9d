"""Incoming money for handlers: ``income list`` and ``income assign`` (DESIGN §7).

Rules of this module:

- The list shows incoming lines that carry their own attribution (not the bank side of an
  itemised lump sum), oldest first; identity codes in messages are masked. Listing is a view,
  recorded in the audit trail with the clients it shows.
- Assigning moves one unattributed incoming line from ``suspense`` to a client, at most once:
  the ledger key ``assign:<line id>`` makes a second assignment a conflict. It is booked on the
  line's own day (the day the money arrived), not the day a handler assigned it, so the
  client's balance and letter show the money when it came, never after the rent it paid.
  The line's ``unmatched_income`` flag resolves; money assigned to a closed client raises
  ``income_after_closing``. ``assign_lines`` assigns many lines in one call (a handler's
  round), each posted and audited as ``assign_line`` does one (which is it of one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.accounts import SUSPENSE
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import N_, Message, _
from valitystili.base.identifiers import mask_hetus
from valitystili.base.money import format_fi
from valitystili.flags.raising import FlagRaised, raise_flags, resolve_flags
from valitystili.people import clients
from valitystili.statements.bookings import assign_key
from valitystili.store.chunks import member_of, scalars_in
from valitystili.store.models import (
    ASSIGNED,
    BANK_ONLY,
    IN_SUSPENSE,
    BankAccount,
    Flag,
    StatementLine,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor


@dataclass(frozen=True)
class IncomeLine:
    """One incoming line as a handler sees it (the message's identity codes masked)."""

    line: int
    iban: str
    booked_on: date
    amount_cents: int
    payer: str | None
    reference: str | None
    message: str | None
    state: str
    rule: str | None
    client: int | None
    archive_id: str

    def row(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Assignment:
    """A line moved from suspense to a client: the ledger key it was posted under, and whether
    its ``unmatched_income`` flag resolved."""

    line: int
    client: int
    amount_cents: int
    booked_on: date
    ledger_key: str
    flag_resolved: bool

    def row(self) -> dict:
        return asdict(self)


def list_income(session: Session, actor: Actor, *, unmatched: bool = False,
                start: date | None = None, end: date | None = None) -> list[IncomeLine]:
    """Incoming lines (credits that carry their own attribution), oldest first; identity codes
    in messages are masked. Recorded in the audit trail as a view."""
    actor.require("income.read")
    query = (select(StatementLine, BankAccount.iban)
             .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
             .where(StatementLine.amount_cents > 0, StatementLine.state != BANK_ONLY))
    if unmatched:
        query = query.where(StatementLine.state == IN_SUSPENSE)
    if start is not None:
        query = query.where(StatementLine.booked_on >= start)
    if end is not None:
        query = query.where(StatementLine.booked_on <= end)
    rows = [
        IncomeLine(line=line.id, iban=iban, booked_on=line.booked_on,
                   amount_cents=line.amount_cents, payer=line.counterparty_name,
                   reference=line.reference, message=mask_hetus(line.message),
                   state=line.state, rule=line.match_rule, client=line.client_id,
                   archive_id=line.archive_id)
        for line, iban in session.execute(query.order_by(StatementLine.booked_on,
                                                         StatementLine.id)).all()
    ]
    audit.record(session, actor.name, "income.list", detail={
        "unmatched": unmatched, "from": start, "to": end, "lines": len(rows),
        "clients": sorted({r.client for r in rows if r.client is not None}),
    })
    return rows


#: Refusals of a line by what was asked of it (one whole sentence each, for the translations).
MONEY_OUT = {
    "assigned": N_("line {line} is money out; only incoming money is assigned"),
    "split": N_("line {line} is money out; only incoming money is split"),
    "refunded": N_("line {line} is money out; only incoming money is refunded"),
}
UNDERWAY = {
    "assigned": N_("line {line} is already being assigned"),
    "split": N_("line {line} is already being split"),
    "refunded": N_("line {line} is already being refunded"),
}


def suspense_line(session: Session, line_id: int, verb: str, *,
                  underway: str | None = None) -> StatementLine:
    """The incoming line ``line_id``, locked, while it is in suspense: what a handler may assign,
    split or refund (``verb``: "assigned", "split", "refunded"). Refused with one line otherwise;
    a line in the ``underway`` state is "already being <verb>"."""
    line = session.execute(select(StatementLine).where(StatementLine.id == line_id)
                           .with_for_update()).scalar_one_or_none()
    return in_suspense(line, line_id, verb, underway=underway)


def in_suspense(line: StatementLine | None, line_id: int, verb: str, *,
                underway: str | None = None) -> StatementLine:
    """``line`` (the row of ``line_id``, None: there is none) if it is in suspense; refused as
    :func:`suspense_line` says otherwise."""
    if line is None:
        raise NotFound(_("no statement line {line}").format(line=line_id))
    if line.amount_cents <= 0:
        raise ValidationError(_(MONEY_OUT[verb]).format(line=line_id))
    if line.state == ASSIGNED:
        raise Conflict(_("line {line} is already assigned to client {client}").format(
            line=line_id, client=line.client_id))
    if underway is not None and line.state == underway:
        raise Conflict(_(UNDERWAY[verb]).format(line=line_id))
    if line.state != IN_SUSPENSE:
        raise Conflict((_("line {line} is not in suspense: it is {state} (client {client})")
                        if line.client_id else
                        _("line {line} is not in suspense: it is {state}")).format(
                            line=line_id, state=line.state, client=line.client_id))
    return line


def assign_line(session: Session, actor: Actor, line_id: int, client_text: str, *,
                today: date | None = None) -> Assignment:
    """Move one unattributed incoming line from suspense to a client, at most once."""
    return assign_lines(session, actor, [(line_id, client_text)], today=today)[0]


def assign_lines(session: Session, actor: Actor, assignments: Sequence[tuple[int, str]], *,
                 today: date | None = None) -> list[Assignment]:
    """Move each ``(line id, client)`` as :func:`assign_line` does, in order, each posted and
    audited on its own; the lines and the clients are read, and the lines' flags resolved,
    once a call (a handler's round of the day's unmatched lines)."""
    actor.require("income.assign")
    today = today or date.today()
    ids = [line_id for line_id, _client in assignments]
    lines = {line.id: line for line in scalars_in(
        session, select(StatementLine).with_for_update(), StatementLine.id, ids)}
    found = clients.resolve_clients(session, [client for _line, client in assignments])
    flagged = set(session.execute(select(Flag.subject).where(
        Flag.kind == "unmatched_income", Flag.resolved_at.is_(None),
        member_of(session, Flag.subject, [line.archive_id for line in lines.values()]))
    ).scalars()) if lines else set()
    done = []
    for line_id, client in zip(ids, found):
        line = in_suspense(lines.get(line_id), line_id, "assigned")
        done.append(_assign(session, actor, line, client, today, line.archive_id in flagged))
    resolve_flags(session, "unmatched_income", today,
                  subjects=[lines[assignment.line].archive_id for assignment in done])
    session.flush()
    return done


def _assign(session: Session, actor: Actor, line: StatementLine, client, today: date,
            flagged: bool) -> Assignment:
    """Post ``line`` to ``client`` (the ledger key makes it at most once) and audit it."""
    key = assign_key(line.id)
    posted = ledger.post(session, key, [(SUSPENSE, line.amount_cents),
                                        (client.ledger_code, -line.amount_cents)],
                         line.booked_on,
                         description=f"line {line.id} ({line.archive_id}) assigned to client "
                                     f"{client.id}", actor=actor.name)
    if not posted.created:
        raise Conflict(_("line {line} is already assigned ({key})").format(line=line.id,
                                                                            key=key))
    line.state = ASSIGNED
    line.client_id = client.id
    if client.status != "open":
        raise_flags(session, [FlagRaised(
            "income_after_closing", line.archive_id, client.id, line.amount_cents,
            Message("{amount} assigned by {name} to closed client {client}",
                    amount=format_fi(line.amount_cents), name=actor.name, client=client.id))],
            today)
    audit.record(session, actor.name, "income.assign", client_id=client.id,
                 subject=f"line {line.id}", detail={
                     "archive_id": line.archive_id, "amount_cents": line.amount_cents,
                     "ledger_key": key})
    return Assignment(line=line.id, client=client.id, amount_cents=line.amount_cents,
                      booked_on=line.booked_on, ledger_key=key, flag_resolved=flagged)
