"""Every command has help text with an example (STYLE 10)."""

from __future__ import annotations

import click
import pytest

from valitystili.cli import cli


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
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
