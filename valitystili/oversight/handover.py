"""Closing the service and the handover pack: what the client, Kela and the books are given.

Rules of this module:

- ``close_service`` is ``client close``: the reason is required (``periods.CLOSE_REASONS``),
  the closing itself is ``people.clients.close_client`` (obligations after the date cancelled,
  the period written, the final payout to the client's own account or, approved by a second
  handler, to a guardian or an estate), and a Kela payment demand (EV 241N) still open raises
  *payment_demand_ends* (``flags.closing``): Kela must be told.
- **The handover pack** (``handover_pack``; ``write_pack`` writes it into a folder) is for a
  closed client, read as of the closing (or later: the pack can be written again, e.g. after
  the final payout has gone):

  ``final-statement.html`` / ``final-statement.txt``
      the monthly letter (``oversight.letters``, its own wording) for the closing's month (or
      ``month``);
  ``standing-payments.txt`` / ``.csv``
      what the account paid under the plan in force on the closing date and the client now
      pays themselves: payee, account, amount (the account's part: the whole less what Kela
      usually pays the landlord directly; a bills item "as billed"), due day of the month (a
      schedule that is not one day a month is shown as its rule), reference or message. The
      text is in the client's language;
  ``kela-notice.txt``
      the text for telling Kela that the payment account change and the payment demand end
      (in Swedish for a Swedish-speaking client, else in Finnish): the benefits the plan routes
      to the account by the client's own declaration or agreement, and those under a payment
      demand (the plan's ``payment_demand_ev241n`` incomes and the open EV 241N records). The
      identity code is masked unless ``show_hetu`` (needs ``client.hetu``; audited as such);
  ``account-history.csv``
      every posting on the client's ledger account, oldest first: day, what it was, amount in
      (+) or out (−), the balance after it, the ledger key.

- CSV files follow the command line's rules: money as euros with a dot in ``*_eur`` columns,
  ISO dates, and a text cell a spreadsheet would run as a formula gets a leading ``'``.
- The files are staged next to their names and appear when the caller's transaction commits
  (``files.stage``): all of them, or none. An existing file is refused unless ``force``.
  Writing the pack is audited (``client.handover``) with the file names.
"""

from __future__ import annotations

import csv
import io
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base import files
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, ValidationError
from valitystili.base.identifiers import format_iban, mask_hetu
from valitystili.base.money import format_locale, format_plain
from valitystili.flags import closing as closing_flags
from valitystili.oversight import letters
from valitystili.oversight.letter_words import benefit_name
from valitystili.people import clients, periods, records
from valitystili.plans.plans import plan_incomes, plan_items
from valitystili.plans.versions import plan_in_force
from valitystili.store.models import (
    CLOSE_REASONS,
    BankAccount,
    Client,
    Payee,
    PaymentOrder,
    StatementLine,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor

PACK_FILES = ("final-statement.html", "final-statement.txt", "standing-payments.txt",
              "standing-payments.csv", "kela-notice.txt", "account-history.csv")
#: Incomes Kela pays to the account by the client's own declaration or an agreement.
DECLARED_ROUTES = ("client_declared_account", "agreement")
DEMAND_ROUTE = "payment_demand_ev241n"
#: A CSV text cell starting with one of these would run as a formula (as ``cli.output``).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: How wide the plain-text files' paragraphs are.
TEXT_WIDTH = 78
_GROUPED_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: [0-9A-Z]{1,4})+")
_KEEP = "\x1f"          # holds an IBAN's spaces while a paragraph is wrapped
_MONTHLY_DAY = re.compile(r"FREQ=MONTHLY;BYMONTHDAY=([0-9]{1,2})")


# --- closing ------------------------------------------------------------------------------------


def close_service(session: Session, actor: Actor, client: str | int, *, closed_on: date,
                  reason: str | None, note: str | None = None, final_payout: bool = False,
                  payout_to: str | None = None, payee: str | None = None,
                  today: date | None = None) -> dict:
    """``client close``: end the service with a reason (see the module rules)."""
    today = today or date.today()
    if reason is None:
        raise ValidationError(f"give the reason the service ends: --reason "
                              f"{'|'.join(CLOSE_REASONS)}")
    closed = clients.close_client(session, actor, client, closed_on=closed_on,
                                  final_payout=final_payout, reason=reason, note=note,
                                  payout_to=payout_to, payee=payee)
    period = periods.last_period(session, closed["client"])
    raised = closing_flags.raise_for(session, closed["client"], today)
    return {**closed, "period": period.number, "reason": reason,
            "reason_label": periods.reason_label(reason), "note": note,
            **periods.payout_row(period), "kela_to_tell": [flag.detail for flag in raised]}


