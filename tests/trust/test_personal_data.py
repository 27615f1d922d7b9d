"""Identity codes stay where they must: in the database, and where a user asked for one.

DESIGN §10: identity codes are shown masked unless asked for. The places that show one whole
are the ones a user asks for by name, each recorded in the audit trail: ``client show
--show-hetu`` and ``client handover --show-hetu`` (roles with ``client.hetu``), and ``client
export`` (the client's own data for an access request: their identity code is part of it).
Everything else — payment files, bank statements, letters, CSV, the demo's summary, handover
packs, decisions, every line a command prints — carries at most the masked form
(``131052-****``).

The tests run the demo (20 clients, one month) and the README's routines (as
tests/cli/test_readme.py does, through ``helpers.readme``) and read every file they write and
every line they print for any valid identity code, in any century sign (``+``, ``-`` and the
newer ``Y X W V U``, ``A`` and the newer ``B``–``F``) and any case. The database files are not
read: they hold the codes by design (README, "Private by default"). Both runs work on SQLite
files of their own, as the demo and the README's walkthrough do.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.readme import require_shared, shared_run
from helpers.statements import valid_hetu
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
