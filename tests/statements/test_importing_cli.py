"""The import and income commands end to end: wiring, output, hostile input, FinTS."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from helpers.readers import fints_server_fixture
from helpers.scenario import CLI_REVIEW, HETU, cli_world
from sqlalchemy import select
from helpers.statements import (
    CITY,
    SAMPLE_053,
    SAMPLE_054,
    Tx,
    camt053,
    ntry,
    snapshot,
    write,
)

import ledger
from valitystili.store.models import AuditEntry, BankAccount

# The fake FinTS bank of python-fints' own tests (session fixture, started when first used).
fints_server = fints_server_fixture()


@pytest.fixture
def world_cli(cli):
    cli_world(cli)
    return cli


def state(session_factory) -> dict:
    with session_factory() as session:
        return snapshot(session)


def open_maija(cli) -> int:
    opened = cli.json("client", "open", "--hetu", HETU, "--name", "Maija Meikäläinen",
                      "--review", CLI_REVIEW,
                      "--iban", "FI5542345670000081", "--criterion", "evictions",
                      "--worker", "sanna", "--start", "1.10.2026", user="sanna")
    return opened["client"]


def good_file(tmp_path):
    return write(tmp_path, "good.xml", camt053(ntry("10.00", "G1", Tx(payer="Joku"))))


# --- the happy path --------------------------------------------------------------------------------


def test_sample_pair_through_the_cli(world_cli, session_factory):
    if not SAMPLE_053.exists():
        pytest.skip("shared samples missing")
    first = world_cli.json("import", str(SAMPLE_053), str(SAMPLE_054), user="fiona")
    assert [(r["file"], r["entries"], r["posted"], r["already_present"], r["skipped"],
             r["in_suspense"], r["closing_cents"], r["ledger_bank_cents"]) for r in first] == [
        ("finance-finland-content_053.xml", 10, 10, 0, 0, 13, 2_364_483, 2_364_483),
        ("finance-finland-content_054.xml", 6, 4, 1, 1, 8, None, 2_364_483),
    ]
    again = world_cli("import", str(SAMPLE_054), str(SAMPLE_053), user="fiona")
    assert again.exit_code == 0
    assert again.stderr.splitlines() == [
        f"finance-finland-content_054.xml: {CITY}: 6 entries, posted 0, already present 5, "
        "skipped 1 (not booked), in suspense 0",
        f"finance-finland-content_053.xml: {CITY}: 10 entries, posted 0, already present 10, "
        "skipped 0 (not booked), in suspense 0",
    ]
    assert "ledger bank €            23\xa0644,83" in again.stdout
    with session_factory() as session:
        assert ledger.balance(session, f"bank:{CITY}") == 2_364_483
        # One audit entry per file that was imported (the second run's too: nothing new, but
        # someone imported it), with the file's sha256.
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "import")
                                  .order_by(AuditEntry.id)).scalars().all()
    digest = hashlib.sha256(SAMPLE_053.read_bytes()).hexdigest()
    assert [(e.actor, e.subject) for e in entries] == [
        ("fiona", "finance-finland-content_053.xml"), ("fiona", "finance-finland-content_054.xml"),
        ("fiona", "finance-finland-content_054.xml"), ("fiona", "finance-finland-content_053.xml")]
    detail = json.loads(entries[0].detail)
    assert detail["sha256"] == digest
    assert detail["accounts"][0]["posted"] == 10


def test_dry_run_prints_the_postings_and_writes_nothing(world_cli, session_factory, tmp_path):
    before = state(session_factory)
    result = world_cli("--format", "csv", "import", "--dry-run", str(good_file(tmp_path)),
                       user="fiona")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "file,key,booked_on,account,amount_eur",
        f"good.xml,bank:{CITY}:G1,2026-11-02,bank:{CITY},10.00",
        f"good.xml,bank:{CITY}:G1,2026-11-02,suspense,-10.00",
    ]
    assert state(session_factory) == before
    planned = json.loads(world_cli("--format", "json", "import", "--dry-run",
                                   str(good_file(tmp_path)), user="fiona").stdout)
    assert planned["dry_run"] is True
    assert planned["flags"] == [{"kind": "unmatched_income", "subject": "G1", "client": None,
                                 "amount_cents": 1000,
                                 "detail": "10,00\xa0€ in on 2026-11-02 from Joku: nothing "
                                           "identifies a client"}]
    assert state(session_factory) == before


def test_format_option_and_fints_name_resolve(world_cli, tmp_path):
    path = good_file(tmp_path)
    wrong = world_cli("import", "--format", "camt054", str(path), user="fiona")
    assert (wrong.exit_code, wrong.stderr) == (2, "valitystili: error: good.xml: is camt053, "
                                                  "not camt054\n")
    assert world_cli("import", "--format", "camt053", str(path), user="fiona").exit_code == 0
    helped = world_cli("import", "--help")
    assert helped.stdout.startswith(
        "Usage: cli import [OPTIONS] FILE...\n"
        "   or: cli import fints --url URL --blz BLZ --login LOGIN [OPTIONS]\n")
    assert "--dry-run" in helped.stdout
    nothing = world_cli("import", user="fiona")
    assert (nothing.exit_code, nothing.stderr) == (
        2, "valitystili: error: give the statement FILE(s) to import, or `import fints …`\n")


def test_only_finance_imports(world_cli, session_factory, tmp_path):
    before = state(session_factory)
    result = world_cli("import", str(good_file(tmp_path)), user="hannu")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: user hannu (handler) may not import; allowed roles: finance\n")
    assert state(session_factory) == before


def test_income_list_and_assign(world_cli, tmp_path):
    maija = open_maija(world_cli)
    world_cli.ok("import", str(good_file(tmp_path)), user="fiona")
    [line] = world_cli.json("income", "list", "--unmatched", user="hannu")
    assert {k: line[k] for k in ("amount_cents", "payer", "state", "rule", "client")} == {
        "amount_cents": 1000, "payer": "Joku", "state": "suspense", "rule": "none",
        "client": None}
    assigned = world_cli.json("income", "assign", str(line["line"]), str(maija), user="hannu")
    assert (assigned["client"], assigned["amount_cents"]) == (maija, 1000)
    assert world_cli.json("income", "list", "--unmatched", user="hannu") == []
    [listed] = world_cli.json("income", "list", "--from", "2.11.2026", "--to", "2.11.2026",
                              user="aune")
    assert (listed["state"], listed["client"]) == ("assigned", maija)
    twice = world_cli("income", "assign", str(line["line"]), str(maija), user="hannu")
    assert (twice.exit_code, twice.stderr) == (
        2, f"valitystili: error: line {line['line']} is already assigned to client {maija}\n")
    not_handler = world_cli("income", "assign", str(line["line"]), str(maija), user="fiona")
    assert not_handler.exit_code == 2
    assert world_cli("income", "assign", "999", str(maija), user="hannu").stderr == (
        "valitystili: error: no statement line 999\n")


# --- hostile and refused input: one line, exit 2, nothing written ----------------------------------

NS053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"

XXE = f"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="{NS053}"><BkToCstmrStmt><Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>
"""

