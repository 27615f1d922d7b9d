"""The ledger on the neutral workload, beside the raw-SQLite yardstick (issue 16, target 1).

``../shared/bench/`` holds the workload generator and the yardstick (``sqlite_raw.py``: stdlib
``sqlite3``, one transaction, ``executemany``, no checks). This script loads the same CSV through
``ledger.post_many`` into the ledger's own schema (``ledger.metadata`` and its append-only
triggers; the bank account an asset, every ``client:`` account a liability that may never go
below zero), reads every balance back through ``ledger.balances`` and prints them in the
yardstick's exact form (``name  euros EUR`` lines, sorted; a ``#RESULT`` line on stderr), so the
two outputs can be compared line by line.

    python3 ../shared/bench/gen_workload.py --clients 10000 --months 12 --out /tmp/wl --formats csv
    .venv/bin/python -m bench.neutral_load /tmp/wl/workload_N10000_M12_s1.csv > /tmp/ledger.txt
    python3 ../shared/bench/sqlite_raw.py /tmp/wl/workload_N10000_M12_s1.csv /tmp/raw.sqlite \\
        > /tmp/raw.txt
    diff /tmp/raw.txt /tmp/ledger.txt && echo same

    # both, as whole processes, alternating A B A B ..., outputs diffed, median ratio:
    .venv/bin/python -m bench.neutral_load /tmp/wl/workload_N10000_M12_s1.csv --check --rounds 3

    # PostgreSQL (a fresh schema is made and dropped):
    .venv/bin/python -m bench.neutral_load FILE.csv --db postgresql+psycopg://postgres@127.0.0.1/test

The load is posted ``--chunk`` transactions per ``post_many`` call, each call its own database
transaction (all or nothing), so memory stays flat at any N; every entry is checked as any
``post_many`` checks it (balanced, integer cents, key unique, the client account not below zero
after each entry).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
YARDSTICK = HERE.parent.parent / "shared" / "bench" / "sqlite_raw.py"
HEADER = ["date", "txn_id", "client_id", "account_from", "account_to", "amount_cents", "kind",
          "reference"]


def _maxrss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _kind(code: str) -> tuple[str, bool]:
    """(ledger kind, no_negative) of a CSV account: the bank's account is an asset, a client's
    account a liability that never goes below zero."""
    if code.startswith("client:"):
        return "liability", True
    if code.startswith("bank:"):
        return "asset", False
    raise SystemExit(f"unknown account in the workload: {code}")


def read_entries(path: str, chunk: int):
    """Yield (new account codes, [Entry, ...]) per ``chunk`` CSV rows, in file order."""
    import ledger

    make = ledger.Entry._make  # a named tuple: the fields in order, no keyword handling
    days: dict[str, date] = {}
    known: set[str] = set()
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        if header[:8] != HEADER:
            raise SystemExit(f"{path}: not the neutral workload's CSV (header {header[:8]})")
        batch: list = []
        new: list[str] = []
        for row in rows:
            frm, to = row[3], row[4]
            if frm not in known:
                known.add(frm)
                new.append(frm)
            if to not in known:
                known.add(to)
                new.append(to)
            day = days.get(row[0])
            if day is None:
                day = days[row[0]] = date.fromisoformat(row[0])
            amount = int(row[5])
            batch.append(make((row[1], ((frm, -amount), (to, amount)), day, None,
                               f"{row[6]}: {row[7]}", "", None)))
            if len(batch) == chunk:
                yield new, batch
                batch, new = [], []
        if batch or new:
            yield new, batch


def run_ledger(csv_path: str, url: str, chunk: int) -> int:
    """Load, read balances, print them; '#RESULT' on stderr. Exit status 0 when all holds."""
    t_start = time.perf_counter()
    c_start = time.process_time()
    from sqlalchemy import text

    import ledger

    schema = None
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = ledger.make_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = ledger.make_engine(
            url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.remove(path + suffix)
            except FileNotFoundError:
                pass
        engine = ledger.make_engine(url)
    try:
        with engine.begin() as connection:
            ledger.metadata.create_all(connection)
            for statement in ledger.append_only_ddl(engine.dialect.name):
                connection.execute(text(statement))
        from sqlalchemy.orm import Session

        t0 = time.perf_counter()
        transactions = 0
        for new, entries in read_entries(csv_path, chunk):
            with Session(engine) as session, session.begin():
                if new:
                    ledger.open_accounts(session, [(code, *_kind(code)) for code in new])
                if entries:
                    ledger.post_many(session, entries)
            transactions += len(entries)
        load_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        with Session(engine) as session, session.begin():
            stored = ledger.balances(session)
        balance_s = time.perf_counter() - t0
        sign = ledger.models.SIGN
        total = 0
        lines = []
        for account in stored:
            cents = sign[account.kind] * account.balance_cents  # as posted: debit positive
            total += cents
            lines.append(f"{account.code:40} {cents / 100:>14.2f} EUR")
        lines.sort()
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    finally:
        if schema is not None:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        engine.dispose()
    result = {"tool": "ledger.post_many", "backend": engine.dialect.name,
              "transactions": transactions, "accounts": len(lines), "chunk": chunk,
              "load_s": round(load_s, 4), "balance_s": round(balance_s, 4),
              "total_s": round(time.perf_counter() - t_start, 4),
              "cpu_s": round(time.process_time() - c_start, 4),
              "pid_maxrss_mb_self": _maxrss_mb()}
    print("#RESULT " + json.dumps(result), file=sys.stderr, flush=True)
    if total != 0:
        print(f"balances do not sum to zero: {total}", file=sys.stderr)
        return 1
    return 0


def _timed(command: list[str], out_path: Path) -> dict:
    """Run one whole process; its wall time, CPU time (user + system) and peak RSS."""
    before = os.times()
    started = time.perf_counter()
    with open(out_path, "w", encoding="utf-8") as out:
        proc = subprocess.run(command, check=False, stdout=out, stderr=subprocess.PIPE, text=True,
                              cwd=HERE.parent)
    wall = time.perf_counter() - started
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}): {proc.stderr.strip()}")
    result = {}
    for line in proc.stderr.splitlines():
        if line.startswith("#RESULT "):
            result = json.loads(line[8:])
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                          - before.children_system)
    return {"wall_s": wall, "cpu_s": cpu, "rss_mb": result.get("pid_maxrss_mb_self")}


def check(csv_path: str, rounds: int, chunk: int, yardstick: Path) -> int:
    """Both as whole processes, alternating; outputs diffed line by line; median ratios."""
    if not yardstick.exists():
        raise SystemExit(f"no yardstick at {yardstick} (--yardstick PATH)")
    runs: dict[str, list[dict]] = {"raw": [], "ledger": []}
    with tempfile.TemporaryDirectory(prefix="neutral_") as tmp:
        tmp_path = Path(tmp)
        commands = {
            "raw": [sys.executable, str(yardstick), csv_path, str(tmp_path / "raw.sqlite")],
            "ledger": [sys.executable, "-m", "bench.neutral_load", csv_path,
                       "--db", f"sqlite:///{tmp_path / 'ledger.sqlite'}", "--chunk", str(chunk)],
        }
        for round_ in range(rounds):
            for side in ("raw", "ledger"):
                run = _timed(commands[side], tmp_path / f"{side}.txt")
                runs[side].append(run)
                print(f"round {round_ + 1} {side:6}: wall {run['wall_s']:6.2f} s, "
                      f"cpu {run['cpu_s']:6.2f} s, peak RSS {run['rss_mb']} MB", flush=True)
            raw_lines = (tmp_path / "raw.txt").read_text(encoding="utf-8").splitlines()
            ledger_lines = (tmp_path / "ledger.txt").read_text(encoding="utf-8").splitlines()
            if raw_lines != ledger_lines:
                differ = [(i + 1, a, b) for i, (a, b) in enumerate(zip(raw_lines, ledger_lines))
                          if a != b]
                print(f"outputs differ: {len(raw_lines)} vs {len(ledger_lines)} lines; "
                      f"first difference {differ[:1]}", file=sys.stderr)
                return 1
    n_lines = len(raw_lines)

    def median(side, what):
        return statistics.median(run[what] for run in runs[side])

    print(f"outputs identical: {n_lines} balance lines")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    for what in ("wall_s", "cpu_s"):
        raw, led = median("raw", what), median("ledger", what)
        print(f"median {what[:-2]:4}: raw {raw:6.2f} s, ledger {led:6.2f} s, "
              f"ratio {led / raw:.2f}x")
    ratios = [b["wall_s"] / a["wall_s"] for a, b in zip(runs["raw"], runs["ledger"])]
    print("wall ratio per round: " + " ".join(f"{r:.2f}" for r in ratios))
    print(f"peak RSS: raw {max(r['rss_mb'] for r in runs['raw'])} MB, "
          f"ledger {max(r['rss_mb'] for r in runs['ledger'])} MB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="the generator's CSV (gen_workload.py --formats csv)")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in /tmp)")
    parser.add_argument("--chunk", type=int, default=100_000,
                        help="transactions per post_many call (default 100000)")
    parser.add_argument("--check", action="store_true",
                        help="run the yardstick and this load alternately, diff, give ratios")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --check (default 3)")
    parser.add_argument("--yardstick", type=Path, default=YARDSTICK)
    args = parser.parse_args()
    if not Path(args.csv).is_file():
        print(f"no such file: {args.csv}", file=sys.stderr)
        return 2
    if args.chunk < 1 or args.rounds < 1:
        print("--chunk and --rounds must be at least 1", file=sys.stderr)
        return 2
    if args.check:
        return check(args.csv, args.rounds, args.chunk, args.yardstick)
    url = args.db or f"sqlite:///{tempfile.gettempdir()}/neutral_ledger_{os.getpid()}.sqlite"
    return run_ledger(args.csv, url, args.chunk)


if __name__ == "__main__":
    sys.exit(main())
