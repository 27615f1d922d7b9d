"""The daily payment batch: run, approve, export, and taking orders out (DESIGN §6).

Rules:
- ``run_batch`` plans every active client with ``batchplan.plan_client`` and stores the result
  as payment orders in a draft batch for the execution day. Every order has a stable key, so
  running the batch twice, or two handlers at once, never orders anything twice. ``dry_run``
  does all of it inside a savepoint and rolls it back: it prints exactly what would be ordered.
- An order counts against its obligation (``paid_cents``) and the client's available money as
  soon as it exists; the client's ledger account is debited (and ``outgoing`` credited, ledger
  key = the order key) when the batch is approved.
- **One writer at a time.** Run, approve, remove and cancel are serialised by one advisory lock
  on PostgreSQL (the write lock on SQLite), so each reads balances and pending orders that no
  other batch decision is changing. On top of it every command that changes a batch (run when
  it adds to a draft, approve, export, remove, cancel) reads the batch row ``FOR UPDATE`` and
  checks its status after the lock. Orders join a batch only while it is a draft: approval
  debits exactly the orders it approves, and the batch's order set is frozen from then on (the
  database refuses an order inserted into, or moved to, a batch that is not a draft).
- **Four-eyes** (setting ``four_eyes``, on by default): the approver ran none of the batch and
  created none of its orders (``payment_orders.created_by``; a second run of the day adds to
  the open draft, so a batch can hold orders of two handlers). Taking an order out of an
  *approved* batch changes an approved decision and needs the same second person: the handler
  who created the order may not remove it; cancelling an approved batch is refused to anyone
  approval would refuse.
- **What approval covers.** Approval stores the SHA-256 of each order's payment content
  (``order_digest``: key, client, amount, creditor name, IBAN, BIC, reference, reference kind,
  message, execution day) and of the whole batch (``batch_digest``, over the orders sorted by
  key). ``export_batch`` recomputes both and refuses a batch whose orders no longer give the
  approved digest (``ChangedAfterApproval``); ``record_changed_after_approval`` keeps a
  *reconciliation_mismatch* flag for it in a unit of its own, since the refused export's unit
  is rolled back. Removing an order from an approved batch recomputes the batch's digest.
- ``export_batch`` writes the approved batch as a pain.001 file, validated against the ISO
  schema, staged under a temporary name (``files.stage``) before the database commit and
  published under its name when the caller's transaction commits (discarded when it rolls
  back). An existing file is refused unless ``force``. Exporting again gives a byte-identical
  file; exactly one export is the first.
- **Taking out.** ``remove_order`` and ``cancel_batch`` work on a draft or approved batch, never
  an exported one (the bank has the file). An approved order's debit is reversed
  (``ledger.reverse``, key ``cancel:<order key>``): the money is the client's again. The order
  becomes ``cancelled`` and what it paid is open again: its obligation's ``paid_cents`` goes
  back down, and the next run pays it under the next key (``order:<obligation key>:<n>``; a
  removed instalment ``order:inst:<client>:<date>:<n>``, a final payout
  ``order:final:<client>:<n>``). To stop a payment for good, change its cause (the plan, the
  bill, the client's account) before the next run.
- **The state in the audit trail.** Every entry that changes a batch (``batch.run``,
  ``batch.approve``, ``batch.export``, ``batch.remove``, ``batch.cancel``) has its batch key as
  subject and ``detail["state"]`` = the batch row right after the change: ``status``,
  ``created_by``, ``approved_by``, ``approved_digest``, and ``orders`` / ``total_cents`` over its
  orders that are not cancelled (``batch_state``).
- **Reads are logged.** ``show_batch`` records ``batch.view`` and a dry run ``batch.dry_run``,
  each with ``detail["clients"]``: the sorted numbers of the clients whose payments were shown.
- A closed client with a final payout recorded gets their whole balance paid to their own
  account.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event, func, select, text
from sqlalchemy.orm import Session

import ledger

from . import audit, files, settings
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
from .text import free_text

BATCH_LOCK = 72207003
HORIZON_DAYS = 45
#: Ids per ``IN (...)`` list: well under SQLite's and PostgreSQL's parameter limits.
IN_CHUNK = 5000
#: How many changed orders an export refusal names (the flag and the audit entry list all).
NAMED_CHANGES = 3

#: Order statuses whose client has been debited (by approval) and not given the money back.
DEBITED = ("approved", "exported", "cleared", "returned")


class _DryRun(Exception):
    pass


class ChangedAfterApproval(Conflict):
    """A batch's orders no longer give the digest stored at approval: export refused."""

    def __init__(self, batch: PaymentBatch, problems: list[str]):
        self.batch_id, self.batch_key, self.problems = batch.id, batch.key, problems
        named = "; ".join(problems[:NAMED_CHANGES])
        more = (f"; and {len(problems) - NAMED_CHANGES} more" if len(problems) > NAMED_CHANGES
                else "")
        super().__init__(f"batch {batch.id} was changed after approval: {named}{more}; "
                         "nothing was exported")


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
    _serialise(session)
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
        audit.record(session, actor.name, "batch.dry_run",
                     subject=f"execution {execution_on.isoformat()}",
                     detail={"clients": sorted(shown), "orders": result["orders"],
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
    plans = approved_plans(session, client_ids)
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


def _serialise(session: Session) -> None:
    """One batch decision at a time (run, approve, remove, cancel): see the module rules."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": BATCH_LOCK})


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


def _order_row(order: PaymentOrder) -> dict:
    return {
        "order": order.id, "client": order.client_id, "kind": order.kind,
        "payee": order.creditor_name, "iban": order.creditor_iban,
        "amount_cents": order.amount_cents, "reference": order.reference,
        "message": order.message, "execution_on": order.execution_on, "status": order.status,
        "key": order.key,
    }


# --- looking batches up --------------------------------------------------------------------------


def _batch_id(session: Session, text_value: str) -> int:
    """The id of the batch named by its number or its key."""
    found = None
    if text_value.isdigit():
        found = session.execute(select(PaymentBatch.id).where(
            PaymentBatch.id == int(text_value))).scalar_one_or_none()
    if found is None:
        found = session.execute(select(PaymentBatch.id).where(
            PaymentBatch.key == text_value)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no batch {text_value}")
    return found


def resolve_batch(session: Session, text_value: str) -> PaymentBatch:
    return session.get(PaymentBatch, _batch_id(session, text_value))


def lock_batch(session: Session, text_value: str) -> PaymentBatch:
    """The batch, its row locked until the transaction ends and read after the lock."""
    return session.execute(
        select(PaymentBatch).where(PaymentBatch.id == _batch_id(session, text_value))
        .with_for_update().execution_options(populate_existing=True)).scalar_one()


def _orders(session: Session, batch: PaymentBatch, *statuses: str) -> list[PaymentOrder]:
    """The batch's orders (of these statuses; else all not cancelled), in export order."""
    query = select(PaymentOrder).where(PaymentOrder.batch_id == batch.id)
    if statuses:
        query = query.where(PaymentOrder.status.in_(statuses))
    else:
        query = query.where(PaymentOrder.status != "cancelled")
    return list(session.execute(query.order_by(PaymentOrder.execution_on, PaymentOrder.id))
                .scalars())


def batch_state(session: Session, batch: PaymentBatch) -> dict:
    """The batch row's state as the audit trail records it (see the module rules)."""
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentOrder.amount_cents), 0))
        .where(PaymentOrder.batch_id == batch.id, PaymentOrder.status != "cancelled")).one()
    return {"status": batch.status, "created_by": batch.created_by,
            "approved_by": batch.approved_by, "approved_digest": batch.approved_digest,
            "orders": count, "total_cents": int(total)}


