"""The monthly letter to a client: what came in, what was paid, what is left and what comes next.

``client_statement()`` gathers the month as data (a frozen ``Letter``); ``render_text()`` and
``render_html()`` write it in Finnish, Swedish or English. Rules of this module:

- **Money received**: credits to the client's ledger account booked in the month
  (``ledger.account_postings``), named by the payer on the bank line (a credit with no bank
  line is a "deposit"). Returns of our own payments and reversals are left out: they undo a
  payment rather than bring money.
- **Rent and bills paid** / **instalments paid to you**: the client's payment orders executing
  in the month that were approved, exported or cleared (not drafts, cancelled or returned
  ones); rent, electricity and other bills in the first list, instalments and a final payment
  in the second.
- **Rent Kela pays part of**: a rent line (paid or coming) whose month Kela pays part of
  directly (the obligation's ``direct_cents``: the share from Kela's decision, else the plan's
  usual ``paid_directly``) also shows the whole rent, Kela's part and the account's part.
- **Balance**: the ledger balance at the end of the month's last day.
- **Next month's payments** (open clients) are the batch's own decision run forward over the
  next month's banking days (``oversight.coming``), so the letter never promises what the batch
  will not do: every amount, an even split's instalments too, is what the batch pays if the
  incomes come as expected, and a note says so.
- **Unpaid bills**: the client's arrears at the end of the month (``reports.arrears_items``);
  the section is left out when there are none.
- Dates are Finnish (``23.11.2026``) and money ``format_locale`` in every language; month
  names come from the tables below (Finnish needs the ablative: "marraskuulta").
- Reading a client's letter is a view of their data and is audited (action ``view``).
- The HTML page is self-contained (inline style, no scripts, fonts or images) and prints on A4.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import ValidationError
from valitystili.base.money import format_locale
from valitystili.oversight.coming import coming_payments, rent_parts
from valitystili.oversight.reports import arrears_items
from valitystili.people.clients import resolve_client
from valitystili.store import settings
from valitystili.store.models import (
    LANGUAGES,
    Client,
    Obligation,
    PaymentOrder,
    StatementLine,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: Order statuses that show as paid in a letter.
SHOWN_STATUSES = ("approved", "exported", "cleared")
BILL_KINDS = ("rent", "electricity", "other")
TO_CLIENT_KINDS = ("instalment", "final")

MONTHS = {
    "fi": ("tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu", "heinäkuu",
           "elokuu", "syyskuu", "lokakuu", "marraskuu", "joulukuu"),
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}

TEXTS = {
    "fi": {
        "title": "Välitystilin kuukausiote – {month}",
        "greeting": "Hei {name},",
        "intro": "tässä välitystilisi tapahtumat {month_from}.",
        "received": "Tilillesi tulleet rahat",
        "paid": "Maksamamme vuokrat ja laskut",
        "instalments": "Sinulle maksetut erät",
        "balance": "Tililläsi oli {date} rahaa {amount}.",
        "coming": "Seuraavan kuukauden maksut",
        "arrears": "Maksamatta olevat laskut",
        "arrears_note": "Näitä ei ole vielä voitu maksaa.",
        "none": "Ei tapahtumia.",
        "none_coming": "Ei suunniteltuja maksuja.",
        "total": "Yhteensä",
        "deposit": "Talletus",
        "rent": "Vuokra", "electricity": "Sähkölasku", "other": "Lasku",
        "instalment": "Erä tilillesi", "final": "Loppumaksu tilillesi",
        "expected_note": "Summat pitävät, jos tulosi tulevat odotetusti.",
        "rent_parts": "koko vuokra {rent}, josta Kela maksaa {kela} ja tililtäsi {account}",
        "questions": "Jos sinulla on kysyttävää, ota yhteyttä välitystilin hoitajaan.",
        "regards": "Ystävällisin terveisin",
    },
    "sv": {
        "title": "Förmedlingskontots månadsbesked – {month}",
        "greeting": "Hej {name},",
        "intro": "här är händelserna på ditt förmedlingskonto i {month}.",
        "received": "Pengar som kommit in på ditt konto",
        "paid": "Hyror och räkningar som vi har betalat",
        "instalments": "Rater som betalats till dig",
        "balance": "Den {date} fanns det {amount} på ditt konto.",
        "coming": "Nästa månads betalningar",
        "arrears": "Obetalda räkningar",
        "arrears_note": "Dessa har ännu inte kunnat betalas.",
        "none": "Inga händelser.",
        "none_coming": "Inga planerade betalningar.",
        "total": "Totalt",
        "deposit": "Insättning",
        "rent": "Hyra", "electricity": "Elräkning", "other": "Räkning",
        "instalment": "Rat till ditt konto", "final": "Slutbetalning till ditt konto",
        "expected_note": "Beloppen gäller om dina inkomster kommer som väntat.",
        "rent_parts": "hela hyran {rent}, varav FPA betalar {kela} och ditt konto {account}",
        "questions": "Om du har frågor, kontakta förmedlingskontots handläggare.",
        "regards": "Med vänliga hälsningar",
    },
    "en": {
        "title": "Intermediary account monthly statement – {month}",
        "greeting": "Hello {name},",
        "intro": "here is what happened on your intermediary account in {month}.",
        "received": "Money received",
        "paid": "Rent and bills we paid",
        "instalments": "Instalments paid to you",
        "balance": "On {date} your account held {amount}.",
        "coming": "Next month's payments",
        "arrears": "Unpaid bills",
        "arrears_note": "These could not be paid yet.",
        "none": "Nothing this month.",
        "none_coming": "No payments planned.",
        "total": "Total",
        "deposit": "Deposit",
        "rent": "Rent", "electricity": "Electricity bill", "other": "Bill",
        "instalment": "Instalment to your account", "final": "Final payment to your account",
        "expected_note": "These amounts hold if your incomes come as expected.",
        "rent_parts": "whole rent {rent}, of which Kela pays {kela} and your account {account}",
        "questions": "If you have any questions, please contact your account handler.",
        "regards": "Kind regards",
    },
}


def month_name(language: str, year: int, month: int) -> str:
    """``marraskuu 2026`` / ``november 2026`` / ``November 2026``."""
    return f"{MONTHS[language][month - 1]} {year}"


def month_from(language: str, year: int, month: int) -> str:
    """Finnish ablative, "from the month": ``marraskuulta 2026`` (other languages: the name)."""
    if language == "fi":
        return f"{MONTHS['fi'][month - 1]}lta {year}"
    return month_name(language, year, month)


# --- the letter as data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One row of a section: ``kind`` picks the words (``payer`` shows ``text`` as it is), ``text``
    is the payer's or payee's name."""

    on: date | None
    kind: str                  # deposit | payer | rent | electricity | other | instalment | final
    text: str = ""             # payer or payee name
    amount_cents: int | None = None
    due_on: date | None = None
    rent_cents: int | None = None    # a rent Kela pays part of: the whole rent,
    kela_cents: int | None = None    # Kela's part, and the account's part (their difference)


