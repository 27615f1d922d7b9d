"""Backups that restore: ``db backup`` while an import writes, the copy restored, ``db check``.

SQLite: ``db backup`` copies the file with SQLite's online backup API; the copy is the restored
database. PostgreSQL: ``db backup`` refuses with the pg_dump line for the ledger's schema; the
test runs exactly that line, and restores the dump into a new database with ``pg_restore``, as
the README's "Backups" says. Either way the copy must check clean (``db check``) and hold none
or all of the import that was running while it was taken: one import is one transaction.

On PostgreSQL the import is stopped in the middle of its transaction (the test holds the audit
trail locked, so the import waits at its audit entry with every row written but uncommitted, as
tests/payments/test_batch_races.py does) and the dump is taken then: it must hold none of it.
On SQLite the backup starts once the import holds the write lock (its transaction is open) and
copies without waiting for it; whether the import could commit before the copy's one read
transaction began is the scheduler's choice, so the test asks for none or all of it, and a
second test takes a copy beside a write transaction held open to show that rows not committed
are never in a copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PG_URL, pg_schema_url
from helpers import scenario
from helpers.processes import Crowd, finish
from helpers.statements import Tx, camt054, ntry, reference_of
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import ledger
from valitystili.store import backup, db
from valitystili.store.models import AuditEntry, StatementLine

BOOKED = "2026-11-02"
#: Entries of the import running while the backup is taken: long enough to be caught writing.
ENTRIES = 20_000
CLIENTS = 5
#: Each entry: 1,00 € to 50,00 € by reference to one of the clients.
WAIT_SECONDS = 60


# --- the world and the big import -------------------------------------------------------------


def build_world(factory) -> list[str]:
    """Users, the city's account, a few clients; returns the clients' reference numbers."""
    with factory() as session, session.begin():
        w = scenario.world(session)
        numbers = [scenario.client(session, w, hetu=scenario.HETU if n == 0 else
                                   _hetu(n), name=f"Asiakas {n}") for n in range(CLIENTS)]
        return [reference_of(session, number)[0] for number in numbers]


def _hetu(n: int) -> str:
    from helpers.statements import valid_hetu

    return valid_hetu("010190", "-", 200 + n)


def big_notification(path: Path, references: list[str]) -> int:
    """A camt.054 of ``ENTRIES`` credits by reference; returns their sum in cents."""
    entries, total = [], 0
    for n in range(ENTRIES):
        cents = (n % 50 + 1) * 100
        total += cents
        amount = f"{cents // 100}.00"
        entries.append(ntry(amount, f"BIG{n:06d}", Tx(amount=amount, archive_id=f"BIG{n:06d}-1",
                                                      reference=references[n % CLIENTS],
                                                      payer="Kela")))
    path.write_text(camt054(*entries, notification_id="BIG-1"), encoding="utf-8")
    return total


def held(url: str) -> dict[str, int]:
    """What a database holds of the import: its statement lines and all ledger transactions."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            lines = session.execute(select(func.count()).select_from(StatementLine).where(
                StatementLine.archive_id.like("BIG%"))).scalar_one()
            return {"lines": lines, "transactions": ledger.count_transactions(session)}
    finally:
        engine.dispose()


# --- running the command line -----------------------------------------------------------------


def run(backend, url: str, user: str, *args: str):
    """``valitystili ARGS`` as ``user`` against ``url`` (in this process)."""
    from valitystili.cli import cli

    env = {"VALITYSTILI_DB": url,
           "VALITYSTILI_USER": user if backend.name == "sqlite" else ""}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def sqlite_file(backend) -> Path:
    return Path(make_url(backend.url).database)


# --- backing up and restoring, as the README says -----------------------------------------------


