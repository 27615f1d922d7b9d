"""CLI wiring of the foundation: db init, users, roles, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from valitystili.cli import cli as cli_group


def test_init_registers_the_acting_user_as_admin(cli, backend):
    users = cli.json("user", "list")
    assert users == [{"name": backend.admin_name, "role": "admin", "full_name": "",
                      "created_by": backend.admin_name, "language": None}]


def test_admin_adds_a_handler_who_is_then_listed(cli, backend):
    added = cli.json("user", "add", "alice", "--role", "handler", "--full-name", "Alice Aalto")
    assert added == {"name": "alice", "role": "handler", "full_name": "Alice Aalto",
                     "created_by": backend.admin_name, "language": None}
    names = [(u["name"], u["role"]) for u in cli.json("user", "list")]
    assert ("alice", "handler") in names
    csv_out = cli.ok("--format", "csv", "user", "list")
    assert f"alice,handler,Alice Aalto,{backend.admin_name}," in csv_out.splitlines()


def test_unregistered_user_gets_exit_2_and_one_line(cli, backend):
    result = cli("user", "list", user="mallory")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("valitystili: error: user mallory is not registered; "
                             "an admin adds users with `user add`\n")


def test_role_refusal_is_one_line_and_writes_nothing(cli):
    cli.ok("user", "add", "alice", "--role", "handler")
    result = cli("user", "add", "bob", "--role", "finance", user="alice")
    assert result.exit_code == 2
    assert result.stderr == ("valitystili: error: user alice (handler) may not user add; "
                             "allowed roles: admin\n")
    assert "bob" not in [u["name"] for u in cli.json("user", "list")]


def test_duplicate_user_is_refused(cli):
    cli.ok("user", "add", "alice", "--role", "handler")
    result = cli("user", "add", "alice", "--role", "finance")
    assert (result.exit_code, result.stderr) == (2, "valitystili: error: user alice already exists\n")


def test_unknown_role_is_a_usage_error(cli):
    result = cli("user", "add", "carol", "--role", "boss")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("valitystili: error: Invalid value for '--role': 'boss'")


def test_ledger_verify_is_clean_on_a_new_database(cli):
    result = cli("ledger", "verify")
    assert (result.exit_code, result.stdout.strip()) == (0, "(none)")


def test_db_init_twice_is_harmless(cli):
    again = cli("--format", "json", "db", "init")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["admin"] is None
    assert "already initialised at revision" in again.stderr


def test_only_db_init_creates_a_sqlite_ledger(tmp_path):
    path = tmp_path / "sub" / "first.db"
    result = CliRunner().invoke(cli_group, ["--db", str(path), "db", "init"],
                                env={"VALITYSTILI_USER": "ville"})
    assert result.exit_code == 0, result.stderr
    listed = CliRunner().invoke(cli_group, ["--db", str(path), "--format", "json", "user", "list"],
                                env={"VALITYSTILI_USER": "ville"})
    assert json.loads(listed.stdout) == [{"name": "ville", "role": "admin", "full_name": "",
                                          "created_by": "ville", "language": None}]


def test_unreachable_database_exits_3_with_one_line():
    result = CliRunner().invoke(
        cli_group, ["--db", "postgresql://nobody@127.0.0.1:1/none", "user", "list"])
    assert result.exit_code == 3
    assert result.stderr.startswith("valitystili: error: could not run: ")
    assert result.stderr.count("\n") == 1


def test_uninitialised_postgresql_is_refused_with_exit_3(backend):
    if backend.name != "postgresql":
        pytest.skip("tests/cli/test_honest_database.py covers a missing SQLite file")
    result = CliRunner().invoke(cli_group, ["--db", backend.url, "user", "list"])
    shown = make_url(backend.url).render_as_string(hide_password=True)
    assert (result.exit_code, result.stderr) == (
        3, f"valitystili: error: no ledger at {shown} (run `valitystili db init`)\n")


@pytest.mark.parametrize("args", [[], ["batch"], ["plan"]])
def test_no_command_prints_the_help_and_exits_0(args):
    result = CliRunner().invoke(cli_group, args, prog_name="valitystili")
    assert result.exit_code == 0
    assert result.output.startswith(" ".join(["Usage: valitystili", *args, "[OPTIONS]"]))
    assert "Commands:" in result.output and "valitystili: error" not in result.output


def test_format_is_taken_before_and_after_the_command(cli):
    before = cli.ok("--format", "csv", "user", "list")
    after = cli.ok("user", "list", "--format", "csv")
    assert after == before and after.splitlines()[0].startswith("name,")
    as_json = json.loads(cli.ok("--format", "table", "user", "list", "--format", "json"))
    assert [user["name"] for user in as_json] == [cli.backend.admin_name]
    refused = cli("user", "list", "--format", "xml")
    assert refused.exit_code == 2 and "'xml' is not one of 'table', 'csv', 'json'" in refused.stderr


def test_the_statement_format_of_import_stays_its_own_option(cli):
    refused = cli("import", "--format", "json", "x.xml")
    assert refused.exit_code == 2
    assert "Invalid value for '--format'" in refused.stderr
