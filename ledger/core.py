"""The ledger's operations. All ledger writes go through ``post()``, ``reverse()`` or
``post_many()``; nothing else changes ledger tables.

Conventions:
- A posting's ``amount_cents`` is positive for a debit and negative for a credit; every
  transaction's postings sum to zero.
- An account's balance is kept in its natural sign: debits increase asset and expense accounts,
  credits increase liability, income and equity accounts. A client's liability account therefore
  shows the money held for the client as a positive balance, and *no-negative* means exactly
  "this balance never goes below zero".
- Idempotency: a key posts at most once. Posting the same key with the same content (dates,
  reversed transaction, postings) returns the stored transaction with ``created=False``; the same
  key with other content raises ``KeyConflict``. Descriptions and actors are not content.
- Atomicity: the affected accounts are locked first, in account-id order (row locks on
  PostgreSQL; the engine's ``BEGIN IMMEDIATE`` serialises writers on SQLite), then the key is
  checked, balances are checked, and postings and new balances are written in the caller's
  database transaction. The caller commits.
- Accountability: every transaction created is remembered in the session as ``(id, key)`` until
  the database transaction ends (``ledger.created``), so that the caller can write down, in the
  same transaction, what it posted (``created.claim``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from . import created as _created
from .bulk_sql import (
    POSTING_COLUMNS,
    TX_COLUMNS,
    add_to_balances,
    allocate_transaction_ids,
    count_ids,
    date_param,
    executemany,
    insert_flat,
    page_cache_for,
)
from .errors import (
    AlreadyReversed,
    InsufficientFunds,
    KeyConflict,
    NotFound,
    Unbalanced,
    UnknownAccount,
)
from .models import ACCOUNT_KINDS, SIGN, accounts, postings, transactions
from .reads import CHUNK, legs_of

MAX_KEY_LENGTH = 200


class Entry(NamedTuple):
    """One transaction to post: legs are (account code, signed cents), debit positive.

    A named tuple (not a dataclass): a load builds hundreds of thousands of them."""

    key: str
    legs: tuple[tuple[str, int], ...]
    booked_on: date
    value_on: date | None = None
    description: str = ""
    actor: str = ""
    reverses_key: str | None = None

    @property
    def value_date(self) -> date:
        return self.value_on or self.booked_on


@dataclass(frozen=True)
class Posted:
    """What ``post()`` did: the transaction's id and whether this call created it."""

    transaction_id: int
    key: str
    created: bool


@dataclass(frozen=True)
class BulkResult:
    created: int
    existing: int
    transaction_ids: dict[str, int] = field(default_factory=dict, repr=False)


# --- accounts ----------------------------------------------------------------------------


def open_account(
    session: Session, code: str, kind: str, *, name: str = "", no_negative: bool = False
) -> int:
    """Create an account (or return the id of the identical existing one)."""
    if kind not in ACCOUNT_KINDS:
        raise Unbalanced(f"unknown account kind {kind!r}")
    row = session.execute(
        select(accounts.c.id, accounts.c.kind, accounts.c.no_negative).where(accounts.c.code == code)
    ).first()
    if row is not None:
        if row.kind != kind or row.no_negative != no_negative:
            raise KeyConflict(f"account {code} exists with other settings")
        return row.id
    return session.execute(
        insert(accounts)
        .values(code=code, name=name, kind=kind, currency="EUR", no_negative=no_negative,
                balance_cents=0)
        .returning(accounts.c.id)
    ).scalar_one()


def open_accounts(
    session: Session, specs: Iterable[tuple[str, str, bool]]
) -> dict[str, int]:
    """Open many accounts at once, each given as ``(code, kind, no_negative)``; the rules of
    ``open_account`` (an identical existing account is kept, one with other settings is a
    ``KeyConflict``, nothing is written then). Returns every code's id."""
    wanted: dict[str, tuple[str, bool]] = {}
    for code, kind, no_negative in specs:
        if kind not in ACCOUNT_KINDS:
            raise Unbalanced(f"unknown account kind {kind!r}")
        if wanted.setdefault(code, (kind, bool(no_negative))) != (kind, bool(no_negative)):
            raise KeyConflict(f"account {code} is named twice with different settings")
    ids: dict[str, int] = {}
    codes = sorted(wanted)
    for start in range(0, len(codes), CHUNK):
        for row in session.execute(
            select(accounts.c.id, accounts.c.code, accounts.c.kind, accounts.c.no_negative)
            .where(accounts.c.code.in_(codes[start:start + CHUNK]))
        ):
            if (row.kind, row.no_negative) != wanted[row.code]:
                raise KeyConflict(f"account {row.code} exists with other settings")
            ids[row.code] = row.id
    missing = [code for code in codes if code not in ids]
    if missing:
        session.execute(insert(accounts), [
            {"code": code, "name": "", "kind": wanted[code][0], "currency": "EUR",
             "no_negative": wanted[code][1], "balance_cents": 0} for code in missing])
        for start in range(0, len(missing), CHUNK):
            ids.update(session.execute(
                select(accounts.c.code, accounts.c.id)
                .where(accounts.c.code.in_(missing[start:start + CHUNK]))).all())
    return ids


