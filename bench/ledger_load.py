"""Ledger bulk-load benchmark (issue: foundation).

Generates N clients x 12 months of this service's traffic deterministically — two benefit
receipts, rent, electricity and 2–4 instalments per client-month (~6.7 transactions, two postings
each) — and loads it (a) through ``ledger.post_many`` into the real schema and (b) with raw
``sqlite3`` (one executemany transaction into an equivalent table pair with the same indexes).
Each side runs in its own process so that its peak RSS is its own.

    python -m bench.ledger_load --clients 1000
    python -m bench.ledger_load --clients 10000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

BANK = "bank:FI7433010001222090"
CHUNK = 100_000


def traffic(clients: int, months: int = 12, seed: int = 2026):
    """Yield (month_index, key, booked_on, [(account, cents), ...]) in booking order."""
    rng = random.Random(seed)
    for m in range(months):
        year, month = 2026 + (m // 12), m % 12 + 1
        for c in range(clients):
            account = f"client:{100000 + c}"
            assistance = rng.randrange(40_000, 70_000)
            allowance = rng.randrange(20_000, 45_000)
            rent = rng.randrange(35_000, 45_000)
            power = rng.randrange(2_000, 8_000)
            yield m, f"arch:{m}:{c}:1", date(year, month, 1), [(BANK, assistance), (account, -assistance)]
            yield m, f"arch:{m}:{c}:2", date(year, month, 1), [(BANK, allowance), (account, -allowance)]
            yield m, f"order:rent:{c}:{m}", date(year, month, 2), [(account, rent), ("outgoing", -rent)]
            yield m, f"order:power:{c}:{m}", date(year, month, 14), [(account, power), ("outgoing", -power)]
            rest = assistance + allowance - rent - power
            parts = rng.choice((2, 3, 3, 4))
            share = rest // parts
            for p in range(parts):
                amount = share if p < parts - 1 else rest - share * (parts - 1)
                yield m, f"order:inst:{c}:{m}:{p}", date(year, month, 3 + 7 * p), [
                    (account, amount), ("outgoing", -amount)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ledger(path: Path, clients: int) -> dict:
    from sqlalchemy import insert

    import ledger
    from ledger.models import accounts
    from valitystili.store import db

    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    factory = db.session_factory(engine)
    with factory() as session, session.begin():
        rows = [{"code": BANK, "kind": "asset", "no_negative": False},
                {"code": "outgoing", "kind": "liability", "no_negative": False}]
        rows += [{"code": f"client:{100000 + c}", "kind": "liability", "no_negative": True}
                 for c in range(clients)]
        session.execute(insert(accounts), [{**r, "name": "", "currency": "EUR", "balance_cents": 0}
                                           for r in rows])
    started = time.perf_counter()
    count = 0
    chunk: list = []

    def flush():
        with factory() as session, session.begin():
            ledger.post_many(session, chunk)

    # One database transaction per CHUNK entries keeps memory flat at any N.
    for _m, key, on, legs in traffic(clients):
        chunk.append(ledger.Entry(key, tuple(legs), on))
        count += 1
        if len(chunk) == CHUNK:
            flush()
            chunk = []
    flush()
    loaded = time.perf_counter()
    with factory() as session:
        today = time.perf_counter()
        all_balances = ledger.balances(session)
        today_s = time.perf_counter() - today
        client_total = sum(b.balance_cents for b in all_balances if b.code.startswith("client:"))
        total = time.perf_counter() - started
        findings = ledger.verify(session)
    return {"side": "ledger", "transactions": count, "load_s": loaded - started,
            "total_s": total, "balances_today_s": today_s, "client_total_cents": client_total,
            "verify_findings": len(findings), "peak_rss_mb": peak_rss_mb()}


def run_raw(path: Path, clients: int) -> dict:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(
        """
        PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, code TEXT UNIQUE, kind TEXT);
        CREATE TABLE transactions (id INTEGER PRIMARY KEY, key TEXT UNIQUE, booked_on DATE,
            value_on DATE, description TEXT, actor TEXT, reverses_id INTEGER UNIQUE);
        CREATE TABLE postings (id INTEGER PRIMARY KEY, transaction_id INTEGER, account_id INTEGER,
            amount_cents INTEGER, booked_on DATE);
        CREATE INDEX ix_p_account_booked ON postings (account_id, booked_on);
        CREATE INDEX ix_p_transaction ON postings (transaction_id);
        """
    )
    codes = [BANK, "outgoing"] + [f"client:{100000 + c}" for c in range(clients)]
    ids = {code: i + 1 for i, code in enumerate(codes)}
    connection.executemany("INSERT INTO accounts VALUES (?, ?, 'x')", [(ids[c], c) for c in codes])
    started = time.perf_counter()
    count = 0
    postings: list = []

    def transactions():
        nonlocal count
        for _m, key, on, legs in traffic(clients):
            count += 1
            day = on.isoformat()
            for account, amount in legs:
                postings.append((count, ids[account], amount, day))
            yield count, key, day, day, "", ""

    connection.execute("BEGIN")
    connection.executemany("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, NULL)", transactions())
    connection.executemany(
        "INSERT INTO postings (transaction_id, account_id, amount_cents, booked_on) VALUES (?, ?, ?, ?)",
        postings)
    connection.execute("COMMIT")
    loaded = time.perf_counter()
    sums = connection.execute(
        "SELECT account_id, SUM(amount_cents) FROM postings GROUP BY account_id").fetchall()
    total = time.perf_counter() - started
    client_total = -sum(s for a, s in sums if a > 2)
    return {"side": "raw_sqlite3", "transactions": count, "load_s": loaded - started,
            "total_s": total, "balances_s": total - (loaded - started),
            "client_total_cents": client_total, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--side", choices=("ledger", "raw"))
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.side:
        runner = run_ledger if args.side == "ledger" else run_raw
        print(json.dumps(runner(Path(args.path), args.clients)))
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in ("raw", "ledger"):
            out = subprocess.run(
                [sys.executable, "-m", "bench.ledger_load", "--clients", str(args.clients),
                 "--side", side, "--path", str(Path(tmp) / f"{side}.db")],
                check=True, capture_output=True, text=True)
            results[side] = json.loads(out.stdout)
    raw, led = results["raw"], results["ledger"]
    assert raw["client_total_cents"] == led["client_total_cents"], "the two loads disagree"
    print(f"clients: {args.clients}, months: 12, transactions: {led['transactions']:,}")
    print(f"raw sqlite3 : load + balances {raw['total_s']:.2f} s, peak RSS {raw['peak_rss_mb']:.0f} MB")
    print(f"ledger      : load + balances {led['total_s']:.2f} s, peak RSS {led['peak_rss_mb']:.0f} MB"
          f", verify findings {led['verify_findings']}")
    print(f"ratio ledger/raw: {led['total_s'] / raw['total_s']:.2f}x")
    print(f"all balances as of today (ledger): {led['balances_today_s'] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
