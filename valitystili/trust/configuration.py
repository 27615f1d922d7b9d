"""Changing the deployment's settings (``settings set`` / ``settings list``, admins).

A value is checked against the kind of its default (``store.settings.checked``) and each change
is an audit entry (subject ``setting:<key>``) holding the new state, ``{"state": {"value": …}}``,
which ``audit verify`` compares with the ``settings`` rows.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from valitystili.store.models import Setting
from valitystili.store.settings import DEFAULTS, all_settings, checked
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def put(session: Session, actor: Actor, key: str, value: str) -> dict:
    """Store an override (admins), audited with the new state."""
    actor.require("settings.set")
    value = checked(key, value)
    row = session.get(Setting, key)
    old = None if row is None else row.value
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()
    audit.record(session, actor.name, "setting.set", subject=f"setting:{key}",
                 detail={"old": old, "state": {"value": value}})
    return {"key": key, "value": value, "previous": DEFAULTS[key][0] if old is None else old,
            "default": DEFAULTS[key][0]}


def list_settings(session: Session, actor: Actor) -> list[dict]:
    actor.require("settings.list")
    return all_settings(session)
