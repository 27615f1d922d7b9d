"""Statements the import refuses whole, both backends: hidden characters in any reader's text,
one archive id twice in a camt.053 statement, a statement whose own arithmetic fails, dates
outside the years the service handles. Each is one line on stderr, exit 2, and nothing written;
and what is still fine (line breaks in a message, MT940's identical lines, balances left out)
still imports."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from helpers.scenario import cli_world
from sqlalchemy import select
from helpers.statements import CITY, Tx, camt053, ntry, snapshot, write

import ledger
from imports import read_statements
from imports.errors import StatementError
from imports.mt940 import entry_from_transaction
from valitystili.store.models import StatementLine

CSV_HEADER = "account_iban;booking_date;amount;currency;archive_id;message;counterparty_name\n"
GOOD_ROW = f"{CITY};2.11.2026;10,00;EUR;CSV-1;lahja;Sukulainen\n"

MT940 = """\
:20:STMT20261102
:25:FI74 3301 0001 2220 90
:28C:123/1
:60F:C261030EUR0,00
:61:2611021102C{first}NTRFNONREF//ARCH0001
:86:{message}
:61:2611021102D{second}NMSCNONREF//ARCH0002
:86:Vuokra marraskuu
:62F:C261102EUR{closing}
-
"""


def mt940(*, first: str = "512,40", second: str = "100,00", closing: str = "412,40",
          message: str = "Kela toimeentulotuki") -> str:
    return MT940.format(first=first, second=second, closing=closing, message=message)


@pytest.fixture
def world_cli(cli):
    cli_world(cli)
    return cli


def state(session_factory) -> dict:
    with session_factory() as session:
        return snapshot(session)


def refused(world_cli, session_factory, tmp_path, name: str, text: str | bytes) -> str:
    """Import a good file and ``name`` together; assert exit 2, one line, nothing written."""
    good = write(tmp_path, "good.xml", camt053(ntry("10.00", "G1", Tx(payer="Joku"))))
    bad = write(tmp_path, name, text)
    before = state(session_factory)
    result = world_cli("import", str(good), str(bad), user="fiona")
    assert (result.exit_code, result.stdout) == (2, "")
    assert state(session_factory) == before
    assert result.stderr.count("\n") == 1
    return result.stderr


# --- hidden characters: refused at read, for every reader ---------------------------------------


HIDDEN = {
    "csv-nul-in-message": (
        "nul.csv", CSV_HEADER + GOOD_ROW + f"{CITY};2.11.2026;5,00;EUR;CSV-2;vuok\x00ra;Joku\n",
        "nul.csv: line 3 has the control character U+0000"),
    "csv-escape-in-payer": (
        "esc.csv", CSV_HEADER + f"{CITY};2.11.2026;5,00;EUR;CSV-2;;\x1b[31mJoku\n",
        "esc.csv: line 2 has the control character U+001B"),
    "csv-line-break-in-archive-id": (
        "break.csv", CSV_HEADER + f'{CITY};2.11.2026;5,00;EUR;"CSV\n2";;Joku\n',
        "break.csv: line 3 has a line break in archive_id"),
    "camt-next-line-in-message": (
        "nel.xml", camt053(ntry("5.00", "N1", Tx(message="vuokra\x85marraskuu"))),
        "nel.xml: entry 1 item 1 has the control character U+0085 in RmtInf/Ustrd"),
    "camt-right-to-left-override-in-payer": (
        "rlo.xml", camt053(ntry("5.00", "R1", Tx(payer="\u202eOy Kela"))),
        "rlo.xml: entry 1 item 1 has the bidirectional formatting character U+202E in "
        "RltdPties/Dbtr/Nm"),
    "camt-delete-in-archive-id": (
        "del.xml", camt053(ntry("5.00", "D\x7f1")),
        "del.xml: entry 1 has the control character U+007F in AcctSvcrRef"),
    "mt940-nul-in-details": (
        "nul.sta", mt940(message="Kela\x00toimeentulotuki"),
        "nul.sta: line 6 has the control character U+0000"),
}


@pytest.mark.parametrize("case", list(HIDDEN))
def test_a_hidden_character_refuses_the_file(world_cli, session_factory, tmp_path, case):
    name, text, message = HIDDEN[case]
    assert refused(world_cli, session_factory, tmp_path, name, text) == \
        f"valitystili: error: {message}\n"


def test_line_breaks_in_a_message_or_a_name_are_read_as_spaces(tmp_path):
    row = f'{CITY};2.11.2026;5,00;EUR;CSV-1;"vuokra\r\nmarraskuu";"Maija\nMeikäläinen"\n'
    csv_path = write(tmp_path, "multi.csv", CSV_HEADER + row)
    camt_path = write(tmp_path, "multi.xml", camt053(
        ntry("5.00", "M1", Tx(message="vuokra\n   marraskuu", payer="Maija\nMeikäläinen"))))
    for path in (csv_path, camt_path):
        [statement] = read_statements(path)
        [item] = statement.entries[0].items
        assert (item.message, item.counterparty_name) == ("vuokra marraskuu",
                                                          "Maija Meikäläinen")


def test_tabs_stay_allowed(tmp_path):
    path = write(tmp_path, "tab.csv", CSV_HEADER + f"{CITY};2.11.2026;5,00;EUR;CSV-1;a\tb;Joku\n")
    [statement] = read_statements(path)
    assert statement.entries[0].items[0].message == "a\tb"


def test_fints_transactions_are_checked_field_by_field():
    # FinTS transactions come from the bank's server, not a file: each field is checked.
    data = {"amount": SimpleNamespace(amount=Decimal("5.00")), "applicant_name": "Joku\x00",
            "status": "C"}
    with pytest.raises(StatementError) as caught:
        entry_from_transaction(data, position=3, currency="EUR", archive_id="x",
                               name="FinTS bank account DE1", where="entry 3")
    assert str(caught.value) == ("FinTS bank account DE1: entry 3 has the control character "
                                 "U+0000 in applicant_name")


# --- one archive id twice in a camt.053 statement -------------------------------------------------


def test_a_camt053_statement_with_one_archive_id_twice_is_refused(world_cli, session_factory,
                                                                 tmp_path):
    twice = camt053(ntry("10.00", "A-77", Tx(payer="Joku")), ntry("25.00", "A-78"),
                    ntry("10.00", "A-77", Tx(payer="Toinen")))
    assert refused(world_cli, session_factory, tmp_path, "twice.xml", twice) == (
        "valitystili: error: twice.xml: entry 3 has archive id (AcctSvcrRef) A-77, which "
        "entry 1 of the same statement already has\n")


SAME_LINE_TWICE = """\
:20:STMT20261102
:25:FI74 3301 0001 2220 90
:28C:124/1
:60F:C261030EUR0,00
:61:2611021102C100,00NTRFNONREF//ARCH0001
:86:Lahja
:61:2611021102C100,00NTRFNONREF//ARCH0001
:86:Lahja
:62F:C261102EUR200,00
-
"""


def test_two_identical_mt940_lines_are_two_entries(world_cli, session_factory, tmp_path):
    # MT940 has no archive id: the key includes the line's position, so nothing is dropped.
    world_cli.ok("import", str(write(tmp_path, "same.sta", SAME_LINE_TWICE)), user="fiona")
    with session_factory() as session:
        amounts = session.execute(select(StatementLine.amount_cents)).scalars().all()
        assert amounts == [10000, 10000]
        assert ledger.balance(session, f"bank:{CITY}") == 20000


def test_a_csv_file_with_one_archive_id_twice_is_refused(world_cli, session_factory, tmp_path):
    twice = CSV_HEADER + GOOD_ROW + f"{CITY};3.11.2026;10,00;EUR;CSV-1;toinen;Joku\n"
    assert refused(world_cli, session_factory, tmp_path, "twice.csv", twice) == (
        "valitystili: error: twice.csv: line 3 repeats archive_id CSV-1 from line 2\n")


# --- a statement whose own arithmetic fails ------------------------------------------------------


def test_a_camt053_that_does_not_add_up_is_refused(world_cli, session_factory, tmp_path):
    wrong = camt053(ntry("10.00", "W1"), ntry("2.50", "W2", debit=True),
                    opening_cents=100_000, closing_cents=101_000)
    assert refused(world_cli, session_factory, tmp_path, "wrong.xml", wrong) == (
        "valitystili: error: wrong.xml: statement STMT-1 does not add up: opening balance "
        "1\xa0000,00\xa0€ + booked entries 7,50\xa0€ = 1\xa0007,50\xa0€, but its closing balance "
        "is 1\xa0010,00\xa0€ (difference 2,50\xa0€); nothing was imported\n")


def test_an_mt940_that_does_not_add_up_is_refused(world_cli, session_factory, tmp_path):
    assert refused(world_cli, session_factory, tmp_path, "wrong.sta",
                   mt940(closing="400,00")) == (
        "valitystili: error: wrong.sta: statement STMT20261102/123/1 does not add up: opening "
        "balance 0,00\xa0€ + booked entries 412,40\xa0€ = 412,40\xa0€, but its closing balance "
        "is 400,00\xa0€ (difference -12,40\xa0€); nothing was imported\n")


def test_statements_that_add_up_or_carry_no_closing_balance_import(world_cli, session_factory,
                                                                  tmp_path):
    adds_up = write(tmp_path, "ok.sta", mt940())
    pending_left_out = write(tmp_path, "ok.xml", camt053(
        ntry("10.00", "P1", booked="2026-11-03"),
        ntry("99.00", "P2", status="PDNG", booked="2026-11-03"), statement_id="S2",
        opening_cents=41_240, closing_cents=42_240, on="2026-11-03"))
    no_closing = write(tmp_path, "open.xml", camt053(ntry("5.00", "P3", booked="2026-11-04"),
                                                     statement_id="S3", opening_cents=42_240,
                                                     on="2026-11-04"))
    world_cli.ok("import", str(adds_up), str(pending_left_out), str(no_closing), user="fiona")
    with session_factory() as session:
        assert ledger.balance(session, f"bank:{CITY}") == 42_740


# --- dates outside the years the service handles ---------------------------------------------


@pytest.mark.parametrize(("booked", "shown"), [("9999-12-31", "31.12.9999"),
                                               ("1999-12-31", "31.12.1999")])
def test_a_booking_date_outside_2000_2100_is_refused(world_cli, session_factory, tmp_path,
                                                      booked, shown):
    late = camt053(ntry("10.00", "Y1", booked=booked))
    assert refused(world_cli, session_factory, tmp_path, "late.xml", late) == (
        f"valitystili: error: late.xml: statement STMT-1 entry 1 (Y1) booking date {shown} is "
        "outside the years the service handles (1.1.2000–31.12.2100)\n")
