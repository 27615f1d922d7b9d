"""Output a person and a spreadsheet can trust (issue 13, "Output and the command line").

Every command that prints a list is walked on the demo's month (20 clients, both backends):

- its table fits 100 characters (``--wide`` shows the whole texts);
- its CSV and JSON keys are its spec's in ``cli/tables.py`` (so an empty list's header is the
  same one), and every money column is either ``*_eur`` holding decimal euros (``1113.00``) in
  CSV or ``*_cents`` holding integer cents in JSON — the same amount in both;
- on an empty database each list's CSV is its header row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from conftest import Cli
from helpers.scenario import CITY_IBAN, CLI_REVIEW, CLIENT_IBAN, HETU, LANDLORD, LANDLORD_IBAN

from valitystili.cli import tables
from valitystili.cli.output import TABLE_WIDTH, csv_header
from valitystili.demo.run import run_demo

DAY = "30.11.2026"
EURO = re.compile(r"-?[0-9]+\.[0-9]{2}")

#: Every command that prints a list, as the demo's users run it: (user, arguments, columns).
LISTS = [
    ("hannu", ("flags",), tables.FLAGS),
    ("hannu", ("flags", "--all"), tables.FLAGS_ALL),
    ("hannu", ("income", "list"), tables.INCOME),
    ("hannu", ("income", "list", "--unmatched"), tables.INCOME),
    ("hannu", ("batch", "list"), tables.BATCH_LIST),
    ("hannu", ("batch", "show", "1"), tables.BATCH_ORDERS),
    ("hannu", ("batch", "run", "--date", "1.12.2026", "--dry-run"), tables.BATCH_RUN),
    ("aune", ("audit", "log"), tables.AUDIT_LOG),
    ("aune", ("audit", "log", "--client", "1"), tables.AUDIT_LOG),
    ("hannu", ("client", "list"), tables.CLIENTS),
    ("hannu", ("payee", "list"), tables.PAYEES),
    ("admin", ("bank", "list"), tables.BANKS),
    ("admin", ("user", "list"), tables.USERS),
    ("hannu", ("lease", "list", "1"), tables.LEASES),
    ("hannu", ("bill", "list", "1"), tables.BILLS),
    ("admin", ("settings", "list"), tables.SETTINGS),
    ("aune", ("reconcile", "--as-of", DAY), tables.FINDINGS),
    ("aune", ("audit", "verify"), tables.VERIFY_FINDINGS),
    ("hannu", ("ledger", "verify"), tables.VERIFY_FINDINGS),
    ("hannu", ("ledger", "balances", "--as-of", DAY), tables.LEDGER_BALANCES),
    ("fiona", ("report", "balances", "--as-of", DAY), tables.REPORT_BALANCES),
    ("fiona", ("report", "arrears", "--as-of", DAY), tables.REPORT_ARREARS),
    ("fiona", ("report", "reviews", "--as-of", "1.5.2027"), tables.REPORT_REVIEWS),
    ("fiona", ("report", "batches", "--as-of", DAY, "--since", "1.11.2026"),
     tables.REPORT_BATCHES),
    # Written into the test's folder (the demo fixture's working directory), again each time.
    ("hannu", ("report", "statements", "--month", "2026-11", "--out", "kirjeet", "--force"),
     tables.REPORT_STATEMENTS),
]
#: Commands that print one record or sections: their tables fit too.
RECORDS = [("hannu", ("client", "show", "1")), ("hannu", ("plan", "show", "1"))]
#: Lists the demo's month leaves empty (their keys are checked by the empty-database test).
EMPTY_ON_THE_DEMO = {("income", "list", "--unmatched"), ("lease", "list", "1"),
                     ("bill", "list", "1"), ("reconcile", "--as-of", DAY), ("audit", "verify"),
                     ("ledger", "verify"), ("batch", "run", "--date", "1.12.2026", "--dry-run")}


@pytest.fixture
def demo(backend, tmp_path, monkeypatch) -> Cli:
    """The demo's November with 20 clients, in the test's database; the test's folder is the
    working directory."""
    monkeypatch.chdir(tmp_path)
    summary = run_demo(tmp_path / "demo", clients=20, url=backend.url)
    assert summary["reconcile"] == "clean"
    cli = Cli(backend, monkeypatch)
    cli.folder = tmp_path
    return cli


def rows_of(args: tuple[str, ...], data):
    """The list a command's JSON carries."""
    if args[:2] == ("batch", "show"):
        return data["orders"]
    if args[:2] == ("batch", "run"):
        return data["orders_planned"]
    return data


def run(cli: Cli, user: str, *args: str):
    result = cli(*args, user=user)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout


