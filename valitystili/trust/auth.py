"""Who is acting, and what their role allows.

The acting user is the OS login, or ``VALITYSTILI_USER`` for scripts and tests; on PostgreSQL it
is the database login (``current_user``), and a ``VALITYSTILI_USER`` that differs is refused
rather than trusted. The user must be registered. ``PERMISSIONS`` is the one table of what each
role may do; every service function that reads or changes data asks it through ``Actor.require``.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from valitystili.base.errors import PermissionDenied
from valitystili.base.i18n import _
from valitystili.store.models import ROLES, User

#: ``session.info`` key: the unit of work's acting user (``current_actor``).
ACTOR_KEY = "valitystili.actor"

PERMISSIONS: dict[str, frozenset[str]] = {
    "user.add": frozenset({"admin"}),
    "user.list": frozenset({"admin", "auditor"}),
    "settings.set": frozenset({"admin"}),
    "settings.list": frozenset(ROLES),
    "bank.add": frozenset({"admin"}),
    "bank.list": frozenset(ROLES),
    "payee.add": frozenset({"handler", "social_worker"}),
    "payee.list": frozenset(ROLES),
    "client.open": frozenset({"social_worker"}),
    "client.close": frozenset({"social_worker", "handler"}),
    "client.extend": frozenset({"handler"}),
    "client.reopen": frozenset({"social_worker"}),
    "client.payout_approve": frozenset({"handler"}),
    # The service record (people.records): the decision is the handler's.
    "client.record": frozenset({"social_worker", "handler"}),
    "client.decide": frozenset({"handler"}),
    # Changing details (people.edits); an IBAN change waits for a handler who did not make it.
    "client.edit": frozenset({"social_worker", "handler"}),
    "client.edit.approve": frozenset({"handler"}),
    # Need to know (trust.access): who may grant a client to another worker; anonymising.
    "client.grant": frozenset({"admin"}),
    "client.anonymise": frozenset({"admin"}),
    "client.export": frozenset({"social_worker", "handler"}),
    "client.read": frozenset({"social_worker", "handler", "finance", "auditor"}),
    "client.hetu": frozenset({"social_worker", "handler", "auditor"}),
    "plan.set": frozenset({"social_worker"}),
    "plan.approve": frozenset({"handler"}),
    "plan.kela_share": frozenset({"handler"}),
    "bill.add": frozenset({"handler"}),
    "lease.add": frozenset({"handler", "social_worker"}),
    "lease.override": frozenset({"handler"}),
    "import": frozenset({"finance"}),
    "income.read": frozenset({"handler", "finance", "auditor"}),
    "income.assign": frozenset({"handler"}),
    "income.refund": frozenset({"handler"}),
    "income.split": frozenset({"handler"}),
    "pay": frozenset({"handler"}),
    "batch.run": frozenset({"handler"}),
    "batch.approve": frozenset({"handler"}),
    # Finance exports; a handler only where the setting handler_exports says so (DESIGN §2).
    "batch.export": frozenset({"finance"}),
    "batch.read": frozenset({"handler", "finance", "auditor"}),
    "reconcile": frozenset({"finance", "admin", "auditor"}),
    # Raising and resolving flags and recording the run: an auditor's reconcile only checks.
    "reconcile.refresh": frozenset({"finance", "admin"}),
    "flags.read": frozenset({"handler", "social_worker", "finance", "auditor"}),
    "flags.ack": frozenset({"handler", "social_worker", "finance"}),
    "report": frozenset({"handler", "social_worker", "finance", "auditor"}),
    "audit.read": frozenset({"auditor", "admin"}),
    "ledger.verify": frozenset(ROLES),
    # A backup holds every identity code in clear, outside the roles and the access log.
    "db.backup": frozenset({"admin"}),
    "db.check": frozenset({"auditor", "admin"}),
}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    #: The language the user asked to be spoken to in (``user add --language``), or None.
    language: str | None = None

    def may(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]

    def require(self, action: str) -> None:
        allowed = PERMISSIONS[action]
        if self.role not in allowed:
            raise PermissionDenied(
                _("user {name} ({role}) may not {action}; allowed roles: {roles}").format(
                    name=self.name, role=self.role, action=action.replace(".", " "),
                    roles=", ".join(sorted(allowed)))
            )


def login_name(session: Session) -> str:
    """The name the acting user is known by, before checking registration."""
    requested = os.environ.get("VALITYSTILI_USER", "").strip()
    if session.get_bind().dialect.name == "postgresql":
        login = session.execute(text("SELECT current_user")).scalar_one()
        if requested and requested != login:
            raise PermissionDenied(
                _("VALITYSTILI_USER={requested} does not match the database login {login}")
                .format(requested=requested, login=login))
        return login
    return requested or getpass.getuser()


def current_actor(session: Session) -> Actor:
    """The acting user, registered on the session (``ACTOR_KEY``) so that the need-to-know
    rule (``access.check``) applies to every client the unit of work names."""
    name = login_name(session)
    found = session.execute(select(User.role, User.language).where(User.name == name)).first()
    if found is None:
        raise PermissionDenied(_("user {name} is not registered; an admin adds users with "
                                 "`user add`").format(name=name))
    actor = Actor(name, found.role, found.language)
    session.info[ACTOR_KEY] = actor
    return actor