class Copies:
    """Backups of the test database and, one at a time, a backup restored in its place.

    PostgreSQL: the live schema is renamed aside while a dump is restored under its name (into
    a database without that schema, as the README says), and comes back afterwards."""

    def __init__(self, backend, tmp_path: Path):
        self.backend = backend
        self.tmp_path = tmp_path

    def back_up(self, name: str) -> Path:
        """``db backup`` as admin; on PostgreSQL the pg_dump line it prints, run as printed."""
        out = self.tmp_path / name
        for user in ("aune", "fiona"):   # PostgreSQL: their logins' grants go into the dump
            self.backend.url_for(user)
        result = run(self.backend, self.backend.url_for("admin"), "admin",
                     "db", "backup", "--out", str(out))
        if self.backend.name == "sqlite":
            assert result.exit_code == 0, result.stderr
            return out
        assert result.exit_code == 2, result.stderr
        prefix = "valitystili: error: a PostgreSQL database is backed up with pg_dump: "
        assert result.stderr.startswith(prefix) and result.stderr.count("\n") == 1
        command = shlex.split(result.stderr[len(prefix):])
        assert command[:2] == ["pg_dump", "--format=custom"], command
        assert f"--schema={self.backend.schema}" in command and f"--file={out}" in command
        subprocess.run(command, check=True, capture_output=True, timeout=WAIT_SECONDS)
        return out

    @contextmanager
    def restored(self, backup: Path):
        """The backup restored; yields ``url(user)`` for the copy."""
        if self.backend.name == "sqlite":
            yield lambda _user: f"sqlite:///{backup}"
            return
        live = self.backend.schema
        aside = f"{live}_live"
        self._execute(f'ALTER SCHEMA "{live}" RENAME TO "{aside}"')
        try:
            database = make_url(PG_URL).set(drivername="postgresql")
            subprocess.run(["pg_restore", "--no-owner",
                            f"--dbname={database.render_as_string(hide_password=False)}",
                            str(backup)], check=True, capture_output=True, timeout=WAIT_SECONDS)
            yield lambda user: pg_schema_url(live, user)
        finally:
            self._execute(f'DROP SCHEMA IF EXISTS "{live}" CASCADE')
            self._execute(f'ALTER SCHEMA "{aside}" RENAME TO "{live}"')

    def _execute(self, statement: str) -> None:
        with self.backend.admin_engine.connect() as connection:
            connection.execute(text(statement))


@pytest.fixture
def copies(backend, tmp_path):
    return Copies(backend, tmp_path)


def checked(backend, url: str, *options: str):
    """``db check`` as the auditor on ``url``: (exit status, findings, lines on stderr)."""
    result = run(backend, url, "aune", "--format", "json", "db", "check", "--as-of", BOOKED,
                 *options)
    assert result.stdout.startswith("["), (result.exit_code, result.stderr)
    return result.exit_code, json.loads(result.stdout), result.stderr.splitlines()


# --- the tests ----------------------------------------------------------------------------------


def test_a_backup_taken_during_an_import_restores_and_checks_clean(backend, session_factory,
                                                                   copies, tmp_path):
    references = build_world(session_factory)
    notification = tmp_path / "big054.xml"
    total_cents = big_notification(notification, references)
    before = held(backend.url)
    racer = Crowd(backend, tmp_path, "backup")
    with racer.gate():
        importing = racer.begin("fiona", "import", str(notification))
        if backend.name == "postgresql":
            racer.until_waiting(1, [importing])   # every row written, not yet committed
        else:
            until_writing(sqlite_file(backend), importing)
        during = copies.back_up("during.backup")
    assert finish("fiona", importing).code == 0
    after = copies.back_up("after.backup")

    everything = held(backend.url)
    assert everything["lines"] == ENTRIES
    assert everything["transactions"] > before["transactions"]
    with session_factory() as session:
        assert ledger.balance(session, f"incoming:{scenario.CITY_IBAN}") == -total_cents

    for taken, wanted in ((during, (before, everything)), (after, (everything,))):
        with copies.restored(taken) as copy:
            if backend.name == "postgresql" and taken == during:
                wanted = (before,)                # taken mid-transaction: none of it
            assert held(copy("admin")) in wanted  # none or all of the import, never a part
            status, findings, lines = checked(backend, copy("aune"))
        assert (status, findings) == (0, []), lines
        assert lines[0].startswith("database: ")
        assert [line.split(":")[0] for line in lines[1:]] == [
            "audit trail", "ledger transactions", "audited state", "ledger", "recorded head",
            "reconciliation as of 2.11.2026"]


