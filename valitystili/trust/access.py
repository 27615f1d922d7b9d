"""Views of client data in the access log (Client Data Act 703/2023: every view is logged).

Rules of this module:

- A view is **one** audit entry, whatever the number of clients it showed (``flags.view``,
  ``ledger.balances.view``, ``client.open.duplicate`` …): :func:`record_view`. The clients it
  showed are rows of the append-only table ``audit_client_views`` (client id, the entry's hash),
  written in bulk in the same transaction as the entry, so a view of 10 000 clients costs one
  hash-chained entry and 10 000 small rows, not 10 000 entries.
- A view of exactly one client also sets the entry's ``client_id``, as single-client views
  (``client show``) always have.
- A view that showed no client's data writes nothing.
- A client's access history (:func:`history`, ``audit log --client``) is every entry whose
  ``client_id`` is the client's, and every entry linked to the client in ``audit_client_views``,
  in chain order.
- Only ``audit.record``'s public signature and its return value (the entry's hash) are used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timezone

from sqlalchemy import insert, select, union
from sqlalchemy.orm import Session

from valitystili.base.accounts import CLIENT_PREFIX
from valitystili.store.chunks import chunks, scalars_in
from valitystili.store.models import AuditClientView, AuditEntry, Client
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def record_view(session: Session, actor: Actor, action: str, client_ids: Iterable[int], *,
                subject: str = "", detail: dict | None = None) -> str | None:
    """Record that ``actor`` saw these clients' data; returns the entry's hash (None: no client).

    ``detail`` is added to the entry's own detail, which also counts the clients.
    """
    ids = sorted(set(client_ids))
    if not ids:
        return None
    entry_hash = audit.record(session, actor.name, action,
                              client_id=ids[0] if len(ids) == 1 else None, subject=subject,
                              detail={**(detail or {}), "clients": len(ids)})
    table = AuditClientView.__table__
    for part in chunks(ids):
        session.execute(insert(table), [{"client_id": client_id, "entry_hash": entry_hash}
                                        for client_id in part])
    return entry_hash


def clients_of_accounts(session: Session, codes: Iterable[str]) -> list[int]:
    """The clients whose ledger accounts these are (other accounts are nobody's data)."""
    wanted = sorted({code for code in codes if code.startswith(CLIENT_PREFIX)})
    return list(scalars_in(session, select(Client.id), Client.ledger_code, wanted))


def history(session: Session, client_id: int, limit: int | None = None) -> list[dict]:
    """One client's access history: the entries about the client, in chain order.

    Rows have the shape of ``audit.log``'s.
    """
    about = union(
        select(AuditEntry.id).where(AuditEntry.client_id == client_id),
        select(AuditEntry.id).join(AuditClientView, AuditClientView.entry_hash == AuditEntry.hash)
        .where(AuditClientView.client_id == client_id),
    ).subquery()
    query = select(AuditEntry).where(AuditEntry.id.in_(select(about.c.id))).order_by(
        AuditEntry.position)
    if limit:
        query = query.limit(limit)
    return [_row(entry) for entry in session.execute(query).scalars()]


def _row(entry: AuditEntry) -> dict:
    at = entry.at
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return {"id": entry.id, "at": at.strftime("%Y-%m-%d %H:%M:%S"), "actor": entry.actor,
            "action": entry.action, "client": entry.client_id, "subject": entry.subject,
            "detail": json.loads(entry.detail)}
