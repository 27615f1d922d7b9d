"""Every command has help text with an example (STYLE 10); the command table's short help is
each command's own."""

from __future__ import annotations

import click
import pytest

from valitystili.cli import COMMANDS, cli


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command.hidden:
            continue
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from commands(command, path)
            if command.invoke_without_command:
                yield path, command
        else:
            yield path, command


ALL = list(commands(cli))


def test_the_contract_commands_exist():
    names = {" ".join(path) for path, _ in ALL}
    required = {
        "db init", "db upgrade", "user add", "bank add", "payee add", "client open", "client list",
        "client show", "client close", "plan set", "plan edit", "plan show", "plan approve",
        "bill add", "lease add", "import fints", "income list", "income assign", "batch run",
        "batch show", "batch approve", "batch export", "reconcile", "flags", "flags ack",
        "report balances", "report arrears", "report reviews", "report batches",
        "report statement", "audit verify", "audit log", "demo",
    }
    assert required - names == set()


@pytest.mark.parametrize("path, command", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_has_help_and_an_example(path, command):
    text = command.help or ""
    assert len(text.strip()) > 20, path
    assert "Example" in text, f"`valitystili {' '.join(path)}` has no example in its help"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_command_table_lists_each_command_with_its_own_short_help(name):
    """`valitystili --help` shows the table's help without loading the command: it must say
    what the command's own help says, however click shortens it."""
    command = cli.get_command(click.Context(cli), name)
    stand_in = click.Command(name, help=COMMANDS[name][1])
    assert command.name == name
    for limit in (30, 45, 70, 200):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), limit
