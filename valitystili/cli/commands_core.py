"""Commands for the database, users and the ledger itself."""

from __future__ import annotations

from datetime import date

import click

from valitystili.base.i18n import LANGUAGES, N_
from valitystili.cli import tables
from valitystili.cli.app import App, pass_app
from valitystili.cli.params import ServiceChoice, as_of_option


@click.group("db")
def db_group() -> None:
    """Create or upgrade the database schema."""


@db_group.command("init")
@pass_app
def db_init(app: App) -> None:
    """Create the schema and register you as the first admin.

    Only this command creates a ledger (a new SQLite file and its folder, or the schema in an
    empty PostgreSQL database); every other command on a database without one exits 3.

    \b
    Example:
      valitystili --db ledger.db db init
      valitystili --db postgresql://vt@dbhost/valitystili db init
    """
    from valitystili.store import db
    from valitystili.trust import users
    from valitystili.trust.auth import login_name

    db.make_folder(app.url)
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
    from valitystili.store import db

    db.require_ledger(app.engine)
    before = db.current_revision(app.engine)
    db.upgrade(app.engine)
    app.emit({"from_revision": before, "revision": db.current_revision(app.engine)})


@click.group("user")
def user_group() -> None:
    """Register users and their roles (admin)."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=ServiceChoice("valitystili.store.models:ROLES"),
              help="What the user may do.")
@click.option("--full-name", default="", help="The person's name, for reports.")
@click.option("--language", type=click.Choice(LANGUAGES), default=None,
              help=N_("The language the tool speaks to the user: fi, sv or en (default: their "
                      "locale's; --lang and VALITYSTILI_LANG come first)."))
@pass_app
def user_add(app: App, name: str, role: str, full_name: str, language: str | None) -> None:
    """Register NAME (their OS or database login) with a role.

    \b
    Example:
      valitystili user add alice --role handler --full-name "Alice Aalto"
      valitystili user add sanna --role social_worker --language fi
    """
    from valitystili.trust import users

    with app.unit() as (session, actor):
        app.emit(users.add_user(session, actor, name, role, full_name, language))


@user_group.command("list")
@pass_app
def user_list(app: App) -> None:
    """List registered users.

    \b
    Example:
      valitystili --format json user list
    """
    from valitystili.trust import users

    with app.unit(read_only=True) as (session, actor):
        app.emit(users.list_users(session, actor), tables.USERS)


@click.group("ledger")
def ledger_group() -> None:
    """Look into the double-entry ledger."""


@ledger_group.command("verify")
@pass_app
def ledger_verify(app: App) -> None:
    """Check the ledger's invariants; exit 1 when any finding.

    Prints the findings, and on stderr what was checked and the result ("ledger: 5 678
    transactions, invariants hold").

    \b
    Example:
      valitystili ledger verify
    """
    from valitystili.oversight import verification

    with app.unit(read_only=True) as (session, actor):
        verified = verification.verify_ledger(session, actor)
    findings = verified.findings
    app.emit([{"check": f.check, "subject": f.subject, "detail": f.detail} for f in findings],
             tables.VERIFY_FINDINGS)
    app.info(verified.checked.line())
    if findings:
        raise click.exceptions.Exit(1)


@ledger_group.command("balances")
@as_of_option()
@click.option("--prefix", default=None, help="Only accounts whose code starts with this.")
@pass_app
def ledger_balances(app: App, as_of: date | None, prefix: str | None) -> None:
    """Balances of ledger accounts (natural sign), today or as of a date.

    A listing that shows clients' accounts is recorded in each of those clients' access log.

    \b
    Example:
      valitystili ledger balances --prefix client: --as-of 30.11.2026
    """
    from valitystili.oversight import reports

    with app.unit() as (session, actor):     # a view of clients' balances is recorded
        app.emit(reports.ledger_balances_report(session, actor, as_of, prefix),
                 tables.LEDGER_BALANCES)
