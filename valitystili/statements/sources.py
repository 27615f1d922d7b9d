"""What each kind of statement source carries (DESIGN §7). Plain names only, so that the checks
of ``oversight`` can tell sources apart without loading the statement readers.

- :data:`STATEMENT_SOURCES` carry the bank side and balances: camt.053, the intraday camt.052,
  MT940, CSV and FinTS.
- :data:`NOTIFICATION_SOURCES` only itemise entries: camt.054.
- :data:`INTRADAY_SOURCES` are statements of a day not yet over (camt.052): their last balance
  is interim (ITBD), never the day's closing.
- **Key schemes** (:func:`key_scheme`): camt files and CSV exports key an entry by the bank's
  own archive id, so they recognise each other's entries; MT940 files and FinTS fetches carry
  none and derive their keys from what a line says, each its own way. Sources of different
  schemes cannot tell that they carry the same money.
"""

from __future__ import annotations

STATEMENT_SOURCES = frozenset({"camt052", "camt053", "mt940", "csv", "fints"})
NOTIFICATION_SOURCES = frozenset({"camt054"})
INTRADAY_SOURCES = frozenset({"camt052"})
#: Sources whose entries carry the bank's own archive id (``Ntry/AcctSvcrRef``, the CSV column).
BANK_ID_SOURCES = frozenset({"camt052", "camt053", "camt054", "csv"})


def key_scheme(source: str) -> str:
    """How a source keys its entries: ``"archive id"`` (the bank's), else the source's own."""
    return "archive id" if source in BANK_ID_SOURCES else source
