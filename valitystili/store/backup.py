"""Copies of the database: a SQLite file copied while others write; pg_dump's line for a server.

Rules:

- **SQLite**: the copy is made with SQLite's online backup API (``sqlite3.Connection.backup``)
  in one step, so every page is read under one read transaction: the copy is the database as
  one commit left it, also while another process is writing (in WAL mode a reader and a writer
  do not wait for each other; a transaction still open is not in the copy). The copy is one
  self-contained file (rollback journal, no ``-wal`` beside it), checked with SQLite's
  ``quick_check`` before anyone sees it.
- The copy is written under a temporary name next to the target (``base.files.stage``: 0600,
  never through a symlink, an existing file refused unless ``force``) and takes its name only
  when the caller publishes it, so a half-written backup never appears under the name.
- **PostgreSQL**: the server's own tool copies a server's database (one snapshot, custom
  format); :func:`pg_dump_command` is the line for this database's schema (README, "Backups",
  has it and the restore).
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, Engine

from valitystili.base import files
from valitystili.base.errors import CannotRun, ValidationError
from valitystili.store.db import SQLITE_COMPANIONS

#: How long the copy waits for a read lock SQLite cannot give at once (a checkpoint).
BUSY_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Snapshot:
    """A copy staged next to its target, with what it holds."""

    staged: files.StagedFile
    bytes: int
    tables: int
    rows: int


def snapshot_sqlite(source: Path, out: Path, *, force: bool = False) -> Snapshot:
    """Copy the SQLite database ``source`` to a staged file for ``out`` (see the module rules).

    The caller publishes the staged file (or discards it: ``Snapshot.staged`` is a context
    manager that discards what was not published)."""
    _refuse_the_database_itself(source, out)
    staged = files.stage(out, b"", force=force)
    try:
        _copy(source, staged.temporary)
        tables, rows = _check_and_count(staged.temporary)
        _fsync(staged.temporary)
        size = staged.temporary.stat().st_size
    except BaseException:
        staged.discard()
        raise
    return Snapshot(staged, size, tables, rows)


def _refuse_the_database_itself(source: Path, out: Path) -> None:
    """A copy never replaces the database it copies, nor its -wal, -shm or -journal file."""
    database = source.resolve()
    if Path(out).resolve() in {Path(f"{database}{suffix}") for suffix in SQLITE_COMPANIONS}:
        raise ValidationError(f"{out} is the database being backed up (or one of its files)")


def _copy(source: Path, target: Path) -> None:
    reading = sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        writing = sqlite3.connect(target)
        try:
            reading.backup(writing)       # pages=-1: every page in one step, one snapshot
            # One self-contained file: no -wal beside the copy.
            writing.execute("PRAGMA journal_mode = DELETE")
        finally:
            writing.close()
    except sqlite3.Error as error:
        raise CannotRun(f"could not copy {source}: {error}") from None
    finally:
        reading.close()


def _check_and_count(path: Path) -> tuple[int, int]:
    """``quick_check`` the copy; its tables and the rows in them."""
    connection = sqlite3.connect(path)
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchall()
        if verdict != [("ok",)]:
            raise CannotRun(f"the copy failed SQLite's quick_check: {verdict[0][0]}")
        names = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        rows = sum(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                   for name in names)
    finally:
        connection.close()
    return len(names), rows


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- PostgreSQL ----------------------------------------------------------------------------------


def _libpq_url(engine: Engine) -> str:
    """The database's address for libpq tools: login, host, port and database, no password
    (pg_dump reads it from ``~/.pgpass`` or ``PGPASSWORD``) and no driver options."""
    url: URL = engine.url
    login = f"{url.username}@" if url.username else ""
    port = f":{url.port}" if url.port else ""
    return f"postgresql://{login}{url.host or ''}{port}/{url.database or ''}"


def current_schema(engine: Engine) -> str:
    from sqlalchemy import text

    with engine.connect() as connection:
        return connection.execute(text("SELECT current_schema()")).scalar_one()


def pg_dump_command(engine: Engine, out: Path) -> str:
    """``pg_dump`` of this ledger's schema into ``out`` (custom format, for ``pg_restore``)."""
    return shlex.join(["pg_dump", "--format=custom", f"--schema={current_schema(engine)}",
                       f"--file={out}", _libpq_url(engine)])


def refuse_on_postgresql(engine: Engine, out: Path) -> None:
    """``db backup`` on PostgreSQL: one line with the pg_dump command (exit 2)."""
    raise ValidationError(f"a PostgreSQL database is backed up with pg_dump: "
                          f"{pg_dump_command(engine, out)}")
