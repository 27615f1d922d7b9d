"""Identity codes stay where they must: in the database, and where a user asked for one.

DESIGN §10: identity codes are shown masked unless asked for. The places that show one whole
are the ones a user asks for by name, each recorded in the audit trail: ``client show
--show-hetu`` and ``client handover --show-hetu`` (roles with ``client.hetu``), and ``client
export`` (the client's own data for an access request: their identity code is part of it).
Everything else — payment files, bank statements, letters, CSV, the demo's summary, handover
packs, decisions, every line a command prints — carries at most the masked form
(``131052-****``).

The tests run the demo (20 clients, one month), the README's routines (as
tests/cli/test_readme.py does, through ``helpers.readme``) and a day of the service's own
commands (``a_day``), and read every file they write and every line they print for any valid
identity code, in any century sign (``+``, ``-`` and the newer ``Y X W V U``, ``A`` and the
newer ``B``–``F``) and any case. The database is not read: it holds the codes by design (README,
"Private by default").

The demo and the README's walkthrough work on SQLite files of their own. The day runs on SQLite
and on PostgreSQL (the ``backend`` fixture), each command a process of its own as its user (on
PostgreSQL the database login; ``helpers.crashes.Command``): three clients with valid codes and
approved plans, a camt.054 and a camt.053 whose messages carry clients' codes (matched by them)
and strangers' (suspense, a refund), a batch run, approved by a second handler and exported as
pain.001, a decision, letters, a closing's handover pack; then the clients, incomes, flags, audit
trail, batch and reports as tables, CSV and JSON, and refusals (an unknown client, a date that
does not exist, a code that already belongs to a client, a missing file). Where its users ask
for a code by name the code must be there, whole.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import scenario
from helpers.crashes import Command
from helpers.readme import require_shared, shared_run
from helpers.statements import CITY, Tx, camt053, camt054, ntry, valid_hetu, write
from stdnum.fi import hetu as stdnum_hetu

#: Any identity code in text: not glued to other letters or digits, any century sign, any case.
HETU_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Za-z])"
                          r"(?![0-9A-Za-z])")
CENTURY_SIGNS = "+-YXWVUABCDEF"
#: The database and its companions: they hold the codes by design.
DATABASE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal")


@dataclass(frozen=True)
class Found:
    where: str       # a file, or the block / command that printed it
    line: int
    code: str        # masked, for the failure message

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.code}"


@dataclass
class Scan:
    """What was read, and every identity code found in it."""

    files: int = 0
    lines: int = 0
    found: list[Found] | None = None

    def __post_init__(self):
        self.found = []

    def text(self, where: str, text: str) -> None:
        for number, line in enumerate(text.splitlines(), 1):
            self.lines += 1
            self.found.extend(Found(where, number, code[:7] + "****")
                              for code in identity_codes(line))

    def file(self, path: Path, name: str) -> None:
        self.files += 1
        self.text(name, path.read_bytes().decode("utf-8", errors="replace"))

    def folder(self, folder: Path, skip: frozenset[Path] = frozenset()) -> None:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path not in skip and not path.name.endswith(DATABASE_SUFFIXES):
                self.file(path, str(path.relative_to(folder)))


def identity_codes(text: str) -> list[str]:
    """Every valid identity code in ``text`` (temporary ones too), as written."""
    return [match for match in HETU_IN_TEXT.findall(text)
            if stdnum_hetu.is_valid(match.upper(), allow_temporary=True)]


def clients_codes(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {code for (code,) in connection.execute("SELECT hetu FROM clients")}


def same_person(code: str) -> str:
    """Birth date, individual number and check character: the sign left out (``-`` and ``Y``
    say the same century)."""
    code = code.upper()
    return code[:6] + code[7:]


# --- the scan itself sees every form ----------------------------------------------------------


@pytest.mark.parametrize("sign", CENTURY_SIGNS)
def test_the_scan_finds_a_code_in_every_century_sign_and_case(sign):
    code = valid_hetu("010594" if sign not in "+ABCDEF" else "010504", sign, 123)
    assert stdnum_hetu.is_valid(code, allow_temporary=True)
    for text in (code, f"Maksaja {code}, vuokra", f"hetu:{code}.", code.lower(),
                 f'"{code}"', f"<Ustrd>{code}</Ustrd>"):
        assert identity_codes(text) == [code.lower() if text == code.lower() else code], text


@pytest.mark.parametrize("text", [
    "010594Y****", "010594-****", "FI21 1234 5600 0007 85", "RF18539007547034",
    "1000 00013", "2026-11-02", "010594Y123X",          # a wrong check character
    "x010594Y123W", "010594Y123W5",                     # glued to other characters
])
def test_the_scan_finds_nothing_in_masked_codes_and_other_numbers(text):
    assert identity_codes(text) == []


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_writes_and_prints_no_identity_code(tmp_path):
    folder = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-c", "from valitystili.cli import main; main()",
                             "demo", "--clients", "20", "--months", "1", "--out", str(folder)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    codes = clients_codes(folder / "demo.db")
    assert len(codes) == 20

    scan = Scan()
    scan.text("demo (stdout)", result.stdout)
    scan.text("demo (stderr)", result.stderr)
    scan.folder(folder)

    assert [str(found) for found in scan.found] == []
    letters = sorted(p.name for p in (folder / "letters").iterdir())
    assert len(letters) == 40 and scan.files > 40 + 2   # letters, payment files, statements
    # The demo's own people: their codes are in the database and nowhere else.
    assert {same_person(code) for code in codes}.isdisjoint(
        same_person(found.code) for found in scan.found)


# --- the README's routines -----------------------------------------------------------------------


def test_the_readme_routines_print_and_write_no_identity_code(tmp_path_factory):
    """The README's routines, then its reading commands once more as JSON, CSV and ``--wide``
    (``formats``) and where its people ask for a code by name (``asked``: the allowed places;
    the scan must find the code there, and only there): ``helpers.readme.AFTER``."""
    require_shared()
    run = shared_run(tmp_path_factory)
    assert run.returncode == 0, {name: text[-1500:] for name, text in run.stderr.items()}
    codes = {same_person(code) for code in clients_codes(run.work / "walkthrough.db")}
    assert codes == {same_person("010594Y123W"), same_person("120388-9340")}

    scan = Scan()
    for name in run.stdout:
        if name != "asked":
            scan.text(f"block {name!r} (stdout)", run.stdout[name])
            scan.text(f"block {name!r} (stderr)", run.stderr[name])
    exported = run.work / "asiakas-1.json"
    scan.folder(run.work, skip=run.inputs | {exported})

    assert [str(found) for found in scan.found] == []
    assert scan.files >= 8       # payment files, plan, letter, decision, CSV, handover pack …
    # The places a user asked for it show it whole: the scan would have seen it anywhere.
    assert len(run.stdout["formats"].splitlines()) > 100
    assert [same_person(code) for code in identity_codes(run.stdout["asked"])] == [
        same_person("010594Y123W")]
    assert [same_person(code) for code in identity_codes(exported.read_text("utf-8"))] == [
        same_person("010594Y123W")]


# --- the service's own commands, on SQLite and PostgreSQL ---------------------------------------

#: The day's clients by number: valid codes in three century signs.
CODES = {1: valid_hetu("230491", "-", 274), 2: valid_hetu("050702", "A", 318),
         3: valid_hetu("171185", "Y", 402)}
CLIENTS = {1: ("Maija Meikäläinen", "FI4950009420028730"),
           2: ("Matti Virtanen", "FI4210483500022377"),
           3: ("Liisa Laine", "FI5542345670000081")}
#: Payers who write their own code in the message: people who are not clients.
STRANGERS = (valid_hetu("090377", "-", 561), valid_hetu("280699", "-", 730))
STRANGER_IBAN = "FI1080001234567890"
PLAN_FILE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "plan.toml"
ROLES = (("sanna", "social_worker"), ("hannu", "handler"), ("hilla", "handler"),
         ("fiona", "finance"), ("aune", "auditor"))
#: What the zygote's children print goes through these files in the folder they run in.
CHILD_OUTPUT = (".crash-stdout", ".crash-stderr")


class Day:
    """``valitystili ARGS`` as its user in a process of its own (``helpers.crashes.Command``)
    against the test database, in ``work``; every line it prints is scanned."""

    def __init__(self, backend, work: Path, scan: Scan):
        self.command = Command(backend, work, "hetu_scan")
        self.scan = scan
        self.commands = 0

    def __call__(self, user: str, *args: str, code: int = 0) -> str:
        outcome = self.asked(user, *args, code=code)
        where = f"{user}: valitystili {' '.join(args)}"
        self.scan.text(f"{where} (stdout)", outcome.stdout)
        self.scan.text(f"{where} (stderr)", outcome.stderr)
        self.commands += 1
        return outcome.stdout

    def asked(self, user: str, *args: str, code: int = 0):
        """Run without scanning: where a user asks for a code by name."""
        outcome = self.command.run(user, args)
        assert outcome.returncode == code, (user, args, outcome.returncode,
                                            outcome.stderr[-1500:], outcome.stdout[-500:])
        return outcome

    def json(self, user: str, *args: str):
        return json.loads(self(user, "--format", "json", *args))


def open_the_service(run: Day) -> dict[int, str]:
    """Users, the city's account, payees, three clients with the worked example's plan
    approved; returns each client's reference."""
    run("admin", "db", "init")
    for name, role in ROLES:
        run("admin", "user", "add", name, "--role", role)
    run("admin", "bank", "add", "--iban", CITY, "--name", "Välitystili", "--bic", "ESSEFIHX")
    run("hannu", "payee", "add", "--name", "Vaasan Asunnot Oy", "--iban", "FI2112345600000785",
        "--kind", "landlord")
    run("hannu", "payee", "add", "--name", "Vaasan Sähkö Oy", "--iban", "FI72 8000 0001 2345 69",
        "--kind", "utility")
    references = {}
    for number, (name, iban) in CLIENTS.items():
        run("sanna", "client", "open", "--hetu", CODES[number], "--name", name, "--iban", iban,
            "--criterion", "evictions", "--worker", "sanna", "--start", "1.11.2026",
            "--review", "1.2.2027", "--no-guardianship-need", "--no-subsidy-against-will",
            "--no-kela-pays-landlord")
        run("sanna", "plan", "set", str(number), "--file", str(PLAN_FILE),
            "--effective", "1.11.2026")
        run("hannu", "plan", "approve", str(number))
        references[number] = run.json("hannu", "client", "show", str(number))["reference"]
    return references


