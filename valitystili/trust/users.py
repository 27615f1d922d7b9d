"""Registered users and their roles.

Users and roles change only here, and each change is an audit entry (subject ``user:<name>``)
holding the user's new state, ``{"state": {"role": …}}``: ``audit verify`` compares the
``users`` rows with it, so a role given or changed behind the service's back is a finding. The
first admin (``db init``, or the first use of a new SQLite file) is recorded the same way.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.errors import Conflict, ValidationError
from valitystili.base.i18n import LANGUAGES, _
from valitystili.store.models import ROLES, User
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def _check(name: str, role: str) -> None:
    if role not in ROLES:
        raise ValidationError(_("unknown role {role}; choose one of {roles}")
                              .format(role=repr(role), roles=", ".join(ROLES)))
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise ValidationError(_("user name {name} must be 1-64 characters without spaces")
                              .format(name=repr(name)))


def bootstrap_admin(session: Session, name: str) -> bool:
    """Register ``name`` as the first admin of an empty user table; True when it did."""
    if session.execute(select(User.id).limit(1)).first() is not None:
        return False
    _check(name, "admin")
    session.add(User(name=name, role="admin", created_by=name))
    session.flush()
    audit.record(session, name, "user.add", subject=f"user:{name}",
                 detail={"first_admin": True, "state": {"role": "admin"}})
    return True


def add_user(session: Session, actor: Actor, name: str, role: str, full_name: str = "",
             language: str | None = None) -> dict:
    actor.require("user.add")
    _check(name, role)
    if language is not None and language not in LANGUAGES:
        raise ValidationError(_("unknown language {language}; choose one of {languages}")
                              .format(language=repr(language), languages=", ".join(LANGUAGES)))
    if session.execute(select(User.id).where(User.name == name)).first() is not None:
        raise Conflict(_("user {name} already exists").format(name=name))
    user = User(name=name, role=role, full_name=full_name, created_by=actor.name,
                language=language)
    session.add(user)
    session.flush()
    detail = {"full_name": full_name, "state": {"role": role}}
    if language is not None:
        detail["language"] = language
    audit.record(session, actor.name, "user.add", subject=f"user:{name}", detail=detail)
    return {"name": name, "role": role, "full_name": full_name, "created_by": actor.name,
            "language": language}


def list_users(session: Session, actor: Actor) -> list[dict]:
    actor.require("user.list")
    return [
        {"name": u.name, "role": u.role, "full_name": u.full_name, "created_by": u.created_by,
         "language": u.language}
        for u in session.execute(select(User).order_by(User.name)).scalars()
    ]
