"""Money in suspense shared between several clients: ``income split`` (DESIGN §7).

Rules of this module:

- A handler splits one unattributed incoming line (state ``suspense``) — or the **opening
  balance** of a city account's first statement (``opening``, or ``opening:<IBAN>`` when the
  city has several accounts), which holds the money of every client served before the ledger —
  between two or more clients. The parts are whole cents, each more than zero, one per client,
  and they add up to the line **to the cent**; otherwise nothing is written.
- The split is one ledger transaction, ``split:<line id>`` (``split:opening:<IBAN>``):
  ``suspense`` debited with the whole, each client credited with their part — at most once (a
  second split is a conflict). Like ``income assign`` it moves money between the service's own
  accounts and pays nothing out, so it takes effect at once; a line becomes ``split``, the
  *unmatched income* flag resolves, and a part for a closed client raises *income after
  closing* (the batch pays it on to them).
- The split is one audit entry, in each client's access history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.accounts import SUSPENSE
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import N_, Message, _
from valitystili.base.money import format_fi
from valitystili.flags.raising import FlagRaised, raise_flags, resolve_flags
from valitystili.people import clients
from valitystili.statements.bookings import opening_key
from valitystili.statements.income import suspense_line
from valitystili.store.models import (
    SPLIT,
    BankAccount,
    StatementLine,
)
from valitystili.trust import access
from valitystili.trust.auth import Actor

#: A split has at least this many parts (one client: ``income assign``).
MIN_PARTS = 2
OPENING = "opening"


def split_key(subject: str) -> str:
    return f"split:{subject}"


@dataclass(frozen=True)
class Part:
    """One client's part of a split line."""

    line: str
    client: int
    amount_cents: int
    ledger_key: str

    def row(self) -> dict:
        return asdict(self)


@dataclass
class _Source:
    """What is split: a statement line or an account's opening balance."""

    subject: str              # the line's id, or opening:<IBAN>
    flag_subject: str         # the unmatched_income flag's subject
    amount_cents: int
    line: StatementLine | None = None


def _line(session: Session, line_id: int) -> _Source:
    line = suspense_line(session, line_id, "split")
    return _Source(str(line.id), line.archive_id, line.amount_cents, line)


def _opening(session: Session, text: str) -> _Source:
    ibans = list(session.execute(select(BankAccount.iban).order_by(BankAccount.id)).scalars())
    iban = text.partition(":")[2].replace(" ", "").upper()
    if not iban:
        if len(ibans) != 1:
            raise ValidationError(_("the city has several accounts: name one, opening:IBAN"))
        iban = ibans[0]
    if iban not in ibans:
        raise NotFound(_("no city account {iban}").format(iban=iban))
    key = opening_key(iban)
    booked = ledger.find_transactions(session, [key]).get(key)
    if booked is None:
        raise NotFound(_("account {iban} has no opening balance booked").format(iban=iban))
    amount = -dict(booked.legs).get(SUSPENSE, 0)
    if amount <= 0:
        raise ValidationError(_("the opening balance of {iban} holds no money to split").format(
            iban=iban))
    return _Source(key, key, amount)


#: Parts that do not add up, by (a line's?, too much?) (one whole sentence each).
PARTS_WRONG = {
    (True, True): N_("the parts add up to {total}, line {line} is {amount} ({difference} too "
                     "much)"),
    (True, False): N_("the parts add up to {total}, line {line} is {amount} ({difference} "
                      "missing)"),
    (False, True): N_("the parts add up to {total}, the opening balance is {amount} "
                      "({difference} too much)"),
    (False, False): N_("the parts add up to {total}, the opening balance is {amount} "
                       "({difference} missing)"),
}
#: A split made before, by whether a line's.
ALREADY_SPLIT = {True: N_("line {line} is already split ({key})"),
                 False: N_("the opening balance is already split ({key})")}


def split_line(session: Session, actor: Actor, line: int | str, parts: list[tuple[str, int]], *,
               today: date | None = None) -> list[Part]:
    """Share money in suspense between clients, ``parts`` = [(CLIENT, cents), …]."""
    actor.require("income.split")
    today = today or date.today()
    if len(parts) < MIN_PARTS:
        raise ValidationError(_("a split needs at least two parts CLIENT=AMOUNT (one client: "
                                "income assign)"))
    text = str(line).strip()
    if text.isdigit():
        source = _line(session, int(text))
    elif text.lower().split(":", 1)[0] == OPENING:
        source = _opening(session, text)
    else:
        raise ValidationError(_("{text!r} is neither a line number nor the opening balance "
                                "(opening, opening:IBAN)").format(text=text))
    found = []
    for name, cents in parts:
        if cents <= 0:
            raise ValidationError(_("the part of client {client} must be more than {zero}")
                                  .format(client=name, zero=format_fi(0)))
        found.append((clients.resolve_client(session, name), cents))
    numbers = [client.id for client, _ in found]
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    if twice:
        raise ValidationError(_("client {client} has two parts: give each client one").format(
            client=twice[0]))
    total = sum(cents for _, cents in found)
    # ``what`` is stored (the ledger's description, the flag, the access log): English; the
    # flag shows it in its reader's language.
    of_line = source.line is not None
    named = (Message("line {line}", line=source.subject) if of_line
             else Message("the opening balance"))
    what = str(named)
    if total != source.amount_cents:
        wrong = PARTS_WRONG[(of_line, total > source.amount_cents)]
        raise ValidationError(_(wrong).format(
            total=format_fi(total), line=source.subject, amount=format_fi(source.amount_cents),
            difference=format_fi(abs(total - source.amount_cents))))
    key = split_key(source.subject)
    if ledger.find_transactions(session, [key]):
        raise Conflict(_(ALREADY_SPLIT[of_line]).format(line=source.subject, key=key))
    posted = ledger.post(session, key, [(SUSPENSE, source.amount_cents),
                                        *((client.ledger_code, -cents) for client, cents in found)],
                         today, description=f"{what} ({source.flag_subject}) split between "
                                            f"clients {', '.join(map(str, numbers))}",
                         actor=actor.name)
    if not posted.created:
        raise Conflict(_(ALREADY_SPLIT[of_line]).format(line=source.subject, key=key))
    if source.line is not None:
        source.line.state = SPLIT
    resolve_flags(session, "unmatched_income", today, subjects=[source.flag_subject])
    raise_flags(session, [
        FlagRaised("income_after_closing", f"{source.flag_subject}:{client.id}", client.id,
                   cents, Message("{amount} of {what} split by {name} to closed client {client}",
                                  amount=format_fi(cents), what=named, name=actor.name,
                                  client=client.id))
        for client, cents in found if client.status != "open"], today)
    result = [Part(source.subject, client.id, cents, key) for client, cents in found]
    access.record_view(session, actor, "income.split", numbers, subject=what,
                       detail={"source": source.flag_subject,
                               "amount_cents": source.amount_cents, "ledger_key": key,
                               "parts": [{"client": part.client,
                                          "amount_cents": part.amount_cents}
                                         for part in result]})
    session.flush()
    return result
