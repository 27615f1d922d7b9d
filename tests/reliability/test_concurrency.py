"""Eight users giving the same command at the same moment, as real command-line processes.

Each scenario starts eight ``valitystili`` processes at a barrier (``helpers.processes``; on
PostgreSQL through the gate too, so all eight are inside their transactions, queued on a lock,
before the first may finish) and then counts from the database what was written:

1. ``batch run --date D`` ×8: one batch holds the day's orders, each ordered once; the seven
   others find nothing new (exit 0, one line saying what the day's batch already holds).
2. ``import FILE`` ×8 of one camt.054 of 300 entries: each bank line booked once; the seven
   others find every entry already present (exit 0, the file's one summary line).
3. ``batch approve B`` ×8 by eight second handlers: one approval, each order debited once;
   seven refused with exit 2, "batch B is already approved".
4. ``batch export B --out`` ×8: one first export and one file; seven refused with exit 2,
   "batch B was already exported … by fiona", and no file of theirs.
5. ``income assign LINE CLIENT`` ×8 of one suspense line: booked once; seven refused with
   exit 2, "line L is already assigned to client C".

None waits past the lock timeout: a lock someone else holds longer than
``lock_timeout_seconds`` ends the command with exit 3, one line, nothing written. Afterwards
``ledger verify`` and ``audit verify`` are clean and ``reconcile --check`` finds nothing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date

import pytest
from conftest import Cli
from helpers import scenario
from helpers.processes import Crowd
from helpers.statements import Tx, camt054, ntry, snapshot, valid_hetu, write
from sqlalchemy import func, select

import ledger
from ledger.models import transactions
from valitystili import payments
from valitystili.payments.batches import BATCH_LOCK
from valitystili.statements import service as statements
from valitystili.store.models import (
    AuditEntry,
    Client,
    PaymentBatch,
    PaymentOrder,
    StatementLine,
)
from valitystili.trust import configuration, users
from valitystili.trust.auth import Actor

PROCESSES = 8
DAY = date(2026, 11, 2)
CLIENTS = 6
#: The second handlers racing to approve a batch or assign a line (hannu runs the batches).
HANDLERS = ("hilla", "helmi", "heikki", "henna", "harri", "hely", "hemmo", "hertta")
#: What the worked example's plan orders on 2.11.2026 once Kela's 940,00 came: the rent and
#: the first weekly instalment.
RENT_CENTS, INSTALMENT_CENTS = 52000, 7500
IMPORT_ENTRIES = 300
KELA_CENTS = 56000 + 38000        # what each client has after the world's import
ERROR = "valitystili: error: "


# --- the world --------------------------------------------------------------------------------


def set_up(factory, folder) -> list[int]:
    """Users (and seven more handlers), the city's account, six clients with the worked
    example's plan in force from 1.11.2026, and Kela's 560,00 and 380,00 for each imported."""
    with factory() as session, session.begin():
        scenario.world(session)
        for name in HANDLERS[1:]:
            users.add_user(session, Actor("admin", "admin"), name, "handler")
    numbers = open_clients(factory)
    with factory() as session, session.begin():
        statements.import_file(session, scenario.world_actors().fiona,
                               kela_file(factory, folder, numbers))
    return numbers


def open_clients(factory) -> list[int]:
    w = scenario.world_actors()
    numbers = []
    with factory() as session, session.begin():
        for n in range(CLIENTS):
            number = scenario.client(session, w, hetu=valid_hetu("010190", "-", 100 + n),
                                     name=f"Asiakas {n}", start_on=date(2026, 11, 1),
                                     review_on=date(2027, 2, 1))
            scenario.plan(session, w, number, scenario.WORKED_EXAMPLE,
                          effective_on=date(2026, 11, 1), today=date(2026, 11, 1))
            numbers.append(number)
    return numbers


def references(factory, numbers: list[int]) -> list[str]:
    with factory() as session:
        return [session.get(Client, n).reference for n in numbers]


def kela_file(factory, folder, numbers: list[int]):
    """Kela's 560,00 and 380,00 for each client, by reference, as a camt.054 file."""
    entries = [ntry(amount, f"KELA{i:03d}{k}", Tx(amount=amount, reference=ref, payer="KELA"))
               for i, ref in enumerate(references(factory, numbers))
               for k, amount in enumerate(("560.00", "380.00"))]
    return write(folder, "kela-054.xml", camt054(*entries, notification_id="KELA-1"))


