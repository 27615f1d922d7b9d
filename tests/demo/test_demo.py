"""The demo month: the whole pipeline end to end, checked against the generated people.

Payments go out as pain.001 files, the simulated bank executes them and reports them on
camt.053, the import clears them: at the end ``outgoing`` and ``suspense`` are zero and the
bank holds exactly the clients' money.
"""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from valitystili.base.banking_calendar import CALENDAR
from valitystili.cli import cli
from valitystili.demo.data import people
from valitystili.demo.run import run_demo


def test_a_demo_month_balances_to_the_cent(tmp_path):
    summary = run_demo(tmp_path / "demo", clients=12, months=1)
    persons = people(12)
    relatives = sum(p.pays_with_reference for p in persons)
    money_in = sum(p.assistance_cents + p.allowance_cents for p in persons) + relatives
    payers = [p for p in persons if not p.short_of_rent]
    short = [p for p in persons if p.short_of_rent]
    assert summary["money_in_cents"] == money_in
    # DESIGN §6 worked example 3: the client short of rent has all of their money paid to it
    assert summary["rent_paid_cents"] == (sum(p.rent_cents for p in payers)
                                          + sum(p.assistance_cents + p.allowance_cents
                                                for p in short))
    assert summary["bills_paid_cents"] == sum(p.electricity_cents or 0 for p in payers)
    assert summary["money_in_cents"] == (summary["rent_paid_cents"] + summary["bills_paid_cents"]
                                         + summary["instalments_paid_cents"]
                                         + summary["held_for_clients_cents"])
    assert (summary["outgoing_cents"], summary["suspense_cents"]) == (0, 0)
    assert summary["bank_balance_cents"] == summary["held_for_clients_cents"]
    assert summary["reconcile"] == "clean"
    assert summary["banking_days"] == len(CALENDAR.banking_days(date(2026, 11, 1), date(2026, 11, 30))) == 21
    # the client who is short of rent: rent and electricity in arrears and short of money
    assert len(short) == 1
    assert summary["open_flags"] == {"arrears": 2, "insufficient_funds": 2}
    files = sorted(p.name for p in (tmp_path / "demo" / "payments").iterdir())
    assert files[0] == "pain001-2026-11-02.xml" and len(files) == summary["payment_files"]


def test_a_closed_payee_account_returns_the_payments_to_the_client(tmp_path):
    summary = run_demo(tmp_path / "demo", clients=51, months=1)
    # client index 50 has a closed account: each instalment sent to it comes back
    assert summary["payments_returned"] >= 1
    assert summary["open_flags"]["payment_returned"] == summary["payments_returned"]
    assert (summary["outgoing_cents"], summary["suspense_cents"]) == (0, 0)
    assert summary["reconcile"] == "clean"


def test_demo_command_prints_the_summary_and_exits_0(tmp_path):
    result = CliRunner().invoke(cli, ["--format", "json", "demo", "--clients", "5",
                                      "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["clients"], summary["reconcile"]) == (5, "clean")
    assert (tmp_path / "d" / "demo.db").exists()