def until_writing(database: Path, process: subprocess.Popen) -> None:
    """Wait until ``process`` holds the SQLite database's write lock (its import transaction)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        probe = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return                      # locked: the import is writing
        finally:
            probe.close()
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.02)


def test_a_copy_never_holds_a_transaction_still_open(tmp_path):
    """SQLite: rows written by an open transaction are not in a copy taken meanwhile; once it
    commits, the next copy holds them. (``db backup`` makes this copy and then waits for the
    write lock to record itself: here the copy alone.)"""
    database = tmp_path / "ledger.db"
    engine = db.make_engine(f"sqlite:///{database}")
    db.upgrade(engine)
    engine.dispose()
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO users (name, role, full_name, created_by) "
                   "VALUES ('x', 'handler', '', 'admin')")
    with backup.snapshot_sqlite(database, tmp_path / "open.db").staged as staged:
        staged.publish()
    writer.execute("COMMIT")
    writer.close()
    with backup.snapshot_sqlite(database, tmp_path / "committed.db").staged as staged:
        staged.publish()

    def users(path: Path) -> list[str]:
        with sqlite3.connect(path) as connection:
            return [name for (name,) in connection.execute("SELECT name FROM users ORDER BY name")]

    assert users(tmp_path / "open.db") == []
    assert users(tmp_path / "committed.db") == ["x"]


def test_the_backup_is_recorded_and_names_what_it_holds(backend, session_factory, tmp_path):
    build_world(session_factory)
    out = tmp_path / "kopio.db"
    result = run(backend, backend.url_for("admin"), "admin", "db", "backup", "--out", str(out))
    with session_factory() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "db.backup")
                                  ).scalars().all()
        transactions = ledger.count_transactions(session)
    if backend.name == "postgresql":
        # pg_dump makes it: the line names the schema and the login, never a password.
        assert (result.exit_code, entries, out.exists()) == (2, [], False)
        url = make_url(PG_URL)
        assert result.stderr == (
            "valitystili: error: a PostgreSQL database is backed up with pg_dump: pg_dump "
            f"--format=custom --schema={backend.schema} --file={out} "
            f"postgresql://admin@{url.host}:{url.port}/{url.database}\n")
        return
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    [entry] = entries
    detail = json.loads(entry.detail)
    assert (entry.actor, entry.subject) == ("admin", "backup:kopio.db")
    assert detail["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert detail["bytes"] == out.stat().st_size
    assert detail["transactions"] == transactions
    # The copy's own head: the entries before this one (the copy does not hold its record).
    assert detail["head"] == f"{entry.position - 1}:{entry.prev_hash}"
    assert result.stderr == (
        f"backed up {sqlite_file(backend)} to {out}: {_count(detail['bytes'])} bytes, "
        f"{detail['tables']} tables, {_count(detail['rows'])} rows, {transactions} ledger "
        f"transactions, audit head {detail['head']}\n")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("kopio", ".kopio"))) \
        == ["kopio.db"]
    # The copy checks clean and is the one the head names.
    status, findings, lines = checked(backend, f"sqlite:///{out}", "--expect-head", detail["head"])
    assert (status, findings) == (0, []), lines


def _count(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def test_a_tampered_copy_is_named_by_the_check(backend, session_factory, copies):
    references = build_world(session_factory)
    with session_factory() as session, session.begin():
        # One import's worth of money, so there is a ledger to tamper with.
        from valitystili.statements import service

        path = copies.tmp_path / "small054.xml"
        path.write_text(camt054(ntry("25.00", "T1", Tx(amount="25.00", archive_id="T1-1",
                                                       reference=references[0]))), "utf-8")
        service.import_file(session, scenario.world_actors().fiona, path)
    with copies.restored(copies.back_up("clean.backup")) as copy:
        assert checked(backend, copy("aune"))[0] == 0
        key = tamper(backend, copy("postgres"))
        status, findings, lines = checked(backend, copy("aune"))
    assert status == 1
    assert {"check": "balanced", "subject": key, "amount_cents": None,
            "detail": "postings sum to 100 cents, not 0"} in findings
    assert "ledger: " in "\n".join(lines) and any(
        line.startswith("ledger: ") and line.endswith(" 2 findings") for line in lines), lines


def tamper(backend, url: str) -> str:
    """Add 1,00 € to one posting of the copy's first client credit, past the append-only
    triggers (as someone with the database's files or its owner's login could); its key."""
    engine = create_engine(url)
    with engine.begin() as connection:
        posting, key = connection.execute(text(
            "SELECT p.id, t.key FROM ledger_postings p JOIN ledger_transactions t "
            "ON t.id = p.transaction_id JOIN ledger_accounts a ON a.id = p.account_id "
            "WHERE a.code LIKE 'client:%' ORDER BY p.id LIMIT 1")).one()
        if backend.name == "sqlite":
            connection.execute(text("DROP TRIGGER ledger_postings_no_update"))
        else:
            connection.execute(text("ALTER TABLE ledger_postings DISABLE TRIGGER USER"))
        connection.execute(text("UPDATE ledger_postings SET amount_cents = amount_cents + 100 "
                                "WHERE id = :id"), {"id": posting})
    engine.dispose()
    return key


@pytest.mark.parametrize("where", ["existing", "missing folder", "folder not writable",
                                   "the database", "its wal"])
def test_bad_output_is_one_line_exit_2_and_nothing_written(backend, session_factory, tmp_path,
                                                            where):
    build_world(session_factory)
    existing = tmp_path / "old.db"
    existing.write_bytes(b"an earlier backup")
    database = Path(make_url(backend.url).database or "")
    out = {"existing": existing, "missing folder": tmp_path / "nowhere" / "b.db",
           "folder not writable": Path("/proc/b.db"), "the database": database,
           "its wal": Path(f"{database}-wal")}[where]
    with session_factory() as session:
        entries = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    before = sorted(os.listdir(tmp_path))

    result = run(backend, backend.url_for("admin"), "admin", "db", "backup", "--out", str(out),
                 *(["--force"] if where in ("the database", "its wal") else []))

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    if backend.name == "postgresql":
        assert "pg_dump --format=custom" in result.stderr
    else:
        assert result.stderr == "valitystili: error: " + {
            "existing": f"{existing} already exists (use --force to replace it)",
            "missing folder": f"cannot write b.db: folder {tmp_path / 'nowhere'} does not exist",
            "folder not writable": "cannot write b.db: folder /proc: no such file or directory",
            "the database": f"{out} is the database being backed up (or one of its files)",
            "its wal": f"{out} is the database being backed up (or one of its files)",
        }[where] + "\n"
    assert sorted(os.listdir(tmp_path)) == before
    assert existing.read_bytes() == b"an earlier backup"
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() \
            == entries


def test_only_an_admin_backs_up_and_an_auditor_checks(backend, session_factory, tmp_path):
    build_world(session_factory)
    out = tmp_path / "b.db"
    refused = run(backend, backend.url_for("fiona"), "fiona", "db", "backup", "--out", str(out))
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: user fiona (finance) may not db backup; allowed roles: admin\n")
    assert not out.exists()
    handler = run(backend, backend.url_for("hannu"), "hannu", "db", "check")
    assert (handler.exit_code, handler.stderr) == (
        2, ("valitystili: error: user hannu (handler) may not db check; allowed roles: admin, "
            "auditor\n"))
    auditor = run(backend, backend.url_for("aune"), "aune", "db", "check")
    assert auditor.exit_code == 0, auditor.stderr
    assert auditor.stderr.splitlines()[-1].endswith(
        "nothing to reconcile, no bank statement has been imported")