def account_exists(session: Session, code: str) -> bool:
    return session.execute(select(accounts.c.id).where(accounts.c.code == code)).first() is not None


# --- posting -----------------------------------------------------------------------------


def post(
    session: Session,
    key: str,
    legs: Sequence[tuple[str, int]],
    booked_on: date,
    *,
    value_on: date | None = None,
    description: str = "",
    actor: str = "",
    reverses_key: str | None = None,
) -> Posted:
    """Post one balanced transaction atomically and idempotently (see the module rules)."""
    entry = Entry(key, tuple(legs), booked_on, value_on, description, actor, reverses_key)
    _check_entry(entry)
    locked = _lock_accounts(session, {code for code, _ in entry.legs})
    existing = _existing(session, [entry.key])
    if entry.key in existing:
        _same_content_or_conflict(session, entry, existing[entry.key], locked)
        return Posted(existing[entry.key], entry.key, created=False)
    reverses_id = _reversal_target(session, entry.reverses_key) if entry.reverses_key else None
    deltas = _check_and_sum(locked, [entry])
    tx_id = session.execute(
        insert(transactions)
        .values(
            key=entry.key,
            booked_on=entry.booked_on,
            value_on=entry.value_date,
            description=entry.description,
            actor=entry.actor,
            reverses_id=reverses_id,
        )
        .returning(transactions.c.id)
    ).scalar_one()
    session.execute(
        insert(postings),
        [
            {"transaction_id": tx_id, "account_id": locked[code]["id"], "amount_cents": amount,
             "booked_on": entry.booked_on}
            for code, amount in entry.legs
        ],
    )
    _apply_deltas(session, deltas)
    _created.remember(session, [(tx_id, entry.key)])
    return Posted(tx_id, entry.key, created=True)


def reverse(
    session: Session,
    key: str,
    reverses_key: str,
    booked_on: date,
    *,
    description: str = "",
    actor: str = "",
) -> Posted:
    """Post the exact opposite of the transaction ``reverses_key``, at most once."""
    original = session.execute(
        select(transactions.c.id).where(transactions.c.key == reverses_key)
    ).first()
    if original is None:
        raise NotFound(f"no transaction with key {reverses_key}")
    legs = [(code, -amount) for code, amount in legs_of(session, original.id)]
    return post(
        session,
        key,
        legs,
        booked_on,
        description=description or f"reversal of {reverses_key}",
        actor=actor,
        reverses_key=reverses_key,
    )


def post_many(session: Session, entries: Iterable[Entry]) -> BulkResult:
    """Post many transactions with the guarantees of ``post()``, using bulk inserts.

    The whole list is one unit in the caller's database transaction: a key conflict or an
    overdraft anywhere refuses all of it. Entries are applied in the given order, and a
    no-negative account must stay at or above zero after every entry, not only at the end.

    Fresh loads take a fast path: the transactions are inserted with ``ON CONFLICT DO NOTHING``
    inside a savepoint, and only if some key turned out to exist already is the savepoint
    rolled back and the load redone with a key-by-key comparison.
    """
    batch = list(entries)
    if not batch:
        return BulkResult(0, 0)
    codes: set[str] = set()
    add_code = codes.add
    keys: set[str] = set()
    add_key = keys.add
    reversals = False
    for entry in batch:
        # The same rules as _check_entry, inlined: this loop runs once per entry of a load.
        key, legs = entry[0], entry[1]
        if not key or len(key) > MAX_KEY_LENGTH or len(legs) < 2:
            _check_entry(entry)
        total = 0
        for code, amount in legs:
            if type(amount) is not int or not amount:
                _check_entry(entry)
            total += amount
            add_code(code)
        if total:
            _check_entry(entry)
        if entry[6] is not None:
            reversals = True
        add_key(key)
    locked = _lock_accounts(session, codes)
    if not reversals and len(keys) == len(batch):
        del keys
        result = _post_fresh(session, batch, locked)
        if result is not None:
            return result
    return _post_checked(session, batch, locked)


