"""``client`` commands of need to know and retention: grant, revoke, anonymise, export.

The ``client`` group (``commands_people``) loads this module only when one of these runs.
Each command opens one unit of work, calls one service function and prints the result.
"""

from __future__ import annotations

import click

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
