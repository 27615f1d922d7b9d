"""Crash injection: the real command line SIGKILLed at random moments, on SQLite and PostgreSQL.

Five commands, each as a process of its own (``python -c "from valitystili.cli import main;
main()" ...``): ``import`` of a 20 000-line camt.054 that books money for 200 clients, ``batch
run``, ``batch approve`` (by the second handler), ``batch export --out FILE`` and ``demo``.

Each test seeds its database once and keeps a copy (``helpers.crashes.Snapshot``), runs the
command once uninterrupted (its duration D, its end state, for the export its file's bytes) and
then plays rounds: a process is started and SIGKILLed after a time drawn uniformly from [0, D]
by ``random.Random`` seeded with SEED (printed in every assertion message; set
``VALITYSTILI_CRASH_SEED`` to replay or to explore other moments). D is the mean duration of the
uninterrupted runs from the seeded state so far, so the moments follow the command's real
duration as the machine's load changes (the seed fixes the moments as fractions of it; the work a
moment lands in varies with the machine's speed). A kill counts only when it found the process
still running (exit status -9); a process that ended first is a completed run.

The processes are forked from a zygote that has imported the package (``helpers.crashes``;
``VALITYSTILI_CRASH_PROCESSES=exec`` starts a fresh interpreter for each instead): a fresh
interpreter spends most of a small command's time importing modules, where a kill finds nothing.

After every kill:
- ``reconcile --check``, ``audit verify`` and ``ledger verify`` (their service functions) find
  nothing, and the stored state is either the state before the command or the uninterrupted
  run's end state (one command, one transaction: never anything in between);
- no payment file under the requested name unless it is the uninterrupted export's bytes.
The next round then starts from what the kill left, so every kill is followed by re-runs of the
same command until one completes; a completed run must end in the uninterrupted run's end state
(the same counts and sums of ledger transactions, payment orders, batches, obligations paid,
statement lines, balances and audit entries), and then the database goes back to its seeded
copy. The last kill is always followed by a completed re-run.

A re-run after a kill that landed after the commit meets the work done: ``import`` says the
entries are already present, ``batch run`` finds nothing new, ``batch approve`` is refused with
"batch 1 is already approved" (exit 2) and ``batch export`` with "already exported" (exit 2);
these count as completed runs when the state is the uninterrupted one. An export killed between
its commit and the rename of its file leaves the batch exported and no file: ``--again`` writes
the same bytes (the file is built from the batch alone), which the test checks.

``demo`` always works on a SQLite file in its own folder, whatever ``--db`` says; its
PostgreSQL half runs the same demo through ``run_demo(url=...)`` (as tests/demo does), whose
fresh start on PostgreSQL is an empty schema, so a killed PostgreSQL demo is re-run on the
emptied schema. The SQLite demo is re-run as it is, in the folder the kill left.

CI: ``CI_KILLS`` kills per command per backend. ``pytest -m soak tests/reliability``:
``SOAK_KILLS``.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from helpers import crashes, scenario
from helpers.statements import valid_hetu
from payments.test_batch_races import draft_batch, open_clients, receive, world
from sqlalchemy import select

from valitystili import payments as batches
from valitystili.base.banking_calendar import CALENDAR
from valitystili.oversight import reconcile, verification
from valitystili.payments.pain001 import validate_pain001
from valitystili.store import db
from valitystili.store.models import Client
from valitystili.trust.auth import Actor

SEED = int(os.environ.get("VALITYSTILI_CRASH_SEED", "20261102"))
CI_KILLS = 20
SOAK_KILLS = 200
MAX_ROUNDS_PER_KILL = 4          # a command that keeps finishing before its kill is a failure
DAY = date(2026, 11, 2)
MONTH_END = date(2026, 11, 30)
AUDITOR = Actor("aune", "auditor")
IMPORT_CLIENTS = 200
IMPORT_LINES = 20_000
BATCH_CLIENTS = 4
DEMO_CLIENTS = 2
DEMO_CODE = ("import json, sys; from pathlib import Path; from valitystili.demo.run import "
             "run_demo; print(json.dumps(run_demo(Path(sys.argv[1]), clients=int(sys.argv[2]), "
             "url=sys.argv[3]), default=str))")


# --- one command under test ----------------------------------------------------------------------


@dataclass
class Case:
    """A command, its seeded database and what a completed run must leave."""

    name: str
    user: str
    args: tuple[str, ...]
    as_of: date                                  # reconcile's day
    own_actions: tuple[str, ...] = ()            # audit actions each re-run may add again
    refusal: str | None = None                   # a re-run's stderr when the work was done
    out: Path | None = None                      # the payment file the command writes
    allowed: frozenset = frozenset()             # findings the uninterrupted run leaves
    expected: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)
    expected_findings: list = field(default_factory=list)
    file_bytes: bytes | None = None
    seconds: float = 0.0


class Rounds:
    """Kill rounds of one case on one backend (see the module docstring)."""

    def __init__(self, case: Case, backend, engine, folder: Path, kills_wanted: int):
        self.case = case
        self.backend = backend
        self.engine = engine
        self.factory = db.session_factory(engine)
        self.command = crashes.Command(backend, folder, tag=f"crash_{case.name}")
        self.kills_wanted = kills_wanted
        self.rng = random.Random(f"{SEED}:{case.name}:{backend.name}")
        self.kills = 0
        self.completed = 0
        self.committed_kills = 0
        self.attempts = 0              # runs since the database was last put back
        self.agains = 0                # exports written again (--again) since then
        self.leftover_temporaries = 0

    def where(self, extra: str = "") -> str:
        return (f"seed {SEED} ({self.case.name} on {self.backend.name}, kill {self.kills}, "
                f"completed runs {self.completed}){': ' + extra if extra else ''}")

    # -- measuring ---------------------------------------------------------------------------

    def baseline(self) -> None:
        """The uninterrupted run: its duration, end state and file; then back to the seed."""
        self.snapshot = crashes.Snapshot(self.backend, self.engine)
        with self.factory() as session:
            self.case.before = crashes.end_state(session)
        assert self.findings() == [], self.where("the seeded database is not clean")
        outcome = self.command.run(self.case.user, self.case.args)
        assert outcome.returncode == 0, self.where(outcome.stderr)
        self.case.seconds = outcome.seconds
        self.durations = [outcome.seconds]
        with self.factory() as session:
            self.case.expected = crashes.end_state(session)
        assert self.case.expected != self.case.before, self.where("the command did nothing")
        # Clean but for what the command leaves by design (the import: its notifications wait
        # for the day's camt.053, ``notified_not_on_statement``).
        self.case.expected_findings = self.findings()
        assert {check for check, _ in self.case.expected_findings} <= self.case.allowed, \
            self.where(f"the uninterrupted run is not clean: {self.case.expected_findings}")
        if self.case.out is not None:
            self.case.file_bytes = self.case.out.read_bytes()
            self.case.out.unlink()
        self.snapshot.restore()

    # -- the rounds --------------------------------------------------------------------------

    def play(self) -> None:
        """Kill runs at random moments until enough kills; after each kill the next run is the
        re-run that must finish the work, and a run that was not killed is checked as one."""
        pending = False
        rounds = 0
        while self.kills < self.kills_wanted:
            rounds += 1
            assert rounds <= MAX_ROUNDS_PER_KILL * self.kills_wanted, self.where(
                f"the {self.case.name} keeps finishing before its kill")
            if pending:
                self.before_re_run()
            outcome = self.attempt(self.rng.uniform(0, self.case.seconds))
            self.attempts += 1
            if outcome.killed:
                self.kills += 1
                self.command.wait_gone()
                self.after_kill()
                pending = True
            else:
                if not pending:
                    self.measured(outcome)
                self.after_completion(outcome)
                pending = False
        if pending:
            self.before_re_run()
            self.attempts += 1
            self.after_completion(self.attempt(None))

    def attempt(self, kill_after: float | None) -> crashes.Outcome:
        return self.command.run(self.case.user, self.case.args, kill_after=kill_after)

    def before_re_run(self) -> None:
        """What happens between a kill and the re-run: nothing, the command is run again."""

    def measured(self, outcome: crashes.Outcome) -> None:
        """An uninterrupted run from the seeded state: D becomes the mean of all such runs, so
        the kill moments follow the command's real duration as the machine's load changes."""
        self.durations.append(outcome.seconds)
        self.case.seconds = sum(self.durations) / len(self.durations)

    def after_kill(self) -> None:
        with self.factory() as session:
            state = crashes.end_state(session)
        if state == self.case.before:
            assert self.findings() == [], self.where("findings after a kill")
        else:
            assert self.findings() == self.case.expected_findings, self.where(
                "findings after a kill")
            assert self.same_end(state), self.where(
                f"a kill left a state between before and after: {state}")
            self.committed_kills += 1
        self.check_file(after_kill=True)

    def after_completion(self, outcome: crashes.Outcome) -> None:
        if outcome.returncode != 0:
            refused = self.case.refusal is not None and self.case.refusal in outcome.stderr
            assert refused and outcome.returncode == 2, self.where(
                f"the re-run failed ({outcome.returncode}): {outcome.stderr}")
            if self.case.out is not None and not self.case.out.exists():
                # Killed between the commit and the rename: the copy is the same file.
                again = self.command.run(self.case.user, (*self.case.args, "--again"))
                assert again.returncode == 0, self.where(again.stderr)
                self.agains += 1       # its own batch.export entry, as any export again
        with self.factory() as session:
            state = crashes.end_state(session)
        assert self.same_end(state), self.where(f"end state {state} != {self.case.expected}")
        assert self.findings() == self.case.expected_findings, self.where(
            "findings after a completed run")
        self.check_file(after_kill=False)
        self.completed += 1
        self.attempts = 0
        self.agains = 0
        self.snapshot.restore()
        if self.case.out is not None:
            self.case.out.unlink()

    # -- what must hold ----------------------------------------------------------------------

    def same_end(self, state: dict) -> bool:
        """The uninterrupted end state; each re-run since the work was done may have added its
        own audit entry ("already present", "nothing new"), and an export written again after a
        kill between its commit and its rename its own ``batch.export``."""
        expected = self.case.expected
        if {k: v for k, v in state.items() if k != "audit"} != \
                {k: v for k, v in expected.items() if k != "audit"}:
            return False
        for action in set(state["audit"]) | set(expected["audit"]):
            got, want = state["audit"].get(action, 0), expected["audit"].get(action, 0)
            re_runs = self.attempts if action in self.case.own_actions else 0
            if action == "batch.export":
                re_runs += self.agains
            if not want <= got <= want + re_runs:
                return False
        return True

    def findings(self) -> list[tuple[str, str]]:
        """What ``reconcile --check``, ``audit verify`` and ``ledger verify`` would print."""
        with self.factory() as session:
            found = [(f.check, f.subject) for f in reconcile.check_all(
                session, self.case.as_of, today=self.case.as_of)]
            found += [(f.check, f.subject)
                      for f in verification.verify_records(session, AUDITOR).findings]
            found += [(f.check, f.subject)
                      for f in verification.verify_ledger(session, AUDITOR).findings]
        return found

    def check_file(self, *, after_kill: bool) -> None:
        """Under its own name only the whole file, the uninterrupted export's bytes; other
        names in the folder are the staging area's temporaries."""
        out = self.case.out
        if out is None:
            return
        if out.exists():
            assert out.read_bytes() == self.case.file_bytes, self.where(
                "a payment file differs from the uninterrupted export")
        elif not after_kill:
            raise AssertionError(self.where("a completed export left no file"))
        temporaries = list(out.parent.glob(f".{out.name}.*.tmp"))
        self.leftover_temporaries = len(temporaries) - 1        # less the one planted

    def report(self) -> str:
        return (f"{self.case.name} on {self.backend.name}: {self.kills} kills "
                f"({self.committed_kills} with the work already stored), {self.completed} completed runs, "
                f"uninterrupted runs {self.case.seconds:.2f} s on average, seed {SEED}, "
                f"temporaries left {self.leftover_temporaries}")


