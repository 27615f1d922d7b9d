"""Errors the ledger reports. Each is data for the caller; none is ever swallowed here."""


class LedgerError(Exception):
    """Base of every error the ledger raises."""


class UnknownAccount(LedgerError):
    """A posting names an account that does not exist."""


class Unbalanced(LedgerError):
    """A transaction's postings do not sum to zero, or a posting is malformed."""


class KeyConflict(LedgerError):
    """An idempotency key is already used by a transaction with different content."""


class InsufficientFunds(LedgerError):
    """A posting would take a no-negative account below zero."""

    def __init__(self, account: str, balance_cents: int, change_cents: int):
        self.account = account
        self.balance_cents = balance_cents
        self.change_cents = change_cents
        super().__init__(
            f"account {account} has {balance_cents / 100:.2f} EUR; "
            f"a change of {change_cents / 100:.2f} EUR would take it below zero"
        )


class AlreadyReversed(LedgerError):
    """The transaction has been reversed already; a transaction is reversed at most once."""


class NotFound(LedgerError):
    """A named transaction does not exist."""
