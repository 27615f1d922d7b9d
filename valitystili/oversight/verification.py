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
from valitystili.base.i18n import _, ngettext
from valitystili.base.money import format_count
from valitystili.trust import audit, audit_verify
from valitystili.trust.auth import Actor

#: The trail's check names, by the part of ``audit verify`` that reports them.
CHAIN_CHECKS = ("audit_chain", "audit_rewound", "audit_rewritten")
COVERAGE_CHECKS = ("audit_coverage",)
STATE_CHECKS = ("audit_state",)


@dataclass(frozen=True)
class Checked:
    """One part of a verification: what it looked at, what holds when it found nothing, and
    how many findings it has. Its words are for people, in the language of the moment it was
    made (never stored)."""

    part: str          # "audit trail", "ledger" …
    looked_at: str     # "1 234 entries"
    holds: str         # "chain intact"
    findings: int

    def line(self) -> str:
        """``audit trail: 1 234 entries, chain intact`` (or ``…, 2 findings``)."""
        found = (self.holds if not self.findings else
                 _count(ngettext("{count} finding", "{count} findings", self.findings),
                        self.findings))
        return _("{part}: {looked_at}, {found}").format(part=self.part, looked_at=self.looked_at,
                                                       found=found)


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


def _count(form: str, n: int) -> str:
    """``form`` (``ngettext``'s choice for ``n``) with ``{count}`` ``n`` in the display form."""
    return form.format(count=format_count(n))


def _ledger(session: Session) -> tuple[list[Finding], Checked]:
    findings = from_ledger(ledger.verify(session))
    transactions = ledger.count_transactions(session)
    return findings, Checked(
        _("ledger"), _count(ngettext("{count} transaction", "{count} transactions",
                                     transactions), transactions),
        _("invariants hold"), len(findings))


def verify_ledger(session: Session, actor: Actor) -> LedgerVerified:
    """The ledger's invariants (``ledger verify``)."""
    actor.require("ledger.verify")
    findings, checked = _ledger(session)
    return LedgerVerified(tuple(findings), checked)


def verify_records(session: Session, actor: Actor,
                   expect_head: audit.Head | None = None) -> RecordsVerified:
    """The audit trail and the ledger's invariants (``audit verify``)."""
    actor.require("audit.read")
    trail = audit_verify.verification(session, expect_head)
    ledger_findings, ledger_checked = _ledger(session)

    def found(checks: tuple[str, ...]) -> int:
        return sum(1 for finding in trail.findings if finding.check in checks)

    transactions = format_count(trail.transactions)
    if trail.before_coverage:
        transactions = _("{count} (and {before} from before coverage)").format(
            count=transactions, before=format_count(trail.before_coverage))
    state = _("{users}, {settings}, {batches}").format(
        users=_count(ngettext("{count} user", "{count} users", trail.users), trail.users),
        settings=_count(ngettext("{count} stored setting", "{count} stored settings",
                                 trail.settings), trail.settings),
        batches=_count(ngettext("{count} payment batch", "{count} payment batches",
                                trail.batches), trail.batches))
    checked = (
        Checked(_("audit trail"),
                _count(ngettext("{count} entry", "{count} entries", trail.entries), trail.entries),
                _("chain intact"), found(CHAIN_CHECKS)),
        Checked(_("ledger transactions"), transactions, _("each posted by an audited action"),
                found(COVERAGE_CHECKS)),
        Checked(_("audited state"), state, _("as the trail says"), found(STATE_CHECKS)),
        ledger_checked,
    )
    return RecordsVerified(findings=(*trail.findings, *ledger_findings), checked=checked,
                           head=trail.head)
