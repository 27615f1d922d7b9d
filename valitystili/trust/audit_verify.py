"""Verifying the audit trail (the rules are ``trust.audit``'s): the chain, the ledger's
coverage, the personal parts and the audited state of users, settings and payment batches.

``verify`` gives every finding; ``verification`` also says what was looked at. Writing the
trail, its head and reading it stay in ``trust.audit``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.findings import Finding
from valitystili.base.i18n import Message
from valitystili.store.models import (
    AuditEntry,
    AuditPersonal,
    ClientAnonymisation,
    PaymentBatch,
    Setting,
    User,
)
from valitystili.trust.audit import (
    BITS,
    COVERAGE_ACTION,
    GENESIS,
    PERSONAL_HASH,
    Head,
    check_head,
    entry_digest,
    key_digest,
    sha256_text,
)

#: Transactions no entry covers are named one by one, up to this many; the rest are counted.
NAMED_UNCOVERED = 100
#: The batch state fields compared with the payment_batches row.
BATCH_FIELDS = ("status", "created_by", "approved_by", "approved_digest")


@dataclass(frozen=True)
class Verification:
    """What ``verify`` looked at, and what it found."""

    findings: list[Finding]
    entries: int
    head: Head | None
    transactions: int                 # ledger transactions the trail must account for
    before_coverage: int              # older ones (posted before migration 0004)
    users: int
    settings: int
    batches: int

    def what(self) -> str:
        """What was checked, in words for people."""
        before = f" (and {self.before_coverage} from before coverage)" if self.before_coverage else ""
        return (f"{_count(self.entries, 'audit entry', 'audit entries')}, "
                f"{_count(self.transactions, 'ledger transaction')} against the entries that "
                f"posted them{before}, {_count(self.users, 'user')}, "
                f"{_count(self.settings, 'stored setting')} and "
                f"{_count(self.batches, 'payment batch', 'payment batches')} against their "
                "audited state")


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


@dataclass
class _Walk:
    """What the chain says, gathered in one pass."""

    findings: list[Finding] = field(default_factory=list)
    entries: int = 0
    last: Head | None = None
    through_id: int = 0                       # transactions up to this id: before coverage
    coverage_seen: bool = False
    count: int = 0
    digest: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)
    states: dict[tuple[str, str], dict] = field(default_factory=dict)
    #: entry hash -> (position, client, the personal part's hash the chain vouches for)
    personal: dict[str, tuple[int, int | None, str]] = field(default_factory=dict)


def verify(session: Session, expect_head: Head | None = None) -> list[Finding]:
    """Every finding of the chain, the ledger's coverage and the audited state (see the rules)."""
    return verification(session, expect_head).findings


def verification(session: Session, expect_head: Head | None = None) -> Verification:
    walk = _walk_chain(session)
    findings = walk.findings
    if expect_head is not None:
        findings += check_head(session, expect_head)
    covered, before = _check_coverage(session, walk)
    _check_personal(session, walk)
    users, stored_settings, batches = _check_state(session, walk)
    return Verification(findings, walk.entries, walk.last, covered, before, users,
                        stored_settings, batches)


def _walk_chain(session: Session) -> _Walk:
    walk = _Walk()
    prev = GENESIS
    expected = 1
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.position, AuditEntry.at, AuditEntry.actor,
               AuditEntry.action, AuditEntry.client_id, AuditEntry.subject, AuditEntry.detail,
               AuditEntry.prev_hash, AuditEntry.hash)
        .order_by(AuditEntry.position).execution_options(yield_per=5000))
    for entry in rows:
        where = f"position {entry.position}"
        if entry.position != expected:
            last = entry.position - 1
            if last == expected:
                missing = Message("position {position} is missing before it (deleted)",
                                  position=expected)
            else:
                missing = Message("positions {first}-{last} are missing before it (deleted)",
                                  first=expected, last=last)
            walk.findings.append(Finding("audit_chain", where, missing))
        elif entry.prev_hash != prev:
            walk.findings.append(Finding(
                "audit_chain", where,
                Message("entry id {id} does not follow the entry before it (deleted or "
                        "reordered)", id=entry.id)))
        digest = entry_digest(entry.prev_hash, entry.at, entry.actor, entry.action, entry.client_id,
                         entry.subject, entry.detail)
        if digest != entry.hash:
            walk.findings.append(Finding(
                "audit_chain", where,
                Message("entry id {id}: its content was altered after it was written",
                        id=entry.id)))
        prev = entry.hash
        expected = entry.position + 1
        walk.entries += 1
        _read_content(walk, entry)
    if walk.entries:
        walk.last = Head(expected - 1, prev)
    return walk


