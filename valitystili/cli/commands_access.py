"""``client`` commands of need to know and retention: grant, revoke, anonymise, export.

The ``client`` group (``commands_people``) loads this module only when one of these runs.
Each command opens one unit of work, calls one service function and prints the result.
"""

from __future__ import annotations

import click

from valitystili.base.i18n import N_, _
from valitystili.cli.app import App, pass_app


@click.command("grant")
@click.argument("client")
@click.argument("user")
@pass_app
def client_grant(app: App, client: str, user: str) -> None:
    """Let a social worker see and change a client who is not theirs (admin; audited).

    \b
    Example:
      valitystili client grant 12 saara
    """
    from valitystili.people import grants

    with app.unit() as (session, actor):
        result = grants.grant(session, actor, client, user)
    app.emit(result)


@click.command("revoke")
@click.argument("client")
@click.argument("user")
@pass_app
def client_revoke(app: App, client: str, user: str) -> None:
    """End a social worker's grant of a client (admin; audited).

    \b
    Example:
      valitystili client revoke 12 saara
    """
    from valitystili.people import grants

    with app.unit() as (session, actor):
        result = grants.revoke(session, actor, client, user)
    app.emit(result)


@click.command("anonymise")
@click.argument("client", required=False)
@click.option("--due", is_flag=True,
              help=N_("List the closed clients whose retention has run out (retention_years_after_"
                   "closing); with --yes, anonymise them."))
@click.option("--yes", is_flag=True, help=N_("With --due: anonymise every due client."))
@pass_app
def client_anonymise(app: App, client: str | None, due: bool, yes: bool) -> None:
    """Replace a closed client's personal data with a tombstone; money and audit stay (admin).

    Name, identity code, IBAN and free texts are replaced; the ledger, its amounts and the
    audit chain stay valid (`audit verify`, `ledger verify`). An open client, or one with
    money on the account, is refused.

    \b
    Examples:
      valitystili client anonymise --due
      valitystili client anonymise --due --yes
      valitystili client anonymise 12
    """
    from valitystili.people import retention

    if (client is None) == (not due):
        raise click.UsageError(_("give either CLIENT or --due"))
    if yes and not due:
        raise click.UsageError(_("--yes goes with --due"))
    with app.unit(read_only=due and not yes) as (session, actor):
        if client is not None:
            result = retention.anonymise(session, actor, client)
        elif yes:
            result = retention.anonymise_due(session, actor)
        else:
            result = retention.due(session, actor)
    app.emit(result)


@click.command("export")
@click.argument("client")
@click.option("--out", "out", required=True, metavar="FILE.json",
              help=N_("The file to write (refused if it exists, unless --force)."))
@click.option("--force", is_flag=True, help=N_("Replace an existing file."))
@pass_app
def client_export(app: App, client: str, out: str, force: bool) -> None:
    """Write the client's own data into a JSON file, for an access request (audited).

    The client row (identity code in clear), service periods, records, plans, obligations,
    orders, statement lines, flags and the months a letter can be made for: only this client's.

    \b
    Example:
      valitystili client export 12 --out asiakas-12.json
    """
    from pathlib import Path

    from valitystili.base import files
    from valitystili.oversight import client_export

    staged = None
    try:
        with app.unit() as (session, actor):
            _data, text = client_export.export_client(session, actor, client)
            # Staged inside the unit: a refused target leaves no trace of the view either.
            staged = files.stage(Path(out), text.encode("utf-8"), force=force)
        staged.publish()
    finally:
        if staged is not None:
            staged.discard()
    app.info(_("wrote {file}").format(file=out))