class DemoRounds(Rounds):
    """``demo``: its own database, rebuilt from nothing by every run (module docstring).

    After a kill the demo's database may hold part of the month (each banking day is several
    units of work); the audit trail and the ledger must be intact, every payment file under its
    name must be whole (it validates against the pain.001 schema), and the reconciliation
    findings may only be those of a month cut short, which the re-run's fresh start resolves:
    ``KILLED_DEMO_FINDINGS``. A completed run prints the same summary as the uninterrupted one
    and leaves the same counts and sums (audit entries included: every run starts afresh)."""

    def __init__(self, backend, engine, folder: Path, kills_wanted: int):
        self.out = folder / "demo"
        if backend.name == "sqlite":
            args = ("--format", "json", "demo", "--clients", str(DEMO_CLIENTS),
                    "--out", str(self.out))
            code = crashes.ENTRY
        else:
            args, code = (), DEMO_CODE
        case = Case("demo", "admin" if backend.name == "sqlite" else "postgres", args,
                    MONTH_END)
        super().__init__(case, backend, engine, folder, kills_wanted)
        if backend.name == "postgresql":
            self.case.args = (str(self.out), str(DEMO_CLIENTS), self.command.url("postgres"))
        self.code = code
        self.summary: dict = {}

    def engine_of_demo(self):
        if self.backend.name == "postgresql":
            return self.engine
        path = self.out / "demo.db"
        return db.make_engine(f"sqlite:///{path}") if path.is_file() else None

    def attempt(self, kill_after: float | None) -> crashes.Outcome:
        return self.command.run(self.case.user, self.case.args, kill_after=kill_after,
                                code=self.code)

    def baseline(self) -> None:
        self.snapshot = crashes.Snapshot(self.backend, self.engine)   # PostgreSQL: empty
        outcome = self.attempt(None)
        assert outcome.returncode == 0, self.where(outcome.stderr)
        self.case.seconds = outcome.seconds
        self.durations = [outcome.seconds]
        self.summary = json.loads(outcome.stdout)
        assert self.summary["reconcile"] == "clean", self.where(str(self.summary))
        self.case.expected, self.case.expected_findings = self.stored()
        self.snapshot.restore()

    def stored(self) -> tuple[dict | None, list]:
        engine = self.engine_of_demo()
        if engine is None:
            return None, []
        try:
            if not db.is_initialised(engine):
                return None, []
            with db.session_factory(engine)() as session:
                state = crashes.end_state(session)
                found = [(f.check, f.subject) for f in reconcile.check_all(
                    session, MONTH_END, today=MONTH_END)]
                records = [(f.check, f.subject)
                           for f in verification.verify_records(session, AUDITOR).findings]
            assert records == [], self.where(f"audit or ledger findings: {records}")
            return state, found
        finally:
            if engine is not self.engine:
                engine.dispose()

    def before_re_run(self) -> None:
        if self.backend.name == "postgresql":
            self.snapshot.restore()           # run_demo's fresh start: an empty database

    def after_kill(self) -> None:
        _state, found = self.stored()
        unexpected = {check for check, _ in found} - KILLED_DEMO_FINDINGS
        assert not unexpected, self.where(f"findings after a kill: {found}")
        for path in (self.out / "payments").glob("*.xml") if self.out.is_dir() else ():
            validate_pain001(path.read_bytes())     # whole, or not there at all

    def after_completion(self, outcome: crashes.Outcome) -> None:
        assert outcome.returncode == 0, self.where(
            f"the re-run failed ({outcome.returncode}): {outcome.stderr}")
        assert json.loads(outcome.stdout) == self.summary, self.where("another summary")
        state, found = self.stored()
        assert state == self.case.expected, self.where(f"end state {state}")
        assert found == self.case.expected_findings == [], self.where(f"findings {found}")
        self.completed += 1
        self.snapshot.restore()


