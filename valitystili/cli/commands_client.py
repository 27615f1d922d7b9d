"""``client`` commands for the client's service record and details: record, records, decision,
edit, edits, edit-approve, edit-reject.

The ``client`` group (``commands_people``) loads this module only when one of these runs (the
group's lazy table), so ``client show`` stays a one-module lookup. Each command opens one unit
of work, calls one service function and prints the result.
"""

from __future__ import annotations

from datetime import date

import click

from valitystili.base.i18n import N_, _
from valitystili.cli.app import App, pass_app, warn
from valitystili.cli.params import DATE, ServiceChoice


@click.command("record")
@click.argument("client")
@click.argument("kind", metavar="KIND", type=ServiceChoice("valitystili.store.models:RECORD_KINDS"))
@click.option("--date", "dated_on", type=DATE, default=None,
              help=N_("The day the document was made (an end's own day when left out)."))
@click.option("--supersedes", type=int, default=None, metavar="ID",
              help=N_("The record this one corrects; fields not given are taken from it."))
@click.option("--reference", default=None,
              help=N_("assessment: the social-welfare record; decision: its number."))
@click.option("--worker", default=None, help=N_("assessment: who made it (default: the client's)."))
@click.option("--incomes", default=None, help=N_("consent: which incomes come to the account."))
@click.option("--payments", default=None, help=N_("consent: which payments the account makes."))
@click.option("--withdrawn", type=DATE, default=None,
              help=N_("consent: the day it was withdrawn (ends the consent in force)."))
@click.option("--scope", default=None, help=N_("power_of_attorney: what it covers."))
@click.option("--to", "to", default=None, help=N_("power_of_attorney: to whom."))
@click.option("--until", type=DATE, default=None,
              help=N_("power_of_attorney: valid until (none: until revoked)."))
@click.option("--benefits", default=None, help=N_("ev241n: the Kela benefits it covers."))
@click.option("--ended", type=DATE, default=None,
              help=N_("ev241n: the day it ended (ends the demand in force)."))
@click.option("--grounds", default=None, help=N_("decision: the grounds."))
@click.option("--criterion", type=ServiceChoice("valitystili.store.models:CRITERIA"),
              default=None, help=N_("decision: the criterion (default: the client's)."))
@click.option("--reason", default=None, help=N_("decision: why other_weighty applies."))
@click.option("--start", type=DATE, default=None, help=N_("decision: the service's first day."))
@click.option("--end", type=DATE, default=None,
              help=N_("decision: the service's last day (none: until further notice)."))
@click.option("--review", type=DATE, default=None, help=N_("decision: the next review."))
@pass_app
def client_record(app: App, client: str, kind: str, dated_on: date | None,
                  supersedes: int | None, **fields) -> None:
    """Add a dated record to the client's service record (audited; never deleted).

    KIND is assessment, consent, power_of_attorney, ev241n or decision (a handler's). A
    correction is a new record with --supersedes ID. A withdrawn consent raises the flag
    consent_withdrawn: the service must close or change. The client follows a decision: its
    review date, its last day (--end; none: until further notice) and the criterion it names
    become the client's (a correction changes only what it gives).

    \b
    Examples:
      valitystili client record 1 assessment --date 20.10.2026 --reference "SOS-2026-1234"
      valitystili client record 1 consent --date 20.10.2026 \\
          --incomes "housing allowance, social assistance" --payments "rent, electricity"
      valitystili client record 1 power_of_attorney --date 20.10.2026 \\
          --scope "rent matters with the landlord" --to "Vaasan Asunnot Oy" --until 31.10.2027
      valitystili client record 1 ev241n --date 21.10.2026 --benefits "housing allowance"
      valitystili client record 1 decision --date 25.10.2026 --grounds "rent arrears twice" \\
          --start 1.11.2026 --review 1.2.2027
      valitystili client record 1 consent --withdrawn 15.1.2027
    """
    from valitystili.flags import service_record

    notes: list[str] = []
    with app.unit() as (session, actor):
        row, flags = service_record.record(session, actor, client, kind, dated_on=dated_on,
                                           fields=fields, supersedes=supersedes,
                                           today=date.today(), notes=notes)
    for flag in flags:
        if flag.kind == service_record.CONSENT_WITHDRAWN:
            warn(flag.detail)
    app.notes(notes)
    app.emit(row)


@click.command("records")
@click.argument("client")
@click.option("--kind", type=ServiceChoice("valitystili.store.models:RECORD_KINDS"),
              default=None, help=N_("Only records of this kind."))
@pass_app
def client_records(app: App, client: str, kind: str | None) -> None:
    """List the client's service record, superseded records too (audited).

    \b
    Example:
      valitystili client records 1 --kind consent
    """
    from valitystili.people import records

    with app.unit() as (session, actor):
        app.emit(records.list_records(session, actor, client, kind=kind, today=date.today()))