def _read_content(walk: _Walk, entry) -> None:
    """Take what the chain vouches for from one entry: its transactions and any new state."""
    body = entry.detail
    if f'"{PERSONAL_HASH}":' in body:
        walk.personal[entry.hash] = (entry.position, entry.client_id,
                                     json.loads(body).get(PERSONAL_HASH))
    if entry.action == COVERAGE_ACTION:
        detail = json.loads(body)
        if not walk.coverage_seen:
            walk.coverage_seen = True
            walk.through_id = int(detail["before_coverage"]["ledger_transactions_through_id"])
        state = detail.get("state", {})
        for kind, plural in (("user", "users"), ("setting", "settings"), ("batch", "batches")):
            for name, value in state.get(plural, {}).items():
                walk.states[kind, name] = value
        return
    if '"transactions":' not in body and '"state":' not in body:
        return
    detail = json.loads(body)
    posted = detail.get("transactions")
    if isinstance(posted, dict):
        walk.count += int(posted["count"])
        walk.digest += int(posted["keys_digest"], 16)
        walk.ranges.append((int(posted["first_id"]), int(posted["last_id"])))
    state = detail.get("state")
    if isinstance(state, dict):
        kind = _state_kind(entry.action, entry.subject)
        if kind is not None:
            walk.states[kind] = state


def _state_kind(action: str, subject: str) -> tuple[str, str] | None:
    for prefix in ("user", "setting"):
        if subject.startswith(prefix + ":"):
            return prefix, subject[len(prefix) + 1:]
    if action.startswith("batch."):
        return "batch", subject
    return None


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _check_coverage(session: Session, walk: _Walk) -> tuple[int, int]:
    """``audit_coverage`` findings; returns (transactions checked, transactions before coverage)."""
    ranges = _merged(walk.ranges)
    count, digest, uncovered, index = 0, 0, [], 0
    for tx_id, key in ledger.transaction_keys(session, after_id=walk.through_id):
        count += 1
        digest += key_digest(key)
        while index < len(ranges) and ranges[index][1] < tx_id:
            index += 1
        if index == len(ranges) or tx_id < ranges[index][0]:
            uncovered.append((tx_id, key))
    findings = walk.findings
    for tx_id, key in uncovered[:NAMED_UNCOVERED]:
        findings.append(Finding(
            "audit_coverage", f"transaction {key}",
            Message("ledger transaction id {id} was posted by no audited action", id=tx_id)))
    if len(uncovered) > NAMED_UNCOVERED:
        findings.append(Finding(
            "audit_coverage", "ledger_transactions",
            Message("{count} more transactions were posted by no audited action",
                    count=len(uncovered) - NAMED_UNCOVERED)))
    if count != walk.count:
        if walk.through_id:
            detail = Message("the ledger holds {count} transactions after id {id}; the audit "
                             "trail records {recorded} posted", count=count, id=walk.through_id,
                             recorded=walk.count)
        else:
            detail = Message("the ledger holds {count} transactions; the audit trail records "
                             "{recorded} posted", count=count, recorded=walk.count)
        findings.append(Finding("audit_coverage", "ledger_transactions", detail))
    elif digest % (1 << BITS) != walk.digest % (1 << BITS):
        if walk.through_id:
            detail = Message("the keys of the ledger's {count} transactions after id {id} are "
                             "not those the audit trail records (a transaction replaced)",
                             count=count, id=walk.through_id)
        else:
            detail = Message("the keys of the ledger's {count} transactions are not those the "
                             "audit trail records (a transaction replaced)", count=count)
        findings.append(Finding("audit_coverage", "ledger_transactions", detail))
    return count, ledger.count_transactions(session, through_id=walk.through_id)


