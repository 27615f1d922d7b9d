"""Reconciliation: does the ledger agree with the bank and with itself? (DESIGN §4, §7, §8)

``check_all(session, as_of)`` reads and returns findings as data; ``reconcile()`` is what the
``reconcile`` command (and cron) runs: the checks, the nightly flag refresh, the
*reconciliation_mismatch* flags and one audit entry, in the caller's transaction.

The checks, each a ``Finding.check`` name (details are English for handlers; money in them is
plain ``1234.56 EUR``, in ``amount_cents`` integer cents):

- ``statement_balance``: for every imported statement with a closing balance dated on or before
  ``as_of``, the ledger's ``bank:<IBAN>`` balance at the end of the closing day equals the
  bank's closing balance. ``amount_cents`` is ledger minus bank.
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
  the ledger transaction whose key is the order key, with the legs ``client:<no>`` +amount and
  ``outgoing`` −amount, not reversed (else *not debited*, or *mismatch* when the legs differ);
  a draft order has no such transaction, and a cancelled one has none or has it reversed (else
  *mismatch*); a batch past its draft holds no draft order (it would be paid undebited), a
  draft batch no debited order, a cancelled batch nothing but cancelled orders
  (*batch state*); and every approved batch still gives the digest of the payments approval
  covered (``batches.changes_after_approval``).
  Subject: the order key (the batch key for the last); ``amount_cents``: the order (batch).
- ``ledger_<check>`` / ``audit_chain``, ``audit_coverage``, ``audit_state``: ``ledger.verify()``
  and ``audit.verify()`` findings (the hash chain; ledger transactions no audited action
  posted; users, settings and batches changed behind the service's back).
- ``audit_rewound`` / ``audit_rewritten``: the audit trail no longer holds the head (last
  position and hash) the previous reconcile recorded: it ends before it, or another entry is
  there. Each reconcile records the head after its own entry (``audit_heads``), unless the
  trail itself had findings (then the next run still compares with the last good head).

Balances "as of" today or later are the ledger's stored running balances; an earlier day sums
postings. The checks read every statement, statement line and (through ``ledger.verify``)
posting: a full nightly audit, whose cost grows with history, not a daily-work job.

Flags: ``reconcile()`` refreshes the flags (``flags.conditions.refresh_flags``) and keeps one
*reconciliation_mismatch* flag per finding (subject ``<check>:<subject>``; uncleared payments
have their own *uncleared_payment* flags), resolving those whose finding is gone. Looking at the
past never rewrites the present: when an earlier reconcile already refreshed flags as of a later
day than ``as_of``, flags are left alone (``flags_refreshed`` is False). ``fail_on`` kinds add an
``open_flag`` finding per open flag of those kinds, so monitoring sees them in the exit status.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

import ledger
from ledger.models import accounts, postings, transactions
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import ValidationError
from valitystili.flags import conditions
from valitystili.flags.conditions import client_id_of, eur
from valitystili.flags.raising import KINDS, FlagRaised
from valitystili.store import settings
from valitystili.store.models import (
    AuditEntry,
    BankAccount,
    Flag,
    Statement,
    StatementLine,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: A statement line whose items (camt.054 or the statement's own detail) carry the money.
BANK_ONLY = "bank_only"

#: Findings of these checks have their own flag kind; the others raise reconciliation_mismatch.
OWN_FLAG_CHECKS = frozenset({"uncleared_payment"})

#: After these the trail's head is not recorded: the next run compares with the last good one.
UNTRUSTED_TRAIL = frozenset({"audit_chain", "audit_rewound", "audit_rewritten"})


@dataclass(frozen=True)
class Finding:
    """One discrepancy: which check, about what, in words, and the money involved."""

    check: str
    subject: str
    detail: str
    amount_cents: int | None = None

    def row(self) -> dict:
        return {"check": self.check, "subject": self.subject, "detail": self.detail,
                "amount_cents": self.amount_cents}


@dataclass(frozen=True)
class Reconciliation:
    as_of: date
    findings: tuple[Finding, ...]
    statements: int
    bank_accounts: int
    clients: int
    flags_refreshed: bool
    flag_summary: dict = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        """One line for people (stderr)."""
        counts = Counter(f.check for f in self.findings)
        what = (f"reconciled as of {format_fi_date(self.as_of)}: "
                f"{_count(self.statements, 'statement')}, "
                f"{_count(self.bank_accounts, 'bank account')}, {_count(self.clients, 'client')}")
        if not counts:
            result = "no findings"
        else:
            result = f"{len(self.findings)} findings (" + ", ".join(
                f"{check} {n}" for check, n in sorted(counts.items())) + ")"
        note = "" if self.flags_refreshed else "; flags not refreshed (a later day was already judged)"
        return f"{what}; {result}{note}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# --- the checks ------------------------------------------------------------------------------


def _daily_bank_balances(session: Session, code: str, as_of: date) -> tuple[list[date], list[int]]:
    """Days with postings on a bank account and the balance at the end of each (cumulative)."""
    rows = session.execute(
        select(postings.c.booked_on, func.sum(postings.c.amount_cents))
        .join(accounts, accounts.c.id == postings.c.account_id)
        .where(accounts.c.code == code, postings.c.booked_on <= as_of)
        .group_by(postings.c.booked_on).order_by(postings.c.booked_on)).all()
    days, totals, running = [], [], 0
    for day, amount in rows:
        running += int(amount)        # bank accounts are assets: natural sign = debits
        days.append(day)
        totals.append(running)
    return days, totals


def check_statement_balances(session: Session, as_of: date) -> tuple[list[Finding], int]:
    rows = session.execute(
        select(Statement, BankAccount.iban, BankAccount.ledger_code)
        .join(BankAccount, BankAccount.id == Statement.bank_account_id)
        .where(Statement.closing_cents.is_not(None), Statement.closing_on.is_not(None),
               Statement.closing_on <= as_of)
        .order_by(BankAccount.iban, Statement.closing_on, Statement.id)).all()
    history: dict[str, tuple[list[date], list[int]]] = {}
    findings = []
    for statement, iban, code in rows:
        if code not in history:
            history[code] = _daily_bank_balances(session, code, as_of)
        days, totals = history[code]
        index = bisect_right(days, statement.closing_on)
        ledger_cents = totals[index - 1] if index else 0
        difference = ledger_cents - statement.closing_cents
        if difference:
            findings.append(Finding(
                "statement_balance", f"{iban} {statement.closing_on.isoformat()}",
                f"bank closing balance {eur(statement.closing_cents)}, ledger {eur(ledger_cents)} "
                f"(statement {statement.statement_id})", difference))
    return findings, len(rows)


def check_statement_lines(session: Session, as_of: date, calendar: BankingCalendar = CALENDAR
                          ) -> list[Finding]:
    findings = []
    missing = session.execute(
        select(StatementLine, BankAccount.iban)
        .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
        .where(StatementLine.booked_on <= as_of, StatementLine.ledger_key.is_not(None),
               ~select(transactions.c.id).where(transactions.c.key == StatementLine.ledger_key)
               .exists())
        .order_by(StatementLine.booked_on, StatementLine.id)).all()
    for line, iban in missing:
        findings.append(Finding(
            "statement_line_unbooked", f"{iban} {line.archive_id}",
            f"{line.state} line of {line.booked_on.isoformat()}: ledger transaction "
            f"{line.ledger_key} does not exist", line.amount_cents))

    # Lines without a key of their own: an item is covered by its entry's booking (items that
    # move nothing, suspense to suspense, carry no key); anything else is unbooked.
    parent = aliased(StatementLine)
    unkeyed = session.execute(
        select(StatementLine, BankAccount.iban, parent.ledger_key)
        .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
        .outerjoin(parent, (parent.bank_account_id == StatementLine.bank_account_id)
                   & (parent.archive_id == StatementLine.parent_archive_id)
                   & (parent.level == "entry"))
        .where(StatementLine.booked_on <= as_of, StatementLine.ledger_key.is_(None),
               StatementLine.state != BANK_ONLY)
        .order_by(StatementLine.booked_on, StatementLine.id)).all()
    for line, iban, parent_key in unkeyed:
        if line.parent_archive_id is not None and parent_key is not None:
            continue
        findings.append(Finding(
            "statement_line_unbooked", f"{iban} {line.archive_id}",
            f"{line.state} line of {line.booked_on.isoformat()} is not booked in the ledger",
            line.amount_cents))

    # A lump sum the bank itemises is covered by its items: they must add up to it.
    items = aliased(StatementLine)
    item_total = (select(func.coalesce(func.sum(items.amount_cents), 0))
                  .where(items.bank_account_id == StatementLine.bank_account_id,
                         items.parent_archive_id == StatementLine.archive_id,
                         items.level == "item")
                  .correlate(StatementLine).scalar_subquery())
    for line, iban, total in session.execute(
            select(StatementLine, BankAccount.iban, item_total)
            .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
            .where(StatementLine.booked_on <= as_of, StatementLine.state == BANK_ONLY,
                   StatementLine.amount_cents != item_total)
            .order_by(StatementLine.booked_on, StatementLine.id)).all():
        findings.append(Finding(
            "lump_sum_not_itemised", f"{iban} {line.archive_id}",
            f"lump sum of {line.booked_on.isoformat()} is {eur(line.amount_cents)}, "
            f"its items add up to {eur(int(total))}", line.amount_cents - int(total)))

    # Items notified (camt.054) whose entry no statement has carried yet: the money is
    # attributed, but the bank has not booked it on a statement.
    days = settings.get_int(session, "uncleared_after_banking_days")
    entry = aliased(StatementLine)
    waiting = session.execute(
        select(StatementLine.parent_archive_id, BankAccount.iban,
               func.min(StatementLine.booked_on), func.sum(StatementLine.amount_cents))
        .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
        .where(StatementLine.level == "item", StatementLine.booked_on <= as_of,
               ~select(entry.id).where(entry.bank_account_id == StatementLine.bank_account_id,
                                       entry.archive_id == StatementLine.parent_archive_id,
                                       entry.level == "entry").exists())
        .group_by(StatementLine.parent_archive_id, BankAccount.iban)
        .order_by(func.min(StatementLine.booked_on), StatementLine.parent_archive_id)).all()
    for archive_id, iban, booked_on, total in waiting:
        deadline = calendar.add_banking_days(booked_on, days)
        if as_of > deadline:
            findings.append(Finding(
                "notified_not_on_statement", f"{iban} {archive_id}",
                f"itemised {eur(int(total))} of {booked_on.isoformat()} is on no statement "
                f"by {deadline.isoformat()}", int(total)))
    return findings


def _account_balances(session: Session, as_of: date, today: date) -> list[ledger.AccountBalance]:
    return ledger.balances(session, None if as_of >= today else as_of)


def check_balance_equation(balances: list[ledger.AccountBalance]) -> list[Finding]:
    bank = sum(b.balance_cents for b in balances if b.kind == "asset" and b.code.startswith("bank:"))
    owed = sum(b.balance_cents for b in balances if b.kind == "liability")
    difference = bank - owed
    if not difference:
        return []
    others = [b for b in balances if b.balance_cents and not (
        b.kind == "liability" or (b.kind == "asset" and b.code.startswith("bank:")))]
    beside = ("; other accounts: " + ", ".join(f"{b.code} ({b.kind}) {eur(b.balance_cents)}"
                                               for b in others)) if others else ""
    return [Finding("balance_equation", "bank = clients + outgoing + suspense",
                    f"bank accounts hold {eur(bank)}, liabilities are {eur(owed)}{beside}",
                    difference)]


def check_clients_not_negative(balances: list[ledger.AccountBalance]) -> list[Finding]:
    return [Finding("client_negative", b.code, f"balance {eur(b.balance_cents)}", b.balance_cents)
            for b in balances if client_id_of(b.code) is not None and b.balance_cents < 0]


def check_uncleared(session: Session, as_of: date, calendar: BankingCalendar) -> list[Finding]:
    return [Finding("uncleared_payment", c.subject, c.detail, c.amount_cents)
            for c in conditions.uncleared_conditions(session, as_of, calendar)]


def check_suspense(session: Session, as_of: date) -> list[Finding]:
    days = settings.get_int(session, "suspense_flag_after_days")
    findings = []
    for line, iban in session.execute(
            select(StatementLine, BankAccount.iban)
            .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
            .where(StatementLine.state == "suspense", StatementLine.booked_on <= as_of)
            .order_by(StatementLine.booked_on, StatementLine.id)).all():
        age = (as_of - line.booked_on).days
        if age > days:
            party = line.counterparty_name or "unknown"
            what = (f"{eur(line.amount_cents)} in from {party}" if line.amount_cents > 0
                    else f"{eur(-line.amount_cents)} out to {party}")
            findings.append(Finding(
                "suspense_old", f"{iban} {line.archive_id}",
                f"{what} booked {line.booked_on.isoformat()} is unattributed after {age} days",
                line.amount_cents))
    return findings


def check_payment_orders(session: Session) -> list[Finding]:
    from valitystili import payments as batches
    from valitystili.store.models import Client, PaymentBatch, PaymentOrder

    reversal = transactions.alias("reversal")
    rows = session.execute(
        select(PaymentOrder.id, PaymentOrder.key, PaymentOrder.status, PaymentOrder.amount_cents,
               Client.ledger_code, PaymentBatch.key.label("batch_key"),
               PaymentBatch.status.label("batch_status"), transactions.c.id.label("tx"),
               reversal.c.id.label("reversed_by"))
        .join(Client, Client.id == PaymentOrder.client_id)
        .join(PaymentBatch, PaymentBatch.id == PaymentOrder.batch_id)
        .outerjoin(transactions, transactions.c.key == PaymentOrder.key)
        .outerjoin(reversal, reversal.c.reverses_id == transactions.c.id)
        .order_by(PaymentOrder.id)).all()
    legs: dict[int, dict[str, int]] = {}
    for tx, code, amount in session.execute(
            select(postings.c.transaction_id, accounts.c.code, func.sum(postings.c.amount_cents))
            .join(accounts, accounts.c.id == postings.c.account_id)
            .join(transactions, transactions.c.id == postings.c.transaction_id)
            .join(PaymentOrder, PaymentOrder.key == transactions.c.key)
            .group_by(postings.c.transaction_id, accounts.c.code)):
        legs.setdefault(tx, {})[code] = int(amount)

    findings = []
    for row in rows:
        def found(check: str, detail: str) -> None:
            findings.append(Finding(check, row.key, f"{row.status} order in batch {row.batch_key}: "
                                    f"{detail}", row.amount_cents))

        expected = {row.ledger_code: row.amount_cents, "outgoing": -row.amount_cents}
        if row.status in batches.DEBITED:
            if row.tx is None:
                found("order_not_debited", f"no ledger transaction {row.key} debits "
                      f"{row.ledger_code}")
            elif row.reversed_by is not None:
                found("order_not_debited", "its client debit was reversed")
            elif legs.get(row.tx, {}) != expected:
                found("order_debit_mismatch", f"the debit's legs are {_legs(legs.get(row.tx, {}))}"
                      f", not {_legs(expected)}")
        elif row.tx is not None and row.reversed_by is None:
            found("order_debit_mismatch", f"{row.ledger_code} was debited "
                  f"({_legs(legs.get(row.tx, {}))}) for an order that is not approved")
        if ((row.status == "draft" and row.batch_status != "draft")
                or (row.status in batches.DEBITED and row.batch_status == "draft")
                or (row.status != "cancelled" and row.batch_status == "cancelled")):
            found("order_batch_state", f"the batch is {row.batch_status}")

    for batch in session.execute(select(PaymentBatch).where(PaymentBatch.status == "approved")
                                 .order_by(PaymentBatch.id)).scalars():
        orders = session.execute(select(PaymentOrder).where(
            PaymentOrder.batch_id == batch.id, PaymentOrder.status != "cancelled")).scalars().all()
        problems = batches.changes_after_approval(batch, list(orders))
        if problems:
            findings.append(Finding("batch_changed_after_approval", batch.key, "; ".join(problems),
                                    sum(o.amount_cents for o in orders)))
    return findings


def _legs(legs: dict[str, int]) -> str:
    """``client:3 +520.00 EUR, outgoing -520.00 EUR`` (debits +, credits −)."""
    return ", ".join(f"{code} {'+' if amount > 0 else ''}{eur(amount)}"
                     for code, amount in sorted(legs.items())) or "none"


def check_integrity(session: Session) -> list[Finding]:
    found = [Finding(f"ledger_{f.check}", f.subject, f.detail) for f in ledger.verify(session)]
    found += [Finding(f.check, f.subject, f.detail) for f in audit.verify(session)]
    found += [Finding(f.check, f.subject, f.detail) for f in audit.check_recorded_head(session)]
    return found


@dataclass(frozen=True)
class _Checked:
    findings: list[Finding]
    statements: int
    bank_accounts: int
    clients: int


def _check(session: Session, as_of: date, calendar: BankingCalendar, today: date) -> _Checked:
    statement_findings, statements = check_statement_balances(session, as_of)
    balances = _account_balances(session, as_of, today)
    findings = [
        *statement_findings,
        *check_statement_lines(session, as_of, calendar),
        *check_balance_equation(balances),
        *check_clients_not_negative(balances),
        *check_uncleared(session, as_of, calendar),
        *check_suspense(session, as_of),
        *check_payment_orders(session),
        *check_integrity(session),
    ]
    bank_accounts = session.execute(select(func.count()).select_from(BankAccount)).scalar_one()
    clients = sum(1 for b in balances if client_id_of(b.code) is not None)
    return _Checked(findings, statements, bank_accounts, clients)


def check_all(session: Session, as_of: date, *, calendar: BankingCalendar = CALENDAR,
              today: date | None = None) -> list[Finding]:
    """Every reconciliation finding as of the end of ``as_of`` (nothing is written)."""
    return _check(session, as_of, calendar, today or date.today()).findings


# --- the command -----------------------------------------------------------------------------


def _last_refresh_on(session: Session) -> date | None:
    """The latest day a reconcile has refreshed flags as of (carried in its audit entry)."""
    detail = session.execute(
        select(AuditEntry.detail).where(AuditEntry.action == "reconcile")
        .order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()
    if detail is None:
        return None
    day = json.loads(detail).get("flags_as_of")
    return date.fromisoformat(day) if day else None


def mismatch_conditions(findings: Iterable[Finding]) -> list[FlagRaised]:
    found = {}
    for finding in findings:
        if finding.check in OWN_FLAG_CHECKS:
            continue
        subject = f"{finding.check}:{finding.subject}"[:200]
        found[subject] = FlagRaised("reconciliation_mismatch", subject,
                                    client_id_of(finding.subject), finding.amount_cents,
                                    finding.detail)
    return list(found.values())


def check_kinds(kinds: Iterable[str]) -> list[str]:
    """The flag kinds, once each; an unknown one is a ``ValidationError``."""
    kinds = list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValidationError(f"unknown flag kind {unknown[0]!r}; known: {', '.join(KINDS)}")
    return kinds


def open_flag_findings(session: Session, kinds: Iterable[str]) -> list[Finding]:
    """An ``open_flag`` finding for each open flag of ``kinds`` (for ``--fail-on``)."""
    kinds = check_kinds(kinds)
    if not kinds:
        return []
    flags = session.execute(select(Flag).where(Flag.kind.in_(kinds), Flag.resolved_at.is_(None))
                            .order_by(Flag.id)).scalars()
    findings = []
    for flag in flags:
        client = f" client {flag.client_id}" if flag.client_id is not None else ""
        detail = f"{flag.kind}{client} {flag.subject}" + (f": {flag.detail}" if flag.detail else "")
        findings.append(Finding("open_flag", f"flag {flag.id}", detail, flag.amount_cents))
    return findings


def reconcile(session: Session, actor: Actor, as_of: date | None = None, *,
              fail_on: Iterable[str] = (), calendar: BankingCalendar = CALENDAR,
              today: date | None = None) -> Reconciliation:
    """Run every check as of ``as_of`` (default today), refresh flags, record one audit entry."""
    actor.require("reconcile")
    today = today or date.today()
    as_of = as_of or today
    fail_on = check_kinds(fail_on)

    checked = _check(session, as_of, calendar, today)
    last = _last_refresh_on(session)
    refresh = last is None or as_of >= last
    summary: dict = {}
    if refresh:
        summary = conditions.refresh_flags(session, as_of, calendar=calendar, today=today)
        summary.update(conditions.apply_conditions(
            session, ["reconciliation_mismatch"], mismatch_conditions(checked.findings), as_of))
    findings = [*checked.findings, *open_flag_findings(session, fail_on)]

    counts = Counter(f.check for f in findings)
    flags_as_of = as_of if refresh else last      # refresh only happens when as_of >= last
    audit.record(session, actor.name, "reconcile", subject=f"as of {as_of.isoformat()}",
                 detail={"as_of": as_of.isoformat(), "findings": len(findings),
                         "by_check": dict(sorted(counts.items())), "flags_refreshed": refresh,
                         "flags_as_of": flags_as_of.isoformat() if flags_as_of else None,
                         "fail_on": fail_on})
    if not any(f.check in UNTRUSTED_TRAIL for f in findings):
        audit.record_head(session, actor.name)
    return Reconciliation(as_of, tuple(findings), checked.statements, checked.bank_accounts,
                          checked.clients, refresh, summary)
