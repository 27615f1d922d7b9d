"""Hostile and broken input: every case is one StatementError with a specific line, no traceback."""

from __future__ import annotations

import random

import pytest
from helpers.readers import NS053, SAMPLE_053, camt053, ntry, sample, write

from imports import StatementError, detect_format, read_statements
from imports.camt import read_camt
from imports.xmlsafe import root_tag

XXE = """<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol9;</Document>
"""

REFUSED_DTD = "refused: the XML has a DOCTYPE/ENTITY declaration"


@pytest.mark.parametrize(
    "text",
    [
        XXE,
        BILLION_LAUGHS,
        # A DOCTYPE with nothing dangerous in it is refused all the same.
        '<?xml version="1.0"?><!DOCTYPE Document><Document xmlns="%s"/>' % NS053,
        # Hidden behind a comment that mentions <!DOCTYPE, lower case, and a BOM.
        '\ufeff<!-- <!DOCTYPE is only text here --><!doctype Document SYSTEM "http://127.0.0.1/x">'
        '<Document xmlns="%s"/>' % NS053,
        '<?xml version="1.0"?>\n<!-- ' + "x" * 200_000 + ' -->\n<!DOCTYPE d [<!ENTITY e "e">]><d/>',
    ],
    ids=["xxe", "billion-laughs", "plain-doctype", "hidden-doctype", "after-long-comment"],
)
def test_doctype_and_entities_are_refused_everywhere(tmp_path, text):
    path = write(tmp_path, "finance.xml", text)
    for read in (read_camt, read_statements, detect_format, root_tag):
        with pytest.raises(StatementError) as caught:
            read(path)
        assert str(caught.value) == f"finance.xml: {REFUSED_DTD}"


def test_xxe_never_reaches_the_file_system(tmp_path):
    with pytest.raises(StatementError) as caught:
        read_statements(write(tmp_path, "finance.xml", XXE))
    assert "root:" not in str(caught.value)


def test_truncated_xml(tmp_path):
    whole = camt053(ntry("1.00", archive_id="A1") + ntry("2.00", archive_id="A2"))
    cut = whole.index("<Ntry>", whole.index("A1"))  # just after the first entry
    path = write(tmp_path, "finance.xml", whole[:cut] + "<Ntry><Amt")
    with pytest.raises(StatementError) as caught:
        read_statements(path)
    assert str(caught.value) == (
        "finance.xml: malformed or truncated XML at line 2: Couldn't find end of Start Tag Amt"
    )


def test_truncated_before_the_root(tmp_path):
    path = write(tmp_path, "finance.xml", '<?xml version="1.0"?>\n<!-- cut')
    with pytest.raises(StatementError) as caught:
        read_statements(path, format="camt053")
    assert str(caught.value) == "finance.xml: XML is truncated before the root element"


def test_malformed_xml(tmp_path):
    path = write(tmp_path, "finance.xml", f'<Document xmlns="{NS053}"><Stmt></Document>')
    with pytest.raises(StatementError) as caught:
        read_statements(path)
    assert str(caught.value) == (
        "finance.xml: malformed or truncated XML at line 1: "
        "Opening and ending tag mismatch: Stmt line 1 and Document"
    )


def test_undefined_entity_is_malformed_not_resolved(tmp_path):
    path = write(tmp_path, "finance.xml", camt053(ntry(archive_id="&nbsp;")))
    with pytest.raises(StatementError) as caught:
        read_statements(path)
    assert str(caught.value) == (
        "finance.xml: malformed or truncated XML at line 2: Entity 'nbsp' not defined"
    )


@pytest.mark.parametrize(
    "namespace",
    [
        "urn:iso:std:iso:20022:tech:xsd:camt.052.001.01",
        "urn:iso:std:iso:20022:tech:xsd:camt.053.001.09",
        "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09",
    ],
)
def test_wrong_namespace(tmp_path, namespace):
    path = write(tmp_path, "finance.xml", camt053(ntry(), namespace=namespace))
    for read in (read_camt, read_statements, detect_format):
        with pytest.raises(StatementError) as caught:
            read(path)
        assert str(caught.value) == (
            f"finance.xml: not a camt.052/053/054 document (namespace {namespace})"
        )


