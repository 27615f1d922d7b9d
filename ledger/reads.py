"""What the ledger tells: balances, the postings of an account, transactions by key.

Every read a user of the ledger needs is here, so that nothing outside ``ledger/`` reads its
tables. Rules:

- Balances are in the account's natural sign (``models.SIGN``); a posting's ``amount_cents`` is
  as stored, debit positive and credit negative.
- Without ``as_of`` a balance is the stored running balance (no history is read); "as of" a
  day means at the end of that day and sums the postings up to it.
- Date ranges include both ends; ``None`` leaves that end open.
- An account that does not exist has no postings and no daily balances, and ``balances_of``
  leaves it out (``balance`` alone raises ``UnknownAccount``: one account asked for by name
  must exist).
- What is read for many accounts at once (``balances_of``, ``postings_of``) is one query per
  ``CHUNK`` accounts, whatever their number; the one-account reads are the same reads.
- Key lists are read ``CHUNK`` keys at a time, well under the databases' parameter limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .errors import NotFound, UnknownAccount
from .models import SIGN, accounts, postings, transactions

#: Keys or ids per ``IN (...)`` list.
CHUNK = 5000


@dataclass(frozen=True)
class AccountBalance:
    code: str
    kind: str
    balance_cents: int


@dataclass(frozen=True)
class DayBalance:
    """An account's balance at the end of a day on which it had postings."""

    on: date
    balance_cents: int


@dataclass(frozen=True)
class AccountPosting:
    """One posting to an account, with the transaction it belongs to."""

    transaction_id: int
    key: str
    booked_on: date
    amount_cents: int          # debit positive, credit negative
    reversal: bool             # the transaction reverses another


@dataclass(frozen=True)
class StoredTransaction:
    """A transaction as stored: its legs summed per account, and whether it was reversed."""

    id: int
    key: str
    booked_on: date
    legs: tuple[tuple[str, int], ...]      # (account code, cents), by code, debit positive
    reversed: bool


def balance(session: Session, code: str, as_of: date | None = None) -> int:
    """Natural-sign balance of one account, today (stored) or as of the end of a date."""
    if as_of is not None:
        found = balances_of(session, [code], as_of)
        if code not in found:
            raise UnknownAccount(f"unknown account {code}")
        return found[code]
    row = session.execute(
        select(accounts.c.balance_cents).where(accounts.c.code == code)
    ).first()
    if row is None:
        raise UnknownAccount(f"unknown account {code}")
    return row.balance_cents


def balances_of(session: Session, codes: Iterable[str], as_of: date) -> dict[str, int]:
    """Natural-sign balances of these accounts as of the end of ``as_of``, by code (an account
    that does not exist is left out)."""
    codes = sorted(set(codes))
    found: dict[str, int] = {}
    for start in range(0, len(codes), CHUNK):
        for code, kind, total in session.execute(
                select(accounts.c.code, accounts.c.kind,
                       func.coalesce(func.sum(postings.c.amount_cents), 0))
                .outerjoin(postings, (postings.c.account_id == accounts.c.id)
                           & (postings.c.booked_on <= as_of))
                .where(accounts.c.code.in_(codes[start:start + CHUNK]))
                .group_by(accounts.c.id, accounts.c.code, accounts.c.kind)).all():
            found[code] = SIGN[kind] * int(total)
    return found


def balances(
    session: Session, as_of: date | None = None, prefix: str | None = None
) -> list[AccountBalance]:
    """Natural-sign balances of all accounts (or those whose code starts with ``prefix``).

    Without ``as_of`` this reads the stored running balances: one row per account, no history.
    """
    query = select(accounts.c.id, accounts.c.code, accounts.c.kind, accounts.c.balance_cents)
    if prefix:
        query = query.where(accounts.c.code.startswith(prefix, autoescape=True))
    rows = session.execute(query.order_by(accounts.c.code)).all()
    if as_of is None:
        return [AccountBalance(r.code, r.kind, r.balance_cents) for r in rows]
    sums = dict(
        session.execute(
            select(postings.c.account_id, func.sum(postings.c.amount_cents))
            .where(postings.c.booked_on <= as_of)
            .group_by(postings.c.account_id)
        ).all()
    )
    return [AccountBalance(r.code, r.kind, SIGN[r.kind] * int(sums.get(r.id, 0))) for r in rows]


def balances_by_day(session: Session, code: str, end: date | None = None) -> list[DayBalance]:
    """The account's balance at the end of each day it had postings, up to ``end``, oldest first.

    The balance on a day without postings is that of the last day before it with postings
    (zero before the first)."""
    account = _account(session, code)
    if account is None:
        return []
    query = (select(postings.c.booked_on, func.sum(postings.c.amount_cents))
             .where(postings.c.account_id == account.id))
    if end is not None:
        query = query.where(postings.c.booked_on <= end)
    days, running = [], 0
    for day, amount in session.execute(
            query.group_by(postings.c.booked_on).order_by(postings.c.booked_on)).all():
        running += SIGN[account.kind] * int(amount)
        days.append(DayBalance(day, running))
    return days