@dataclass(frozen=True)
class Letter:
    client: int
    name: str
    language: str
    year: int
    month: int
    received: tuple[Line, ...]
    paid: tuple[Line, ...]
    instalments: tuple[Line, ...]
    balance_on: date
    balance_cents: int
    coming: tuple[Line, ...]
    arrears: tuple[Line, ...]
    sender: str

    def as_dict(self) -> dict:
        return asdict(self)


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _received(session: Session, client: Client, first: date, last: date) -> list[Line]:
    rows = [p for p in ledger.account_postings(session, client.ledger_code, first, last)
            if p.amount_cents < 0]
    # The bank line behind each credit: by the line's ledger key (one entry, or the items of
    # a lump sum sharing it), or the line a handler assigned from suspense (``assign:<line>``).
    keys = [r.key for r in rows]
    assigned = {r.key: int(r.key.split(":", 1)[1]) for r in rows
                if r.key.startswith("assign:") and r.key.split(":", 1)[1].isdigit()}
    by_key: dict[str, list[StatementLine]] = {}
    if keys:
        for line in session.execute(select(StatementLine).where(
                StatementLine.ledger_key.in_(keys) | StatementLine.id.in_(list(assigned.values())))
                .order_by(StatementLine.id)).scalars():
            if line.client_id != client.id:
                continue
            if line.ledger_key in keys:
                by_key.setdefault(line.ledger_key, []).append(line)
            for key, line_id in assigned.items():
                if line.id == line_id:
                    by_key.setdefault(key, []).append(line)
    found = []
    for row in rows:
        lines = by_key.get(row.key, [])
        if row.reversal or any(
                line.order_id is not None or line.return_reason is not None for line in lines):
            continue
        payers = {(line.counterparty_name or "").strip() for line in lines}
        payer = payers.pop() if len(payers) == 1 else ""
        found.append(Line(row.booked_on, "payer" if payer else "deposit", payer,
                          -int(row.amount_cents)))
    return found


