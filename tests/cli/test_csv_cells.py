"""CSV output never hands a spreadsheet a formula (issue 9, item 8).

A client named ``=cmd|' /C calc'!A0`` or a bank payer ``=HYPERLINK(…)`` came out verbatim in
``--format csv`` and ran as a formula when the file was opened. Text cells that start like a
formula now get a leading ``'``; money, numbers and dates are untouched, and JSON stays verbatim.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from helpers.scenario import CITY_IBAN, CLI_REVIEW, CLIENT_IBAN, HETU, cli_world

from valitystili.cli.output import render

EVIL_NAME = "=cmd|' /C calc'!A0"
EVIL_PAYER = '=HYPERLINK("http://x","y")'


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def world(cli, tmp_path):
    cli_world(cli)
    cli.ok("client", "open", "--hetu", HETU, "--name", EVIL_NAME, "--iban", CLIENT_IBAN,
           "--review", CLI_REVIEW,
           "--criterion", "evictions", "--worker", "sanna", "--start", "1.10.2026",
           "--no-guardianship-need", "--no-subsidy-against-will", "--no-kela-pays-landlord",
           user="sanna")
    statement = tmp_path / "pankki.csv"
    statement.write_text(
        "account_iban;booking_date;amount;currency;archive_id;reference;message;"
        "counterparty_name\n"
        f"{CITY_IBAN};2.11.2026;25,00;EUR;A-1;;+47 lahjoitus;{EVIL_PAYER}\n", encoding="utf-8")
    cli.ok("import", str(statement), user="fiona")
    return cli


def test_a_formula_in_a_client_name_is_neutralised_in_client_list_and_report_balances(world):
    listed = rows(world.ok("--format", "csv", "client", "list", user="hannu"))
    assert listed == [
        ["client", "name", "hetu", "reference", "status", "worker", "balance_eur"],
        ["1", "'" + EVIL_NAME, "010594Y****", "100000010", "open", "sanna", "0.00"],
    ]
    balances = rows(world.ok("--format", "csv", "report", "balances", "--as-of", "2.11.2026",
                             user="fiona"))
    assert balances == [["client", "name", "status", "balance_eur"],
                        ["1", "'" + EVIL_NAME, "open", "0.00"]]
    assert world.json("client", "list", user="hannu")[0]["name"] == EVIL_NAME


def test_a_formula_in_a_bank_payer_is_neutralised_in_income_list(world):
    header, line = rows(world.ok("--format", "csv", "income", "list", user="fiona"))
    cells = dict(zip(header, line))
    assert (cells["payer"], cells["message"], cells["amount_eur"], cells["booked_on"]) == (
        "'" + EVIL_PAYER, "'+47 lahjoitus", "25.00", "2026-11-02")
    [listed] = world.json("income", "list", user="fiona")
    assert (listed["payer"], listed["message"], listed["amount_cents"]) == (
        EVIL_PAYER, "+47 lahjoitus", 2500)


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Maija", "Maija"), ("a=b", "a=b"),
    ("-12.50", "-12.50"), ("+358", "+358"), (["=1", "b"], "'=1, b"),
])
def test_text_cells_that_start_like_a_formula_get_a_quote(value, cell):
    [_, [got]] = rows(render([{"text": value}], "csv"))
    assert got == cell


def test_money_numbers_and_dates_are_never_changed():
    text = render([{"balance_cents": -1000, "count": -3, "on": date(2026, 11, 2),
                    "paid": False}], "csv")
    assert rows(text) == [["balance_eur", "count", "on", "paid"],
                          ["-10.00", "-3", "2026-11-02", "no"]]
