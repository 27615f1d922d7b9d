"""The service's error tree.

Every error a user can cause is a ``ValitystiliError``; the CLI turns each into one line on
stderr and the exit code named on the class. Nothing else in the code decides exit codes.
"""


class ValitystiliError(Exception):
    """Base of every error the service reports to a user."""

    exit_code = 2


class ValidationError(ValitystiliError):
    """Input is malformed or breaks a rule (bad checksum, amount, date, schedule, file)."""


class NotFound(ValitystiliError):
    """A named client, payee, user, account, batch or line does not exist."""


class PermissionDenied(ValitystiliError):
    """The acting user is not registered or their role does not allow the command."""


class Conflict(ValitystiliError):
    """The request contradicts what is already stored (duplicate, wrong state)."""


class InsufficientFunds(ValitystiliError):
    """A client's money does not cover what was asked."""


class CannotRun(ValitystiliError):
    """The command could not run at all: database unreachable, lock timeout."""

    exit_code = 3
