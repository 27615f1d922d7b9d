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

Need to know (DESIGN §10) is decided here and nowhere else:

- :func:`may_see` is the one rule: a social worker sees and changes their own clients (the
  client's responsible ``worker``) and those granted to them (``client grant``, a row of
  ``client_grants`` not revoked); every other role sees every client (what a role may *do* is
  ``auth.PERMISSIONS``'s). :func:`visible` is the same rule as a query condition for lists.
- The unit of work knows its actor (``auth.current_actor`` registers it on the session), and
  ``clients.resolve_client`` (the one way a command names a client) calls :func:`check`, so
  every command that shows or changes one client applies the rule.
- A refusal is :class:`NotYourClient` (exit 2, one line); the CLI writes it into the access log
  (``access.refused``) in a unit of its own after the refused one was rolled back
  (:func:`record_refusal`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timezone

from sqlalchemy import ColumnElement, insert, or_, select, true, union
from sqlalchemy.orm import Session

from valitystili.base.accounts import CLIENT_PREFIX
from valitystili.base.errors import PermissionDenied
from valitystili.base.i18n import _
from valitystili.store.chunks import chunks, scalars_in
from valitystili.store.models import AuditClientView, AuditEntry, Client, ClientGrant
from valitystili.trust import audit
from valitystili.trust.auth import ACTOR_KEY, Actor

#: The roles whose users see only their own and granted clients.
NEED_TO_KNOW_ROLES = frozenset({"social_worker"})


class NotYourClient(PermissionDenied):
    """A social worker named a client who is neither theirs nor granted to them."""

    def __init__(self, actor: Actor, client_id: int):
        super().__init__(_("user {name} ({role}) may not see client {client}: not their client "
                           "and not granted to them (`client grant`)")
                         .format(name=actor.name, role=actor.role, client=client_id))
        self.actor = actor
        self.client_id = client_id


def _granted(actor_name: str):
    return select(ClientGrant.client_id).where(ClientGrant.user_name == actor_name,
                                               ClientGrant.revoked_at.is_(None))


def may_see(session: Session, actor: Actor, client: Client) -> bool:
    """The need-to-know rule (see the module rules)."""
    if actor.role not in NEED_TO_KNOW_ROLES or client.worker == actor.name:
        return True
    return session.execute(_granted(actor.name).where(ClientGrant.client_id == client.id)
                           .limit(1)).first() is not None


def visible(actor: Actor, client_id_column=Client.id) -> ColumnElement[bool]:
    """:func:`may_see` as a condition on a query whose ``client_id_column`` names the client."""
    if actor.role not in NEED_TO_KNOW_ROLES:
        return true()
    own = select(Client.id).where(Client.worker == actor.name)
    return or_(client_id_column.in_(own), client_id_column.in_(_granted(actor.name)))


def visible_ids(session: Session, actor: Actor) -> set[int] | None:
    """The clients ``actor`` may see, as ids (None: every client)."""
    if actor.role not in NEED_TO_KNOW_ROLES:
        return None
    return set(session.execute(select(Client.id).where(visible(actor))).scalars())


def acting(session: Session) -> Actor | None:
    """The actor the session's unit of work runs as (None: a unit without one, e.g. tests)."""
    return session.info.get(ACTOR_KEY)


def check(session: Session, client: Client) -> None:
    """Refuse (:class:`NotYourClient`) when the session's actor may not see ``client``."""
    actor = acting(session)
    if actor is not None and not may_see(session, actor, client):
        raise NotYourClient(actor, client.id)


def record_refusal(session: Session, actor: Actor, refused: NotYourClient) -> None:
    """The refused attempt in the access log (in a unit that is not rolled back)."""
    audit.record(session, actor.name, "access.refused", client_id=refused.client_id,
                 subject=f"client:{refused.client_id}", detail={"role": actor.role})


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
    entries = session.execute(query).scalars().all()
    details = audit.shown(session, entries)
    return [_row(entry, details[entry.hash]) for entry in entries]


def _row(entry: AuditEntry, detail: dict) -> dict:
    at = entry.at
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return {"id": entry.id, "at": at.strftime("%Y-%m-%d %H:%M:%S"), "actor": entry.actor,
            "action": entry.action, "client": entry.client_id, "subject": entry.subject,
            "detail": detail}
