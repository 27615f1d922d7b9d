"""Bank statement readers: camt.053/054, MT940, CSV and FinTS into plain records.

Rules for the whole package:

- ``imports`` never imports the service (``valitystili``) or the ledger, and has no database
  code: it turns bank data into frozen records (``imports.records``) and nothing else.
- Money is integer cents; amounts that would need rounding, signed amounts where the sign is a
  separate indicator, and absurd amounts are refused, never adjusted.
- Every bad input raises ``imports.errors.StatementError`` with one line naming the file.
- XML is parsed only through ``imports.xmlsafe``.

Entry points: ``read_statements(path, format="auto")``, ``detect_format(path)`` and
``imports.fints_source.fetch_fints(...)`` (kept out of this namespace so reading a file never
loads the FinTS stack).
"""

from imports.detect import FORMATS, detect_format, read_statements
from imports.errors import StatementError
from imports.records import Balance, Entry, Item, Statement

__all__ = [
    "FORMATS",
    "Balance",
    "Entry",
    "Item",
    "Statement",
    "StatementError",
    "detect_format",
    "read_statements",
]
