"""Granting a client to a social worker who is not the client's own (need to know, DESIGN §10).

Rules of this module:

- ``client grant CLIENT USER`` lets a social worker see and change a client whose responsible
  worker is someone else (a substitute, a colleague on the case); ``client revoke CLIENT USER``
  ends it. Only an admin grants and revokes (there is no team-lead role): ``client.grant``.
- The rule itself is ``trust.access.may_see``; this module only writes ``client_grants``.
- A grant is to a registered social worker (other roles see every client already); granting
  the client's own worker, or a grant already in force, is refused; so is revoking none.
- A revoked grant keeps its row (``revoked_by``/``revoked_at``): who could see the client when
  stays answerable. Each grant and revoke is an audit entry about the client
  (``client.grant`` / ``client.revoke``, subject ``client:<id>``, the user in its detail).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import _
from valitystili.people.clients import resolve_client
from valitystili.store.models import ClientGrant, User
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def _in_force(session: Session, client_id: int, user: str) -> ClientGrant | None:
    return session.execute(select(ClientGrant).where(
        ClientGrant.client_id == client_id, ClientGrant.user_name == user,
        ClientGrant.revoked_at.is_(None))).scalar_one_or_none()


def grant(session: Session, actor: Actor, client: str | int, user: str) -> dict:
    """Let ``user`` (a social worker) see and change ``client``."""
    actor.require("client.grant")
    found = resolve_client(session, client, for_update=True)
    role = session.execute(select(User.role).where(User.name == user)).scalar_one_or_none()
    if role is None:
        raise NotFound(_("user {user} is not registered").format(user=user))
    if role != "social_worker":
        raise ValidationError(_("user {user} is a {role}, who sees every client already; grants "
                                "are for social workers").format(user=user, role=role))
    if found.worker == user:
        raise Conflict(_("client {client} is {user}'s own client already").format(
            client=found.id, user=user))
    if _in_force(session, found.id, user) is not None:
        raise Conflict(_("client {client} is granted to {user} already").format(
            client=found.id, user=user))
    session.add(ClientGrant(client_id=found.id, user_name=user, granted_by=actor.name))
    session.flush()
    audit.record(session, actor.name, "client.grant", client_id=found.id,
                 subject=f"client:{found.id}", detail={"user": user})
    return {"client": found.id, "user": user, "granted": True}


def revoke(session: Session, actor: Actor, client: str | int, user: str) -> dict:
    """End ``user``'s grant of ``client``."""
    actor.require("client.grant")
    found = resolve_client(session, client, for_update=True)
    row = _in_force(session, found.id, user)
    if row is None:
        raise Conflict(_("client {client} is not granted to {user}").format(client=found.id,
                                                                              user=user))
    row.revoked_by = actor.name
    row.revoked_at = datetime.now(UTC)
    session.flush()
    audit.record(session, actor.name, "client.revoke", client_id=found.id,
                 subject=f"client:{found.id}", detail={"user": user})
    return {"client": found.id, "user": user, "granted": False}


def grants_of(session: Session, client_id: int) -> list[dict]:
    """The grants of one client, in force or not, oldest first (for export and show)."""
    return [{"user": g.user_name, "granted_by": g.granted_by, "granted_at": g.granted_at,
             "revoked_by": g.revoked_by, "revoked_at": g.revoked_at}
            for g in session.execute(select(ClientGrant).where(
                ClientGrant.client_id == client_id).order_by(ClientGrant.id)).scalars()]
