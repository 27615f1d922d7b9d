"""The real command line in processes of their own, started together (no tests in here).

    crowd = Crowd(backend, tmp_path, "race_run")
    results = crowd.race([("hannu", ("batch", "run", "--date", "2.11.2026", "--yes"))] * 8)

- Each process is ``valitystili ARGS`` as its user against the test database (on PostgreSQL a
  database login of that name, ``application_name`` = the crowd's tag so the test finds its
  own sessions in ``pg_stat_activity``; on SQLite ``VALITYSTILI_USER``).
- **The barrier.** A process loads the command line, says it is ready (a file of its own) and
  waits for the start file; the test creates it once every process is ready, so none has a
  head start of its interpreter's start-up.
- **The gate** (PostgreSQL): the test holds ``audit_log`` locked, so the first process to reach
  its audit entry waits there in the middle of its transaction, holding whatever it locked
  before; the others queue behind it. The gate opens once every process waits on a lock: the
  most contended interleaving, every time. On SQLite the gate is open (its writers are
  serialised by the file lock).
- ``Outcome`` is a process's exit code, stdout and stderr, with its user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

WAIT_SECONDS = 60
#: What every process loads before the barrier: the database and the services the raced
#: commands use, so the race starts where the commands begin to work, not at their imports.
PRELOAD = ("sqlalchemy.orm", "valitystili.cli.app", "valitystili.store.db",
           "valitystili.payments", "valitystili.statements.service",
           "valitystili.statements.income", "valitystili.cli.commands_batch",
           "valitystili.cli.commands_import")
#: Loads the command line (and ``PRELOAD``), waits at the barrier, then runs the command as
#: ``valitystili`` would.
ENTRY = """\
import os, sys, time
from pathlib import Path
import importlib
from valitystili.cli import main
for name in os.environ["VALITYSTILI_TEST_PRELOAD"].split():
    importlib.import_module(name)
gate = Path(os.environ["VALITYSTILI_TEST_START"])
Path(f"{gate}.ready.{os.getpid()}").touch()
deadline = time.monotonic() + 60
while not gate.exists() and time.monotonic() < deadline:
    time.sleep(0.005)
main()
"""


@dataclass(frozen=True)
class Outcome:
    user: str
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


class Crowd:
    """Processes running ``valitystili`` against ``backend``'s database, started together."""

    def __init__(self, backend, folder: Path, tag: str):
        self.backend = backend
        self.folder = folder
        self.tag = f"{tag}_{backend.schema or 'sqlite'}"
        self.rounds = 0

    def environment(self, user: str, start: Path, extra: dict | None = None) -> dict:
        url = self.backend.url_for(user)
        if self.backend.name == "postgresql":
            url += f"&application_name={self.tag}"
        return {**os.environ, "VALITYSTILI_DB": url, "VALITYSTILI_TEST_START": str(start),
                "VALITYSTILI_TEST_PRELOAD": " ".join(PRELOAD),
                "VALITYSTILI_USER": user if self.backend.name == "sqlite" else "",
                **(extra or {})}

    def start(self, user: str, args: tuple[str, ...], start: Path,
              extra: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", ENTRY, *args],
                                env=self.environment(user, start, extra), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)

    def race(self, commands: list[tuple[str, tuple[str, ...]]], *,
             extra: dict | None = None) -> list[Outcome]:
        """Run ``(user, args)`` commands at once (barrier, then the gate) and wait for all."""
        self.rounds += 1
        start = self.folder / f"start-{self.tag}-{self.rounds}"
        processes = [self.start(user, args, start, extra) for user, args in commands]
        try:
            with self.gate():
                self.until_ready(start, processes)
                start.touch()
                if self.backend.name == "postgresql":
                    self.until_waiting(len(processes), processes)
            return [finish(user, process) for (user, _), process in zip(commands, processes)]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()

    def run(self, user: str, *args: str, extra: dict | None = None) -> Outcome:
        """One process alone (no barrier to wait at)."""
        return finish(user, self.begin(user, *args, extra=extra))

    def begin(self, user: str, *args: str, extra: dict | None = None) -> subprocess.Popen:
        """One process started now, past the barrier at once (a test that orders its
        processes itself: ``gate`` and ``until_waiting``)."""
        start = self.folder / f"start-{self.tag}-alone"
        start.touch()
        return self.start(user, args, start, extra)

    def until_ready(self, start: Path, processes: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(list(self.folder.glob(f"{start.name}.ready.*"))) < len(processes):
            ended = [p for p in processes if p.poll() is not None]
            assert not ended, [p.communicate() for p in ended]
            assert time.monotonic() < deadline, "not every process reached the barrier"
            time.sleep(0.02)

    def waiting(self) -> int:
        """How many of this crowd's sessions wait on a lock (PostgreSQL)."""
        with self.backend.admin_engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag "
                "AND wait_event_type = 'Lock'"), {"tag": self.tag}).scalar_one()

    def until_waiting(self, count: int, processes: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while self.waiting() < count:
            ended = [p for p in processes if p.poll() is not None]
            if ended:   # a process that ended early (refused before any lock) waits on nothing
                count = min(count, len(processes) - len(ended))
                if self.waiting() >= count:
                    return
            assert time.monotonic() < deadline, f"fewer than {count} processes reached a lock"
            time.sleep(0.05)

    @contextmanager
    def gate(self):
        """Hold the audit trail locked (PostgreSQL) until the block ends: writers wait there."""
        if self.backend.name != "postgresql":
            yield
            return
        with self.held("LOCK TABLE audit_log IN EXCLUSIVE MODE"):
            yield

    @contextmanager
    def held(self, statement: str, params: dict | None = None):
        """Run ``statement`` (a lock) in a transaction of the test's own, kept open for the block."""
        if self.backend.name == "sqlite":
            import sqlite3

            connection = sqlite3.connect(self.backend.url.removeprefix("sqlite:///"),
                                         isolation_level=None)
            connection.execute(statement, params or {})
            try:
                yield
            finally:
                connection.execute("ROLLBACK")
                connection.close()
            return
        with self.backend.admin_engine.connect() as connection:
            connection.execute(text(f'SET search_path TO "{self.backend.schema}"'))
            connection.execute(text("BEGIN"))
            connection.execute(text(statement), params or {})
            try:
                yield
            finally:
                connection.execute(text("ROLLBACK"))


def finish(user: str, process: subprocess.Popen) -> Outcome:
    out, err = process.communicate(timeout=WAIT_SECONDS)
    return Outcome(user, process.returncode, out, err)
