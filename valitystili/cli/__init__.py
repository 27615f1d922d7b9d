"""The ``valitystili`` command line (DESIGN §11).

Exit status: 0 ok; 1 the command ran and found problems; 2 usage or invalid input; 3 could not
run. Every error becomes one line on stderr here, in ``ValitystiliCLI.main`` — the one
translation point — and the unit of work it interrupted is rolled back, so nothing is written.
The CLI runs with umask 077: what it creates is private to the user running it (DESIGN §10).

The CLI starts fast (STYLE 13): :data:`COMMANDS` names the module of each command, loaded only
when that command runs (``cli/lazy.py``), and nothing here loads the database or a file-format
library. An error of a library can only be raised once the command has loaded that library, so
the translation looks its classes up only among the modules already loaded.
"""

from __future__ import annotations

import os
import re
import sys

import click

from valitystili.base import i18n
from valitystili.base.errors import CannotRun, ValitystiliError
from valitystili.base.i18n import N_, _
from valitystili.cli.lazy import LazyGroup, localize, translate_click
from valitystili.cli.output import FORMATS

#: Every top-level command: ``module:attribute`` and its short help (the first paragraph of the
#: command's own help; tests/test_cli_help.py holds the two equal).
COMMANDS = {
    "audit": ("valitystili.cli.commands_audit:audit_group",
              N_("The tamper-evident audit trail (auditor, admin).")),
    "bank": ("valitystili.cli.commands_people:bank_group",
             N_("The city's own intermediary bank accounts.")),
    "batch": ("valitystili.cli.commands_batch:batch_group",
              N_("Run, review, approve and export the daily payment batch.")),
    "bill": ("valitystili.cli.commands_plans:bill_group",
             N_("Bills for plan items marked bills = true (electricity, water …).")),
    "client": ("valitystili.cli.commands_people:client_group",
               N_("Open, show, list, extend and close clients. CLIENT is the client number or "
               "its reference.")),
    "db": ("valitystili.cli.commands_core:db_group",
           N_("Create or upgrade the database schema; back it up and check it.")),
    "demo": ("valitystili.cli.commands_demo:demo",
             N_("Run the service end to end on a fresh SQLite ledger with fictional clients.")),
    "flags": ("valitystili.cli.commands_flags:flags_group",
              N_("List open flags (arrears, insufficient funds, unmatched income, …).")),
    "import": ("valitystili.cli.commands_import:import_group",
               N_("Import bank statements: camt.052/053/054, MT940 or CSV files, or a FinTS fetch "
               "(finance).")),
    "income": ("valitystili.cli.commands_import:income_group",
               N_("Incoming money: list it, assign what matched no client.")),
    "lease": ("valitystili.cli.commands_people:lease_group",
              N_("Leases of supported-housing flats and sublets.")),
    "ledger": ("valitystili.cli.commands_core:ledger_group", N_("Look into the double-entry ledger.")),
    "payee": ("valitystili.cli.commands_people:payee_group",
              N_("Landlords, utilities and others the account pays.")),
    "pay": ("valitystili.cli.commands_lifecycle:pay",
            N_("A one-off payment out of a client's money, into the next batch (handler).")),
    "plan": ("valitystili.cli.commands_plans:plan_group",
             N_("Payment plans: set (social worker), approve (handler), show, edit, Kela's share.")),
    "reconcile": ("valitystili.cli.commands_reports:reconcile_command",
                  N_("Check the ledger against the bank statements and itself; refresh the flags.")),
    "report": ("valitystili.cli.commands_reports:report_group",
               N_("Balances, arrears, reviews, batches and the clients' monthly statements.")),
    "settings": ("valitystili.cli.commands_settings:settings_group",
                 N_("The deployment's settings: four-eyes, the payer in payment files, thresholds.")),
    "user": ("valitystili.cli.commands_core:user_group", N_("Register users and their roles (admin).")),
}


#: The root group's options that take a value (read before click parses, for ``--lang``).
_VALUED_OPTIONS = ("--db", "--format", "--lang")


def lang_flag(args: list[str]) -> str | None:
    """``--lang``'s value among the root group's options (before the command's name), read
    before click parses so that click's own messages and the help are in that language."""
    found, at = None, 0
    while at < len(args):
        token = args[at]
        if token.startswith("--lang="):
            found = token.partition("=")[2]
        elif token == "--lang" and at + 1 < len(args):
            found = args[at + 1]
        elif not token.startswith("-"):
            break
        at += 2 if token in _VALUED_OPTIONS else 1
    return found


def _fail(message: str, code: int) -> None:
    # "valitystili: error:" is the same in every language: scripts look for it.
    click.echo(f"valitystili: error: {message}", err=True)
    sys.exit(code)


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    # Fold line breaks and runs of ASCII white space only: money keeps its no-break spaces.
    return re.sub(r"[ \t\r\n\f\v]+", " ", text)


