"""CSV statements in the documented layout: delimiters, decimal comma, dates, refusals."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.readers import write

from imports import StatementError, detect_format, read_statements
from imports.csvfile import read_csv

SEMICOLON = (
    "\ufeffaccount_iban;booking_date;value_date;amount;currency;archive_id;reference;message;"
    "counterparty_name;counterparty_iban;end_to_end_id;status\n"
    "FI74 3301 0001 2220 90;23.11.2026;24.11.2026;512,40;EUR;A-1;RF18 5390 0754 7034;"
    "Toimeentulotuki;Kela;FI21 1234 5600 0007 85;NOTPROVIDED;\n"
    "FI7433010001222090;2026-11-24;;-1 200,00;EUR;A-2;;;;;;\n"
)

COMMA = (
    "Account_IBAN,Booking_Date,Amount,Currency,Archive_ID,Reference,Message,Status\n"
    'FI7433010001222090,2026-11-23,"512,40",EUR,C-1,1234 5672,"Vuokra, marraskuu",BOOK\n'
    "FI7433010001222090,1.12.2026,-512.40,EUR,C-2,,,pdng\n"
    "\n"
    "FI2112345600000785,2026-11-23,+0.01,EUR,C-1,,,\n"
)


def test_semicolon_layout_with_bom_decimal_comma_and_finnish_dates(tmp_path):
    text = SEMICOLON.replace("-1 200,00", "-1200,00")
    path = write(tmp_path, "pankki.csv", text)
    assert detect_format(path) == "csv"
    [statement] = read_statements(path)
    assert (statement.source, statement.statement_id, statement.iban, statement.currency,
            statement.balances, statement.from_on, statement.to_on) == (
        "csv", "pankki.csv:FI7433010001222090", "FI7433010001222090", "EUR", (),
        date(2026, 11, 23), date(2026, 11, 24))
    kela, payment = statement.entries
    assert (kela.position, kela.archive_id, kela.amount_cents, kela.booked_on, kela.value_on,
            kela.status) == (1, "A-1", 51_240, date(2026, 11, 23), date(2026, 11, 24), "BOOK")
    [item] = kela.items
    assert (item.amount_cents, item.reference, item.reference_kind, item.message,
            item.counterparty_name, item.counterparty_iban, item.end_to_end_id) == (
        51_240, "RF18539007547034", "ISO", "Toimeentulotuki", "Kela", "FI2112345600000785", None)
    assert (payment.position, payment.archive_id, payment.amount_cents, payment.value_on) == (
        2, "A-2", -120_000, None)
    assert payment.items[0].reference is None


def test_comma_layout_one_statement_per_account(tmp_path):
    first, second = read_csv(write(tmp_path, "tilit.csv", COMMA))
    assert [(e.archive_id, e.amount_cents, e.booked_on, e.status) for e in first.entries] == [
        ("C-1", 51_240, date(2026, 11, 23), "BOOK"),
        ("C-2", -51_240, date(2026, 12, 1), "PDNG"),
    ]
    assert first.entries[0].items[0].message == "Vuokra, marraskuu"
    assert (first.entries[0].items[0].reference, first.entries[0].items[0].reference_kind) == (
        "12345672", "SCOR")
    # The same archive id on another account is another entry.
    assert (second.iban, [(e.archive_id, e.amount_cents) for e in second.entries]) == (
        "FI2112345600000785", [("C-1", 1)])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("account_iban;booking_date;amount;currency\nFI1;2026-11-23;1;EUR\n",
         "missing required column(s): archive_id"),
        ("account_iban,amount\n", "missing required column(s): booking_date, currency, archive_id"),
        ("account_iban;booking_date;amount;currency;archive_id;refrence\n",
         "unknown column 'refrence'"),
        ("account_iban;booking_date;amount;currency;archive_id\nFI1;2026-11-23;1,005;EUR;X\n",
         "line 2 has amount 1,005 with more than two decimals"),
        ("account_iban;booking_date;amount;currency;archive_id\nFI1;2026-11-23;1 200,00;EUR;X\n",
         "line 2 has amount '1 200,00', which is not a decimal number"),
        ("account_iban;booking_date;amount;currency;archive_id\nFI1;2026-11-23;100000000,01;EUR;X\n",
         "line 2 has amount 100000000,01 over the limit of 100000000.00"),
        ("account_iban;booking_date;amount;currency;archive_id\nFI1;31.11.2026;1;EUR;X\n",
         "line 2 booking_date is '31.11.2026'; expected 2026-11-23 or 23.11.2026"),
        ("account_iban;booking_date;amount;currency;archive_id\nFI1;2026-11-23;1;EUR\n",
         "line 2 has 4 fields, the header has 5"),
        ("account_iban;booking_date;amount;currency;archive_id\nFI1;2026-11-23;1;EUR;\n",
         "line 2 has no archive_id"),
        ("account_iban;booking_date;amount;currency;archive_id\nFI1;2026-11-23;1;EUR;X\n"
         "FI1;2026-11-23;2;EUR;X\n", "line 3 repeats archive_id X from line 2"),
        ("account_iban;booking_date;amount;currency;archive_id\nFI1;2026-11-23;1;EUR;X\n"
         "FI1;2026-11-23;2;SEK;Y\n", "line 3 has currency SEK, earlier rows of FI1 have EUR"),
        ("account_iban;booking_date;amount;currency;archive_id;status\nFI1;2026-11-23;1;EUR;X;DONE\n",
         "line 2 has status 'DONE'; expected BOOK, PDNG or INFO"),
        ("account_iban;booking_date;amount;currency;archive_id\n", "has a header but no rows"),
    ],
)
def test_bad_csv(tmp_path, text, message):
    with pytest.raises(StatementError) as caught:
        read_csv(write(tmp_path, "pankki.csv", text))
    assert str(caught.value) == f"pankki.csv: {message}"


def test_not_utf8(tmp_path):
    latin1 = SEMICOLON.lstrip("\ufeff").replace("Kela", "Kelä").encode("latin-1")
    path = write(tmp_path, "pankki.csv", latin1)
    with pytest.raises(StatementError) as caught:
        read_csv(path)
    assert str(caught.value) == "pankki.csv: line 2 is not UTF-8 text"
