"""What each kind of statement source carries (DESIGN §7). Plain names only, so that the checks
of ``oversight`` can tell sources apart without loading the statement readers.

- :data:`STATEMENT_SOURCES` carry the bank side and balances: camt.053, the intraday camt.052,
  MT940, CSV and FinTS.
- :data:`NOTIFICATION_SOURCES` only itemise entries: camt.054.
- :data:`INTRADAY_SOURCES` are statements of a day not yet over (camt.052): their last balance
  is interim (ITBD), never the day's closing.
"""

from __future__ import annotations

STATEMENT_SOURCES = frozenset({"camt052", "camt053", "mt940", "csv", "fints"})
NOTIFICATION_SOURCES = frozenset({"camt054"})
INTRADAY_SOURCES = frozenset({"camt052"})
