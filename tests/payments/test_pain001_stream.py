"""The pain.001 file written a transfer at a time: the bytes the whole-tree builder made, for
any input, and a schema check that reads the file as a stream yet refuses as before."""

import hashlib
import io
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from helpers.pain001_tree import build_tree_pain001
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pain001 import (
    CREATED_AT,
    DEBTOR,
    ELECTRICITY,
    INSTALMENT,
    MESSAGE_KEY,
    NOVEMBER,
    RENT,
)

from valitystili.base.errors import ValidationError
from valitystili.payments import pain001
from valitystili.payments.pain001 import (
    MAX_AMOUNT_CENTS,
    CreditTransfer,
    Debtor,
    build_pain001,
    make_id,
    order_id,
    validate_pain001,
    write_pain001,
)

# Every character a name or message may hold: ISO-8859-15 without control characters, so
# also the ones XML escapes (& < > " ') and the ones UTF-8 writes in two or three bytes (ä, €).
REPERTOIRE = "".join(bytes([b]).decode("iso8859_15")
                     for b in [*range(0x20, 0x7F), *range(0xA0, 0x100)])
IBANS = ["FI2112345600000785", "FI2747000100000004", "FI8880007100000122",
         "DE89370400440532013000", "NL91ABNA0417164300"]
BICS = [None, "NDEAFIHH", "OKOYFIHH", "DABAFIHXXXX"]
FIRST_DAY = date(2026, 11, 2)


def text(most: int):
    return st.text(alphabet=REPERTOIRE, min_size=1, max_size=most).filter(str.strip)


@st.composite
def transfers(draw, number: int) -> CreditTransfer:
    on = FIRST_DAY + timedelta(days=draw(st.integers(0, 4)))
    key = f"order:{number}:{draw(st.text(max_size=8))}"
    kind = draw(st.sampled_from(["SCOR", "ISO", None]))
    if kind == "SCOR":
        remittance = {"reference": draw(st.from_regex(r"[0-9]{4,20}", fullmatch=True)),
                      "reference_kind": "SCOR"}
    elif kind == "ISO":
        remittance = {"reference": draw(st.from_regex(r"RF[0-9]{2}[A-Z0-9]{1,21}",
                                                      fullmatch=True)),
                      "reference_kind": "ISO"}
    else:
        message = draw(text(140).filter(lambda m: not pain001._HETU_LIKE.search(m)))
        remittance = {"message": message}
    stored_id = draw(st.sampled_from([None, "new", "old"]))
    end_to_end_id = {None: None, "new": order_id(key, on), "old": make_id(key)}[stored_id]
    return CreditTransfer(
        key=key, execution_on=on, amount_cents=draw(st.integers(1, MAX_AMOUNT_CENTS)),
        creditor_name=draw(text(70)), creditor_iban=draw(st.sampled_from(IBANS)),
        creditor_bic=draw(st.sampled_from(BICS)), end_to_end_id=end_to_end_id, **remittance)


@st.composite
def files(draw) -> dict:
    count = draw(st.integers(1, 25))
    debtor = Debtor(
        name=draw(text(70)), iban=draw(st.sampled_from(IBANS)),
        bic=draw(st.sampled_from(BICS)),
        initiating_party_name=draw(st.none() | text(70)),
        initiating_party_id=draw(st.none() | st.from_regex(r"[0-9A-Z-]{1,35}", fullmatch=True)))
    created_at = draw(st.datetimes(min_value=datetime(2026, 1, 1),
                                   max_value=datetime(2027, 12, 31),
                                   timezones=st.none() | st.just(timezone(timedelta(hours=2)))))
    return {"message_key": draw(st.text(min_size=1)), "created_at": created_at,
            "debtor": debtor, "version": draw(st.sampled_from(["09", "03"])),
            "transfers": [draw(transfers(number)) for number in range(count)]}


@settings(max_examples=150, deadline=None)
@given(files())
def test_the_file_is_the_bytes_the_whole_tree_gave(file):
    assert build_pain001(**file) == build_tree_pain001(**file)


@pytest.fixture(params=["09", "03"])
def version(request):
    return request.param


def many(count: int) -> list[CreditTransfer]:
    """``count`` transfers over three days, the kinds of NOVEMBER in turn."""
    kinds = [RENT, INSTALMENT, ELECTRICITY]
    return [replace(kinds[n % 3], key=f"{kinds[n % 3].key}:{n}",
                    execution_on=FIRST_DAY + timedelta(days=n % 3 * 3),
                    amount_cents=1 + n * 7919 % MAX_AMOUNT_CENTS) for n in range(count)]


def build(transfers, version="09"):
    return build_pain001(message_key=MESSAGE_KEY, created_at=CREATED_AT, debtor=DEBTOR,
                         transfers=transfers, version=version)


def test_a_file_of_many_transfers_is_the_bytes_the_whole_tree_gave(version):
    transfers = many(2000)        # far over the parser's chunk: the check reads it in pieces
    xml = build(transfers, version)

    assert len(xml) > 1_000_000
    assert xml == build_tree_pain001(message_key=MESSAGE_KEY, created_at=CREATED_AT,
                                     debtor=DEBTOR, transfers=transfers, version=version)


