"""Commands for the people the service knows: payees, the city's bank accounts, clients, leases.

Each command gets its options parsed by click (dates and amounts with the types of
``cli/params.py``), opens one unit of work, calls one service function and prints the result.
Warnings for people go to stderr as ``valitystili: warning: …``; stdout stays data.
"""

from __future__ import annotations

import sys
from datetime import date

import click

from valitystili.base.i18n import N_, _
from valitystili.cli import tables
from valitystili.cli.app import App, pass_app, warn
from valitystili.cli.lazy import LazyGroup
from valitystili.cli.params import AMOUNT, DATE, ServiceChoice


def _interactive() -> bool:
    """True when a person can answer questions (stdin is a terminal)."""
    return sys.stdin.isatty()


# --- payees -------------------------------------------------------------------------------------


@click.group("payee")
def payee_group() -> None:
    """Landlords, utilities and others the account pays."""


@payee_group.command("add")
@click.option("--name", required=True, help=N_("The payee's name as the bank should show it."))
@click.option("--iban", required=True,
              help=N_("The payee's account (national check digit checked)."))
@click.option("--bic", default=None, help=N_("BIC; derived from the IBAN when left out."))
@click.option("--kind", type=ServiceChoice("valitystili.people.payees:PAYEE_KINDS"),
              default="other", show_default=True, help=N_("What the payee is."))
@pass_app
def payee_add(app: App, name: str, iban: str, bic: str | None, kind: str) -> None:
    """Register a payee (handler or social worker).

    \b
    Example:
      valitystili payee add --name "Vaasan Asunnot Oy" --iban FI2112345600000785 --kind landlord
    """
    from valitystili.people import payees

    notes: list[str] = []
    with app.unit() as (session, actor):
        added = payees.add_payee(session, actor, name=name, iban=iban, kind=kind, bic=bic,
                                 notes=notes)
    app.notes(notes)
    app.emit(added)


@payee_group.command("list")
@pass_app
def payee_list(app: App) -> None:
    """List payees.

    \b
    Example:
      valitystili --format json payee list
    """
    from valitystili.people import payees

    with app.unit(read_only=True) as (session, actor):
        app.emit(payees.list_payees(session, actor), tables.PAYEES)


# --- the city's bank accounts -------------------------------------------------------------------


@click.group("bank")
def bank_group() -> None:
    """The city's own intermediary bank accounts."""


@bank_group.command("add")
@click.option("--iban", required=True, help=N_("The account's IBAN."))
@click.option("--name", required=True, help=N_("A name for the account."))
@click.option("--bic", default=None, help=N_("BIC; derived from the IBAN when left out."))
@pass_app
def bank_add(app: App, iban: str, name: str, bic: str | None) -> None:
    """Register one of the city's accounts and open its ledger account (admin).

    \b
    Example:
      valitystili bank add --iban FI7433010001222090 --name "Välitystili"
    """
    from valitystili.people import banks

    with app.unit() as (session, actor):
        app.emit(banks.add_bank_account(session, actor, iban=iban, name=name, bic=bic))


@bank_group.command("list")
@pass_app
def bank_list(app: App) -> None:
    """List the city's accounts with their ledger balances.

    \b
    Example:
      valitystili bank list
    """
    from valitystili.people import banks

    with app.unit(read_only=True) as (session, actor):
        app.emit(banks.list_bank_accounts(session, actor), tables.BANKS)


# --- clients ------------------------------------------------------------------------------------