def test_every_list_on_the_demo_fits_and_keeps_its_keys_and_money_straight(demo):
    problems = []
    for user, args, spec in LISTS:
        keys = [column.key for column in spec]
        table = run(demo, user, *args).splitlines()
        problems += [f"{' '.join(args)}: {len(line)} characters: {line}"
                     for line in table if len(line) > TABLE_WIDTH]
        data = rows_of(args, json.loads(run(demo, user, "--format", "json", *args)))
        found = list(csv.reader(io.StringIO(run(demo, user, "--format", "csv", *args))))
        if args in EMPTY_ON_THE_DEMO:
            continue
        assert data, f"{' '.join(args)} printed no rows on the demo"
        if [list(row) for row in data] != [keys] * len(data):
            problems.append(f"{' '.join(args)}: JSON keys {list(data[0])}, spec {keys}")
        header, *lines = found
        if header != [csv_header(key) for key in keys]:
            problems.append(f"{' '.join(args)}: CSV header {header}")
        problems += money_problems(args, header, lines, data)
    assert problems == []


def money_problems(args, header, lines, data) -> list[str]:
    """Every money column: ``*_eur`` decimal euros in CSV, ``*_cents`` integer cents in JSON,
    the same amount in both; no other column names money."""
    problems = [f"{' '.join(args)}: CSV column {name}" for name in header
                if name.endswith("_cents")]
    # Each run of ``audit log`` adds its own view: the second run has one entry more.
    for line, row in zip(lines, data):
        for name, cell in zip(header, line, strict=True):
            if not name.endswith("_eur"):
                continue
            cents = row[name.removesuffix("_eur") + "_cents"]
            if cell == "" and cents is None:
                continue
            if not (EURO.fullmatch(cell) and isinstance(cents, int)
                    and Decimal(cell) * 100 == cents):
                problems.append(f"{' '.join(args)}: {name} {cell!r} against cents {cents!r}")
    for row in data:
        problems += [f"{' '.join(args)}: JSON {key} {value!r}" for key, value in row.items()
                     if key.endswith("_eur") or key.endswith("_cents")
                     and not (value is None or type(value) is int)]
    return problems


def test_records_sections_and_the_import_preview_fit_too(demo):
    statement = demo.folder / "december.csv"
    statement.write_text(
        "account_iban;booking_date;amount;currency;archive_id;reference;message;"
        "counterparty_name\n"
        f"{CITY_IBAN};1.12.2026;25,00;EUR;DEC-1;100000010;Joululahja;Maija\n", encoding="utf-8")
    preview = demo("import", "--dry-run", "--format", "csv", str(statement), user="fiona")
    outputs = [preview.stdout]
    for user, args in RECORDS:
        outputs.append(demo(*args, user=user).stdout)
    too_long = [line for text in outputs for line in text.splitlines() if len(line) > TABLE_WIDTH]
    assert too_long == []
    legs = list(csv.reader(io.StringIO(demo("--format", "csv", "import", "--dry-run", "--format",
                                            "csv", str(statement), user="fiona").stdout)))
    assert legs[0] == [csv_header(column.key) for column in tables.IMPORT_LEGS]
    assert [leg[2:] for leg in legs[1:]] == [["2026-12-01", f"bank:{CITY_IBAN}", "25.00"],
                                             ["2026-12-01", "client:1", "-25.00"]]


def test_wide_shows_what_the_table_cuts(demo):
    [opened] = [row for row in demo.json("audit", "log", "--client", "1", user="aune")
                if row["action"] == "client.open"]
    summary = opened["summary"]
    assert summary.startswith("client:1: name Päivi Lauri Turunen, ")
    assert len(summary) > TABLE_WIDTH
    [cut] = [line for line in run(demo, "aune", "audit", "log", "--client", "1").splitlines()
             if " client.open " in line]
    assert cut.endswith("…") and summary[:30] in cut and summary not in cut
    wide = run(demo, "aune", "audit", "log", "--client", "1", "--wide")
    assert any(line.endswith(summary) for line in wide.splitlines())
    assert opened["subject"] in wide

    flags = demo.json("flags", user="hannu")
    longest = max(flags, key=lambda flag: len(flag["detail"]))["detail"]
    table = run(demo, "hannu", "flags")
    assert longest not in table and longest[:20] in table
    assert longest in run(demo, "hannu", "--wide", "flags")


def test_batch_show_starts_with_a_heading_a_person_reads(demo):
    shown = run(demo, "hannu", "batch", "show", "1").splitlines()
    assert shown[:3] == [("batch 1: exported, 39 payments, 11\u00a0754,40\u00a0€, executing "
                         "2026-11-02"),
                         "run by hannu on 2026-11-02, approved by hilla", ""]
    assert shown[3].split() == ["order", "client", "kind", "payee", "iban", "amount", "€",
                                "reference", "/", "message"]
    as_csv = demo("--format", "csv", "batch", "show", "1", user="hannu")
    assert as_csv.stdout.splitlines()[0] == ("order,client,kind,payee,iban,amount_eur,reference,"
                                             "message,execution_on,status,key")
    assert as_csv.stderr.splitlines()[:2] == shown[:2]


