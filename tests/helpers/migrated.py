"""A test's ledger schema at the head revision, cheaply (no tests in here).

Most storage tests need an empty, current ledger and nothing about how it got there; running
every migration for each of them (a tenth of a second on SQLite, a fifth on PostgreSQL, with
~2,700 such tests) was a good part of CI. So the migrations run once per test process, and each
test gets their result:

- **SQLite**: ``db.upgrade`` runs once into a template file; each test's database is a copy of
  it (SQLite's online backup), a few milliseconds.
- **PostgreSQL**: ``db.upgrade`` runs once into a scratch schema while every statement it sends
  is recorded; each test's schema gets the same statements, in the same order, in one
  transaction (the names are unqualified, so they land in the schema of the ``search_path``).

The migrations themselves run for real in tests/store/test_migrations.py (every revision, up
and down, on both backends), and a test there checks that a schema made here is the one
``db.upgrade`` makes.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from pathlib import Path

from sqlalchemy import event, text

from valitystili.store import db

_sqlite_template: Path | None = None
_pg_statements: list[tuple[str, object, bool]] | None = None


def migrate(backend) -> None:
    """Bring ``backend`` (the conftest's fixture, on an empty database) to the head revision;
    once (a test may ask through two fixtures)."""
    if backend.migrated:
        return
    backend.migrated = True
    if backend.name == "sqlite":
        target = db.sqlite_path(backend.url)
        with closing(sqlite3.connect(_template())) as source, \
                closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
    else:
        statements = _recorded(backend)
        engine = db.make_engine(backend.url)
        try:
            with engine.begin() as connection:
                cursor = connection.connection.cursor()
                for statement, parameters, many in statements:
                    if many:
                        cursor.executemany(statement, parameters)
                    else:
                        cursor.execute(statement, parameters)
        finally:
            engine.dispose()


def _template() -> Path:
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="valitystili-template-"))
        path = folder / "ledger.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
        _sqlite_template = path
    return _sqlite_template


def _recorded(backend) -> list[tuple[str, object, bool]]:
    """What ``db.upgrade`` sends to an empty PostgreSQL schema, statement by statement."""
    global _pg_statements
    if _pg_statements is None:
        admin_engine = backend.admin_engine
        schema = f"t_template_{uuid.uuid4().hex[:12]}"
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        recorded = []
        engine = db.make_engine(backend.url.replace(backend.schema, schema))

        @event.listens_for(engine, "before_cursor_execute")
        def _record(_connection, _cursor, statement, parameters, _context, executemany):
            recorded.append((statement, parameters, executemany))

        try:
            db.upgrade(engine)
        finally:
            engine.dispose()
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        _pg_statements = recorded
    return _pg_statements


def remove_template() -> None:
    """Delete this process's SQLite template (the session's end)."""
    global _sqlite_template
    if _sqlite_template is not None:
        shutil.rmtree(_sqlite_template.parent, ignore_errors=True)
        _sqlite_template = None
