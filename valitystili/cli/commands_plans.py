"""Commands for payment plans and bills: set, edit, show and approve a plan; add and list bills.

Each command gets its options parsed by click (dates and amounts with the types of
``cli/params.py``), opens one unit of work, calls one service function and prints the result.
"""

from __future__ import annotations

from datetime import date

import click

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _
from valitystili.cli import tables
from valitystili.cli.app import App, pass_app, warn
from valitystili.cli.output import render
from valitystili.cli.params import AMOUNT, DATE, MONTH


class NothingSaved(click.ClickException):
    """``plan edit`` ended without a new plan: like ``git commit``, that is exit 1."""

    exit_code = 1


# --- plans --------------------------------------------------------------------------------------


@click.group("plan")
def plan_group() -> None:
    """Payment plans: set (social worker), approve (handler), show, edit, Kela's share."""


effective_option = click.option(
    "--effective", type=DATE, default=None,
    help=N_("In force from this date once approved (default today)."))
version_option = click.option("--version", "version", type=int, default=None,
                              help=N_("Which version (default the latest)."))


@plan_group.command("set")
@click.argument("client")
@click.option("--file", "plan_file", required=True, type=click.File("r", encoding="utf-8"),
              help=N_("The plan in TOML (docs/examples/plan.toml); - reads stdin."))
@effective_option
@pass_app
def plan_set(app: App, client: str, plan_file, effective: date | None) -> None:
    """Store a new version of a client's plan (a draft until a handler approves it).

    A plan that does not add up is stored with a warning for each month where the daily batch,
    run forward over its coming twelve months, would pay a rent or bill late or in part, or pay
    less than the minimum instalments; approving it then needs --despite.

    \b
    Example:
      valitystili plan set 1 --file plan.toml --effective 1.12.2026
    """
    from valitystili.oversight import plan_check

    text = plan_file.read()
    notes: list[str] = []
    with app.unit() as (session, actor):
        result = plan_check.set_plan(session, actor, client, text, effective_on=effective,
                                     today=date.today(), notes=notes)
    app.notes(notes)
    for warning in result["warnings"]:
        warn(warning)
    app.emit(result)


@plan_group.command("edit")
@click.argument("client")
@effective_option
@pass_app
def plan_edit(app: App, client: str, effective: date | None) -> None:
    """Edit the latest version in $EDITOR and store the result as a new version.

    Saving the text unchanged, or empty, stores nothing and exits with status 1. When the
    edited plan is refused, the text is kept in a file named in the error.

    \b
    Example:
      EDITOR=nano valitystili plan edit 1 --effective 1.12.2026
    """
    from valitystili.oversight import plan_check
    from valitystili.plans import plans

    with app.unit() as (session, actor):
        current = plans.plan_source(session, actor, client)
    edited = click.edit(current["source"], extension=".toml", require_save=True)
    if edited is None or edited == current["source"]:
        raise NothingSaved(_("plan not changed; nothing saved"))
    if not "".join(line for line in edited.splitlines()
                   if not line.lstrip().startswith("#")).strip():
        raise NothingSaved(_("plan is empty; nothing saved"))
    notes: list[str] = []
    try:
        with app.unit() as (session, actor):
            result = plan_check.set_plan(session, actor, client, edited, effective_on=effective,
                                         today=date.today(), expect_version=current["version"],
                                         notes=notes)
    except ValidationError as error:
        import tempfile

        # Like `git commit`, keep what the person wrote so the fix is not typed again.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".toml",
                                         prefix=f"plan-{current['client']}-",
                                         delete=False) as kept:
            kept.write(edited)
        raise ValidationError(_("{error} (your text is in {file})").format(
            error=error, file=kept.name)) from None
    app.notes(notes)
    app.emit(result)


#: A rent's amount is the whole rent: Kela's usual part and the account's part follow it.
_ITEM_COLUMNS = ("position", "kind", "payee", "amount_cents", "paid_directly_cents",
                 "account_cents", "due", "reference", "message", "paid_by", "bills",
                 "allow_partial")


