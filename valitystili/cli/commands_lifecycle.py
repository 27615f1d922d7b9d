"""Commands for the end of a service and for money a handler moves by hand: ``client close``,
``client reopen``, ``client payout-approve``, ``client handover``, ``pay``, ``income refund``
and ``income split``.

The ``client`` and ``income`` groups load this module only when one of these runs (their lazy
tables), ``pay`` is a top-level command of its own. Each command opens one unit of work, calls
one service function and prints the result; warnings go to stderr.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from valitystili.base.i18n import N_, _
from valitystili.cli.app import App, pass_app, warn
from valitystili.cli.params import AMOUNT, DATE, MONTH, ServiceChoice


# --- closing and reopening ----------------------------------------------------------------------


@click.command("close")
@click.argument("client")
@click.option("--date", "closed", type=DATE, required=True, help=N_("The service's last day."))
@click.option("--reason", required=True,
              type=ServiceChoice("valitystili.store.models:CLOSE_REASONS"),
              help=N_("Why the service ends."))
@click.option("--note", default=None, help=N_("What the reason means here (required with other)."))
@click.option("--final-payout", is_flag=True,
              help=N_("Close although money is held; the next batch pays it to the client."))
@click.option("--payout-to", default=None, metavar="IBAN",
              help=N_("Pay the final balance to this account instead (a guardian, an estate); "
                   "a second handler approves it."))
@click.option("--payee", default=None, metavar="NAME", help=N_("Whose account --payout-to is."))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=N_("Write the handover pack into this folder (made when missing)."))
@click.option("--force", is_flag=True, help=N_("Replace the pack's files if they exist."))
@pass_app
def client_close(app: App, client: str, closed: date, reason: str, note: str | None,
                 final_payout: bool, payout_to: str | None, payee: str | None,
                 out: Path | None, force: bool) -> None:
    """Close the service with a reason; optionally write the handover pack.

    Obligations with a pay day after the closing date are cancelled; one already partly paid
    is left open and named (a warning). Money still held needs --final-payout (to the client's
    own account) or --payout-to IBAN --payee NAME (approved by a second handler with
    `client payout-approve`). Reasons: service_not_needed, moved, guardianship_started, died,
    consent_withdrawn, other (with --note). An open Kela payment demand (EV 241N) raises the
    flag payment_demand_ends.

    \b
    Example:
      valitystili client close 1 --date 31.1.2027 --reason moved --final-payout --out luovutus-1
    """
    from valitystili.oversight import handover

    today = date.today()
    with app.unit() as (session, actor):
        done = handover.close_service(session, actor, client, closed_on=closed, reason=reason,
                                      note=note, final_payout=final_payout,
                                      payout_to=payout_to, payee=payee, today=today)
        if out is not None:
            done["handover"] = handover.write_pack(session, actor, client, out, force=force,
                                                   today=today)["folder"]
    for key in done["left_open"]:
        warn(_("{obligation} is partly paid: left open, not cancelled").format(obligation=key))
    if done["payout_status"] == "waiting":
        warn(_("the final payout to {payee} waits for another handler: valitystili client "
               "payout-approve {client}").format(payee=done["payee"], client=done["client"]))
    for line in done.pop("kela_to_tell"):
        warn(line)
    app.emit(done)


@click.command("payout-approve")
@click.argument("client")
@pass_app
def client_payout_approve(app: App, client: str) -> None:
    """Approve the final payout to the guardian or estate named at closing (another handler).

    \b
    Example:
      valitystili client payout-approve 1
    """
    from valitystili.people import lifecycle

    with app.unit() as (session, actor):
        app.emit(lifecycle.approve_payout(session, actor, client))


@click.command("handover")
@click.argument("client")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help=N_("The folder to write the pack into (made when missing)."))
@click.option("--month", type=MONTH, default=None,
              help=N_("The final statement's month (default the closing's), e.g. 2027-01."))
@click.option("--show-hetu", is_flag=True,
              help=N_("Write the identity code in clear in Kela's notice (audited)."))
@click.option("--force", is_flag=True, help=N_("Replace the pack's files if they exist."))
@pass_app
def client_handover(app: App, client: str, out: Path, month: tuple[int, int] | None,
                    show_hetu: bool, force: bool) -> None:
    """Write a closed client's handover pack (again, e.g. once the final payout has gone).

    The pack: final-statement.html and .txt (the month's letter), standing-payments.txt and
    .csv (what the client now pays themselves), kela-notice.txt (the payment account change
    and the payment demand end) and account-history.csv (every posting on the account).

    \b
    Example:
      valitystili client handover 1 --out luovutus-1 --month 2027-02 --force
    """
    from valitystili.oversight import handover

    with app.unit() as (session, actor):
        app.emit(handover.write_pack(session, actor, client, out, force=force, month=month,
                                     show_hetu=show_hetu, today=date.today()))


@click.command("reopen")
@click.argument("client")
@click.option("--start", type=DATE, required=True, help=N_("The new period's first day."))
@click.option("--review", type=DATE, required=True,
              help=N_("Next review of the need for the service (always set)."))
@click.option("--until", type=DATE, default=None,
              help=N_("End date; rent_debt_fixed_term: 3–6 months on."))
@click.option("--criterion", type=ServiceChoice("valitystili.store.models:CRITERIA"),
              default=None, help=N_("The opening criterion (default: the earlier period's)."))
@click.option("--worker", default=None,
              help=N_("The responsible social worker (default: as before)."))
@pass_app
def client_reopen(app: App, client: str, start: date, review: date, until: date | None,
                  criterion: str | None, worker: str | None) -> None:
    """Start a new service period for a closed client (same number and reference).

    Nothing is paid until a plan is set and approved for the new period: the earlier
    period's plans are never in force again.

    \b
    Example:
      valitystili client reopen 1 --start 1.3.2027 --review 1.6.2027
    """
    from valitystili.people import lifecycle

    with app.unit() as (session, actor):
        reopened = lifecycle.reopen_client(session, actor, client, start_on=start,
                                           review_on=review, until_on=until,
                                           criterion=criterion, worker=worker,
                                           today=date.today())
    warn(_("client {client}: set and approve a plan for the new period (plan set, plan "
           "approve); nothing is paid before").format(client=reopened.client))
    app.emit(reopened.row())


# --- money moved by hand ------------------------------------------------------------------------


@click.command("pay")
@click.argument("client")
@click.option("--amount", type=AMOUNT, required=True, help=N_("How much, e.g. 120,00."))
@click.option("--message", default=None, help=N_("What the payment is for (or --reference)."))
@click.option("--reference", default=None, help=N_("The payee's reference number (or --message)."))
@click.option("--to", "to_iban", default=None, metavar="IBAN",
              help=N_("Pay to this account (default: the client's own)."))
@click.option("--name", "to_name", default=None, help=N_("Whose account --to is."))
@pass_app
def pay(app: App, client: str, amount: int, message: str | None, reference: str | None,
        to_iban: str | None, to_name: str | None) -> None:
    """A one-off payment out of a client's money, into the next batch (handler).

    Never more than the client's money less what draft orders and other waiting payments
    hold. The next `batch run` makes it an order; another handler approves the batch.

    \b
    Example:
      valitystili pay 1 --amount 120,00 --message "Ylimääräinen erä"
      valitystili pay 1 --amount 89,90 --to FI4950009420028730 --name "Vaasan Vesi Oy" \\
          --reference 12345672
    """
    from valitystili.payments import manual

    notes: list[str] = []
    with app.unit() as (session, actor):
        asked = manual.request_payment(session, actor, client, amount_cents=amount,
                                       message=message, reference=reference, to_iban=to_iban,
                                       to_name=to_name, notes=notes)
    app.notes(notes)
    app.emit(asked.row())


@click.command("refund")
@click.argument("line", type=int)
@click.option("--to", "to_iban", default=None, metavar="IBAN",
              help=N_("The payer's account, when the bank line names none."))
@click.option("--name", "to_name", default=None,
              help=N_("The payer's name, when the line has none."))
@click.option("--message", default=None, help=N_("The payment's message (default: Palautus DATE)."))
@pass_app
def income_refund(app: App, line: int, to_iban: str | None, to_name: str | None,
                  message: str | None) -> None:
    """Return money in suspense (LINE) to its payer, in the next batch (handler).

    \b
    Example:
      valitystili income refund 17
    """
    from valitystili.payments import manual

    notes: list[str] = []
    with app.unit() as (session, actor):
        asked = manual.refund_line(session, actor, line, to_iban=to_iban, to_name=to_name,
                                   message=message, notes=notes, today=date.today())
    app.notes(notes)
    app.emit(asked.row())


def _parts(_ctx, _param, values: tuple[str, ...]) -> list[tuple[str, int]]:
    from valitystili.base.errors import ValidationError
    from valitystili.base.money import parse_amount

    parts = []
    for value in values:
        client, sep, amount = value.rpartition("=")
        if not sep or not client.strip():
            raise click.BadParameter(_("{value} is not CLIENT=AMOUNT").format(value=repr(value)))
        try:
            parts.append((client.strip(), parse_amount(amount)))
        except ValidationError as error:
            raise click.BadParameter(f"{value!r}: {error}") from None
    return parts


@click.command("split")
@click.argument("line")
@click.argument("parts", nargs=-1, required=True, callback=_parts, metavar="CLIENT=AMOUNT...")
@pass_app
def income_split(app: App, line: str, parts: list[tuple[str, int]]) -> None:
    """Share money in suspense (LINE) between clients; the parts add up to the line.

    LINE is a line number of `income list --unmatched`, or `opening` for the opening balance
    of the city account's first statement (`opening:IBAN` when there are several accounts).

    \b
    Example:
      valitystili income split 3 1=1200,00 2=350,50 7=49,50
      valitystili income split opening 1=845,10 2=1200,00
    """
    from valitystili.statements import splitting

    with app.unit() as (session, actor):
        done = splitting.split_line(session, actor, line, parts, today=date.today())
    app.emit([part.row() for part in done])
