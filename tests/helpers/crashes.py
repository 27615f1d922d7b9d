"""Builders for the crash-injection tests (no tests in here).

- ``Command`` runs ``valitystili ARGS`` as a real process against a test database and SIGKILLs
  it at a chosen moment. Two ways to start it: ``exec``, a new ``python -c "from
  valitystili.cli import main; main()" ARGS`` each time (as ``tests/payments/test_batch_races.py``
  does), or ``fork`` (the default), the same ``-c`` code run in a child forked from a
  *zygote*: a process that has imported the whole package once and forks a child per command.
  A fresh interpreter spends most of a small command's time importing modules, where a kill
  tests nothing; the zygote's children spend it all on the command, on their own database
  connections, files and exit status. ``VALITYSTILI_CRASH_PROCESSES=exec`` chooses the other.
- ``Snapshot`` keeps a seeded database and puts it back between rounds: on SQLite a copy of
  the file (the WAL checkpointed first); on PostgreSQL a copy of every table in a side schema,
  restored into the test's schema with triggers off and the sequences set back. (A fresh schema
  per round costs a second of migrations; the copy costs a few milliseconds.)
- ``end_state`` is what an uninterrupted run must leave and a re-run after a kill must reach:
  counts and sums of ledger transactions, payment orders, statement
  lines, batches, obligations (settled and paid) and audit entries by action.
- ``findings`` are everything ``reconcile --check``, ``audit verify`` and ``ledger verify``
  would print, through the same service functions.
- ``big_camt054`` writes a camt.054 of many itemised credits with the clients' references.
"""

from __future__ import annotations

import json
import os
import pkgutil
import select as selectors_module
import shutil
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

import ledger
from ledger.models import transactions
from valitystili.store.models import (
    AuditEntry,
    Obligation,
    PaymentBatch,
    PaymentOrder,
    StatementLine,
)

ENTRY = "from valitystili.cli import main; main()"
WAIT_SECONDS = 120
PROCESSES = os.environ.get("VALITYSTILI_CRASH_PROCESSES", "fork")
TESTS = Path(__file__).resolve().parents[1]
ZYGOTE = (f"import sys; sys.path[:0] = [{str(TESTS)!r}, {str(TESTS.parent)!r}]; "
          "from helpers.crashes import serve; serve()")


# --- processes ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One process: whether the kill found it still running, its exit code and output."""

    killed: bool
    returncode: int
    stdout: str
    stderr: str
    seconds: float


class Command:
    """``valitystili ARGS`` (or any ``-c`` code) as a user, in a process of its own."""

    def __init__(self, backend, cwd: Path, tag: str = "crash"):
        self.backend = backend
        self.cwd = cwd
        self.tag = f"{tag}_{backend.schema or 'sqlite'}"[:63]   # application_name (PostgreSQL)
        self.urls: dict[str, str] = {}

    def url(self, user: str) -> str:
        if user not in self.urls:
            url = self.backend.url_for(user)
            if self.backend.name == "postgresql":
                url += f"&application_name={self.tag}"
            self.urls[user] = url
        return self.urls[user]

    def env(self, user: str) -> dict:
        return {**os.environ, "VALITYSTILI_DB": self.url(user),
                "VALITYSTILI_USER": user if self.backend.name == "sqlite" else ""}

    def _zygote(self) -> Zygote:
        if getattr(self, "zygote", None) is None:
            self.zygote = Zygote(self.cwd)
        return self.zygote

    def close(self) -> None:
        if getattr(self, "zygote", None) is not None:
            self.zygote.close()
            self.zygote = None

    def wait_gone(self) -> None:
        """Until the server has ended the killed process's sessions (PostgreSQL): a session
        whose client died is rolled back or, when COMMIT had reached it, committed."""
        if self.backend.name != "postgresql":
            return
        deadline = time.monotonic() + WAIT_SECONDS
        with self.backend.admin_engine.connect() as connection:
            while connection.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag"),
                    {"tag": self.tag}).scalar_one():
                assert time.monotonic() < deadline, "a killed process's session stays open"
                time.sleep(0.01)

    def start(self, user: str, args: tuple[str, ...], code: str = ENTRY) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", code, *args], env=self.env(user),
                                cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def run(self, user: str, args: tuple[str, ...], *, kill_after: float | None = None,
            code: str = ENTRY) -> Outcome:
        """Run to the end, or SIGKILL after ``kill_after`` seconds if it is still running."""
        if PROCESSES == "fork":
            return self._zygote().run(self.env(user), self.cwd, code, args, kill_after)
        started = time.monotonic()
        process = self.start(user, args, code)
        if kill_after is not None:
            try:
                process.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=WAIT_SECONDS)
        # Killed only when the signal found it running (it may have ended just before).
        killed = process.returncode == -signal.SIGKILL
        return Outcome(killed, process.returncode, out, err, time.monotonic() - started)