def show_batch(session: Session, actor: Actor, batch_ref: str) -> dict:
    actor.require("batch.read")
    batch = resolve_batch(session, batch_ref)
    orders = session.execute(select(PaymentOrder).where(PaymentOrder.batch_id == batch.id)
                             .order_by(PaymentOrder.id)).scalars().all()
    audit.record(session, actor.name, "batch.view", subject=batch.key,
                 detail={"clients": sorted({o.client_id for o in orders})})
    return {"batch": _batch_row(session, batch), "orders": [_order_row(o) for o in orders]}


def _batch_row(session: Session, batch: PaymentBatch) -> dict:
    state = batch_state(session, batch)
    return {"batch": batch.id, "key": batch.key, "run_on": batch.run_on,
            "execution_on": batch.execution_on, "status": batch.status,
            "orders": state["orders"], "total_cents": state["total_cents"],
            "created_by": batch.created_by, "approved_by": batch.approved_by,
            "exported": batch.exported_at is not None}


def list_batches(session: Session, actor: Actor, *, since: date | None = None) -> list[dict]:
    actor.require("batch.read")
    query = select(PaymentBatch).order_by(PaymentBatch.id)
    if since:
        query = query.where(PaymentBatch.execution_on >= since)
    return [_batch_row(session, b) for b in session.execute(query).scalars()]


# --- what approval covers ---------------------------------------------------------------------------


