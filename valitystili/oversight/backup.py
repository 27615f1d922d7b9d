"""Backing up the database (``db backup``): an admin's action, recorded in the audit trail.

Rules of this module:

- **Admins only** (``db.backup``). A copy holds every client's identity code in clear and the
  whole audit trail, and once written it is outside the roles and the access log that guard
  the database; handlers, finance and auditors see clients through the service, and none of
  them needs the database itself.
- **No lock is held or waited for while copying.** The role is read in a read-only unit
  (which does not wait for a writer); the copy is made (``store.backup.snapshot_sqlite``: one
  consistent snapshot while others write, staged under a temporary name); then the backup is
  recorded, action ``db.backup``, in a unit of its own with what identifies the copy (its
  name, size, SHA-256, ledger transactions and audit head) — that unit waits for the write
  lock like any change — and only then does the file take its name. A backup that could not
  be recorded leaves no file. The copy does not hold its own entry: the live trail says which
  copy was taken, when and by whom, and the head lets ``db check --expect-head`` tell that a
  restored copy is that one.
- **PostgreSQL** is backed up with pg_dump: refused with pg_dump's line (exit 2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import ledger
from valitystili.base.i18n import _
from valitystili.base.money import format_count
from valitystili.store import backup as copies
from valitystili.store import db
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: ``unit(read_only=...)`` opens a transaction as the acting user and yields ``(session, actor)``.
Unit = Callable[..., AbstractContextManager[tuple[Session, Actor]]]
#: Bytes read at a time for the copy's SHA-256.
HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Backup:
    """A copy taken: where, how big, what it holds."""

    source: str
    out: Path
    bytes: int
    sha256: str
    tables: int
    rows: int
    transactions: int
    head: audit.Head | None

    def line(self) -> str:
        """``backed up ledger.db to copy.db: 1 234 567 bytes, 31 tables, 9 876 rows, …``, in the
        current language."""
        head = (_("audit head {head}").format(head=self.head) if self.head
                else _("audit trail empty"))
        return _("backed up {source} to {file}: {bytes} bytes, {tables} tables, {rows} rows, "
                 "{transactions} ledger transactions, {head}").format(
            source=self.source, file=self.out, bytes=format_count(self.bytes),
            tables=format_count(self.tables), rows=format_count(self.rows),
            transactions=format_count(self.transactions), head=head)

    def row(self) -> dict:
        return {"file": str(self.out), "bytes": self.bytes, "sha256": self.sha256,
                "tables": self.tables, "rows": self.rows, "transactions": self.transactions,
                "head": str(self.head) if self.head else None}


def back_up(unit: Unit, engine: Engine, out: Path, *, force: bool = False) -> Backup:
    """Copy the database to ``out`` and record it (see the module rules)."""
    with unit(read_only=True) as (_session, actor):    # no wait for a writer's lock
        actor.require("db.backup")
    url = engine.url.render_as_string(hide_password=False)
    source = db.sqlite_path(url)
    if source is None:
        copies.refuse_on_postgresql(engine, out)
    snapshot = copies.snapshot_sqlite(source, out, force=force)
    with snapshot.staged:                  # discarded unless published below
        transactions, head = _ledger_and_head(snapshot.staged.temporary)
        taken = Backup(db.shown(url), out, snapshot.bytes, _sha256(snapshot.staged.temporary),
                       snapshot.tables, snapshot.rows, transactions, head)
        with unit() as (session, actor):
            audit.record(session, actor.name, "db.backup", subject=f"backup:{out.name}"[:200],
                         detail=taken.row())
        snapshot.staged.publish()
    return taken


def _ledger_and_head(copy: Path) -> tuple[int, audit.Head | None]:
    """The copy's ledger transactions and audit head, read from the copy itself."""
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with Session(engine) as session:
            return ledger.count_transactions(session), audit.head(session)
    finally:
        engine.dispose()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