def test_no_namespace(tmp_path):
    path = write(tmp_path, "finance.xml", "<Document><BkToCstmrStmt/></Document>")
    with pytest.raises(StatementError) as caught:
        read_statements(path)
    assert str(caught.value) == "finance.xml: not a camt.052/053/054 document (namespace no namespace)"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "finance.xml: entry 1 has amount 12.345 with more than two decimals"),
        ("-12.00", "finance.xml: entry 1 has negative amount -12.00; the sign belongs in CdtDbtInd"),
        ("999999999999.00",
         "finance.xml: entry 1 has amount 999999999999.00 over the limit of 100000000.00"),
    ],
    ids=["three-decimals", "negative", "absurd"],
)
def test_bad_amounts(tmp_path, amount, message):
    path = write(tmp_path, "finance.xml", camt053(ntry(amount)))
    with pytest.raises(StatementError) as caught:
        read_statements(path)
    assert str(caught.value) == message


def test_fifty_megabytes_of_random_bytes(tmp_path):
    noise = random.Random(20261123).randbytes(50 * 1024 * 1024)
    path = write(tmp_path, "finance.xml", noise)
    with pytest.raises(StatementError) as caught:
        read_statements(path)
    assert str(caught.value) == (
        "finance.xml: unknown statement format (expected camt.052/053/054 XML, MT940 or the CSV layout)"
    )
    for reader, message in [
        (read_camt, "finance.xml: not an XML document"),
        (lambda p: read_statements(p, format="mt940"),
         "finance.xml: no MT940 statement (no :20: line)"),
        (lambda p: read_statements(p, format="csv"),
         "finance.xml: line 1 is not UTF-8 text"),
    ]:
        with pytest.raises(StatementError) as caught:
            reader(path)
        assert str(caught.value) == message


def test_random_bytes_after_an_xml_start(tmp_path):
    noise = random.Random(7).randbytes(1024 * 1024)
    path = write(tmp_path, "finance.xml", f'<Document xmlns="{NS053}">'.encode() + noise)
    with pytest.raises(StatementError) as caught:
        read_statements(path)
    assert str(caught.value) == (
        "finance.xml: malformed or truncated XML at line 1: Invalid bytes in character encoding"
    )


def test_oversize_file_is_refused_before_parsing(tmp_path):
    source = sample(SAMPLE_053)
    size = source.stat().st_size
    for read in (read_statements, read_camt, detect_format):
        with pytest.raises(StatementError) as caught:
            read(source, max_bytes=1000)
        assert str(caught.value) == (
            f"finance-finland-content_053.xml: file is {size} bytes, over the limit of 1000 bytes"
        )


@pytest.mark.parametrize("format", ["auto", "mt940", "csv"])
def test_oversize_text_formats(tmp_path, format):
    path = write(tmp_path, "big.csv", "account_iban;booking_date;amount;currency;archive_id\n" * 50)
    with pytest.raises(StatementError) as caught:
        read_statements(path, format=format, max_bytes=100)
    assert str(caught.value) == "big.csv: file is 2650 bytes, over the limit of 100 bytes"


def test_utf16_xml_is_refused(tmp_path):
    path = write(tmp_path, "finance.xml", camt053(ntry()).encode("utf-16"))
    with pytest.raises(StatementError) as caught:
        read_camt(path)
    assert str(caught.value) == "finance.xml: XML in UTF-16/UTF-32 is not accepted; use UTF-8"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty.dat: file is empty"),
        (b"   \n", "empty.dat: file is empty"),
        (b"hello world\n", "empty.dat: unknown statement format (expected camt.052/053/054 XML, MT940 or the CSV layout)"),
    ],
)
def test_empty_and_unknown(tmp_path, content, message):
    with pytest.raises(StatementError) as caught:
        read_statements(write(tmp_path, "empty.dat", content))
    assert str(caught.value) == message


def test_missing_file(tmp_path):
    with pytest.raises(StatementError) as caught:
        read_statements(tmp_path / "nowhere.xml")
    assert str(caught.value) == "nowhere.xml: cannot read the file: No such file or directory"


def test_unknown_format_name(tmp_path):
    with pytest.raises(StatementError) as caught:
        read_statements(write(tmp_path, "x.xml", camt053(ntry())), format="tito")
    assert str(caught.value) == "unknown statement format 'tito'; use auto, camt052, camt053, camt054, mt940, csv"


def test_statement_error_is_a_value_error():
    assert issubclass(StatementError, ValueError)
