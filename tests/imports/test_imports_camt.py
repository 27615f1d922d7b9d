"""camt.053 / camt.054: the Finance Finland sample pair and hand-built statements."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from helpers.readers import (
    IBAN,
    NS053,
    SAMPLE_053,
    SAMPLE_054,
    balance,
    camt053,
    ntry,
    reference_details,
    sample,
    write,
)

from imports import Balance, StatementError, detect_format, read_statements
from imports.camt import read_camt


@pytest.fixture(scope="module")
def statement_053():
    [statement] = read_statements(sample(SAMPLE_053))
    return statement


@pytest.fixture(scope="module")
def notification_054():
    [notification] = read_statements(sample(SAMPLE_054))
    return notification


def by_archive_id(statement):
    return {entry.archive_id: entry for entry in statement.entries}


def test_053_statement_header_and_balances(statement_053):
    s = statement_053
    assert (s.source, s.statement_id, s.iban, s.currency) == (
        "camt053", "BANKSTMTID0972010", "FI7433010001222090", "EUR")
    assert s.created_at == datetime(2010, 10, 30, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert (s.from_on, s.to_on) == (date(2010, 10, 29), date(2010, 10, 29))
    assert s.opening == Balance("OPBD", 1_000_000, date(2010, 10, 29))
    assert s.closing == Balance("CLBD", 2_364_483, date(2010, 10, 29))
    assert [(b.code, b.amount_cents, b.on) for b in s.balances] == [
        ("OPBD", 1_000_000, date(2010, 10, 29)),
        ("PRCD", 1_000_000, date(2010, 10, 28)),
        ("CLBD", 2_364_483, date(2010, 10, 29)),
        ("CLAV", 3_364_483, date(2010, 10, 29)),
    ]


def test_053_entries_add_up_to_the_closing_balance(statement_053):
    s = statement_053
    assert len(s.entries) == 10
    assert [e.position for e in s.entries] == list(range(1, 11))
    assert s.opening.amount_cents + sum(e.amount_cents for e in s.entries) == s.closing.amount_cents
    assert sum(e.amount_cents for e in s.entries if e.amount_cents > 0) == 2_307_500
    assert sum(e.amount_cents for e in s.entries if e.amount_cents < 0) == -943_017
    assert {e.status for e in s.entries} == {"BOOK"}


def test_053_lump_sums_that_054_itemises(statement_053):
    entries = by_archive_id(statement_053)
    arch04 = entries["091029ACCTSTMTARCH04"]
    assert (arch04.amount_cents, arch04.bank_code, arch04.booked_on) == (
        200_000, "705TransactionCodeText", date(2010, 10, 29))
    assert [i.amount_cents for i in arch04.items] == [200_000]
    assert entries["091029ACCTSTMTARCH05"].amount_cents == 300_000
    assert [i.amount_cents for i in entries["091029ACCTSTMTARCH05"].items] == [300_000]


def test_053_debit_batch_items_carry_creditors_and_references(statement_053):
    batch = by_archive_id(statement_053)["091029ACCTSTMTARCH03"]
    assert batch.amount_cents == -423_005
    assert [(i.archive_id, i.amount_cents, i.counterparty_name, i.reference, i.reference_kind,
             i.message) for i in batch.items] == [
        ("091029ARCH03001", -200_002, "Creditor Company", "3900", "SCOR", None),
        ("091029ARCH03002", -100_001, "Creditor Company", None, None, "Invoices 123 and 321"),
        ("091029ARCH03003", -123_002, "Creditor Company", None, None, None),
    ]


def test_053_invalid_rf_reference_is_kept_as_text(statement_053):
    # RF98123456789012 fails ISO 11649; the reader keeps it, the service validates.
    sct = by_archive_id(statement_053)["091029ACCTSTMTARCH08"]
    [item] = sct.items
    assert (item.reference, item.reference_kind, item.end_to_end_id, item.counterparty_name,
            item.payment_date) == (
        "RF98123456789012", "ISO", "EndToEndIdSCT01", "DEBTOR", date(2010, 10, 28))


def test_053_foreign_payment_and_iso_bank_code_fallback(statement_053):
    entry = by_archive_id(statement_053)["091029ACCTSTMTARCH06"]
    assert (entry.amount_cents, entry.value_on, entry.booked_on) == (
        212_000, date(2010, 10, 30), date(2010, 10, 29))
    [item] = entry.items
    assert (item.message, item.counterparty_name) == ("INVOICE US20291092", "DEBTOR NAME")


def test_054_itemises_the_same_archive_ids(notification_054):
    n = notification_054
    assert (n.source, n.statement_id, n.iban, n.balances, len(n.entries)) == (
        "camt054", "BANKFILEID00001NTR00001", IBAN, (), 6)
    entries = by_archive_id(n)
    assert [(i.archive_id, i.amount_cents) for i in entries["091029ACCTSTMTARCH04"].items] == [
        ("D091029N987654321S001", 190_000), ("D091029N987654321S002", 10_000)]
    assert [(i.archive_id, i.amount_cents) for i in entries["091029ACCTSTMTARCH05"].items] == [
        ("D091029N123456789S001", 250_000), ("D091029N123456789S002", 50_000)]
    for archive_id in ("091029ACCTSTMTARCH04", "091029ACCTSTMTARCH05"):
        entry = entries[archive_id]
        assert sum(i.amount_cents for i in entry.items) == entry.amount_cents


def test_054_reference_items(notification_054):
    first, second = by_archive_id(notification_054)["091029ACCTSTMTARCH04"].items
    assert (first.reference, first.reference_kind, first.counterparty_name, first.payment_date) == (
        "3900", "SCOR", "PAYERS NAME1", date(2010, 10, 28))
    assert (second.reference, second.reference_kind, second.counterparty_name,
            second.payment_date) == ("43216", "SCOR", "PAYERS NAME2", date(2010, 10, 29))


def test_054_rf_reference_trailing_space_is_stripped(notification_054):
    rf, unstructured = by_archive_id(notification_054)["091029ACCTSTMTARCH05"].items
    assert (rf.reference, rf.reference_kind, rf.end_to_end_id, rf.counterparty_name) == (
        "RF7812345", "ISO", "EndToEndIdAT-41-001", "AT-02 DEBTOR NAME 01")
    assert (unstructured.reference, unstructured.message, unstructured.end_to_end_id) == (
        None, "RFB/557742358", "EndToEndIdAT-41-002")


def test_054_info_entry_is_not_booked_and_carries_return_reasons(notification_054):
    info = by_archive_id(notification_054)["091029ACCTSTMTERR01"]
    assert (info.status, info.reversal, info.amount_cents) == ("INFO", True, 10_000)
    assert [(i.archive_id, i.amount_cents, i.reference, i.return_reason, i.counterparty_name)
            for i in info.items] == [
        ("D091029N987654321S288", 4_000, "2345678917", "AC01", "PAYERS NAME3"),
        ("D091029N987654321S289", 6_000, "1234567897", "CUST", "PAYERS NAME4"),
    ]


def test_054_outgoing_items_name_the_creditor(notification_054):
    entry = by_archive_id(notification_054)["091029NTFCTNXBCT010101"]
    assert (entry.amount_cents, entry.booked_on, entry.value_on) == (
        -100_000, date(2010, 10, 30), None)
    assert [(i.amount_cents, i.end_to_end_id, i.counterparty_name, i.message)
            for i in entry.items] == [
        (-50_000, "ISSRBKREF12345678", "CREDITOR", "INVOICE US20291092"),
        (-50_000, "ISSRBKREF12345679", "CREDITOR", "INVOICE JP1920190"),
    ]


def test_detect_format_of_the_samples():
    assert detect_format(sample(SAMPLE_053)) == "camt053"
    assert detect_format(sample(SAMPLE_054)) == "camt054"


def test_explicit_format_must_match_the_file():
    with pytest.raises(StatementError) as caught:
        read_statements(sample(SAMPLE_054), format="camt053")
    assert str(caught.value) == "finance-finland-content_054.xml: is camt054, not camt053"


def test_several_statements_in_one_file(tmp_path):
    two = camt053(ntry("1.00", archive_id="A1")).replace(
        "</Stmt>",
        "</Stmt><Stmt><Id>STMT2</Id><Acct><Id><IBAN>FI21 1234 5600 0007 85</IBAN></Id></Acct>"
        + balance("CLBD", "5.00", "DBIT") + ntry("5.00", indicator="DBIT", archive_id="B1") + "</Stmt>",
    )
    first, second = read_camt(write(tmp_path, "two.xml", two))
    assert (first.statement_id, first.iban, [e.amount_cents for e in first.entries]) == (
        "STMT1", IBAN, [100])
    # The second statement has no Acct/Ccy: its currency comes from its balance.
    assert (second.statement_id, second.iban, second.currency, second.closing, second.created_at) == (
        "STMT2", "FI2112345600000785", "EUR", Balance("CLBD", -500, date(2026, 11, 23)),
        datetime(2026, 11, 23, 6, 0, tzinfo=timezone(timedelta(hours=2))))
    assert [(e.position, e.archive_id, e.amount_cents) for e in second.entries] == [(1, "B1", -500)]


def test_newer_versions_with_wrapped_status_and_party(tmp_path):
    details = (
        "<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        '<Amt Ccy="EUR">12.50</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<RltdPties><Dbtr><Pty><Nm>Kela</Nm></Pty></Dbtr>"
        "<DbtrAcct><Id><IBAN>fi21 1234 5600 0007 85</IBAN></Id></DbtrAcct></RltdPties>"
        "<RmtInf><Ustrd>Toimeentulotuki</Ustrd><Ustrd>11/2026</Ustrd></RmtInf>"
        "</TxDtls></NtryDtls>"
    )
    text = camt053(ntry("12.50", archive_id="N1", details=details).replace(
        "<Sts>BOOK</Sts>", "<Sts><Cd>BOOK</Cd></Sts>"),
        namespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08")
    [statement] = read_camt(write(tmp_path, "v08.xml", text))
    [entry] = statement.entries
    [item] = entry.items
    assert (entry.status, entry.amount_cents, entry.bank_code) == ("BOOK", 1250, None)
    assert (item.amount_cents, item.end_to_end_id, item.counterparty_name, item.counterparty_iban,
            item.message) == (1250, None, "Kela", "FI2112345600000785", "Toimeentulotuki 11/2026")


def test_entry_without_details_gets_one_item_from_the_entry(tmp_path):
    text = camt053(ntry("7.00", indicator="DBIT", archive_id="X1").replace(
        "</Ntry>", "<AddtlNtryInf>Palvelumaksu</AddtlNtryInf></Ntry>"))
    [statement] = read_camt(write(tmp_path, "fee.xml", text))
    [entry] = statement.entries
    [item] = entry.items
    assert (item.amount_cents, item.archive_id, item.message, item.reference) == (
        -700, None, "Palvelumaksu", None)


def test_unbooked_entry_without_archive_id_gets_a_stable_key(tmp_path):
    path = write(tmp_path, "pdng.xml", camt053(ntry("3.00", status="PDNG", archive_id=None)))
    [first] = read_camt(path)
    [again] = read_camt(path)
    key = first.entries[0].archive_id
    assert key.startswith("camt:") and len(key) == len("camt:") + 24
    assert again.entries[0].archive_id == key


def test_reference_with_group_spaces_is_compacted(tmp_path):
    text = camt053(ntry("25.00", archive_id="R1",
                        details=reference_details("25.00", " 12345 67 ", "R1-1", "Maksaja")))
    [statement] = read_camt(write(tmp_path, "ref.xml", text))
    [item] = statement.entries[0].items
    assert (item.reference, item.reference_kind, item.archive_id, item.counterparty_name) == (
        "1234567", "SCOR", "R1-1", "Maksaja")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (ntry("12.345", archive_id="A"), "entry 2 has amount 12.345 with more than two decimals"),
        (ntry("-12.00", archive_id="A"),
         "entry 2 has negative amount -12.00; the sign belongs in CdtDbtInd"),
        (ntry("100000000.01", archive_id="A"),
         "entry 2 has amount 100000000.01 over the limit of 100000000.00"),
        (ntry("1e3", archive_id="A"), "entry 2 has amount '1e3', which is not a decimal number"),
        (ntry("NaN", archive_id="A"), "entry 2 has amount 'NaN', which is not a decimal number"),
        (ntry("", archive_id="A"), "entry 2 has no amount"),
        (ntry("1.00", indicator="CRDX", archive_id="A"),
         "entry 2 has CdtDbtInd CRDX; expected CRDT or DBIT"),
        (ntry("1.00", status="DONE", archive_id="A"),
         "entry 2 has status DONE; expected BOOK, PDNG or INFO"),
        (ntry("1.00", archive_id=None), "entry 2 is booked but has no archive id (AcctSvcrRef)"),
        (ntry("1.00", archive_id="A", booked="2026-02-30"),
         "entry 2 booking date has '2026-02-30', which is not a date"),
        (ntry("1.00", archive_id="A", details=reference_details("0.999", "3900", "I1", "P")),
         "entry 2 item 1 has amount 0.999 with more than two decimals"),
        (ntry("2.00", archive_id="A", details=reference_details("2.00", "3900", "I1", "P").replace(
            'Ccy="EUR"', 'Ccy="SEK"')), "entry 2 item 1 has currency SEK, its entry has EUR"),
    ],
)
def test_bad_entries_are_refused_with_their_place(tmp_path, entry, message):
    path = write(tmp_path, "finance.xml", camt053(ntry("1.00", archive_id="OK") + entry))
    with pytest.raises(StatementError) as caught:
        read_camt(path)
    # The good first entry shows that positions count from 1 within the statement.
    assert str(caught.value) == f"finance.xml: {message}"


def test_amount_with_trailing_zero_decimals_is_exact_and_kept(tmp_path):
    [statement] = read_camt(write(tmp_path, "zeros.xml", camt053(ntry("12.340", archive_id="Z"))))
    assert statement.entries[0].amount_cents == 1234


def test_bad_balance_is_refused(tmp_path):
    path = write(tmp_path, "bal.xml", camt053("", closing="5.001"))
    with pytest.raises(StatementError) as caught:
        read_camt(path)
    assert str(caught.value) == "bal.xml: balance CLBD has amount 5.001 with more than two decimals"


def test_statement_without_iban_is_refused(tmp_path):
    text = camt053(ntry()).replace(f"<IBAN>{IBAN}</IBAN>", "<Othr><Id>123</Id></Othr>")
    with pytest.raises(StatementError) as caught:
        read_camt(write(tmp_path, "noiban.xml", text))
    assert str(caught.value) == "noiban.xml: statement STMT1 has no account IBAN (Acct/Id/IBAN)"


def test_document_without_statement_is_refused(tmp_path):
    text = f'<Document xmlns="{NS053}"><BkToCstmrStmt/></Document>'
    with pytest.raises(StatementError) as caught:
        read_camt(write(tmp_path, "empty.xml", text))
    assert str(caught.value) == "empty.xml: has no Stmt (no statement in the file)"
