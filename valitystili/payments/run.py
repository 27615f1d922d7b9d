"""The day's run: every active client planned (``decision``) and stored as draft orders.

See the package docstring (``valitystili.payments``) for the rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, NotFound
from valitystili.base.i18n import _
from valitystili.flags.raising import raise_flags, resolve_flags
from valitystili.payments import manual
from valitystili.payments.batches import batch_state, held_for_day, serialise
from valitystili.payments.decision import (
    HORIZON_DAYS,
    ClientDay,
    ComingIncome,
    Instalments,
    OpenObligation,
    decide_client,
)
from valitystili.payments.pain001 import order_id
from valitystili.payments.parts import DayPart, concerns, day_parts, whole_day
from valitystili.people.periods import WAITING, payout_targets
from valitystili.plans.expected import INCOME_LOOKBACK_DAYS, unreceived
from valitystili.plans.obligations import LOOKBACK_DAYS, ensure_obligations, last_day
from valitystili.plans.versions import approved_versions, in_force
from valitystili.store.chunks import fetch_rows, fetch_rows_of, insert_rows, select_in
from valitystili.store.models import (
    BankAccount,
    Client,
    Obligation,
    Payee,
    PaymentBatch,
    PaymentOrder,
)
from valitystili.trust import access, audit
from valitystili.trust.auth import Actor

#: Final payouts, as a literal: SQLite uses the partial index of them (``ix_payment_orders_final``)
#: only for a condition written as the index's own.
FINAL = literal_column("'final'")


def _bank_account(session: Session, iban: str | None) -> BankAccount:
    query = select(BankAccount).order_by(BankAccount.id)
    if iban:
        query = query.where(BankAccount.iban == iban.replace(" ", "").upper())
    account = session.execute(query.limit(1)).scalar_one_or_none()
    if account is None:
        raise NotFound(_("no bank account {iban}").format(iban=iban) if iban else
                       _("no bank account: add the city's account with `valitystili bank add`"))
    return account


def run_batch(session: Session, actor: Actor, run_on: date, *, dry_run: bool = False,
              iban: str | None = None, calendar: BankingCalendar = CALENDAR) -> dict:
    """The day's batch: read (``load_day``), decide (``decide_day``, pure), then store — a part
    of the clients at a time (``parts.day_parts``), all in the caller's one transaction.

    A dry run reads and decides the same way and stores nothing: the obligations the reading
    generates are rolled back with their savepoint, so no batch or order number is used up by
    looking; the view of the clients it showed is logged.

    A run on a closed day (a weekend, a bank holiday) is a dry run (DESIGN §6): nothing is
    paid from a day the bank is shut, and the next banking day's run sees that day's money."""
    actor.require("batch.run")
    serialise(session)
    bank = _bank_account(session, iban)
    execution_on = calendar.on_or_after(run_on)
    closed_day = execution_on != run_on
    run = DayRun(actor, bank, run_on, execution_on, dry_run or closed_day)
    savepoint = session.begin_nested()
    try:
        # The day's open draft, locked before anything is read: an approval that got there
        # first has finished (the row is no longer a draft and a new batch is opened).
        run.batch = None if run.dry_run else _locked_draft(session, bank, execution_on)
        for part in day_parts(session, execution_on):
            _run_part(session, run, part, calendar)
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    result = run.result()
    result["closed_day"] = closed_day
    # Nothing new: what the day's batches already hold ("batch 3 already holds 2 payments").
    result["already_held"] = held_for_day(session, bank.id, execution_on) if not run.orders else ""
    if run.dry_run:
        savepoint.rollback()
        shown = {row["client"] for row in result["order_rows"] if row["client"] is not None}
        shown |= {notice["client_id"] for notice in result["notices"]}
        access.record_view(session, actor, "batch.dry_run", shown,
                           subject=f"execution {execution_on.isoformat()}",
                           detail={"orders": result["orders"],
                                   "total_cents": result["total_cents"]})
        return result
    savepoint.commit()
    detail = {"orders": result["orders"], "total_cents": result["total_cents"],
              "execution_on": execution_on.isoformat()}
    batch = run.batch
    if batch is not None:
        detail["state"] = batch_state(session, batch)
    subject = batch.key if batch is not None else f"execution {execution_on.isoformat()}"
    audit.record(session, actor.name, "batch.run", subject=subject, detail=detail)
    return result


def _run_part(session: Session, run: DayRun, part: DayPart,
              calendar: BankingCalendar) -> None:
    """Read, decide and (unless the run is dry) store one part of the day's clients. What was
    read, and the part's order rows, are let go when it returns."""
    day = load_day(session, run.execution_on, calendar, part)
    decided = decide_day(day, run.execution_on, calendar)
    orders, paid = _orders_of(day, decided, run.batch.id if run.batch else None,
                              run.execution_on, run.actor)
    if not run.dry_run and run.batch is None and orders:
        # A batch is opened only for something to pay: a run adding nothing leaves none.
        run.batch = _new_batch(session, run.actor, run.bank, run.run_on, run.execution_on)
        for order in orders:
            order["batch_id"] = run.batch.id
    if not run.dry_run:
        _store(session, day, decided, orders, paid, run.run_on)
    run.add(day, decided, orders)


