"""Honest messages about the ledger itself (issue 13): only `db init` creates a ledger, so a
mistyped --db exits 3 and creates nothing; `reconcile` with nothing to check against exits 3,
never 0 (DESIGN §8), on both backends."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from helpers import scenario
from oversight.test_reports_world import Money

from valitystili.cli import cli as cli_group

NO_LEDGER = "valitystili: error: no ledger at {} (run `valitystili db init`)\n"


def invoke(*args: str):
    return CliRunner().invoke(cli_group, list(args), env={"VALITYSTILI_USER": "fiona"})


@pytest.mark.parametrize("command", [
    ("user", "list"),
    ("reconcile",),
    ("batch", "run", "--dry-run"),
    ("income", "list", "--unmatched"),
    ("db", "upgrade"),
], ids=lambda args: " ".join(args))
def test_a_mistyped_sqlite_path_exits_3_and_creates_nothing(tmp_path, command):
    typo = tmp_path / "ledgr" / "valitystili.db"           # the folder does not exist either
    result = invoke("--db", str(typo), *command)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "", NO_LEDGER.format(typo))
    assert list(tmp_path.iterdir()) == []
    beside = tmp_path / "valitystil.db"                     # a file that is not there
    result = invoke("--db", str(beside), *command)
    assert (result.exit_code, result.stderr) == (3, NO_LEDGER.format(beside))
    assert list(tmp_path.iterdir()) == []


def test_an_empty_or_foreign_file_holds_no_ledger_and_is_left_as_it_was(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    result = invoke("--db", str(empty), "reconcile")
    assert (result.exit_code, result.stderr) == (3, NO_LEDGER.format(empty))
    assert empty.read_bytes() == b""
    notes = tmp_path / "muistiinpanot.txt"
    notes.write_text("ei tietokanta\n", encoding="utf-8")
    result = invoke("--db", str(notes), "reconcile")
    assert (result.exit_code, result.stderr) == (
        3, "valitystili: error: database error: file is not a database\n")
    assert notes.read_text(encoding="utf-8") == "ei tietokanta\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "muistiinpanot.txt"]


def test_db_init_creates_the_folder_and_the_ledger(tmp_path):
    path = tmp_path / "uusi" / "valitystili.db"
    created = CliRunner().invoke(cli_group, ["--db", str(path), "--format", "json", "db", "init"],
                                 env={"VALITYSTILI_USER": "ville"})
    assert created.exit_code == 0, created.stderr
    assert json.loads(created.stdout)["admin"] == "ville" and path.is_file()
    listed = CliRunner().invoke(cli_group, ["--db", str(path), "user", "list"],
                                env={"VALITYSTILI_USER": "ville"})
    assert listed.exit_code == 0, listed.stderr


def test_reconcile_without_a_bank_account_exits_3(cli, session_factory):
    result = cli("reconcile", "--as-of", "3.11.2026")
    assert (result.exit_code, result.stdout, result.stderr) == (
        3, "", "valitystili: error: nothing to reconcile: the ledger has no bank account (add "
               "the city's account with `valitystili bank add`)\n")


def test_reconcile_without_a_statement_exits_3_and_records_nothing(cli, session_factory):
    with session_factory() as session, session.begin():
        scenario.world(session)
    result = cli("reconcile", "--as-of", "3.11.2026", user="fiona")
    assert (result.exit_code, result.stdout, result.stderr) == (
        3, "", "valitystili: error: nothing to reconcile: no bank statement has been imported "
               "(`valitystili import`)\n")
    log = cli.json("audit", "log", user="aune")
    assert [entry["action"] for entry in log if entry["action"].startswith("reconcile")] == []


def test_reconcile_with_a_statement_runs(cli, session_factory):
    with session_factory() as session, session.begin():
        scenario.world(session)
        Money(session).close_day(date(2026, 11, 2), closing_cents=0)
    result = cli("reconcile", "--as-of", "3.11.2026", user="fiona")
    assert (result.exit_code, result.stderr) == (
        0, "reconciled as of 3.11.2026: 1 statement, 1 bank account, 0 clients; no findings\n")