def _loaded(module: str, name: str) -> type | tuple[()]:
    """An error class of ``module`` if the command loaded it; else a class nothing is."""
    found = sys.modules.get(module)
    return getattr(found, name) if found is not None else ()


def _library_error(error: Exception) -> tuple[str, int] | None:
    """The line and exit status for an error of the ledger, a statement reader or the database."""
    if isinstance(error, _loaded("imports.errors", "BankUnreachable")):
        return _one_line(error), 3      # the fetch could not run: not the user's input
    if isinstance(error, _loaded("ledger.errors", "InsufficientFunds")):
        # The ledger knows no display form; its money is worded here, as everywhere people read.
        from valitystili.base.money import format_fi

        return _("account {account} has {balance}; a change of {change} would take it below "
                 "zero").format(account=error.account, balance=format_fi(error.balance_cents),
                                change=format_fi(error.change_cents)), 2
    if isinstance(error, (_loaded("ledger.errors", "LedgerError"),
                          _loaded("imports.errors", "StatementError"))):
        return _one_line(error), 2
    if isinstance(error, _loaded("sqlalchemy.exc", "IntegrityError")):
        return _("refused by the database: {error}").format(error=_one_line(error.orig)), 2
    if isinstance(error, _loaded("sqlalchemy.exc", "OperationalError")):
        return _("could not run: {error}").format(error=_one_line(error.orig)), 3
    if isinstance(error, _loaded("sqlalchemy.exc", "DatabaseError")):
        return _("database error: {error}").format(error=_one_line(error.orig)), 3
    if isinstance(error, OSError):
        return _one_line(error), 2
    return None


#: Files and folders the CLI creates (database, WAL, payment files, letters) are its user's only.
PRIVATE_UMASK = 0o077


class ValitystiliCLI(LazyGroup):
    def main(self, args=None, *rest, **kwargs):
        previous = os.umask(PRIVATE_UMASK)
        arguments = list(sys.argv[1:] if args is None else args)
        before = i18n.language()
        i18n.set_language(i18n.choose_language(lang_flag(arguments), os.environ)[0])
        localize(self)
        try:
            self._main(arguments, *rest, **kwargs)
        finally:
            # For callers in the same process (tests, scripts): their umask and language, and
            # the commands' help in that language again.
            os.umask(previous)
            i18n.set_language(before)
            localize(self)

    def _main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(
                args, prog_name or "valitystili", complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Abort:
            _fail(_("aborted"), 1)
        except click.exceptions.NoArgsIsHelpError as asked:
            # ``valitystili`` or ``valitystili batch`` alone: the help, as --help prints it.
            click.echo(asked.ctx.get_help())
            sys.exit(0)
        except click.ClickException as error:
            _fail(_one_line(error.format_message()), error.exit_code)
        except CannotRun as error:
            _fail(_one_line(error), 3)
        except ValitystiliError as error:
            _fail(_one_line(error), error.exit_code)
        except Exception as error:
            known = _library_error(error)
            if known is not None:
                _fail(*known)
            # A bug: still one line, the traceback on request.
            if os.environ.get("VALITYSTILI_DEBUG"):
                raise
            _fail(_("internal error ({kind}): {error}; set VALITYSTILI_DEBUG=1 for details")
                  .format(kind=type(error).__name__, error=_one_line(error)), 3)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=ValitystiliCLI, lazy_subcommands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_option", metavar="URL", envvar="VALITYSTILI_DB",
              help=N_("Database URL or SQLite file path (default: a file in your data "
                      "directory)."))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help=N_("Output format for data."))
@click.option("--wide", is_flag=True,
              help=N_("Tables show every column and whole texts (default: fit 100 characters)."))
@click.option("-q", "--quiet", is_flag=True, help=N_("Print no data, only errors."))
@click.option("--lang", type=click.Choice(i18n.LANGUAGES), default=None,
              help=N_("Language of what people read: fi, sv or en (default: VALITYSTILI_LANG, "
                      "else your user setting, else the locale, else en). JSON, CSV and exit "
                      "codes are the same in every language."))
@click.version_option(package_name="valitystili")
@click.pass_context
def cli(ctx: click.Context, db_option: str | None, fmt: str, wide: bool, quiet: bool,
        lang: str | None) -> None:
    """Välitystili — intermediary-account and rent ledger for municipal social services.

    \b
    Exit status: 0 ok, 1 problems found, 2 usage or invalid input, 3 could not run.
    The acting user is your login (VALITYSTILI_USER for scripts; the database login on
    PostgreSQL) and must be registered with a role that allows the command.
    """
    from valitystili.cli.app import App

    ctx.obj = App(db_option, fmt, quiet, wide,
                  language_by=i18n.choose_language(lang, os.environ)[1])


translate_click()


def main() -> None:
    cli.main()