# --- the pack -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """One payment the client now makes themselves."""

    payee: str
    iban: str
    kind: str
    amount_cents: int | None          # None: as billed
    kela_cents: int                   # what Kela usually pays the landlord directly
    due_day: int | None
    schedule: str | None
    reference: str | None
    message: str | None


WORDS = {
    "fi": {
        "title": "Maksut, jotka maksat itse {next_day} alkaen",
        "intro": ("Välitystili maksoi nämä maksut puolestasi {last_day} asti. Sen jälkeen maksat "
                  "ne itse omalta pankkitililtäsi."),
        "none": "Välitystili ei maksanut puolestasi säännöllisiä maksuja.",
        "kinds": {"rent": "vuokra", "electricity": "sähkö", "other": "muu maksu"},
        "account": "Tilinumero", "amount": "Summa", "due": "Eräpäivä", "reference": "Viitenumero",
        "message": "Viesti", "as_billed": "laskun mukaan",
        "due_day": "kuukauden {day}. päivä",
        "kela": " (Kela maksaa lisäksi {amount} suoraan vuokranantajalle)",
    },
    "sv": {
        "title": "Betalningar som du betalar själv från {next_day}",
        "intro": ("Förmedlingskontot betalade de här betalningarna för dig till och med "
                  "{last_day}. Efter det betalar du dem själv från ditt eget bankkonto."),
        "none": "Förmedlingskontot betalade inga regelbundna betalningar för dig.",
        "kinds": {"rent": "hyra", "electricity": "el", "other": "annan betalning"},
        "account": "Kontonummer", "amount": "Belopp", "due": "Förfallodag",
        "reference": "Referensnummer", "message": "Meddelande", "as_billed": "enligt räkningen",
        "due_day": "den {day} varje månad",
        "kela": " (FPA betalar dessutom {amount} direkt till hyresvärden)",
    },
    "en": {
        "title": "Payments you make yourself from {next_day}",
        "intro": ("The intermediary account paid these for you until {last_day}. From then on "
                  "you pay them yourself from your own bank account."),
        "none": "The intermediary account made no regular payments for you.",
        "kinds": {"rent": "rent", "electricity": "electricity", "other": "other payment"},
        "account": "Account", "amount": "Amount", "due": "Due", "reference": "Reference",
        "message": "Message", "as_billed": "as billed",
        "due_day": "day {day} of each month",
        "kela": " (Kela also pays {amount} straight to the landlord)",
    },
}

KELA_WORDS = {
    "fi": {
        "title": "Ilmoitus Kelalle: välitystili päättyy",
        "client": "Asiakas", "hetu": "Henkilötunnus",
        "ends": "Asiakkaan välitystilipalvelu päättyy {last_day}.",
        "account": ("Maksuosoitteen muutos päättyy. Etuudet, jotka on maksettu välitystilille "
                    "{city}, maksetaan {next_day} alkaen asiakkaan omalle tilille {own} (ellei "
                    "asiakas tai hänen edunvalvojansa ilmoita Kelalle muuta tiliä)."),
        "benefits": "Etuudet:",
        "demand": "Maksatuspyyntö (lomake EV 241N) päättyy {last_day}. Se koski etuuksia:",
        "sender": "Lähettäjä",
    },
    "sv": {
        "title": "Meddelande till FPA: förmedlingskontot upphör",
        "client": "Klient", "hetu": "Personbeteckning",
        "ends": "Klientens förmedlingskontotjänst upphör {last_day}.",
        "account": ("Ändringen av betalningsadressen upphör. Förmåner som har betalats till "
                    "förmedlingskontot {city} betalas från {next_day} till klientens eget konto "
                    "{own} (om inte klienten eller hens intressebevakare meddelar FPA ett annat "
                    "konto)."),
        "benefits": "Förmåner:",
        "demand": "Betalningsbegäran (blankett EV 241N) upphör {last_day}. Den gällde förmånerna:",
        "sender": "Avsändare",
    },
}


def _closed(session: Session, client: str | int) -> Client:
    found = clients.resolve_client(session, client)
    if found.status != "closed" or found.closed_on is None:
        raise Conflict(f"client {found.id} is open: the handover pack is written when the "
                       "service closes")
    return found


def standing_payments(session: Session, client: Client) -> list[Standing]:
    """What the account paid under the plan in force on the closing date (see the rules)."""
    plan = plan_in_force(session, client.id, client.closed_on)
    if plan is None:
        return []
    found = []
    for item in plan_items(session, plan):
        if item.paid_by != "account":
            continue
        payee = session.get(Payee, item.payee_id)
        day = _MONTHLY_DAY.fullmatch(item.schedule or "")
        amount = None if item.bills else item.amount_cents - item.paid_directly_cents
        found.append(Standing(payee.name, payee.iban, item.kind, amount,
                              0 if item.bills else item.paid_directly_cents,
                              int(day.group(1)) if day else None,
                              None if day else item.schedule, item.reference, item.message))
    return found


