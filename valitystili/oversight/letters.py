"""The monthly letter to a client: what came in, what was paid, what is left and what comes next.

``client_statements()`` gathers the month of many clients as data (a frozen ``Letter`` each);
``client_statement()`` is it for one client. ``render_text()`` and ``render_html()``
(``letter_render``) write a letter in Finnish, Swedish or English, in plain language
(``letter_words``). Rules of this module:

- **Read in bulk, a part at a time**: the letters of many clients are read together, each kind
  of row once per part of ``LETTERS_PER_PART`` clients, so the statements a month of letters
  costs grow with the parts, not with the clients; one client's letter is the same reading for
  one client. ``each_client_statement`` gives the letters a part at a time, so a county's
  mailing holds one part in memory.
  What each section holds is ``letter_sections``'s (money received, rent and bills paid,
  payments to the client's own account, returned payments, Kela's part of a rent, unpaid
  bills, the sender).
- **Balances**: the intermediary account's balance at the start of the month (the end of the
  day before its first day) and at the end of its last day, from the ledger.
- **Next month's payments** (open clients only) are the batch's own decision run forward over
  the next month's banking days (``oversight.coming``), so the letter never promises what the
  batch will not do: every amount is what the batch pays if the incomes come as expected.
- **Unpaid bills**: the section is left out when there are none.
- **The last day**: a closing date (else a fixed term's end) in the month is the service's last
  day, and the letter says what it means. A letter for a month after the closing date is
  refused.
- **Who has a letter** (``clients_with_letters``, the month's mailing): every client the reader
  may see who was a client during the month: started by its last day, and not closed before its
  first day.
- **Sender and date**: the sender comes from the ``letter_*`` settings, read once; the letter is
  dated ``today``.
- Dates are Finnish (``23.11.2026``) and money ``format_locale`` in every language.
- Reading a client's letter is a view of their data and is audited: one entry per letter
  (action ``view``, the client's id), a part's entries appended together
  (``audit.record_each``) before its letters are given.
- **Files**: a letter is written to ``letter-<client>-<YYYY-MM>.html`` (``.txt`` for the text);
  a month's letters are staged together and appear all or none (``files.stage_all``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base import files
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import NotFound, ValidationError
from valitystili.base.i18n import _
from valitystili.base.identifiers import format_iban
from valitystili.oversight import letter_sections as sections
from valitystili.oversight.coming import coming_payments_of
from valitystili.oversight.letter_render import render_html, render_text
from valitystili.oversight.letter_sections import Line, Sender, rent_month
from valitystili.people.clients import resolve_client
from valitystili.store import settings
from valitystili.store.chunks import chunks, scalars_in
from valitystili.store.models import LANGUAGES, Client
from valitystili.trust import access, audit
from valitystili.trust.auth import Actor

__all__ = ["Letter", "Line", "Sender", "client_statement", "client_statements",
           "clients_with_letters", "letter_name", "letter_path", "render", "render_html",
           "render_text", "stage_statements"]

#: The form of a letter file by its suffix; a name without one gets ``DEFAULT_SUFFIX``.
FILE_FORMS = {".html": "html", ".txt": "text"}
DEFAULT_SUFFIX = {"html": ".html", "text": ".txt"}


# --- the letter as data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    client: int
    name: str
    language: str
    year: int
    month: int
    dated_on: date
    own_iban: str                    # the client's own bank account, grouped
    opening_on: date                 # the month's first day
    opening_cents: int               # the balance at its start
    received: tuple[Line, ...]
    paid: tuple[Line, ...]
    instalments: tuple[Line, ...]
    returned: tuple[Line, ...]
    balance_on: date                 # the month's last day
    balance_cents: int               # the balance at its end
    coming: tuple[Line, ...] | None  # None: the client is closed, nothing is planned
    arrears: tuple[Line, ...]
    last_day: date | None            # the service's last day, when it is in this month
    sender: Sender

    def as_dict(self) -> dict:
        return asdict(self)


#: Clients whose letters are read together (each kind of row once) and held at once.
LETTERS_PER_PART = 1_000


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


# --- reading -----------------------------------------------------------------------------------


def client_statement(session: Session, actor: Actor, client_ref: str, year: int, month: int,
                     language: str | None = None, *, output: str = "text",
                     today: date | None = None,
                     calendar: BankingCalendar = CALENDAR) -> Letter:
    """The client's letter for a month (see the module rules); the view is audited."""
    actor.require("report")
    client = resolve_client(session, client_ref)
    return client_statements(session, actor, [client.id], year, month, language=language,
                             output=output, today=today, calendar=calendar)[0]