def _orders(session: Session, client: Client, first: date, last: date,
            kinds: tuple[str, ...]) -> list[Line]:
    rows = session.execute(
        select(PaymentOrder, Obligation.amount_cents, Obligation.direct_cents)
        .outerjoin(Obligation, Obligation.id == PaymentOrder.obligation_id)
        .where(
            PaymentOrder.client_id == client.id, PaymentOrder.kind.in_(kinds),
            PaymentOrder.status.in_(SHOWN_STATUSES),
            PaymentOrder.execution_on.between(first, last))
        .order_by(PaymentOrder.execution_on, PaymentOrder.id)).all()
    return [Line(o.execution_on, o.kind, o.creditor_name if o.kind in BILL_KINDS else "",
                 o.amount_cents, **rent_parts(o.kind, account, direct))
            for o, account, direct in rows]


def client_statement(session: Session, actor: Actor, client_ref: str, year: int, month: int,
                     language: str | None = None, *, output: str = "text",
                     calendar: BankingCalendar = CALENDAR) -> Letter:
    """The client's letter for a month (see the module rules); the view is audited."""
    actor.require("report")
    client = resolve_client(session, client_ref)
    language = language or client.language or "fi"
    if language not in LANGUAGES:
        raise ValidationError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    first, last = _month_bounds(year, month)
    next_first, next_last = _month_bounds(*((year + 1, 1) if month == 12 else (year, month + 1)))
    try:
        balance = ledger.balance(session, client.ledger_code, as_of=last)
    except ledger.UnknownAccount:
        balance = 0
    arrears = [Line(item["due_on"], item["kind"], item["payee_name"], item["unpaid_cents"],
                    item["due_on"])
               for item in arrears_items(session, last, client.id)]
    letter = Letter(
        client=client.id, name=client.name, language=language, year=year, month=month,
        received=tuple(_received(session, client, first, last)),
        paid=tuple(_orders(session, client, first, last, BILL_KINDS)),
        instalments=tuple(_orders(session, client, first, last, TO_CLIENT_KINDS)),
        balance_on=last, balance_cents=balance,
        coming=tuple(Line(c.on, c.kind, c.payee, c.amount_cents, rent_cents=c.rent_cents,
                          kela_cents=c.kela_cents)
                     for c in (coming_payments(session, client, next_first, next_last, calendar)
                               if client.status == "open" else ())),
        arrears=tuple(arrears),
        sender=settings.get(session, "debtor_name"))
    audit.record(session, actor.name, "view", client_id=client.id,
                 subject=f"statement {year:04d}-{month:02d}",
                 detail={"month": f"{year:04d}-{month:02d}", "language": language,
                         "output": output})
    return letter


# --- rendering ---------------------------------------------------------------------------------


def _label(line: Line, texts: dict[str, str]) -> str:
    if line.kind == "payer":
        return line.text
    if line.kind in BILL_KINDS:
        return f"{texts[line.kind]}, {line.text}" if line.text else texts[line.kind]
    return texts[line.kind]


@dataclass(frozen=True)
class _Row:
    """One printed row; ``parts`` is the line under a rent Kela pays part of."""

    day: str
    label: str
    amount: str
    parts: str = ""


def _rows(lines: tuple[Line, ...], language: str, total: bool) -> list[_Row]:
    texts = TEXTS[language]
    money = lambda cents: format_locale(cents, language)  # noqa: E731
    out = [_Row(format_fi_date(line.on) if line.on else "", _label(line, texts),
                money(line.amount_cents) if line.amount_cents is not None else "",
                _parts(line, language))
           for line in lines]
    if total and lines:
        out.append(_Row("", texts["total"], money(sum(line.amount_cents or 0 for line in lines))))
    return out


def _parts(line: Line, language: str) -> str:
    """"whole rent 520,00 €, of which Kela pays 150,00 € and your account 370,00 €"."""
    if line.rent_cents is None or line.kela_cents is None:
        return ""
    money = lambda cents: format_locale(cents, language)  # noqa: E731
    return TEXTS[language]["rent_parts"].format(
        rent=money(line.rent_cents), kela=money(line.kela_cents),
        account=money(line.rent_cents - line.kela_cents))


def _sections(letter: Letter) -> list[tuple[str, list[_Row], str | None, str]]:
    """(heading, rows, note, text when empty) for each section."""
    texts = TEXTS[letter.language]
    language = letter.language
    sections = [
        (texts["received"], _rows(letter.received, language, True), None, texts["none"]),
        (texts["paid"], _rows(letter.paid, language, True), None, texts["none"]),
        (texts["instalments"], _rows(letter.instalments, language, True), None, texts["none"]),
    ]
    if letter.arrears:
        sections.append((texts["arrears"], _rows(letter.arrears, language, True),
                         texts["arrears_note"], ""))
    return sections