def _post_fresh(session: Session, batch: list[Entry], locked: dict[str, dict]) -> BulkResult | None:
    """Insert assuming no key exists yet; None (and nothing written) when one did.

    One pass builds the rows (flat, column after column, for the multi-row inserts) and walks
    the balances; an overdraft found on the way is raised only once the keys are known to be
    new (a repeated load must say "already posted", not "overdraft")."""
    savepoint = session.begin_nested()
    try:
        new_ids = allocate_transaction_ids(session, len(batch))
        day = date_param(session)
        # code -> [id, sign, no_negative, balance (natural sign, running)]
        state = {code: [acc["id"], SIGN[acc["kind"]], acc["no_negative"], acc["balance"]]
                 for code, acc in locked.items()}
        start = {code: account[3] for code, account in state.items()}
        overdraft = None
        tx_flat: list = []
        posting_flat: list = []
        add_tx, add_posting = tx_flat.extend, posting_flat.extend
        for tx_id, (key, legs, booked_on, value_on, description, actor, _) in zip(new_ids, batch):
            booked = day(booked_on)
            add_tx((tx_id, key, booked, day(value_on) if value_on else booked, description,
                    actor, None))
            low = False
            for code, amount in legs:
                account = state[code]
                account[3] += account[1] * amount
                add_posting((tx_id, account[0], amount, booked))
                if account[2] and account[3] < 0:
                    low = True
            if low and overdraft is None:
                # Judged after all the entry's legs: an entry that debits and credits the same
                # account is judged by its net effect.
                for code, _amount in legs:
                    account = state[code]
                    if account[2] and account[3] < 0:
                        change = sum(account[1] * a for c, a in legs if c == code)
                        overdraft = InsufficientFunds(code, account[3] - change, change)
                        break
        with page_cache_for(session, len(posting_flat) // len(POSTING_COLUMNS)):
            insert_flat(session, "ledger_transactions", TX_COLUMNS, tx_flat,
                         on_conflict_key=True)
            del tx_flat
            if count_ids(session, new_ids) != len(batch):
                savepoint.rollback()
                return None
            if overdraft is not None:
                raise overdraft
            insert_flat(session, "ledger_postings", POSTING_COLUMNS, posting_flat)
            del posting_flat
        _apply_deltas(session, {account[0]: account[3] - start[code]
                                for code, account in state.items()})
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    savepoint.commit()
    pairs = list(zip(new_ids, [entry[0] for entry in batch]))
    _created.remember(session, pairs)
    return BulkResult(len(batch), 0, {key: tx_id for tx_id, key in pairs})


def _post_checked(session: Session, batch: list[Entry], locked: dict[str, dict]) -> BulkResult:
    """The general path: compare every key with what is stored, then insert the new ones."""
    existing = _existing(session, [entry.key for entry in batch])
    new: list[Entry] = []
    seen: dict[str, Entry] = {}
    ids: dict[str, int] = {}
    n_existing = 0
    for entry in batch:
        if entry.key in existing:
            _same_content_or_conflict(session, entry, existing[entry.key], locked)
            ids[entry.key] = existing[entry.key]
            n_existing += 1
        elif entry.key in seen:
            if _content(seen[entry.key]) != _content(entry):
                raise KeyConflict(f"key {entry.key} appears twice with different content")
            n_existing += 1
        else:
            seen[entry.key] = entry
            new.append(entry)
    if not new:
        return BulkResult(0, n_existing, ids)

    reversal_ids = _reversal_targets(session, new, seen)
    deltas = _check_and_sum(locked, new)
    new_ids = allocate_transaction_ids(session, len(new))
    day = date_param(session)
    tx_rows = []
    posting_rows = []
    for tx_id, entry in zip(new_ids, new):
        ids[entry.key] = tx_id
        reverses = entry.reverses_key
        booked = day(entry.booked_on)
        tx_rows.append((
            tx_id, entry.key, booked, day(entry.value_date), entry.description, entry.actor,
            (reversal_ids.get(reverses) or ids.get(reverses)) if reverses else None,
        ))
        for code, amount in entry.legs:
            posting_rows.append((tx_id, locked[code]["id"], amount, booked))
    executemany(session, "ledger_transactions", TX_COLUMNS, tx_rows)
    executemany(session, "ledger_postings", POSTING_COLUMNS, posting_rows)
    _apply_deltas(session, deltas)
    _created.remember(session, [(tx_id, entry.key) for tx_id, entry in zip(new_ids, new)])
    return BulkResult(len(new), n_existing, ids)


# --- internals ---------------------------------------------------------------------------


def _check_entry(entry: Entry) -> None:
    if not entry.key or len(entry.key) > MAX_KEY_LENGTH:
        raise Unbalanced(f"idempotency key must be 1-{MAX_KEY_LENGTH} characters")
    if len(entry.legs) < 2:
        raise Unbalanced(f"transaction {entry.key} needs at least two postings")
    total = 0
    for code, amount in entry.legs:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise Unbalanced(f"transaction {entry.key}: amount {amount!r} is not integer cents")
        if amount == 0:
            raise Unbalanced(f"transaction {entry.key}: a posting of zero to {code}")
        total += amount
    if total != 0:
        raise Unbalanced(f"transaction {entry.key}: postings sum to {total} cents, not 0")


def _lock_accounts(session: Session, codes: set[str]) -> dict[str, dict]:
    """Lock the named accounts in id order and return their current state by code."""
    wanted = sorted(codes)
    found: dict[str, dict] = {}
    rows = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        rows.extend(
            session.execute(
                select(accounts.c.id, accounts.c.code, accounts.c.kind, accounts.c.no_negative,
                       accounts.c.balance_cents)
                .where(accounts.c.code.in_(chunk))
                .order_by(accounts.c.id)
                .with_for_update()
            ).all()
        )
    for row in rows:
        found[row.code] = {"id": row.id, "kind": row.kind, "no_negative": row.no_negative,
                           "balance": row.balance_cents}
    missing = [code for code in wanted if code not in found]
    if missing:
        raise UnknownAccount(f"unknown account {missing[0]}")
    return found


def _existing(session: Session, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start:start + CHUNK]
        found.update(
            session.execute(
                select(transactions.c.key, transactions.c.id).where(transactions.c.key.in_(chunk))
            ).all()
        )
    return found


def _content(entry: Entry) -> tuple:
    return (entry.booked_on, entry.value_date, entry.reverses_key, tuple(sorted(_merged(entry.legs))))


def _merged(legs: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for code, amount in legs:
        totals[code] += amount
    return [(code, amount) for code, amount in totals.items() if amount]


def _same_content_or_conflict(session: Session, entry: Entry, tx_id: int, locked) -> None:
    row = session.execute(
        select(transactions.c.booked_on, transactions.c.value_on, transactions.c.reverses_id)
        .where(transactions.c.id == tx_id)
    ).one()
    reverses_key = None
    if row.reverses_id is not None:
        reverses_key = session.execute(
            select(transactions.c.key).where(transactions.c.id == row.reverses_id)
        ).scalar_one()
    stored = (row.booked_on, row.value_on, reverses_key,
              tuple(sorted(_merged(legs_of(session, tx_id)))))
    if stored != _content(entry):
        raise KeyConflict(f"key {entry.key} was already posted with different content")


def _reversal_target(session: Session, reverses_key: str) -> int:
    row = session.execute(
        select(transactions.c.id).where(transactions.c.key == reverses_key)
    ).first()
    if row is None:
        raise NotFound(f"no transaction with key {reverses_key}")
    done = session.execute(
        select(transactions.c.key).where(transactions.c.reverses_id == row.id)
    ).first()
    if done is not None:
        raise AlreadyReversed(f"transaction {reverses_key} is already reversed by {done.key}")
    return row.id


def _reversal_targets(session: Session, new: list[Entry], in_batch: dict[str, Entry]) -> dict[str, int]:
    targets: dict[str, int] = {}
    claimed: set[str] = set()
    for entry in new:
        target = entry.reverses_key
        if target is None:
            continue
        if target in claimed:
            raise AlreadyReversed(f"transaction {target} is reversed twice in one load")
        claimed.add(target)
        if target in in_batch:
            continue  # reversed within this load; its id is assigned before it is needed
        targets[target] = _reversal_target(session, target)
    return targets


def _check_and_sum(locked: dict[str, dict], entries: Iterable[Entry]) -> dict[int, int]:
    """Walk the entries in order: refuse the first that takes a no-negative account below
    zero, and return the total change per account id (natural sign)."""
    state = {code: [acc["id"], SIGN[acc["kind"]], acc["no_negative"], acc["balance"], 0]
             for code, acc in locked.items()}
    for entry in entries:
        # Apply all legs of the entry first, then check: an entry that debits and credits the
        # same account is judged by its net effect.
        for code, amount in entry.legs:
            account = state[code]
            account[4] += account[1] * amount
        for code, amount in entry.legs:
            account = state[code]
            if account[2] and account[3] + account[4] < 0:
                change = sum(account[1] * a for c, a in entry.legs if c == code)
                raise InsufficientFunds(code, account[3] + account[4] - change, change)
    return {account[0]: account[4] for account in state.values() if account[4]}


def _apply_deltas(session: Session, deltas: dict[int, int]) -> None:
    changes = [{"account": account, "delta": delta} for account, delta in deltas.items() if delta]
    if not changes:
        return
    if add_to_balances(session, {c["account"]: c["delta"] for c in changes}):
        return
    session.execute(
        update(accounts)
        .where(accounts.c.id == bindparam("account"))
        .values(balance_cents=accounts.c.balance_cents + bindparam("delta")),
        changes,
        execution_options={"synchronize_session": False},
    )
