"""The day's run: every active client planned (``decision``) and stored as draft orders.

See the package docstring (``valitystili.payments``) for the rules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, NotFound
from valitystili.flags.raising import raise_flag, resolve_flags
from valitystili.payments.batches import batch_state, serialise
from valitystili.payments.decision import (
    ClientDay,
    Instalments,
    OpenObligation,
    plan_client,
)
from valitystili.payments.pain001 import make_id
from valitystili.plans.expected import next_arrival
from valitystili.plans.obligations import LOOKBACK_DAYS, ensure_obligations
from valitystili.plans.versions import approved_versions, in_force
from valitystili.store.models import (
    BankAccount,
    Client,
    Obligation,
    Payee,
    PaymentBatch,
    PaymentOrder,
    PlanIncome,
)
from valitystili.trust import access, audit
from valitystili.trust.auth import Actor

HORIZON_DAYS = 45

#: Ids per ``IN (...)`` list: well under SQLite's and PostgreSQL's parameter limits.
IN_CHUNK = 5000


class _DryRun(Exception):
    pass


def _bank_account(session: Session, iban: str | None) -> BankAccount:
    query = select(BankAccount).order_by(BankAccount.id)
    if iban:
        query = query.where(BankAccount.iban == iban.replace(" ", "").upper())
    account = session.execute(query.limit(1)).scalar_one_or_none()
    if account is None:
        raise NotFound(f"no bank account {iban}" if iban else
                       "no bank account: add the city's account with `valitystili bank add`")
    return account


def run_batch(session: Session, actor: Actor, run_on: date, *, dry_run: bool = False,
              iban: str | None = None, calendar: BankingCalendar = CALENDAR) -> dict:
    actor.require("batch.run")
    serialise(session)
    bank = _bank_account(session, iban)
    execution_on = calendar.on_or_after(run_on)
    savepoint = session.begin_nested()
    try:
        result = _run(session, actor, bank, run_on, execution_on, calendar, dry_run=dry_run)
        if dry_run:
            raise _DryRun
    except _DryRun:
        # Obligations generated for the plan are rolled back; nothing else was written, so no
        # batch number or order number is used up by looking.
        savepoint.rollback()
        shown = {row["client"] for row in result["order_rows"]}
        shown |= {notice["client_id"] for notice in result["notices"]}
        access.record_view(session, actor, "batch.dry_run", shown,
                           subject=f"execution {execution_on.isoformat()}",
                           detail={"orders": result["orders"],
                                   "total_cents": result["total_cents"]})
        return result
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    savepoint.commit()
    return result


@dataclass
class _Day:
    """What one run reads and decides, before anything is stored."""

    clients: dict[int, Any]
    obligations: dict[int, Any]                 # open obligations by id
    payees: dict[int, Any]
    payments: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    finals: list = field(default_factory=list)  # (client, amount) of final payouts
    final_orders: dict[int, int] = field(default_factory=dict)
    removed_instalments: dict[tuple[int, date], int] = field(default_factory=dict)
    obligations_created: int = 0


def _run(session: Session, actor: Actor, bank: BankAccount, run_on: date, execution_on: date,
         calendar: BankingCalendar, *, dry_run: bool) -> dict:
    # The day's open draft, locked before anything is read: an approval that got there first
    # has finished (the row is no longer a draft and a new batch is opened).
    batch = None if dry_run else _locked_draft(session, bank, execution_on)
    day = _plan_day(session, execution_on, calendar)
    if batch is None and not dry_run:
        batch = _new_batch(session, actor, bank, run_on, execution_on)
    orders, paid = _orders_of(day, batch.id if batch else None, execution_on, actor)
    totals: dict[str, int] = defaultdict(int)
    for order in orders:
        totals[order["kind"]] += order["amount_cents"]
    if not dry_run:
        _store(session, day, orders, paid, run_on)
        audit.record(session, actor.name, "batch.run", subject=batch.key,
                     detail={"orders": len(orders), "total_cents": sum(totals.values()),
                             "execution_on": execution_on.isoformat(),
                             "state": batch_state(session, batch)})
    return {
        "batch": batch.id if batch else None, "batch_key": batch.key if batch else None,
        "run_on": run_on, "execution_on": execution_on,
        "orders": len(orders), "total_cents": sum(totals.values()),
        "by_kind_cents": dict(sorted(totals.items())),
        "obligations_created": day.obligations_created, "flags": len(day.notices),
        "dry_run": dry_run, "order_rows": [_planned_row(o) for o in orders],
        "notices": [asdict(n) for n in day.notices],
    }


def _plan_day(session: Session, execution_on: date, calendar: BankingCalendar) -> _Day:
    """Read what the day's decisions need and decide each client's payments (DESIGN §6)."""
    horizon = execution_on + timedelta(days=HORIZON_DAYS)
    generated = ensure_obligations(session, execution_on - timedelta(days=LOOKBACK_DAYS), horizon,
                                   calendar=calendar)

    clients = {c.id: c for c in session.execute(
        select(Client.id, Client.payment_name, Client.iban, Client.bic, Client.status, Client.final_payout,
               Client.ledger_code)
        .where((Client.status == "open") | (Client.final_payout.is_(True)))).all()}
    client_ids = list(clients)
    balances = {b.code: b.balance_cents for b in ledger.balances(session, prefix="client:")}
    pending = dict(session.execute(
        select(PaymentOrder.client_id, func.sum(PaymentOrder.amount_cents))
        .where(PaymentOrder.status == "draft").group_by(PaymentOrder.client_id)).all())

    obligations: dict[int, list] = defaultdict(list)
    for obligation in session.execute(select(
            Obligation.id, Obligation.key, Obligation.client_id, Obligation.kind,
            Obligation.payee_id, Obligation.amount_cents, Obligation.paid_cents, Obligation.due_on,
            Obligation.pay_by_on, Obligation.reference, Obligation.reference_kind,
            Obligation.message, Obligation.allow_partial).where(
            Obligation.status == "open", Obligation.pay_by_on <= horizon)).all():
        obligations[obligation.client_id].append(obligation)

    earlier_orders = _earlier_orders(session, [o.id for rows in obligations.values() for o in rows])
    paid_instalments, removed_instalments = _instalments_ordered(session, execution_on, horizon)
    plans = approved_versions(session, client_ids)
    incomes = _incomes(session, [in_force(v, execution_on).id for v in plans.values()
                                 if in_force(v, execution_on)])

    day = _Day(
        clients=clients, obligations={o.id: o for rows in obligations.values() for o in rows},
        payees={p.id: p for p in session.execute(
            select(Payee.id, Payee.payment_name, Payee.iban, Payee.bic)).all()},
        final_orders=dict(session.execute(
            select(PaymentOrder.client_id, func.count()).where(PaymentOrder.kind == "final")
            .group_by(PaymentOrder.client_id)).all()),
        removed_instalments=removed_instalments, obligations_created=generated["created"])
    for client_id, client in sorted(clients.items()):
        available = balances.get(client.ledger_code, 0) - pending.get(client_id, 0)
        if client.status == "closed":
            if client.final_payout and available > 0:
                day.finals.append((client, available))
            continue
        plan = in_force(plans.get(client_id, []), execution_on)
        if plan is None:
            continue
        schedule = None
        if plan.instalment_schedule:
            schedule = Instalments(plan.instalment_schedule, plan.instalment_mode,
                                   plan.instalment_cents, plan.keep_cents or 0)
        decided = plan_client(ClientDay(
            client_id=client_id, available_cents=available,
            obligations=tuple(
                OpenObligation(o.id, o.key, o.kind, o.amount_cents - o.paid_cents, o.due_on,
                               o.pay_by_on, o.allow_partial, earlier_orders.get(o.id, 0))
                for o in obligations.get(client_id, [])),
            instalments=schedule,
            next_income_on=next_arrival(incomes.get(plan.id, []), execution_on, calendar),
            paid_instalment_dates=frozenset(paid_instalments.get(client_id, ()))),
            execution_on, calendar)
        day.payments.extend(decided.payments)
        day.notices.extend(decided.notices)
    return day


def _earlier_orders(session: Session, obligation_ids: list[int]) -> dict[int, int]:
    """How many orders each open obligation has had (they number its further orders). Driven by
    the open obligations (a few per client), never by the orders of past years."""
    found: dict[int, int] = {}
    for chunk in range(0, len(obligation_ids), IN_CHUNK):
        found.update(session.execute(
            select(PaymentOrder.obligation_id, func.count())
            .where(PaymentOrder.obligation_id.in_(obligation_ids[chunk:chunk + IN_CHUNK]))
            .group_by(PaymentOrder.obligation_id)).all())
    return found


def _instalments_ordered(session: Session, execution_on: date, horizon: date
                         ) -> tuple[dict[int, set[date]], dict[tuple[int, date], int]]:
    """Instalment dates already ordered per client, and how often each (client, date) was
    taken out (a removed instalment is planned again under a further key)."""
    ordered: dict[int, set[date]] = defaultdict(set)
    removed: dict[tuple[int, date], int] = defaultdict(int)
    for client_id, on, status in session.execute(
            select(PaymentOrder.client_id, PaymentOrder.instalment_on, PaymentOrder.status).where(
                PaymentOrder.instalment_on.between(execution_on - timedelta(days=14),
                                                   horizon))).all():
        if status == "cancelled":
            removed[client_id, on] += 1
        else:
            ordered[client_id].add(on)
    return ordered, removed


def _incomes(session: Session, plan_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """(kind, schedule) of each plan version's expected incomes."""
    incomes: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chunk in range(0, len(plan_ids), IN_CHUNK):
        for plan_id, kind, schedule in session.execute(
                select(PlanIncome.plan_id, PlanIncome.kind, PlanIncome.schedule)
                .where(PlanIncome.plan_id.in_(plan_ids[chunk:chunk + IN_CHUNK]))).all():
            incomes[plan_id].append((kind, schedule))
    return incomes


