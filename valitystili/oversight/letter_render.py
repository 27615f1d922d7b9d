"""The client's letter written out: plain text (``render_text``) or one HTML page (``render_html``).

Both write the same blocks in the same order (``_blocks``): the sender and the date, the title,
the greeting, what the two accounts are, the balance at the start, the month's money in, the
rent and bills paid, the money paid to the client's own bank account, returned payments, the
balance at the end, the service's last day, next month's payments, what is still unpaid, how to
ask, and the signature. Rules:

- Text: paragraphs wrap at ``TEXT_WIDTH`` columns; table columns are aligned across the whole
  letter (money right-aligned) and a row's explanations go under its label, one sentence a
  line; payments sent back one after another for the same reason are explained once.
- HTML: one self-contained page (inline style, no scripts, fonts or images) that prints on A4;
  every text is escaped.
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from valitystili.base.dates import format_fi_date
from valitystili.base.money import format_locale
from valitystili.oversight.letter_words import (
    KELA,
    RETURNED_WHAT,
    RETURNED_WHY,
    TEXTS,
    benefit_name,
    month_words,
    reason_group,
)
from valitystili.store.models import ITEM_KINDS as BILL_KINDS

if TYPE_CHECKING:
    from valitystili.oversight.letters import Letter, Line

NBSP = "\u00a0"
#: Width of a text letter (a row's label and amount may go past it).
TEXT_WIDTH = 78
#: Where a row's explanations start in text: under its label.
NOTE_INDENT = " " * 14
_SENTENCE_RE = re.compile(r"(?<=[.!?]) (?=[A-ZÅÄÖ])")
TO_CLIENT_KINDS = ("instalment", "final")


@dataclass(frozen=True)
class _Row:
    """One printed row; ``notes`` are the sentences under it."""

    day: str
    label: str
    amount: str
    notes: tuple[str, ...] = ()
    total: bool = False


@dataclass(frozen=True)
class _Section:
    heading: str
    rows: tuple[_Row, ...]
    empty: str = ""            # said when there are no rows
    before: str = ""           # a note before the rows
    after: str = ""            # a note after them


@dataclass(frozen=True)
class _Para:
    text: str


@dataclass(frozen=True)
class _Lines:
    """Lines kept together (the sender and date; the signature)."""

    lines: tuple[str, ...]
    kind: str                  # sender | title | greeting | signature


# --- the words of each row ---------------------------------------------------------------------


def _money(cents: int, language: str) -> str:
    return format_locale(cents, language)


def _month_from(month: str | None, language: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return month_words(language, year, number)["month_from"]


def _label(line: Line, language: str) -> str:
    texts = TEXTS[language]
    if line.kind in ("payer", "deposit"):
        payer = KELA[language] if line.text == "Kela" else line.text
        named = [name for name in (benefit_name(line.benefit, language) if line.benefit else None,
                                   payer) if name]
        return ", ".join(named) if named else texts["deposit"]
    if line.kind in BILL_KINDS:
        what = (texts["rent_for"].format(month_from=_month_from(line.month, language))
                if line.kind == "rent" and line.month else texts[line.kind])
        return f"{what}, {line.text}" if line.text else what
    if line.kind == "final" and line.text:
        return texts["final_to"].format(name=line.text)
    return texts[line.kind]


def _notes(line: Line, language: str, parts_key: str) -> tuple[str, ...]:
    texts = TEXTS[language]
    notes = []
    if line.rent_cents is not None and line.kela_cents is not None:
        notes.append(texts[parts_key].format(
            rent=_money(line.rent_cents, language), kela=_money(line.kela_cents, language),
            account=_money(line.rent_cents - line.kela_cents, language)))
    if line.unpaid_cents:
        key = "short_rent" if line.kind == "rent" else "short_bill"
        notes.append(texts[key].format(amount=_money(line.unpaid_cents, language)))
    return tuple(notes)


def _returned_notes(line: Line, language: str) -> tuple[str, ...]:
    """"Pankki palautti erän, koska tilisi on suljettu. Raha on taas välitystililläsi. …"."""
    texts = TEXTS[language]
    own = line.kind in TO_CLIENT_KINDS and not line.text
    what = RETURNED_WHAT[language].get(line.kind, RETURNED_WHAT[language]["other"])
    group = reason_group(line.reason)
    if group is None:
        said = texts["returned_plain"].format(what=what)
    else:
        said = texts["returned_why"].format(what=what, why=RETURNED_WHY[language][group][not own])
    if not own:
        then = texts["sort_out"]
    elif group in ("closed", "wrong_number"):
        then = texts["new_number"]
    else:
        then = texts["call_worker"]
    return (said, texts["back"], then)


def _rows(lines: tuple[Line, ...], language: str, *, total: bool,
          parts_key: str = "parts_paid", returned: bool = False) -> tuple[_Row, ...]:
    out = [_Row(format_fi_date(line.on) if line.on else "", _label(line, language),
                _money(line.amount_cents, language) if line.amount_cents is not None else "",
                _returned_notes(line, language) if returned else
                _notes(line, language, parts_key))
           for line in lines]
    if returned:
        # Payments sent back for the same reason are explained once, under the last of them.
        out = [replace(row, notes=()) if index + 1 < len(out) and out[index + 1].notes == row.notes
               else row for index, row in enumerate(out)]
    if total and lines:
        out.append(_Row("", TEXTS[language]["total"],
                        _money(sum(line.amount_cents or 0 for line in lines), language),
                        total=True))
    return tuple(out)


# --- the blocks --------------------------------------------------------------------------------


def _blocks(letter: Letter) -> list:
    language = letter.language
    texts = TEXTS[language]
    months = month_words(language, letter.year, letter.month)
    following = month_words(language, *((letter.year + 1, 1) if letter.month == 12
                                        else (letter.year, letter.month + 1)))
    sender = letter.sender
    blocks: list = [
        _Lines((sender.organisation, format_fi_date(letter.dated_on)), "sender"),
        _Lines((texts["title"].format(**months),), "title"),
        _Lines((texts["greeting"].format(name=letter.name),), "greeting"),
        _Para(texts["intro"].format(**months)),
        # The account number is never broken over two lines.
        _Para(texts["service"].format(iban=letter.own_iban.replace(" ", NBSP))),
        _Para(texts["opening"].format(date=format_fi_date(letter.opening_on),
                                      amount=_money(letter.opening_cents, language))),
        _Section(texts["received"], _rows(letter.received, language, total=True),
                 texts["none_received"]),
        _Section(texts["paid"], _rows(letter.paid, language, total=True), texts["none_paid"]),
        _Section(texts["instalments"], _rows(letter.instalments, language, total=True),
                 texts["none_instalments"]),
    ]
    if letter.returned:
        blocks.append(_Section(texts["returned"],
                               _rows(letter.returned, language, total=False, returned=True)))
    blocks.append(_Para(texts["closing"].format(date=format_fi_date(letter.balance_on),
                                                amount=_money(letter.balance_cents, language))))
    if letter.last_day is not None:
        blocks.append(_Para(texts["last_day"].format(date=format_fi_date(letter.last_day))))
    if letter.coming is not None:
        coming = _rows(letter.coming, language, total=False, parts_key="parts_coming")
        blocks.append(_Section(texts["coming"].format(**following), coming,
                               texts["none_coming"],
                               after=texts["expected_note"] if coming else ""))
    if letter.arrears:
        blocks.append(_Section(texts["arrears"], _rows(letter.arrears, language, total=True),
                               before=texts["arrears_note"]))
    if sender.phone:
        ask = (texts["questions_phone_hours"] if sender.hours else texts["questions_phone"]
               ).format(phone=sender.phone, hours=sender.hours)
    else:
        ask = texts["questions"]
    blocks.append(_Para(ask))
    signed = [texts["regards"]]
    if sender.handler:
        signed.append(f"{sender.handler}, {texts['role']}")
    signed.append(sender.organisation)
    blocks.append(_Lines(tuple(signed), "signature"))
    return blocks


# --- text --------------------------------------------------------------------------------------


def _sentences(note: str) -> list[str]:
    """A note one sentence a line (plain language breaks lines where the sense breaks)."""
    return _SENTENCE_RE.split(note)


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, TEXT_WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def render_text(letter: Letter) -> str:
    """The letter as plain text, columns aligned (money right-aligned)."""
    blocks = _blocks(letter)
    rows = [row for block in blocks if isinstance(block, _Section) for row in block.rows]
    label_width = max((len(row.label) for row in rows), default=0)
    amount_width = max((len(row.amount) for row in rows), default=0)

    def table(section: _Section) -> list[str]:
        out = []
        for row in section.rows:
            out.append(f"  {row.day:<10}  {row.label:<{label_width}}  "
                       f"{row.amount:>{amount_width}}".rstrip())
            for note in row.notes:
                for sentence in _sentences(note):
                    out += _wrap(sentence, NOTE_INDENT)
        return out

    out: list[str] = []
    for block in blocks:
        if isinstance(block, _Lines):
            out += block.lines
        elif isinstance(block, _Para):
            out += _wrap(block.text)
        else:
            out.append(block.heading)
            if block.before:
                out += _wrap(block.before, "  ")
            out += table(block) if block.rows else _wrap(block.empty, "  ")
            if block.after:
                out += _wrap(block.after, "  ")
        out.append("")
    return "\n".join(out[:-1]) + "\n"


# --- HTML --------------------------------------------------------------------------------------

_STYLE = """
@page { size: A4; margin: 20mm 20mm 25mm 20mm; }
body { font-family: "DejaVu Serif", Georgia, serif; font-size: 11pt; color: #000;
       max-width: 170mm; margin: 0 auto; line-height: 1.4; }