def big_file(factory, folder, numbers: list[int]):
    """300 payments of 1,01 € … 3,00 € by reference to the six clients in turn, and one
    without a reference (suspense): ``IMPORT_ENTRIES`` entries, 301 bank lines."""
    refs = references(factory, numbers)
    entries = [ntry(cents(n), f"BIG{n:04d}", Tx(amount=cents(n), reference=refs[n % CLIENTS],
                                                payer="Kela"))
               for n in range(IMPORT_ENTRIES - 1)]
    entries.append(ntry("77.00", "BIG-UNKNOWN", Tx(amount="77.00", payer="Tuntematon")))
    return write(folder, "many-054.xml", camt054(*entries, notification_id="MANY-1"))


def cents(n: int) -> str:
    return f"{(101 + n) // 100}.{(101 + n) % 100:02d}"


def unknown_payment(factory, folder) -> int:
    """An incoming 123,45 € nobody's reference names: a line in suspense; its id."""
    path = write(folder, "unknown-054.xml", camt054(
        ntry("123.45", "UNKNOWN-1", Tx(amount="123.45", payer="Tuntematon Maksaja",
                                       message="vuokra")), notification_id="UNKNOWN-1"))
    with factory() as session, session.begin():
        statements.import_file(session, scenario.world_actors().fiona, path)
    with factory() as session:
        return session.execute(select(StatementLine.id).where(
            StatementLine.archive_id == "UNKNOWN-1/1")).scalar_one()


def draft_batch(factory) -> int:
    with factory() as session, session.begin():
        return payments.run_batch(session, scenario.world_actors().hannu, DAY)["batch"]


def approved_batch(factory) -> int:
    batch = draft_batch(factory)
    with factory() as session, session.begin():
        payments.approve_batch(session, scenario.world_actors().hilla, str(batch), today=DAY)
    return batch


# --- what must hold ---------------------------------------------------------------------------


def one_winner(results, losers_code: int = 2):
    """The one process that exited 0 and the losers, each with one line on stderr."""
    codes = Counter(r.code for r in results)
    assert codes == {0: 1, losers_code: PROCESSES - 1}, results
    winner = next(r for r in results if r.code == 0)
    losers = [r for r in results if r.code != 0]
    for loser in losers:
        assert len(loser.err_lines) == 1 and loser.out == "", loser
    return winner, losers


def audit_actions(session, action: str) -> list[str]:
    return session.execute(select(AuditEntry.actor).where(AuditEntry.action == action)
                           .order_by(AuditEntry.id)).scalars().all()


def ledger_keys(session, prefix: str) -> Counter:
    return Counter(session.execute(select(transactions.c.key).where(
        transactions.c.key.like(f"{prefix}%"))).scalars())


def order_debits(session) -> list[str]:
    """Every approved order whose debit is not exactly its client's amount to ``outgoing``."""
    wrong = []
    codes = dict(session.execute(select(Client.id, Client.ledger_code)).all())
    for order in session.execute(select(PaymentOrder).where(
            PaymentOrder.status.in_(("approved", "exported")))).scalars():
        legs = sorted(ledger.transaction_legs(session, order.key))
        if legs != sorted([(codes[order.client_id], order.amount_cents),
                           ("outgoing", -order.amount_cents)]):
            wrong.append(f"{order.key}: {legs}")
    return wrong


@pytest.fixture
def verify(backend, monkeypatch):
    """``ledger verify``, ``audit verify`` and ``reconcile --check`` (as the auditor) all clean."""
    cli = Cli(backend, monkeypatch)

    def clean() -> None:
        for args in (("ledger", "verify"), ("audit", "verify"),
                     ("reconcile", "--check", "--as-of", "2.11.2026")):
            result = cli(*args, user="aune")
            assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return clean


# --- the races --------------------------------------------------------------------------------


def test_eight_runs_of_one_day_make_one_batch(backend, session_factory, tmp_path, verify):
    set_up(session_factory, tmp_path)
    crowd = Crowd(backend, tmp_path, "run")
    results = crowd.race([("hannu", ("batch", "run", "--date", "2.11.2026", "--yes"))]
                         * PROCESSES)
    assert [r.code for r in results] == [0] * PROCESSES, results
    made = [r for r in results if r.err.startswith("batch 1:")]
    assert [r.err for r in made] == [
        "batch 1: 12 payments, 3\xa0570,00\xa0€, executing 2026-11-02\n"], results
    for other in (r for r in results if r not in made):
        assert other.err == "nothing new; batch 1 already holds 12 payments (3\xa0570,00\xa0€)\n"
    with session_factory() as session:
        assert session.execute(select(PaymentBatch.id, PaymentBatch.status)).all() == \
            [(1, "draft")]
        orders = session.execute(select(PaymentOrder.key, PaymentOrder.amount_cents)).all()
        assert Counter(key for key, _ in orders) == Counter(
            [f"order:rent:{n}:2026-11" for n in range(1, CLIENTS + 1)]
            + [f"order:inst:{n}:2026-11-02" for n in range(1, CLIENTS + 1)])
        assert sum(amount for _, amount in orders) == CLIENTS * (RENT_CENTS + INSTALMENT_CENTS)
        runs = session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "batch.run")).scalars()
        assert sorted(json.loads(detail)["orders"] for detail in runs) == \
            [0] * (PROCESSES - 1) + [2 * CLIENTS]              # every run is on the trail
    verify()


