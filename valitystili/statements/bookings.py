"""What one imported file books: the values the preparing step returns and the apply step
writes (DESIGN §7; STYLE 4, 6).

Rules of this module:

- Values only, no database: :class:`Bookings` holds everything one file (or one FinTS
  fetch) would post and store, with the ledger keys that make it idempotent; nothing of it is
  written until ``apply.book`` writes it in the caller's transaction. Everything here is
  frozen but :class:`Counts`, which preparing counts into and makes the summaries from.
- The ledger keys of an import are made here and nowhere else: ``bank:<IBAN>:<archive id>`` for
  a statement entry, ``itemise:<IBAN>:<archive id>`` for the items of a notified or itemised
  entry, ``opening:<IBAN>`` for an account's first opening balance, ``assign:<line id>`` for a
  handler's assignment.
- The ``*_rows`` methods are the shapes ``import --dry-run`` prints.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import ledger
from valitystili.flags.raising import FlagRaised
from valitystili.statements.matching import EXPECTED_INCOME, HETU, REFERENCE


def entry_key(iban: str, archive_id: str) -> str:
    return f"bank:{iban}:{archive_id}"


def itemise_key(iban: str, archive_id: str) -> str:
    return f"itemise:{iban}:{archive_id}"


def opening_key(iban: str) -> str:
    return f"opening:{iban}"


def assign_key(line_id: int) -> str:
    return f"assign:{line_id}"


@dataclass(frozen=True, slots=True)
class NewStatement:
    """A ``statements`` row (``existing_id`` when the statement was imported before)."""

    index: int
    bank_account_id: int
    iban: str
    source: str
    statement_id: str
    existing_id: int | None
    from_on: date | None
    to_on: date | None
    opening_cents: int | None
    opening_on: date | None
    closing_cents: int | None
    closing_on: date | None


@dataclass(frozen=True, slots=True)
class NewLine:
    """A ``statement_lines`` row to insert."""

    statement_index: int
    bank_account_id: int
    archive_id: str
    parent_archive_id: str | None
    level: str
    booked_on: date
    value_on: date | None
    amount_cents: int
    counterparty_name: str | None
    counterparty_iban: str | None
    reference: str | None
    message: str | None
    end_to_end_id: str | None
    bank_code: str | None
    return_reason: str | None
    client_id: int | None
    order_id: int | None
    match_rule: str | None
    state: str
    ledger_key: str | None


@dataclass(frozen=True, slots=True)
class LineChange:
    """An already stored line that changes state (an entry in suspense itemised by camt.054)."""

    line_id: int
    archive_id: str
    state: str


@dataclass(frozen=True, slots=True)
class OrderChange:
    order_id: int
    key: str
    status: str
    cleared_on: date | None
    returned_on: date | None


@dataclass(frozen=True)
class AccountSummary:
    """What one file did (or would do) to one bank account."""

    file: str
    iban: str
    source: str
    statements: int
    entries: int
    skipped: int
    already_present: int
    posted: int
    new_lines: int
    matched_reference: int
    matched_hetu: int
    matched_expected_income: int
    returned: int
    cleared: int
    in_suspense: int
    opening_cents: int | None
    closing_cents: int | None
    ledger_bank_cents: int
    warnings: tuple[str, ...]

    def row(self) -> dict:
        return {
            "file": self.file, "iban": self.iban, "source": self.source,
            "statements": self.statements, "entries": self.entries, "skipped": self.skipped,
            "already_present": self.already_present, "posted": self.posted,
            "new_lines": self.new_lines, "matched_reference": self.matched_reference,
            "matched_hetu": self.matched_hetu,
            "matched_expected_income": self.matched_expected_income,
            "returned": self.returned, "cleared": self.cleared, "in_suspense": self.in_suspense,
            "opening_cents": self.opening_cents, "closing_cents": self.closing_cents,
            "ledger_bank_cents": self.ledger_bank_cents, "warnings": list(self.warnings),
        }


@dataclass(slots=True)
class Counts:
    """What preparing has counted for one bank account so far."""

    sources: list[str] = field(default_factory=list)
    statements: int = 0
    entries: int = 0
    skipped: int = 0
    already_present: int = 0
    posted: int = 0
    new_lines: int = 0
    matched: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    returned: int = 0
    cleared: int = 0
    in_suspense: int = 0
    opening_cents: int | None = None
    closing_cents: int | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self, file_name: str, iban: str, ledger_bank_cents: int) -> AccountSummary:
        return AccountSummary(
            file=file_name, iban=iban, source=",".join(self.sources),
            statements=self.statements, entries=self.entries, skipped=self.skipped,
            already_present=self.already_present, posted=self.posted,
            new_lines=self.new_lines, matched_reference=self.matched.get(REFERENCE, 0),
            matched_hetu=self.matched.get(HETU, 0),
            matched_expected_income=self.matched.get(EXPECTED_INCOME, 0),
            returned=self.returned, cleared=self.cleared, in_suspense=self.in_suspense,
            opening_cents=self.opening_cents, closing_cents=self.closing_cents,
            ledger_bank_cents=ledger_bank_cents, warnings=tuple(self.warnings),
        )


@dataclass(frozen=True)
class Bookings:
    """Everything one file would post and store; nothing of it is written yet."""

    file_name: str
    file_sha256: str | None
    today: date
    statements: tuple[NewStatement, ...]
    entries: tuple[ledger.Entry, ...]
    lines: tuple[NewLine, ...]
    line_changes: tuple[LineChange, ...]
    flags: tuple[FlagRaised, ...]
    resolved_flags: tuple[tuple[str, str], ...]
    order_changes: tuple[OrderChange, ...]
    summaries: tuple[AccountSummary, ...]

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.summaries for w in s.warnings]

    def transaction_rows(self) -> list[dict]:
        return [{"key": e.key, "booked_on": e.booked_on, "description": e.description,
                 "legs": [{"account": code, "amount_cents": amount} for code, amount in e.legs]}
                for e in self.entries]

    def leg_rows(self) -> list[dict]:
        return [{"file": self.file_name, "key": e.key, "booked_on": e.booked_on,
                 "account": code, "amount_cents": amount}
                for e in self.entries for code, amount in e.legs]

    def line_rows(self) -> list[dict]:
        return [{"archive_id": l.archive_id, "parent": l.parent_archive_id, "level": l.level,
                 "booked_on": l.booked_on, "amount_cents": l.amount_cents, "state": l.state,
                 "rule": l.match_rule, "client": l.client_id, "order": l.order_id,
                 "ledger_key": l.ledger_key} for l in self.lines]

    def flag_rows(self) -> list[dict]:
        return [{"kind": f.kind, "subject": f.subject, "client": f.client_id,
                 "amount_cents": f.amount_cents, "detail": f.detail} for f in self.flags]

    def order_rows(self) -> list[dict]:
        return [{"order": o.order_id, "key": o.key, "status": o.status,
                 "cleared_on": o.cleared_on, "returned_on": o.returned_on}
                for o in self.order_changes]
