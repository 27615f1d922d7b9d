"""Statement import benchmark (issue 4): reading, matching and posting on SQLite.

Sets up N clients (default 10 000) with their reference numbers, then imports, each file in a
fresh process so that its peak RSS is the import's own:

1. a camt.054 / camt.053 pair for one month: every client pays twice a month with their
   reference; the camt.054 itemises each banking day's payments under one entry, and the
   camt.053 books each day's lump sum (the 054 arrives first, as banks deliver it);
2. a camt.053 with E entries (default 100 000), each a single credit with a client reference.

Prints, per file: entries, lines, seconds, CPU seconds, entries/s and peak RSS. Target:
100 000 entries imported and matched in under 20 s, peak RSS under 300 MB.

    python -m bench.import_bench
    python -m bench.import_bench --clients 1000 --entries 10000
    # PostgreSQL: a fresh schema in the given database, dropped afterwards
    python -m bench.import_bench --db postgresql+psycopg://postgres@127.0.0.1/bench
    # a camt.054 of 100,000 itemised credits (one entry per banking day) instead of the 053
    python -m bench.import_bench --clients 100000 --big 054
    # cProfile of each import (reading and matching/posting), top 10 by own time on stderr
    python -m bench.import_bench --profile /tmp/import
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from .where import backend, database

IBAN = "FI7433010001222090"
NS = "urn:iso:std:iso:20022:tech:xsd:camt.{}.001.02"
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hetu(n: int) -> str:
    """A distinct valid identity code for client n (born 1950-1999, individual 002-899)."""
    year = 50 + n % 50
    day_of_year = (n // 50) % 336
    individual = 2 + (n // 16_800) % 898
    day, month = day_of_year % 28 + 1, day_of_year // 28 % 12 + 1
    ddmmyy = f"{day:02d}{month:02d}{year:02d}"
    return f"{ddmmyy}-{individual:03d}" + CHECK[int(ddmmyy + f'{individual:03d}') % 31]


# --- setting up ------------------------------------------------------------------------------------


def set_up(url: str, clients: int) -> list[str]:
    """The database: users, the city's account, ``clients`` clients; returns their references."""
    from sqlalchemy import insert

    import ledger
    from valitystili.base.identifiers import client_reference, rf_from_finnish
    from valitystili.people import banks
    from valitystili.store import db
    from valitystili.store.models import Client, User
    from valitystili.trust.auth import Actor

    engine = db.make_engine(url)
    db.upgrade(engine)
    factory = db.session_factory(engine)
    with factory() as session, session.begin():
        session.add_all([User(name="admin", role="admin"), User(name="fiona", role="finance")])
        session.flush()
        banks.add_bank_account(session, Actor("admin", "admin"), iban=IBAN, name="Välitystili")
        # Clients in bulk (the service's open_client costs an audit entry and checks per client,
        # which is not what is measured here); the same reference and account conventions.
        rows = []
        for number in range(1, clients + 1):
            reference = client_reference(number)
            rows.append({"id": number, "hetu": hetu(number), "name": f"Asiakas {number}",
                         "payment_name": f"Asiakas {number}",
                         "iban": "FI5542345670000081", "criterion": "evictions",
                         "worker": "admin", "start_on": date(2026, 10, 1),
                         "reference": reference, "rf_reference": rf_from_finnish(reference),
                         "ledger_code": f"client:{number}", "exclusions": {}, "status": "open"})
        session.execute(insert(Client), rows)
        ledger.open_accounts(session, [(f"client:{number}", "liability", True)
                                       for number in range(1, clients + 1)])
    engine.dispose()
    return [client_reference(n) for n in range(1, clients + 1)]


# --- writing the files -----------------------------------------------------------------------------


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _head(kind: str, container: str, message: str, ident: str, balances: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS.format(kind)}">'
            f"<{message}><GrpHdr><MsgId>{ident}</MsgId>"
            "<CreDtTm>2026-12-01T06:00:00+02:00</CreDtTm></GrpHdr>"
            f"<{container}><Id>{ident}</Id><Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy>"
            f"</Acct>{balances}")


