"""The sections of the monthly letter, each read for many clients at once (``oversight.letters``).

Every function here answers for a list of clients and reads each kind of row once per chunk of
them (``store.chunks``: one query per ``CHUNK`` values), so a county's letters cost a few
statements per chunk, not some forty a letter. Rules of the sections:

- **Money received**: credits to the client's ledger account booked in the month
  (``ledger.postings_of``), named by the payer on the bank line (a credit with no bank line is
  a "deposit"). The bank line behind a credit is found through its key, which names the line's
  account and archive id (``bank:<IBAN>:<archive id>``: the entry or its items, whose parent it
  is; ``itemise:<IBAN>:<archive id>``: the items of that parent), read by the lines' indexes;
  a key of another form by the key itself; ``assign:<line>`` is the line a handler assigned
  from suspense. Only the client's own lines count: a lump sum's items share its key across
  many clients. Kela under any of its names is "Kela". Returns of our own payments and
  reversals are left out: they undo a payment rather than bring money. Each credit names its
  **benefit** when it comes from a benefit payer (Kela, or the source of an ``[[income]]`` of
  the plan in force on the booking day): the kind the bank message names
  (``letter_words.benefit_in_message``), else the plan's: among the ``[[income]]`` of the plan
  in force on the booking day whose source is the payer, the one kind there is, or else the
  kind whose amount is closest to the credit among those within their tolerance (as matching
  counts it). Otherwise (no such income, or a tie) no benefit is named.
- **Rent and bills paid** / **paid to your own bank account**: the client's payment orders
  executing in the month that were approved, exported, cleared or later returned (not drafts
  or cancelled ones: they paid nothing); rent, electricity and other bills in the first list,
  instalments and a final payment in the second. A rent names **the month it is for** (its
  obligation's period, else the month of its agreed date). A rent or bill that the orders up to
  the month's end did not pay in full says what was left unpaid (on the month's last order of
  it).
- **Returned payments**: orders the bank sent back in the month, with the return reason of the
  bank line that brought the money back.
- **Rent Kela pays part of**: a rent line whose month Kela pays part of directly (the
  obligation's ``direct_cents``) also shows the whole rent, Kela's part and the account's part
  (``coming.rent_parts``).
- **Unpaid bills**: the client's arrears at the end of the month, as ``reports.arrears_items``
  counts them (read for these clients only).
- **Sender**: the organisation, the handler's name, phone and hours come from the ``letter_*``
  settings (the organisation falls back to ``debtor_name``; a language's own organisation and
  hours to the Finnish ones).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.oversight.coming import rent_parts
from valitystili.oversight.letter_words import benefit_in_message
from valitystili.oversight.reports import PAYING_STATUSES
from valitystili.plans.expected import income_tolerance_cents, tolerance_defaults
from valitystili.plans.versions import approved_versions, in_force
from valitystili.statements.bookings import entry_key, itemise_key
from valitystili.statements.matching import payer_matches
from valitystili.store.chunks import select_in
from valitystili.store.models import (
    ITEM_KINDS,
    BankAccount,
    Client,
    Obligation,
    Payee,
    PaymentOrder,
    PlanIncome,
    StatementLine,
)

#: Order statuses that paid (a returned order paid too, and its money came back).
PAID_STATUSES = ("approved", "exported", "cleared")
SHOWN_STATUSES = (*PAID_STATUSES, "returned")
#: Orders that pay a bill: the kinds of a plan's items.
BILL_KINDS = ITEM_KINDS
TO_CLIENT_KINDS = ("instalment", "final")

_PERIOD_RE = re.compile(r":(\d{4})-(\d{2})(?:-\d{2})?$")


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


def rent_month(key: str | None, fallback: date | None) -> str | None:
    """The month a rent is for: its obligation key's period (``rent:1:2026-11``), else the
    month of ``fallback`` (its agreed or due date)."""
    found = _PERIOD_RE.search(key or "")
    if found:
        return f"{found.group(1)}-{found.group(2)}"
    return f"{fallback:%Y-%m}" if fallback else None


def _ids(clients: Sequence[Client]) -> list[int]:
    return [client.id for client in clients]


# --- money received ----------------------------------------------------------------------------


class _Benefits:
    """Names the benefit of a credit (module rules): the message's word, else the plan's."""

    def __init__(self, session: Session, client_ids: list[int]):
        self.versions = approved_versions(session, client_ids)
        plan_ids = [plan.id for versions in self.versions.values() for plan in versions]
        self.incomes: dict[int, list] = defaultdict(list)
        for income in select_in(session, select(
                PlanIncome.plan_id, PlanIncome.source, PlanIncome.kind, PlanIncome.amount_cents,
                PlanIncome.tolerance_cents, PlanIncome.tolerance_percent)
                .order_by(PlanIncome.plan_id, PlanIncome.position), PlanIncome.plan_id, plan_ids):
            self.incomes[income.plan_id].append(income)
        self.defaults = tolerance_defaults(session)

    def kind(self, client_id: int, lines: list, payer: str, amount_cents: int,
             on: date) -> str | None:
        plan = in_force(self.versions.get(client_id, ()), on)
        incomes = [i for i in (self.incomes.get(plan.id, ()) if plan else ())
                   if payer_matches(i.source, payer)]
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


#: The statement line's columns a letter reads.
_LINE_COLUMNS = (StatementLine.id, StatementLine.bank_account_id, StatementLine.archive_id,
                 StatementLine.parent_archive_id, StatementLine.client_id,
                 StatementLine.ledger_key, StatementLine.counterparty_name,
                 StatementLine.message, StatementLine.order_id, StatementLine.return_reason)


def _named_line(key: str, banks: dict[str, int]) -> tuple[int, str, bool] | None:
    """The line a ledger key names: (bank account id, archive id, whether the entry itself
    carries the key as well as its items), or None for a key of another form."""
    for iban, bank_id in banks.items():
        for make, own_line in ((entry_key, True), (itemise_key, False)):
            prefix = make(iban, "")
            if key.startswith(prefix) and key != prefix:
                return bank_id, key[len(prefix):], own_line
    return None


def _is_behind(line, key: str, banks: dict[str, int]) -> bool:
    """Is ``line`` one the credit booked under ``key`` came from (module rules)?"""
    if line.ledger_key != key:
        return False
    named = _named_line(key, banks)
    if named is None:
        return True
    bank_id, archive_id, own_line = named
    return line.bank_account_id == bank_id and (
        line.parent_archive_id == archive_id or (own_line and line.archive_id == archive_id))


def _lines_read(session: Session, keys: set[str], line_ids: set[int],
                banks: dict[str, int]) -> list:
    """The statement lines the keys name and those of ``line_ids``, through the lines' indexes
    (by account and archive id, or parent archive id), by line id."""
    own: dict[int, set[str]] = defaultdict(set)       # bank -> archive ids of entries
    parents: dict[int, set[str]] = defaultdict(set)   # bank -> archive ids items hang on
    other: set[str] = set()
    for key in keys:
        named = _named_line(key, banks)
        if named is None:
            other.add(key)
            continue
        bank_id, archive_id, own_line = named
        parents[bank_id].add(archive_id)
        if own_line:
            own[bank_id].add(archive_id)
    query = select(*_LINE_COLUMNS)
    found = {}
    for bank_id, archives in own.items():
        found.update((line.id, line) for line in select_in(session, query.where(
            StatementLine.bank_account_id == bank_id), StatementLine.archive_id, sorted(archives)))
    for bank_id, archives in parents.items():
        found.update((line.id, line) for line in select_in(session, query.where(
            StatementLine.bank_account_id == bank_id), StatementLine.parent_archive_id,
            sorted(archives)))
    found.update((line.id, line) for line in select_in(
        session, query, StatementLine.ledger_key, sorted(other)))
    found.update((line.id, line) for line in select_in(
        session, query, StatementLine.id, sorted(line_ids)))
    return [found[line_id] for line_id in sorted(found)]


def received(session: Session, clients: Sequence[Client], first: date, last: date
             ) -> dict[int, list[Line]]:
    """Each client's money received in [first, last] (module rules), by client id."""
    credits = {code: [p for p in postings if p.amount_cents < 0] for code, postings
               in ledger.postings_of(session, [c.ledger_code for c in clients], first,
                                     last).items()}
    assigned = {p.key: int(p.key.split(":", 1)[1]) for postings in credits.values()
                for p in postings
                if p.key.startswith("assign:") and p.key.split(":", 1)[1].isdigit()}
    keys = {p.key for postings in credits.values() for p in postings
            if not p.key.startswith("assign:")}
    banks = dict(session.execute(select(BankAccount.iban, BankAccount.id)).all()) if (
        keys or assigned) else {}
    by_client: dict[int, list] = defaultdict(list)
    for line in _lines_read(session, keys, set(assigned.values()), banks):
        by_client[line.client_id].append(line)
    benefits = _Benefits(session, _ids(clients))
    found: dict[int, list[Line]] = {}
    for client in clients:
        postings = credits.get(client.ledger_code, [])
        own_keys = {p.key for p in postings}
        by_key: dict[str, list] = {}
        for line in by_client.get(client.id, ()):
            for key in own_keys:
                if _is_behind(line, key, banks) or assigned.get(key) == line.id:
                    by_key.setdefault(key, []).append(line)
        found[client.id] = _received_lines(client, postings, by_key, benefits)
    return found


