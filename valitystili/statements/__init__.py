"""Money in: reading bank statements into the ledger, matching incoming lines to clients and
clearing outgoing ones against payment orders (DESIGN §7). Imports only ``base``, ``store``,
``trust``, ``people``, ``plans`` and ``flags``.

An import is read, prepared, then booked, one module per step:

- ``sources``   — which sources carry the bank side, only itemise, or report a day not yet over;
- ``reading``   — files into statement records; what refuses a file (accounts, currency,
  amounts, dates, a statement's own arithmetic);
- ``loading``   — what preparing reads from the database (stored lines, clients, orders);
- ``preparing`` — ``prepare_import``: what one file books (``bookings.Bookings``), decided
  without writing — ``import --dry-run`` prints it; ``matching`` and ``clearing`` decide each
  credit and debit;
- ``apply``     — ``book``: writes the bookings in the caller's transaction;
- ``service``   — the units of work the CLI calls: files checked first, then one transaction
  per file; the FinTS fetch;
- ``income``    — ``income list`` and ``income assign`` for handlers;
- ``splitting`` — ``income split``: one line in suspense (or the opening balance) shared
  between clients. (``income refund`` is a payment: ``payments.manual``.)
"""