def notification(references: dict[int, str]) -> str:
    """2.11.2026: Kela by reference, a relative and Kela writing a client's code in the message
    (matched by it), a stranger writing their own, a gift naming two clients' codes."""
    by_reference = references[1].replace(" ", "")
    return camt054(
        ntry("560.00", "A1", Tx(amount="560.00", archive_id="A1-1", reference=by_reference,
                                payer="KELA")),
        ntry("380.00", "A2", Tx(amount="380.00", archive_id="A2-1", reference=by_reference,
                                payer="KELA")),
        ntry("940.00", "A3", Tx(amount="940.00", archive_id="A3-1", payer="VIRTANEN PEKKA",
                                message=f"Vuokra marraskuu {CODES[2].lower()}",
                                iban=STRANGER_IBAN)),
        ntry("560.00", "A4", Tx(amount="560.00", archive_id="A4-1", payer="KELA",
                                message=f"Toimeentulotuki {CODES[3]}")),
        ntry("75.00", "A5", Tx(amount="75.00", archive_id="A5-1", payer="MAKSAJA TUNTEMATON",
                               message=f"Lainan lyhennys {STRANGERS[0]}", iban=STRANGER_IBAN)),
        ntry("20.00", "A6", Tx(amount="20.00", archive_id="A6-1", payer="SUKULAINEN",
                               message=f"Lahja {CODES[1]} ja {CODES[2]}")),
        notification_id="NTFCTN-2026-11-02")