class DayRun:
    """One run of the day's batch while its parts go by: the batch it adds to (opened with its
    first order) and what its result tells of every part."""

    def __init__(self, actor: Actor, bank: BankAccount, run_on: date, execution_on: date,
                 dry_run: bool) -> None:
        self.actor, self.bank, self.run_on = actor, bank, run_on
        self.execution_on, self.dry_run = execution_on, dry_run
        self.batch: PaymentBatch | None = None
        self.orders = 0
        self.totals: dict[str, int] = defaultdict(int)
        self.order_rows: list[dict] = []
        self.notices: list[dict] = []
        self.obligations_created = 0

    def add(self, day: DayInputs, decided: DayDecision, orders: list[dict]) -> None:
        self.orders += len(orders)
        for order in orders:
            self.totals[order["kind"]] += order["amount_cents"]
        self.order_rows += map(_planned_row, orders)
        self.notices += (asdict(n) for n in decided.notices)
        self.obligations_created += day.obligations_created

    def result(self) -> dict:
        batch = self.batch
        return {
            "batch": batch.id if batch else None, "batch_key": batch.key if batch else None,
            "run_on": self.run_on, "execution_on": self.execution_on,
            "orders": self.orders, "total_cents": sum(self.totals.values()),
            "by_kind_cents": dict(sorted(self.totals.items())),
            "obligations_created": self.obligations_created, "flags": len(self.notices),
            "dry_run": self.dry_run, "order_rows": self.order_rows, "notices": self.notices,
        }


@dataclass(frozen=True)
class DayInputs:
    """What one run reads: everything ``decide_day`` needs, nothing it would have to look up."""

    clients: dict[int, Any]                      # open clients and closed ones paid out
    available: dict[int, int]                    # balance less orders not yet debited
    obligations: dict[int, Any]                  # open obligations by id
    obligations_of: dict[int, tuple]             # open obligations by client
    earlier_orders: dict[int, int]               # orders each open obligation has had
    plans: dict[int, Any]                        # the plan version in force by client
    incomes: dict[int, tuple[tuple[date, int, str], ...]]  # (counts on, cents, kind) by plan
    paid_instalments: dict[int, frozenset[date]]
    removed_instalments: dict[tuple[int, date], int]
    payees: dict[int, Any]
    final_orders: dict[int, int]
    obligations_created: int = 0
    manual: tuple = ()                           # payments asked for by hand (``manual``)
    payouts: dict[int, Any] = field(default_factory=dict)   # final payouts to someone else


@dataclass(frozen=True)
class DayDecision:
    """What the run decided: the payments, the flags' notices and the final payouts."""

    payments: tuple = ()
    notices: tuple = ()
    finals: tuple = ()                           # (client, amount) of final payouts
    manual: tuple = ()                           # the requests paid by hand (``manual``)


