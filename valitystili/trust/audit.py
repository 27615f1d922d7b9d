"""The audit trail: every change and every view of a client's data, hash-chained.

Writing the trail, its head and reading it are here; ``verify()`` below is
``trust.audit_verify.verify``.

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
  form (``entry_digest``: the same material as before positions existed, so old entries still
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
from dataclasses import dataclass
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
)

GENESIS = "0" * 64
AUDIT_LOCK = 72207002
#: The entry migration 0004 appends: where ledger coverage and the tracked state begin.
COVERAGE_ACTION = "audit.coverage"
#: A digest of a set of keys is this many bits: sums of digests are taken modulo 2**BITS.
BITS = 256
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


def entry_digest(prev_hash: str, at: datetime, actor: str, action: str, client_id: int | None,
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
                detail[PERSONAL_HASH] = sha256_text(personal_text)
        body = canonical(detail)
        digest = entry_digest(prev, when, actor, action, client_id, subject, body)
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


def sha256_text(text: str) -> str:
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
