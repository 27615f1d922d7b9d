"""Commands for the database, users and the ledger itself."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from valitystili.base.i18n import LANGUAGES, N_, _
from valitystili.cli import tables
from valitystili.cli.app import App, pass_app
from valitystili.cli.params import ServiceChoice, as_of_option


@click.group("db")
def db_group() -> None:
    """Create or upgrade the database schema; back it up and check it."""


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
        app.info(_("already initialised at revision {revision}").format(
            revision=db.current_revision(app.engine)))
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


@db_group.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Where to write the copy (a new file; --force replaces one)."))
@click.option("--force", is_flag=True, help=N_("Replace an existing file at --out."))
@pass_app
def db_backup(app: App, out: Path, force: bool) -> None:
    """Copy the SQLite database to a file while others go on working (admin).

    The copy is one consistent snapshot, taken with SQLite's online backup API while imports
    and batches write; it appears under its name complete or not at all, and the backup is
    recorded in the audit trail (name, size, SHA-256, the copy's audit head). Prints one line:
    size, tables, rows, ledger transactions and the copy's audit head. On PostgreSQL it exits 2
    with the pg_dump command for this database's schema.

    \b
    Example:
      valitystili db backup --out varmuuskopio-2026-11-30.db
    """
    from valitystili.oversight import backup

    taken = backup.back_up(app.unit, app.engine, out, force=force)
    app.info(taken.line())


@db_group.command("check")
@as_of_option(N_("Judge reconciliation as of this day, e.g. the day the backup was taken "
                 "(default today)."))
@click.option("--expect-head", "expect_head", metavar="POSITION:HASH", default=None,
              help=N_("The audit head printed by db backup or audit verify: the trail must hold "
                      "it."))
@pass_app
def db_check(app: App, as_of: date | None, expect_head: str | None) -> None:
    """Run every check on the database, e.g. a restored backup; exit 1 on any finding.

    The database file itself (SQLite), the audit trail and the ledger (as audit verify), the
    head the last reconcile recorded, and reconciliation's checks (as reconcile --check). One
    line per check on stderr with its result; the findings on stdout. Writes nothing.
    Auditors and admins.

    \b
    Example:
      valitystili --db varmuuskopio-2026-11-30.db db check --as-of 30.11.2026
    """
    from valitystili.oversight import db_check as checking
    from valitystili.trust import audit

    expected = audit.parse_head(expect_head) if expect_head is not None else None
    with app.unit(read_only=True) as (session, actor):
        checked = checking.check_database(session, actor, as_of, expect_head=expected)
    app.emit([finding.row() for finding in checked.findings], tables.FINDINGS)
    for part in checked.checked:
        app.info(part.line())
    if not checked.clean:
        raise click.exceptions.Exit(1)


@click.group("user")
def user_group() -> None:
    """Register users and their roles (admin)."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=ServiceChoice("valitystili.store.models:ROLES"),
              help=N_("What the user may do."))
@click.option("--full-name", default="", help=N_("The person's name, for reports."))
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
@click.option("--prefix", default=None, help=N_("Only accounts whose code starts with this."))
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
