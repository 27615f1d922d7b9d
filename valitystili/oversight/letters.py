"""The monthly letter to a client: what came in, what was paid, what is left and what comes next.

``client_statement()`` gathers the month as data (a frozen ``Letter``); ``render_text()`` and
``render_html()`` (``letter_render``) write it in Finnish, Swedish or English, in plain language
(``letter_words``). Rules of this module:

- **Balances**: the intermediary account's balance at the start of the month (the end of the
  day before its first day) and at the end of its last day, from the ledger.
- **Money received**: credits to the client's ledger account booked in the month
  (``ledger.account_postings``), named by the payer on the bank line (a credit with no bank
  line is a "deposit"; the lines are found through their account and archive ids, so a letter
  reads no other client's lines). Kela under any of its names is "Kela". Returns of our own payments and
  reversals are left out: they undo a payment rather than bring money. Each credit names its
  **benefit** when it comes from a benefit payer (Kela, or the source of an ``[[income]]`` of
  the plan in force on the booking day): the kind the bank message names
  (``letter_words.benefit_in_message``), else the plan's: among the ``[[income]]`` of the plan in force on the booking day whose source
  is the payer, the one kind there is, or else the kind whose amount is closest to the credit
  among those within their tolerance (as matching counts it). Otherwise (no such income, or a
  tie) no benefit is named.
- **Rent and bills paid** / **paid to your own bank account**: the client's payment orders
  executing in the month that were approved, exported, cleared or later returned (not drafts
  or cancelled ones: they paid nothing); rent, electricity and other bills in the first list,
  instalments and a final payment in the second. A rent names **the month it is for** (its
  obligation's period, else the month of its agreed date). A rent or bill that the orders up to
  the month's end did not pay in full says what was left unpaid (on the month's last order of
  it).
- **Returned payments**: orders the bank sent back in the month, with the return reason of the
  bank line that brought the money back.
- **Rent Kela pays part of**: a rent line (paid or coming) whose month Kela pays part of
  directly (the obligation's ``direct_cents``: the share from Kela's decision, else the plan's
  usual ``paid_directly``) also shows the whole rent, Kela's part and the account's part.
- **Next month's payments** (open clients only) are the batch's own decision run forward over
  the next month's banking days (``oversight.coming``), so the letter never promises what the
  batch will not do: every amount is what the batch pays if the incomes come as expected.
- **Unpaid bills**: the client's arrears at the end of the month, as ``reports.arrears_items``
  counts them (read for the one client); the section is left out when there are none.
- **The last day**: a closing date (else a fixed term's end) in the month is the service's last
  day, and the letter says what it means. A letter for a month after the closing date is
  refused.
- **Sender and date**: the organisation, the handler's name, phone and hours come from the
  ``letter_*`` settings (the organisation falls back to ``debtor_name``; a language's own
  organisation and hours to the Finnish ones); the letter is dated ``today``.
- Dates are Finnish (``23.11.2026``) and money ``format_locale`` in every language.
- Reading a client's letter is a view of their data and is audited (action ``view``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import ValidationError
from valitystili.base.identifiers import format_iban
from valitystili.oversight.coming import coming_payments, rent_parts
from valitystili.oversight.letter_render import render_html, render_text
from valitystili.oversight.letter_words import benefit_in_message
from valitystili.oversight.reports import PAYING_STATUSES
from valitystili.people.clients import resolve_client
from valitystili.plans.expected import income_tolerance_cents, tolerance_defaults
from valitystili.plans.versions import approved_versions, in_force
from valitystili.statements.bookings import entry_key, itemise_key
from valitystili.statements.matching import payer_matches
from valitystili.store import settings
from valitystili.store.models import (
    LANGUAGES,
    BankAccount,
    Client,
    Obligation,
    Payee,
    PaymentOrder,
    PlanIncome,
    StatementLine,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor

__all__ = ["Letter", "Line", "Sender", "client_statement", "letter_path", "render_html",
           "render_text"]

#: Order statuses that paid (a returned order paid too, and its money came back).
PAID_STATUSES = ("approved", "exported", "cleared")
SHOWN_STATUSES = (*PAID_STATUSES, "returned")
BILL_KINDS = ("rent", "electricity", "other")
TO_CLIENT_KINDS = ("instalment", "final")
#: The form of a letter file by its suffix; a name without one gets ``DEFAULT_SUFFIX``.
FILE_FORMS = {".html": "html", ".txt": "text"}
DEFAULT_SUFFIX = {"html": ".html", "text": ".txt"}

_PERIOD_RE = re.compile(r":(\d{4})-(\d{2})(?:-\d{2})?$")


# --- the letter as data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One row of a section: ``kind`` picks the words (``payer`` shows ``text`` as it is),
    ``text`` is the payer's or payee's name."""

    on: date | None
    kind: str                  # deposit | payer | rent | electricity | other | instalment | final
    text: str = ""             # payer or payee name ("Kela" for Kela under any name)
    amount_cents: int | None = None
    due_on: date | None = None
    rent_cents: int | None = None    # a rent Kela pays part of: the whole rent,
    kela_cents: int | None = None    # Kela's part, and the account's part (their difference)
    month: str | None = None         # a rent: the month it is for ("2026-11")
    benefit: str | None = None       # money received: the benefit kind ("housing_allowance")
    unpaid_cents: int | None = None  # a rent or bill paid in part: what was left unpaid
    reason: str | None = None        # a returned payment: the bank's return reason ("AC04")


