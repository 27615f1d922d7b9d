"""Commands for the deployment's settings: list them, change one (admin, audited)."""

from __future__ import annotations

import click

from valitystili.cli import tables
from valitystili.cli.app import App, pass_app


@click.group("settings")
def settings_group() -> None:
    """The deployment's settings: four-eyes, the payer in payment files, thresholds."""


@settings_group.command("list")
@pass_app
def settings_list(app: App) -> None:
    """Every setting: its value in this database, its default and what it means.

    \b
    Example:
      valitystili settings list
    """
    from valitystili.trust import configuration

    with app.unit(read_only=True) as (session, actor):
        app.emit(configuration.list_settings(session, actor), tables.SETTINGS)


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
@pass_app
def settings_set(app: App, key: str, value: str) -> None:
    """Set KEY to VALUE in this database (admin); the change is an audit entry.

    Yes/no settings take true or false, numbers a whole number; `settings list` shows them.

    \b
    Example:
      valitystili settings set debtor_name "Vaasan kaupunki"
      valitystili settings set suspense_flag_after_days 3
    """
    from valitystili.trust import configuration

    with app.unit() as (session, actor):
        app.emit(configuration.put(session, actor, key, value))