def _check_personal(session: Session, walk: _Walk) -> None:
    """``audit_personal`` findings: each personal part the chain names is there and unaltered,
    or emptied for an anonymised client. A part is found by its content's hash (the one the
    chain holds), an emptied one by its entry's hash. (A deleted or rehashed entry is the
    chain's own finding; the part it leaves behind adds none.)"""
    anonymised = set(session.execute(select(ClientAnonymisation.client_id)).scalars())
    by_content: dict[str, int] = {}
    by_entry: dict[str, tuple[int, str | None]] = {}
    for row in session.execute(select(AuditPersonal.entry_hash, AuditPersonal.client_id,
                                      AuditPersonal.personal).execution_options(yield_per=5000)):
        if row.personal is not None:
            by_content[sha256_text(row.personal)] = row.client_id
        by_entry[row.entry_hash] = (row.client_id, row.personal)
    for entry_hash, (position, client_id, expected) in walk.personal.items():
        where = f"position {position}"
        if by_content.get(expected, -1) == client_id:
            continue
        row = by_entry.get(entry_hash)
        if row is None:
            walk.findings.append(Finding("audit_personal", where,
                                         Message("the entry's personal part is missing "
                                                 "(deleted)")))
        elif row[1] is not None or row[0] != client_id:
            walk.findings.append(Finding(
                "audit_personal", where,
                Message("the entry's personal part was altered after it was written")))
        elif client_id not in anonymised:
            walk.findings.append(Finding(
                "audit_personal", where, Message("the entry's personal part was emptied, but "
                                                 "client {client} was never anonymised",
                                                 client=client_id)))


def _check_state(session: Session, walk: _Walk) -> tuple[int, int, int]:
    """``audit_state`` findings; returns how many users, stored settings and batches were compared."""
    findings = walk.findings
    states = walk.states

    def compare(kind: str, name: str, subject: str, row: dict | None, fields: Iterable[str]
                ) -> None:
        trail = states.get((kind, name))
        if row is None:
            if trail is not None:
                findings.append(Finding("audit_state", subject, Message(
                    "the audit trail says {state}, but there is no such row (deleted behind the "
                    "service's back)", state=_describe(trail, fields))))
            return
        if trail is None:
            findings.append(Finding("audit_state", subject, Message(
                "{state}: no audit entry made this row (written behind the service's back)",
                state=_describe(row, fields))))
            return
        differ = [f for f in fields if f in trail and trail[f] != row[f]]
        if differ:
            findings.append(Finding("audit_state", subject, Message(
                "{differences} (changed behind the service's back)",
                differences=Message.joined("; ", [Message(
                    "{field} is {value}, the audit trail says {recorded}", field=f,
                    value=_shown(row[f]), recorded=_shown(trail[f])) for f in differ]))))

    users = {name: {"role": role} for name, role in session.execute(select(User.name, User.role))}
    for name in sorted(users.keys() | {n for k, n in states if k == "user"}):
        compare("user", name, f"user:{name}", users.get(name), ("role",))
    stored = {key: {"value": value}
              for key, value in session.execute(select(Setting.key, Setting.value))}
    for key in sorted(stored.keys() | {n for k, n in states if k == "setting"}):
        compare("setting", key, f"setting:{key}", stored.get(key), ("value",))
    batch_columns = [getattr(PaymentBatch, f) for f in BATCH_FIELDS]
    batches = {row.key: dict(row._mapping) for row in session.execute(
        select(PaymentBatch.key, *batch_columns).order_by(PaymentBatch.id))}
    fields = [c.key for c in batch_columns]
    for key in [*batches, *sorted({n for k, n in states if k == "batch"} - batches.keys())]:
        compare("batch", key, key, batches.get(key), fields)
    return len(users), len(stored), len(batches)


def _shown(value) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _describe(state: dict, fields: Iterable[str]) -> str:
    return ", ".join(f"{f} {_shown(state.get(f))}" for f in fields)


# --- reading ---------------------------------------------------------------------------------
