"""Export benchmark (issue 16, target 3): one banking day's payment file, its peak memory.

On a database seeded by ``bench.batch_bench --seed-only`` (10,000 clients: 2.11.2026 holds a
rent and an instalment per client, 20,000 orders), ``--prepare`` runs the previous banking
day's batch and that day's, and approves the day's batch; ``--measure`` then exports it as
``batch export`` does, in a process of its own, and prints the export's wall and CPU time and
the process's peak resident memory (``VmHWM``: the export is all the process does after
importing the service). ``--tracemalloc`` also prints the Python allocations the export held
at its peak, by file and line (the figure is then slower, not the one to quote).

    python -m bench.batch_bench --clients 10000 --months 0 --seed-only /tmp/seed.db
    cp /tmp/seed.db /tmp/day.db && python -m bench.export_bench --prepare sqlite:////tmp/day.db
    cp /tmp/day.db /tmp/a.db && python -m bench.export_bench --measure sqlite:////tmp/a.db

``--measure`` changes the database (the batch becomes exported): measure each run on a fresh
copy of the prepared file.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

from valitystili.base.banking_calendar import CALENDAR
from valitystili.payments import approve_batch, export_batch, run_batch
from valitystili.store import db
from valitystili.store.models import User
from valitystili.trust.auth import Actor

from .batch_bench import DAY, peak_rss_mb

HANDLER = Actor("hannu", "handler")
APPROVER = Actor("hilla", "handler")
FINANCE = Actor("fiona", "finance")
TRACEMALLOC_LINES = 12


def prepare(url: str) -> dict:
    factory = db.session_factory(db.make_engine(url))
    with factory() as s, s.begin():
        if s.get(User, "fiona") is None:
            s.add(User(name="fiona", role="finance"))
        run_batch(s, HANDLER, CALENDAR.previous_banking_day(DAY))
    with factory() as s, s.begin():
        result = run_batch(s, HANDLER, DAY)
    with factory() as s, s.begin():
        approved = approve_batch(s, APPROVER, str(result["batch"]), today=DAY)
    return {"batch": approved["batch"], "orders": approved["orders"]}


def measure(url: str, batch: str, out: Path, traced: bool) -> dict:
    factory = db.session_factory(db.make_engine(url))
    if traced:
        tracemalloc.start(1)
    started, cpu = time.perf_counter(), time.process_time()
    with factory() as s, s.begin():
        result = export_batch(s, FINANCE, batch, out, today=DAY)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    figures = {"seconds": round(elapsed, 2), "cpu_seconds": round(cpu, 2),
               "orders": result["orders"], "bytes": out.stat().st_size,
               "sha256": result["sha256"], "peak_rss_mb": round(peak_rss_mb(), 1)}
    if traced:
        _current, peak = tracemalloc.get_traced_memory()
        figures["traced_peak_mb"] = round(peak / 2**20, 1)
        top = tracemalloc.take_snapshot().statistics("lineno")[:TRACEMALLOC_LINES]
        figures["held_at_end"] = [str(line) for line in top]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", metavar="URL", help="run and approve the day's batch")
    parser.add_argument("--measure", metavar="URL", help="export the approved batch")
    parser.add_argument("--batch", default="1", help="the batch to export (default 1)")
    parser.add_argument("--out", type=Path, help="the file to write (default: a temporary one)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python allocations (slower)")
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare(args.prepare)))
    if args.measure:
        with tempfile.TemporaryDirectory() as tmp:
            out = args.out or Path(tmp) / "maksut.xml"
            print(json.dumps(measure(args.measure, args.batch, out, args.tracemalloc), indent=1))


if __name__ == "__main__":
    main()