def account_postings(session: Session, code: str, start: date | None = None,
                     end: date | None = None) -> list[AccountPosting]:
    """The account's postings booked from ``start`` to ``end``, by day and then transaction."""
    return postings_of(session, [code], start, end).get(code, [])


def postings_of(session: Session, codes: Iterable[str], start: date | None = None,
                end: date | None = None) -> dict[str, list[AccountPosting]]:
    """``account_postings`` of many accounts at once, by code (an account with no postings in
    the range, or none at all, is left out)."""
    codes = sorted(set(codes))
    query = (select(accounts.c.code, transactions.c.id, transactions.c.key, postings.c.booked_on,
                    postings.c.amount_cents, transactions.c.reverses_id)
             .join(transactions, transactions.c.id == postings.c.transaction_id)
             .join(accounts, accounts.c.id == postings.c.account_id))
    if start is not None:
        query = query.where(postings.c.booked_on >= start)
    if end is not None:
        query = query.where(postings.c.booked_on <= end)
    found: dict[str, list[AccountPosting]] = {}
    for first in range(0, len(codes), CHUNK):
        for row in session.execute(
                query.where(accounts.c.code.in_(codes[first:first + CHUNK]))
                .order_by(postings.c.booked_on, transactions.c.id, postings.c.id)).all():
            found.setdefault(row.code, []).append(AccountPosting(
                row.id, row.key, row.booked_on, int(row.amount_cents),
                row.reverses_id is not None))
    return found


def find_transactions(session: Session, keys: Iterable[str]) -> dict[str, StoredTransaction]:
    """The transactions of these keys that exist, by key (a key with none is left out)."""
    keys = sorted(set(keys))
    reversal = transactions.alias("reversal")
    found: dict[str, StoredTransaction] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        rows = session.execute(
            select(transactions.c.id, transactions.c.key, transactions.c.booked_on,
                   reversal.c.id.label("reversed_by"))
            .outerjoin(reversal, reversal.c.reverses_id == transactions.c.id)
            .where(transactions.c.key.in_(chunk))).all()
        legs: dict[int, list[tuple[str, int]]] = {}
        for tx_id, code, amount in session.execute(
                select(postings.c.transaction_id, accounts.c.code, func.sum(postings.c.amount_cents))
                .join(accounts, accounts.c.id == postings.c.account_id)
                .join(transactions, transactions.c.id == postings.c.transaction_id)
                .where(transactions.c.key.in_(chunk))
                .group_by(postings.c.transaction_id, accounts.c.code)
                .order_by(postings.c.transaction_id, accounts.c.code)):
            legs.setdefault(tx_id, []).append((code, int(amount)))
        for row in rows:
            found[row.key] = StoredTransaction(row.id, row.key, row.booked_on,
                                               tuple(legs.get(row.id, ())),
                                               row.reversed_by is not None)
    return found


def key_exists(key: ColumnElement[str]) -> ColumnElement[bool]:
    """SQL that is true when a transaction with this key exists: a condition for the caller's
    own query over its own tables (e.g. the rows whose key was never posted), so that a whole
    table is checked in the database, not key by key."""
    return select(transactions.c.id).where(transactions.c.key == key).exists()


def transaction_keys(session: Session, after_id: int = 0) -> Iterator[tuple[int, str]]:
    """(id, key) of every transaction after ``after_id``, in id order, read a chunk at a time."""
    for tx_id, key in session.execute(
            select(transactions.c.id, transactions.c.key).where(transactions.c.id > after_id)
            .order_by(transactions.c.id).execution_options(yield_per=10_000)):
        yield tx_id, key


def count_transactions(session: Session, through_id: int | None = None) -> int:
    """How many transactions there are (with an id up to ``through_id``, when given)."""
    query = select(func.count()).select_from(transactions)
    if through_id is not None:
        query = query.where(transactions.c.id <= through_id)
    return int(session.execute(query).scalar_one())


def transaction_legs(session: Session, key: str) -> list[tuple[str, int]]:
    row = session.execute(select(transactions.c.id).where(transactions.c.key == key)).first()
    if row is None:
        raise NotFound(f"no transaction with key {key}")
    return legs_of(session, row.id)


def is_reversed(session: Session, key: str) -> bool:
    original = transactions.alias("original")
    return (
        session.execute(
            select(transactions.c.id)
            .join(original, transactions.c.reverses_id == original.c.id)
            .where(original.c.key == key)
        ).first()
        is not None
    )


def legs_of(session: Session, tx_id: int) -> list[tuple[str, int]]:
    """The postings of a transaction as (account code, cents), in the order they were written."""
    return [
        (code, int(amount))
        for code, amount in session.execute(
            select(accounts.c.code, postings.c.amount_cents)
            .join(accounts, accounts.c.id == postings.c.account_id)
            .where(postings.c.transaction_id == tx_id)
            .order_by(postings.c.id)
        ).all()
    ]


def _account(session: Session, code: str):
    return session.execute(
        select(accounts.c.id, accounts.c.kind).where(accounts.c.code == code)).first()
