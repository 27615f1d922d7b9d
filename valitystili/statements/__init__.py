"""Money in: reading bank statements into the ledger (``importing``), matching incoming lines to
clients (``matching``) and clearing outgoing ones against payment orders (``clearing``)."""
