"""Commands for the database, users and the ledger itself."""

from __future__ import annotations

import click

import ledger
from valitystili.cli import cli
from valitystili.cli.app import App, pass_app
from valitystili.store import db
from valitystili.store.models import ROLES
from valitystili.trust import users
from valitystili.trust.auth import login_name


@cli.group("db")
def db_group() -> None:
    """Create or upgrade the database schema."""


@db_group.command("init")
@pass_app
def db_init(app: App) -> None:
    """Create the schema and register you as the first admin.

    \b
    Example:
      valitystili --db ledger.db db init
      valitystili --db postgresql://vt@dbhost/valitystili db init
    """
    if db.is_initialised(app.engine):
        app.info(f"already initialised at revision {db.current_revision(app.engine)}")
    else:
        db.upgrade(app.engine)
    with db.transaction(app.factory) as session:
        name = login_name(session)
        created = users.bootstrap_admin(session, name)
    app.emit({"database": app.engine.url.render_as_string(hide_password=True),
              "revision": db.current_revision(app.engine),
              "admin": name if created else None})


@db_group.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Apply the schema migrations this version of the tool carries.

    \b
    Example:
      valitystili db upgrade
    """
    before = db.current_revision(app.engine)
    db.upgrade(app.engine)
    app.emit({"from_revision": before, "revision": db.current_revision(app.engine)})


@cli.group("user")
def user_group() -> None:
    """Register users and their roles (admin)."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--full-name", default="", help="The person's name, for reports.")
@pass_app
def user_add(app: App, name: str, role: str, full_name: str) -> None:
    """Register NAME (their OS or database login) with a role.

    \b
    Example:
      valitystili user add alice --role handler --full-name "Alice Aalto"
    """
    with app.unit() as (session, actor):
        app.emit(users.add_user(session, actor, name, role, full_name))


@user_group.command("list")
@pass_app
def user_list(app: App) -> None:
    """List registered users.

    \b
    Example:
      valitystili --format json user list
    """
    with app.unit(read_only=True) as (session, actor):
        app.emit(users.list_users(session, actor))


@cli.group("ledger")
def ledger_group() -> None:
    """Look into the double-entry ledger."""


@ledger_group.command("verify")
@pass_app
def ledger_verify(app: App) -> None:
    """Check the ledger's invariants; exit 1 when any finding.

    \b
    Example:
      valitystili ledger verify
    """
    with app.unit(read_only=True) as (session, actor):
        actor.require("ledger.verify")
        findings = ledger.verify(session)
    app.emit([f.__dict__ for f in findings])
    if findings:
        raise click.exceptions.Exit(1)


@ledger_group.command("balances")
@click.option("--as-of", "as_of", default=None, help="Balances at the end of this date.")
@click.option("--prefix", default=None, help="Only accounts whose code starts with this.")
@pass_app
def ledger_balances(app: App, as_of: str | None, prefix: str | None) -> None:
    """Balances of ledger accounts (natural sign), today or as of a date.

    A listing that shows clients' accounts is recorded in each of those clients' access log.

    \b
    Example:
      valitystili ledger balances --prefix client: --as-of 30.11.2026
    """
    from valitystili.base.dates import parse_date
    from valitystili.trust import access

    day = parse_date(as_of) if as_of else None
    with app.unit() as (session, actor):     # a view of clients' balances is recorded
        actor.require("ledger.verify")
        rows = ledger.balances(session, day, prefix)
        access.record_view(session, actor, "ledger.balances.view",
                           access.clients_of_accounts(session, [r.code for r in rows]),
                           subject="ledger balances",
                           detail={"as_of": day, "prefix": prefix, "accounts": len(rows)})
    app.emit([{"account": r.code, "kind": r.kind, "balance_cents": r.balance_cents} for r in rows])
