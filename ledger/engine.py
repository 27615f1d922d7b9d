"""Engines the ledger's guarantees hold on.

SQLite: WAL, foreign keys on, a busy timeout, and every transaction begun as ``BEGIN IMMEDIATE``
so that the check of a balance and the posting that depends on it cannot interleave with another
process's write (pysqlite's own deferred BEGIN would let two processes read the same balance).
Read-only work may ask for ``execution_options(sqlite_begin="DEFERRED")``.

PostgreSQL: READ COMMITTED with row locks taken by ``ledger.core`` in account-id order.
"""

from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs) -> Engine:
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control from pysqlite so our BEGIN is the one that runs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")
