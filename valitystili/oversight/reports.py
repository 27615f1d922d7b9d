"""Reports for handlers, social workers and finance: balances, arrears, reviews, batches.

Rules of this module:

- Every report is a service function returning rows (lists of dicts with stable keys; money in
  ``*_cents``, dates as dates) that the CLI prints as a table, CSV or JSON. Nothing here prints.
- Reports that show clients' data (balances, arrears, reviews) record one audit entry with action
  ``view`` per run (subject ``report <name>``, the number of clients shown); a report about one
  client (``letters.client_statement``) records the client's id. The batches report shows no
  client data and is not audited. The ledger's balances (``ledger balances``) are one entry
  ``ledger.balances.view`` linked to each client whose account they show.
- "As of" a day means at the end of that day. Balances as of today or later are the ledger's
  stored running balances; earlier days sum postings up to the day.
- **Arrears** are obligations (not cancelled) due before the as-of day of which less than the
  full amount was paid by it. What was paid by a day is the sum of the obligation's payment
  orders executing on or before it that are not cancelled or returned (a draft order counts, as
  it does for the batch, which never orders an obligation twice). Days past due are
  ``as_of − due_on``; buckets 0–30, 31–60, 61–90 and over 90 days (a debt due yesterday is 1
  day past due and in the first bucket).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.flags.conditions import client_balances, date_items
from valitystili.store.models import (
    Client,
    Obligation,
    Payee,
    PaymentBatch,
    PaymentOrder,
)
from valitystili.trust import access
from valitystili.trust.auth import Actor

#: Order statuses that count as paying an obligation (see the module rules).
PAYING_STATUSES = ("draft", "approved", "exported", "cleared")

#: (row key, first day past due, last day past due or None) of the arrears ageing buckets.
BUCKETS = (
    ("days_0_30_cents", 0, 30),
    ("days_31_60_cents", 31, 60),
    ("days_61_90_cents", 61, 90),
    ("days_over_90_cents", 91, None),
)


def bucket_of(days_past_due: int) -> str:
    """The ageing bucket's row key for a debt ``days_past_due`` days past due."""
    for key, first, last in BUCKETS:
        if days_past_due >= first and (last is None or days_past_due <= last):
            return key
    raise ValueError(f"negative days past due: {days_past_due}")


def _audit_view(session: Session, actor: Actor, report: str, as_of: date,
                clients: set[int]) -> None:
    access.record_view(session, actor, "view", clients, subject=f"report {report}",
                       detail={"as_of": as_of.isoformat()})


# --- balances --------------------------------------------------------------------------------


def balances_report(session: Session, actor: Actor, as_of: date | None = None, *,
                    today: date | None = None) -> list[dict]:
    """Every client's balance at the end of ``as_of`` (default today)."""
    actor.require("report")
    today = today or date.today()
    as_of = as_of or today
    balances = client_balances(session, as_of, today)
    rows = []
    for client in session.execute(select(Client).where(access.visible(actor))
                                  .order_by(Client.id)).scalars():
        rows.append({"client": client.id, "name": client.name, "status": client.status,
                     "balance_cents": balances.get(client.ledger_code, 0)})
    _audit_view(session, actor, "balances", as_of, {r["client"] for r in rows})
    return rows


def ledger_balances_report(session: Session, actor: Actor, as_of: date | None = None,
                           prefix: str | None = None) -> list[dict]:
    """The ledger's accounts (those whose code starts with ``prefix``) and their balances at the
    end of ``as_of`` (default: all postings); a view of client accounts is recorded."""
    actor.require("ledger.verify")
    balances = ledger.balances(session, as_of, prefix)
    access.record_view(session, actor, "ledger.balances.view",
                       access.clients_of_accounts(session, [b.code for b in balances]),
                       subject="ledger balances",
                       detail={"as_of": as_of, "prefix": prefix, "accounts": len(balances)})
    return [{"account": b.code, "kind": b.kind, "balance_cents": b.balance_cents}
            for b in balances]


# --- arrears ---------------------------------------------------------------------------------


