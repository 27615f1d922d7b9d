"""How output.render draws a table, a CSV and JSON (issue 13, "Output and the command line").

Tables fit 100 characters: long texts are cut with one ``…`` (base/text.py ``cut``), the widest
first; IBANs are grouped in fours; ``wide`` columns and whole texts only with ``--wide``. An
empty list's CSV is its header row.
"""

from __future__ import annotations

from datetime import date

import pytest

from valitystili.base.text import cut
from valitystili.cli.output import TABLE_WIDTH, Column, columns, render

NBSP = "\u00a0"
SPEC = columns("flag", Column("kind", cut=False), "amount_cents", "detail",
               Column("subject", wide=True))
LONG = ("rent due 2026-11-02: 50,00 € short of 520,00 € — the landlord was told on the phone "
        "and agreed to wait until the pension arrives on the 7th")
ROWS = [{"flag": 1, "kind": "insufficient_funds", "amount_cents": 5000, "detail": LONG,
         "subject": "rent:6:2026-11"},
        {"flag": 2, "kind": "arrears", "amount_cents": 111300, "detail": "rent unpaid",
         "subject": "rent:7:2026-11"}]


def test_a_table_fits_100_characters_cutting_the_long_text_with_an_ellipsis():
    lines = render(ROWS, "table", SPEC).splitlines()
    assert lines == [
        "flag  kind                amount €  detail",
        "----  ------------------  --------  " + "-" * 64,
        "1     insufficient_funds     50,00  " + cut(LONG, 64),
        f"2     arrears             1{NBSP}113,00  rent unpaid",
    ]
    assert lines[2].endswith("€ — the landlord…")
    assert max(map(len, lines)) <= TABLE_WIDTH == 100


def test_wide_shows_every_column_and_the_whole_text():
    lines = render(ROWS, "table", SPEC, wide=True).splitlines()
    assert lines[0].split() == ["flag", "kind", "amount", "€", "detail", "subject"]
    assert lines[2] == f"1     insufficient_funds     50,00  {LONG}  rent:6:2026-11"
    assert len(lines[2]) > TABLE_WIDTH


def test_csv_and_json_keep_every_column_and_the_whole_text():
    assert render(ROWS, "csv", SPEC).splitlines()[:2] == [
        "flag,kind,amount_eur,detail,subject",
        f'1,insufficient_funds,50.00,"{LONG}",rent:6:2026-11']
    assert LONG in render(ROWS, "json", SPEC)


@pytest.mark.parametrize(("text", "width", "shown"), [
    ("Kiinteistö Oy Pohjanmaan Koti", 15, "Kiinteistö Oy…"),
    ("Kiinteistö Oy Pohjanmaan Koti", 29, "Kiinteistö Oy Pohjanmaan Koti"),
    ("KELA TOIMEENTULOTUKI 11/2026", 10, "KELA TOIM…"),
    ("KELA TOIMEENTULOTUKI 11/2026", 24, "KELA TOIMEENTULOTUKI…"),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10, "ABCDEFGHI…"),
    (f"short of 50,00{NBSP}€ in all", 17, f"short of 50,00{NBSP}€…"),
    ("a comment\nover two lines", 40, "a comment over two lines"),
])
def test_cut_keeps_words_and_amounts_whole_where_it_can(text, width, shown):
    assert cut(text, width) == shown
    assert len(cut(text, width)) <= width


def test_ibans_are_grouped_in_fours_in_tables_only():
    rows = [{"payee": 1, "iban": "FI2112345600000785"}]
    assert render(rows, "table", columns("payee", "iban")).splitlines()[2] == (
        "1      FI21 1234 5600 0007 85")
    assert render(rows, "csv").splitlines()[1] == "1,FI2112345600000785"


def test_a_column_can_show_a_short_form_in_tables():
    spec = columns("order", Column("reference", "reference / message",
                                   show=lambda row: row["reference"] or row["message"]),
                   Column("message", wide=True))
    rows = [{"order": 1, "reference": None, "message": "Välitystili 2.11.2026"},
            {"order": 2, "reference": "12345672", "message": None}]
    assert render(rows, "table", spec).splitlines() == [
        "order  reference / message",
        "-----  ---------------------",
        "1      Välitystili 2.11.2026",
        "2      12345672"]
    assert render(rows, "csv", spec).splitlines() == [
        "order,reference,message", "1,,Välitystili 2.11.2026", "2,12345672,"]


def test_an_empty_list_has_its_header_in_csv_and_is_none_in_a_table():
    assert render([], "csv", SPEC) == "flag,kind,amount_eur,detail,subject"
    assert render([], "table", SPEC) == "(none)"
    assert render([], "json", SPEC) == "[]"


def test_one_record_wraps_a_long_value_instead_of_cutting_it():
    record = {"client": 1, "note": " ".join(["word"] * 40), "on": date(2026, 11, 2)}
    lines = render(record, "table").splitlines()
    assert max(map(len, lines)) <= TABLE_WIDTH
    assert " ".join(line[6:].strip() for line in lines[1:-1]) == record["note"]
    assert lines[-1] == "on      2026-11-02"


def test_the_ledgers_refusal_reaches_a_person_in_the_one_money_format():
    import ledger
    from valitystili.cli import _library_error

    refused = ledger.InsufficientFunds("client:1001", 10000, -112300)
    assert _library_error(refused) == (
        (f"account client:1001 has 100,00{NBSP}€; a change of -1{NBSP}123,00{NBSP}€ would take "
        "it below zero"), 2)
