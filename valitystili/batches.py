"""The daily payment batch: run, approve, export (DESIGN §6).

Rules:
- ``run_batch`` plans every active client with ``batchplan.plan_client`` and stores the result
  as payment orders in a draft batch for the execution day. Runs are serialised (an advisory
  lock on PostgreSQL, the write lock on SQLite) and every order has a stable key, so running the
  batch twice, or two handlers at once, never orders anything twice. ``dry_run`` does all of it
  inside a savepoint and rolls it back: it prints exactly what would be ordered.
- An order counts against its obligation (``paid_cents``) and the client's available money as
  soon as it exists; the client's ledger account is debited (and ``outgoing`` credited) when the
  batch is approved. With four-eyes on, the approver must not be the handler who ran it.
- ``export_batch`` writes the approved batch as a pain.001 file, validated against the ISO
  schema before it is written; exporting again gives a byte-identical file.
- A closed client with a final payout recorded gets their whole balance paid to their own
  account.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

import ledger

from . import audit, settings
from .auth import Actor
from .batchplan import ClientDay, Instalments, OpenObligation, plan_client
from .calendar import CALENDAR, BankingCalendar
from .dates import format_fi_date
from .errors import Conflict, InsufficientFunds, NotFound, ValidationError
from .expected import next_arrival
from .flags import raise_flag, resolve_flags
from .models import (
    BankAccount,
    Client,
    Obligation,
    Payee,
    PaymentBatch,
    PaymentOrder,
    PlanIncome,
)
from .obligations import LOOKBACK_DAYS, approved_plans, ensure_obligations, in_force
from .pain001 import CreditTransfer, Debtor, build_pain001, make_id

BATCH_LOCK = 72207003
HORIZON_DAYS = 45


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
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": BATCH_LOCK})
    bank = _bank_account(session, iban)
    execution_on = calendar.on_or_after(run_on)
    savepoint = session.begin_nested()
    try:
        result = _run(session, actor, bank, run_on, execution_on, calendar)
        if dry_run:
            raise _DryRun
    except _DryRun:
        savepoint.rollback()
        result["dry_run"] = True
        result["batch"] = None
        return result
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _run(session: Session, actor: Actor, bank: BankAccount, run_on: date, execution_on: date,
         calendar: BankingCalendar) -> dict:
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

    # Driven by the open obligations (a few per client), never by the orders of past years.
    open_ids = [o.id for rows in obligations.values() for o in rows]
    earlier_orders: dict[int, int] = {}
    for chunk in range(0, len(open_ids), 5000):
        earlier_orders.update(session.execute(
            select(PaymentOrder.obligation_id, func.count())
            .where(PaymentOrder.obligation_id.in_(open_ids[chunk:chunk + 5000]))
            .group_by(PaymentOrder.obligation_id)).all())
    final_orders = dict(session.execute(
        select(PaymentOrder.client_id, func.count()).where(PaymentOrder.kind == "final")
        .group_by(PaymentOrder.client_id)).all())

    paid_instalments: dict[int, set[date]] = defaultdict(set)
    for client_id, day in session.execute(
            select(PaymentOrder.client_id, PaymentOrder.instalment_on).where(
                PaymentOrder.instalment_on.between(execution_on - timedelta(days=14), horizon),
                PaymentOrder.status != "cancelled")).all():
        paid_instalments[client_id].add(day)

    plans = approved_plans(session, client_ids)
    plan_ids = [in_force(v, execution_on).id for v in plans.values() if in_force(v, execution_on)]
    incomes: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chunk in range(0, len(plan_ids), 5000):
        for plan_id, kind, schedule in session.execute(
                select(PlanIncome.plan_id, PlanIncome.kind, PlanIncome.schedule)
                .where(PlanIncome.plan_id.in_(plan_ids[chunk:chunk + 5000]))).all():
            incomes[plan_id].append((kind, schedule))

    payments, notices, finals = [], [], []
    for client_id, client in sorted(clients.items()):
        available = balances.get(client.ledger_code, 0) - pending.get(client_id, 0)
        if client.status == "closed":
            if client.final_payout and available > 0:
                finals.append((client, available))
            continue
        plan = in_force(plans.get(client_id, []), execution_on)
        if plan is None:
            continue
        schedule = None
        if plan.instalment_schedule:
            schedule = Instalments(plan.instalment_schedule, plan.instalment_mode,
                                   plan.instalment_cents, plan.keep_cents or 0)
        day = ClientDay(
            client_id=client_id, available_cents=available,
            obligations=tuple(
                OpenObligation(o.id, o.key, o.kind, o.amount_cents - o.paid_cents, o.due_on,
                               o.pay_by_on, o.allow_partial, earlier_orders.get(o.id, 0))
                for o in obligations.get(client_id, [])),
            instalments=schedule,
            next_income_on=next_arrival(incomes.get(plan.id, []), execution_on, calendar),
            paid_instalment_dates=frozenset(paid_instalments.get(client_id, ())))
        decided = plan_client(day, execution_on, calendar)
        payments.extend(decided.payments)
        notices.extend(decided.notices)

    batch = _draft_batch(session, actor, bank, run_on, execution_on)
    obligations_by_id = {o.id: o for rows in obligations.values() for o in rows}
    payees = {p.id: p for p in session.execute(select(Payee.id, Payee.payment_name, Payee.iban, Payee.bic)).all()}
    orders: list[dict] = []
    paid: list[dict] = []
    for payment in payments:
        client = clients[payment.client_id]
        order = dict(key=payment.key, end_to_end_id=make_id(payment.key), batch_id=batch.id,
                     client_id=client.id, amount_cents=payment.amount_cents,
                     execution_on=execution_on, status="draft", obligation_id=None,
                     payee_id=None, reference=None, reference_kind=None, instalment_on=None)
        if payment.obligation_id is not None:
            obligation = obligations_by_id[payment.obligation_id]
            payee = payees[obligation.payee_id]
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
    for client, amount in finals:
        key = f"order:final:{client.id}:{final_orders.get(client.id, 0) + 1}"
        orders.append(dict(
            key=key, end_to_end_id=make_id(key), batch_id=batch.id, client_id=client.id,
            kind="final", creditor_name=client.payment_name, creditor_iban=client.iban,
            creditor_bic=client.bic, amount_cents=amount, message="Välitystili: loppumaksu",
            execution_on=execution_on, status="draft", obligation_id=None, payee_id=None,
            reference=None, reference_kind=None, instalment_on=None))
    if orders:
        session.execute(PaymentOrder.__table__.insert(), orders)
    if paid:
        table = Obligation.__table__
        session.execute(table.update().where(table.c.id == bindparam("obligation_id"))
                        .values(paid_cents=bindparam("paid"), status=bindparam("status")), paid)

    # Flags: what the batch saw now replaces what it saw before for the clients it judged.
    judged = list(clients)
    for kind in ("insufficient_funds", "arrears"):
        current = [n for n in notices if n.kind == kind]
        for notice in current:
            raise_flag(session, kind, notice.subject, run_on, client_id=notice.client_id,
                       amount_cents=notice.amount_cents, detail=notice.detail)
        resolve_flags(session, kind, run_on, keep={n.subject for n in current}, client_ids=judged)

    totals: dict[str, int] = defaultdict(int)
    for order in orders:
        totals[order["kind"]] += order["amount_cents"]
    audit.record(session, actor.name, "batch.run", subject=batch.key,
                 detail={"orders": len(orders), "total_cents": sum(totals.values()),
                         "execution_on": execution_on.isoformat()})
    return {
        "batch": batch.id, "batch_key": batch.key, "run_on": run_on, "execution_on": execution_on,
        "orders": len(orders), "total_cents": sum(totals.values()),
        "by_kind_cents": dict(sorted(totals.items())),
        "obligations_created": generated["created"], "flags": len(notices),
        "dry_run": False, "order_rows": [_planned_row(o) for o in orders],
        "notices": [asdict(n) for n in notices],
    }


def _draft_batch(session: Session, actor: Actor, bank: BankAccount, run_on: date,
                 execution_on: date) -> PaymentBatch:
    """The open draft batch for this execution day and account, or a new one."""
    batch = session.execute(select(PaymentBatch).where(
        PaymentBatch.execution_on == execution_on, PaymentBatch.bank_account_id == bank.id,
        PaymentBatch.status == "draft")).scalar_one_or_none()
    if batch is not None:
        return batch
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


def _order_row(order: PaymentOrder) -> dict:
    return {
        "order": order.id, "client": order.client_id, "kind": order.kind,
        "payee": order.creditor_name, "iban": order.creditor_iban,
        "amount_cents": order.amount_cents, "reference": order.reference,
        "message": order.message, "execution_on": order.execution_on, "status": order.status,
        "key": order.key,
    }


def resolve_batch(session: Session, text_value: str) -> PaymentBatch:
    batch = None
    if text_value.isdigit():
        batch = session.get(PaymentBatch, int(text_value))
    if batch is None:
        batch = session.execute(select(PaymentBatch).where(PaymentBatch.key == text_value)).scalar_one_or_none()
    if batch is None:
        raise NotFound(f"no batch {text_value}")
    return batch


def show_batch(session: Session, actor: Actor, batch_ref: str) -> dict:
    actor.require("batch.read")
    batch = resolve_batch(session, batch_ref)
    orders = session.execute(select(PaymentOrder).where(PaymentOrder.batch_id == batch.id)
                             .order_by(PaymentOrder.id)).scalars().all()
    return {"batch": _batch_row(session, batch), "orders": [_order_row(o) for o in orders]}


def _batch_row(session: Session, batch: PaymentBatch) -> dict:
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentOrder.amount_cents), 0))
        .where(PaymentOrder.batch_id == batch.id)).one()
    return {"batch": batch.id, "key": batch.key, "run_on": batch.run_on,
            "execution_on": batch.execution_on, "status": batch.status, "orders": count,
            "total_cents": int(total), "created_by": batch.created_by,
            "approved_by": batch.approved_by, "exported": batch.exported_at is not None}


def list_batches(session: Session, actor: Actor, *, since: date | None = None) -> list[dict]:
    actor.require("batch.read")
    query = select(PaymentBatch).order_by(PaymentBatch.id)
    if since:
        query = query.where(PaymentBatch.execution_on >= since)
    return [_batch_row(session, b) for b in session.execute(query).scalars()]


def approve_batch(session: Session, actor: Actor, batch_ref: str, *, today: date | None = None) -> dict:
    """The handler's decision: the orders debit the clients and credit ``outgoing``."""
    actor.require("batch.approve")
    today = today or date.today()
    batch = resolve_batch(session, batch_ref)
    if batch.status != "draft":
        raise Conflict(f"batch {batch.id} is already {batch.status}")
    if settings.get_bool(session, "four_eyes") and batch.created_by == actor.name:
        raise Conflict(f"four-eyes: batch {batch.id} was run by {actor.name}; "
                       "another handler must approve it")
    orders = session.execute(select(PaymentOrder).where(
        PaymentOrder.batch_id == batch.id, PaymentOrder.status == "draft")
        .order_by(PaymentOrder.id)).scalars().all()
    codes = dict(session.execute(select(Client.id, Client.ledger_code).where(
        Client.id.in_({o.client_id for o in orders}))).all()) if orders else {}
    entries = [ledger.Entry(order.key, ((codes[order.client_id], order.amount_cents),
                                        ("outgoing", -order.amount_cents)),
                            today, description=f"{order.kind} to {order.creditor_name}",
                            actor=actor.name) for order in orders]
    try:
        ledger.post_many(session, entries)
    except ledger.InsufficientFunds as error:
        client = error.account.split(":", 1)[1]
        raise InsufficientFunds(
            f"client {client} no longer has the money for this batch "
            f"({error.balance_cents / 100:.2f} EUR left); run the batch again") from None
    for order in orders:
        order.status = "approved"
    batch.status = "approved"
    batch.approved_by = actor.name
    batch.approved_at = datetime.now(timezone.utc).replace(microsecond=0)
    session.flush()
    audit.record(session, actor.name, "batch.approve", subject=batch.key,
                 detail={"orders": len(orders), "total_cents": sum(o.amount_cents for o in orders)})
    return _batch_row(session, batch)


