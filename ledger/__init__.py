"""A small, general double-entry ledger on SQLAlchemy.

It knows accounts, transactions, postings, balances and reversals, and nothing of clients or
banks. See ``ledger.core`` for the rules every write follows, ``ledger.reads`` for what it tells
(balances, postings of an account, balances by day, transactions by key) and
``ledger.invariants`` for what ``verify()`` checks. Its users read it through these functions,
never its tables.
"""

from . import created
from .core import (
    BulkResult,
    Entry,
    Posted,
    account_exists,
    open_account,
    open_accounts,
    post,
    post_many,
    reverse,
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
from .invariants import Finding, verify
from .models import Base, append_only_ddl, metadata
from .reads import (
    AccountBalance,
    AccountPosting,
    DayBalance,
    StoredTransaction,
    account_postings,
    balance,
    balances,
    balances_by_day,
    balances_of,
    count_transactions,
    find_transactions,
    is_reversed,
    key_exists,
    postings_of,
    transaction_keys,
    transaction_legs,
)

__all__ = [
    "AccountBalance", "AccountPosting", "AlreadyReversed", "Base", "BulkResult", "DayBalance",
    "Entry", "Finding", "StoredTransaction", "created",
    "InsufficientFunds", "KeyConflict", "LedgerError", "NotFound", "Posted", "Unbalanced",
    "UnknownAccount", "account_exists", "account_postings", "append_only_ddl", "balance",
    "balances", "balances_by_day", "balances_of", "count_transactions", "find_transactions",
    "is_reversed", "key_exists", "make_engine", "metadata", "open_account", "open_accounts",
    "post", "post_many", "postings_of", "reverse", "transaction_keys", "transaction_legs",
    "verify",
]
