"""Commands for flags: list them (the view is recorded), acknowledge one."""

from __future__ import annotations

import click

from valitystili.base.i18n import N_
from valitystili.cli import tables
from valitystili.cli.app import App, pass_app


@click.group("flags", invoke_without_command=True)
@click.option("--kind", default=None, help=N_("Only flags of this kind."))
@click.option("--client", default=None, help=N_("Only this client's flags."))
@click.option("--all", "include_resolved", is_flag=True, help=N_("Include resolved flags."))
@click.pass_context
def flags_group(ctx: click.Context, kind: str | None, client: str | None,
                include_resolved: bool) -> None:
    """List open flags (arrears, insufficient funds, unmatched income, …).

    The listing is recorded in the access log of each client whose flags it shows.

    \b
    Example:
      valitystili flags --kind arrears
      valitystili flags ack 7 --comment "Agreed a payment plan with the landlord"
    """
    if ctx.invoked_subcommand is not None:
        return
    from valitystili.flags import raising as flags
    from valitystili.people.clients import resolve_client

    app: App = ctx.obj
    with app.unit() as (session, actor):     # the view is recorded
        client_id = None if client is None else resolve_client(session, client).id
        app.emit(flags.list_flags(session, actor, kind=kind, client_id=client_id,
                                  include_resolved=include_resolved),
                 tables.FLAGS_ALL if include_resolved else tables.FLAGS)


@flags_group.command("ack")
@click.argument("flag", type=int)
@click.option("--comment", required=True, help=N_("What was done or decided."))
@pass_app
def flags_ack(app: App, flag: int, comment: str) -> None:
    """Acknowledge a flag with a comment (it stays until its condition clears).

    \b
    Example:
      valitystili flags ack 7 --comment "Landlord informed"
    """
    from valitystili.flags import raising as flags

    with app.unit() as (session, actor):
        app.emit(flags.acknowledge(session, actor, flag, comment))