@dataclass(frozen=True)
class Sender:
    """Who writes: from the ``letter_*`` settings, in the letter's language."""

    organisation: str
    handler: str = ""
    phone: str = ""
    hours: str = ""


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


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _balance(session: Session, client: Client, as_of: date) -> int:
    try:
        return ledger.balance(session, client.ledger_code, as_of=as_of)
    except ledger.UnknownAccount:
        return 0


def rent_month(key: str | None, fallback: date | None) -> str | None:
    """The month a rent is for: its obligation key's period (``rent:1:2026-11``), else the
    month of ``fallback`` (its agreed or due date)."""
    found = _PERIOD_RE.search(key or "")
    if found:
        return f"{found.group(1)}-{found.group(2)}"
    return f"{fallback:%Y-%m}" if fallback else None


# --- money received ----------------------------------------------------------------------------


class _Benefits:
    """Names the benefit of a credit (module rules): the message's word, else the plan's."""

    def __init__(self, session: Session, client: Client):
        self.session = session
        self.client_id = client.id
        self.incomes: dict[int, list[PlanIncome]] = {}

    @functools.cached_property
    def versions(self) -> list:
        return approved_versions(self.session, [self.client_id]).get(self.client_id, [])

    @functools.cached_property
    def defaults(self):
        return tolerance_defaults(self.session)

    def _incomes(self, plan) -> list[PlanIncome]:
        if plan is None:
            return []
        if plan.id not in self.incomes:
            self.incomes[plan.id] = list(self.session.execute(
                select(PlanIncome).where(PlanIncome.plan_id == plan.id)
                .order_by(PlanIncome.position)).scalars())
        return self.incomes[plan.id]

    def kind(self, lines: list[StatementLine], payer: str, amount_cents: int,
             on: date) -> str | None:
        plan = in_force(self.versions, on)
        incomes = [i for i in self._incomes(plan) if payer_matches(i.source, payer)]
        if not payer or not (incomes or payer_matches("Kela", payer)):
            return None                  # not a benefit payer: a relative's words name nothing
        from_messages = {benefit_in_message(line.message) for line in lines}
        if len(from_messages) == 1 and None not in from_messages:
            return from_messages.pop()
        kinds = {i.kind for i in incomes}
        if len(kinds) > 1:
            near = [(abs(amount_cents - i.amount_cents), i.kind) for i in incomes
                    if abs(amount_cents - i.amount_cents) <= income_tolerance_cents(
                        i.amount_cents, i.tolerance_cents, i.tolerance_percent, self.defaults)]
            closest = min((difference for difference, _ in near), default=None)
            kinds = {kind for difference, kind in near if difference == closest}
        return kinds.pop() if len(kinds) == 1 else None


def _lines_behind(session: Session, keys: list[str], line_ids: list[int]):
    """A condition finding the statement lines behind these ledger keys through the lines'
    indexes (a statement entry's key names its account and archive id; its items, and a
    notification's, carry that id as their parent), or None when there are none to find."""
    banks = dict(session.execute(select(BankAccount.iban, BankAccount.id)).all()) if keys else {}
    found, other = [], []
    for key in keys:
        if key.startswith("assign:"):
            continue
        before = len(found)
        for iban, bank_id in banks.items():
            for make, own_line in ((entry_key, True), (itemise_key, False)):
                prefix = make(iban, "")
                if not key.startswith(prefix) or key == prefix:
                    continue
                archive_id = key[len(prefix):]
                by_id = StatementLine.parent_archive_id == archive_id
                if own_line:
                    by_id = by_id | (StatementLine.archive_id == archive_id)
                found.append(and_(StatementLine.bank_account_id == bank_id, by_id,
                                  StatementLine.ledger_key == key))
        if len(found) == before:
            other.append(key)          # a key of another form: found by the key itself
    if other:
        found.append(StatementLine.ledger_key.in_(other))
    if line_ids:
        found.append(StatementLine.id.in_(line_ids))
    return or_(*found) if found else None


