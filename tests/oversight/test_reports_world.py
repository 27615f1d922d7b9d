"""Money movements for the reconciliation, flag and report tests (no tests of its own).

``tests/scenario.py`` opens the world, clients and plans through the services; this adds what the
bank and the batch would have done, as the import and the batch record it:

- a credit is a ``statement_lines`` row (state ``posted``, the client, ``ledger_key``
  ``bank:<IBAN>:<archive id>``) and that ledger transaction: bank debit, client credit;
- an approved order debits the client and credits ``outgoing`` under the order's key;
- a cleared order is a debit line (state ``outgoing``, the order) and ``outgoing`` debit, bank
  credit; the order becomes ``cleared``;
- each day's lines hang on that day's statement (camt.053), whose closing balance
  ``close_day`` sets to what the ledger holds, unless the test says otherwise;
- every ledger transaction comes with the audit entry of the action that posts it, as the
  service writes it (``post``), and the batch with the entry that gives its state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from helpers.scenario import CITY_IBAN
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.store.models import (
    BankAccount,
    Client,
    Obligation,
    PaymentBatch,
    PaymentOrder,
    Statement,
    StatementLine,
)
from valitystili.trust import audit

BANK = f"bank:{CITY_IBAN}"


@dataclass
class Money:
    session: Session

    @property
    def bank(self) -> BankAccount:
        return self.session.execute(select(BankAccount).where(BankAccount.iban == CITY_IBAN)).scalar_one()

    def archive_id(self) -> str:
        count = self.session.execute(select(func.count()).select_from(StatementLine)).scalar_one()
        return f"ARCH{count + 1:04d}"

    def statement(self, on: date) -> Statement:
        ident = f"S-{on.isoformat()}"
        statement = self.session.execute(
            select(Statement).where(Statement.statement_id == ident)).scalar_one_or_none()
        if statement is None:
            statement = Statement(bank_account_id=self.bank.id, source="camt053",
                                  statement_id=ident, file_name=f"{on}.xml",
                                  from_on=on, to_on=on, imported_by="fiona")
            self.session.add(statement)
            self.session.flush()
        return statement

    def close_day(self, on: date, closing_cents: int | None = None) -> Statement:
        """Give the day's statement the closing balance (default: what the ledger holds)."""
        statement = self.statement(on)
        statement.closing_on = on
        statement.closing_cents = (ledger.balance(self.session, BANK, as_of=on)
                                   if closing_cents is None else closing_cents)
        self.session.flush()
        return statement

    def line(self, on: date, amount_cents: int, *, state: str, ledger_key: str | None,
             client_id: int | None = None, order_id: int | None = None, payer: str | None = None,
             archive_id: str | None = None, parent: str | None = None, level: str = "entry",
             return_reason: str | None = None) -> StatementLine:
        line = StatementLine(
            bank_account_id=self.bank.id, statement_id=self.statement(on).id,
            archive_id=archive_id or self.archive_id(), parent_archive_id=parent, level=level,
            booked_on=on, value_on=on, amount_cents=amount_cents, counterparty_name=payer,
            client_id=client_id, order_id=order_id, state=state, ledger_key=ledger_key,
            return_reason=return_reason, match_rule="reference" if client_id else None)
        self.session.add(line)
        self.session.flush()
        return line

    def post(self, key: str, legs: list[tuple[str, int]], on: date, *, action: str = "import",
             actor: str = "fiona") -> None:
        """A ledger transaction with the audit entry of the action that posts it."""
        ledger.post(self.session, key, legs, on)
        audit.record(self.session, actor, action, subject=key)

    def credit(self, client_no: int, amount_cents: int, on: date, payer: str = "KELA") -> StatementLine:
        """Money in for a client, matched and posted as the import does."""
        archive = self.archive_id()
        key = f"{BANK}:{archive}"
        code = self.session.get(Client, client_no).ledger_code
        self.post(key, [(BANK, amount_cents), (code, -amount_cents)], on)
        return self.line(on, amount_cents, state="posted", ledger_key=key, client_id=client_no,
                         payer=payer, archive_id=archive)

    def suspense_credit(self, amount_cents: int, on: date, payer: str = "Tuntematon") -> StatementLine:
        archive = self.archive_id()
        key = f"{BANK}:{archive}"
        self.post(key, [(BANK, amount_cents), ("suspense", -amount_cents)], on)
        return self.line(on, amount_cents, state="suspense", ledger_key=key, payer=payer,
                         archive_id=archive)

    def batch(self, on: date) -> PaymentBatch:
        key = f"batch-{on.isoformat()}-test"
        batch = self.session.execute(
            select(PaymentBatch).where(PaymentBatch.key == key)).scalar_one_or_none()
        if batch is None:
            batch = PaymentBatch(key=key, run_on=on, execution_on=on,
                                 bank_account_id=self.bank.id, status="exported",
                                 created_by="hannu", approved_by="hilla")
            self.session.add(batch)
            self.session.flush()
            audit.record(self.session, "hilla", "batch.approve", subject=key, detail={"state": {
                "status": "exported", "created_by": "hannu", "approved_by": "hilla"}})
        return batch

    def order(self, client_no: int, kind: str, amount_cents: int, on: date, *,
              status: str = "exported", creditor: str = "Vaasan Asunnot Oy",
              payee_id: int | None = None, obligation: Obligation | None = None,
              instalment_on: date | None = None, key: str | None = None) -> PaymentOrder:
        """An order executing on ``on``; approved ones have debited the client that day."""
        client = self.session.get(Client, client_no)
        key = key or f"order:{kind}:{client_no}:{on.isoformat()}"
        batch = self.batch(on)
        batch.status = "draft"       # orders join only a draft batch (a database guard)
        self.session.flush()
        order = PaymentOrder(
            key=key, end_to_end_id="E2E-" + hashlib.sha1(key.encode()).hexdigest()[:20],
            batch_id=batch.id,
            client_id=client_no, obligation_id=obligation.id if obligation else None, kind=kind,
            payee_id=payee_id, creditor_name=client.name if kind == "instalment" else creditor,
            creditor_iban="FI2112345600000785", amount_cents=amount_cents, execution_on=on,
            instalment_on=instalment_on, status=status)
        self.session.add(order)
        if obligation is not None:
            obligation.paid_cents += amount_cents
            if obligation.paid_cents >= obligation.amount_cents:
                obligation.status = "settled"
        self.session.flush()
        batch.status = "exported"
        self.session.flush()
        if status in ("approved", "exported", "cleared", "returned"):
            self.post(key, [(client.ledger_code, amount_cents), ("outgoing", -amount_cents)], on,
                      action="batch.approve", actor="hilla")
        if status == "cleared":
            order.status = "exported"
            self.clear(order, on)
        return order

    def clear(self, order: PaymentOrder, on: date) -> StatementLine:
        archive = self.archive_id()
        key = f"{BANK}:{archive}"
        self.post(key, [("outgoing", order.amount_cents), (BANK, -order.amount_cents)], on)
        order.status = "cleared"
        order.cleared_on = on
        return self.line(on, -order.amount_cents, state="outgoing", ledger_key=key,
                         client_id=order.client_id, order_id=order.id,
                         payer=order.creditor_name, archive_id=archive)

    def obligation(self, client_no: int, kind: str, amount_cents: int, due_on: date, *,
                   payee_id: int, key: str | None = None) -> Obligation:
        obligation = Obligation(
            key=key or f"{kind}:{client_no}:{due_on.isoformat()}", client_id=client_no,
            kind=kind, payee_id=payee_id, amount_cents=amount_cents, paid_cents=0, due_on=due_on,
            pay_on=due_on, source="bill", source_id=0, status="open")
        self.session.add(obligation)
        self.session.flush()
        return obligation
