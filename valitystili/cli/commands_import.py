"""Commands for money in: ``import FILE...``, ``import fints``, ``income list|assign``.

``import`` is a group whose only named subcommand is ``fints``; anything else after ``import``
(statement files and the file options) goes to the hidden default command ``files``. So both
``valitystili import a.xml b.xml --dry-run`` and ``valitystili import fints --url …`` work, and
``valitystili import ./fints`` imports a file that happens to be called ``fints``.

The rules (every file checked before any is written, then one transaction per file; the FinTS
fetch) are the service's (``valitystili.statements.service``); the commands parse, call it and
print. The service is loaded inside the commands (fast start, STYLE 13).
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from datetime import date

import click

from valitystili.base.i18n import N_, _, shown
from valitystili.cli import tables
from valitystili.cli.app import App, pass_app, stderr_is_terminal, warn
from valitystili.cli.lazy import LazyGroup
from valitystili.cli.params import OPTIONAL_DATE, ServiceChoice

FILES = "files"
PROGRESS_MIN_ENTRIES = 2000
PIN_VARIABLE = "VALITYSTILI_FINTS_PIN"


class ImportGroup(click.Group):
    """``import FILE...`` and ``import fints ...`` under one name (see the module docstring)."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] in self.commands and args[0] != FILES:
            return super().resolve_command(ctx, args)
        return FILES, self.commands[FILES], args

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] FILE...")
        formatter.write_usage(ctx.command_path, "fints --url URL --blz BLZ --login LOGIN [OPTIONS]",
                              prefix=f"   {_('or:')} ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [record for param in self.commands[FILES].get_params(ctx)
                   if isinstance(param, click.Option)
                   and (record := param.get_help_record(ctx)) is not None]
        with formatter.section(_("Options")):
            formatter.write_dl(records)
        self.format_commands(ctx, formatter)


@click.group("import", cls=ImportGroup, invoke_without_command=True, no_args_is_help=False,
             context_settings={"ignore_unknown_options": True})
@click.pass_context
def import_group(ctx: click.Context) -> None:
    """Import bank statements: camt.052/053/054, MT940 or CSV files, or a FinTS fetch (finance).

    Only booked entries are posted; pending ones are counted as skipped. An intraday report
    (camt.052) imported before the batch lets it use the day's money; the next morning's
    camt.053 then adds only what the report did not carry. The bank's archive ids make it idempotent: the same file
    twice, or overlapping statements, add nothing ("already present"). Incoming money is
    matched to clients (reference, identity code, expected income; else suspense and a flag),
    outgoing money clears payment orders. Statements of accounts not added with `bank add`,
    other currencies and broken or hostile files are refused and nothing is written.

    \b
    Examples:
      valitystili import statement-053.xml notifications-054.xml
      valitystili import --format camt052 intraday-052.xml
      valitystili import --dry-run --format camt054 notifications-054.xml
      VALITYSTILI_FINTS_PIN=… valitystili import fints --url https://bank/fints \\
          --blz 12345678 --login city --iban DE11123456780000000001
    """
    if ctx.invoked_subcommand is None:
        raise click.UsageError(_("give the statement FILE(s) to import, or `import fints …`"))


def _progress(app: App):
    """A progress bar on stderr for a file of many entries, when stderr is a terminal."""
    def bar(name: str, entries: int):
        if app.quiet or entries < PROGRESS_MIN_ENTRIES or not stderr_is_terminal():
            return nullcontext(None)
        return click.progressbar(length=entries, label=_("importing {name}").format(name=name),
                                 file=click.get_text_stream("stderr"))
    return bar


#: A file's summary line, by whether anything was written (one whole sentence each).
POSTED = N_("{file}: {iban}: {entries} entries, posted {posted}, already present {present}, "
            "skipped {skipped} (not booked), in suspense {suspense}")
WOULD_POST = N_("{file}: {iban}: {entries} entries, would post {posted}, already present "
                "{present}, skipped {skipped} (not booked), in suspense {suspense}")


