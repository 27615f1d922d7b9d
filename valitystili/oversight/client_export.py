"""The client's own data for an access request (``client export CLIENT --out FILE.json``).

Rules of this module:

- Exactly one client's data, and all of it the service stores: the client row (identity code
  in clear: it is the client's own), the service periods, the service record, the IBAN
  changes, who was granted the client, the plan versions with their items and incomes, Kela's
  shares, bills, leases, obligations, payment orders (the client's, and payments by hand),
  the client's statement lines, the flags, the balance, and the months a monthly letter
  (``report statement``) can be made for. Nothing of another client: every row is selected by
  the client's id (a plan's items by the client's plans).
- Rows are written with every stored column, dates as ISO text, money as integer cents.
- Who: ``client.export`` (a social worker of the client, need to know applies, or a handler).
  The export is a view of the client's data: one ``client.export`` entry in the access log,
  naming the file's SHA-256 (not its content).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.people import grants
from valitystili.people.clients import resolve_client
from valitystili.store.models import (
    Bill,
    ClientEdit,
    ClientRecord,
    Flag,
    KelaShare,
    Lease,
    ManualPayment,
    Obligation,
    PaymentOrder,
    Plan,
    PlanIncome,
    PlanItem,
    ServicePeriod,
    StatementLine,
)
from valitystili.trust import audit
from valitystili.trust.auth import Actor

FORMAT = "valitystili-client-export/1"


def _value(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _row(obj) -> dict:
    return {column.key: _value(getattr(obj, column.key)) for column in obj.__table__.columns}


def _rows(session: Session, model, condition, order=None) -> list[dict]:
    query = select(model).where(condition).order_by(order if order is not None else model.id)
    return [_row(obj) for obj in session.execute(query).scalars()]


def client_data(session: Session, client) -> dict:
    """Everything stored about one client (see the module rules)."""
    plans = session.execute(select(Plan).where(Plan.client_id == client.id)
                            .order_by(Plan.version)).scalars().all()
    plan_ids = [plan.id for plan in plans]
    lines = _rows(session, StatementLine, StatementLine.client_id == client.id)
    orders = _rows(session, PaymentOrder, PaymentOrder.client_id == client.id)
    months = sorted({str(row[key])[:7] for row, key in
                     [*((r, "booked_on") for r in lines if r.get("booked_on")),
                      *((r, "execution_on") for r in orders)]})
    return {
        "format": FORMAT,
        "client": _row(client),
        "balance_cents": ledger.balance(session, client.ledger_code),
        "service_periods": _rows(session, ServicePeriod, ServicePeriod.client_id == client.id),
        "records": _rows(session, ClientRecord, ClientRecord.client_id == client.id),
        "edits": _rows(session, ClientEdit, ClientEdit.client_id == client.id),
        "grants": [{k: _value(v) for k, v in g.items()}
                   for g in grants.grants_of(session, client.id)],
        "plans": [{**_row(plan),
                   "items": _rows(session, PlanItem, PlanItem.plan_id == plan.id),
                   "incomes": _rows(session, PlanIncome, PlanIncome.plan_id == plan.id)}
                  for plan in plans] if plan_ids else [],
        "kela_shares": _rows(session, KelaShare, KelaShare.client_id == client.id),
        "bills": _rows(session, Bill, Bill.client_id == client.id),
        "leases": _rows(session, Lease, Lease.client_id == client.id),
        "obligations": _rows(session, Obligation, Obligation.client_id == client.id),
        "payment_orders": orders,
        "manual_payments": _rows(session, ManualPayment, ManualPayment.client_id == client.id),
        "statement_lines": lines,
        "flags": _rows(session, Flag, Flag.client_id == client.id),
        "letters": [{"month": month,
                     "command": f"valitystili report statement {client.id} --month {month}"}
                    for month in months],
    }


def export_client(session: Session, actor: Actor, client: str | int) -> tuple[dict, str]:
    """(the client's data, its JSON text); the export is recorded in the access log."""
    actor.require("client.export")
    found = resolve_client(session, client)
    data = client_data(session, found)
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    audit.record(session, actor.name, "client.export", client_id=found.id,
                 subject=f"client:{found.id}",
                 detail={"file_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})
    return data, text
