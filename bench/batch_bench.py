"""Batch benchmark (issue: money out): one banking day's batch for N active clients.

Seeds N clients with approved plans (rent on the 2nd, electricity on the 15th, two Kela incomes
on the 1st, weekly even-split instalments) and M months of settled history — the statement lines
of the incomes, obligations, payment orders and ledger transactions as the import, the batch and
clearing would have left them — then
times ``batch run`` for Monday 2.11.2026, after that day's incomes are booked and after the
previous banking day's batch (untimed), as in steady state. It prints the run's wall time and
its CPU time (less sensitive to a shared machine's load; quote both, with ``uptime``).

    python -m bench.batch_bench --clients 10000 --months 1
    python -m bench.batch_bench --clients 10000 --months 36

Seeding 36 months takes far longer than the run. To compare two checkouts, seed once with
``--seed-only FILE`` and time each run on a fresh copy with ``--measure sqlite:///COPY``
(the measure step changes the database: it runs two batches).

    # PostgreSQL: a fresh schema in the given database, dropped afterwards
    python -m bench.batch_bench --clients 10000 --db postgresql+psycopg://postgres@127.0.0.1/bench
    # cProfile of the timed run only, top 10 by own time printed to stderr
    python -m bench.batch_bench --clients 10000 --profile /tmp/batch.prof
    # SQLite: the pages the timed run wrote, by table and index (a run without checkpoints,
    # so its time is not the figure to quote)
    python -m bench.batch_bench --measure sqlite:///COPY --pages

Which b-trees a run writes is what grows with history: an index whose keys scatter the day's
inserts (a client first, a hash) is written a page per client once each client's history is
deeper than a page; one whose keys begin with the day is written a few pages at its end.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import event, insert

import ledger
from ledger.models import accounts
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.identifiers import client_reference, rf_from_finnish
from valitystili.payments import run_batch
from valitystili.payments.pain001 import order_id
from valitystili.store import db
from valitystili.store.models import (
    BankAccount,
    Client,
    Obligation,
    Payee,
    PaymentBatch,
    PaymentOrder,
    Plan,
    PlanIncome,
    PlanItem,
    Statement,
    StatementLine,
    User,
)
from valitystili.trust.auth import Actor

from .where import backend, database

BANK_IBAN = "FI7433010001222090"
BANK = f"bank:{BANK_IBAN}"
DAY = date(2026, 11, 2)
HETU_BASE = 100


def _hetu(n: int) -> str:
    # Valid fictional identity codes: born 1.1.1970 + n days, individual number 100-899.
    from stdnum.fi import hetu as stdnum_hetu
    born = date(1970, 1, 1) + relativedelta(days=n // 700)
    individual = 100 + n % 700
    body = f"{born:%d%m%y}-{individual:03d}"
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(f"{born:%d%m%y}{individual:03d}") % 31]
    return stdnum_hetu.compact(body + check)


def seed(url: str, clients: int, months: int) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    factory = db.session_factory(engine)
    start = DAY.replace(day=1) - relativedelta(months=months)
    with factory() as s, s.begin():
        s.add_all([User(name="hannu", role="handler"), User(name="hilla", role="handler")])
        s.add(BankAccount(iban=BANK_IBAN, name="Kaupunki", bic="ESSEFIHX", ledger_code=BANK))
        s.add_all([Payee(id=1, name="Vaasan Asunnot Oy", payment_name="Vaasan Asunnot Oy",
                         iban="FI2112345600000785", kind="landlord"),
                   Payee(id=2, name="Vaasan Sähkö Oy", payment_name="Vaasan Sähkö Oy",
                         iban="FI2112345600000785", kind="utility")])
        rows = [{"code": BANK, "kind": "asset", "no_negative": False},
                {"code": "outgoing", "kind": "liability", "no_negative": False},
                {"code": "suspense", "kind": "liability", "no_negative": False}]
        rows += [{"code": f"client:{c}", "kind": "liability", "no_negative": True}
                 for c in range(1, clients + 1)]
        s.execute(insert(accounts), [{**r, "name": "", "currency": "EUR", "balance_cents": 0}
                                     for r in rows])
        s.execute(insert(Client), [{
            "id": c, "hetu": _hetu(c), "name": f"Asiakas {c}", "payment_name": f"Asiakas {c}",
            "iban": "FI2112345600000785", "language": "fi",
            "criterion": "evictions", "worker": "sanna", "start_on": start, "reference": client_reference(c),
            "rf_reference": rf_from_finnish(client_reference(c)), "ledger_code": f"client:{c}",
            "exclusions": {}, "status": "open", "final_payout": False} for c in range(1, clients + 1)])
        s.execute(insert(Plan), [{
            "id": c, "client_id": c, "version": 1, "effective_on": start, "source": "", "author": "sanna",
            "instalment_schedule": "FREQ=WEEKLY;BYDAY=MO", "instalment_mode": "even", "keep_cents": 0,
            "approved_by": "hannu", "approved_at": start} for c in range(1, clients + 1)])
        s.execute(insert(PlanItem), [{
            "plan_id": c, "position": p, "kind": kind, "payee_id": payee, "amount_cents": amount, "bills": False,
            "schedule": f"FREQ=MONTHLY;BYMONTHDAY={day}", "reference": "12345672", "reference_kind": "SCOR",
            "paid_by": "account", "allow_partial": False}
            for c in range(1, clients + 1)
            for p, kind, payee, amount, day in ((1, "rent", 1, 52000, 2), (2, "electricity", 2, 4500, 15))])
        s.execute(insert(PlanIncome), [{
            "plan_id": c, "position": p, "source": "Kela", "kind": kind, "amount_cents": amount,
            "schedule": "FREQ=MONTHLY;BYMONTHDAY=1", "route": "client_declared_account"}
            for c in range(1, clients + 1)
            for p, kind, amount in ((1, "basic_social_assistance", 56000), (2, "housing_allowance", 38000))])

    for m in range(months + 1):
        month = start + relativedelta(months=m)
        arrival = CALENDAR.on_or_after(month)
        current = month.year == DAY.year and month.month == DAY.month
        entries = []
        for c in range(1, clients + 1):
            entries.append(ledger.Entry(f"arch:{month:%Y%m}:{c}", ((BANK, 94000), (f"client:{c}", -94000)), arrival))
        with factory() as s, s.begin():
            # The incomes' statement lines: the batch pairs each expected income with them.
            statement = Statement(bank_account_id=1, source="camt053", statement_id=f"S{month:%Y%m}",
                                  imported_by="fiona")
            s.add(statement)
            s.flush()
            s.execute(insert(StatementLine), [{
                "bank_account_id": 1, "statement_id": statement.id, "archive_id": f"{month:%Y%m}-{c}-{n}",
                "level": "entry", "booked_on": arrival, "value_on": arrival, "amount_cents": amount,
                "client_id": c, "state": "posted"}
                for c in range(1, clients + 1) for n, amount in ((1, 56000), (2, 38000))])
        if current:
            with factory() as s, s.begin():
                ledger.post_many(s, entries)
            break
        with factory() as s, s.begin():
            batch = PaymentBatch(key=f"hist-{month:%Y-%m}", run_on=arrival, execution_on=arrival,
                                 bank_account_id=1, status="draft", created_by="hannu",
                                 approved_by="hilla")
            s.add(batch)
            s.flush()
            obligations, orders = [], []
            for c in range(1, clients + 1):
                for kind, payee, amount, day in (("rent", 1, 52000, 2), ("electricity", 2, 4500, 15)):
                    due = month.replace(day=day)
                    key = f"{kind}:{c}:{month:%Y-%m}"
                    obligations.append({"key": key, "client_id": c, "kind": kind, "payee_id": payee,
                                            "amount_cents": amount, "paid_cents": amount,
                                            "due_on": CALENDAR.rent_due_day(due), "pay_on": CALENDAR.pay_by(due),
                                            "reference": "12345672", "reference_kind": "SCOR",
                                            "allow_partial": False, "source": "plan_item", "source_id": 0,
                                            "status": "settled"})
                    orders.append((f"order:{key}", c, kind, payee, amount, CALENDAR.pay_by(due), None))
                rest = 94000 - 56500
                mondays = [d for d in (month + relativedelta(days=i) for i in range(31))
                           if d.month == month.month and d.weekday() == 0]
                for i, monday in enumerate(mondays):
                    share = rest // len(mondays) if i < len(mondays) - 1 else rest - rest // len(mondays) * (len(mondays) - 1)
                    orders.append((f"order:inst:{c}:{monday}", c, "instalment", None, share,
                                   CALENDAR.on_or_after(monday), monday))
            s.execute(insert(Obligation), obligations)
            order_rows = []
            for key, c, kind, payee, amount, on, inst in orders:
                order_rows.append({"key": key, "end_to_end_id": order_id(key, on), "batch_id": batch.id,
                                       "client_id": c, "kind": kind, "payee_id": payee,
                                       "creditor_name": "x", "creditor_iban": "FI2112345600000785",
                                       "amount_cents": amount, "reference": None, "message": "m",
                                       "execution_on": on, "instalment_on": inst, "status": "cleared",
                                       "cleared_on": on})
                entries.append(ledger.Entry(key, ((f"client:{c}", amount), ("outgoing", -amount)), on))
                entries.append(ledger.Entry(f"clear:{key}", (("outgoing", amount), (BANK, -amount)), on))
            s.execute(insert(PaymentOrder), order_rows)
            batch.status = "exported"  # orders join a batch only while it is a draft
            ledger.post_many(s, entries)
    engine.dispose()


def measure(url: str, profile: str | None = None, pages: bool = False) -> dict:
    engine = db.make_engine(url)
    if pages:
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute(
            "PRAGMA wal_autocheckpoint = 0"))
    factory = db.session_factory(engine)
    # The previous banking day's batch ran yesterday, as it does in steady state.
    with factory() as s, s.begin():
        run_batch(s, Actor("hannu", "handler"), CALENDAR.previous_banking_day(DAY))
    keeper = None
    if pages:
        # A connection of its own empties the log and keeps it after the engine's close.
        engine.dispose()
        keeper = sqlite3.connect(engine.url.database, isolation_level=None)
        keeper.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    with factory() as s, s.begin():
        result = run_batch(s, Actor("hannu", "handler"), DAY)
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler:
        profiler.dump_stats(profile)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(10)
    engine.dispose()
    peak = peak_rss_mb()
    written = pages_written(keeper, engine.url.database) if keeper else None
    return {"seconds": elapsed, "cpu_seconds": cpu, "orders": result["orders"],
            "total_cents": result["total_cents"], "peak_rss_mb": peak,
            **({"pages": written} if written is not None else {})}


def pages_written(connection: sqlite3.Connection, path: str) -> dict[str, int]:
    """The pages in the SQLite file's write-ahead log (the run's own: it was emptied before the
    run and no checkpoint ran since), counted by the table or index they belong to."""
    wal = Path(path + "-wal").read_bytes()
    (page_size,) = struct.unpack(">I", wal[8:12])
    frame = 24 + page_size
    numbers = {struct.unpack(">I", wal[at:at + 4])[0]
               for at in range(32, len(wal) - frame + 1, frame)}
    owner = dict(connection.execute("SELECT pageno, name FROM dbstat").fetchall())
    connection.close()
    counts: dict[str, int] = {}
    for number in numbers:
        name = owner.get(number, "?")
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB. On Linux the high-water mark of its own
    memory (``VmHWM``): ``ru_maxrss`` of a process started by another keeps the starter's size
    at the start, and the benchmark starts the timed run after seeding (1.9 GB at 100,000
    clients with a month of history, whatever the run itself takes)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--measure", metavar="URL", help="time the run on a seeded database")
    parser.add_argument("--seed-only", metavar="FILE", type=Path,
                        help="seed this SQLite file and keep it, without timing a run")
    parser.add_argument("--db", metavar="URL",
                        help="PostgreSQL database to work in (a schema of its own, dropped after)")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the timed run into FILE; top 10 by own time on stderr")
    parser.add_argument("--pages", action="store_true",
                        help="with --measure on SQLite: the pages the timed run wrote, by table "
                             "and index (no checkpoint runs, so the time is not comparable)")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.profile, args.pages)))
        return
    if args.seed_only:
        seed(f"sqlite:///{args.seed_only}", args.clients, args.months)
        return
    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp) / "batch.db") as url:
        began = time.perf_counter()
        seed(url, args.clients, args.months)
        seeded = time.perf_counter() - began
        command = [sys.executable, "-m", "bench.batch_bench", "--measure", url]
        if args.profile:
            command += ["--profile", args.profile]
        out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        result = json.loads(out.stdout)
    print(f"{backend(url)}: clients: {args.clients}, history: {args.months} months "
          f"(seeded in {seeded:.1f} s)")
    print(f"batch run for {DAY.isoformat()}: {result['seconds']:.2f} s ({result['cpu_seconds']:.2f} s "
          f"CPU), {result['orders']:,} orders, "
          f"{result['total_cents'] / 100:,.2f} EUR, peak RSS {result['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
