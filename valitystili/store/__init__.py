"""Storage: the table models, engines and sessions, the Alembic migrations (``migrations/``),
the deployment settings and chunked ``IN`` reads (``chunks``). Imports only ``base``."""
