"""What the demo's summary says about its months, computed from the database the run left.

Rules of this module (each in one function):

- A client has a **covering plan** when the plan check of DESIGN §5
  (``oversight.plan_check.stored_plan_problems``) found no problem in any approved version of
  their plan: approval runs the check and records a version that does not add up as approved
  ``--despite`` a reason (``plans.approve_plan``), so no version of theirs was approved despite.
- A **month without instalments** is a calendar month of the run in which a client with a
  covering plan has no instalment order (in any state but cancelled) executed.
- The demo's **short clients** are those whose plan was approved despite not adding up
  (``plan approve --despite``). Their **rent due** is their rent obligations with a pay day in
  the run, their **rent paid** the rent orders executed in the run (neither cancelled nor
  returned); a rent is **paid in part on its pay day** when the orders executed up to that day
  left some of it open.
- **The summary's words**: ``reconcile_line`` says what a clean reconciliation means next to the
  open flags (flags are work for people, not errors in the books); ``look_around_lines`` give
  the commands to look at the demo's ledger as its handler. The lines speak the current
  language; ``demo/run.py`` makes them in English for the returned summary (JSON) and in the
  reader's language only for the command's table.
- **Idle money**: after a banking day's batch is approved (the approval debits the clients), a
  short client's balance while a rent of theirs whose pay day has come is still open. The batch pays such a rent with all there is (DESIGN §6
  step 1, worked example 3) and the demo's plans hold back no ``minimum``, so anything above
  0,00 € is money that sat idle. ``idle_after_batch`` is asked after every day's batch.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.accounts import client_account
from valitystili.base.i18n import _, ngettext
from valitystili.base.money import format_fi
from valitystili.store.models import Obligation, PaymentOrder, Plan

NOT_MADE = ("cancelled",)                  # an order in these states made no instalment
NOT_PAID = ("draft", "cancelled", "returned")  # a rent order in these states paid nothing
RENT = "rent"
INSTALMENT = "instalment"


@dataclass(frozen=True)
class MonthWithout:
    """A client with a covering plan and a month of the run without an instalment order."""

    client: int
    month: str                # YYYY-MM


@dataclass(frozen=True)
class IdleMoney:
    """A short client's balance left after a day's batch while their rent was open."""

    client: int
    day: date
    balance_cents: int


@dataclass(frozen=True)
class ShortOfRent:
    """The demo's clients short of the rent, over the run."""

    clients: tuple[int, ...]
    rent_due_cents: int
    rent_paid_cents: int
    rents_due: int
    rents_in_part: int        # rents left partly open at the end of their pay day
    days_watched: int         # (client, banking day) pairs with the rent open after the batch
    idle: tuple[IdleMoney, ...]


def covering_clients(session: Session) -> list[int]:
    """Clients every approved version of whose plan adds up (none approved despite; the check
    ran at approval: running it again for every client cost the demo a tenth of its time)."""
    approved = set(session.execute(
        select(Plan.client_id).where(Plan.approved_at.is_not(None))).scalars())
    return sorted(approved - set(short_clients(session)))


def short_clients(session: Session) -> list[int]:
    """Clients with a plan version approved despite not adding up."""
    return list(session.execute(
        select(Plan.client_id).where(Plan.approved_despite.is_not(None)).distinct()
        .order_by(Plan.client_id)).scalars())


def months_of(start: date, end: date) -> list[str]:
    """The calendar months from ``start`` to ``end`` as YYYY-MM."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(f"{month:%Y-%m}")
        month += relativedelta(months=1)
    return months


def months_without_instalments(session: Session, clients: list[int], start: date,
                               end: date) -> list[MonthWithout]:
    """(client, month) pairs of the run in which the client had no instalment order."""
    made = {(client, f"{on:%Y-%m}") for client, on in session.execute(
        select(PaymentOrder.client_id, PaymentOrder.execution_on)
        .where(PaymentOrder.kind == INSTALMENT, PaymentOrder.status.not_in(NOT_MADE),
               PaymentOrder.execution_on.between(start, end)))}
    return [MonthWithout(client, month) for client in clients for month in months_of(start, end)
            if (client, month) not in made]


def idle_after_batch(session: Session, clients: list[int], day: date) -> tuple[int, list[IdleMoney]]:
    """How many of ``clients`` have a rent open whose pay day has come, after ``day``'s batch,
    and the balances they hold meanwhile above 0,00 €."""
    if not clients:
        return 0, []
    waiting = list(session.execute(
        select(Obligation.client_id).where(
            Obligation.client_id.in_(clients), Obligation.kind == RENT, Obligation.pay_on <= day,
            Obligation.paid_cents < Obligation.amount_cents, Obligation.status == "open")
        .distinct().order_by(Obligation.client_id)).scalars())
    idle = [IdleMoney(client, day, balance) for client in waiting
            if (balance := ledger.balance(session, client_account(client))) > 0]
    return len(waiting), idle


def short_of_rent(session: Session, clients: list[int], start: date, end: date,
                  days_watched: int, idle: list[IdleMoney]) -> ShortOfRent:
    """The rent of ``clients`` due and paid in the run, with what the days' watch found."""
    rents = session.execute(
        select(Obligation.id, Obligation.amount_cents, Obligation.pay_on)
        .where(Obligation.client_id.in_(clients), Obligation.kind == RENT,
               Obligation.pay_on.between(start, end))).all() if clients else []
    return ShortOfRent(
        clients=tuple(clients), rent_due_cents=sum(r.amount_cents for r in rents),
        rent_paid_cents=_rent_paid(session, clients, start, end),
        rents_due=len(rents), rents_in_part=sum(
            _paid_by(session, r.id, r.pay_on) < r.amount_cents for r in rents),
        days_watched=days_watched, idle=tuple(idle))