def test_the_writer_returns_the_digest_of_what_it_wrote(version):
    out = io.BytesIO()
    digest = write_pain001(out, message_key=MESSAGE_KEY, created_at=CREATED_AT, debtor=DEBTOR,
                           transfers=NOVEMBER, version=version)

    assert digest == hashlib.sha256(out.getvalue()).hexdigest()
    assert out.getvalue() == build(NOVEMBER, version)


# --- the check, streaming -------------------------------------------------------------------------


def line_of(xml: bytes, fragment: bytes) -> int:
    return xml[:xml.index(fragment)].count(b"\n") + 1


def without_amount(xml: bytes, transfer: CreditTransfer) -> bytes:
    """``xml`` with the amount of ``transfer``'s payment taken out."""
    at = xml.index(make_id(transfer.key).encode())
    start = xml.index(b"<Amt>", at)
    end = xml.index(b"</Amt>", start) + len(b"</Amt>\n")
    return xml[:start] + xml[end:].lstrip(b" ")


def test_a_schema_error_deep_in_a_large_file_names_its_line(version):
    transfers = many(2000)
    tampered = without_amount(build(transfers, version), transfers[1500])
    after = b"<CdtrAgt>" if transfers[1500].creditor_bic else b"<Cdtr>"
    line = line_of(tampered, make_id(transfers[1500].key).encode()) + 3

    assert tampered.split(b"\n")[line - 1].strip().startswith(after)
    with pytest.raises(ValidationError) as raised:
        validate_pain001(tampered, version)
    assert str(raised.value) == (
        f"pain.001.001.{version} schema: line {line}: Element '{after.decode()[1:-1]}': This "
        "element is not expected. Expected is one of ( PmtTpInf, Amt ).")


def test_a_stream_is_checked_as_its_bytes_are(version):
    xml = build(NOVEMBER, version)
    tampered = without_amount(xml, RENT)

    validate_pain001(io.BytesIO(xml), version)
    with pytest.raises(ValidationError) as from_bytes:
        validate_pain001(tampered, version)
    with pytest.raises(ValidationError) as from_stream:
        validate_pain001(io.BytesIO(tampered), version)
    assert str(from_stream.value) == str(from_bytes.value)


def test_a_doctype_is_refused_before_a_schema_error():
    xml = without_amount(build(many(500)), many(500)[400]).replace(
        b"<Document", b'<!DOCTYPE Document [<!ENTITY x "y">]>\n<Document', 1)

    with pytest.raises(ValidationError) as raised:
        validate_pain001(xml)

    assert str(raised.value) == "payment file has a DOCTYPE, which is not allowed"


@pytest.mark.parametrize("entity", [
    pytest.param('<!ENTITY x "Vuokra-Asunnot Oy">', id="internal"),
    pytest.param('<!ENTITY x SYSTEM "file:///etc/passwd">', id="external"),
])
def test_an_entity_is_refused_with_its_doctype(entity):
    xml = build(NOVEMBER).replace(
        b"<Document", f"<!DOCTYPE Document [{entity}]>\n<Document".encode(), 1
    ).replace(b"<Nm>Vuokra-Asunnot Oy</Nm>", b"<Nm>&x;</Nm>", 1)

    with pytest.raises(ValidationError) as raised:
        validate_pain001(xml)

    assert str(raised.value) == "payment file has a DOCTYPE, which is not allowed"


def test_an_entity_without_a_doctype_is_not_xml():
    xml = build(NOVEMBER).replace(b"<Nm>Vuokra-Asunnot Oy</Nm>", b"<Nm>&x;</Nm>", 1)

    with pytest.raises(ValidationError, match=r"^payment file is not well-formed XML: .*'x'"):
        validate_pain001(xml)


def test_a_file_over_the_limit_is_refused_unread(monkeypatch):
    xml = build(NOVEMBER)
    monkeypatch.setattr(pain001, "MAX_FILE_BYTES", len(xml) - 1)

    with pytest.raises(ValidationError) as raised:
        validate_pain001(io.BytesIO(xml))

    assert str(raised.value) == f"payment file is larger than {len(xml) - 1} bytes"


def test_a_written_file_that_fails_the_schema_is_refused_with_its_line(monkeypatch, version):
    """The writer's own mistake: the file is checked as written, not as meant."""
    made = pain001._transaction

    def without_amount(E, bic_tag, transfer):
        element = made(E, bic_tag, transfer)
        if transfer.key == INSTALMENT.key:
            element.remove(element.find("Amt"))
        return element

    monkeypatch.setattr(pain001, "_transaction", without_amount)
    with pytest.raises(ValidationError) as raised:
        build(NOVEMBER, version)

    xml = build_tree_pain001(message_key=MESSAGE_KEY, created_at=CREATED_AT, debtor=DEBTOR,
                             transfers=NOVEMBER, version=version)
    instalment = xml.index(make_id(INSTALMENT.key).encode())
    line = line_of(xml, xml[xml.index(b"<Amt>", instalment):])    # the Cdtr after it moves up
    assert str(raised.value) == (
        f"pain.001.001.{version} schema: line {line}: Element 'Cdtr': This element is not "
        "expected. Expected is one of ( PmtTpInf, Amt ).")
