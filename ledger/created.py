"""Which transactions a session has created, for whoever must account for them.

Every transaction ``post()``, ``reverse()`` or ``post_many()`` inserts is remembered, as
``(id, key)``, in the session that inserted it, until that session's database transaction ends.
A caller that must answer for what was posted (an audit trail, say) takes the pending ones with
``claim()`` and writes them down in the same database transaction.

Rules:
- What a savepoint or transaction created is forgotten when it rolls back: only transactions
  that can still be committed are pending.
- A claim made inside a savepoint that rolls back is undone: its transactions are pending again.
- When the outermost transaction ends (commit or rollback) the session starts afresh.

The ledger knows nothing of who claims: it only keeps the list (SQLAlchemy session events).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

INFO_KEY = "ledger.created"


class _Chunk:
    """Transactions created by one ledger call: where they were made, and who claimed them."""

    __slots__ = ("rows", "made_in", "claimed_in")

    def __init__(self, rows: list[tuple[int, str]], made_in: SessionTransaction):
        self.rows = rows
        self.made_in = made_in
        self.claimed_in: SessionTransaction | None = None


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def remember(session: Session, rows: Iterable[tuple[int, str]]) -> None:
    """Note transactions this session just inserted (``ledger.core`` calls this)."""
    rows = list(rows)
    transaction = _innermost(session)
    if rows and transaction is not None:
        session.info.setdefault(INFO_KEY, []).append(_Chunk(rows, transaction))


def pending(session: Session) -> list[tuple[int, str]]:
    """Transactions created in this database transaction and not yet claimed, in id order."""
    return sorted(row for chunk in session.info.get(INFO_KEY, ()) if chunk.claimed_in is None
                  for row in chunk.rows)


def claim(session: Session) -> list[tuple[int, str]]:
    """Take the pending transactions (id order); they are no longer pending."""
    transaction = _innermost(session)
    taken: list[tuple[int, str]] = []
    for chunk in session.info.get(INFO_KEY, ()):
        if chunk.claimed_in is None:
            chunk.claimed_in = transaction
            taken.extend(chunk.rows)
    return sorted(taken)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    chunks = session.info.get(INFO_KEY)
    if not chunks:
        return
    if previous.parent is None:
        session.info.pop(INFO_KEY, None)
        return
    kept = []
    for chunk in chunks:
        if _within(chunk.made_in, previous):
            continue
        if chunk.claimed_in is not None and _within(chunk.claimed_in, previous):
            chunk.claimed_in = None
        kept.append(chunk)
    session.info[INFO_KEY] = kept


@event.listens_for(Session, "after_transaction_end")
def _start_afresh(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(INFO_KEY, None)