def _emit(app: App, results: list, dry_run: bool) -> None:
    summaries = [row for result in results for row in result.rows()]
    if app.format == "json":
        if dry_run:
            app.emit({"dry_run": True, "files": summaries,
                      "transactions": [t for r in results for t in r.bookings.transaction_rows()],
                      "lines": [line for r in results for line in r.bookings.line_rows()],
                      "flags": [f for r in results for f in r.bookings.flag_rows()],
                      "orders": [o for r in results for o in r.bookings.order_rows()]})
        else:
            app.emit(summaries)
        return
    if dry_run:
        app.emit([leg for r in results for leg in r.bookings.leg_rows()], tables.IMPORT_LEGS)
    elif app.format == "csv":
        app.emit([{k: v for k, v in row.items() if k != "warnings"} for row in summaries])
    else:
        for row in summaries:
            app.emit({k: v for k, v in row.items() if k != "warnings"})
    for result in results:
        for summary in result.summaries:
            line = _(WOULD_POST if dry_run else POSTED)
            app.info(line.format(file=summary.file, iban=summary.iban, entries=summary.entries,
                                 posted=summary.posted, present=summary.already_present,
                                 skipped=summary.skipped, suspense=summary.in_suspense))
            for warning in summary.warnings:
                warn(f"{summary.file}: {shown(warning)}")


@import_group.command(FILES, hidden=True)
@click.argument("paths", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--format", "statement_format",
              type=ServiceChoice("valitystili.statements.reading:STATEMENT_FORMATS"),
              default="auto", show_default=True, help=N_("Statement format of the files."))
@click.option("--dry-run", is_flag=True, help=N_("Print what would be posted; write nothing."))
@pass_app
def import_files(app: App, paths: tuple[str, ...], statement_format: str, dry_run: bool) -> None:
    """Import statement FILE(s): camt.052/053/054, MT940 or CSV."""
    from valitystili.statements import service

    files = service.read_files(app.unit, list(paths), statement_format)
    _emit(app, service.import_files(app.unit, files, dry_run=dry_run, progress=_progress(app)),
          dry_run)


@import_group.command("fints")
@click.option("--url", required=True, help=N_("The bank's FinTS (PIN/TAN) server address."))
@click.option("--blz", required=True, help=N_("The bank code (Bankleitzahl)."))
@click.option("--login", required=True, help=N_("The online-banking user."))
@click.option("--iban", default=None, help=N_("Only this account (default: every account)."))
@click.option("--from", "start", type=OPTIONAL_DATE, default=None,
              help=N_("First booking day to fetch."))
@click.option("--to", "end", type=OPTIONAL_DATE, default=None, help=N_("Last booking day to fetch."))
@click.option("--dry-run", is_flag=True, help=N_("Print what would be posted; write nothing."))
@pass_app
def import_fints(app: App, url: str, blz: str, login: str, iban: str | None,
                 start: date | None, end: date | None, dry_run: bool) -> None:
    """Fetch booked transactions over FinTS and import them.

    The PIN is read from VALITYSTILI_FINTS_PIN or asked for without echo; it is never an
    argument (arguments end up in shell history and process lists).

    \b
    Example:
      valitystili import fints --url https://fints.example/ --blz 12345678 --login city \\
          --iban DE11123456780000000001 --from 1.11.2026
    """
    from valitystili.statements import service

    def pin() -> str:
        return os.environ.get(PIN_VARIABLE) or click.prompt("FinTS PIN", hide_input=True, err=True)

    results = service.import_fints(
        app.unit, url=url, blz=blz, login=login, pin=pin, iban=iban,
        start=start, end=end, dry_run=dry_run, progress=_progress(app))
    _emit(app, results, dry_run)


