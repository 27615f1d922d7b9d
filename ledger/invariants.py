"""The ledger's invariants, checked over everything stored: ``verify()`` returns findings.

- every transaction's postings sum to zero, and it has postings (``balanced``);
- each account's stored running balance is what its postings give (``stored_balance``);
- a *no-negative* account is not below zero, stored or summed (``no_negative``);
- a posting's date is its transaction's (``posting_date``).

Findings are data (check, subject, detail); the caller decides what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import SIGN, accounts, postings, transactions


@dataclass(frozen=True)
class Finding:
    """A verification finding: what is wrong and where."""

    check: str
    subject: str
    detail: str
    #: ``detail`` as a template and its values (``detail == template.format(**values)``), for a
    #: caller that shows it in other words.
    template: str = field(default="", compare=False)
    values: dict = field(default_factory=dict, compare=False)


def _found(check: str, subject: str, template: str, **values) -> Finding:
    return Finding(check, subject, template.format(**values), template, values)


def verify(session: Session) -> list[Finding]:
    """Check the ledger's invariants; return findings (empty when all holds)."""
    findings: list[Finding] = []
    unbalanced = session.execute(
        select(transactions.c.key, func.sum(postings.c.amount_cents))
        .join(postings, postings.c.transaction_id == transactions.c.id)
        .group_by(transactions.c.id, transactions.c.key)
        .having(func.sum(postings.c.amount_cents) != 0)
    ).all()
    for key, total in unbalanced:
        findings.append(
            _found("balanced", key, "postings sum to {total} cents, not 0", total=int(total))
        )
    empty = session.execute(
        select(transactions.c.key).where(
            ~select(postings.c.id).where(postings.c.transaction_id == transactions.c.id).exists()
        )
    ).all()
    for (key,) in empty:
        findings.append(_found("balanced", key, "transaction has no postings"))

    sums = dict(
        session.execute(
            select(postings.c.account_id, func.sum(postings.c.amount_cents)).group_by(
                postings.c.account_id
            )
        ).all()
    )
    for row in session.execute(select(accounts)).all():
        expected = SIGN[row.kind] * int(sums.get(row.id, 0))
        if row.balance_cents != expected:
            findings.append(
                _found("stored_balance", row.code,
                       "stored {stored} cents, postings give {expected}",
                       stored=row.balance_cents, expected=expected)
            )
        if row.no_negative and row.balance_cents < 0:
            findings.append(_found("no_negative", row.code, "balance {balance} cents",
                                   balance=row.balance_cents))
        if row.no_negative and expected < 0:
            findings.append(_found("no_negative", row.code, "postings give {expected} cents",
                                   expected=expected))

    mismatched = session.execute(
        select(transactions.c.key)
        .join(postings, postings.c.transaction_id == transactions.c.id)
        .where(postings.c.booked_on != transactions.c.booked_on)
        .distinct()
    ).all()
    for (key,) in mismatched:
        findings.append(_found("posting_date", key,
                               "a posting's date differs from its transaction"))
    return findings