def client_statements(session: Session, actor: Actor, clients: Sequence[int], year: int,
                      month: int, *, language: str | None = None, output: str = "text",
                      today: date | None = None,
                      calendar: BankingCalendar = CALENDAR) -> list[Letter]:
    """The letter for a month of each client (by id), in the order given, each in ``language``
    or else the client's own (see the module rules); each letter is audited as a view."""
    return list(each_client_statement(session, actor, clients, year, month, language=language,
                                      output=output, today=today, calendar=calendar))


def each_client_statement(session: Session, actor: Actor, clients: Sequence[int], year: int,
                          month: int, *, language: str | None = None, output: str = "text",
                          today: date | None = None,
                          calendar: BankingCalendar = CALENDAR) -> Iterator[Letter]:
    """:func:`client_statements` a part of the clients at a time: every client is checked
    before the first letter; each part's letters are audited, then given, so that a month's
    mailing holds one part in memory, not every letter of the county."""
    actor.require("report")
    first, last = _month_bounds(year, month)
    found = _readable(session, clients)
    languages = {client.id: _language(language, client) for client in found}
    for client in found:
        if client.closed_on is not None and first > client.closed_on:
            raise ValidationError(
                f"client {client.id} was closed on {format_fi_date(client.closed_on)}: there is "
                f"no letter for {year:04d}-{month:02d} (the last one is for "
                f"{client.closed_on:%Y-%m})")
    stored = {row["key"]: row["value"] for row in settings.all_settings(session)}   # one read
    for part in chunks(found, LETTERS_PER_PART):
        written = _letters(session, part, year, month, languages, stored, today or date.today(),
                           calendar)
        audit.record_each(session, actor.name, "view", [
            (letter.client, f"statement {year:04d}-{month:02d}",
             {"month": f"{year:04d}-{month:02d}", "language": letter.language, "output": output})
            for letter in written])
        yield from written


def _readable(session: Session, ids: Sequence[int]) -> list[Client]:
    """The clients of ``ids``, in that order; an unknown one, or one the unit's actor may not
    see (``access``), is refused."""
    stored = {client.id: client for client in scalars_in(session, select(Client), Client.id,
                                                         sorted(set(ids)))}
    for client_id in ids:
        if client_id not in stored:
            raise NotFound(_("unknown client {text}").format(text=client_id))
    reader = access.acting(session)
    visible = access.visible_ids(session, reader) if reader is not None else None
    if visible is not None:
        for client_id in ids:
            if client_id not in visible:
                raise access.NotYourClient(reader, client_id)
    return [stored[client_id] for client_id in ids]


def _language(language: str | None, client: Client) -> str:
    chosen = language or client.language or "fi"
    if chosen not in LANGUAGES:
        raise ValidationError(f"language {chosen!r} is not one of {', '.join(LANGUAGES)}")
    return chosen


