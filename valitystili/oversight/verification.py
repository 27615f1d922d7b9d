"""Verifying the records: the ledger's invariants, and the audit trail together with them.

Rules of this module:

- ``ledger verify`` is :func:`verify_ledger`: the ledger's own invariants (``ledger.verify``);
  every role may run it.
- ``audit verify`` is :func:`verify_records`: the audit trail (its chain, the ledger
  transactions each entry posted, the audited state of users, settings and batches, and a head
  kept earlier when one is given — ``trust/audit.py``) and then the ledger's invariants. The
  trail's findings come first, then the ledger's, each under the ledger's own check name.
  Auditors and admins only (``audit.read``).
- Findings are data: these functions print nothing and decide no exit status.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

import ledger
from valitystili.base.findings import Finding, from_ledger
from valitystili.trust import audit
from valitystili.trust.auth import Actor


@dataclass(frozen=True)
class RecordsVerified:
    """What ``audit verify`` checked, what it found and the trail's head."""

    findings: tuple[Finding, ...]  # the trail's findings, then the ledger's
    checked: str               # what was checked, in words for people
    head: audit.Head | None    # the last entry's position and hash; None for an empty trail


def verify_ledger(session: Session, actor: Actor) -> list[Finding]:
    """The ledger's invariants (``ledger verify``)."""
    actor.require("ledger.verify")
    return from_ledger(ledger.verify(session))


def verify_records(session: Session, actor: Actor,
                   expect_head: audit.Head | None = None) -> RecordsVerified:
    """The audit trail and the ledger's invariants (``audit verify``)."""
    actor.require("audit.read")
    trail = audit.verification(session, expect_head)
    return RecordsVerified(findings=(*trail.findings, *from_ledger(ledger.verify(session))),
                           checked=f"{trail.what()} and the ledger's invariants",
                           head=trail.head)
