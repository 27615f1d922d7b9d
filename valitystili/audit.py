"""The audit trail: every change and every view of a client's data, hash-chained.

Rules:
- ``record()`` is called in the same database transaction as the change it records, so a
  change and its audit entry are written together or not at all.
- Each entry's hash covers the previous entry's hash and the entry's own fields in a canonical
  form; ``verify()`` recomputes the chain and names the first entry that does not fit.
- Appends are serialised (an advisory lock on PostgreSQL, the write lock on SQLite) so that two
  sessions can never fork the chain. The table also refuses UPDATE and DELETE by trigger.
- Identity codes never go into ``detail`` in clear; callers pass masked values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .models import AuditEntry

GENESIS = "0" * 64
AUDIT_LOCK = 72207002


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


def record(session: Session, actor: str, action: str, *, client_id: int | None = None,
           subject: str = "", detail: dict | None = None, at: datetime | None = None) -> str:
    """Append one entry; returns its hash."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})
    prev = session.execute(
        select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).scalar_one_or_none() or GENESIS
    at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    body = canonical(detail or {})
    digest = _digest(prev, at, actor, action, client_id, subject, body)
    session.add(AuditEntry(at=at, actor=actor, action=action, client_id=client_id,
                           subject=subject, detail=body, prev_hash=prev, hash=digest))
    session.flush()
    return digest


@dataclass(frozen=True)
class AuditFinding:
    check: str
    subject: str
    detail: str


def verify(session: Session) -> list[AuditFinding]:
    """Recompute the chain; the first entry that breaks it is named (and nothing after it)."""
    prev = GENESIS
    expected_id = None
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        if expected_id is not None and entry.id != expected_id:
            return [AuditFinding("audit_chain", f"entry {expected_id}",
                                 f"entries {expected_id}-{entry.id - 1} are missing")]
        if entry.prev_hash != prev:
            return [AuditFinding("audit_chain", f"entry {entry.id}",
                                 "does not follow the entry before it (deleted or reordered)")]
        digest = _digest(entry.prev_hash, entry.at, entry.actor, entry.action, entry.client_id,
                         entry.subject, entry.detail)
        if digest != entry.hash:
            return [AuditFinding("audit_chain", f"entry {entry.id}",
                                 "its content was altered after it was written")]
        prev = entry.hash
        expected_id = entry.id + 1
    return []


def log(session: Session, client_id: int | None = None, limit: int | None = None) -> list[dict]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if client_id is not None:
        query = query.where(AuditEntry.client_id == client_id)
    if limit:
        query = query.limit(limit)
    return [
        {"id": e.id, "at": _canonical_time(e.at)[:19].replace("T", " "), "actor": e.actor,
         "action": e.action, "client": e.client_id, "subject": e.subject,
         "detail": json.loads(e.detail)}
        for e in session.execute(query).scalars()
    ]
