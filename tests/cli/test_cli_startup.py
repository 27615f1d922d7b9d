"""The command line starts fast (STYLE 13) and parses dates and amounts itself.

`valitystili --help` loads no database or file-format library; a command on an existing
database loads no Alembic and no statement reader; the schema check agrees with Alembic. Bad
dates, months and amounts are refused by click before anything runs: one line naming the
option, exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from helpers.scenario import CLI_REVIEW, CLIENT_IBAN, HETU, cli_world

from valitystili.cli import cli as cli_group
from valitystili.store import db

#: Libraries that only the commands using them may load.
HEAVY = ("sqlalchemy", "alembic", "ledger", "imports", "lxml", "babel", "fints", "holidays",
         "schwifty", "stdnum", "tabulate", "mako")

#: Runs the CLI in a fresh interpreter and prints, on stderr's last line, every module it loaded.
LOADED = ("import atexit, sys\n"
          "atexit.register(lambda: print('\\n' + ' '.join(sorted(sys.modules)), file=sys.stderr))\n"
          "from valitystili.cli import main\n"
          "sys.argv[0] = 'valitystili'\n"
          "main()\n")


def loaded_by(*args: str, db_path=None, user: str = "root") -> set[str]:
    """The top-level packages and valitystili modules a whole `valitystili ARGS` process loads."""
    env = {**os.environ, "VALITYSTILI_USER": user}
    if db_path is not None:
        env["VALITYSTILI_DB"] = str(db_path)
    done = subprocess.run([sys.executable, "-c", LOADED, *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    modules = done.stderr.rstrip("\n").rsplit("\n", 1)[-1].split()
    return {m.split(".")[0] for m in modules} | {m for m in modules if m.startswith("valitystili")}


def test_help_loads_no_command_module_and_no_heavy_library():
    loaded = loaded_by("--help")
    assert loaded & set(HEAVY) == set()
    assert {m for m in loaded if m.startswith("valitystili.")} <= {
        "valitystili.base", "valitystili.base.errors", "valitystili.base.i18n", "valitystili.cli",
        "valitystili.cli.lazy", "valitystili.cli.output"}


def test_a_one_client_lookup_loads_no_alembic_and_no_statement_reader(tmp_path):
    path = tmp_path / "ledger.db"
    for user, args in (
            ("root", ("db", "init")),
            ("root", ("user", "add", "sanna", "--role", "social_worker")),
            ("sanna", ("client", "open", "--hetu", HETU, "--name", "Maija Meikäläinen", "--iban",
                       CLIENT_IBAN, "--criterion", "evictions", "--worker", "sanna",
                       "--review", CLI_REVIEW,
                       "--no-guardianship-need", "--no-subsidy-against-will",
                       "--no-kela-pays-landlord"))):
        result = CliRunner().invoke(cli_group, list(args),
                                    env={"VALITYSTILI_DB": str(path), "VALITYSTILI_USER": user})
        assert result.exit_code == 0, result.stderr
    loaded = loaded_by("client", "show", "1", db_path=path, user="sanna")
    assert loaded & {"alembic", "mako", "imports", "lxml", "fints", "holidays"} == set()
    assert "valitystili.cli.commands_people" in loaded
    assert not {m for m in loaded if m.startswith("valitystili.cli.commands_")} - {
        "valitystili.cli.commands_people"}


def test_the_schema_check_finds_the_head_alembic_finds():
    from alembic.script import ScriptDirectory

    assert db.head_revision() == ScriptDirectory.from_config(db.alembic_config()).get_current_head()


# --- dates, months and amounts are parsed by click -----------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (("client", "close", "1", "--date", "31.2.2026"),
     "Invalid value for '--date': date 31.2.2026 does not exist"),
    (("client", "close", "1", "--date", ""),
     "Invalid value for '--date': date '' is not in the form 23.11.2026 or 2026-11-23"),
    (("bill", "add", "1", "--payee", "x", "--amount", "5x", "--due", "1.12.2026"),
     "Invalid value for '--amount': amount '5x' is not a number (use e.g. 512,40 or 512.40)"),
    (("lease", "add", "1", "--payee", "x", "--rent", "-520", "--start", "1.11.2026", "--end",
      "31.1.2027"), "Invalid value for '--rent': amount -520 is negative"),
    (("report", "arrears", "--as-of", "30.11.26"),
     "Invalid value for '--as-of': date '30.11.26' is not in the form 23.11.2026 or 2026-11-23"),
    (("demo", "--start", "2026-13"),
     "Invalid value for '--start': month 2026-13 does not exist (the month must be 01–12)"),
], ids=["no-such-day", "blank-required", "amount", "negative", "two-digit-year", "month"])
def test_bad_input_is_refused_by_click_before_anything_runs(tmp_path, args, message):
    path = tmp_path / "never.db"
    result = CliRunner().invoke(cli_group, list(args),
                                env={"VALITYSTILI_DB": str(path), "VALITYSTILI_USER": "root"})
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {message}\n")
    assert not path.exists()      # refused before the database was opened


def test_an_empty_optional_date_means_the_default(cli):
    cli_world(cli)
    assert cli.json("report", "reviews", "--as-of", "", user="hannu") == cli.json(
        "report", "reviews", user="hannu")
    assert json.loads(cli.ok("--format", "json", "batch", "list", "--since", "", user="hannu")) \
        == cli.json("batch", "list", user="hannu")
