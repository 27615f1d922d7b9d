"""Commands for the daily payment batch: run, show, list, approve, export, remove, cancel."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from valitystili.base.dates import format_fi_date
from valitystili.base.i18n import N_, _, ngettext
from valitystili.cli import tables
from valitystili.cli.app import App, confirm, pass_app
from valitystili.cli.params import OPTIONAL_DATE


@click.group("batch")
def batch_group() -> None:
    """Run, review, approve and export the daily payment batch."""


@batch_group.command("run")
@click.option("--date", "run_on", type=OPTIONAL_DATE, default=None,
              help=N_("Batch date (default today); payments execute on the first banking day on "
                      "or after it."))
@click.option("--dry-run", is_flag=True, help=N_("Print what would be ordered; write nothing."))
@click.option("--iban", default=None, help=N_("The city's account to pay from (default: the first)."))
@click.option("--yes", is_flag=True, help=N_("Confirm an execution date in the past or more "
                                             "than 5 banking days ahead (scripts; a terminal "
                                             "asks)."))
@pass_app
def batch_run(app: App, run_on: date | None, dry_run: bool, iban: str | None, yes: bool) -> None:
    """Plan today's payments: obligations due, reserves, instalments.

    An execution date in the past, or more than 5 banking days ahead, is most likely a typing
    slip: the run needs --yes (or a yes at the terminal's question); a dry run does not. A run
    that finds nothing new to pay says what the day's batch already holds and makes no batch.

    \b
    Example:
      valitystili batch run --dry-run
      valitystili batch run
      valitystili batch run --date 2.11.2026 --yes     # a past day, confirmed
    """
    from valitystili import payments
    from valitystili.base.banking_calendar import CALENDAR

    run_on = run_on or date.today()
    if not dry_run and not yes and CALENDAR.is_banking_day(run_on):   # a closed day's is dry
        reason = payments.date_to_confirm(run_on, date.today())
        if reason and not confirm(reason, _("Run the batch anyway?")):
            raise payments.NeedsConfirmation(reason, _("nothing was run; confirm with --yes"))
    with app.unit() as (session, actor):
        result = payments.run_batch(session, actor, run_on, dry_run=dry_run, iban=iban)
    if result["closed_day"] and not dry_run:
        app.info(_("{day} is not a banking day: a dry run, nothing stored; run the batch on "
                   "{next_day}").format(day=format_fi_date(result["run_on"]),
                                        next_day=format_fi_date(result["execution_on"])))
    rows = result.pop("order_rows")
    notices = result.pop("notices")
    if app.format == "json":
        app.emit({**result, "orders_planned": rows, "flags_raised": notices})
        return
    app.emit(rows, tables.BATCH_RUN)
    for notice in notices:
        app.info(_("flag {kind}: client {client}: {detail}").format(
            kind=notice["kind"], client=notice["client_id"], detail=notice["detail"]))
    if not result["dry_run"] and not result["orders"]:
        held = result["already_held"]
        app.info(_("nothing new; {held}").format(held=held) if held else
                 _("nothing to pay on {day}; no batch was made").format(
                     day=format_fi_date(result["execution_on"])))
        return

    from valitystili.base.money import format_fi

    values = {"payments": _payments(result["orders"]), "total": format_fi(result["total_cents"]),
              "day": result["execution_on"].isoformat(), "batch": result["batch"]}
    summary = (_("would order {payments}, {total}, executing {day}") if result["dry_run"] else
               _("batch {batch}: {payments}, {total}, executing {day}"))
    app.info(summary.format(**values))


def _payments(count: int) -> str:
    return ngettext("{count} payment", "{count} payments", count).format(count=count)


def batch_heading(batch: dict, wide: bool = False) -> list[str]:
    """What ``batch show`` says above the orders: the batch, its day, status, who, total."""
    from valitystili.base.money import format_fi

    approved = (_("approved by {name}").format(name=batch["approved_by"]) if batch["approved_by"]
                else _("not approved yet"))
    status = batch["status"]
    if batch.get("bank_status"):                    # the bank's status report (pain.002)
        status = _("{status}, {bank_status} by the bank").format(
            status=status, bank_status=batch["bank_status"].replace("_", " "))
    lines = [_("batch {batch}: {status}, {payments}, {total}, executing {day}").format(
                 batch=batch["batch"], status=status, payments=_payments(batch["orders"]),
                 total=format_fi(batch["total_cents"]), day=batch["execution_on"].isoformat()),
             _("run by {name} on {day}, {approved}").format(
                 name=batch["created_by"], day=batch["run_on"].isoformat(), approved=approved)]
    if wide:
        lines.append(_("key {key}").format(key=batch["key"]))
    return lines


@batch_group.command("show")
@click.argument("batch")
@pass_app
def batch_show(app: App, batch: str) -> None:
    """List a batch's orders: client, payee, amount, reference, execution date.

    \b
    Example:
      valitystili batch show 12
    """
    from valitystili import payments

    with app.unit() as (session, actor):    # the view is logged: a write unit
        result = payments.show_batch(session, actor, batch)
    if app.format == "json":
        app.emit(result)
        return
    heading = batch_heading(result["batch"], app.wide)
    if app.format == "table" and not app.quiet:
        click.echo("\n".join(heading) + "\n")    # a person reads it above the orders
    else:
        for line in heading:                         # stdout stays one CSV
            app.info(line)
    app.emit(result["orders"], tables.BATCH_ORDERS)


@batch_group.command("list")
@click.option("--since", type=OPTIONAL_DATE, default=None,
              help=N_("Only batches executing on or after this date."))
@pass_app
def batch_list(app: App, since: date | None) -> None:
    """List batches with their totals.

    \b
    Example:
      valitystili batch list --since 1.11.2026
    """
    from valitystili import payments

    with app.unit(read_only=True) as (session, actor):
        app.emit(payments.list_batches(session, actor, since=since), tables.BATCH_LIST)


@batch_group.command("approve")
@click.argument("batch")
@pass_app
def batch_approve(app: App, batch: str) -> None:
    """Approve a draft batch: its orders debit the clients' accounts.

    With four-eyes on (the default) the approver must be another handler than the one who ran
    it, and must have created none of its orders (a second run of the day adds to the draft).
    Approval records a digest of the approved payments; export checks it.

    \b
    Example:
      VALITYSTILI_USER=hilla valitystili batch approve 12
    """
    from valitystili import payments

    with app.unit() as (session, actor):
        app.emit(payments.approve_batch(session, actor, batch))


@batch_group.command("export")
@click.argument("batch")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Where to write the pain.001 file."))
@click.option("--pain-version", type=click.Choice(["09", "03"]), default=None,
              help=N_("pain.001.001.09 (default) or .03 for banks that still need it."))
@click.option("--force", is_flag=True, help=N_("Replace an existing file at --out."))
@click.option("--again", is_flag=True, help=N_("Write a batch that was already exported once "
                                               "more (a copy: never upload it to the bank "
                                               "twice)."))
@click.option("--yes", is_flag=True, help=N_("Confirm a batch whose execution date is in the "
                                             "past (scripts; a terminal asks)."))
@pass_app
def batch_export(app: App, batch: str, out: Path, pain_version: str | None, force: bool,
                 again: bool, yes: bool) -> None:
    """Write an approved batch as an ISO 20022 pain.001 payment file for the bank (finance).

    The payments are checked against what was approved; a batch changed after approval is
    refused and flagged. The file appears under its name only once the export is recorded;
    an existing file is refused unless --force. A batch already exported is refused, naming
    when and by whom, unless --again; one executing in the past unless --yes (a terminal asks
    instead). Handlers export only where the setting handler_exports is on.

    \b
    Example:
      valitystili batch export 12 --out maksut-2026-11-02.xml
    """
    from valitystili import payments

    while True:
        try:
            with app.unit() as (session, actor):
                result = payments.export_batch(session, actor, batch, out, version=pain_version,
                                               force=force, again=again, confirmed=yes)
            break
        except payments.ChangedAfterApproval as refused:
            with app.unit() as (session, actor):     # the refusal is kept: its own unit
                payments.record_changed_after_approval(session, actor, refused)
            raise
        except payments.NeedsConfirmation as unusual:
            if not confirm(unusual.reason, _("Write the file anyway?")):
                raise
            # Asked and answered yes: the same export again, that question settled.
            again, yes = again or unusual.option == "--again", yes or unusual.option == "--yes"
    if not result["first_export"]:
        app.info("valitystili: warning: " + _(      # the prefix is the same in every language
            "batch {batch} was already exported {when}: this file is a copy; do not upload it "
            "to the bank twice").format(batch=result["batch"], when=result["exported_before"]))
    app.emit(result)


@batch_group.command("remove")
@click.argument("batch")
@click.argument("order")
@click.option("--reason", required=True, help=N_("Why the payment is taken out (recorded)."))
@pass_app
def batch_remove(app: App, batch: str, order: str, reason: str) -> None:
    """Take one order (its number or key) out of a draft or approved batch.

    The order is cancelled; from an approved batch its debit is reversed, so the money is the
    client's again. Its rent or bill is open again and the next run pays it. With four-eyes on,
    the handler who created the order cannot take it out of an approved batch. An exported
    batch is refused: the bank has the file.

    \b
    Example:
      VALITYSTILI_USER=hilla valitystili batch remove 12 345 --reason "Landlord's account closed"
    """
    from valitystili import payments

    with app.unit() as (session, actor):
        result = payments.remove_order(session, actor, batch, order, reason=reason)
    app.emit(result)
    taken_out = (_("order {order} ({key}) taken out of batch {batch}; the money is back on the "
                   "client's account") if result["money_back"] else
                 _("order {order} ({key}) taken out of batch {batch}"))
    app.info(taken_out.format(order=result["order"], key=result["key"], batch=result["batch"]))


@batch_group.command("cancel")
@click.argument("batch")
@click.option("--reason", required=True, help=N_("Why the batch is cancelled (recorded)."))
@pass_app
def batch_cancel(app: App, batch: str, reason: str) -> None:
    """Cancel a draft or approved batch: every order is taken out as by `batch remove`.

    With four-eyes on, an approved batch is cancelled only by a handler who could have approved
    it. An exported batch is refused: the bank has the file.

    \b
    Example:
      VALITYSTILI_USER=hilla valitystili batch cancel 12 --reason "Run before the day's statement"
    """
    from valitystili import payments

    with app.unit() as (session, actor):
        app.emit(payments.cancel_batch(session, actor, batch, reason=reason))