BILLION_LAUGHS = '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n' + "".join(
    f' <!ENTITY lol{n} "' + f"&lol{n - 1 if n > 2 else ''};" * 10 + '">\n' for n in range(2, 10)
).replace("&lol1;", "&lol;") + f']>\n<Document xmlns="{NS053}">&lol9;</Document>\n'


def _truncated() -> str:
    whole = camt053(ntry("1.00", "T1"), ntry("2.00", "T2"))
    return whole[:whole.index("<Ntry>", whole.index("T1"))] + "<Ntry><Amt"


HOSTILE = {
    "xxe": (XXE, "bad.xml: refused: the XML has a DOCTYPE/ENTITY declaration"),
    "billion-laughs": (BILLION_LAUGHS,
                       "bad.xml: refused: the XML has a DOCTYPE/ENTITY declaration"),
    "doctype": (f'<?xml version="1.0"?><!DOCTYPE Document><Document xmlns="{NS053}"/>',
                "bad.xml: refused: the XML has a DOCTYPE/ENTITY declaration"),
    "truncated": (_truncated(), "bad.xml: malformed or truncated XML"),
    "wrong-namespace": (camt053(ntry("1.00", "W1"),
                                namespace="urn:iso:std:iso:20022:tech:xsd:camt.052.001.01"),
                        "bad.xml: not a camt.052/053/054 document (namespace "
                        "urn:iso:std:iso:20022:tech:xsd:camt.052.001.01)"),
    "unknown-account": (camt053(ntry("1.00", "U1"), iban="FI2112345600000785"),
                        "bad.xml: unknown account FI2112345600000785: add it with "
                        "`valitystili bank add`"),
    "other-currency": (camt053(ntry("1.00", "C1", currency="SEK"), currency="SEK"),
                       "bad.xml: statement STMT-1 is in SEK; only EUR accounts are imported"),
    "three-decimals": (camt053(ntry("10.005", "D1")),
                       "bad.xml: entry 1 has amount 10.005 with more than two decimals"),
    "absurd-amount": (camt053(ntry("20000000.00", "X1")),
                      "bad.xml: statement STMT-1 entry 1 (X1) has amount 20\xa0000\xa0000,00\xa0€, "
                      "over the limit of 10\xa0000\xa0000,00\xa0€"),
    "zero-amount": (camt053(ntry("0.00", "Z1")),
                    "bad.xml: statement STMT-1 entry 1 (Z1) is booked with amount 0"),
    "items-do-not-add-up": (camt053(ntry("10.00", "I1", Tx(amount="4.00"), Tx(amount="5.00"))),
                            "bad.xml: statement STMT-1 entry 1 (I1): its items add up to "
                            "9,00\xa0€, the entry is 10,00\xa0€"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_refused_input_writes_nothing(world_cli, session_factory, tmp_path, case):
    text, message = HOSTILE[case]
    good = good_file(tmp_path)
    bad = write(tmp_path, "bad.xml", text)
    before = state(session_factory)
    result = world_cli("import", str(good), str(bad), user="fiona")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"valitystili: error: {message}")
    assert state(session_factory) == before


def test_fifty_megabytes_of_garbage(world_cli, session_factory, tmp_path):
    bad = write(tmp_path, "garbage.xml", b"\x00" + random.Random(4).randbytes(50 * 1024 * 1024))
    before = state(session_factory)
    result = world_cli("import", str(good_file(tmp_path)), str(bad), user="fiona")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("valitystili: error: garbage.xml: unknown statement format "
                             "(expected camt.052/053/054 XML, MT940 or the CSV layout)\n")
    assert state(session_factory) == before


def test_an_archive_id_imported_with_another_amount_is_refused(world_cli, session_factory,
                                                                tmp_path):
    world_cli.ok("import", str(good_file(tmp_path)), user="fiona")
    changed = write(tmp_path, "changed.xml", camt053(ntry("11.00", "G1"), statement_id="S2"))
    before = state(session_factory)
    result = world_cli("import", str(changed), user="fiona")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: changed.xml: entry G1 was imported with amount 10,00\xa0€, "
           "this file says 11,00\xa0€\n")
    assert state(session_factory) == before


