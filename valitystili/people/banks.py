"""The city's own intermediary bank accounts (``bank add``, admin only).

Rules of this module:

- Each account is a row in ``bank_accounts`` and an asset account ``bank:<IBAN>`` in the ledger,
  opened in the same transaction. The first account also opens the shared liability accounts
  ``outgoing`` (payments ordered, not yet seen leaving the bank) and ``suspense`` (money received,
  not yet attributed to a client), DESIGN §4; later accounts find them open already.
- Statements for an IBAN that is not registered here are refused by the import (DESIGN §7), so
  this is where an account becomes known to the tool.
- The pooled accounts (``base.accounts``: ``outgoing``, ``suspense``, ``incoming:<IBAN>``) are
  opened here, by ``bank add`` and, on first use, by an import (:func:`open_pooled_accounts`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.accounts import (
    BANK_PREFIX,
    OUTGOING,
    SUSPENSE,
    bank_account,
    is_pooled,
    pooled_name,
)
from valitystili.base.errors import Conflict
from valitystili.base.i18n import _
from valitystili.base.identifiers import bic_for_iban, validate_bic, validate_iban
from valitystili.base.text import payment_name
from valitystili.people.payees import check_name
from valitystili.store.models import BankAccount
from valitystili.trust import audit
from valitystili.trust.auth import Actor


def open_pooled_accounts(session: Session, codes: Iterable[str]) -> None:
    """Open those of ``codes`` that are pooled accounts and not open yet (bank and client
    accounts are opened by ``bank add`` and ``client open`` and must exist)."""
    for code in sorted(set(codes)):
        if is_pooled(code) and not ledger.account_exists(session, code):
            ledger.open_account(session, code, "liability", name=pooled_name(code))


def add_bank_account(session: Session, actor: Actor, *, iban: str, name: str,
                     bic: str | None = None) -> dict:
    actor.require("bank.add")
    iban = validate_iban(iban)
    # The account's name is the payer's name in payment files when debtor_name is empty.
    name = payment_name(check_name(name, "bank account name"), "bank account name")
    bic = validate_bic(bic) if bic else bic_for_iban(iban)
    if session.execute(select(BankAccount.id).where(BankAccount.iban == iban)).first():
        raise Conflict(_("bank account {iban} already exists").format(iban=iban))
    code = bank_account(iban)
    account = BankAccount(iban=iban, name=name, bic=bic, ledger_code=code, created_by=actor.name)
    session.add(account)
    session.flush()
    ledger.open_account(session, code, "asset", name=name)
    for pooled in (OUTGOING, SUSPENSE):
        ledger.open_account(session, pooled, "liability", name=pooled_name(pooled))
    row = _row(account, 0)
    new = {k: v for k, v in row.items() if k != "balance_cents"}
    audit.record(session, actor.name, "bank.add", subject=code, detail={"old": None, "new": new})
    return row


def list_bank_accounts(session: Session, actor: Actor) -> list[dict]:
    actor.require("bank.list")
    balances = {b.code: b.balance_cents for b in ledger.balances(session, prefix=BANK_PREFIX)}
    return [_row(a, balances.get(a.ledger_code, 0))
            for a in session.execute(select(BankAccount).order_by(BankAccount.id)).scalars()]


def _row(account: BankAccount, balance_cents: int) -> dict:
    return {"bank": account.id, "iban": account.iban, "name": account.name, "bic": account.bic,
            "ledger_code": account.ledger_code, "balance_cents": balance_cents}