def _received(session: Session, client: Client, first: date, last: date) -> list[Line]:
    rows = [p for p in ledger.account_postings(session, client.ledger_code, first, last)
            if p.amount_cents < 0]
    # The bank line behind each credit: by the line's ledger key (one entry, or the items of
    # a lump sum sharing it), or the line a handler assigned from suspense (``assign:<line>``).
    keys = [r.key for r in rows]
    assigned = {r.key: int(r.key.split(":", 1)[1]) for r in rows
                if r.key.startswith("assign:") and r.key.split(":", 1)[1].isdigit()}
    by_key: dict[str, list[StatementLine]] = {}
    found = _lines_behind(session, keys, list(assigned.values()))
    if found is not None:
        # The client's own lines only: a lump sum's items share its key across many clients.
        for line in session.execute(select(StatementLine).where(
                StatementLine.client_id == client.id, found).order_by(StatementLine.id)).scalars():
            if line.ledger_key in keys:
                by_key.setdefault(line.ledger_key, []).append(line)
            for key, line_id in assigned.items():
                if line.id == line_id:
                    by_key.setdefault(key, []).append(line)
    benefits = _Benefits(session, client)
    found = []
    for row in rows:
        lines = by_key.get(row.key, [])
        if row.reversal or any(
                line.order_id is not None or line.return_reason is not None for line in lines):
            continue
        payers = {(line.counterparty_name or "").strip() for line in lines}
        payer = payers.pop() if len(payers) == 1 else ""
        amount = -int(row.amount_cents)
        benefit = benefits.kind(lines, payer, amount, row.booked_on)
        if payer and payer_matches("Kela", payer):
            payer = "Kela"
        found.append(Line(row.booked_on, "payer" if payer else "deposit", payer, amount,
                          benefit=benefit))
    return found


# --- payments ----------------------------------------------------------------------------------


def _orders(session: Session, client: Client, first: date, last: date,
            kinds: tuple[str, ...]) -> list[Line]:
    rows = session.execute(
        select(PaymentOrder, Obligation)
        .outerjoin(Obligation, Obligation.id == PaymentOrder.obligation_id)
        .where(
            PaymentOrder.client_id == client.id, PaymentOrder.kind.in_(kinds),
            PaymentOrder.status.in_(SHOWN_STATUSES),
            PaymentOrder.execution_on.between(first, last))
        .order_by(PaymentOrder.execution_on, PaymentOrder.id)).all()
    unpaid = _left_unpaid(session, [o for _, o in rows if o is not None], last)
    # The note goes on the month's last order that paid (a returned one did not).
    last_order = {o.id: order.id for order, o in rows
                  if o is not None and order.status in PAID_STATUSES}
    lines = []
    for order, obligation in rows:
        account = obligation.amount_cents if obligation else None
        direct = obligation.direct_cents if obligation else None
        left = (unpaid.get(obligation.id) if obligation is not None
                and last_order.get(obligation.id) == order.id else None)
        lines.append(Line(
            order.execution_on, order.kind, _payee(order, client), order.amount_cents,
            **rent_parts(order.kind, account, direct),
            month=(rent_month(obligation.key, obligation.agreed_on or obligation.due_on)
                   if order.kind == "rent" and obligation is not None else None),
            unpaid_cents=left or None))
    return lines


def _left_unpaid(session: Session, obligations: list[Obligation], last: date) -> dict[int, int]:
    """What the orders executed up to ``last`` left unpaid of each (not cancelled) obligation."""
    ids = sorted({o.id for o in obligations if o.status != "cancelled"})
    if not ids:
        return {}
    paid: dict[int, int] = dict.fromkeys(ids, 0)
    for obligation_id, cents in session.execute(
            select(PaymentOrder.obligation_id, PaymentOrder.amount_cents).where(
                PaymentOrder.obligation_id.in_(ids), PaymentOrder.status.in_(PAID_STATUSES),
                PaymentOrder.execution_on <= last)).all():
        paid[obligation_id] += int(cents)
    amounts = {o.id: o.amount_cents for o in obligations}
    return {i: amounts[i] - paid[i] for i in ids if amounts[i] > paid[i]}


def _returned(session: Session, client: Client, first: date, last: date) -> list[Line]:
    orders = session.execute(
        select(PaymentOrder).where(
            PaymentOrder.client_id == client.id, PaymentOrder.status == "returned",
            PaymentOrder.returned_on.between(first, last))
        .order_by(PaymentOrder.returned_on, PaymentOrder.id)).scalars().all()
    reasons: dict[int, str] = {}
    if orders:
        for order_id, reason in session.execute(
                select(StatementLine.order_id, StatementLine.return_reason).where(
                    StatementLine.order_id.in_([o.id for o in orders]),
                    StatementLine.return_reason.is_not(None))
                .order_by(StatementLine.id)).all():
            reasons.setdefault(order_id, reason)
    return [Line(o.returned_on, o.kind, _payee(o, client), o.amount_cents,
                 reason=reasons.get(o.id)) for o in orders]