def standing_text(payments: list[Standing], language: str, last_day: date) -> str:
    words = WORDS[language]
    lines = [words["title"].format(next_day=format_fi_date(last_day + timedelta(days=1))), "",
             _fill(words["intro"].format(last_day=format_fi_date(last_day))), ""]
    if not payments:
        lines.append(_fill(words["none"]))
    for number, payment in enumerate(payments, 1):
        amount = (words["as_billed"] if payment.amount_cents is None
                  else format_locale(payment.amount_cents, language))
        if payment.kela_cents:
            amount += words["kela"].format(amount=format_locale(payment.kela_cents, language))
        due = (words["due_day"].format(day=payment.due_day) if payment.due_day is not None
               else payment.schedule or words["as_billed"])
        lines += [f"{number}. {payment.payee} – {words['kinds'].get(payment.kind, payment.kind)}",
                  f"   {words['account']}: {format_iban(payment.iban)}",
                  f"   {words['amount']}: {amount}",
                  f"   {words['due']}: {due}"]
        if payment.reference:
            lines.append(f"   {words['reference']}: {payment.reference}")
        elif payment.message:
            lines.append(f"   {words['message']}: {payment.message}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def standing_csv(payments: list[Standing]) -> str:
    return _csv(["payee", "iban", "kind", "amount_eur", "kela_pays_eur", "due_day", "schedule",
                 "reference", "message"],
                [[p.payee, p.iban, p.kind,
                  None if p.amount_cents is None else format_plain(p.amount_cents),
                  format_plain(p.kela_cents), p.due_day, p.schedule, p.reference, p.message]
                 for p in payments], text_columns=(0, 2, 6, 7, 8))


def kela_notice(session: Session, client: Client, *, show_hetu: bool, sender: str) -> str:
    """The text for telling Kela that the payment account change and the demand end."""
    language = "sv" if client.language == "sv" else "fi"
    words = KELA_WORDS[language]
    last_day = client.closed_on
    plan = plan_in_force(session, client.id, last_day)
    incomes = plan_incomes(session, plan) if plan is not None else []
    declared = _names((i.kind for i in incomes if i.route in DECLARED_ROUTES), language)
    demanded = _names((i.kind for i in incomes if i.route == DEMAND_ROUTE), language)
    for record in records.open_payment_demands(session, client.id):
        benefits = (record.detail or {}).get("benefits")
        if benefits and benefits not in demanded:
            demanded.append(benefits)
    city = ", ".join(format_iban(iban) for iban in session.execute(
        select(BankAccount.iban).order_by(BankAccount.id)).scalars())
    lines = [words["title"], "",
             f"{words['client']}: {client.name}",
             f"{words['hetu']}: {client.hetu if show_hetu else mask_hetu(client.hetu)}", "",
             _fill(words["ends"].format(last_day=format_fi_date(last_day))), "",
             _fill(words["account"].format(city=city, own=format_iban(client.iban),
                                           next_day=format_fi_date(last_day + timedelta(days=1))))]
    if declared:
        lines += ["", words["benefits"], *(f"- {name}" for name in declared)]
    if demanded:
        lines += ["", _fill(words["demand"].format(last_day=format_fi_date(last_day))),
                  *(f"- {name}" for name in demanded)]
    lines += ["", f"{words['sender']}: {sender}"]
    return "\n".join(lines) + "\n"


def _fill(paragraph: str) -> str:
    """A paragraph wrapped for a plain-text file; an IBAN in groups is never broken."""
    kept = _GROUPED_IBAN.sub(lambda found: found.group(0).replace(" ", _KEEP), paragraph)
    return textwrap.fill(kept, TEXT_WIDTH, break_long_words=False,
                         break_on_hyphens=False).replace(_KEEP, " ")


def _names(kinds: Iterable[str], language: str) -> list[str]:
    names: list[str] = []
    for kind in kinds:
        name = benefit_name(kind, language) or kind
        if name not in names:
            names.append(name)
    return names


def account_history(session: Session, client: Client) -> str:
    """Every posting on the client's account, with what it was and the balance after it."""
    postings = ledger.account_postings(session, client.ledger_code)
    keys = [p.key for p in postings]
    orders = {o.key: o for o in session.execute(select(PaymentOrder).where(PaymentOrder.key.in_(
        [k.split(":", 1)[1] if k.startswith("cancel:") else k for k in keys]))).scalars()}
    by_id = {int(k.split(":", 1)[1]): k for k in keys
             if k.startswith(("assign:", "split:")) and k.split(":", 1)[1].isdigit()}
    lines = {}
    for line in session.execute(select(StatementLine).where(
            StatementLine.ledger_key.in_(keys) | StatementLine.id.in_(list(by_id)))).scalars():
        lines.setdefault(by_id.get(line.id, line.ledger_key), line)
    rows, balance = [], 0
    for posting in postings:
        amount = -posting.amount_cents            # a liability: a credit is money in
        balance += amount
        rows.append([posting.booked_on.isoformat(),
                     _described(posting.key, orders, lines.get(posting.key)),
                     format_plain(amount), format_plain(balance), posting.key])
    return _csv(["booked_on", "description", "amount_eur", "balance_eur", "key"], rows,
                text_columns=(1, 4))


def _described(key: str, orders: dict, line: StatementLine | None) -> str:
    if key.startswith("cancel:") and key[len("cancel:"):] in orders:
        order = orders[key[len("cancel:"):]]
        return f"taken out of the batch: {order.kind} to {order.creditor_name}"
    if key in orders:
        return f"{orders[key].kind} to {orders[key].creditor_name}"
    if line is not None:
        if line.order_id is not None:
            return f"returned by the bank: {line.counterparty_name or 'payment'}"
        how = {"assign": " (assigned by a handler)", "split": " (split by a handler)"}.get(
            key.split(":", 1)[0], "")
        return f"from {line.counterparty_name or 'unknown payer'}{how}"
    return key


def _csv(header: list[str], rows: list[list], text_columns: tuple[int, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["'" + cell if index in text_columns and isinstance(cell, str)
                         and cell.startswith(FORMULA_START) else ("" if cell is None else cell)
                         for index, cell in enumerate(row)])
    return buffer.getvalue()


def handover_pack(session: Session, actor: Actor, client: str | int, *,
                  month: tuple[int, int] | None = None, show_hetu: bool = False,
                  today: date | None = None) -> dict[str, str]:
    """The pack's files by name (see the module rules); reading the letter is audited."""
    actor.require("client.close")
    if show_hetu:
        actor.require("client.hetu")
    found = _closed(session, client)
    year, number = month or (found.closed_on.year, found.closed_on.month)
    letter = letters.client_statement(session, actor, str(found.id), year, number,
                                      output="handover", today=today)
    payments = standing_payments(session, found)
    language = found.language if found.language in WORDS else "fi"
    if show_hetu:
        audit.record(session, actor.name, "client.view_hetu", client_id=found.id,
                     subject=f"client:{found.id}",
                     detail={"hetu_shown": True, "in": "kela-notice.txt"})
    return {
        "final-statement.html": letters.render(letter, "html"),
        "final-statement.txt": letters.render(letter, "text"),
        "standing-payments.txt": standing_text(payments, language, found.closed_on),
        "standing-payments.csv": standing_csv(payments),
        "kela-notice.txt": kela_notice(session, found, show_hetu=show_hetu,
                                       sender=letter.sender.organisation),
        "account-history.csv": account_history(session, found),
    }


def write_pack(session: Session, actor: Actor, client: str | int, out: Path, *,
               force: bool = False, month: tuple[int, int] | None = None,
               show_hetu: bool = False, today: date | None = None) -> dict:
    """Stage the pack in the folder ``out`` (made when missing); the files appear when the
    caller's transaction commits."""
    pack = handover_pack(session, actor, client, month=month, show_hetu=show_hetu, today=today)
    found = clients.resolve_client(session, client)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"--out {out} is not a folder")
    if not out.parent.is_dir():
        raise ValidationError(f"folder {out.parent} does not exist")
    out.mkdir(mode=0o700, exist_ok=True)
    staged = []
    try:
        for name in PACK_FILES:
            staged.append(files.stage(out / name, pack[name].encode("utf-8"), force=force))
    except BaseException:
        for done in staged:
            done.discard()
        raise
    _publish_on_commit(session, staged)
    audit.record(session, actor.name, "client.handover", client_id=found.id,
                 subject=f"client:{found.id}",
                 detail={"folder": str(out), "files": list(PACK_FILES), "hetu_shown": show_hetu})
    return {"client": found.id, "folder": str(out), "files": list(PACK_FILES)}


def _publish_on_commit(session: Session, staged: list[files.StagedFile]) -> None:
    """The staged files take their names after the commit; any other end removes them (as
    ``payments.approval`` publishes a payment file)."""
    def publish(_session: Session) -> None:
        for one in staged:
            one.publish()

    def ended(_session: Session, transaction) -> None:
        if transaction.parent is None:
            for one in staged:
                one.discard()

    event.listen(session, "after_commit", publish, once=True)
    event.listen(session, "after_transaction_end", ended)