#: ``client`` subcommands of their own module, loaded when one runs (``cli/lazy.py``): the
#: service record and the client's details (``commands_client``).
CLIENT_COMMANDS = {
    "record": ("valitystili.cli.commands_client:client_record",
               N_("Add a dated record to the client's service record (audited; never deleted).")),
    "records": ("valitystili.cli.commands_client:client_records",
                N_("List the client's service record, superseded records too (audited).")),
    "decision": ("valitystili.cli.commands_client:client_decision",
                 N_("The decision's text for the client, with appeal instructions.")),
    "edit": ("valitystili.cli.commands_client:client_edit",
             N_("Change a client's details; each change is audited with before and after.")),
    "edits": ("valitystili.cli.commands_client:client_edits",
              N_("List the IBAN changes waiting for approval (of one client, or all).")),
    "edit-approve": ("valitystili.cli.commands_client:client_edit_approve",
                     N_("Approve a waiting IBAN change (another handler than its proposer).")),
    "edit-reject": ("valitystili.cli.commands_client:client_edit_reject",
                    N_("Reject a waiting IBAN change (a handler), or withdraw your own "
                       "(audited).")),
    # Closing, the handover pack and reopening (``commands_lifecycle``).
    "close": ("valitystili.cli.commands_lifecycle:client_close",
              N_("Close the service with a reason; optionally write the handover pack.")),
    "payout-approve": ("valitystili.cli.commands_lifecycle:client_payout_approve",
                       N_("Approve the final payout to the guardian or estate named at closing "
                          "(another handler).")),
    "handover": ("valitystili.cli.commands_lifecycle:client_handover",
                 N_("Write a closed client's handover pack (again, e.g. once the final payout has "
                    "gone).")),
    "reopen": ("valitystili.cli.commands_lifecycle:client_reopen",
               N_("Start a new service period for a closed client (same number and reference).")),
    # Need to know and retention (``commands_access``).
    "grant": ("valitystili.cli.commands_access:client_grant",
              N_("Let a social worker see and change a client who is not theirs (admin; "
                 "audited).")),
    "revoke": ("valitystili.cli.commands_access:client_revoke",
               N_("End a social worker's grant of a client (admin; audited).")),
    "anonymise": ("valitystili.cli.commands_access:client_anonymise",
                  N_("Replace a closed client's personal data with a tombstone; money and audit "
                     "stay (admin).")),
    "export": ("valitystili.cli.commands_access:client_export",
               N_("Write the client's own data into a JSON file, for an access request "
                  "(audited).")),
}


@click.group("client", cls=LazyGroup, lazy_subcommands=CLIENT_COMMANDS)
def client_group() -> None:
    """Open, show, list, extend and close clients. CLIENT is the client number or its reference."""


def _exclusion_option(key: str, help_text: str):
    flag = key.replace("_", "-")
    return click.option(f"--{flag}/--no-{flag}", key, default=None, help=help_text)


@client_group.command("open")
@click.option("--hetu", required=True, help=N_("Personal identity code (henkilötunnus)."))
@click.option("--name", required=True, help=N_("The client's name."))
@click.option("--iban", required=True, help=N_("The client's own account, for instalments."))
@click.option("--criterion", required=True,
              type=ServiceChoice("valitystili.store.models:CRITERIA"),
              help=N_("The opening criterion."))
@click.option("--criterion-reason", default=None, metavar="REASON",
              help=N_("Why other_weighty applies (required with it)."))
@click.option("--worker", required=True, help=N_("The responsible social worker (a user)."))
@click.option("--start", type=DATE, default=None, help=N_("Start date (default today)."))
@click.option("--until", type=DATE, default=None,
              help=N_("End date; rent_debt_fixed_term: 3–6 months on."))
@click.option("--review", type=DATE, required=True,
              help=N_("Next review of the need for the service (always set)."))
@click.option("--language", type=ServiceChoice("valitystili.store.models:LANGUAGES"),
              default="fi", show_default=True, help=N_("The client's language for statements."))
@_exclusion_option("guardianship_need", N_("The client needs guardianship (edunvalvonta)."))
@_exclusion_option("subsidy_against_will",
                   N_("Labour market subsidy would come to the account against the client's "
                      "will."))
@_exclusion_option("kela_pays_landlord",
                   N_("Kela can pay the housing costs straight to the landlord."))
@click.option("--despite", default=None, metavar="REASON",
              help=N_("Open although an exclusion applies; the reason is recorded."))
