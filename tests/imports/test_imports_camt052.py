"""camt.052, the bank's intraday report: read like a camt.053 statement, without a closing
balance (its last balance is the interim booked balance ITBD)."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.camt052 import NS052, camt052
from helpers.statements import Tx, ntry, write

from imports import Balance, StatementError, detect_format, read_statements
from imports.camt import read_camt

CITY = "FI7433010001222090"
KELA = Tx(payer="KANSANELAKELAITOS", message="TOIMEENTULOTUKI 11/2026")


def report(tmp_path, *entries, name="intraday.xml", **options):
    return write(tmp_path, name, camt052(*entries, **options))


def test_a_report_is_a_statement_of_the_day_with_its_interim_balance(tmp_path):
    path = report(tmp_path, ntry("940.00", "ARCH-K1", KELA),
                  ntry("12.00", "ARCH-P1", status="PDNG"),
                  opening_cents=10_000, interim_cents=104_000)
    [statement] = read_statements(path)
    assert (statement.source, statement.statement_id, statement.iban, statement.currency) == (
        "camt052", "RPT-1", CITY, "EUR")
    assert statement.balances == (Balance("OPBD", 10_000, date(2026, 11, 2)),
                                  Balance("ITBD", 104_000, date(2026, 11, 2)))
    assert statement.opening == Balance("OPBD", 10_000, date(2026, 11, 2))
    assert statement.closing is None
    assert statement.interim == Balance("ITBD", 104_000, date(2026, 11, 2))
    booked, pending = statement.entries
    assert (booked.archive_id, booked.status, booked.amount_cents, booked.booked_on) == (
        "ARCH-K1", "BOOK", 94_000, date(2026, 11, 2))
    assert (booked.items[0].counterparty_name, booked.items[0].message) == (
        "KANSANELAKELAITOS", "TOIMEENTULOTUKI 11/2026")
    assert (pending.archive_id, pending.status, pending.amount_cents) == ("ARCH-P1", "PDNG", 1200)


def test_a_report_without_an_interim_balance_has_none(tmp_path):
    [statement] = read_camt(report(tmp_path, ntry("5.00", "A1"), opening_cents=None))
    assert (statement.balances, statement.opening, statement.closing, statement.interim) == (
        (), None, None, None)


@pytest.mark.parametrize("version", ["02", "06", "08"])
def test_detected_by_content_in_every_accepted_version(tmp_path, version):
    namespace = f"urn:iso:std:iso:20022:tech:xsd:camt.052.001.{version}"
    path = report(tmp_path, ntry("5.00", "A1"), namespace=namespace)
    assert detect_format(path) == "camt052"
    assert [s.source for s in read_statements(path, "camt052")] == ["camt052"]


def test_the_format_named_must_be_the_files(tmp_path):
    path = report(tmp_path, ntry("5.00", "A1"))
    with pytest.raises(StatementError) as caught:
        read_statements(path, "camt053")
    assert str(caught.value) == "intraday.xml: is camt052, not camt053"
    statement_053 = write(tmp_path, "053.xml", camt052(ntry("5.00", "A1")).replace(
        NS052, "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02").replace(
        "BkToCstmrAcctRpt", "BkToCstmrStmt").replace("Rpt>", "Stmt>"))
    with pytest.raises(StatementError) as caught:
        read_statements(statement_053, "camt052")
    assert str(caught.value) == "053.xml: is camt053, not camt052"


def test_several_reports_in_one_file_each_a_statement(tmp_path):
    one = camt052(ntry("5.00", "A1"), report_id="RPT-1")
    two = camt052(ntry("7.00", "A2"), report_id="RPT-2")
    second_report = two[two.index("<Rpt>"):two.index("</BkToCstmrAcctRpt>")]
    text = one.replace("</BkToCstmrAcctRpt>", second_report + "</BkToCstmrAcctRpt>")
    statements = read_camt(write(tmp_path, "two.xml", text))
    assert [(s.statement_id, [e.archive_id for e in s.entries]) for s in statements] == [
        ("RPT-1", ["A1"]), ("RPT-2", ["A2"])]


def test_an_archive_id_twice_in_one_report_is_refused(tmp_path):
    path = report(tmp_path, ntry("5.00", "A1"), ntry("6.00", "A1"))
    with pytest.raises(StatementError) as caught:
        read_camt(path)
    assert str(caught.value) == (
        "intraday.xml: entry 2 has archive id (AcctSvcrRef) A1, which entry 1 of the same "
        "statement already has")


def test_a_booked_entry_without_an_archive_id_is_refused(tmp_path):
    path = report(tmp_path, ntry("5.00", "A1").replace("<AcctSvcrRef>A1</AcctSvcrRef>", ""))
    with pytest.raises(StatementError) as caught:
        read_camt(path)
    assert str(caught.value) == (
        "intraday.xml: entry 1 is booked but has no archive id (AcctSvcrRef)")


@pytest.mark.parametrize(("prolog", "message"), [
    ('<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
     "intraday.xml: refused: the XML has a DOCTYPE/ENTITY declaration"),
    ('<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;">]>\n',
     "intraday.xml: refused: the XML has a DOCTYPE/ENTITY declaration"),
], ids=["xxe", "entity-expansion"])
def test_hostile_reports_are_refused_like_statements(tmp_path, prolog, message):
    path = report(tmp_path, ntry("5.00", "A1"), prolog=prolog)
    for read in (detect_format, read_statements, read_camt):
        with pytest.raises(StatementError) as caught:
            read(path)
        assert str(caught.value) == message


def test_a_truncated_report_is_refused(tmp_path):
    text = camt052(ntry("5.00", "A1"))
    path = write(tmp_path, "intraday.xml", text[: text.index("</Ntry>")])
    with pytest.raises(StatementError) as caught:
        read_statements(path, "camt052")
    assert str(caught.value).startswith("intraday.xml: malformed or truncated XML")


def test_a_report_without_rpt_is_refused(tmp_path):
    path = write(tmp_path, "empty.xml",
                 f'<Document xmlns="{NS052}"><BkToCstmrAcctRpt/></Document>')
    with pytest.raises(StatementError) as caught:
        read_camt(path)
    assert str(caught.value) == "empty.xml: has no Rpt (no statement in the file)"