@click.command("decision")
@click.argument("client")
@click.option("--record", type=int, default=None, metavar="ID",
              help=N_("The decision record (default: the newest that stands)."))
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help=N_("Write the text to this file instead of printing it."))
@pass_app
def client_decision(app: App, client: str, record: int | None, out: str | None) -> None:
    """The decision's text for the client, with appeal instructions.

    The text is in the client's language; its appeal instructions (oikaisuvaatimusohje) are
    the settings appeal_instructions_fi, _sv and _en, with {authority} replaced by
    appeal_authority. Reading it is audited.

    \b
    Example:
      valitystili client decision 1 --out paatos-1.txt
    """
    from valitystili.people import decisions

    with app.unit() as (session, actor):
        made = decisions.decision_text(session, actor, client, record=record)
    if out is None:
        if not app.quiet:
            click.echo(made.text, nl=False)
        return
    with open(out, "w", encoding="utf-8") as file:
        file.write(made.text)
    app.info(_("wrote decision {record} of client {client} ({language}) to {file}").format(
        record=made.record, client=made.client, language=made.language, file=out))


@click.command("edit")
@click.argument("client")
@click.option("--iban", default=None,
              help=N_("The client's new account: waits for another handler's approval."))
@click.option("--name", default=None, help=N_("The client's name."))
@click.option("--language", type=ServiceChoice("valitystili.store.models:LANGUAGES"),
              default=None, help=N_("The client's language for letters and decisions."))
@click.option("--worker", default=None, help=N_("The responsible social worker (a user)."))
@click.option("--review", type=DATE, default=None, help=N_("The next review of the need."))
@click.option("--until", type=DATE, default=None,
              help=N_("The service's last day: extends or shortens the term (a handler)."))
@click.option("--reason", default=None,
              help=N_("With --until: the handler's decision, recorded."))
@pass_app
def client_edit(app: App, client: str, iban: str | None, name: str | None,
                language: str | None, worker: str | None, review: date | None,
                until: date | None, reason: str | None) -> None:
    """Change a client's details; each change is audited with before and after.

    The name, language, worker, review date and last day change at once. A new IBAN waits
    until a handler who did not propose it approves it (client edit-approve); the next batch
    after that pays to it. The last day (--until, with --reason) is a handler's decision: a
    later one makes the next batch create the new months' obligations; an earlier one cancels
    the obligations after it, and the last instalment day on or before it pays out the rest.
    rent_debt_fixed_term runs 3–6 months from the start. A closed client is not edited.

    \b
    Examples:
      valitystili client edit 1 --worker sanna --review 1.3.2027
      valitystili client edit 1 --iban FI4950009420028730
      valitystili client edit 1 --until 30.4.2027 --reason "decision 12/2027: 3 months more"
    """
    from valitystili.people import edits

    notes: list[str] = []
    with app.unit() as (session, actor):
        rows = edits.edit_client(session, actor, client, iban=iban, name=name,
                                 language=language, worker=worker, review_on=review,
                                 until_on=until, reason=reason, today=date.today(),
                                 notes=notes)
    app.notes(notes)
    app.emit(rows)


@click.command("edits")
@click.argument("client", required=False)
@click.option("--all", "all_statuses", is_flag=True,
              help=N_("Approved, rejected and withdrawn changes too."))
@pass_app
def client_edits(app: App, client: str | None, all_statuses: bool) -> None:
    """List the IBAN changes waiting for approval (of one client, or all).

    \b
    Example:
      valitystili client edits
    """
    from valitystili.people import edits

    with app.unit() as (session, actor):
        app.emit(edits.list_edits(session, actor, client, all_statuses=all_statuses))


@click.command("edit-approve")
@click.argument("edit", type=int)
@pass_app
def client_edit_approve(app: App, edit: int) -> None:
    """Approve a waiting IBAN change (another handler than its proposer).

    The approval is audited; the next batch pays instalments to the new IBAN.

    \b
    Example:
      valitystili client edit-approve 1
    """
    from valitystili.people import edits

    with app.unit() as (session, actor):
        app.emit(edits.approve_edit(session, actor, edit))


@click.command("edit-reject")
@click.argument("edit", type=int)
@click.option("--reason", required=True, help=N_("Why (recorded)."))
@pass_app
def client_edit_reject(app: App, edit: int, reason: str) -> None:
    """Reject a waiting IBAN change (a handler), or withdraw your own (audited).

    \b
    Example:
      valitystili client edit-reject 1 --reason "the client gave the wrong account"
    """
    from valitystili.people import edits

    with app.unit() as (session, actor):
        app.emit(edits.reject_edit(session, actor, edit, reason=reason))