def _balance(code: str, cents: int, on: date) -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="EUR">{_amount(cents)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            f"<Dt><Dt>{on.isoformat()}</Dt></Dt></Bal>")


def _ntry(cents: int, archive_id: str, on: date, details: str) -> str:
    return (f'<Ntry><Amt Ccy="EUR">{_amount(cents)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>{on.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{on.isoformat()}</Dt></ValDt><AcctSvcrRef>{archive_id}</AcctSvcrRef>"
            f"<BkTxCd><Prtry><Cd>705</Cd></Prtry></BkTxCd>{details}</Ntry>\n")


def _tx(cents: int, archive_id: str, reference: str) -> str:
    return (f"<TxDtls><Refs><AcctSvcrRef>{archive_id}</AcctSvcrRef></Refs>"
            f'<AmtDtls><TxAmt><Amt Ccy="EUR">{_amount(cents)}</Amt></TxAmt></AmtDtls>'
            "<RltdPties><Dbtr><Nm>MAKSAJA</Nm></Dbtr></RltdPties><RmtInf><Strd><CdtrRefInf>"
            "<Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>")


def banking_days(year: int, month: int) -> list[date]:
    from valitystili.base.banking_calendar import CALENDAR

    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return CALENDAR.banking_days(first, last)


def write_pair(directory: Path, references: list[str]) -> tuple[Path, Path, int]:
    """camt.054 itemising two payments per client over November, and the camt.053 lumps."""
    days = banking_days(2026, 11)
    per_day: dict[date, list[tuple[int, int]]] = {day: [] for day in days}
    for index in range(len(references)):
        for payment in range(2):
            day = days[(index * 2 + payment) % len(days)]
            per_day[day].append((index, 2_000 + (index * 37 + payment * 11) % 50_000))
    n054, n053 = directory / "pair-054.xml", directory / "pair-053.xml"
    total = 0
    with n054.open("w", encoding="utf-8") as out:
        out.write(_head("054", "Ntfctn", "BkToCstmrDbtCdtNtfctn", "BENCH-054"))
        for day, payments in per_day.items():
            details = "".join(_tx(cents, f"I{day:%m%d}{n:06d}", references[index])
                              for n, (index, cents) in enumerate(payments))
            out.write(_ntry(sum(c for _i, c in payments), f"L{day:%Y%m%d}", day,
                            f"<NtryDtls>{details}</NtryDtls>"))
        out.write("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")
    lumps = [(day, sum(c for _i, c in payments)) for day, payments in per_day.items()]
    total = sum(cents for _day, cents in lumps)
    with n053.open("w", encoding="utf-8") as out:
        out.write(_head("053", "Stmt", "BkToCstmrStmt", "BENCH-053",
                        _balance("OPBD", 0, days[0]) + _balance("CLBD", total, days[-1])))
        for day, cents in lumps:
            out.write(_ntry(cents, f"L{day:%Y%m%d}", day, ""))
        out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return n054, n053, sum(len(p) for p in per_day.values())