def load_day(session: Session, execution_on: date, calendar: BankingCalendar,
             part: DayPart | None = None) -> DayInputs:
    """Read what the day's decisions need of the clients of ``part`` (default: all of them),
    generating their obligations that entered the horizon."""
    part = part or whole_day(session)
    horizon = execution_on + timedelta(days=HORIZON_DAYS)
    generated = ensure_obligations(session, execution_on - timedelta(days=LOOKBACK_DAYS), horizon,
                                   calendar=calendar, client_ids=part.client_ids)
    clients = _day_clients(session, execution_on, part)
    obligations_of: dict[int, list] = defaultdict(list)
    for obligation in fetch_rows_of(session, select(
            Obligation.id, Obligation.key, Obligation.client_id, Obligation.kind,
            Obligation.payee_id, Obligation.amount_cents, Obligation.paid_cents, Obligation.due_on,
            Obligation.pay_on, Obligation.reference, Obligation.reference_kind,
            Obligation.message, Obligation.allow_partial).where(
            Obligation.status == "open", Obligation.pay_on <= horizon),
            Obligation.client_id, part.client_ids):
        obligations_of[obligation.client_id].append(obligation)
    # The versions ensure_obligations read (clients open or closed in the lookback), and those
    # of the clients closed before it that the day still pays out.
    versions = {client_id: generated["versions"][client_id] for client_id in clients
                if client_id in generated["versions"]}
    versions.update(approved_versions(session, [client_id for client_id in clients
                                                if client_id not in generated["versions"]]))
    plans = {client_id: plan for client_id, v in versions.items()
             if (plan := in_force(v, execution_on)) is not None}
    paid_instalments, removed_instalments = _instalments_ordered(session, execution_on, horizon,
                                                                 part.client_ids)
    return DayInputs(
        clients=clients,
        available={client_id: part.balances.get(client.ledger_code, 0)
                   - part.pending.get(client_id, 0) for client_id, client in clients.items()},
        obligations={o[0]: o for rows in obligations_of.values() for o in rows},
        obligations_of={client_id: tuple(rows) for client_id, rows in obligations_of.items()},
        earlier_orders=_earlier_orders(
            session, [o.id for rows in obligations_of.values() for o in rows]),
        plans=plans,
        incomes=_incomes(session, versions, plans, execution_on, calendar, part.client_ids),
        paid_instalments={c: frozenset(days) for c, days in paid_instalments.items()},
        removed_instalments=dict(removed_instalments),
        payees={p.id: p for p in fetch_rows(session,
            select(Payee.id, Payee.payment_name, Payee.iban, Payee.bic))},
        final_orders=dict(fetch_rows_of(
            session, select(PaymentOrder.client_id, func.count()).where(PaymentOrder.kind == FINAL)
            .group_by(PaymentOrder.client_id), PaymentOrder.client_id, part.client_ids)),
        obligations_created=generated["created"],
        manual=part.manual,
        payouts=payout_targets(session, [c for c, row in clients.items()
                                         if row.status == "closed"]))


#: The columns of a client the day's run reads.
CLIENT_COLUMNS = (Client.id, Client.payment_name, Client.iban, Client.bic, Client.status,
                  Client.final_payout, Client.ledger_code, Client.until_on, Client.closed_on)


def _day_clients(session: Session, execution_on: date, part: DayPart) -> dict[int, Any]:
    """The part's clients the day concerns: those ``concerns`` names, and closed ones holding
    money (it is paid on to them)."""
    clients = {c.id: c for c in fetch_rows_of(session, select(*CLIENT_COLUMNS).where(
        concerns(execution_on)), Client.id, part.client_ids)}
    known = {client.ledger_code for client in clients.values()}
    holding = [code for code, cents in part.balances.items() if cents > 0 and code not in known]
    for client in select_in(session, select(*CLIENT_COLUMNS), Client.ledger_code, holding):
        clients[client.id] = client
    return clients


def decide_day(day: DayInputs, execution_on: date, calendar: BankingCalendar) -> DayDecision:
    """Each client's payments for the day (DESIGN §6), from what ``load_day`` read. Pure.

    A closed client's service runs to the close date; after it, whatever the client holds is
    paid on to them (the final payout), whether or not it was recorded at closing — or to the
    payee named at closing once a second handler approved it (``people.periods``). Payments
    asked for by hand come first (``manual``)."""
    paid_by_hand, taken, waiting = manual.decide(day.manual, day.available)
    payments, notices, finals = [], list(waiting), []
    for client_id, client in sorted(day.clients.items()):
        available = day.available[client_id] - taken.get(client_id, 0)
        plan = day.plans.get(client_id)
        if client.status == "closed" and (plan is None or client.closed_on < execution_on):
            if available > 0:
                finals.append((client, available))
            continue
        if plan is None:
            continue
        schedule = None
        if plan.instalment_schedule:
            schedule = Instalments(plan.instalment_schedule, plan.instalment_mode,
                                   plan.instalment_cents, plan.keep_cents or 0,
                                   plan.minimum_cents or 0)
        decided = decide_client(ClientDay(
            client_id=client_id, available_cents=available,
            obligations=tuple(
                _open(o, day.earlier_orders) for o in day.obligations_of.get(client_id, ())),
            instalments=schedule,
            incomes=coming_incomes(day.incomes.get(plan.id, ()), execution_on, calendar),
            paid_instalment_dates=day.paid_instalments.get(client_id, frozenset()),
            last_day=last_day(client)),
            execution_on, calendar)
        payments.extend(decided.payments)
        notices.extend(decided.notices)
        if decided.final_cents:
            finals.append((client, decided.final_cents))
    finals = [(client, cents) for client, cents in finals
              if getattr(day.payouts.get(client.id), "status", None) != WAITING]
    return DayDecision(tuple(payments), tuple(notices), tuple(finals), paid_by_hand)