def order_digest(order: PaymentOrder) -> str:
    """SHA-256 of an order's payment content, in a canonical form."""
    content = [order.key, order.client_id, order.amount_cents, order.creditor_name,
               order.creditor_iban, order.creditor_bic, order.reference, order.reference_kind,
               order.message, order.execution_on.isoformat()]
    material = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def batch_digest(orders: Iterable[PaymentOrder]) -> str:
    """SHA-256 over the orders' digests, sorted by order key."""
    material = "".join(f"{key}\t{digest}\n"
                       for key, digest in sorted((o.key, order_digest(o)) for o in orders))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def changes_after_approval(batch: PaymentBatch, orders: list[PaymentOrder]) -> list[str]:
    """How an approved batch's orders (those not cancelled) differ from what was approved."""
    if batch.approved_digest is not None and batch_digest(orders) == batch.approved_digest:
        return []
    problems = []
    for order in orders:
        if order.status == "draft" or order.approved_digest is None:
            problems.append(f"order {order.id} ({order.key}) was never approved")
        elif order_digest(order) != order.approved_digest:
            problems.append(f"order {order.id} ({order.key}) differs from what was approved")
    if not problems:
        problems.append("its orders do not add up to the approved digest "
                        "(an order was taken out or its record rewritten)")
    return problems


def _four_eyes(session: Session, actor: Actor, batch: PaymentBatch, orders: list[PaymentOrder],
               verb: str) -> None:
    """Refuse ``verb`` (approve, cancel) of the batch by a handler who ran it or made its orders."""
    if not settings.get_bool(session, "four_eyes"):
        return
    if batch.created_by == actor.name:
        raise Conflict(f"four-eyes: batch {batch.id} was run by {actor.name}; "
                       f"another handler must {verb} it")
    made = sum(1 for order in orders if order.created_by == actor.name)
    if made:
        raise Conflict(f"four-eyes: {actor.name} created {made} of the {len(orders)} orders in "
                       f"batch {batch.id}; a handler who created none of its orders must "
                       f"{verb} it")


# --- the decisions -------------------------------------------------------------------------------


def approve_batch(session: Session, actor: Actor, batch_ref: str, *, today: date | None = None) -> dict:
    """The handler's decision: the orders debit the clients and credit ``outgoing``."""
    actor.require("batch.approve")
    today = today or date.today()
    _serialise(session)
    batch = lock_batch(session, batch_ref)
    if batch.status != "draft":
        raise Conflict(f"batch {batch.id} is already {batch.status}")
    orders = _orders(session, batch, "draft")
    _four_eyes(session, actor, batch, orders, "approve")
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
        order.approved_digest = order_digest(order)
    batch.status = "approved"
    batch.approved_by = actor.name
    batch.approved_at = datetime.now(timezone.utc).replace(microsecond=0)
    batch.approved_digest = batch_digest(orders)
    session.flush()
    if _orders(session, batch, "draft"):     # the lock and the database guard make this impossible
        raise Conflict(f"batch {batch.id} gained orders while it was approved; nothing was approved")
    audit.record(session, actor.name, "batch.approve", subject=batch.key,
                 detail={"orders": len(orders), "total_cents": sum(o.amount_cents for o in orders),
                         "state": batch_state(session, batch)})
    return _batch_row(session, batch)


def export_batch(session: Session, actor: Actor, batch_ref: str, out: Path, *,
                 version: str | None = None, force: bool = False) -> dict:
    """Write the approved batch as pain.001 to ``out`` when the caller's transaction commits."""
    actor.require("batch.export")
    batch = lock_batch(session, batch_ref)
    if batch.status not in ("approved", "exported"):
        raise Conflict(f"batch {batch.id} is {batch.status}: only approved batches are exported")
    version = version or settings.get(session, "pain_version")
    bank = session.get(BankAccount, batch.bank_account_id)
    orders = _orders(session, batch)
    if not orders:
        raise ValidationError(f"batch {batch.id} has no orders to export")
    problems = changes_after_approval(batch, orders)
    if problems:
        raise ChangedAfterApproval(batch, problems)
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
    staged = files.stage(Path(out), xml, force=force)
    _publish_on_commit(session, staged)
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
                 detail={"file": staged.path.name, "sha256": digest, "version": version,
                         "first_export": first, "state": batch_state(session, batch)})
    return {"batch": batch.id, "file": str(staged.path), "orders": len(orders),
            "total_cents": sum(o.amount_cents for o in orders), "sha256": digest,
            "version": f"pain.001.001.{version}", "first_export": first}


def _publish_on_commit(session: Session, staged: files.StagedFile) -> None:
    """The staged file takes its name after the commit; any other end of the transaction
    removes it. (``publish`` after a discard, or the reverse, does nothing.)"""
    event.listen(session, "after_commit", lambda _session: staged.publish(), once=True)

    def ended(_session: Session, transaction) -> None:
        if transaction.parent is None:
            staged.discard()

    event.listen(session, "after_transaction_end", ended)