def export_batch(session: Session, actor: Actor, batch_ref: str, out: Path, *,
                 version: str | None = None) -> dict:
    actor.require("batch.export")
    batch = resolve_batch(session, batch_ref)
    if batch.status not in ("approved", "exported"):
        raise Conflict(f"batch {batch.id} is {batch.status}: only approved batches are exported")
    version = version or settings.get(session, "pain_version")
    bank = session.get(BankAccount, batch.bank_account_id)
    orders = session.execute(select(PaymentOrder).where(
        PaymentOrder.batch_id == batch.id, PaymentOrder.status != "cancelled")
        .order_by(PaymentOrder.execution_on, PaymentOrder.id)).scalars().all()
    if not orders:
        raise ValidationError(f"batch {batch.id} has no orders to export")
    debtor = Debtor(name=settings.get(session, "debtor_name") or bank.name, iban=bank.iban,
                    bic=bank.bic, initiating_party_id=settings.get(session, "initiating_party_id") or None)
    approved_at = batch.approved_at
    if approved_at.tzinfo is None:
        approved_at = approved_at.replace(tzinfo=timezone.utc)
    xml = build_pain001(
        message_key=batch.key, created_at=approved_at, debtor=debtor, version=version,
        transfers=[CreditTransfer(
            key=o.key, execution_on=o.execution_on, amount_cents=o.amount_cents,
            creditor_name=o.creditor_name, creditor_iban=o.creditor_iban, creditor_bic=o.creditor_bic,
            reference=o.reference, reference_kind=o.reference_kind, message=o.message)
            for o in orders])
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(xml)
    os.replace(tmp, out)
    digest = hashlib.sha256(xml).hexdigest()
    first = batch.status == "approved"
    if first:
        batch.status = "exported"
        batch.exported_at = datetime.now(timezone.utc)
        batch.file_sha256 = digest
        for order in orders:
            if order.status == "approved":
                order.status = "exported"
    session.flush()
    audit.record(session, actor.name, "batch.export", subject=batch.key,
                 detail={"file": out.name, "sha256": digest, "version": version})
    return {"batch": batch.id, "file": str(out), "orders": len(orders),
            "total_cents": sum(o.amount_cents for o in orders), "sha256": digest,
            "version": f"pain.001.001.{version}", "first_export": first}