h1 { font-size: 15pt; margin: 1.5em 0 1.5em 0; }
h2 { font-size: 12pt; margin: 1.4em 0 0.3em 0; }
table { border-collapse: collapse; width: 100%; }
td { padding: 0.15em 0.5em 0.15em 0; vertical-align: top; }
td.date { width: 7em; white-space: nowrap; }
td.amount { text-align: right; white-space: nowrap; width: 8em; }
tr.total td { border-top: 1px solid #000; font-weight: bold; }
tr.note td { font-size: 10pt; padding-top: 0; }
p.sender { text-align: right; }
""".strip()


def render_html(letter: Letter) -> str:
    """The letter as one self-contained, print-ready HTML page."""
    e = html.escape

    def table(rows: tuple[_Row, ...]) -> str:
        body = []
        for row in rows:
            opening = '<tr class="total">' if row.total else "<tr>"
            body.append(f'{opening}<td class="date">{e(row.day)}</td><td>{e(row.label)}</td>'
                        f'<td class="amount">{e(row.amount)}</td></tr>')
            body += [f'<tr class="note"><td class="date"></td><td colspan="2">{e(note)}</td></tr>'
                     for note in row.notes]
        return "<table>\n" + "\n".join(body) + "\n</table>"

    blocks = _blocks(letter)
    parts = []
    for block in blocks:
        if isinstance(block, _Lines):
            if block.kind == "title":
                parts.append(f"<h1>{e(block.lines[0])}</h1>")
            else:
                css = f' class="{block.kind}"' if block.kind == "sender" else ""
                parts.append(f"<p{css}>" + "<br>\n".join(e(line) for line in block.lines)
                             + "</p>")
        elif isinstance(block, _Para):
            parts.append(f"<p>{e(block.text)}</p>")
        else:
            parts.append(f"<h2>{e(block.heading)}</h2>")
            if block.before:
                parts.append(f"<p>{e(block.before)}</p>")
            parts.append(table(block.rows) if block.rows else f"<p>{e(block.empty)}</p>")
            if block.after:
                parts.append(f"<p>{e(block.after)}</p>")
    title = blocks[1].lines[0]
    return ("<!DOCTYPE html>\n"
            f'<html lang="{letter.language}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{e(title)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