def _received_lines(client: Client, postings: list, by_key: dict[str, list],
                    benefits: _Benefits) -> list[Line]:
    found = []
    for posting in postings:
        lines = by_key.get(posting.key, [])
        if posting.reversal or any(
                line.order_id is not None or line.return_reason is not None for line in lines):
            continue
        payers = {(line.counterparty_name or "").strip() for line in lines}
        payer = payers.pop() if len(payers) == 1 else ""
        amount = -int(posting.amount_cents)
        benefit = benefits.kind(client.id, lines, payer, amount, posting.booked_on)
        if payer and payer_matches("Kela", payer):
            payer = "Kela"
        found.append(Line(posting.booked_on, "payer" if payer else "deposit", payer, amount,
                          benefit=benefit))
    return found


# --- payments ----------------------------------------------------------------------------------


def paid(session: Session, clients: Sequence[Client], first: date, last: date
         ) -> dict[int, tuple[list[Line], list[Line]]]:
    """Each client's (rent and bills paid, payments to their own account) of the orders
    executing in [first, last] (module rules), by client id."""
    rows: dict[int, list] = defaultdict(list)
    for row in select_in(session, select(
            PaymentOrder.id, PaymentOrder.client_id, PaymentOrder.kind, PaymentOrder.status,
            PaymentOrder.execution_on, PaymentOrder.amount_cents, PaymentOrder.creditor_name,
            PaymentOrder.creditor_iban, Obligation.id.label("obligation_id"),
            Obligation.amount_cents.label("obligation_cents"), Obligation.direct_cents,
            Obligation.key, Obligation.agreed_on, Obligation.due_on,
            Obligation.status.label("obligation_status"))
            .outerjoin(Obligation, Obligation.id == PaymentOrder.obligation_id)
            .where(PaymentOrder.kind.in_(BILL_KINDS + TO_CLIENT_KINDS),
                   PaymentOrder.status.in_(SHOWN_STATUSES),
                   PaymentOrder.execution_on.between(first, last))
            .order_by(PaymentOrder.execution_on, PaymentOrder.id),
            PaymentOrder.client_id, _ids(clients)):
        rows[row.client_id].append(row)
    unpaid = _left_unpaid(session, [row for client_rows in rows.values() for row in client_rows],
                          last)
    return {client.id: tuple(_order_lines(client, [r for r in rows.get(client.id, ())
                                                   if r.kind in kinds], unpaid)
                             for kinds in (BILL_KINDS, TO_CLIENT_KINDS))
            for client in clients}