@pass_app
def client_open(app: App, hetu: str, name: str, iban: str, criterion: str,
                criterion_reason: str | None, worker: str,
                start: date | None, until: date | None, review: date, language: str,
                guardianship_need: bool | None, subsidy_against_will: bool | None,
                kela_pays_landlord: bool | None, despite: str | None) -> None:
    """Open the service for a client (social worker).

    The exclusion questions (--[no-]guardianship-need, --[no-]subsidy-against-will,
    --[no-]kela-pays-landlord) are asked at a terminal when not given; in scripts an unanswered
    question is recorded as "not asked" with a warning. Age 65 or more is computed from the
    identity code. When an exclusion applies the client is opened only with --despite REASON.

    \b
    Example:
      valitystili client open --hetu 131052-308T --name "Maija Meikäläinen" \\
          --iban FI4950009420028730 --criterion evictions --worker sanna \\
          --start 1.11.2026 --review 1.2.2027 --no-guardianship-need \\
          --no-subsidy-against-will --no-kela-pays-landlord
    """
    from valitystili.people import clients

    answers = {"guardianship_need": guardianship_need,
               "subsidy_against_will": subsidy_against_will,
               "kela_pays_landlord": kela_pays_landlord}
    if _interactive():
        for key, value in answers.items():
            if value is None:
                answers[key] = click.confirm(_(clients.EXCLUSION_QUESTIONS[key]), default=None,
                                             err=True)
    notes: list[str] = []
    try:
        with app.unit() as (session, actor):
            result = clients.open_client(
                session, actor, hetu=hetu, name=name, iban=iban, criterion=criterion,
                worker=worker, start_on=start, until_on=until, review_on=review,
                language=language, exclusions=answers, despite=despite, today=date.today(),
                notes=notes, criterion_reason=criterion_reason)
    except clients.HetuTaken as taken:
        # The answer names a client: logged as a view, in a unit that is not rolled back.
        with app.unit() as (session, actor):
            clients.record_hetu_taken(session, actor, taken)
        raise
    for warning in result.pop("warnings"):
        warn(warning)
    app.notes(notes)
    app.emit(result)


@client_group.command("list")
@click.option("--status", type=click.Choice(("open", "closed")), default=None,
              help=N_("Only open or only closed clients."))
@pass_app
def client_list(app: App, status: str | None) -> None:
    """List clients with masked identity codes and balances (the listing is audited).

    \b
    Example:
      valitystili client list --status open
    """
    from valitystili.people import clients

    with app.unit() as (session, actor):
        app.emit(clients.list_clients(session, actor, status=status), tables.CLIENTS)


@client_group.command("show")
@click.argument("client")
@click.option("--show-hetu", is_flag=True, help=N_("Show the identity code unmasked (audited)."))
@pass_app
def client_show(app: App, client: str, show_hetu: bool) -> None:
    """Show the client's service file: card, periods, records, plan, balance, leases, flags.

    The view is audited. A table shows the card, then each list under its own title; CSV
    gives the card's fields only, JSON everything (the lists as arrays).

    \b
    Example:
      valitystili client show 1
      valitystili client show "1000 00013" --show-hetu
    """
    from valitystili.oversight import card

    with app.unit() as (session, actor):
        shown = card.show_client(session, actor, client, show_hetu=show_hetu,
                                 today=date.today())
    if app.format == "json":
        app.emit(shown)
        return
    app.emit({key: value for key, value in shown.items() if key not in card.SECTIONS})
    if app.format != "table" or app.quiet:
        return
    for section, keys in SHOW_COLUMNS.items():
        if shown[section]:
            click.echo("\n" + _(SECTION_TITLES[section]))
            app.emit([{key: row[key] for key in keys} for row in shown[section]])


#: The title above each list in the table form of ``client show``.
SECTION_TITLES = {
    "periods": N_("periods:"),
    "records": N_("records:"),
    "leases": N_("leases:"),
    "open_flags": N_("open flags:"),
    "pending_edits": N_("pending edits:"),
}