def statement() -> str:
    """3.11.2026: the closed client's code in a message, and another stranger's."""
    return camt053(
        ntry("50.00", "B1", Tx(amount="50.00", archive_id="B1-1", payer="LAINE LIISA",
                               message=f"Vuokra-apu {CODES[3].lower()}"), booked="2026-11-03"),
        ntry("30.00", "B2", Tx(amount="30.00", archive_id="B2-1", payer="OUTO MAKSAJA",
                               message=f"Kuka? {STRANGERS[1]}"), booked="2026-11-03"),
        statement_id="STMT-2026-11-03", opening_cents=None, on="2026-11-03")


def a_day(run: Day, bank: Path) -> None:
    """The money of a day and its papers, then the reading commands as tables, CSV and JSON,
    and a few refusals. Files are written into the folder the commands run in."""
    references = open_the_service(run)
    notified = write(bank, "camt054-2026-11-02.xml", notification(references))
    [imported] = run.json("fiona", "import", str(notified))
    assert (imported["matched_reference"], imported["matched_hetu"],
            imported["in_suspense"]) == (2, 2, 2)
    lines = {row["archive_id"]: row["line"] for row in run.json("hannu", "income", "list")}
    run("hannu", "income", "list", "--unmatched")
    run("hannu", "--wide", "flags")
    run("hannu", "income", "refund", str(lines["A5-1"]))
    run("hannu", "income", "split", str(lines["A6-1"]), "1=10,00", "2=10,00")
    run("hannu", "batch", "run", "--date", "2.11.2026", "--yes")
    run("hilla", "batch", "approve", "1")
    run("fiona", "batch", "export", "1", "--out", "maksut-2026-11-02.xml", "--yes")

    run("hannu", "client", "record", "1", "decision", "--date", "25.10.2026",
        "--grounds", "rent arrears twice", "--start", "1.11.2026", "--review", "1.5.2027")
    run("hannu", "client", "decision", "1", "--out", "paatos-1.txt")
    run("sanna", "report", "statement", "1", "--month", "2026-11", "--date", "30.11.2026")
    run("sanna", "report", "statement", "1", "--month", "2026-11", "--date", "30.11.2026",
        "--out", "kirje-1")
    run("sanna", "report", "statement", "2", "--month", "2026-11", "--date", "30.11.2026",
        "--language", "sv", "--text", "--out", "brev-2.txt")
    run("sanna", "client", "close", "3", "--date", "30.11.2026", "--reason", "moved",
        "--final-payout", "--out", "luovutus-3")
    run("fiona", "import", str(write(bank, "camt053-2026-11-03.xml", statement())))
    lines = {row["archive_id"]: row["line"] for row in run.json("hannu", "income", "list")}

    for output in ("table", "csv", "json"):
        run("aune", "--format", output, "client", "list")
        run("hannu", "--format", output, "client", "show", "1")
        run("aune", "--format", output, "audit", "log")
    for number in (2, 3):
        run("hannu", "--format", "json", "client", "show", str(number))
    run("aune", "--wide", "client", "show", "1")
    run("hannu", "--wide", "income", "list")
    run("hannu", "--format", "csv", "income", "list")
    run("hannu", "--wide", "flags")
    run("hannu", "--format", "json", "flags")
    run("aune", "--wide", "audit", "log", "--client", "1")
    run("hannu", "batch", "show", "1")
    run("hannu", "--format", "json", "batch", "show", "1")
    run("fiona", "report", "balances")
    for report in ("balances", "arrears", "reviews", "batches"):
        run("fiona", "--format", "csv", "report", report)
    run("aune", "--format", "json", "client", "records", "1")
    run("aune", "--format", "json", "plan", "show", "1")
    run("aune", "--format", "json", "ledger", "balances")
    run("aune", "reconcile", code=1)
    run("aune", "audit", "verify")

    run("hannu", "client", "show", "99", code=2)
    run("hannu", "batch", "run", "--date", "31.2.2026", "--dry-run", code=2)
    run("hannu", "income", "assign", str(lines["B2"]), "9", code=2)
    run("sanna", "client", "open", "--hetu", CODES[1], "--name", "Maija Toinen", "--iban",
        CLIENTS[1][1], "--criterion", "evictions", "--worker", "sanna", "--start", "1.11.2026",
        "--review", "1.2.2027", "--no-guardianship-need", "--no-subsidy-against-will",
        "--no-kela-pays-landlord", code=2)
    run("fiona", "import", str(bank / "camt054-2026-11-31.xml"), code=2)