def _texts(letter: Letter) -> dict[str, str]:
    texts = TEXTS[letter.language]
    return {
        "title": texts["title"].format(month=month_name(letter.language, letter.year, letter.month)),
        "greeting": texts["greeting"].format(name=letter.name),
        "intro": texts["intro"].format(
            month_from=month_from(letter.language, letter.year, letter.month),
            month=month_name(letter.language, letter.year, letter.month)),
        "balance": texts["balance"].format(date=format_fi_date(letter.balance_on),
                                           amount=format_locale(letter.balance_cents,
                                                                letter.language)),
    }


def render_text(letter: Letter) -> str:
    """The letter as plain text, columns aligned (money right-aligned)."""
    texts = TEXTS[letter.language]
    words = _texts(letter)
    sections = _sections(letter)
    coming = _rows(letter.coming, letter.language, False)
    all_rows = [row for _, rows, _, _ in sections for row in rows] + coming
    label_width = max((len(row.label) for row in all_rows), default=0)
    amount_width = max((len(row.amount) for row in all_rows), default=0)

    def table(rows: list[_Row]) -> list[str]:
        out = []
        for row in rows:
            out.append(f"  {row.day:<10}  {row.label:<{label_width}}  "
                       f"{row.amount:>{amount_width}}".rstrip())
            if row.parts:
                out.append(f"  {'':<10}  {row.parts}")
        return out

    out = [words["title"], "", words["greeting"], "", words["intro"], ""]
    for heading, rows, note, empty in sections[:3]:
        out += [heading, *(table(rows) if rows else [f"  {empty}"]), ""]
    out += [words["balance"], ""]
    out += [texts["coming"], *(table(coming) if coming else [f"  {texts['none_coming']}"])]
    if coming:
        out.append(f"  {texts['expected_note']}")
    out.append("")
    for heading, rows, note, _ in sections[3:]:
        out += [heading, f"  {note}", *table(rows), ""]
    out += [texts["questions"], "", texts["regards"], letter.sender]
    return "\n".join(out) + "\n"


_STYLE = """
@page { size: A4; margin: 20mm 20mm 25mm 20mm; }
body { font-family: "DejaVu Serif", Georgia, serif; font-size: 11pt; color: #000;
       max-width: 170mm; margin: 0 auto; line-height: 1.4; }
h1 { font-size: 15pt; margin: 0 0 1.5em 0; }
h2 { font-size: 12pt; margin: 1.4em 0 0.3em 0; }
table { border-collapse: collapse; width: 100%; }
td { padding: 0.15em 0.5em 0.15em 0; vertical-align: top; }
td.date { width: 7em; white-space: nowrap; }
td.amount { text-align: right; white-space: nowrap; width: 8em; }
tr.total td { border-top: 1px solid #000; font-weight: bold; }
tr.parts td { font-size: 10pt; padding-top: 0; }
p.balance { font-weight: bold; margin-top: 1.4em; }
""".strip()


def render_html(letter: Letter) -> str:
    """The letter as one self-contained, print-ready HTML page."""
    texts = TEXTS[letter.language]
    words = _texts(letter)
    e = html.escape

    def table(rows: list[_Row], totals: bool) -> str:
        body = []
        for index, row in enumerate(rows):
            total = totals and index == len(rows) - 1
            opening = '<tr class="total">' if total else "<tr>"
            body.append(f'{opening}<td class="date">{e(row.day)}</td><td>{e(row.label)}</td>'
                        f'<td class="amount">{e(row.amount)}</td></tr>')
            if row.parts:
                body.append(f'<tr class="parts"><td class="date"></td>'
                            f'<td colspan="2">{e(row.parts)}</td></tr>')
        return "<table>\n" + "\n".join(body) + "\n</table>"

    sections = _sections(letter)
    parts = [f"<h1>{e(words['title'])}</h1>", f"<p>{e(words['greeting'])}</p>",
             f"<p>{e(words['intro'])}</p>"]
    for heading, rows, _note, empty in sections[:3]:
        parts.append(f"<h2>{e(heading)}</h2>")
        parts.append(table(rows, True) if rows else f"<p>{e(empty)}</p>")
    parts.append(f'<p class="balance">{e(words["balance"])}</p>')
    coming = _rows(letter.coming, letter.language, False)
    parts.append(f"<h2>{e(texts['coming'])}</h2>")
    parts.append(table(coming, False) if coming else f"<p>{e(texts['none_coming'])}</p>")
    if coming:
        parts.append(f"<p>{e(texts['expected_note'])}</p>")
    for heading, rows, note, _ in sections[3:]:
        parts += [f"<h2>{e(heading)}</h2>", f"<p>{e(note)}</p>", table(rows, True)]
    parts += [f"<p>{e(texts['questions'])}</p>",
              f"<p>{e(texts['regards'])}<br>\n{e(letter.sender)}</p>"]
    return ("<!DOCTYPE html>\n"
            f'<html lang="{letter.language}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{e(words['title'])}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
