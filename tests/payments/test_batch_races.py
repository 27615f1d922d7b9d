"""Handlers racing on one batch, as separate processes running the real command line
(``helpers.processes.Crowd``, each process let past its barrier at once: the test orders them).

On PostgreSQL each race is also played through a *gate*: the test holds a lock on the audit
trail, so whichever process gets to its audit entry first waits there, in the middle of its
transaction; the test waits until both (or all three) processes are waiting on a lock and then
opens the gate. That is the interleaving of issue 9 (a run still writing its orders while the
approval reads them), reached every time instead of now and then. The ungated rounds start the
processes together (the approval 0.3 s after the run) and must hold on both backends.

What must hold afterwards, whatever the order: no draft order in a batch that is not a draft;
every approved order debited from its client exactly once, by its key, for its amount; the money
in ``outgoing`` equal to the approved orders; one approval; one first export.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from datetime import date

from helpers import scenario
from helpers.processes import Crowd, finish
from helpers.statements import valid_hetu
from oversight.test_reports_world import Money
from sqlalchemy import func, select

import ledger
from valitystili import payments as batches
from valitystili.oversight import reconcile
from valitystili.store.models import (
    AuditEntry,
    Client,
    PaymentBatch,
    PaymentOrder,
    User,
)

DAY = date(2026, 11, 2)
CLIENTS_PER_ROUND = 6
ROUNDS = 5
ORDER_CHECKS = ("order_not_debited", "order_debit_mismatch", "draft_order_debited",
                "cancelled_order_debited", "order_batch_state", "batch_changed_after_approval")


# --- the world ------------------------------------------------------------------------------------


def open_clients(factory, first: int, count: int) -> list[int]:
    """``count`` clients with the worked example's plan, in force from 1.11.2026."""
    w = scenario.world_actors()
    numbers = []
    with factory() as session, session.begin():
        for n in range(first, first + count):
            number = scenario.client(session, w, hetu=valid_hetu("010190", "-", 100 + n),
                                     name=f"Asiakas {n}", start_on=date(2026, 11, 1),
                                     review_on=date(2027, 2, 1))
            scenario.plan(session, w, number, scenario.WORKED_EXAMPLE,
                          effective_on=date(2026, 11, 1), today=date(2026, 11, 1))
            numbers.append(number)
    return numbers


def receive(factory, numbers: list[int]) -> None:
    """Kela's 560,00 and 380,00 arrive for these clients (statement lines and postings, as the
    import books them, so the batch knows the expected incomes came)."""
    with factory() as session, session.begin():
        money = Money(session)
        for number in numbers:
            for cents in (56000, 38000):
                money.credit(number, cents, DAY)


def draft_batch(factory) -> int:
    """hannu's run of the day: a draft batch holding the orders of the clients with money."""
    with factory() as session, session.begin():
        return batches.run_batch(session, scenario.world_actors().hannu, DAY)["batch"]


def world(factory) -> None:
    with factory() as session, session.begin():
        scenario.world(session)


# --- what must hold -------------------------------------------------------------------------------


def broken_promises(session) -> list[str]:
    """Every way the stored orders, batches and ledger disagree (empty when all holds)."""
    found = []
    for key, batch_status in session.execute(
            select(PaymentOrder.key, PaymentBatch.status)
            .join(PaymentBatch, PaymentBatch.id == PaymentOrder.batch_id)
            .where(PaymentOrder.status == "draft", PaymentBatch.status != "draft")):
        found.append(f"{key}: a draft order in an {batch_status} batch")
    codes = dict(session.execute(select(Client.id, Client.ledger_code)).all())
    approved = session.execute(select(PaymentOrder).where(
        PaymentOrder.status.in_(("approved", "exported")))).scalars().all()
    for order in approved:
        try:
            legs = sorted(ledger.transaction_legs(session, order.key))
        except ledger.NotFound:
            found.append(f"{order.key}: approved but never debited")
            continue
        if legs != sorted([(codes[order.client_id], order.amount_cents),
                           ("outgoing", -order.amount_cents)]):
            found.append(f"{order.key}: debited {legs}")
    outgoing = ledger.balance(session, "outgoing")
    if outgoing != sum(o.amount_cents for o in approved):
        found.append(f"outgoing holds {outgoing}, the approved orders {sum(o.amount_cents for o in approved)}")
    return found


def order_findings(session) -> list[tuple[str, str]]:
    return [(f.check, f.subject) for f in reconcile.check_all(session, DAY, today=DAY)
            if f.check in ORDER_CHECKS]


# --- the races ------------------------------------------------------------------------------------


