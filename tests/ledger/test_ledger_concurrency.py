"""Two or more processes posting at once cannot overdraw a client or post a key twice."""

from __future__ import annotations

import multiprocessing as mp
from datetime import date

import ledger
from valitystili.store import db

WORKERS = 4
ORDERS_PER_WORKER = 15
ORDER_CENTS = 1_000
FUNDS_CENTS = 37_500   # room for 37 orders of the 60 attempted


def _worker(url: str, worker: int, barrier, results) -> None:
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    barrier.wait()
    paid = 0
    created_shared = 0
    for i in range(ORDERS_PER_WORKER):
        with factory() as session:
            try:
                with session.begin():
                    ledger.post(session, f"order:{worker}:{i}",
                                [("client:1", ORDER_CENTS), ("outgoing", -ORDER_CENTS)],
                                date(2026, 11, 2))
                paid += 1
            except ledger.InsufficientFunds:
                pass
        if i == 3:  # every worker posts the same key at about the same moment
            with factory() as session, session.begin():
                created_shared += ledger.post(
                    session, "arch:shared", [("bank", 100), ("suspense", -100)],
                    date(2026, 11, 2)).created
    engine.dispose()
    results.put((paid, created_shared))


def test_concurrent_orders_cannot_overdraw_a_client(session_factory, db_url):
    with session_factory() as session, session.begin():
        for code, kind, no_negative in [("bank", "asset", False), ("client:1", "liability", True),
                                        ("outgoing", "liability", False),
                                        ("suspense", "liability", False)]:
            ledger.open_account(session, code, kind, no_negative=no_negative)
        ledger.post(session, "arch:in", [("bank", FUNDS_CENTS), ("client:1", -FUNDS_CENTS)],
                    date(2026, 11, 2))

    context = mp.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(db_url, w, barrier, results))
                 for w in range(WORKERS)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    paid = sum(p for p, _ in outcomes)
    assert paid == FUNDS_CENTS // ORDER_CENTS == 37
    assert sum(s for _, s in outcomes) == 1
    with session_factory() as session:
        assert ledger.balance(session, "client:1") == FUNDS_CENTS - paid * ORDER_CENTS == 500
        assert ledger.balance(session, "outgoing") == paid * ORDER_CENTS
        assert ledger.balance(session, "suspense") == 100
        assert ledger.verify(session) == []
