"""Storage: the table models, engines and sessions, the Alembic migrations (``migrations/``) and
the deployment settings. Imports only ``base``."""