#: Reconciliation findings of a demo killed in the middle of its month; the re-run starts
#: afresh, so none survives it.
KILLED_DEMO_FINDINGS = frozenset({
    # a day's camt.054 was imported, but the kill came before the camt.053 that books it
    "notified_not_on_statement",
    # a day's pain.001 was executed by the simulated bank, but the kill came before the
    # camt.053 that shows the payments leaving
    "uncleared_payment",
})


# --- the seeded databases ------------------------------------------------------------------------


def import_case(factory, folder: Path) -> Case:
    """200 clients; a camt.054 of 20 000 credits with their references over November."""
    with factory() as session, session.begin():
        w = scenario.world(session)
        for n in range(IMPORT_CLIENTS):
            scenario.client(session, w, hetu=valid_hetu("010190", "-", 2 + n),
                            name=f"Asiakas {n}")
    with factory() as session:
        references = list(session.execute(select(Client.reference).order_by(Client.id)).scalars())
    path = folder / "ilmoitukset-054.xml"
    crashes.big_camt054(path, references, IMPORT_LINES,
                        CALENDAR.banking_days(date(2026, 11, 1), MONTH_END), scenario.CITY_IBAN)
    return Case("import", "fiona", ("import", str(path)), MONTH_END, own_actions=("import",),
                allowed=frozenset({"notified_not_on_statement"}))