def test_eight_imports_of_one_file_book_each_line_once(backend, session_factory, tmp_path,
                                                       verify):
    numbers = set_up(session_factory, tmp_path)
    path = big_file(session_factory, tmp_path, numbers)
    with session_factory() as session:
        before = session.execute(select(func.count()).select_from(StatementLine)).scalar_one()
    crowd = Crowd(backend, tmp_path, "import")
    results = crowd.race([("fiona", ("import", str(path)))] * PROCESSES)
    assert [r.code for r in results] == [0] * PROCESSES, results
    summary = (f"many-054.xml: {scenario.CITY_IBAN}: {IMPORT_ENTRIES} entries, posted {{}}, "
               "already present {}, skipped 0 (not booked), in suspense {}\n")
    assert sorted(r.err for r in results) == sorted(
        [summary.format(IMPORT_ENTRIES, 0, 1)]
        + [summary.format(0, IMPORT_ENTRIES, 0)] * (PROCESSES - 1)), results
    with session_factory() as session:
        lines = Counter(session.execute(select(StatementLine.archive_id).where(
            StatementLine.archive_id.like("BIG%"))).scalars())
        assert lines == Counter([f"BIG{n:04d}/1" for n in range(IMPORT_ENTRIES - 1)]
                                + ["BIG-UNKNOWN/1"])         # entry BIG0000, its one payment
        assert session.execute(select(func.count()).select_from(StatementLine)).scalar_one() \
            == before + IMPORT_ENTRIES
        booked = ledger_keys(session, f"itemise:{scenario.CITY_IBAN}:BIG")
        assert booked == Counter([f"itemise:{scenario.CITY_IBAN}:BIG{n:04d}"
                                  for n in range(IMPORT_ENTRIES - 1)]
                                 + [f"itemise:{scenario.CITY_IBAN}:BIG-UNKNOWN"])
        for i, number in enumerate(numbers):
            code = session.get(Client, number).ledger_code
            assert ledger.balance(session, code) == KELA_CENTS + sum(
                101 + n for n in range(IMPORT_ENTRIES - 1) if n % CLIENTS == i)
        assert ledger.balance(session, "suspense") == 7700
        assert ledger.balance(session, f"incoming:{scenario.CITY_IBAN}") == -(
            CLIENTS * KELA_CENTS + sum(101 + n for n in range(IMPORT_ENTRIES - 1)) + 7700)
        imports = session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "import", AuditEntry.subject == "many-054.xml")).scalars()
        assert sorted(json.loads(detail)["accounts"][0]["posted"] for detail in imports) == \
            [0] * (PROCESSES - 1) + [IMPORT_ENTRIES]           # every import is on the trail
    verify()


def test_eight_handlers_approving_one_batch_one_approval(backend, session_factory, tmp_path,
                                                         verify):
    set_up(session_factory, tmp_path)
    batch = draft_batch(session_factory)
    crowd = Crowd(backend, tmp_path, "approve")
    results = crowd.race([(name, ("batch", "approve", str(batch))) for name in HANDLERS])
    winner, losers = one_winner(results)
    for loser in losers:
        assert loser.err == f"{ERROR}batch {batch} is already approved\n"
    with session_factory() as session:
        assert session.get(PaymentBatch, batch).approved_by == winner.user
        assert audit_actions(session, "batch.approve") == [winner.user]
        debits = ledger_keys(session, "order:")
        assert debits == Counter(session.execute(select(PaymentOrder.key)).scalars())
        assert len(debits) == 2 * CLIENTS
        assert order_debits(session) == []
        assert ledger.balance(session, "outgoing") == CLIENTS * (RENT_CENTS + INSTALMENT_CENTS)
    verify()