class Zygote:
    """A process that has imported the package and forks one child per command (``serve``)."""

    def __init__(self, cwd: Path):
        self.process = subprocess.Popen([sys.executable, "-c", ZYGOTE], cwd=cwd,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.pending = b""
        assert self._message(WAIT_SECONDS) == {"ready": True}

    def _message(self, timeout: float | None) -> dict | None:
        """The zygote's next line, or None when none came within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self.pending:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not selectors_module.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            assert chunk, "the zygote ended"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def _send(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def run(self, env: dict, cwd: Path, code: str, args: tuple[str, ...],
            kill_after: float | None) -> Outcome:
        folder = Path(cwd)
        out, err = folder / ".crash-stdout", folder / ".crash-stderr"
        self._send({"env": env, "cwd": str(cwd), "code": code, "args": list(args),
                    "stdout": str(out), "stderr": str(err)})
        started = time.monotonic()
        child = self._message(WAIT_SECONDS)["pid"]
        ended = self._message(kill_after)
        if ended is None:
            # Not reaped until we say so: the pid is still this child's, running or a zombie.
            os.kill(child, signal.SIGKILL)
            ended = self._message(WAIT_SECONDS)
        seconds = time.monotonic() - started
        self._send({"reap": child})
        code = ended["status"]
        return Outcome(code == -signal.SIGKILL, code, out.read_text(encoding="utf-8"),
                       err.read_text(encoding="utf-8"), seconds)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=WAIT_SECONDS)
        self.process.stdout.close()


def _preload() -> None:
    """Import every module a command may load (not the migrations: Alembic runs those)."""
    import imports
    import ledger as ledger_package
    import valitystili

    for package in (valitystili, ledger_package, imports):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + ".",
                                            onerror=lambda _name: None):
            if ".migrations" in module.name:
                continue
            try:
                __import__(module.name)
            except Exception:  # noqa: BLE001, S112 - the child imports it again, failing as the CLI would
                continue


def serve() -> None:
    """The zygote: for each request on stdin fork a child running its ``-c`` code with its
    arguments, environment and folder, stdout and stderr to files; report its pid, then its
    exit status (negative: the signal), and reap it only when asked."""
    _preload()
    requests = sys.stdin.buffer
    reply = sys.stdout.buffer

    def say(message: dict) -> None:
        reply.write(json.dumps(message).encode() + b"\n")
        reply.flush()

    say({"ready": True})
    for line in requests:
        request = json.loads(line)
        if "reap" in request:
            os.waitpid(request["reap"], 0)
            continue
        child = os.fork()
        if child == 0:
            _child(request)
        say({"pid": child})
        ended = os.waitid(os.P_PID, child, os.WEXITED | os.WNOWAIT)
        exited = ended.si_code == os.CLD_EXITED
        say({"status": ended.si_status if exited else -ended.si_status})


def _child(request: dict) -> None:
    for fd, name in ((1, request["stdout"]), (2, request["stderr"])):
        opened = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = ["-c", *request["args"]]
    code = 0
    try:
        exec(request["code"], {"__name__": "__main__"})  # noqa: S102 - the `-c` code, as python -c runs it
    except SystemExit as leaving:
        if isinstance(leaving.code, int) or leaving.code is None:
            code = leaving.code or 0
        else:
            print(leaving.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - as the interpreter would: the traceback, exit 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# --- keeping and restoring a seeded database -----------------------------------------------------


class Snapshot:
    """The test database as it is now, to be put back with ``restore`` (module docstring)."""

    def __init__(self, backend, engine):
        self.backend = backend
        self.engine = engine
        if backend.name == "sqlite":
            engine.dispose()                  # the last connection checkpoints the WAL
            self.path = Path(engine.url.database)
            self.copy = self.path.with_name(self.path.name + ".seeded")
            shutil.copyfile(self.path, self.copy)
        else:
            self.side = f"{backend.schema}_seeded"
            self.tables = [t.name for t in ledger.metadata.sorted_tables]
            with backend.admin_engine.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{self.side}"'))
                for name in self.tables:
                    connection.execute(text(
                        f'CREATE TABLE "{self.side}"."{name}" AS '
                        f'SELECT * FROM "{backend.schema}"."{name}"'))
                self.sequences = connection.execute(text(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = :s"),
                    {"s": backend.schema}).all()

    def restore(self) -> None:
        if self.backend.name == "sqlite":
            self.engine.dispose()
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.copy, self.path)
            return
        schema = self.backend.schema
        with self.backend.admin_engine.connect() as connection:
            connection.execute(text("BEGIN"))
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for name in reversed(self.tables):     # DELETE: far quicker than TRUNCATE here
                connection.execute(text(f'DELETE FROM "{schema}"."{name}"'))
            for name in self.tables:
                connection.execute(text(f'INSERT INTO "{schema}"."{name}" '
                                        f'SELECT * FROM "{self.side}"."{name}"'))
            for name, value in self.sequences:
                called = "true" if value is not None else "false"
                connection.execute(text(f"SELECT setval('\"{schema}\".\"{name}\"', "
                                        f"{value if value is not None else 1}, {called})"))
            connection.execute(text("COMMIT"))

    def drop(self) -> None:
        if self.backend.name == "sqlite":
            self.copy.unlink(missing_ok=True)
            return
        with self.backend.admin_engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.side}" CASCADE'))


# --- what an uninterrupted run leaves ------------------------------------------------------------


def end_state(session) -> dict:
    """Counts and sums that a re-run after a kill must bring to an uninterrupted run's."""
    def count_sum(table, column, *where):
        row = session.execute(select(func.count(), func.coalesce(func.sum(column), 0))
                              .select_from(table).where(*where)).one()
        return int(row[0]), int(row[1])

    orders = session.execute(
        select(PaymentOrder.status, PaymentOrder.kind, func.count(),
               func.sum(PaymentOrder.amount_cents))
        .group_by(PaymentOrder.status, PaymentOrder.kind)
        .order_by(PaymentOrder.status, PaymentOrder.kind)).all()
    batches = session.execute(select(PaymentBatch.status, func.count())
                              .group_by(PaymentBatch.status)
                              .order_by(PaymentBatch.status)).all()
    actions = session.execute(select(AuditEntry.action, func.count())
                              .group_by(AuditEntry.action).order_by(AuditEntry.action)).all()
    obligations = session.execute(
        select(Obligation.status, func.count(), func.sum(Obligation.amount_cents),
               func.sum(Obligation.paid_cents))
        .group_by(Obligation.status).order_by(Obligation.status)).all()
    balances = {b.code: b.balance_cents for b in ledger.balances(session) if b.balance_cents}
    return {
        "transactions": _transactions(session),
        "orders": [tuple(r) for r in orders],
        "batches": [tuple(r) for r in batches],
        "obligations": [tuple(r) for r in obligations],
        "bank_lines": count_sum(StatementLine, StatementLine.amount_cents),
        "balances": balances,
        "audit": dict(actions),
    }


def _transactions(session) -> int:
    return session.execute(select(func.count()).select_from(transactions)).scalar_one()


# --- statements ----------------------------------------------------------------------------------


def big_camt054(path: Path, references: list[str], lines: int, days: list[date],
                iban: str) -> int:
    """A camt.054 itemising ``lines`` credits with the clients' Finnish references, spread over
    ``days`` (one entry a day holding that day's items); returns the total in cents."""
    per_day: dict[date, list[tuple[int, int]]] = {day: [] for day in days}
    for n in range(lines):
        per_day[days[n * len(days) // lines]].append((n, 1_000 + (n * 7_919) % 49_000))
    ns = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
    total = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{ns}">'
                  "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>CRASH-054</MsgId>"
                  "<CreDtTm>2026-11-30T06:00:00+02:00</CreDtTm></GrpHdr><Ntfctn>"
                  f"<Id>CRASH-054</Id><Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>")
        for day, items in per_day.items():
            day_total = sum(cents for _n, cents in items)
            total += day_total
            out.write(f'<Ntry><Amt Ccy="EUR">{_euros(day_total)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
                      f"<Sts>BOOK</Sts><BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>"
                      f"<ValDt><Dt>{day.isoformat()}</Dt></ValDt>"
                      f"<AcctSvcrRef>C{day:%Y%m%d}</AcctSvcrRef>"
                      "<BkTxCd><Prtry><Cd>705</Cd></Prtry></BkTxCd><NtryDtls>")
            out.write("".join(_item(n, cents, references[n % len(references)])
                              for n, cents in items))
            out.write("</NtryDtls></Ntry>\n")
        out.write("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")
    return total


def _item(n: int, cents: int, reference: str) -> str:
    return (f"<TxDtls><Refs><AcctSvcrRef>C{n:07d}</AcctSvcrRef></Refs>"
            f'<AmtDtls><TxAmt><Amt Ccy="EUR">{_euros(cents)}</Amt></TxAmt></AmtDtls>'
            "<RltdPties><Dbtr><Nm>MAKSAJA</Nm></Dbtr></RltdPties><RmtInf><Strd><CdtrRefInf>"
            "<Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>")


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
