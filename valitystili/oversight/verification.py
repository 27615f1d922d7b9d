"""Verifying the records: the ledger's invariants, and the audit trail together with them.

Rules of this module:

- ``ledger verify`` is :func:`verify_ledger`: the ledger's own invariants (``ledger.verify``);
  every role may run it.
- ``audit verify`` is :func:`verify_records`: the audit trail (its chain, the ledger
  transactions each entry posted, the audited state of users, settings and batches, and a head
  kept earlier when one is given — ``trust/audit.py``) and then the ledger's invariants. The
  trail's findings come first, then the ledger's, each under the ledger's own check name.
  Auditors and admins only (``audit.read``).
- Findings are data: these functions print nothing and decide no exit status. Each returns
  too what it checked, part by part (:class:`Checked`: the audit trail's chain, the ledger
  transactions each entry posted, the audited state, the ledger's invariants), with how many
  findings each part has, so the command can say what was checked and the result in words
  ("audit trail: 1 234 entries, chain intact").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

import ledger
from valitystili.base.findings import Finding, from_ledger
from valitystili.base.money import format_count
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: The trail's check names, by the part of ``audit verify`` that reports them.
CHAIN_CHECKS = ("audit_chain", "audit_rewound", "audit_rewritten")
COVERAGE_CHECKS = ("audit_coverage",)
STATE_CHECKS = ("audit_state",)


@dataclass(frozen=True)
class Checked:
    """One part of a verification: what it looked at, what holds when it found nothing, and
    how many findings it has."""

    part: str          # "audit trail", "ledger" …
    looked_at: str     # "1 234 entries"
    holds: str         # "chain intact"
    findings: int

    def line(self) -> str:
        """``audit trail: 1 234 entries, chain intact`` (or ``…, 2 findings``)."""
        found = (self.holds if not self.findings else
                 _count(self.findings, "finding"))
        return f"{self.part}: {self.looked_at}, {found}"


@dataclass(frozen=True)
class LedgerVerified:
    """What ``ledger verify`` checked and found."""

    findings: tuple[Finding, ...]
    checked: Checked


@dataclass(frozen=True)
class RecordsVerified:
    """What ``audit verify`` checked, what it found and the trail's head."""

    findings: tuple[Finding, ...]  # the trail's findings, then the ledger's
    checked: tuple[Checked, ...]   # the parts, in the order of the findings
    head: audit.Head | None    # the last entry's position and hash; None for an empty trail


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{format_count(n)} {noun if n == 1 else plural or noun + 's'}"


def _ledger(session: Session) -> tuple[list[Finding], Checked]:
    findings = from_ledger(ledger.verify(session))
    return findings, Checked("ledger", _count(ledger.count_transactions(session), "transaction"),
                             "invariants hold", len(findings))


def verify_ledger(session: Session, actor: Actor) -> LedgerVerified:
    """The ledger's invariants (``ledger verify``)."""
    actor.require("ledger.verify")
    findings, checked = _ledger(session)
    return LedgerVerified(tuple(findings), checked)


def verify_records(session: Session, actor: Actor,
                   expect_head: audit.Head | None = None) -> RecordsVerified:
    """The audit trail and the ledger's invariants (``audit verify``)."""
    actor.require("audit.read")
    trail = audit.verification(session, expect_head)
    ledger_findings, ledger_checked = _ledger(session)

    def found(checks: tuple[str, ...]) -> int:
        return sum(1 for finding in trail.findings if finding.check in checks)

    before = (f" (and {format_count(trail.before_coverage)} from before coverage)"
              if trail.before_coverage else "")
    state = (f"{_count(trail.users, 'user')}, {_count(trail.settings, 'stored setting')}, "
             f"{_count(trail.batches, 'payment batch', 'payment batches')}")
    checked = (
        Checked("audit trail", _count(trail.entries, "entry", "entries"), "chain intact",
                found(CHAIN_CHECKS)),
        Checked("ledger transactions", f"{format_count(trail.transactions)}{before}",
                "each posted by an audited action", found(COVERAGE_CHECKS)),
        Checked("audited state", state, "as the trail says", found(STATE_CHECKS)),
        ledger_checked,
    )
    return RecordsVerified(findings=(*trail.findings, *ledger_findings), checked=checked,
                           head=trail.head)
