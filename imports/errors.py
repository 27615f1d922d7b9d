"""The one error the statement readers raise.

Rules:

- Every bad input -- a file that is too big, not XML, hostile XML, a wrong namespace, a malformed
  MT940 or CSV line, an amount that would need rounding, a refused FinTS login -- raises
  ``StatementError``, never a parser's own exception (lxml, csv, mt940, fints, KeyError...).
- The message is one line a person can act on: it starts with the file name (or ``FinTS`` and the
  bank for an online fetch) and says what is wrong and where, e.g.
  ``finance.xml: entry 3 has amount 12.345 with more than two decimals``.
- ``BankUnreachable`` (a ``StatementError``) says an online fetch could not reach the bank at
  all (no connection, no name, a timeout, a server error): the input may be fine, the fetch
  could not run. Its message gives the cause in a few words, never the HTTP library's text.
- It subclasses ``ValueError`` so callers outside the service can treat it as bad input; the
  service maps it into its own error tree at its one translation point. ``imports`` never imports
  the service or the ledger.
"""


class StatementError(ValueError):
    """A bank statement file or fetch cannot be read as a statement; the message says why."""


class BankUnreachable(StatementError):
    """An online fetch could not reach the bank (connection, name, timeout, server error)."""
