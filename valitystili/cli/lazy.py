"""A click group that imports a command's module only when that command runs (STYLE 13).

Rules of this module:

- The group is given a table ``name -> (\"module:attribute\", short help)``. A command's module is
  imported the first time the command is looked up (to run it or to show its own help), never
  before: ``valitystili --help`` lists every command from the table alone.
- The short help in the table is the first paragraph of the command's own help
  (tests/test_cli_help.py holds them equal), shortened for the listing exactly as click shortens
  a loaded command's help.
- Command modules import the service inside their command functions, so loading one command's
  module loads no database or file-format library.
- Every command (each leaf of a loaded group too, and a group that runs alone, ``flags``)
  takes ``--format`` and ``--wide`` after its name, so ``valitystili report balances --format
  csv`` and ``valitystili --format csv report balances`` mean the same; a format given in both
  places: the one after the command wins. ``import`` is the exception: after it, ``--format``
  is the statement format of its files.
- Help is shown in the current language (``base/i18n.py``): the English help of a command, its
  options and its help option is kept, and :func:`localize` puts the translation in its place
  each time the group hands the command out, so one process can show it in several languages.
  click's own words (``Usage:``, ``Options``, its error texts) come through the same
  catalogue (:func:`translate_click`; :data:`CLICK_MESSAGES` lists the ones translated).
"""


from __future__ import annotations

import importlib
from collections.abc import Mapping

import click

from valitystili.base.i18n import N_, _, ngettext, translate_help

#: click's own texts that the catalogues translate (click marks them with its gettext ``_``).
CLICK_MESSAGES = (
    N_("Usage:"), N_("Options"), N_("Commands"), N_("Show this message and exit."),
    N_("Show the version and exit."), N_("default: {default}"), N_("env var: {var}"),
    N_("Aborted!"), N_("Missing command."), N_("Missing argument"), N_("Missing option"),
    N_("Missing parameter"), N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"), N_("No such option {name!r}."),
    N_("No such command {name!r}."), N_("Option {name!r} does not take a value."),
    N_("Error: {message}"), N_("Try '{command} {option}' for help."),
    N_("{value!r} is not a valid {number_type}."),
    ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 1),
)
#: The help of the ``--help`` option click makes for every command.
HELP_OPTION_HELP = CLICK_MESSAGES[3]
#: The attribute holding a command's or option's English help.
_ENGLISH = "_valitystili_english_help"


def translate_click() -> None:
    """Let click's messages come through the catalogue (its ``--help`` option's help too, which
    click makes when a command first shows or parses it)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
                   click.types):
        module._ = _
        module.ngettext = ngettext


def localize(command: click.Command) -> None:
    """Show ``command``'s help, its options' and (for a group) every subcommand's in the
    current language; the English is kept to show another language later."""
    help_option = getattr(command, "_help_option", None)
    if help_option is not None:
        help_option.help = _(HELP_OPTION_HELP)
    for item in (command, *command.params):
        if not hasattr(item, _ENGLISH):
            setattr(item, _ENGLISH, getattr(item, "help", None))
        english = getattr(item, _ENGLISH)
        if english:
            item.help = translate_help(english)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            localize(sub)


class LazyGroup(click.Group):
    """A group whose subcommands are loaded from ``lazy_subcommands`` on first use."""

    def __init__(self, *args, lazy_subcommands: Mapping[str, tuple[str, str]] | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_subcommands:
            self.add_command(self._load(cmd_name), cmd_name)
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            localize(command)
        return command

    def _load(self, name: str) -> click.Command:
        target, _short_help = self.lazy_subcommands[name]
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        _accept_format(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every command with its short help, loading none that is not loaded yet."""
        listed = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:
                # A stand-in carrying the table's help: click shortens it as it would the real one.
                command = click.Command(name, help=_(self.lazy_subcommands[name][1]))
            else:
                localize(command)
            if not command.hidden:
                listed.append((name, command))
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _command in listed)
            with formatter.section(_("Commands")):
                formatter.write_dl([(name, command.get_short_help_str(limit))
                                    for name, command in listed])


def _set_format(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None and ctx.find_root().obj is not None:
        ctx.find_root().obj.format = value


def _set_wide(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and ctx.find_root().obj is not None:
        ctx.find_root().obj.wide = True


def _accept_format(command: click.Command) -> None:
    """Give ``command`` (and every command under it) the group's ``--format`` and ``--wide``."""
    from valitystili.cli.output import FORMATS

    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_format(sub)
        if not command.invoke_without_command or any(
                "--format" in getattr(param, "opts", ())
                for sub in command.commands.values() for param in sub.params
                if getattr(param, "name", None) != "late_format"):
            return        # a group that prints (``flags``) takes them too; ``import`` does not:
            # everything after it is its files command's, whose --format is a statement format
    if not any(param.name == "late_wide" or "--wide" in getattr(param, "opts", ())
               for param in command.params):
        command.params.append(click.Option(
            ["--wide", "late_wide"], is_flag=True, expose_value=False, callback=_set_wide,
            help=N_("Tables show every column and whole texts (as the option before the command).")))
    if any(param.name == "late_format" or "--format" in getattr(param, "opts", ())
           for param in command.params):
        return        # given already, or the command's own --format (a statement format)
    command.params.append(click.Option(
        ["--format", "late_format"], type=click.Choice(FORMATS), default=None,
        expose_value=False, callback=_set_format,
        help=N_("Output format for data (as the option before the command).")))
