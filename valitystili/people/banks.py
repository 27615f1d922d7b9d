"""The city's own intermediary bank accounts (``bank add``, admin only).

Rules of this module:

- Each account is a row in ``bank_accounts`` and an asset account ``bank:<IBAN>`` in the ledger,
  opened in the same transaction. The first account also opens the shared liability accounts
  ``outgoing`` (payments ordered, not yet seen leaving the bank) and ``suspense`` (money received,
  not yet attributed to a client), DESIGN §4; later accounts find them open already.
- Statements for an IBAN that is not registered here are refused by the import (DESIGN §7), so
  this is where an account becomes known to the tool.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.errors import Conflict
from valitystili.base.identifiers import bic_for_iban, validate_bic, validate_iban
from valitystili.base.text import payment_name
from valitystili.people.payees import check_name
from valitystili.store.models import BankAccount
from valitystili.trust import audit
from valitystili.trust.auth import Actor

OUTGOING = "outgoing"
SUSPENSE = "suspense"


def bank_code(iban: str) -> str:
    """The ledger account code of one of the city's bank accounts."""
    return f"bank:{iban}"


def add_bank_account(session: Session, actor: Actor, *, iban: str, name: str,
                     bic: str | None = None) -> dict:
    actor.require("bank.add")
    iban = validate_iban(iban)
    # The account's name is the payer's name in payment files when debtor_name is empty.
    name = payment_name(check_name(name, "bank account name"), "bank account name")
    bic = validate_bic(bic) if bic else bic_for_iban(iban)
    if session.execute(select(BankAccount.id).where(BankAccount.iban == iban)).first():
        raise Conflict(f"bank account {iban} already exists")
    code = bank_code(iban)
    account = BankAccount(iban=iban, name=name, bic=bic, ledger_code=code, created_by=actor.name)
    session.add(account)
    session.flush()
    ledger.open_account(session, code, "asset", name=name)
    ledger.open_account(session, OUTGOING, "liability", name="payments ordered, not yet cleared")
    ledger.open_account(session, SUSPENSE, "liability", name="money not yet attributed")
    row = _row(account, 0)
    new = {k: v for k, v in row.items() if k != "balance_cents"}
    audit.record(session, actor.name, "bank.add", subject=code, detail={"old": None, "new": new})
    return row


def list_bank_accounts(session: Session, actor: Actor) -> list[dict]:
    actor.require("bank.list")
    balances = {b.code: b.balance_cents for b in ledger.balances(session, prefix="bank:")}
    return [_row(a, balances.get(a.ledger_code, 0))
            for a in session.execute(select(BankAccount).order_by(BankAccount.id)).scalars()]


def _row(account: BankAccount, balance_cents: int) -> dict:
    return {"bank": account.id, "iban": account.iban, "name": account.name, "bic": account.bic,
            "ledger_code": account.ledger_code, "balance_cents": balance_cents}