def _orders_of(day: _Day, batch_id: int | None, execution_on: date, actor: Actor
               ) -> tuple[list[dict], list[dict]]:
    """The day's payments as order rows, and the obligations' new paid amounts."""
    orders: list[dict] = []
    paid: list[dict] = []
    common = dict(batch_id=batch_id, execution_on=execution_on, status="draft",
                  obligation_id=None, payee_id=None, reference=None, reference_kind=None,
                  instalment_on=None, created_by=actor.name)
    for payment in day.payments:
        client = day.clients[payment.client_id]
        key = payment.key
        if day.removed_instalments.get((client.id, payment.instalment_on)):
            key = f"{key}:{day.removed_instalments[client.id, payment.instalment_on]}"
        order = dict(common, key=key, end_to_end_id=make_id(key), client_id=client.id,
                     amount_cents=payment.amount_cents)
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
    for client, amount in day.finals:
        key = f"order:final:{client.id}:{day.final_orders.get(client.id, 0) + 1}"
        orders.append(dict(
            common, key=key, end_to_end_id=make_id(key), client_id=client.id, kind="final",
            creditor_name=client.payment_name, creditor_iban=client.iban, creditor_bic=client.bic,
            amount_cents=amount, message="Välitystili: loppumaksu"))
    return orders, paid