def arrears_items(session: Session, as_of: date, client_id: int | None = None) -> list[dict]:
    """Each obligation in arrears at the end of ``as_of``: what is still unpaid and how late."""
    paid = (select(PaymentOrder.obligation_id.label("obligation_id"),
                   func.sum(PaymentOrder.amount_cents).label("paid_cents"))
            .where(PaymentOrder.obligation_id.is_not(None),
                   PaymentOrder.status.in_(PAYING_STATUSES),
                   PaymentOrder.execution_on <= as_of)
            .group_by(PaymentOrder.obligation_id).subquery())
    paid_cents = func.coalesce(paid.c.paid_cents, 0)
    query = (select(Obligation, Client.name, Payee.name, paid_cents)
             .join(Client, Client.id == Obligation.client_id)
             .join(Payee, Payee.id == Obligation.payee_id)
             .outerjoin(paid, paid.c.obligation_id == Obligation.id)
             .where(Obligation.status != "cancelled", Obligation.due_on < as_of,
                    Obligation.amount_cents > paid_cents)
             .order_by(Obligation.client_id, Obligation.due_on, Obligation.id))
    if client_id is not None:
        query = query.where(Obligation.client_id == client_id)
    items = []
    for obligation, client_name, payee_name, paid_so_far in session.execute(query).all():
        days = (as_of - obligation.due_on).days
        items.append({"obligation": obligation.key, "client": obligation.client_id,
                      "client_name": client_name, "payee": obligation.payee_id,
                      "payee_name": payee_name, "kind": obligation.kind,
                      "due_on": obligation.due_on, "days_past_due": days,
                      "unpaid_cents": obligation.amount_cents - int(paid_so_far)})
    return items


def _aged_row(group: str, ident: int | None, name: str) -> dict:
    return {"group": group, "id": ident, "name": name, **{key: 0 for key, _, _ in BUCKETS},
            "total_cents": 0}


def arrears_report(session: Session, actor: Actor, as_of: date | None = None) -> list[dict]:
    """Arrears aged into buckets: one row per client, one per payee, and a total row."""
    actor.require("report")
    as_of = as_of or date.today()
    items = arrears_items(session, as_of)
    seen = access.visible_ids(session, actor)    # need to know
    if seen is not None:
        items = [item for item in items if item["client"] in seen]
    by_client: dict[int, dict] = {}
    by_payee: dict[int, dict] = {}
    total = _aged_row("total", None, "")
    for item in items:
        key = bucket_of(item["days_past_due"])
        client_row = by_client.setdefault(item["client"],
                                          _aged_row("client", item["client"], item["client_name"]))
        payee_row = by_payee.setdefault(item["payee"],
                                        _aged_row("payee", item["payee"], item["payee_name"]))
        for row in (client_row, payee_row, total):
            row[key] += item["unpaid_cents"]
            row["total_cents"] += item["unpaid_cents"]
    rows = [*(by_client[k] for k in sorted(by_client)),
            *sorted(by_payee.values(), key=lambda r: (r["name"], r["id"])), total]
    _audit_view(session, actor, "arrears", as_of, set(by_client))
    return rows


# --- reviews ---------------------------------------------------------------------------------


def reviews_report(session: Session, actor: Actor, as_of: date | None = None) -> list[dict]:
    """Reviews, fixed-term ends and lease ends within their warning windows (or passed)."""
    actor.require("report")
    as_of = as_of or date.today()
    rows = [{"client": item.client_id, "name": item.name, "worker": item.worker,
             "what": item.what, "on": item.on, "days_left": item.days_left}
            for item in date_items(session, as_of)]
    seen = access.visible_ids(session, actor)    # need to know
    if seen is not None:
        rows = [row for row in rows if row["client"] in seen]
    _audit_view(session, actor, "reviews", as_of, {r["client"] for r in rows})
    return rows


# --- batches ---------------------------------------------------------------------------------


def batches_report(session: Session, actor: Actor, as_of: date | None = None, *,
                   since: date | None = None) -> list[dict]:
    """Batches executing from ``since`` (default the first day of the as-of month) to ``as_of``:
    orders, total and how many have cleared or come back."""
    actor.require("report")
    as_of = as_of or date.today()
    since = since or as_of.replace(day=1)
    batches = session.execute(
        select(PaymentBatch).where(PaymentBatch.execution_on.between(since, as_of))
        .order_by(PaymentBatch.execution_on, PaymentBatch.id)).scalars().all()
    counts: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    if batches:
        for batch_id, status, count, total in session.execute(
                select(PaymentOrder.batch_id, PaymentOrder.status, func.count(),
                       func.sum(PaymentOrder.amount_cents))
                .where(PaymentOrder.batch_id.in_([b.id for b in batches]))
                .group_by(PaymentOrder.batch_id, PaymentOrder.status)).all():
            counts[batch_id][status] = (int(count), int(total))
    rows = []
    for batch in batches:
        by_status = counts.get(batch.id, {})
        live = {s: v for s, v in by_status.items() if s != "cancelled"}
        rows.append({
            "batch": batch.id, "key": batch.key, "execution_on": batch.execution_on,
            "status": batch.status, "orders": sum(n for n, _ in live.values()),
            "total_cents": sum(t for _, t in live.values()),
            "cleared": by_status.get("cleared", (0, 0))[0],
            "returned": by_status.get("returned", (0, 0))[0],
            "approved_by": batch.approved_by,
        })
    return rows
