"""Commands for reconciliation and reports: ``reconcile`` and ``report …``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from valitystili.base.i18n import N_, _, ngettext
from valitystili.cli import tables
from valitystili.cli.app import App, pass_app
from valitystili.cli.params import MONTH, OPTIONAL_DATE, ServiceChoice, as_of_option


@click.command("reconcile")
@as_of_option()
@click.option("--fail-on", "fail_on", multiple=True, metavar="KIND",
              type=ServiceChoice("valitystili.flags.raising:KINDS"),
              help=N_("Also exit 1 while flags of this kind are open (repeatable)."))
@click.option("--check", "check_only", is_flag=True,
              help=N_("Check and print only: raise or resolve no flags, record no run (an "
                      "auditor's reconcile is always this)."))
@pass_app
def reconcile_command(app: App, as_of: date | None, fail_on: tuple[str, ...],
                      check_only: bool) -> None:
    """Check the ledger against the bank statements and itself; refresh the flags.

    Prints the findings (none when all is well) and a one-line summary on stderr. Exit status
    0: clean; 1: findings, or open flags of a --fail-on kind; 3: could not run, or nothing to
    check (no bank account, no statement imported). An auditor's run changes nothing.

    \b
    Example:
      valitystili reconcile
      valitystili --format json reconcile --as-of 30.11.2026 --fail-on uncleared_payment
    """
    from valitystili.oversight import reconcile

    with app.unit() as (session, actor):
        result = reconcile.reconcile(session, actor, as_of, fail_on=fail_on,
                                     check_only=check_only)
    app.emit([finding.row() for finding in result.findings], tables.FINDINGS)
    app.info(result.summary())
    if not result.clean:
        raise click.exceptions.Exit(1)


@click.group("report")
def report_group() -> None:
    """Balances, arrears, reviews, batches and the clients' monthly statements."""


@report_group.command("balances")
@as_of_option()
@pass_app
def report_balances(app: App, as_of: date | None) -> None:
    """Each client's balance at the end of a day.

    \b
    Example:
      valitystili report balances --as-of 30.11.2026
    """
    from valitystili.base.money import format_count, format_fi
    from valitystili.oversight import reports

    with app.unit() as (session, actor):
        rows = reports.balances_report(session, actor, as_of)
    app.emit(rows, tables.REPORT_BALANCES)
    total = sum(row["balance_cents"] for row in rows)
    clients = ngettext("{count} client", "{count} clients", len(rows)).format(
        count=format_count(len(rows)))
    app.info(_("{clients}, {total} in all").format(clients=clients, total=format_fi(total)))


@report_group.command("arrears")
@as_of_option()
@pass_app
def report_arrears(app: App, as_of: date | None) -> None:
    """Unpaid obligations past due, aged 0–30, 31–60, 61–90 and over 90 days: per client, per
    payee, and in total.

    \b
    Example:
      valitystili report arrears --as-of 30.11.2026
    """
    from valitystili.oversight import reports

    with app.unit() as (session, actor):
        app.emit(reports.arrears_report(session, actor, as_of), tables.REPORT_ARREARS)


@report_group.command("reviews")
@as_of_option()
@pass_app
def report_reviews(app: App, as_of: date | None) -> None:
    """Reviews, fixed-term services and leases ending soon (or passed), with days left.

    \b
    Example:
      valitystili report reviews
    """
    from valitystili.oversight import reports

    with app.unit() as (session, actor):
        app.emit(reports.reviews_report(session, actor, as_of), tables.REPORT_REVIEWS)


@report_group.command("batches")
@as_of_option()
@click.option("--since", type=OPTIONAL_DATE, default=None,
              help=N_("From this execution day (default the 1st of the month)."))
@pass_app
def report_batches(app: App, as_of: date | None, since: date | None) -> None:
    """Payment batches with their order count, total, status and how many have cleared.

    \b
    Example:
      valitystili report batches --as-of 30.11.2026
    """
    from valitystili.oversight import reports

    with app.unit(read_only=True) as (session, actor):
        app.emit(reports.batches_report(session, actor, as_of, since=since),
                 tables.REPORT_BATCHES)