def test_eight_exports_of_one_batch_one_first_export(backend, session_factory, tmp_path, verify):
    set_up(session_factory, tmp_path)
    batch = approved_batch(session_factory)
    crowd = Crowd(backend, tmp_path, "export")
    out = [tmp_path / f"maksut-{n}.xml" for n in range(PROCESSES)]
    results = crowd.race([("fiona", ("--format", "json", "batch", "export", str(batch),
                                     "--out", str(path), "--yes")) for path in out])
    winner, losers = one_winner(results)
    assert json.loads(winner.out)["first_export"] is True
    written = [path for path in out if path.exists()]
    assert len(written) == 1 and json.loads(winner.out)["file"] == str(written[0])
    refusal = re.compile(
        rf"{ERROR}batch {batch} was already exported on \d+\.\d+\.\d{{4}} at \d\d:\d\d by "
        rf"fiona \({written[0].name}\): give --again to write the file once more, and do not "
        r"upload it to the bank twice\n")
    for loser in losers:
        assert refusal.fullmatch(loser.err), loser
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("maksut")) == \
        [written[0].name]                                  # no staged file left behind
    with session_factory() as session:
        assert audit_actions(session, "batch.export") == ["fiona"]
        assert session.get(PaymentBatch, batch).status == "exported"
        assert order_debits(session) == []
    verify()


def test_eight_handlers_assigning_one_line_book_it_once(backend, session_factory, tmp_path,
                                                        verify):
    numbers = set_up(session_factory, tmp_path)
    line = unknown_payment(session_factory, tmp_path)
    client = numbers[2]
    crowd = Crowd(backend, tmp_path, "assign")
    results = crowd.race([(name, ("income", "assign", str(line), str(client)))
                          for name in HANDLERS])
    winner, losers = one_winner(results)
    for loser in losers:
        assert loser.err == f"{ERROR}line {line} is already assigned to client {client}\n"
    with session_factory() as session:
        assert ledger_keys(session, "assign:") == Counter([f"assign:{line}"])
        code = session.get(Client, client).ledger_code
        assert sorted(ledger.transaction_legs(session, f"assign:{line}")) == sorted(
            [("suspense", 12345), (code, -12345)])
        assert ledger.balance(session, code) == KELA_CENTS + 12345
        assert ledger.balance(session, "suspense") == 0
        assert audit_actions(session, "income.assign") == [winner.user]
        stored = session.execute(select(StatementLine.state, StatementLine.client_id).where(
            StatementLine.id == line)).one()
        assert tuple(stored) == ("assigned", client)
    verify()


# --- the lock timeout -------------------------------------------------------------------------


def held_lock(backend, crowd: Crowd, line: int):
    """Another user's lock: the batch lock and the line's row (PostgreSQL), the write lock
    (SQLite)."""
    if backend.name == "sqlite":
        return [crowd.held("BEGIN IMMEDIATE"), crowd.held("BEGIN IMMEDIATE")]
    return [crowd.held("SELECT pg_advisory_xact_lock(hashtext(current_schema()), :k)",
                       {"k": BATCH_LOCK}),
            crowd.held("SELECT id FROM statement_lines WHERE id = :id FOR UPDATE", {"id": line})]


def test_a_lock_held_past_the_timeout_ends_the_command_with_one_line(backend, session_factory,
                                                                     tmp_path):
    numbers = set_up(session_factory, tmp_path)
    batch = draft_batch(session_factory)
    line = unknown_payment(session_factory, tmp_path)
    with session_factory() as session, session.begin():
        configuration.put(session, scenario.world_actors().admin, "lock_timeout_seconds", "1")
    crowd = Crowd(backend, tmp_path, "timeout")
    commands = [("hilla", ("batch", "approve", str(batch))),
                ("hilla", ("income", "assign", str(line), str(numbers[0])))]
    for lock, (user, args) in zip(held_lock(backend, crowd, line), commands):
        with session_factory() as session:
            before = snapshot(session)
        with lock:
            result = crowd.run(user, *args)
        assert (result.code, result.out, result.err) == (3, "", (
            f"{ERROR}another user is working on the ledger; gave up after 1 s "
            "(setting lock_timeout_seconds)\n")), args
        with session_factory() as session:
            assert snapshot(session) == before, args


def test_a_reader_does_not_wait_for_a_writer(backend, session_factory, tmp_path):
    """``settings list`` reads while another user writes: checking the schema takes no write
    lock on SQLite (it did, and a reader waited for the writer's whole transaction)."""
    set_up(session_factory, tmp_path)
    with session_factory() as session, session.begin():
        configuration.put(session, scenario.world_actors().admin, "lock_timeout_seconds", "1")
    crowd = Crowd(backend, tmp_path, "reader")
    writer = "BEGIN IMMEDIATE" if backend.name == "sqlite" else "LOCK TABLE audit_log"
    with crowd.held(writer):
        result = crowd.run("admin", "--format", "json", "settings", "list")
    assert (result.code, result.err) == (0, ""), result
    stored = {row["key"]: row["value"] for row in json.loads(result.out)}
    assert stored["lock_timeout_seconds"] == "1"