def _open(row, earlier_orders: dict[int, int]) -> OpenObligation:
    """An open obligation as the decision sees it, from a row of ``load_day``'s obligations
    (by position: ``row.id`` by name costs a lookup per field, 60,000 rows a day)."""
    id_, key, _client, kind, _payee, amount, paid, due_on, pay_on, *_, allow_partial = row
    return _new(OpenObligation, (id_, key, kind, amount - paid, due_on, pay_on, allow_partial,
                                 earlier_orders.get(id_, 0)))


_new = tuple.__new__


def _earlier_orders(session: Session, obligation_ids: list[int]) -> dict[int, int]:
    """How many orders each open obligation has had (they number its further orders). Driven by
    the open obligations (a few per client), never by the orders of past years."""
    return dict(select_in(session, select(PaymentOrder.obligation_id, func.count())
                          .group_by(PaymentOrder.obligation_id),
                          PaymentOrder.obligation_id, obligation_ids))


def _instalments_ordered(session: Session, execution_on: date, horizon: date,
                         client_ids: Sequence[int] | None
                         ) -> tuple[dict[int, set[date]], dict[tuple[int, date], int]]:
    """Instalment dates already ordered per client (of ``client_ids``, or all), and how often
    each (client, date) was taken out (a removed instalment is planned again under a further
    key)."""
    ordered: dict[int, set[date]] = defaultdict(set)
    removed: dict[tuple[int, date], int] = defaultdict(int)
    for client_id, on, status in fetch_rows_of(
            session, select(PaymentOrder.client_id, PaymentOrder.instalment_on,
                            PaymentOrder.status).where(
                PaymentOrder.instalment_on.between(execution_on - timedelta(days=14), horizon)),
            PaymentOrder.client_id, client_ids):
        if status == "cancelled":
            removed[client_id, on] += 1
        else:
            ordered[client_id].add(on)
    return ordered, removed


@lru_cache(maxsize=4096)
def coming_incomes(incomes: tuple[tuple[date, int, str], ...], execution_on: date,
                   calendar: BankingCalendar) -> tuple[ComingIncome, ...]:
    """The incomes still to come that the reserve and the even split count: those ``_incomes``
    found not received, counting on E or later, within ``HORIZON_DAYS`` (the reserve looks
    past its ``RESERVE_DAYS`` to the first income after them).

    ``calendar`` is not needed here any more (the days were counted when reading); cached:
    clients with the same incomes in the same state share one answer."""
    end = execution_on + timedelta(days=HORIZON_DAYS)
    return tuple(ComingIncome(on, cents, kind) for on, cents, kind in incomes
                 if execution_on <= on <= end)


def _incomes(session: Session, versions: dict[int, list], plans: dict[int, Any],
             execution_on: date, calendar: BankingCalendar, client_ids: Sequence[int] | None
             ) -> dict[int, tuple[tuple[date, int, str], ...]]:
    """(day it counts on, amount, kind) of each expected arrival not received by E, under the id
    of the client's plan in force on E, in date order (DESIGN §6, "Incomes that are late or never
    come"; ``plans.expected`` rules).

    "Received" is the pairing the *income missing* flag uses (``expected.unreceived``, the rule
    of ``income_receipts``, a few queries for all clients), so money already in the balance is
    never counted again. An arrival counting before E that has not come is missing: it is left out, and the reserve and
    the even split use the incomes after it. A benefit without a fixed day counts ``late_days``
    banking days after its expected day."""
    waiting = unreceived(session, execution_on - timedelta(days=INCOME_LOOKBACK_DAYS),
                         execution_on + timedelta(days=HORIZON_DAYS), execution_on, calendar,
                         closed_from=execution_on, versions=versions, client_ids=client_ids)
    coming: dict[int, list[tuple[date, int, str]]] = defaultdict(list)
    for client_id, arrivals in waiting.items():
        plan = plans.get(client_id)
        if plan is not None:
            coming[plan.id] += [(arrival.counted_on, arrival.amount_cents, arrival.kind)
                                for arrival in arrivals if arrival.counted_on >= execution_on]
    return {plan_id: tuple(sorted(found)) for plan_id, found in coming.items()}