def _rent_paid(session: Session, clients: list[int], start: date, end: date) -> int:
    if not clients:
        return 0
    return int(session.execute(
        select(func.coalesce(func.sum(PaymentOrder.amount_cents), 0))
        .where(PaymentOrder.client_id.in_(clients), PaymentOrder.kind == RENT,
               PaymentOrder.status.not_in(NOT_PAID),
               PaymentOrder.execution_on.between(start, end))).scalar_one())


def _paid_by(session: Session, obligation_id: int, day: date) -> int:
    """What the orders executed up to ``day`` paid of one obligation."""
    return int(session.execute(
        select(func.coalesce(func.sum(PaymentOrder.amount_cents), 0))
        .where(PaymentOrder.obligation_id == obligation_id, PaymentOrder.status.not_in(NOT_PAID),
               PaymentOrder.execution_on <= day)).scalar_one())


# --- the summary's lines ------------------------------------------------------------------------


def instalment_line(covering: int, missing: list[MonthWithout]) -> str:
    """One line: did every client with a covering plan get instalments every month?"""
    if not missing:
        return _("no client with a covering plan had a month without instalments")
    clients = sorted({m.client for m in missing})
    listed = ", ".join(f"{m.client} ({m.month})" for m in missing)
    return ngettext("{missing} of {count} client with a covering plan had a month without "
                    "instalments: {listed}",
                    "{missing} of {count} clients with a covering plan had a month without "
                    "instalments: {listed}", covering).format(missing=len(clients),
                                                              count=covering, listed=listed)


def short_line(short: ShortOfRent) -> str:
    """One line: how the clients short of the rent fared."""
    if not short.clients:
        return _("no client's plan was approved despite being short of the rent")
    rent = ngettext(
        "{count} client short of the rent (plan approved despite it): rent paid in part, {paid} "
        "of {due} due in the run, {in_part} of {rents} rents short on their pay day",
        "{count} clients short of the rent (plan approved despite it): rent paid in part, {paid} "
        "of {due} due in the run, {in_part} of {rents} rents short on their pay day",
        len(short.clients)).format(count=len(short.clients), paid=format_fi(short.rent_paid_cents),
                                   due=format_fi(short.rent_due_cents),
                                   in_part=short.rents_in_part, rents=short.rents_due)
    if not short.idle:
        return _("{rent}; no money sat idle: on each of the {days} days a batch left their rent "
                 "open, their balance after it was 0,00 €").format(rent=rent,
                                                                  days=short.days_watched)
    listed = ", ".join(_("{client} on {day} ({balance})").format(
        client=i.client, day=i.day.isoformat(), balance=format_fi(i.balance_cents))
        for i in short.idle)
    return _("{rent}; money sat idle while rent was open: {listed}").format(rent=rent,
                                                                          listed=listed)


def reconcile_line(clean: bool, findings: int, flags: dict[str, int]) -> str:
    """One line: what the reconciliation result means next to the open flags."""
    open_flags = sum(flags.values())
    if not clean:
        books = ngettext("{count} finding: the books and the bank differ; `valitystili "
                         "reconcile` lists them",
                         "{count} findings: the books and the bank differ; `valitystili "
                         "reconcile` lists them", findings).format(count=findings)
    else:
        books = _("the books agree with the bank and with themselves to the cent")
    if not open_flags:
        return _("{books}; no flag is open").format(books=books)
    return ngettext("{books}; the {count} open flag is work for people (a handler follows each "
                    "one up), not errors in the books",
                    "{books}; the {count} open flags are work for people (a handler follows "
                    "each one up), not errors in the books", open_flags).format(
        books=books, count=f"{open_flags:,}".replace(",", "\u00a0"))


def letters_line(count: int, folder: Path, month: date) -> str:
    """Where the clients' letters are."""
    return _("{folder}: each client's letter for {month} as text and as a page to print "
             "(letter-0001-{month}.txt, .html; {clients})").format(
        folder=folder, month=f"{month:%Y-%m}",
        clients=ngettext("{count} client", "{count} clients", count).format(count=count))


def look_around_lines(database: str) -> dict[str, str]:
    """The commands to look around the demo's ledger as its handler, one a line (a table wraps
    a long value, and a command broken over two lines would not run)."""
    return {"look_around": f"export VALITYSTILI_DB={shlex.quote(database)}",
            "then": "VALITYSTILI_USER=hannu valitystili flags"}

