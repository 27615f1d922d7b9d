"""The walkthrough of docs/clients-and-plans.md, command by command, with exact output."""

from __future__ import annotations

import re
from datetime import date

from helpers.scenario import WORKED_EXAMPLE

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def test_walkthrough(cli, backend, tmp_path):
    admin = backend.admin_name
    # 1. The admin registers the people and the city's account.
    cli.ok("user", "add", "sanna", "--role", "social_worker", "--full-name", "Sanna Sosiaali")
    cli.ok("user", "add", "hannu", "--role", "handler")
    cli.ok("user", "add", "aune", "--role", "auditor")
    cli.ok("bank", "add", "--iban", "FI7433010001222090", "--name", "Välitystili")

    # 2. A handler registers the payees.
    assert cli.ok("payee", "add", "--name", "Vaasan Asunnot Oy", "--iban", "FI2112345600000785",
                  "--kind", "landlord", user="hannu") == (
        "payee         1\n"
        "name          Vaasan Asunnot Oy\n"
        "payment name\n"
        "iban          FI21 1234 5600 0007 85\n"
        "bic           NDEAFIHH\n"
        "kind          landlord\n")
    cli.ok("payee", "add", "--name", "Vaasan Sähkö Oy", "--iban", "FI4950009420028730",
           "--kind", "utility", user="hannu")

    # 3. The social worker opens the client; the criterion and the answers are recorded.
    # The CLI works on the real date; keep the review ahead of it.
    review = date(max(date.today().year + 1, 2027), 2, 1)
    opened = cli.json("client", "open", "--hetu", "010594Y123W", "--name", "Maija Meikäläinen",
                      "--iban", "FI5542345670000081", "--criterion", "evictions",
                      "--worker", "sanna", "--start", "1.11.2026", "--review",
                      f"{review.day}.{review.month}.{review.year}", "--no-guardianship-need",
                      "--no-subsidy-against-will", "--no-kela-pays-landlord", user="sanna")
    assert (opened["client"], opened["hetu"], opened["reference"], opened["rf_reference"]) == (
        1, "010594Y****", "100000010", "RF69100000010")

    # 4. The plan of DESIGN §6 (the §12 example plus housing allowance), effective 1.11.2026.
    plan_file = tmp_path / "maija.toml"
    plan_file.write_text(WORKED_EXAMPLE.replace("2027-02-01", review.isoformat()),
                         encoding="utf-8")
    set_ = cli.json("plan", "set", "1", "--file", str(plan_file), "--effective", "1.11.2026",
                    user="sanna")
    assert set_ == {"client": 1, "version": 1, "status": "draft", "effective_on": "2026-11-01",
                    "review_on": review.isoformat(), "item_count": 2, "income_count": 2,
                    "expected_monthly_income_cents": 94000, "warnings": []}

    # 5. The handler's decision puts it in force.
    approved = cli.json("plan", "approve", "1", user="hannu")
    assert (approved["version"], approved["approved_by"]) == (1, "hannu")

    # 6. The plan as people read it …
    table = TIME.sub("YYYY-MM-DD hh:mm:ss", cli.ok("plan", "show", "1", user="hannu"))
    assert table == f"""\
client            1
version           1
status            approved
in force          yes
in force version  1
effective on      2026-11-01
review on         {review.isoformat()}
author            sanna
created at        YYYY-MM-DD hh:mm:ss
approved by       hannu
approved at       YYYY-MM-DD hh:mm:ss
approved despite

pay
#  kind         payee           amount €  account €  due                         reference / message
-  -----------  --------------  --------  ---------  --------------------------  -------------------
1  rent         Vaasan Asunno…    520,00     520,00  FREQ=MONTHLY;BYMONTHDAY=2   12345672
2  electricity  Vaasan Sähkö…      45,00             FREQ=MONTHLY;BYMONTHDAY=15  RF18539007547034

income
#  source  kind                     amount €  schedule
-  ------  -----------------------  --------  -------------------------
1  Kela    basic_social_assistance    560,00  FREQ=MONTHLY;BYMONTHDAY=1
2  Kela    housing_allowance          380,00  FREQ=MONTHLY;BYMONTHDAY=1

instalments
schedule   FREQ=WEEKLY;BYDAY=MO
mode       even
amount €
keep €     0,00
minimum €  0,00
"""
    # … and as machines read it.
    shown = cli.json("plan", "show", "1", user="hannu")
    assert TIME.fullmatch(shown.pop("created_at")) and TIME.fullmatch(shown.pop("approved_at"))
    assert shown == {
        "client": 1, "version": 1, "status": "approved", "in_force": True,
        "in_force_version": 1, "effective_on": "2026-11-01", "review_on": review.isoformat(),
        "author": "sanna", "approved_by": "hannu", "approved_despite": None,
        "items": [
            {"position": 1, "kind": "rent", "payee": "Vaasan Asunnot Oy", "payee_id": 1,
             "iban": "FI2112345600000785", "amount_cents": 52000,
             "paid_directly_cents": 0, "account_cents": 52000, "bills": False,
             "due": "FREQ=MONTHLY;BYMONTHDAY=2", "reference": "12345672",
             "reference_kind": "SCOR", "message": None, "paid_by": "account",
             "allow_partial": True},
            {"position": 2, "kind": "electricity", "payee": "Vaasan Sähkö Oy", "payee_id": 2,
             "iban": "FI4950009420028730", "amount_cents": 4500,
             "paid_directly_cents": None, "account_cents": None, "bills": False,
             "due": "FREQ=MONTHLY;BYMONTHDAY=15", "reference": "RF18539007547034",
             "reference_kind": "ISO", "message": None, "paid_by": "account",
             "allow_partial": False},
        ],
        "incomes": [
            {"position": 1, "source": "Kela", "kind": "basic_social_assistance",
             "amount_cents": 56000, "schedule": "FREQ=MONTHLY;BYMONTHDAY=1",
             "route": "client_declared_account"},
            {"position": 2, "source": "Kela", "kind": "housing_allowance",
             "amount_cents": 38000, "schedule": "FREQ=MONTHLY;BYMONTHDAY=1",
             "route": "client_declared_account"},
        ],
        "instalments": {"schedule": "FREQ=WEEKLY;BYDAY=MO", "mode": "even",
                        "amount_cents": None, "keep_cents": 0, "minimum_cents": 0},
        "problems": [],                  # the plan check found every month adds up
    }

    # 7. The client's card, and who has looked at it.
    card = cli.json("client", "show", "1", user="hannu")
    assert (card["reference"], card["rf_reference"], card["plan_in_force"],
            card["balance_cents"]) == ("1000 00010", "RF69 1000 0001 0", 1, 0)
    history = cli.json("audit", "log", "--client", "1", user="aune")
    assert [(r["actor"], r["action"]) for r in history] == [
        ("sanna", "client.open"), ("sanna", "plan.set"), ("hannu", "plan.approve"),
        ("hannu", "plan.view"), ("hannu", "plan.view"), ("hannu", "client.view")]
    assert cli("audit", "verify", user=admin).exit_code == 0
