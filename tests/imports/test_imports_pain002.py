"""The pain.002 reader: both versions, every status level, and hostile or broken files (each one
StatementError with one specific line, as for camt)."""

from __future__ import annotations

import random

import pytest
from helpers.pain002 import BILLION_LAUGHS, XXE, payment, report, tx, write

from imports import StatementError
from imports.pain002 import read_pain002


@pytest.mark.parametrize("version", ["03", "10"])
def test_a_whole_file_accepted(tmp_path, version):
    path = write(tmp_path, "status.xml", report("MSG-1", "ACCP", version=version))
    read = read_pain002(path)
    assert (read.version, read.message_id, read.original_message_id, read.group_status,
            read.payments) == (version, "STS-1", "MSG-1", "ACCP", ())
    assert read.original_message_name == ("pain.001.001.03" if version == "03"
                                          else "pain.001.001.09")
    assert read.created_at.isoformat() == "2026-11-02T09:15:00+02:00"


@pytest.mark.parametrize("version", ["03", "10"])
def test_single_payments_with_their_reasons(tmp_path, version):
    text = report("MSG-1", "PART", payment(
        "PMT-1",
        tx("E2E-1", "RJCT", "AC04", amount="520.00"),
        tx("E2E-2", "ACCP"),
        tx("NOTPROVIDED", "RJCT", "MS03", instruction="INSTR-3"),
        status="PART"), version=version)
    read = read_pain002(write(tmp_path, "status.xml", text))
    [block] = read.payments
    assert (block.payment_info_id, block.status, block.reasons) == ("PMT-1", "PART", ())
    assert [(t.ident, t.status, t.reasons, t.amount_cents) for t in block.transactions] == [
        ("E2E-1", "RJCT", ("AC04",), 52000),
        ("E2E-2", "ACCP", (), None),
        ("INSTR-3", "RJCT", ("MS03",), None),
    ]


def test_a_rejected_block_and_group_reasons(tmp_path):
    text = report("MSG-1", "RJCT", payment("PMT-1", status="RJCT", codes=("AM04",)),
                  codes=("FF01",))
    read = read_pain002(write(tmp_path, "status.xml", text))
    assert (read.group_status, read.group_reasons) == ("RJCT", ("FF01",))
    assert (read.payments[0].status, read.payments[0].reasons,
            read.payments[0].transactions) == ("RJCT", ("AM04",), ())


def test_proprietary_reason(tmp_path):
    text = report("MSG-1", "PART", payment(
        "PMT-1", tx("E2E-1", "RJCT").replace(
            "</TxSts>", "</TxSts><StsRsnInf><Rsn><Prtry>X99</Prtry></Rsn></StsRsnInf>")))
    read = read_pain002(write(tmp_path, "status.xml", text))
    assert read.payments[0].transactions[0].reasons == ("X99",)


REFUSED_DTD = "refused: the XML has a DOCTYPE/ENTITY declaration"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (XXE, REFUSED_DTD),
        (BILLION_LAUGHS, REFUSED_DTD),
        ('<?xml version="1.0"?><!DOCTYPE Document><Document/>', REFUSED_DTD),
        (report("MSG-1", "ACCP", namespace="urn:iso:std:iso:20022:tech:xsd:pain.002.001.09"),
         ("not a pain.002.001.03/.10 document "
         "(namespace urn:iso:std:iso:20022:tech:xsd:pain.002.001.09)")),
        (report("MSG-1", "ACCP", namespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"),
         ("not a pain.002.001.03/.10 document "
         "(namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.02)")),
        ("<Document><CstmrPmtStsRpt/></Document>",
         "not a pain.002.001.03/.10 document (namespace no namespace)"),
        (report("MSG-1", "OKAY"),
         ("original group has status OKAY (GrpSts); expected one of the ISO codes, e.g. ACCP, "
         "ACTC, ACSP, PART, RJCT")),
        (report("MSG-1"), "the report gives no status (no GrpSts and no OrgnlPmtInfAndSts)"),
        (report("", "ACCP"),
         "the report names no original message (OrgnlGrpInfAndSts/OrgnlMsgId)"),
        (report("MSG-1", "ACCP", message_id=""),
         "the report has no message id (GrpHdr/MsgId)"),
        (report("MSG-1", None, payment("PMT-1", tx("E2E-1", None))),
         "payment information 1 transaction 1 has no status (TxSts)"),
        (report("MSG-1", "PART", payment("PMT-1", tx("", "RJCT"))),
         ("payment information 1 transaction 1 names no payment (no OrgnlEndToEndId or "
         "OrgnlInstrId)")),
        (report("MSG-1", "PART", payment("PMT-1", tx("E2E-1", "RJCT", "AC-04"))),
         ("payment information 1 transaction 1 has reason code 'AC-04', which is not a code "
         "(letters and digits)")),
        (report("MSG-1", "PART", payment("PMT-1", tx("E2E-1", "RJCT", amount="5.005"))),
         "payment information 1 transaction 1 has amount 5.005 with more than two decimals"),
        (report("MSG-\u202e1", "ACCP"),
         "original group has the bidirectional formatting character U+202E in OrgnlMsgId"),
        (report("MSG-1", "ACCP").replace("</CstmrPmtStsRpt>", ""),
         ("malformed or truncated XML at line 2: Opening and ending tag mismatch: "
         "CstmrPmtStsRpt line 2 and Document")),
    ],
    ids=["xxe", "billion-laughs", "plain-doctype", "pain002-v09", "camt", "no-namespace",
         "unknown-status", "no-status", "no-original", "no-message-id", "tx-without-status",
         "tx-without-id", "bad-reason", "amount", "hidden-character", "malformed"],
)
def test_refused(tmp_path, text, message):
    with pytest.raises(StatementError) as caught:
        read_pain002(write(tmp_path, "status.xml", text))
    assert str(caught.value) == f"status.xml: {message}"


def test_xxe_never_reaches_the_file_system(tmp_path):
    with pytest.raises(StatementError) as caught:
        read_pain002(write(tmp_path, "status.xml", XXE))
    assert "root:" not in str(caught.value)


def test_oversize_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, "status.xml", report("MSG-1", "ACCP"))
    size = path.stat().st_size
    with pytest.raises(StatementError) as caught:
        read_pain002(path, max_bytes=100)
    assert str(caught.value) == (
        f"status.xml: file is {size} bytes, over the limit of 100 bytes")


def test_random_bytes(tmp_path):
    noise = random.Random(20261102).randbytes(1024 * 1024)
    with pytest.raises(StatementError) as caught:
        read_pain002(write(tmp_path, "status.xml", noise))
    assert str(caught.value) == "status.xml: not an XML document"