def _letters(session: Session, clients: Sequence[Client], year: int, month: int,
             languages: dict[int, str], stored: dict[str, str], dated_on: date,
             calendar: BankingCalendar) -> list[Letter]:
    """The letters of a chunk of clients: each section read once for all of them."""
    first, last = _month_bounds(year, month)
    codes = [client.ledger_code for client in clients]
    opening = ledger.balances_of(session, codes, first - timedelta(days=1))
    closing = ledger.balances_of(session, codes, last)
    received = sections.received(session, clients, first, last)
    paid = sections.paid(session, clients, first, last)
    returned = sections.returned(session, clients, first, last)
    arrears = sections.arrears(session, clients, last)
    coming = coming_payments_of(session, [c for c in clients if c.status == "open"],
                                *_month_bounds(*((year + 1, 1) if month == 12
                                                 else (year, month + 1))), calendar)
    letters = []
    for client in clients:
        last_day = client.closed_on or client.until_on
        letters.append(Letter(
            client=client.id, name=client.name, language=languages[client.id], year=year,
            month=month, dated_on=dated_on, own_iban=format_iban(client.iban),
            opening_on=first, opening_cents=opening.get(client.ledger_code, 0),
            received=tuple(received[client.id]), paid=tuple(paid[client.id][0]),
            instalments=tuple(paid[client.id][1]), returned=tuple(returned[client.id]),
            balance_on=last, balance_cents=closing.get(client.ledger_code, 0),
            coming=_coming_lines(coming[client.id]) if client.id in coming else None,
            arrears=tuple(arrears[client.id]),
            last_day=last_day if last_day is not None and first <= last_day <= last else None,
            sender=sections.sender(stored, languages[client.id])))
    return letters


def _coming_lines(payments) -> tuple[Line, ...]:
    return tuple(Line(c.on, c.kind, c.payee, c.amount_cents, rent_cents=c.rent_cents,
                      kela_cents=c.kela_cents,
                      month=rent_month(c.key, c.on) if c.kind == "rent" else None)
                 for c in payments)


def clients_with_letters(session: Session, actor: Actor, year: int, month: int) -> list[int]:
    """The clients who have a letter for the month (see the module rules), by number."""
    actor.require("report")
    first, last = _month_bounds(year, month)
    return list(session.execute(select(Client.id).where(
        Client.start_on <= last, or_(Client.closed_on.is_(None), Client.closed_on >= first),
        access.visible(actor)).order_by(Client.id)).scalars())


# --- files -------------------------------------------------------------------------------------


def letter_name(client: int, year: int, month: int, form: str) -> str:
    """The file name of a client's letter for a month: ``letter-0001-2026-11.html``."""
    return f"letter-{client:04d}-{year:04d}-{month:02d}{DEFAULT_SUFFIX[form]}"


def stage_statements(session: Session, actor: Actor, year: int, month: int, folder: Path, *,
                     language: str | None = None, form: str = "html", today: date | None = None,
                     force: bool = False) -> tuple[list[dict], files.StagedFiles]:
    """The month's letter of every client who has one, staged in ``folder`` (see the module
    rules): the ``{client, file}`` written, and the staged files to publish after the commit."""
    names: list[tuple[int, str]] = []

    def each_file() -> Iterator[tuple[str, bytes]]:
        for letter in each_client_statement(
                session, actor, clients_with_letters(session, actor, year, month), year, month,
                language=language, output=form, today=today):
            names.append((letter.client, letter_name(letter.client, year, month, form)))
            yield names[-1][1], render(letter, form).encode("utf-8")

    staged = files.stage_all(folder, each_file(), force=force)
    return [{"client": client, "file": str(Path(folder) / name)} for client, name in names], staged


def letter_path(out: Path, text: bool = False) -> tuple[Path, str]:
    """The file a letter is written to and its form (``html`` or ``text``): ``.html`` and
    ``.txt`` say the form; a name without a suffix gets ``.html`` (``.txt`` with ``text``).
    Any other suffix, or ``text`` with ``.html``, is refused."""
    suffix = out.suffix.lower()
    if not suffix:
        form = "text" if text else "html"
        return out.with_name(out.name + DEFAULT_SUFFIX[form]), form
    if suffix not in FILE_FORMS:
        raise ValidationError(f"--out {out.name}: a letter is written as .html or .txt "
                              "(a name without a suffix gets .html)")
    form = FILE_FORMS[suffix]
    if text and form != "text":
        raise ValidationError(f"--out {out.name}: --text writes a .txt file, not {suffix}")
    return out, form


def render(letter: Letter, form: str) -> str:
    """The letter as ``html`` or ``text``."""
    return render_html(letter) if form == "html" else render_text(letter)
