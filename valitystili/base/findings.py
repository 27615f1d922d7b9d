"""Findings are data: what a check found wrong, returned to the caller, never printed here.

Every check of the service (reconciliation, the audit trail's verification, the ledger's
invariants as the service reports them) returns a list of ``Finding``; the command prints them
as a table, CSV or JSON and chooses the exit status.

Rules:

- ``check`` names the check (``statement_balance``, ``audit_chain`` …), ``subject`` what it is
  about (an account, an order key, an entry), ``detail`` says it in words for people (English,
  money as ``1 234,56 €``) and ``amount_cents`` is the money involved, when there is any.
- The ledger cannot know the service, so it keeps its own small ``ledger.Finding`` (check,
  subject, detail, and the detail's template and values); ``from_ledger`` is the one place
  where those become the service's, the detail a ``Message`` (``LEDGER_DETAILS`` marks the
  ledger's templates for the catalogues).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from valitystili.base.i18n import N_, Message

#: The ledger's detail templates (``ledger/invariants.py``), for the catalogues: the ledger
#: cannot mark its own texts.
LEDGER_DETAILS = (
    N_("postings sum to {total} cents, not 0"),
    N_("transaction has no postings"),
    N_("stored {stored} cents, postings give {expected}"),
    N_("balance {balance} cents"),
    N_("postings give {expected} cents"),
    N_("a posting's date differs from its transaction"),
)


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


class _Found(Protocol):
    """A finding of another package (``ledger.Finding``): check, subject and detail."""

    check: str
    subject: str
    detail: str


def from_ledger(found: Iterable[_Found], prefix: str = "") -> list[Finding]:
    """The ledger's findings as the service's, their check names after ``prefix``
    (reconcile says ``ledger_balanced``, ``audit verify`` keeps the ledger's ``balanced``)."""
    return [Finding(f"{prefix}{f.check}", f.subject, _detail(f)) for f in found]


def _detail(found: _Found) -> str:
    """The ledger's detail as a ``Message`` when it comes with its template, else as it is."""
    template = getattr(found, "template", "")
    if template and template in LEDGER_DETAILS:
        detail = Message(template, **getattr(found, "values", {}))
        if detail == found.detail:
            return detail
    return found.detail