def _payee(order: PaymentOrder, client: Client) -> str:
    """Whom an order paid, as the letter names it: the payee of a bill; "" for the client's own
    bank account (a final payout to a guardian or an estate names them)."""
    if order.kind in BILL_KINDS or (order.kind == "final" and order.creditor_iban != client.iban):
        return order.creditor_name
    return ""


def _arrears(session: Session, client: Client, last: date) -> list[Line]:
    """What is in arrears at the end of ``last``, as ``reports.arrears_items`` counts it, read
    for this client alone (the report's query reads every client's orders)."""
    obligations = session.execute(
        select(Obligation, Payee.name).join(Payee, Payee.id == Obligation.payee_id)
        .where(Obligation.client_id == client.id, Obligation.status != "cancelled",
               Obligation.due_on < last)
        .order_by(Obligation.due_on, Obligation.id)).all()
    if not obligations:
        return []
    paid = dict(session.execute(
        select(PaymentOrder.obligation_id, func.sum(PaymentOrder.amount_cents))
        .where(PaymentOrder.obligation_id.in_([o.id for o, _ in obligations]),
               PaymentOrder.status.in_(PAYING_STATUSES), PaymentOrder.execution_on <= last)
        .group_by(PaymentOrder.obligation_id)).all())
    return [Line(o.due_on, o.kind, payee, o.amount_cents - int(paid.get(o.id, 0)), o.due_on,
                 month=rent_month(o.key, o.due_on) if o.kind == "rent" else None)
            for o, payee in obligations if o.amount_cents > int(paid.get(o.id, 0))]


def _sender(session: Session, language: str) -> Sender:
    stored = {row["key"]: row["value"] for row in settings.all_settings(session)}   # one read

    def own(key: str) -> str:
        return (stored.get(f"{key}_{language}") if language != "fi" else "") or stored[key]

    return Sender(organisation=own("letter_organisation") or stored["debtor_name"],
                  handler=stored["letter_handler"], phone=stored["letter_phone"],
                  hours=own("letter_hours"))


def client_statement(session: Session, actor: Actor, client_ref: str, year: int, month: int,
                     language: str | None = None, *, output: str = "text",
                     today: date | None = None,
                     calendar: BankingCalendar = CALENDAR) -> Letter:
    """The client's letter for a month (see the module rules); the view is audited."""
    actor.require("report")
    client = resolve_client(session, client_ref)
    language = language or client.language or "fi"
    if language not in LANGUAGES:
        raise ValidationError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    first, last = _month_bounds(year, month)
    if client.closed_on is not None and first > client.closed_on:
        raise ValidationError(
            f"client {client.id} was closed on {format_fi_date(client.closed_on)}: there is no "
            f"letter for {year:04d}-{month:02d} (the last one is for {client.closed_on:%Y-%m})")
    next_first, next_last = _month_bounds(*((year + 1, 1) if month == 12 else (year, month + 1)))
    last_day = client.closed_on or client.until_on
    coming = None
    if client.status == "open":
        coming = tuple(Line(c.on, c.kind, c.payee, c.amount_cents, rent_cents=c.rent_cents,
                            kela_cents=c.kela_cents,
                            month=rent_month(c.key, c.on) if c.kind == "rent" else None)
                       for c in coming_payments(session, client, next_first, next_last,
                                                calendar))
    letter = Letter(
        client=client.id, name=client.name, language=language, year=year, month=month,
        dated_on=today or date.today(), own_iban=format_iban(client.iban),
        opening_on=first, opening_cents=_balance(session, client, first - timedelta(days=1)),
        received=tuple(_received(session, client, first, last)),
        paid=tuple(_orders(session, client, first, last, BILL_KINDS)),
        instalments=tuple(_orders(session, client, first, last, TO_CLIENT_KINDS)),
        returned=tuple(_returned(session, client, first, last)),
        balance_on=last, balance_cents=_balance(session, client, last),
        coming=coming,
        arrears=tuple(_arrears(session, client, last)),
        last_day=last_day if last_day is not None and first <= last_day <= last else None,
        sender=_sender(session, language))
    audit.record(session, actor.name, "view", client_id=client.id,
                 subject=f"statement {year:04d}-{month:02d}",
                 detail={"month": f"{year:04d}-{month:02d}", "language": language,
                         "output": output})
    return letter


# --- files -------------------------------------------------------------------------------------


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