def _store(session: Session, day: _Day, orders: list[dict], paid: list[dict], run_on: date) -> None:
    """Write the orders, the obligations they pay, and the flags of what could not be paid."""
    if orders:
        session.execute(PaymentOrder.__table__.insert(), orders)
    if paid:
        table = Obligation.__table__
        session.execute(table.update().where(table.c.id == bindparam("obligation_id"))
                        .values(paid_cents=bindparam("paid"), status=bindparam("status")), paid)
    # Flags: what the batch saw now replaces what it saw before for the clients it judged.
    judged = list(day.clients)
    for kind in ("insufficient_funds", "arrears"):
        current = [n for n in day.notices if n.kind == kind]
        for notice in current:
            raise_flag(session, kind, notice.subject, run_on, client_id=notice.client_id,
                       amount_cents=notice.amount_cents, detail=notice.detail)
        resolve_flags(session, kind, run_on, keep={n.subject for n in current}, client_ids=judged)


def _locked_draft(session: Session, bank: BankAccount, execution_on: date) -> PaymentBatch | None:
    """The open draft batch for this execution day and account, locked; None when there is none."""
    batch = session.execute(
        select(PaymentBatch).where(
            PaymentBatch.execution_on == execution_on, PaymentBatch.bank_account_id == bank.id,
            PaymentBatch.status == "draft")
        .with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
    if batch is not None and batch.status != "draft":    # pragma: no cover - the lock re-checks
        raise Conflict(f"batch {batch.id} is {batch.status}")
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