@plan_group.command("show")
@click.argument("client")
@version_option
@pass_app
def plan_show(app: App, client: str, version: int | None) -> None:
    """Show a plan version with its items, incomes and instalments (the view is audited).

    A rent item's amount is the whole rent; "paid directly" is the part Kela usually pays the
    landlord and "account" the part paid from the account. "does not add up" lists the plan
    check's months (as plan set warns of them).

    \b
    Example:
      valitystili plan show 1
      valitystili --format json plan show 1 --version 2
    """
    from valitystili.oversight import plan_check

    with app.unit() as (session, actor):
        result = plan_check.show_plan(session, actor, client, version=version,
                                      today=date.today())
    if app.format == "json" or app.quiet:
        app.emit(result)
        return
    # People get one section per part; JSON (above) is the form for machines.
    head = {k: v for k, v in result.items()
            if k not in ("items", "incomes", "instalments", "problems")}
    sections = [("", head),
                (N_("pay"), [{k: i[k] for k in _ITEM_COLUMNS} for i in result["items"]]),
                (N_("income"), result["incomes"]),
                (N_("instalments"), result["instalments"] or [])]
    if result["problems"]:
        sections.append((N_("does not add up"), [{"month": p} for p in result["problems"]]))
    specs = {"pay": tables.PLAN_PAY, "income": tables.PLAN_INCOMES}
    parts = []
    for title, data in sections:
        text = render(data, app.format, specs.get(title), wide=app.wide, headers=tables.HEADERS)
        if app.format == "table" and title:
            text = f"{_(title)}\n{text}"
        parts.append(text)
    click.echo("\n\n".join(parts))


@plan_group.command("approve")
@click.argument("client")
@version_option
@click.option("--despite", default=None, metavar="REASON",
              help=N_("Approve a plan that does not add up, for this reason (recorded)."))
@pass_app
def plan_approve(app: App, client: str, version: int | None, despite: str | None) -> None:
    """Approve a plan version: the handler's decision; a plan pays nothing before.

    A plan that does not add up (the daily batch, run forward over its coming twelve months
    with the expected incomes, would pay a rent or bill late or in part, or less than the
    minimum instalments: plan show lists the months) is approved only with --despite and a
    reason. Without an intraday statement (setting intraday_statements) a warning names each
    rent of the coming twelve months that its money, seen a day late, would pay after the
    legal due date.

    \b
    Example:
      valitystili plan approve 1
      valitystili plan approve 2 --despite "rent debt plan agreed with the landlord"
    """
    from valitystili.oversight import plan_check

    with app.unit() as (session, actor):
        result = plan_check.approve_plan(session, actor, client, version, despite=despite)
    for warning in result["warnings"]:
        warn(warning)
    app.emit(result)


@plan_group.command("kela-share")
@click.argument("client")
@click.option("--month", required=True, type=MONTH, help=N_("The rent's month, e.g. 2026-11."))
@click.option("--amount", type=AMOUNT, required=True,
              help=N_("Kela's share in euros, as in its decision (150,00 or 150.00)."))
@pass_app
def plan_kela_share(app: App, client: str, month: tuple[int, int], amount: int) -> None:
    """Record the part of a month's rent Kela pays the landlord, from Kela's decision.

    The account pays the rest of that month's rent, never the whole; recording the month
    again replaces its share. An obligation the account has already paid beyond the rest
    is refused: the landlord must return the overpayment first.

    \b
    Example:
      valitystili plan kela-share 1 --month 2026-11 --amount 150,00
    """
    from valitystili.plans import kela

    with app.unit() as (session, actor):
        recorded = kela.record_share(session, actor, client, month, amount)
    app.emit(recorded.row())


# --- bills --------------------------------------------------------------------------------------


@click.group("bill")
def bill_group() -> None:
    """Bills for plan items marked bills = true (electricity, water …)."""


@bill_group.command("add")
@click.argument("client")
@click.option("--payee", required=True, help=N_("Payee name or id."))
@click.option("--amount", type=AMOUNT, required=True, help=N_("Amount in euros (45,20 or 45.20)."))
@click.option("--due", type=DATE, required=True, help=N_("Due date."))
@click.option("--reference", default=None, help=N_("Finnish or RF reference on the bill."))
@click.option("--message", default=None, help=N_("Message, when the bill has no reference."))
@pass_app
def bill_add(app: App, client: str, payee: str, amount: int, due: date,
             reference: str | None, message: str | None) -> None:
    """Enter a bill to be paid from the client's account (handler).

    \b
    Example:
      valitystili bill add 1 --payee "Vaasan Sähkö Oy" --amount 45,20 --due 15.12.2026 \\
          --reference RF18539007547034
    """
    from valitystili.plans import bills

    notes: list[str] = []
    with app.unit() as (session, actor):
        added = bills.add_bill(session, actor, client, payee=payee, amount_cents=amount,
                               due_on=due, reference=reference, message=message,
                               today=date.today(), notes=notes)
    app.notes(notes)
    app.emit(added)


@bill_group.command("list")
@click.argument("client")
@pass_app
def bill_list(app: App, client: str) -> None:
    """List a client's bills (the view is audited).

    \b
    Example:
      valitystili bill list 1
    """
    from valitystili.plans import bills

    with app.unit() as (session, actor):
        app.emit(bills.list_bills(session, actor, client), tables.BILLS)