def batch_world(factory) -> None:
    world(factory)
    receive(factory, open_clients(factory, 0, BATCH_CLIENTS))


def run_case(factory, folder: Path) -> Case:
    batch_world(factory)
    return Case("batch-run", "hannu", ("batch", "run", "--date", "2.11.2026", "--yes"), DAY,
                own_actions=("batch.run",))


def approve_case(factory, folder: Path) -> Case:
    batch_world(factory)
    batch = draft_batch(factory)
    return Case("batch-approve", "hilla", ("batch", "approve", str(batch)), DAY,
                refusal=f"batch {batch} is already approved")


def export_case(factory, folder: Path) -> Case:
    batch_world(factory)
    batch = draft_batch(factory)
    with factory() as session, session.begin():
        batches.approve_batch(session, scenario.world_actors().hilla, str(batch), today=DAY)
    out = folder / "maksut-2026-11-02.xml"
    # What an export killed after staging its file leaves: a temporary next to the target.
    # Every round runs with it (and with any a kill leaves); none may get in the way.
    (folder / f".{out.name}.0123456789abcdef.tmp").write_bytes(b"<?xml version=")
    return Case("batch-export", "fiona", ("batch", "export", str(batch), "--out", str(out),
                                          "--yes"), DAY,
                refusal=f"batch {batch} was already exported", out=out)


