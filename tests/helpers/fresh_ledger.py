"""A fresh ledger for every Hypothesis example, cheaply, on both backends (no tests in here).

    ledgers = FreshLedgers(backend, setup=scenario.world)   # ``backend``: the conftest fixture
    factory = ledgers.new()        # a session factory on an empty ledger holding setup's rows
    ...
    ledgers.close()

- **SQLite**: the schema is migrated (``helpers.migrated``) and ``setup`` run once, into a
  template file; each ``new()`` copies that database (SQLite's online backup, which reads
  through the WAL) to a new file next to it and opens an engine on the copy. A copy takes a few
  milliseconds; migrating takes a fifth of a second.
- **PostgreSQL**: the schema is migrated once (the conftest's per-test schema); each ``new()``
  empties every table but ``alembic_version`` with the row triggers off
  (``session_replication_role = replica``: the ledger's append-only guards and the foreign keys
  are triggers, and a test harness is the one writer allowed past them), restarts every
  sequence and runs ``setup`` again through the services. ``DELETE`` of a few rows per table is
  far cheaper than ``TRUNCATE`` of every table (each truncation swaps files) or migrating a new
  schema (three quarters of a second).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from helpers.migrated import migrate
from valitystili.store import db


class FreshLedgers:
    def __init__(self, backend, setup: Callable[[Session], object]):
        self.backend = backend
        self.setup = setup
        self.engine = None
        self.count = 0
        if backend.name == "sqlite":
            self.template = db.sqlite_path(backend.url)
            migrate(backend)
            engine = db.make_engine(backend.url)
            self._set_up(db.session_factory(engine))
            engine.dispose()
        else:
            migrate(backend)
            self.shared = db.make_engine(backend.url)
            with self.shared.connect() as connection:
                self.tables = [row[0] for row in connection.execute(text(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                    "current_schema() AND table_type = 'BASE TABLE' "
                    "AND table_name <> 'alembic_version'"))]
                self.sequences = [row[0] for row in connection.execute(text(
                    "SELECT sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = current_schema()"))]

    def _set_up(self, factory: sessionmaker[Session]) -> None:
        with factory() as session, session.begin():
            self.setup(session)

    def new(self) -> sessionmaker[Session]:
        """A session factory on a fresh ledger (the previous one's engine is disposed)."""
        self.dispose()
        self.count += 1
        if self.backend.name == "sqlite":
            copy = self.template.with_name(f"example-{self.count}.db")
            previous = self.template.with_name(f"example-{self.count - 1}.db")
            for suffix in ("", "-wal", "-shm"):
                Path(str(previous) + suffix).unlink(missing_ok=True)
            with closing(sqlite3.connect(self.template)) as source, \
                    closing(sqlite3.connect(copy)) as target:
                source.backup(target)
            self.engine = db.make_engine(f"sqlite:///{copy}")
            factory = db.session_factory(self.engine)
        else:
            self._empty()
            self.engine = self.shared
            factory = db.session_factory(self.engine)
            self._set_up(factory)
        return factory

    def _empty(self) -> None:
        with self.shared.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in self.tables:
                connection.execute(text(f'DELETE FROM "{table}"'))
            for sequence in self.sequences:
                connection.execute(text(f"SELECT setval('\"{sequence}\"', 1, false)"))

    def dispose(self) -> None:
        if self.engine is not None and self.backend.name == "sqlite":
            self.engine.dispose()
        self.engine = None

    def close(self) -> None:
        self.dispose()
        if self.backend.name != "sqlite":
            self.shared.dispose()