# --- FinTS -------------------------------------------------------------------------------------------

FINTS_IBAN = "DE111234567800000001"


def fake_bank_account(session_factory) -> None:
    """The fake bank's IBAN has 20 characters, not Germany's 22, so `bank add` (rightly)
    refuses it: the account is put in place the way `bank add` would."""
    with session_factory() as session, session.begin():
        session.add(BankAccount(iban=FINTS_IBAN, name="FinTS test", ledger_code=f"bank:{FINTS_IBAN}",
                                created_by="test"))
        ledger.open_account(session, f"bank:{FINTS_IBAN}", "asset")


def ours(stderr: str) -> list[str]:
    """stderr without the fake bank's HTTP log lines."""
    return [line for line in stderr.splitlines() if not line.startswith("127.0.0.1 - - [")]


def fints_json(cli, *args, **kwargs):
    """The fake bank prints the messages it receives to the same stdout: skip them."""
    out = cli.ok("--format", "json", *args, **kwargs)
    return json.loads(out[out.index("[\n  {"):])


def test_fints_import(world_cli, session_factory, fints_server):
    fake_bank_account(session_factory)
    args = ("import", "fints", "--url", fints_server, "--blz", "12345678", "--login", "test1",
            "--iban", FINTS_IBAN)
    [summary] = fints_json(world_cli, *args, user="fiona", env={"VALITYSTILI_FINTS_PIN": "1234"})
    assert {k: summary[k] for k in ("file", "iban", "source", "entries", "posted",
                                    "opening_cents", "closing_cents", "ledger_bank_cents")} == {
        "file": "FinTS 12345678 test1", "iban": FINTS_IBAN, "source": "fints", "entries": 3,
        "posted": 3, "opening_cents": 104_123, "closing_cents": 142_360,
        "ledger_bank_cents": 142_360}
    [again] = fints_json(world_cli, *args, user="fiona", env={"VALITYSTILI_FINTS_PIN": "1234"})
    assert (again["posted"], again["already_present"]) == (0, 3)

    before = state(session_factory)
    wrong = world_cli(*args, user="fiona", env={"VALITYSTILI_FINTS_PIN": "97531"})
    assert wrong.exit_code == 2
    [line] = ours(wrong.stderr)
    assert line.startswith("valitystili: error: FinTS 127.0.0.1:")
    assert line.endswith(" bank 12345678: the bank refused the PIN for user test1 (wrong PIN?)")
    # (The fake bank itself prints the messages it receives, PIN included, to stdout.)
    assert "97531" not in line
    assert state(session_factory) == before


def test_fints_pin_is_asked_for_without_echo(world_cli, session_factory, fints_server):
    fake_bank_account(session_factory)
    result = world_cli("import", "fints", "--url", fints_server, "--blz", "12345678", "--login",
                       "test1", "--iban", FINTS_IBAN, "--dry-run", user="fiona", input="1234\n")
    assert result.exit_code == 0, result.stderr
    # The prompt line holds the prompt only: the PIN typed was not echoed.
    assert ours(result.stderr)[0] == "FinTS PIN: "


def test_fints_refuses_other_roles_before_calling_the_bank(world_cli):
    # No server is listening on port 9: a call to the bank would be a different error.
    result = world_cli("import", "fints", "--url", "http://127.0.0.1:9/", "--blz", "12345678",
                       "--login", "test1", user="hannu", env={"VALITYSTILI_FINTS_PIN": "1234"})
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: user hannu (handler) may not import; allowed roles: finance\n")