@report_group.command("statement")
@click.argument("client")
@click.option("--month", required=True, type=MONTH, help=N_("The month, e.g. 2026-11."))
@click.option("--language", type=ServiceChoice("valitystili.store.models:LANGUAGES"),
              default=None, help=N_("fi, sv or en (default the client's language)."))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=N_("Write the letter to FILE (readable by you only) instead of printing it: "
                      "FILE.html a print-ready page, FILE.txt the text; a name without a suffix "
                      "gets .html (.txt with --text). An existing FILE is refused."))
@click.option("--text", "as_text", is_flag=True,
              help=N_("With --out: write the text, not the HTML page."))
@click.option("--force", is_flag=True, help=N_("Replace an existing --out FILE."))
@click.option("--date", "dated", type=OPTIONAL_DATE, default=None,
              help=N_("The letter's date (default today)."))
@pass_app
def report_statement(app: App, client: str, month: tuple[int, int], language: str | None,
                     out: Path | None, as_text: bool, force: bool, dated: date | None) -> None:
    """The client's monthly letter in plain language: the balance at the start, money in,
    rent and bills paid, money paid to the client's own bank account, returned payments, the
    balance at the end, what comes next and anything still unpaid. Refused for a month after
    the client's closing date.

    \b
    Example:
      valitystili report statement 1001 --month 2026-11
      valitystili report statement 1001 --month 2026-11 --language sv --out brev-1001
    """
    from valitystili.base import files
    from valitystili.oversight import letters

    year, month_number = month
    form = None
    if out is not None:
        out, form = letters.letter_path(out, text=as_text)
    elif as_text:
        raise click.UsageError(_("--text goes with --out (without it the text is printed)"))
    output = form or app.format
    staged = None
    try:
        with app.unit() as (session, actor):
            letter = letters.client_statement(session, actor, client, year, month_number,
                                              language, output=output, today=dated)
            if out is not None:
                # Staged inside the unit: a refused target leaves no trace of the view either.
                staged = files.stage(out, letters.render(letter, form).encode("utf-8"),
                                     force=force)
        if staged is not None:
            staged.publish()
    finally:
        if staged is not None:
            staged.discard()
    if out is not None:
        app.info(_("wrote {file}").format(file=out))
    elif app.format == "json":
        app.emit(letter.as_dict())
    elif not app.quiet:
        click.echo(letters.render_text(letter), nl=False)


@report_group.command("statements")
@click.option("--month", required=True, type=MONTH, help=N_("The month, e.g. 2026-11."))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help=N_("The folder to write the letters into (made when missing, readable by "
                      "you only): letter-CLIENT-MONTH.html for each client, .txt with --text."))
@click.option("--language", type=ServiceChoice("valitystili.store.models:LANGUAGES"),
              default=None, help=N_("fi, sv or en (default each client's language)."))
@click.option("--text", "as_text", is_flag=True,
              help=N_("Write the text, not the HTML page."))
@click.option("--date", "dated", type=OPTIONAL_DATE, default=None,
              help=N_("The letter's date (default today)."))
@click.option("--force", is_flag=True,
              help=N_("Replace letters already in the folder (else nothing is written)."))
@pass_app
def report_statements(app: App, month: tuple[int, int], out: Path, language: str | None,
                      as_text: bool, dated: date | None, force: bool) -> None:
    """Every client's monthly letter, one file each: the month's mailing. A client who was a
    client during the month has a letter, one closed during it too (the last one); each letter
    is the one `report statement` writes. The letters appear all or none.

    \b
    Example:
      valitystili report statements --month 2026-11 --out kirjeet-2026-11
      valitystili --format json report statements --month 2026-11 --out letters --text
    """
    from valitystili.oversight import letters

    year, month_number = month
    staged = None
    try:
        with app.unit() as (session, actor):
            written, staged = letters.stage_statements(
                session, actor, year, month_number, out, language=language,
                form="text" if as_text else "html", today=dated, force=force)
        staged.publish()
    finally:
        if staged is not None:
            staged.discard()
    app.info(ngettext("wrote {count} letter to {folder}", "wrote {count} letters to {folder}",
                      len(written)).format(count=len(written), folder=out))
    app.emit(written, tables.REPORT_STATEMENTS)