def test_a_run_and_an_approval_at_once_never_leave_an_order_undebited(backend, session_factory,
                                                                      tmp_path):
    """Issue 9 item 1: a draft batch exists, more money arrives, hannu runs the day again while
    hilla approves the batch. Five rounds, each with a fresh draft batch."""
    world(session_factory)
    racer = Crowd(backend, tmp_path, "race_run")
    for round_no in range(ROUNDS):
        clients = open_clients(session_factory, round_no * CLIENTS_PER_ROUND, CLIENTS_PER_ROUND)
        receive(session_factory, clients[:2])                 # money before the first run
        batch = draft_batch(session_factory)
        receive(session_factory, clients[2:])                 # more money arrives
        gated = backend.name == "postgresql" and round_no % 2 == 0
        with racer.gate() if gated else nullgate():
            run = racer.begin("hannu", "batch", "run", "--date", "2.11.2026", "--yes")
            if gated:
                racer.until_waiting(1, [run])
            else:
                time.sleep(0.3)
            approve = racer.begin("hilla", "batch", "approve", str(batch))
            if gated:
                racer.until_waiting(2, [run, approve])
        ran, approved = finish("hannu", run), finish("hilla", approve)
        assert (ran.code, approved.code) == (0, 0), (round_no, ran, approved)
        with session_factory() as session:
            assert broken_promises(session) == [], round_no
            status = session.get(PaymentBatch, batch).status
            assert status == "approved"
    with session_factory() as session:
        assert order_findings(session) == []
        # Every client got rent and the first instalment, each ordered once and debited once.
        paid = session.execute(select(PaymentOrder.kind, func.count(), func.sum(
            PaymentOrder.amount_cents)).group_by(PaymentOrder.kind).order_by(PaymentOrder.kind)).all()
        clients = ROUNDS * CLIENTS_PER_ROUND
        assert [tuple(p) for p in paid] == [("instalment", clients, clients * 7500),
                                            ("rent", clients, clients * 52000)]


@contextmanager
def nullgate():
    yield


def test_two_handlers_approving_the_same_batch_one_wins(backend, session_factory, tmp_path):
    """Issue 9 item 2: hilla and helmi approve batch 1 at once: one exit 0, one exit 2."""
    world(session_factory)
    with session_factory() as session, session.begin():
        session.add(User(name="helmi", role="handler", created_by="test"))
    clients = open_clients(session_factory, 0, 3)
    receive(session_factory, clients)
    batch = draft_batch(session_factory)
    racer = Crowd(backend, tmp_path, "race_approve")
    with racer.gate():
        first = racer.begin("hilla", "batch", "approve", str(batch))
        second = racer.begin("helmi", "batch", "approve", str(batch))
        if backend.name == "postgresql":
            racer.until_waiting(2, [first, second])
    results = {"hilla": finish("hilla", first), "helmi": finish("helmi", second)}
    codes = sorted(r.code for r in results.values())
    assert codes == [0, 2], results
    loser = next(r for r in results.values() if r.code == 2)
    assert loser.err == f"valitystili: error: batch {batch} is already approved\n"
    winner = next(name for name, r in results.items() if r.code == 0)
    with session_factory() as session:
        entries = session.execute(select(AuditEntry.actor).where(
            AuditEntry.action == "batch.approve")).scalars().all()
        assert entries == [winner]
        assert session.get(PaymentBatch, batch).approved_by == winner
        from ledger.models import transactions
        actors = set(session.execute(select(transactions.c.actor).where(
            transactions.c.key.like("order:%"))).scalars())
        assert actors == {winner}
        assert broken_promises(session) == []


def test_three_exports_at_once_make_exactly_one_first_export(backend, session_factory, tmp_path):
    """Issue 9 item 3."""
    world(session_factory)
    clients = open_clients(session_factory, 0, 3)
    receive(session_factory, clients)
    batch = draft_batch(session_factory)
    with session_factory() as session, session.begin():
        batches.approve_batch(session, scenario.world_actors().hilla, str(batch), today=DAY)
    racer = Crowd(backend, tmp_path, "race_export")
    with racer.gate():
        # --again: each may come second; --yes: 2.11.2026 is in the past when the suite runs.
        exports = [racer.begin("fiona", "--format", "json", "batch", "export", str(batch),
                               "--out", str(tmp_path / f"maksut-{n}.xml"), "--again", "--yes")
                   for n in range(3)]
        if backend.name == "postgresql":
            racer.until_waiting(3, exports)
    results = [finish("fiona", p) for p in exports]
    assert [r.code for r in results] == [0, 0, 0], results
    firsts = sorted(json.loads(r.out)["first_export"] for r in results)
    assert firsts == [False, False, True]
    files = {(tmp_path / f"maksut-{n}.xml").read_bytes() for n in range(3)}
    assert len(files) == 1                                   # byte-identical every time
    with session_factory() as session:
        exported = session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "batch.export")).scalar_one()
        assert exported == 3
        assert session.get(PaymentBatch, batch).status == "exported"