def test_the_service_prints_and_writes_no_identity_code_on_either_backend(backend, tmp_path):
    """``a_day`` as real processes against the backend's database, then where a user asks for
    a code by name (not scanned): ``client show --show-hetu``, ``client handover --show-hetu``
    (Kela's notice) and ``client export``. Those must show it: the scan would have seen it."""
    work, bank = tmp_path / "work", tmp_path / "bank"
    work.mkdir()
    bank.mkdir()
    scan = Scan()
    run = Day(backend, work, scan)
    try:
        a_day(run, bank)
        shown = run.asked("sanna", "client", "show", "1", "--show-hetu").stdout
        shown_json = run.asked("sanna", "--format", "json", "client", "show", "2",
                               "--show-hetu").stdout
        run.asked("sanna", "client", "handover", "3", "--out", "luovutus-3-kela", "--show-hetu")
        run.asked("sanna", "client", "export", "1", "--out", "asiakas-1.json")
    finally:
        run.command.close()
    asked = {work / "asiakas-1.json", *(work / "luovutus-3-kela").iterdir()}
    scan.folder(work, skip=frozenset(asked | {work / name for name in CHILD_OUTPUT}))

    assert [str(found) for found in scan.found] == []
    written = sorted(str(path.relative_to(work)) for path in work.rglob("*")
                     if path.is_file() and path not in asked and path.name not in CHILD_OUTPUT)
    assert written == ["brev-2.txt", "kirje-1.html", "luovutus-3/account-history.csv",
                       "luovutus-3/final-statement.html", "luovutus-3/final-statement.txt",
                       "luovutus-3/kela-notice.txt", "luovutus-3/standing-payments.csv",
                       "luovutus-3/standing-payments.txt", "maksut-2026-11-02.xml",
                       "paatos-1.txt"]
    assert (run.commands, scan.files) == (72, len(written))
    assert scan.lines >= 3000
    # The places a user asked for it show it whole: the scan would have seen it anywhere.
    assert identity_codes(shown) == [CODES[1]]
    assert identity_codes(shown_json) == [CODES[2]]
    assert identity_codes((work / "luovutus-3-kela" / "kela-notice.txt").read_text("utf-8")) == [
        CODES[3]]
    assert identity_codes((work / "asiakas-1.json").read_text("utf-8")) == [CODES[1]]


def test_a_code_given_where_a_client_number_goes_is_not_repeated(cli):
    """Found by the scan above: the refusal repeated what was typed, a code included."""
    scenario.cli_world(cli)
    for args in (("client", "show", CODES[1]), ("income", "assign", "1", STRANGERS[0])):
        result = cli(*args, user="hannu")
        assert result.exit_code == 2
        assert identity_codes(result.stderr) == []
    assert cli("client", "show", CODES[1], user="hannu").stderr == (
        f"valitystili: error: unknown client '{CODES[1][:7]}****': give the client number or "
        "its reference\n")