def _order_lines(client: Client, rows: list, unpaid: dict[int, int]) -> list[Line]:
    # The note goes on the month's last order that paid (a returned one did not).
    last_order = {row.obligation_id: row.id for row in rows
                  if row.obligation_id is not None and row.status in PAID_STATUSES}
    lines = []
    for row in rows:
        has_obligation = row.obligation_id is not None
        left = (unpaid.get(row.obligation_id) if has_obligation
                and last_order.get(row.obligation_id) == row.id else None)
        lines.append(Line(
            row.execution_on, row.kind, _payee(row, client), row.amount_cents,
            **rent_parts(row.kind, row.obligation_cents if has_obligation else None,
                         row.direct_cents if has_obligation else None),
            month=(rent_month(row.key, row.agreed_on or row.due_on)
                   if row.kind == "rent" and has_obligation else None),
            unpaid_cents=left or None))
    return lines


def _left_unpaid(session: Session, rows: list, last: date) -> dict[int, int]:
    """What the orders executed up to ``last`` left unpaid of each (not cancelled) obligation
    of these order rows."""
    amounts = {row.obligation_id: row.obligation_cents for row in rows
               if row.obligation_id is not None and row.obligation_status != "cancelled"}
    paid_cents = dict(select_in(session, select(
        PaymentOrder.obligation_id, func.sum(PaymentOrder.amount_cents))
        .where(PaymentOrder.status.in_(PAID_STATUSES), PaymentOrder.execution_on <= last)
        .group_by(PaymentOrder.obligation_id), PaymentOrder.obligation_id, sorted(amounts)))
    return {i: amounts[i] - int(paid_cents.get(i, 0)) for i in amounts
            if amounts[i] > int(paid_cents.get(i, 0))}