def test_the_verifications_say_what_they_checked(demo):
    ledger = demo("ledger", "verify", user="hannu")
    transactions = re.fullmatch(r"ledger: ([0-9\u00a0]+) transactions, invariants hold\n",
                                ledger.stderr)
    assert transactions is not None and int(transactions[1].replace("\u00a0", "")) > 200
    audit = demo("audit", "verify", user="aune")
    lines = audit.stderr.splitlines()
    assert re.fullmatch(r"audit trail: [0-9\u00a0]+ entries, chain intact", lines[0])
    assert lines[1] == f"ledger transactions: {transactions[1]}, each posted by an audited action"
    assert re.fullmatch(r"audited state: 6 users, [0-9]+ stored settings?, 6 payment batches, "
                        r"as the trail says", lines[2])
    assert lines[3] == ledger.stderr.rstrip("\n")
    assert lines[4].startswith("head: ")


# --- an empty database ----------------------------------------------------------------------

#: What each list prints as CSV when there is nothing to list: its header row.
EMPTY_HEADERS = [
    ("hannu", ("flags",),
     ("flag,kind,client,subject,amount_eur,detail,first_seen,last_seen,resolved,ack_by,"
     "ack_comment")),
    ("hannu", ("income", "list"),
     "line,iban,booked_on,amount_eur,payer,reference,message,state,rule,client,archive_id"),
    ("hannu", ("batch", "list"),
     ("batch,key,run_on,execution_on,status,orders,total_eur,created_by,approved_by,exported,"
     "bank_status")),
    ("hannu", ("client", "list"), "client,name,hetu,reference,status,worker,balance_eur"),
    ("hannu", ("payee", "list"), "payee,name,payment_name,iban,bic,kind"),
    (None, ("bank", "list"), "bank,iban,name,bic,ledger_code,balance_eur"),
    ("hannu", ("ledger", "balances"), "account,kind,balance_eur"),
    ("hannu", ("ledger", "verify"), "check,subject,detail"),
    ("aune", ("audit", "verify"), "check,subject,detail"),
    ("fiona", ("report", "balances"), "client,name,status,balance_eur"),
    ("fiona", ("report", "reviews"), "client,name,worker,what,on,days_left"),
    ("fiona", ("report", "batches"),
     "batch,key,execution_on,status,orders,total_eur,cleared,returned,approved_by"),
]
#: The same for a client with nothing listed yet, and for a clean reconciliation.
CLIENT_HEADERS = [
    ("hannu", ("lease", "list", "1"), "lease,client,payee,kind,rent_eur,start_on,end_on,override"),
    ("hannu", ("bill", "list", "1"),
     "bill,client,payee,kind,amount_eur,due_on,reference,reference_kind,message,status,paid_eur"),
    ("aune", ("reconcile", "--as-of", "3.11.2026"), "check,subject,detail,amount_eur"),
]


def test_an_empty_list_prints_its_csv_header_and_an_empty_json_list(cli):
    for name, role in (("hannu", "handler"), ("fiona", "finance"), ("aune", "auditor")):
        cli.ok("user", "add", name, "--role", role)
    found = {args: cli("--format", "csv", *args, user=user) for user, args, _ in EMPTY_HEADERS}
    assert {args: (result.exit_code, result.stdout) for args, result in found.items()} == {
        args: (0, header + "\n") for _, args, header in EMPTY_HEADERS}
    for user, args, _ in EMPTY_HEADERS:
        assert cli.json(*args, user=user) == [], args
    assert cli.ok("flags", user="hannu") == "(none)\n"
    assert cli.ok("flags", "--format", "csv", user="hannu") == EMPTY_HEADERS[0][2] + "\n"


def test_a_new_clients_lists_and_a_clean_reconciliation_print_their_headers(cli, tmp_path):
    for name, role in (("sanna", "social_worker"), ("hannu", "handler"), ("fiona", "finance"),
                       ("aune", "auditor")):
        cli.ok("user", "add", name, "--role", role)
    cli.ok("bank", "add", "--iban", CITY_IBAN, "--name", "Välitystili")
    cli.ok("payee", "add", "--name", LANDLORD, "--iban", LANDLORD_IBAN, user="hannu")
    cli.ok("client", "open", "--hetu", HETU, "--name", "Maija Meikäläinen", "--iban",
           CLIENT_IBAN, "--criterion", "evictions", "--worker", "sanna", "--start", "1.10.2026",
           "--review", CLI_REVIEW, "--no-guardianship-need", "--no-subsidy-against-will",
           "--no-kela-pays-landlord", user="sanna")
    statement = tmp_path / "pankki.csv"
    statement.write_text(
        "account_iban;booking_date;amount;currency;archive_id;reference;message;"
        "counterparty_name\n"
        f"{CITY_IBAN};2.11.2026;25,00;EUR;A-1;100000010;;Maija\n", encoding="utf-8")
    cli.ok("import", str(statement), user="fiona")
    for user, args, header in CLIENT_HEADERS:
        assert cli.ok("--format", "csv", *args, user=user) == header + "\n", args