def record_changed_after_approval(session: Session, actor: Actor, error: ChangedAfterApproval, *,
                                  on: date | None = None) -> None:
    """Keep the refusal: a *reconciliation_mismatch* flag (the subject ``reconcile`` gives the
    same finding, so it stays open while the change does) and a ``batch.export_refused`` entry.
    Called in a unit of its own after the refused export's unit rolled back."""
    on = on or date.today()
    raise_flag(session, "reconciliation_mismatch",
               f"batch_changed_after_approval:{error.batch_key}", on, detail=str(error))
    audit.record(session, actor.name, "batch.export_refused", subject=error.batch_key,
                 detail={"problems": error.problems})


# --- taking orders out ----------------------------------------------------------------------------


def _changeable(batch: PaymentBatch) -> None:
    if batch.status == "exported":
        raise Conflict(f"batch {batch.id} is exported: the bank has the file, so nothing is taken "
                       "out of it here; ask the bank to stop a payment")
    if batch.status == "cancelled":
        raise Conflict(f"batch {batch.id} is already cancelled")


def _order_in(session: Session, batch: PaymentBatch, order_ref: str) -> PaymentOrder:
    query = select(PaymentOrder).where(PaymentOrder.batch_id == batch.id)
    if order_ref.isdigit():
        query = query.where(PaymentOrder.id == int(order_ref))
    else:
        query = query.where(PaymentOrder.key == order_ref)
    order = session.execute(query).scalar_one_or_none()
    if order is None:
        raise NotFound(f"batch {batch.id} has no order {order_ref}")
    return order


def _take_out(session: Session, actor: Actor, batch: PaymentBatch, order: PaymentOrder,
              today: date) -> bool:
    """Cancel one order: its debit reversed when it was approved, its obligation open again.
    Returns whether money went back to the client."""
    reversed_debit = order.status == "approved"
    if reversed_debit:
        ledger.reverse(session, f"cancel:{order.key}", order.key, today, actor=actor.name,
                       description=f"{order.kind} to {order.creditor_name} taken out of "
                                   f"batch {batch.id}")
    order.status = "cancelled"
    if order.obligation_id is not None:
        obligation = session.get(Obligation, order.obligation_id)
        obligation.paid_cents -= order.amount_cents
        if obligation.status == "settled":
            obligation.status = "open"
    return reversed_debit


def remove_order(session: Session, actor: Actor, batch_ref: str, order_ref: str, *, reason: str,
                 today: date | None = None) -> dict:
    """Take one order out of a draft or approved batch (see the module rules)."""
    actor.require("batch.approve")
    reason = free_text(session, reason, "reason")
    today = today or date.today()
    _serialise(session)
    batch = lock_batch(session, batch_ref)
    _changeable(batch)
    order = _order_in(session, batch, order_ref)
    if order.status == "cancelled":
        raise Conflict(f"order {order.id} is already cancelled")
    if (batch.status == "approved" and settings.get_bool(session, "four_eyes")
            and order.created_by == actor.name):
        raise Conflict(f"four-eyes: order {order.id} in approved batch {batch.id} was created by "
                       f"{actor.name}; another handler must take it out")
    money_back = _take_out(session, actor, batch, order, today)
    if batch.status == "approved":
        batch.approved_digest = batch_digest(_orders(session, batch))
    session.flush()
    audit.record(session, actor.name, "batch.remove", client_id=order.client_id, subject=batch.key,
                 detail={"order": order.key, "amount_cents": order.amount_cents, "reason": reason,
                         "money_back": money_back, "state": batch_state(session, batch)})
    return {"batch": batch.id, "order": order.id, "key": order.key, "client": order.client_id,
            "amount_cents": order.amount_cents, "status": order.status, "money_back": money_back,
            "batch_status": batch.status}


def cancel_batch(session: Session, actor: Actor, batch_ref: str, *, reason: str,
                 today: date | None = None) -> dict:
    """Cancel a draft or approved batch: every order taken out as ``remove_order`` does."""
    actor.require("batch.approve")
    reason = free_text(session, reason, "reason")
    today = today or date.today()
    _serialise(session)
    batch = lock_batch(session, batch_ref)
    _changeable(batch)
    orders = _orders(session, batch)
    if batch.status == "approved":
        _four_eyes(session, actor, batch, orders, "cancel")
    money_back = 0
    for order in orders:
        if _take_out(session, actor, batch, order, today):
            money_back += order.amount_cents
    batch.status = "cancelled"
    session.flush()
    audit.record(session, actor.name, "batch.cancel", subject=batch.key,
                 detail={"reason": reason, "orders": len(orders),
                         "total_cents": sum(o.amount_cents for o in orders),
                         "money_back_cents": money_back, "state": batch_state(session, batch)})
    return {**_batch_row(session, batch), "cancelled_orders": len(orders),
            "money_back_cents": money_back}