def returned(session: Session, clients: Sequence[Client], first: date, last: date
             ) -> dict[int, list[Line]]:
    """Each client's payments the bank sent back in [first, last], by client id."""
    orders: dict[int, list] = defaultdict(list)
    for order in select_in(session, select(
            PaymentOrder.id, PaymentOrder.client_id, PaymentOrder.kind,
            PaymentOrder.returned_on, PaymentOrder.amount_cents, PaymentOrder.creditor_name,
            PaymentOrder.creditor_iban)
            .where(PaymentOrder.status == "returned",
                   PaymentOrder.returned_on.between(first, last))
            .order_by(PaymentOrder.returned_on, PaymentOrder.id),
            PaymentOrder.client_id, _ids(clients)):
        orders[order.client_id].append(order)
    reasons: dict[int, str] = {}
    for order_id, reason in select_in(session, select(
            StatementLine.order_id, StatementLine.return_reason)
            .where(StatementLine.return_reason.is_not(None)).order_by(StatementLine.id),
            StatementLine.order_id, sorted(o.id for rows in orders.values() for o in rows)):
        reasons.setdefault(order_id, reason)
    return {client.id: [Line(o.returned_on, o.kind, _payee(o, client), o.amount_cents,
                             reason=reasons.get(o.id)) for o in orders.get(client.id, ())]
            for client in clients}


def _payee(order, client: Client) -> str:
    """Whom an order paid, as the letter names it: the payee of a bill; "" for the client's own
    bank account (a final payout to a guardian or an estate names them)."""
    if order.kind in BILL_KINDS or (order.kind == "final" and order.creditor_iban != client.iban):
        return order.creditor_name
    return ""


def arrears(session: Session, clients: Sequence[Client], last: date) -> dict[int, list[Line]]:
    """Each client's arrears at the end of ``last``, as ``reports.arrears_items`` counts them,
    read for these clients alone (the report's query reads every client's orders)."""
    obligations: dict[int, list] = defaultdict(list)
    for row in select_in(session, select(
            Obligation.id, Obligation.client_id, Obligation.kind, Obligation.key,
            Obligation.amount_cents, Obligation.due_on, Payee.name.label("payee"))
            .join(Payee, Payee.id == Obligation.payee_id)
            .where(Obligation.status != "cancelled", Obligation.due_on < last)
            .order_by(Obligation.due_on, Obligation.id), Obligation.client_id, _ids(clients)):
        obligations[row.client_id].append(row)
    paid_cents = dict(select_in(session, select(
        PaymentOrder.obligation_id, func.sum(PaymentOrder.amount_cents))
        .where(PaymentOrder.status.in_(PAYING_STATUSES), PaymentOrder.execution_on <= last)
        .group_by(PaymentOrder.obligation_id), PaymentOrder.obligation_id,
        sorted(o.id for rows in obligations.values() for o in rows)))
    return {client.id: [
        Line(o.due_on, o.kind, o.payee, o.amount_cents - int(paid_cents.get(o.id, 0)), o.due_on,
             month=rent_month(o.key, o.due_on) if o.kind == "rent" else None)
        for o in obligations.get(client.id, ()) if o.amount_cents > int(paid_cents.get(o.id, 0))]
        for client in clients}


def sender(stored: dict[str, str], language: str) -> Sender:
    """The sender in ``language`` from the stored settings (``settings.all_settings``)."""
    def own(key: str) -> str:
        return (stored.get(f"{key}_{language}") if language != "fi" else "") or stored[key]

    return Sender(organisation=own("letter_organisation") or stored["debtor_name"],
                  handler=stored["letter_handler"], phone=stored["letter_phone"],
                  hours=own("letter_hours"))
