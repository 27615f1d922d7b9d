"""The ``valitystili`` command line (DESIGN §11).

Exit status: 0 ok; 1 the command ran and found problems; 2 usage or invalid input; 3 could not
run. Every error becomes one line on stderr here, in ``ValitystiliCLI.main`` — the one
translation point — and the unit of work it interrupted is rolled back, so nothing is written.
The CLI runs with umask 077: what it creates is private to the user running it (DESIGN §10).
"""

from __future__ import annotations

import os
import re
import sys

import click
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import IntegrityError, OperationalError

from ledger import LedgerError
from valitystili.base.errors import CannotRun, ValitystiliError
from valitystili.cli.app import App
from valitystili.cli.output import FORMATS

try:  # the statement readers are optional at this layer only for import order
    from imports.errors import StatementError
except ImportError:  # pragma: no cover
    class StatementError(ValueError):  # type: ignore[no-redef]
        pass


def _fail(message: str, code: int) -> None:
    click.echo(f"valitystili: error: {message}", err=True)
    sys.exit(code)


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    # Fold line breaks and runs of ASCII white space only: money keeps its no-break spaces.
    return re.sub(r"[ \t\r\n\f\v]+", " ", text)


#: Files and folders the CLI creates (database, WAL, payment files, letters) are its user's only.
PRIVATE_UMASK = 0o077


class ValitystiliCLI(click.Group):
    def main(self, *args, **kwargs):
        previous = os.umask(PRIVATE_UMASK)
        try:
            self._main(*args, **kwargs)
        finally:
            os.umask(previous)   # for callers in the same process (tests, scripts)

    def _main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(
                args, prog_name or "valitystili", complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except click.ClickException as error:
            _fail(_one_line(error.format_message()), error.exit_code)
        except CannotRun as error:
            _fail(_one_line(error), 3)
        except ValitystiliError as error:
            _fail(_one_line(error), error.exit_code)
        except (LedgerError, StatementError) as error:
            _fail(_one_line(error), 2)
        except IntegrityError as error:
            _fail(f"refused by the database: {_one_line(error.orig)}", 2)
        except OperationalError as error:
            _fail(f"could not run: {_one_line(error.orig)}", 3)
        except SADatabaseError as error:
            _fail(f"database error: {_one_line(error.orig)}", 3)
        except OSError as error:
            _fail(_one_line(error), 2)
        except Exception as error:  # a bug: still one line, the traceback on request
            if os.environ.get("VALITYSTILI_DEBUG"):
                raise
            _fail(f"internal error ({type(error).__name__}): {_one_line(error)}; "
                  "set VALITYSTILI_DEBUG=1 for details", 3)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=ValitystiliCLI, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_option", metavar="URL", envvar="VALITYSTILI_DB",
              help="Database URL or SQLite file path (default: a file in your data directory).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format for data.")
@click.option("-q", "--quiet", is_flag=True, help="Print no data, only errors.")
@click.version_option(package_name="valitystili")
@click.pass_context
def cli(ctx: click.Context, db_option: str | None, fmt: str, quiet: bool) -> None:
    """Välitystili — intermediary-account and rent ledger for municipal social services.

    \b
    Exit status: 0 ok, 1 problems found, 2 usage or invalid input, 3 could not run.
    The acting user is your login (VALITYSTILI_USER for scripts; the database login on
    PostgreSQL) and must be registered with a role that allows the command.
    """
    ctx.obj = App(db_option, fmt, quiet)


def main() -> None:
    cli.main()


# Registers the commands (each module adds its group or commands to ``cli``).
from valitystili.cli import (  # noqa: E402,F401
    commands_audit,
    commands_batch,
    commands_clients,
    commands_core,
    commands_demo,
    commands_import,
    commands_reports,
    commands_settings,
)