def _orders_of(day: DayInputs, decided: DayDecision, batch_id: int | None, execution_on: date,
               actor: Actor) -> tuple[list[dict], list[dict]]:
    """The day's payments as order rows, and the obligations' new paid amounts."""
    orders: list[dict] = []
    paid: list[dict] = []
    common = dict(batch_id=batch_id, execution_on=execution_on, status="draft",
                  obligation_id=None, payee_id=None, reference=None, reference_kind=None,
                  instalment_on=None, created_by=actor.name)
    orders.extend(manual.order_rows(decided.manual, common))
    for payment in decided.payments:
        client = day.clients[payment.client_id]
        key = payment.key
        if day.removed_instalments.get((client.id, payment.instalment_on)):
            key = f"{key}:{day.removed_instalments[client.id, payment.instalment_on]}"
        order = dict(common, key=key, end_to_end_id=order_id(key, execution_on),
                     client_id=client.id, amount_cents=payment.amount_cents)
        if payment.obligation_id is not None:
            obligation = day.obligations[payment.obligation_id]
            payee = day.payees[obligation.payee_id]
            order.update(
                obligation_id=obligation.id, kind=obligation.kind, payee_id=payee.id,
                creditor_name=payee.payment_name, creditor_iban=payee.iban, creditor_bic=payee.bic,
                reference=obligation.reference, reference_kind=obligation.reference_kind,
                message=None if obligation.reference else (obligation.message or obligation.key))
            total_paid = obligation.paid_cents + payment.amount_cents
            paid.append({"obligation_id": obligation.id, "paid": total_paid,
                         "status": "settled" if total_paid >= obligation.amount_cents else "open"})
        else:
            order.update(
                kind="instalment", creditor_name=client.payment_name, creditor_iban=client.iban,
                creditor_bic=client.bic, instalment_on=payment.instalment_on,
                message=f"Välitystili {format_fi_date(payment.instalment_on)}")
        orders.append(order)
    for client, amount in decided.finals:
        key = f"order:final:{client.id}:{day.final_orders.get(client.id, 0) + 1}"
        to = day.payouts.get(client.id)        # approved: a guardian or an estate
        name, iban, bic = ((to.payment_name, to.iban, to.bic) if to is not None
                           else (client.payment_name, client.iban, client.bic))
        orders.append(dict(
            common, key=key, end_to_end_id=order_id(key, execution_on), client_id=client.id,
            kind="final",
            creditor_name=name, creditor_iban=iban, creditor_bic=bic,
            amount_cents=amount, message="Välitystili: loppumaksu"))
    return orders, paid


def _store(session: Session, day: DayInputs, decided: DayDecision, orders: list[dict],
           paid: list[dict], run_on: date) -> None:
    """Write the orders, the obligations they pay, and the flags of what could not be paid."""
    if orders:
        insert_rows(session, PaymentOrder.__table__, orders)
        manual.mark_ordered(session, decided.manual)
    if paid:
        table = Obligation.__table__
        session.execute(table.update().where(table.c.id == bindparam("obligation_id"))
                        .values(paid_cents=bindparam("paid"), status=bindparam("status")), paid)
    # Flags: what the batch saw now replaces what it saw before for the clients it judged.
    judged = list(day.clients)
    raise_flags(session, decided.notices, run_on)
    for kind in ("insufficient_funds", "arrears"):
        resolve_flags(session, kind, run_on, client_ids=judged,
                      keep={n.subject for n in decided.notices if n.kind == kind})


def _locked_draft(session: Session, bank: BankAccount, execution_on: date) -> PaymentBatch | None:
    """The open draft batch for this execution day and account, locked; None when there is none."""
    batch = session.execute(
        select(PaymentBatch).where(
            PaymentBatch.execution_on == execution_on, PaymentBatch.bank_account_id == bank.id,
            PaymentBatch.status == "draft")
        .with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
    if batch is not None and batch.status != "draft":    # pragma: no cover - the lock re-checks
        raise Conflict(_("batch {batch} is {status}").format(batch=batch.id,
                                                             status=batch.status))
    return batch


def _new_batch(session: Session, actor: Actor, bank: BankAccount, run_on: date,
               execution_on: date) -> PaymentBatch:
    count = session.execute(select(func.count()).select_from(PaymentBatch).where(
        PaymentBatch.execution_on == execution_on,
        PaymentBatch.bank_account_id == bank.id)).scalar_one()
    batch = PaymentBatch(key=f"batch-{execution_on.isoformat()}-{bank.id}-{count + 1}",
                         run_on=run_on, execution_on=execution_on, bank_account_id=bank.id,
                         status="draft", created_by=actor.name)
    session.add(batch)
    session.flush()
    return batch


def _planned_row(order: dict) -> dict:
    return {
        "client": order["client_id"], "kind": order["kind"], "payee": order["creditor_name"],
        "iban": order["creditor_iban"], "amount_cents": order["amount_cents"],
        "reference": order["reference"], "message": order["message"],
        "execution_on": order["execution_on"], "key": order["key"],
    }
