"""Reconciliation's checks: does the ledger agree with the bank and with itself? (DESIGN §4, §7, §8)

Each check is a function ``(session, context) -> list[Finding]`` that reads and writes nothing;
``CHECKS`` registers them, in the order their findings are reported, and ``run_checks`` runs
them (``reconcile`` runs the checks and then keeps flags and the audit entry). A new check is a
function here and a line in ``CHECKS``.

The checks, each a ``Finding.check`` name (details are English for handlers; money in them is
``1 234,56 €`` as everywhere people read, in ``amount_cents`` integer cents):

- ``statement_balance``: for every imported statement with a closing balance dated on or before
  ``as_of``, the ledger's ``bank:<IBAN>`` balance at the end of the closing day equals the
  bank's closing balance. ``amount_cents`` is ledger minus bank. An intraday report (camt.052,
  ``statements.sources.INTRADAY_SOURCES``) is not compared: its balance is interim, taken
  during a day whose later entries the next morning's statement brings.
- ``statement_line_unbooked``: every booked statement line is in the ledger: its ``ledger_key``
  names a ledger transaction. A line without a key is unbooked, except an item whose entry is
  booked (items that move nothing — suspense to suspense — carry no key of their own).
- ``lump_sum_not_itemised``: a lump sum the bank itemises (state ``bank_only``) is covered by
  its items (same account, ``parent_archive_id``): they must add up to it (``amount_cents`` is
  the lump sum minus the items).
- ``notified_not_on_statement``: items notified (camt.054, booked to ``incoming:<IBAN>``) whose
  entry no statement has carried ``uncleared_after_banking_days`` banking days later.
- ``balance_equation``: the bank accounts hold exactly what the liability accounts owe
  (clients + outgoing + suspense + any other clearing account): bank − liabilities = 0, in total
  (clients are not split by bank account). ``amount_cents`` is the difference.
- ``client_negative``: no client account below zero.
- ``uncleared_payment``: no approved or exported order still waiting to leave the bank more than
  ``uncleared_after_banking_days`` banking days after its execution day (see ``flags.conditions``).
- ``suspense_old``: no statement line left in ``suspense`` for more than
  ``suspense_flag_after_days`` days.
- ``order_not_debited`` / ``order_debit_mismatch`` / ``order_batch_state`` /
  ``batch_changed_after_approval`` (``check_payment_orders``): every order that approval
  debited (approved, exported, cleared, returned) has exactly one client debit of its amount:
  the ledger transaction whose key is the order key, with the legs ``client:<no>`` (a refund's:
  ``suspense``) +amount and ``outgoing`` −amount, not reversed (else *not debited*, or
  *mismatch* when the legs differ);
  a draft order has no such transaction, and a cancelled one has none or has it reversed (else
  *mismatch*); a batch past its draft holds no draft order (it would be paid undebited), a
  draft batch no debited order, a cancelled batch nothing but cancelled orders
  (*batch state*); and every approved batch still gives the digest of the payments approval
  covered (``batches.changes_after_approval``).
  Subject: the order key (the batch key for the last); ``amount_cents``: the order (batch).
- ``ledger_<check>`` / ``audit_chain``, ``audit_coverage``, ``audit_state``: ``ledger.verify()``
  and ``audit_verify.verify()`` findings (the hash chain; ledger transactions no audited action
  posted; users, settings and batches changed behind the service's back).
- ``audit_rewound`` / ``audit_rewritten``: the audit trail no longer holds the head (last
  position and hash) the previous reconcile recorded: it ends before it, or another entry is
  there (``audit.check_recorded_head``).

Balances "as of" today or later are the ledger's stored running balances; an earlier day sums
postings. The ledger is read through its public reads (``ledger.balances_by_day``,
``ledger.find_transactions``, ``ledger.key_exists`` …), never its tables. The checks read every
statement, statement line and (through ``ledger.verify``) posting: a full nightly audit, whose
cost grows with history, not a daily-work job.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

import ledger
from valitystili.base.accounts import BANK_PREFIX, OUTGOING, SUSPENSE
from valitystili.base.banking_calendar import BankingCalendar
from valitystili.base.findings import Finding, from_ledger
from valitystili.base.i18n import N_, Message
from valitystili.flags import conditions
from valitystili.flags.conditions import client_id_of, eur
from valitystili.statements.sources import INTRADAY_SOURCES
from valitystili.store import settings
from valitystili.store.models import (
    BANK_ONLY,
    IN_SUSPENSE,
    BankAccount,
    Statement,
    StatementLine,
)
from valitystili.trust import audit, audit_verify


@dataclass(frozen=True)
class CheckContext:
    """What every check is given: the day judged, the banking calendar, and the balances of all
    accounts at the end of that day (read once for the checks that need them)."""

    as_of: date
    calendar: BankingCalendar
    balances: tuple[ledger.AccountBalance, ...]


Check = Callable[[Session, CheckContext], list[Finding]]


def context_for(session: Session, as_of: date, calendar: BankingCalendar,
                today: date) -> CheckContext:
    """The context of a run as of ``as_of`` (stored balances when ``as_of`` is today or later)."""
    return CheckContext(as_of, calendar,
                        tuple(ledger.balances(session, None if as_of >= today else as_of)))


# --- the bank's statements -------------------------------------------------------------------


def _closed_statements(as_of: date):
    """Statements with a closing balance dated on or before ``as_of``, with their account."""
    return (select(Statement, BankAccount.iban, BankAccount.ledger_code)
            .join(BankAccount, BankAccount.id == Statement.bank_account_id)
            .where(Statement.closing_cents.is_not(None), Statement.closing_on.is_not(None),
                   Statement.closing_on <= as_of,
                   Statement.source.not_in(sorted(INTRADAY_SOURCES))))


def count_statements(session: Session, as_of: date) -> int:
    """How many statements ``check_statement_balances`` compares."""
    return session.execute(select(func.count()).select_from(
        _closed_statements(as_of).subquery())).scalar_one()


def check_statement_balances(session: Session, context: CheckContext) -> list[Finding]:
    rows = session.execute(_closed_statements(context.as_of)
                           .order_by(BankAccount.iban, Statement.closing_on, Statement.id)).all()
    history: dict[str, tuple[list[date], list[int]]] = {}
    findings = []
    for statement, iban, code in rows:
        if code not in history:
            days = ledger.balances_by_day(session, code, context.as_of)
            history[code] = ([d.on for d in days], [d.balance_cents for d in days])
        days, totals = history[code]
        index = bisect_right(days, statement.closing_on)
        ledger_cents = totals[index - 1] if index else 0
        difference = ledger_cents - statement.closing_cents
        if difference:
            findings.append(Finding(
                "statement_balance", f"{iban} {statement.closing_on.isoformat()}",
                Message("bank closing balance {bank}, ledger {ledger} (statement {statement})",
                        bank=eur(statement.closing_cents), ledger=eur(ledger_cents),
                        statement=statement.statement_id), difference))
    return findings


def check_lines_posted(session: Session, context: CheckContext) -> list[Finding]:
    """Lines whose ledger key names no ledger transaction."""
    missing = session.execute(
        select(StatementLine, BankAccount.iban)
        .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
        .where(StatementLine.booked_on <= context.as_of, StatementLine.ledger_key.is_not(None),
               ~ledger.key_exists(StatementLine.ledger_key))
        .order_by(StatementLine.booked_on, StatementLine.id)).all()
    return [Finding("statement_line_unbooked", f"{iban} {line.archive_id}",
                    Message("{state} line of {day}: ledger transaction {key} does not exist",
                            state=line.state, day=line.booked_on.isoformat(),
                            key=line.ledger_key), line.amount_cents)
            for line, iban in missing]


def check_lines_keyed(session: Session, context: CheckContext) -> list[Finding]:
    """Lines without a key of their own: an item is covered by its entry's booking (items that
    move nothing, suspense to suspense, carry no key); anything else is unbooked."""
    parent = aliased(StatementLine)
    unkeyed = session.execute(
        select(StatementLine, BankAccount.iban, parent.ledger_key)
        .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
        .outerjoin(parent, (parent.bank_account_id == StatementLine.bank_account_id)
                   & (parent.archive_id == StatementLine.parent_archive_id)
                   & (parent.level == "entry"))
        .where(StatementLine.booked_on <= context.as_of, StatementLine.ledger_key.is_(None),
               StatementLine.state != BANK_ONLY)
        .order_by(StatementLine.booked_on, StatementLine.id)).all()
    return [Finding("statement_line_unbooked", f"{iban} {line.archive_id}",
                    Message("{state} line of {day} is not booked in the ledger",
                            state=line.state, day=line.booked_on.isoformat()), line.amount_cents)
            for line, iban, parent_key in unkeyed
            if line.parent_archive_id is None or parent_key is None]


def check_lump_sums(session: Session, context: CheckContext) -> list[Finding]:
    """A lump sum the bank itemises is covered by its items: they must add up to it."""
    items = aliased(StatementLine)
    item_total = (select(func.coalesce(func.sum(items.amount_cents), 0))
                  .where(items.bank_account_id == StatementLine.bank_account_id,
                         items.parent_archive_id == StatementLine.archive_id,
                         items.level == "item")
                  .correlate(StatementLine).scalar_subquery())
    return [Finding("lump_sum_not_itemised", f"{iban} {line.archive_id}",
                    Message("lump sum of {day} is {amount}, its items add up to {total}",
                            day=line.booked_on.isoformat(), amount=eur(line.amount_cents),
                            total=eur(int(total))), line.amount_cents - int(total))
            for line, iban, total in session.execute(
                select(StatementLine, BankAccount.iban, item_total)
                .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
                .where(StatementLine.booked_on <= context.as_of,
                       StatementLine.state == BANK_ONLY, StatementLine.amount_cents != item_total)
                .order_by(StatementLine.booked_on, StatementLine.id)).all()]


def check_notified_items(session: Session, context: CheckContext) -> list[Finding]:
    """Items notified (camt.054) whose entry no statement has carried yet: the money is
    attributed, but the bank has not booked it on a statement."""
    days = settings.get_int(session, "uncleared_after_banking_days")
    entry = aliased(StatementLine)
    waiting = session.execute(
        select(StatementLine.parent_archive_id, BankAccount.iban,
               func.min(StatementLine.booked_on), func.sum(StatementLine.amount_cents))
        .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
        .where(StatementLine.level == "item", StatementLine.booked_on <= context.as_of,
               ~select(entry.id).where(entry.bank_account_id == StatementLine.bank_account_id,
                                       entry.archive_id == StatementLine.parent_archive_id,
                                       entry.level == "entry").exists())
        .group_by(StatementLine.parent_archive_id, BankAccount.iban)
        .order_by(func.min(StatementLine.booked_on), StatementLine.parent_archive_id)).all()
    findings = []
    for archive_id, iban, booked_on, total in waiting:
        deadline = context.calendar.add_banking_days(booked_on, days)
        if context.as_of > deadline:
            findings.append(Finding(
                "notified_not_on_statement", f"{iban} {archive_id}",
                Message("itemised {amount} of {day} is on no statement by {deadline}",
                        amount=eur(int(total)), day=booked_on.isoformat(),
                        deadline=deadline.isoformat()), int(total)))
    return findings


def check_suspense(session: Session, context: CheckContext) -> list[Finding]:
    days = settings.get_int(session, "suspense_flag_after_days")
    findings = []
    for line, iban in session.execute(
            select(StatementLine, BankAccount.iban)
            .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
            .where(StatementLine.state == IN_SUSPENSE, StatementLine.booked_on <= context.as_of)
            .order_by(StatementLine.booked_on, StatementLine.id)).all():
        age = (context.as_of - line.booked_on).days
        if age > days:
            party = line.counterparty_name or Message("unknown")
            if line.amount_cents > 0:
                text = N_("{amount} in from {party} booked {day} is unattributed after {age} days")
            else:
                text = N_("{amount} out to {party} booked {day} is unattributed after {age} days")
            findings.append(Finding(
                "suspense_old", f"{iban} {line.archive_id}",
                Message(text, amount=eur(abs(line.amount_cents)), party=party,
                        day=line.booked_on.isoformat(), age=age),
                line.amount_cents))
    return findings


# --- the ledger's balances -------------------------------------------------------------------


def check_balance_equation(session: Session, context: CheckContext) -> list[Finding]:
    balances = context.balances

    def is_bank(b: ledger.AccountBalance) -> bool:
        return b.kind == "asset" and b.code.startswith(BANK_PREFIX)

    bank = sum(b.balance_cents for b in balances if is_bank(b))
    owed = sum(b.balance_cents for b in balances if b.kind == "liability")
    difference = bank - owed
    if not difference:
        return []
    others = [b for b in balances if b.balance_cents and not (b.kind == "liability" or is_bank(b))]
    if others:
        detail = Message("bank accounts hold {bank}, liabilities are {owed}; other accounts: "
                         "{others}", bank=eur(bank), owed=eur(owed),
                         others=", ".join(f"{b.code} ({b.kind}) {eur(b.balance_cents)}"
                                          for b in others))
    else:
        detail = Message("bank accounts hold {bank}, liabilities are {owed}", bank=eur(bank),
                         owed=eur(owed))
    return [Finding("balance_equation", "bank = clients + outgoing + suspense", detail,
                    difference)]


def check_clients_not_negative(session: Session, context: CheckContext) -> list[Finding]:
    return [Finding("client_negative", b.code, Message("balance {amount}",
                                                       amount=eur(b.balance_cents)),
                    b.balance_cents)
            for b in context.balances if client_id_of(b.code) is not None and b.balance_cents < 0]


# --- payments --------------------------------------------------------------------------------


def check_uncleared(session: Session, context: CheckContext) -> list[Finding]:
    return [Finding("uncleared_payment", c.subject, c.detail, c.amount_cents)
            for c in conditions.uncleared_conditions(session, context.as_of, context.calendar)]


def check_payment_orders(session: Session, context: CheckContext) -> list[Finding]:
    from valitystili import payments as batches
    from valitystili.store.models import Client, PaymentBatch, PaymentOrder

    rows = session.execute(
        select(PaymentOrder.id, PaymentOrder.key, PaymentOrder.status, PaymentOrder.amount_cents,
               func.coalesce(Client.ledger_code, SUSPENSE).label("ledger_code"),
               PaymentBatch.key.label("batch_key"), PaymentBatch.status.label("batch_status"))
        # A refund (no client) debits suspense (``payments.manual``).
        .outerjoin(Client, Client.id == PaymentOrder.client_id)
        .join(PaymentBatch, PaymentBatch.id == PaymentOrder.batch_id)
        .order_by(PaymentOrder.id)).all()
    debits = ledger.find_transactions(session, [row.key for row in rows])

    findings = []
    for row in rows:
        def found(check: str, detail: str) -> None:
            findings.append(Finding(check, row.key, Message(
                "{status} order in batch {batch}: {detail}", status=row.status,
                batch=row.batch_key, detail=detail), row.amount_cents))

        debit = debits.get(row.key)
        legs = dict(debit.legs) if debit is not None else {}
        expected = {row.ledger_code: row.amount_cents, OUTGOING: -row.amount_cents}
        if row.status in batches.DEBITED:
            if debit is None:
                found("order_not_debited", Message("no ledger transaction {key} debits {code}",
                                                   key=row.key, code=row.ledger_code))
            elif debit.reversed:
                found("order_not_debited", Message("its client debit was reversed"))
            elif legs != expected:
                found("order_debit_mismatch", Message("the debit's legs are {legs}, not {expected}",
                                                      legs=_legs(legs), expected=_legs(expected)))
        elif debit is not None and not debit.reversed:
            found("order_debit_mismatch", Message(
                "{code} was debited ({legs}) for an order that is not approved",
                code=row.ledger_code, legs=_legs(legs)))
        if ((row.status == "draft" and row.batch_status != "draft")
                or (row.status in batches.DEBITED and row.batch_status == "draft")
                or (row.status != "cancelled" and row.batch_status == "cancelled")):
            found("order_batch_state", Message("the batch is {status}", status=row.batch_status))

    for batch in session.execute(select(PaymentBatch).where(PaymentBatch.status == "approved")
                                 .order_by(PaymentBatch.id)).scalars():
        orders = session.execute(select(PaymentOrder).where(
            PaymentOrder.batch_id == batch.id, PaymentOrder.status != "cancelled")).scalars().all()
        problems = batches.changes_after_approval(batch, list(orders))
        if problems:
            findings.append(Finding("batch_changed_after_approval", batch.key,
                                    Message.joined("; ", problems),
                                    sum(o.amount_cents for o in orders)))
    return findings


def _legs(legs: dict[str, int]) -> str:
    """``client:3 +520,00 €, outgoing -520,00 €`` (debits +, credits −)."""
    return ", ".join(f"{code} {'+' if amount > 0 else ''}{eur(amount)}"
                     for code, amount in sorted(legs.items())) or "none"


# --- the records themselves ------------------------------------------------------------------


def check_integrity(session: Session, context: CheckContext) -> list[Finding]:
    return [*from_ledger(ledger.verify(session), prefix="ledger_"), *audit_verify.verify(session),
            *audit.check_recorded_head(session)]


#: Every check ``reconcile`` runs, in the order its findings are reported.
CHECKS: tuple[Check, ...] = (
    check_statement_balances,
    check_lines_posted,
    check_lines_keyed,
    check_lump_sums,
    check_notified_items,
    check_balance_equation,
    check_clients_not_negative,
    check_uncleared,
    check_suspense,
    check_payment_orders,
    check_integrity,
)


def run_checks(session: Session, context: CheckContext,
               checks: tuple[Check, ...] = CHECKS) -> list[Finding]:
    """The findings of every check, in the order of ``checks`` (nothing is written)."""
    return [finding for check in checks for finding in check(session, context)]