CASES = {"import": import_case, "batch-run": run_case, "batch-approve": approve_case,
         "batch-export": export_case}
COMMANDS = [*CASES, "demo"]


def crash_rounds(name: str, backend, engine, tmp_path: Path, kills: int) -> Rounds:
    folder = tmp_path / "work"
    folder.mkdir()
    if name == "demo":
        rounds = DemoRounds(backend, engine, folder, kills)
    else:
        case = CASES[name](db.session_factory(engine), folder)
        rounds = Rounds(case, backend, engine, folder, kills)
    try:
        rounds.baseline()
        rounds.play()
    finally:
        rounds.command.close()
        if getattr(rounds, "snapshot", None) is not None:
            rounds.snapshot.drop()
    return rounds


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_a_killed_command_leaves_the_books_clean_and_its_re_run_finishes_the_work(
        name, backend, engine, tmp_path):
    rounds = crash_rounds(name, backend, engine, tmp_path, CI_KILLS)
    print(rounds.report())
    assert rounds.kills >= CI_KILLS, rounds.where()


@pytest.mark.soak
@pytest.mark.parametrize("name", COMMANDS)
def test_soak_a_killed_command_leaves_the_books_clean(name, backend, engine, tmp_path):
    rounds = crash_rounds(name, backend, engine, tmp_path, SOAK_KILLS)
    print(rounds.report())
    assert rounds.kills >= SOAK_KILLS, rounds.where()
