"""The audit trail: every change and every view of a client's data, hash-chained.

Rules:
- ``record()`` is called in the same database transaction as the change it records, so a
  change and its audit entry are written together or not at all. ``record_each()`` appends many
  entries at once (a letter to every client is a view of each): the same entries, hashes and
  positions as that many ``record()`` calls, with one lock and one read of the chain's end.
- Each entry has a ``position`` in the chain (1, 2, 3 …), given under the append lock (an
  advisory lock on PostgreSQL, the write lock on SQLite) as the last position + 1, so two
  sessions can never fork the chain and a rolled-back insert leaves no gap (row ids may have
  gaps; the chain does not use them). The table refuses UPDATE and DELETE by trigger.
- Each entry's hash covers the previous entry's hash and the entry's own fields in a canonical
  form (``_digest``: the same material as before positions existed, so old entries still
  verify). The position is not in the material: it is implied by the chain, since each entry
  names the hash of the one before it, and ``verify()`` checks the positions run 1, 2, 3 …
- ``verify()`` walks the chain by position and reports every finding (``audit_chain``): missing
  positions, an entry that does not follow the one before it, altered content. It carries on
  after each, resynchronising on the stored hash.
- The head (last position and hash) is what an operator keeps: ``check_head`` says whether the
  chain still holds that entry (``audit_rewound`` when it ends before it, ``audit_rewritten``
  when another entry is there). ``reconcile`` records the head it verified (``audit_heads``) and
  compares the chain with the head it recorded last time.
- Every ledger transaction belongs to an audited action. The ledger remembers what the session
  posted (``ledger.created``); ``record()`` claims it and writes it into the entry's ``detail``
  as ``"transactions": {"count", "first_id", "last_id", "keys_digest"}``, so it is hashed with
  the entry. ``keys_digest`` is a multiset hash: the sum modulo 2**256 of SHA-256 of each key,
  so the digests of parts add up. ``verify()`` checks (``audit_coverage``) that the ledger holds
  as many transactions as the entries record, that their keys add up to the entries' digests,
  and names each transaction whose id falls in no entry's [first_id, last_id]. Transactions up
  to the id the ``audit.coverage`` entry of migration 0004 names were posted before the trail
  recorded this and are not findings. A unit of work marked with ``require_entries`` (every
  command's) refuses to commit transactions no entry claimed.
- Users, settings and payment batches change only through the service, and each change is an
  entry whose ``detail["state"]`` is the row's new state: subject ``user:<name>`` with
  ``{"role"}``, ``setting:<key>`` with ``{"value"}``, the batch key (actions ``batch.*``) with
  ``{"status", "created_by", "approved_by", "approved_digest", …}``. ``verify()`` compares the
  rows with the last state the trail gives each (``audit_state``): a row changed, added or
  deleted behind the service's back is a finding. (The ``audit.coverage`` entry holds the state
  of every such row at migration time.)
- Identity codes never go into ``detail`` in clear; callers pass masked values.
- **Personal parts** (revision 0011, retention): in an entry about a client (``client_id``
  set), the values under :data:`PERSONAL_KEYS` (names, IBANs, the masked identity code, free
  texts), at any depth of the detail's dicts, are taken out of the hashed ``detail`` into the
  entry's personal part, a row of ``audit_personal`` (``{"salt", "values"}`` as canonical
  JSON, the salt random so the hash gives nothing away once the values are gone). The hashed
  detail keeps ``personal_sha256``, the SHA-256 of that text, so the chain vouches for the
  personal part as it did when it was inside. ``client anonymise`` empties the part
  (``personal`` NULL): the entry, its hash and every later hash stay as they were, and
  ``verify()`` accepts an empty part only for a client in ``client_anonymisations``
  (``audit_personal`` findings: a part missing, altered, or emptied for a client not
  anonymised). Reading (``log``, ``access.history``) puts the values back (:func:`shown`).
  Entries written before revision 0011 were not rewritten (their hashes, and the heads
  operators kept, stay valid): their details still hold what they held, and anonymising a
  client counts them (``legacy_entries``) rather than changing them.
- ``audit log`` shows each entry in words (``trust.audit_words.summary``): its subject and what its detail
  says, money as ``1 234,56 €``, digests and hashes left out; the detail itself is the record.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import event, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.errors import ValidationError
from valitystili.base.findings import Finding
from valitystili.base.i18n import Message, _, ngettext
from valitystili.store.chunks import insert_rows
from valitystili.store.db import advisory_lock
from valitystili.store.models import (
    AuditEntry,
    AuditHead,
    AuditPersonal,
    ClientAnonymisation,
    PaymentBatch,
    Setting,
    User,
)

GENESIS = "0" * 64
AUDIT_LOCK = 72207002
#: The entry migration 0004 appends: where ledger coverage and the tracked state begin.
COVERAGE_ACTION = "audit.coverage"
#: A digest of a set of keys is this many bits: sums of digests are taken modulo 2**BITS.
BITS = 256
#: Transactions no entry covers are named one by one, up to this many; the rest are counted.
NAMED_UNCOVERED = 100
#: The batch state fields compared with the payment_batches row.
BATCH_FIELDS = ("status", "created_by", "approved_by", "approved_digest")
#: ``session.info`` key: this unit of work may not commit transactions no entry claimed.
REQUIRED = "audit.required"


#: Detail keys whose values are a client's personal data, kept in the entry's personal part.
PERSONAL_KEYS = frozenset({
    "name", "payment_name", "iban", "bic", "hetu", "note", "reason", "comment", "comments",
    "criterion_reason", "text", "message", "grounds", "scope", "to", "incomes", "payments",
    "benefits", "reference", "payout_name", "payout_payment_name", "payout_iban", "payout_bic",
    "creditor_name", "creditor_payment_name", "creditor_iban", "counterparty", "address",
    "despite", "old_iban", "new_iban", "summary", "payee", "payout_to"})
#: Detail keys that are the trail's own and never personal.
OWN_KEYS = frozenset({"transactions", "state", "clients"})
#: The hashed detail's key that holds the personal part's SHA-256.
PERSONAL_HASH = "personal_sha256"


class UnauditedPosting(RuntimeError):
    """A unit of work posted ledger transactions but recorded no audit entry for them (a bug)."""


def _canonical_time(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _digest(prev_hash: str, at: datetime, actor: str, action: str, client_id: int | None,
            subject: str, detail: str) -> str:
    material = "\x1f".join([prev_hash, _canonical_time(at), actor, action,
                            "" if client_id is None else str(client_id), subject, detail])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def canonical(detail: dict) -> str:
    return json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def key_digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "big")


def keys_digest(keys: Iterable[str]) -> str:
    """The multiset digest of transaction keys, as 64 hex digits (see the module rules)."""
    return f"{sum(map(key_digest, keys)) % (1 << BITS):064x}"


# --- writing ---------------------------------------------------------------------------------


def _lock(session: Session) -> None:
    advisory_lock(session, AUDIT_LOCK)


def record(session: Session, actor: str, action: str, *, client_id: int | None = None,
           subject: str = "", detail: dict | None = None, at: datetime | None = None) -> str:
    """Append one entry (with the ledger transactions this unit posted); returns its hash."""
    return record_each(session, actor, action, [(client_id, subject, detail)], at=at)[0]


def record_each(session: Session, actor: str, action: str,
                entries: Sequence[tuple[int | None, str, dict | None]], *,
                at: datetime | None = None) -> list[str]:
    """Append one entry for each ``(client_id, subject, detail)``, in order, exactly as
    ``record`` would one after another (the first claims the ledger transactions this unit
    posted), under one lock and one read of the chain's end; returns their hashes."""
    if action == COVERAGE_ACTION:
        raise ValueError(f"{COVERAGE_ACTION} entries are written by the migration only")
    if not entries:
        return []           # nothing to append, and nothing to claim the unit's postings for
    _lock(session)
    last = session.execute(
        select(AuditEntry.position, AuditEntry.hash).order_by(AuditEntry.position.desc()).limit(1)
    ).first()
    position, prev = (last.position + 1, last.hash) if last is not None else (1, GENESIS)
    posted = ledger.created.claim(session)
    rows, personal_rows = [], []
    for client_id, subject, given in entries:
        detail = dict(given or {})
        if posted:
            if "transactions" in detail:
                raise ValueError("detail key 'transactions' is the audit trail's own")
            detail["transactions"] = {"count": len(posted), "first_id": posted[0][0],
                                      "last_id": posted[-1][0],
                                      "keys_digest": keys_digest(key for _kind, key in posted)}
            posted = []
        when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
        personal_text = None
        if client_id is not None:
            detail, personal = split_personal(detail)
            if personal:
                personal_text = canonical({"salt": secrets.token_hex(16), "values": personal})
                detail[PERSONAL_HASH] = _sha256(personal_text)
        body = canonical(detail)
        digest = _digest(prev, when, actor, action, client_id, subject, body)
        rows.append({"position": position, "at": when, "actor": actor, "action": action,
                     "client_id": client_id, "subject": subject, "detail": body,
                     "prev_hash": prev, "hash": digest})
        if personal_text is not None:
            personal_rows.append({"entry_hash": digest, "client_id": client_id,
                                  "personal": personal_text})
        position, prev = position + 1, digest
    insert_rows(session, AuditEntry.__table__, rows)
    insert_rows(session, AuditPersonal.__table__, personal_rows)
    return [row["hash"] for row in rows]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _has_personal(value) -> bool:
    if isinstance(value, dict):
        return any(k in PERSONAL_KEYS or _has_personal(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_personal(v) for v in value)
    return False


def split_personal(detail: dict) -> tuple[dict, dict]:
    """(the detail without personal values, the personal values in the same shape).

    A list holding personal values goes to the personal part whole."""
    public: dict = {}
    personal: dict = {}
    for key, value in detail.items():
        if key in OWN_KEYS:
            public[key] = value
        elif key in PERSONAL_KEYS and value not in (None, ""):
            personal[key] = value
        elif isinstance(value, dict):
            public[key], inner = split_personal(value)
            if inner:
                personal[key] = inner
        elif isinstance(value, list) and _has_personal(value):
            personal[key] = value
        else:
            public[key] = value
    return public, personal


def _merge(public: dict, personal: dict) -> dict:
    merged = dict(public)
    for key, value in personal.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


#: What a reader sees in place of an anonymised entry's personal values.
ANONYMISED = "anonymised"


def shown(session: Session, entries: Iterable[AuditEntry]) -> dict[str, dict]:
    """Each entry's detail as recorded, its personal part put back (by the entry's hash); an
    anonymised part shows as ``"personal": "anonymised"``."""
    entries = list(entries)
    wanted = [e.hash for e in entries if f'"{PERSONAL_HASH}":' in e.detail]
    parts = {}
    for start in range(0, len(wanted), 500):
        parts.update(session.execute(
            select(AuditPersonal.entry_hash, AuditPersonal.personal)
            .where(AuditPersonal.entry_hash.in_(wanted[start:start + 500]))).all())
    result = {}
    for entry in entries:
        detail = json.loads(entry.detail)
        if PERSONAL_HASH in detail:
            detail.pop(PERSONAL_HASH)
            text = parts.get(entry.hash)
            if text is None:
                detail["personal"] = ANONYMISED
            else:
                detail = _merge(detail, json.loads(text)["values"])
        result[entry.hash] = detail
    return result


def require_entries(session: Session) -> None:
    """Mark a unit of work: committing ledger transactions no audit entry claimed is refused."""
    session.info[REQUIRED] = True


@event.listens_for(Session, "before_commit")
def _refuse_unaudited(session: Session) -> None:
    if not session.info.get(REQUIRED) or session.in_nested_transaction():
        return
    unclaimed = ledger.created.pending(session)
    if unclaimed:
        keys = ", ".join(key for _kind, key in unclaimed[:3]) + (" …" if len(unclaimed) > 3
                                                                 else "")
        raise UnauditedPosting(ngettext(
            "{count} ledger transaction ({keys}) was posted without an audit entry; nothing was "
            "written",
            "{count} ledger transactions ({keys}) were posted without an audit entry; nothing "
            "was written", len(unclaimed)).format(count=len(unclaimed), keys=keys))


# --- the head --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """The last entry of the chain: what an operator keeps to see later that nothing was cut
    off or rewritten."""

    position: int
    hash: str

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"


def head(session: Session) -> Head | None:
    row = session.execute(select(AuditEntry.position, AuditEntry.hash)
                          .order_by(AuditEntry.position.desc()).limit(1)).first()
    return None if row is None else Head(row.position, row.hash)


def parse_head(value: str) -> Head:
    """``POSITION:HASH`` as ``audit verify`` prints it."""
    position, _colon, digest = value.strip().partition(":")
    digest = digest.strip().lower()
    if not position.strip().isdigit() or int(position) < 1 or len(digest) != 64 or any(
            c not in "0123456789abcdef" for c in digest):
        raise ValidationError(_("head {head} is not POSITION:HASH (a position and 64 hex digits, "
                                "as `audit verify` prints it)").format(head=repr(value)))
    return Head(int(position), digest)


def check_head(session: Session, expected: Head, kept: str | None = None) -> list[Finding]:
    """Does the chain still hold ``expected``? (It may have grown since.)"""
    stored = session.execute(select(AuditEntry.hash)
                             .where(AuditEntry.position == expected.position)).scalar_one_or_none()
    if stored == expected.hash:
        return []
    kept = kept if kept is not None else Message("the head kept")
    now = head(session)
    if stored is None and (now is None or now.position < expected.position):
        if now:
            detail = Message("the audit trail ends at position {position}, before {kept} "
                             "({head}): the audit trail was rewound or rewritten",
                             position=now.position, kept=kept, head=str(expected))
        else:
            detail = Message("the audit trail is empty, before {kept} ({head}): the audit "
                             "trail was rewound or rewritten", kept=kept, head=str(expected))
        return [Finding("audit_rewound", f"position {expected.position}", detail)]
    if stored:
        detail = Message("holds {stored}…, not {kept} ({head}…): the audit trail was rewound "
                         "or rewritten", stored=stored[:16], kept=kept, head=expected.hash[:16])
    else:
        detail = Message("holds no entry, not {kept} ({head}…): the audit trail was rewound "
                         "or rewritten", kept=kept, head=expected.hash[:16])
    return [Finding("audit_rewritten", f"position {expected.position}", detail)]


def last_recorded_head(session: Session) -> AuditHead | None:
    return session.execute(select(AuditHead).order_by(AuditHead.id.desc()).limit(1)).scalar_one_or_none()


def check_recorded_head(session: Session) -> list[Finding]:
    """Compare the chain with the head ``reconcile`` recorded last time."""
    recorded = last_recorded_head(session)
    if recorded is None:
        return []
    when = _canonical_time(recorded.recorded_at)[:16].replace("T", " ")
    return check_head(session, Head(recorded.position, recorded.hash),
                      Message("the head {name} recorded at reconcile on {when}",
                              name=recorded.recorded_by, when=when))


def record_head(session: Session, actor: str) -> Head | None:
    """Record the chain's head as verified now (``reconcile`` does, after its checks)."""
    now = head(session)
    if now is not None:
        session.add(AuditHead(position=now.position, hash=now.hash,
                              recorded_at=datetime.now(timezone.utc), recorded_by=actor))
        session.flush()
    return now


# --- verifying -------------------------------------------------------------------------------


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
        digest = _digest(entry.prev_hash, entry.at, entry.actor, entry.action, entry.client_id,
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
            by_content[_sha256(row.personal)] = row.client_id
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


def log(session: Session, client_id: int | None = None, limit: int | None = None) -> list[dict]:
    query = select(AuditEntry).order_by(AuditEntry.position)
    if client_id is not None:
        query = query.where(AuditEntry.client_id == client_id)
    if limit:
        query = query.limit(limit)
    entries = session.execute(query).scalars().all()
    details = shown(session, entries)
    return [
        {"id": e.id, "at": _canonical_time(e.at)[:19].replace("T", " "), "actor": e.actor,
         "action": e.action, "client": e.client_id, "subject": e.subject,
         "detail": details[e.hash]}
        for e in entries
    ]