@import_group.command("pain002")
@click.argument("paths", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help=N_("Print what the reports would do; write nothing."))
@pass_app
def import_pain002(app: App, paths: tuple[str, ...], dry_run: bool) -> None:
    """Import the bank's status reports (pain.002.001.03/.10) on exported payment files.

    An accepted file marks its batch accepted by the bank (`batch show`). A rejected payment
    goes back to its client (the approval's debit reversed), its rent or bill is open again
    for the next batch, and a payment_rejected flag gives the bank's reason in words. The same
    report twice changes nothing; a report naming a file or payment not exported here, and a
    broken or hostile file, is refused and nothing is written.

    \b
    Examples:
      valitystili import pain002 status-2026-11-02.xml
      valitystili import pain002 --dry-run status-2026-11-02.xml
    """
    from valitystili.statements import status_reports

    results = status_reports.import_report_files(app.unit, list(paths), dry_run=dry_run)
    if app.format == "json":
        app.emit([{**result.row(), "dry_run": dry_run,
                   "rejections": [r.row() for r in result.rejected]} for result in results])
    else:
        app.emit([result.row() for result in results])
    for result in results:
        app.info(_(WOULD_REJECT if dry_run else REJECTED).format(
            file=result.file, batch=result.batch,
            bank_status=result.bank_status or _("none"),
            rejected=len(result.rejected), already=result.already_rejected,
            accepted=result.accepted))
        for rejection in result.rejected:
            # The reason's words are the stored flag's (English), as JSON gives them.
            app.info(_(WOULD_REJECT_ONE if dry_run else REJECTED_ONE).format(
                key=rejection.key, kind=rejection.kind, client=rejection.client_id,
                reason=rejection.row()["reason_words"]))


#: A status report's lines, by whether anything was written (one whole sentence each).
REJECTED = N_("{file}: batch {batch}: bank status {bank_status}; rejected {rejected}, already "
              "rejected {already}, accepted {accepted}")
WOULD_REJECT = N_("{file}: batch {batch}: bank status {bank_status}; would reject {rejected}, "
                  "already rejected {already}, accepted {accepted}")
REJECTED_ONE = N_("rejected: {key} ({kind}, client {client}): {reason}")
WOULD_REJECT_ONE = N_("would reject: {key} ({kind}, client {client}): {reason}")


#: ``income`` subcommands of their own module, loaded when one runs (``cli/lazy.py``): money a
#: handler returns or shares out by hand (``commands_lifecycle``).
INCOME_COMMANDS = {
    "refund": ("valitystili.cli.commands_lifecycle:income_refund",
               N_("Return money in suspense (LINE) to its payer, in the next batch (handler).")),
    "split": ("valitystili.cli.commands_lifecycle:income_split",
              N_("Share money in suspense (LINE) between clients; the parts add up to the line.")),
}


@click.group("income", cls=LazyGroup, lazy_subcommands=INCOME_COMMANDS)
def income_group() -> None:
    """Incoming money: list it, assign what matched no client."""


@income_group.command("list")
@click.option("--unmatched", is_flag=True, help=N_("Only money in suspense, waiting for a handler."))
@click.option("--from", "start", type=OPTIONAL_DATE, default=None,
              help=N_("Booked on or after this day."))
@click.option("--to", "end", type=OPTIONAL_DATE, default=None,
              help=N_("Booked on or before this day."))
@pass_app
def income_list(app: App, unmatched: bool, start: date | None, end: date | None) -> None:
    """List incoming lines: amount, payer, reference, state, matching rule, client.

    Identity codes in messages are shown masked.

    \b
    Example:
      valitystili income list --unmatched --from 1.11.2026
    """
    from valitystili.statements import income

    with app.unit() as (session, actor):
        rows = income.list_income(session, actor, unmatched=unmatched, start=start, end=end)
    app.emit([row.row() for row in rows], tables.INCOME)


@income_group.command("assign")
@click.argument("line", type=int)
@click.argument("client")
@pass_app
def income_assign(app: App, line: int, client: str) -> None:
    """Credit unmatched incoming LINE to CLIENT (number or reference); at most once.

    \b
    Example:
      valitystili income assign 812 1042
    """
    from valitystili.statements import income

    with app.unit() as (session, actor):
        assigned = income.assign_line(session, actor, line, client, today=date.today())
    app.emit(assigned.row())
