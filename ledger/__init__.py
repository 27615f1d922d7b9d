"""A small, general double-entry ledger on SQLAlchemy.

It knows accounts, transactions, postings, balances and reversals, and nothing of clients or
banks. See ``ledger.core`` for the rules every write follows.
"""

from . import created
from .core import (
    AccountBalance,
    BulkResult,
    Entry,
    Finding,
    Posted,
    account_exists,
    balance,
    balances,
    is_reversed,
    open_account,
    post,
    post_many,
    reverse,
    transaction_legs,
    verify,
)
from .engine import make_engine
from .errors import (
    AlreadyReversed,
    InsufficientFunds,
    KeyConflict,
    LedgerError,
    NotFound,
    Unbalanced,
    UnknownAccount,
)
from .models import Base, append_only_ddl, metadata

__all__ = [
    "AccountBalance", "AlreadyReversed", "Base", "BulkResult", "Entry", "Finding",
    "created",
    "InsufficientFunds", "KeyConflict", "LedgerError", "NotFound", "Posted", "Unbalanced",
    "UnknownAccount", "account_exists", "append_only_ddl", "balance", "balances", "is_reversed",
    "make_engine", "metadata", "open_account", "post", "post_many", "reverse",
    "transaction_legs", "verify",
]