def write_big(directory: Path, references: list[str], entries: int, opening_cents: int) -> Path:
    """A camt.053 of ``entries`` single credits with client references, over December."""
    days = banking_days(2026, 12)
    path = directory / "big-053.xml"
    total = 0
    chunk: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        out.write(_head("053", "Stmt", "BkToCstmrStmt", "BENCH-BIG",
                        _balance("PRCD", opening_cents, date(2026, 11, 30))))
        for n in range(entries):
            cents = 1_000 + (n * 7919) % 90_000
            total += cents
            day = days[n * len(days) // entries]
            archive_id = f"B{n:07d}"
            chunk.append(_ntry(cents, archive_id, day,
                               f"<NtryDtls>{_tx(cents, archive_id + '-1', references[n % len(references)])}"
                               "</NtryDtls>"))
            if len(chunk) == 5_000:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
        out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return path


def write_big_054(directory: Path, references: list[str], entries: int,
                  _opening_cents: int) -> Path:
    """A camt.054 itemising ``entries`` reference payments over December's banking days, one
    entry (a day's lump sum) per day, as a bank notifies a day of a county's incomes."""
    days = banking_days(2026, 12)
    path = directory / "big-054.xml"
    per_day: dict[date, list[str]] = {day: [] for day in days}
    sums: dict[date, int] = dict.fromkeys(days, 0)
    for n in range(entries):
        cents = 1_000 + (n * 7919) % 90_000
        day = days[n * len(days) // entries]
        per_day[day].append(_tx(cents, f"D{n:07d}", references[n % len(references)]))
        sums[day] += cents
    with path.open("w", encoding="utf-8") as out:
        out.write(_head("054", "Ntfctn", "BkToCstmrDbtCdtNtfctn", "BENCH-BIG-054"))
        for day, details in per_day.items():
            if details:
                out.write(_ntry(sums[day], f"LB{day:%Y%m%d}", day,
                                f"<NtryDtls>{''.join(details)}</NtryDtls>"))
        out.write("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")
    return path


# --- importing (in a child process) ------------------------------------------------------------------


def child(url: str, file_path: str, profile: str | None = None) -> dict:
    from valitystili.statements import reading, service
    from valitystili.store import db
    from valitystili.trust.auth import Actor

    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    # What `valitystili import FILE` does, in two timed halves: the reader (imports/), then
    # checking, matching, preparing, booking and committing (valitystili/statements/).
    statements, digest = reading.read_file(file_path)
    read = time.perf_counter()
    with factory() as session, session.begin():
        result = service.import_statements(session, Actor("fiona", "finance"), statements,
                                           file_name=Path(file_path).name, file_sha256=digest,
                                           today=date(2026, 12, 31), release=True)
    done = time.perf_counter()
    seconds, cpu = done - started, time.process_time() - cpu
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(10)
    [summary] = result.summaries
    return {
        "file": Path(file_path).name, "entries": summary.entries, "posted": summary.posted,
        "lines": summary.new_lines, "matched_reference": summary.matched_reference,
        "in_suspense": summary.in_suspense, "read_s": round(read - started, 2),
        "match_post_s": round(done - read, 2), "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "entries_per_s": round(summary.entries / seconds),
        "lines_per_s": round(summary.new_lines / seconds),
        "ledger_bank_cents": summary.ledger_bank_cents, "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def run_child(url: str, file_path: Path, profile: str | None = None) -> dict:
    command = [sys.executable, "-m", "bench.import_bench", "--child", url, str(file_path)]
    if profile:
        command += ["--profile", f"{profile}-{file_path.stem}.prof"]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"import of {file_path.name} failed")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="Work here (default: a temp dir).")
    parser.add_argument("--db", metavar="URL",
                        help="PostgreSQL database to work in (a schema of its own, dropped after)")
    parser.add_argument("--big", choices=("053", "054"), default="053",
                        help="the big file: a camt.053 of single credits (default) or a camt.054 "
                             "itemising them under one entry per banking day")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="cProfile each import into PREFIX-FILE.prof; top 10 on stderr")
    parser.add_argument("--child", nargs=2, metavar=("DB", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, profile=args.profile)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        work = args.dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        db_path = work / "bench.db"
        db_path.unlink(missing_ok=True)
        with database(args.db, db_path) as url:
            results = run_all(url, work, args)
        keys = list(results[0])
        widths = [max(len(k), *(len(str(r[k])) for r in results)) for k in keys]
        print(f"{backend(url)}, {args.clients:,} clients")
        print("  ".join(k.ljust(w) for k, w in zip(keys, widths)))
        for row in results:
            print("  ".join(str(row[k]).ljust(w) for k, w in zip(keys, widths)))


def run_all(url: str, work: Path, args) -> list[dict]:
    """Set up, import the pair, write and import the big file; each import's figures."""
    started = time.perf_counter()
    references = set_up(url, args.clients)
    n054, n053, items = write_pair(work, references)
    print(f"set up {args.clients} clients and wrote the pair ({items} items) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    results = [run_child(url, n054, args.profile), run_child(url, n053, args.profile)]
    started = time.perf_counter()
    write = write_big if args.big == "053" else write_big_054
    big = write(work, references, args.entries, results[-1]["ledger_bank_cents"])
    print(f"wrote {big.name} ({big.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    results.append(run_child(url, big, args.profile))
    return results


if __name__ == "__main__":
    main()