#: The columns of each list in the table form of ``client show`` (JSON has every field); the
#: long text last, where a cut reads naturally.
SHOW_COLUMNS = {
    "periods": ("period", "start_on", "until_on", "closed_on", "reason_label", "payee",
                "payout_status"),
    "records": ("record", "kind", "dated_on", "state", "supersedes", "recorded_by", "summary"),
    "leases": ("lease", "kind", "payee", "rent_cents", "start_on", "end_on", "override"),
    "open_flags": ("flag", "kind", "amount_cents", "first_seen", "ack_by", "detail"),
    "pending_edits": ("edit", "field", "old", "new", "proposed_by"),
}


@client_group.command("extend")
@click.argument("client")
@click.option("--until", type=DATE, required=True, help=N_("The new last day of the fixed term."))
@click.option("--reason", required=True, help=N_("The handler's decision, recorded."))
@pass_app
def client_extend(app: App, client: str, until: date, reason: str) -> None:
    """Extend a fixed-term service (handler's decision; audited).

    The next batch makes the obligations up to the new end.

    \b
    Example:
      valitystili client extend 1 --until 30.4.2027 --reason "decision 12/2027: 3 months more"
    """
    from valitystili.people import terms

    with app.unit() as (session, actor):
        extended = terms.extend_client(session, actor, client, until_on=until, reason=reason)
    app.emit(extended.row())


# --- leases -------------------------------------------------------------------------------------


@click.group("lease")
def lease_group() -> None:
    """Leases of supported-housing flats and sublets."""


@lease_group.command("add")
@click.argument("client")
@click.option("--payee", required=True, help=N_("The landlord (payee name or id)."))
@click.option("--rent", type=AMOUNT, required=True, help=N_("Monthly rent in euros."))
@click.option("--start", type=DATE, required=True, help=N_("First day of the lease."))
@click.option("--end", type=DATE, default=None,
              help=N_("Last day of the lease (a sublet or own lease may be open-ended)."))
@click.option("--kind", type=ServiceChoice("valitystili.store.models:LEASE_KINDS"),
              default="supported", show_default=True,
              help=N_("supported housing (the lease rules apply), sublet or own tenancy."))
@click.option("--override", default=None, metavar="REASON",
              help=N_("Allow a lease that breaks the lease rules (handler; audited)."))
@pass_app
def lease_add(app: App, client: str, payee: str, rent: int, start: date, end: date | None,
              kind: str, override: str | None) -> None:
    """Record a lease; supported housing: first at most 3 months, then 12, 4 years in all.

    A sublet or the client's own tenancy may be open-ended and of any length. A client's
    leases may not overlap. A rent that differs from the plan's raises a flag (a warning).

    \b
    Examples:
      valitystili lease add 1 --payee "Vaasan Asunnot Oy" --rent 520 \\
          --start 1.11.2026 --end 31.1.2027
      valitystili lease add 2 --payee "Vaasan Asunnot Oy" --rent 610 --start 1.12.2026 \\
          --kind own
    """
    from valitystili.flags import service_record

    with app.unit() as (session, actor):
        row, flags = service_record.lease(session, actor, client, payee=payee, rent_cents=rent,
                                          start_on=start, end_on=end, kind=kind,
                                          override=override)
    for flag in flags:
        if flag.subject == f"lease_rent:{row['lease']}":
            warn(flag.detail)
    app.emit(row)


@lease_group.command("end")
@click.argument("lease", type=int)
@click.option("--date", "end_on", type=DATE, required=True, help=N_("The lease's last day."))
@pass_app
def lease_end(app: App, lease: int, end_on: date) -> None:
    """End a lease (an open-ended one, or earlier than agreed); audited.

    \b
    Example:
      valitystili lease end 2 --date 31.3.2027
    """
    from valitystili.people import leases

    with app.unit() as (session, actor):
        app.emit(leases.end_lease(session, actor, lease, end_on=end_on))


@lease_group.command("list")
@click.argument("client")
@pass_app
def lease_list(app: App, client: str) -> None:
    """List a client's leases (the view is audited).

    \b
    Example:
      valitystili lease list 1
    """
    from valitystili.people import leases

    with app.unit() as (session, actor):
        app.emit(leases.list_leases(session, actor, client), tables.LEASES)
