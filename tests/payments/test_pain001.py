"""The pain.001 writer: the November 2026 example (DESIGN §6) as a file, and every refusal."""

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from valitystili.base.errors import ValidationError
from valitystili.payments import pain001
from valitystili.payments.pain001 import (
    CreditTransfer,
    Debtor,
    build_pain001,
    make_id,
    order_id,
    validate_pain001,
)

HELSINKI_WINTER = timezone(timedelta(hours=2))
CREATED_AT = datetime(2026, 11, 2, 8, 30, 12, 345678, tzinfo=HELSINKI_WINTER)
MESSAGE_KEY = "batch:2026-11-02"

DEBTOR = Debtor(
    name="Sosiaalitoimi Välitystili",
    iban="FI8150000001202539",
    bic="OKOYFIHH",
    initiating_party_id="0201256-6",
)

RENT = CreditTransfer(
    key="order:rent:1001:2026-11",
    execution_on=date(2026, 11, 2),
    amount_cents=520_00,
    creditor_name="Vuokra-Asunnot Oy",
    creditor_iban="FI2112345600000785",
    creditor_bic="NDEAFIHH",
    reference="12345672",
    reference_kind="SCOR",
)
INSTALMENT = CreditTransfer(
    key="order:instalment:1001:2026-11-02",
    execution_on=date(2026, 11, 2),
    amount_cents=75_00,
    creditor_name="Mäkelä Aino",
    creditor_iban="FI2747000100000004",
    message="Käyttövara 2.11.",
)
ELECTRICITY = CreditTransfer(
    key="order:electricity:1001:2026-11",
    execution_on=date(2026, 11, 13),
    amount_cents=45_00,
    creditor_name="Sähkö Öljymäki Oy",
    creditor_iban="FI8880007100000122",
    reference="RF18539007547034",
    reference_kind="ISO",
)
# The later date comes first on purpose: blocks must come out in date order regardless.
NOVEMBER = [ELECTRICITY, RENT, INSTALMENT]

ID = re.compile(r"[A-Za-z0-9-]{1,35}")


@pytest.fixture(params=["09", "03"])
def version(request):
    return request.param


def build(transfers=NOVEMBER, version="09", debtor=DEBTOR):
    return build_pain001(
        message_key=MESSAGE_KEY,
        created_at=CREATED_AT,
        debtor=debtor,
        transfers=transfers,
        version=version,
    )


class Doc:
    """The parsed file with namespace-free paths: ``doc.texts("PmtInf/NbOfTxs")``."""

    def __init__(self, xml: bytes, version: str):
        self.root = etree.fromstring(xml)
        self.ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:pain.001.001.{version}"}

    def _path(self, path: str) -> str:
        return "/".join(f"p:{step}" for step in path.split("/"))

    def all(self, path: str, under=None):
        """Elements at ``path`` below ``CstmrCdtTrfInitn``, or below ``under`` when given."""
        if under is None:
            under, path = self.root, f"CstmrCdtTrfInitn/{path}"
        return under.xpath(self._path(path), namespaces=self.ns)

    def texts(self, path: str, under=None) -> list[str]:
        return [element.text for element in self.all(path, under)]

    def text(self, path: str, under=None) -> str:
        (value,) = self.texts(path, under)
        return value


def transaction(doc: Doc, key: str):
    (found,) = doc.root.xpath(
        "//p:CdtTrfTxInf[p:PmtId/p:EndToEndId = $id]", namespaces=doc.ns, id=make_id(key)
    )
    return found


# --- the November file ----------------------------------------------------------------------------


def test_the_file_validates_against_the_iso_schema(version):
    validate_pain001(build(version=version), version)


def test_one_block_per_execution_date_in_date_order(version):
    doc = Doc(build(version=version), version)
    dates = "ReqdExctnDt/Dt" if version == "09" else "ReqdExctnDt"

    assert doc.texts(f"PmtInf/{dates}") == ["2026-11-02", "2026-11-13"]
    assert doc.texts("PmtInf/NbOfTxs") == ["2", "1"]
    assert doc.texts("PmtInf/CtrlSum") == ["595.00", "45.00"]
    assert doc.text("GrpHdr/NbOfTxs") == "3"
    assert doc.text("GrpHdr/CtrlSum") == "640.00"


def test_transfers_keep_the_given_order_within_a_date(version):
    doc = Doc(build(version=version), version)

    assert doc.texts("PmtInf/CdtTrfTxInf/PmtId/EndToEndId") == [
        make_id(RENT.key),
        make_id(INSTALMENT.key),
        make_id(ELECTRICITY.key),
    ]
    assert doc.texts("PmtInf/CdtTrfTxInf/PmtId/InstrId") == doc.texts(
        "PmtInf/CdtTrfTxInf/PmtId/EndToEndId"
    )
    assert doc.texts("PmtInf/CdtTrfTxInf/Amt/InstdAmt") == ["520.00", "75.00", "45.00"]
    assert [a.get("Ccy") for a in doc.all("PmtInf/CdtTrfTxInf/Amt/InstdAmt")] == ["EUR"] * 3


def test_message_and_block_ids_derive_from_the_message_key(version):
    doc = Doc(build(version=version), version)

    assert doc.text("GrpHdr/MsgId") == make_id(MESSAGE_KEY)
    assert doc.texts("PmtInf/PmtInfId") == [
        make_id(f"{MESSAGE_KEY}:2026-11-02"),
        make_id(f"{MESSAGE_KEY}:2026-11-13"),
    ]


def test_group_header_names_the_initiating_party(version):
    doc = Doc(build(version=version), version)

    assert doc.text("GrpHdr/CreDtTm") == "2026-11-02T08:30:12+02:00"
    assert doc.text("GrpHdr/InitgPty/Nm") == "Sosiaalitoimi Välitystili"
    assert doc.text("GrpHdr/InitgPty/Id/OrgId/Othr/Id") == "0201256-6"
    assert doc.text("GrpHdr/InitgPty/Id/OrgId/Othr/SchmeNm/Cd") == "BANK"


def test_initiating_party_without_id_has_only_a_name(version):
    debtor = replace(DEBTOR, initiating_party_name="Kaupunki", initiating_party_id=None)
    doc = Doc(build(version=version, debtor=debtor), version)

    assert doc.text("GrpHdr/InitgPty/Nm") == "Kaupunki"
    assert doc.all("GrpHdr/InitgPty/Id") == []


def test_naive_creation_time_is_written_without_a_zone():
    xml = build_pain001(
        message_key=MESSAGE_KEY,
        created_at=datetime(2026, 11, 2, 8, 30, 12, 999),
        debtor=DEBTOR,
        transfers=[RENT],
    )
    assert Doc(xml, "09").text("GrpHdr/CreDtTm") == "2026-11-02T08:30:12"


def test_every_block_pays_sepa_from_the_intermediary_account(version):
    doc = Doc(build(version=version), version)
    bic = "BICFI" if version == "09" else "BIC"

    assert doc.texts("PmtInf/PmtMtd") == ["TRF", "TRF"]
    assert doc.texts("PmtInf/BtchBookg") == ["false", "false"]
    assert doc.texts("PmtInf/PmtTpInf/SvcLvl/Cd") == ["SEPA", "SEPA"]
    assert doc.texts("PmtInf/ChrgBr") == ["SLEV", "SLEV"]
    assert doc.texts("PmtInf/Dbtr/Nm") == ["Sosiaalitoimi Välitystili"] * 2
    assert doc.texts("PmtInf/DbtrAcct/Id/IBAN") == ["FI8150000001202539"] * 2
    assert doc.texts("PmtInf/DbtrAcct/Ccy") == ["EUR", "EUR"]
    assert doc.texts(f"PmtInf/DbtrAgt/FinInstnId/{bic}") == ["OKOYFIHH", "OKOYFIHH"]
    assert doc.all("PmtInf/CdtTrfTxInf/ChrgBr") == []
    assert doc.root.xpath("//p:PstlAdr", namespaces=doc.ns) == []


def test_unknown_debtor_bic_is_not_provided(version):
    doc = Doc(build(version=version, debtor=replace(DEBTOR, bic=None)), version)

    assert doc.texts("PmtInf/DbtrAgt/FinInstnId/Othr/Id") == ["NOTPROVIDED", "NOTPROVIDED"]


def test_creditor_agent_only_when_its_bic_is_known(version):
    doc = Doc(build(version=version), version)
    bic = "BICFI" if version == "09" else "BIC"

    assert doc.texts(f"CdtrAgt/FinInstnId/{bic}", transaction(doc, RENT.key)) == ["NDEAFIHH"]
    assert doc.all("CdtrAgt", transaction(doc, INSTALMENT.key)) == []
    rent = transaction(doc, RENT.key)
    assert doc.text("Cdtr/Nm", rent) == "Vuokra-Asunnot Oy"
    assert doc.text("CdtrAcct/Id/IBAN", rent) == "FI2112345600000785"


def test_finnish_reference_is_scor_without_issuer(version):
    doc = Doc(build(version=version), version)
    rent = transaction(doc, RENT.key)

    assert doc.text("RmtInf/Strd/CdtrRefInf/Tp/CdOrPrtry/Cd", rent) == "SCOR"
    assert doc.all("RmtInf/Strd/CdtrRefInf/Tp/Issr", rent) == []
    assert doc.text("RmtInf/Strd/CdtrRefInf/Ref", rent) == "12345672"
    assert doc.all("RmtInf/Ustrd", rent) == []


def test_rf_reference_is_scor_issued_by_iso(version):
    doc = Doc(build(version=version), version)
    electricity = transaction(doc, ELECTRICITY.key)

    assert doc.text("RmtInf/Strd/CdtrRefInf/Tp/CdOrPrtry/Cd", electricity) == "SCOR"
    assert doc.text("RmtInf/Strd/CdtrRefInf/Tp/Issr", electricity) == "ISO"
    assert doc.text("RmtInf/Strd/CdtrRefInf/Ref", electricity) == "RF18539007547034"
    assert doc.all("RmtInf/Ustrd", electricity) == []


def test_message_only_transfer_is_unstructured(version):
    doc = Doc(build(version=version), version)
    instalment = transaction(doc, INSTALMENT.key)

    assert doc.texts("RmtInf/Ustrd", instalment) == ["Käyttövara 2.11."]
    assert doc.all("RmtInf/Strd", instalment) == []


def test_scandinavian_letters_are_kept_in_utf8(version):
    xml = build(version=version)

    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert "Mäkelä Aino".encode("utf-8") in xml
    assert "Sähkö Öljymäki Oy".encode("utf-8") in xml
    assert "Käyttövara 2.11.".encode("utf-8") in xml


def test_decomposed_letters_are_composed_not_refused():
    decomposed = replace(INSTALMENT, creditor_name="Ma\u0308kela\u0308 Aino")

    assert "Mäkelä Aino".encode("utf-8") in build([decomposed])


@pytest.mark.parametrize(
    ("amount_cents", "written"),
    [
        (1, "0.01"),
        (10, "0.10"),
        (520_00, "520.00"),
        (1234_56, "1234.56"),
        (999_999_999_99, "999999999.99"),
    ],
)
def test_amounts_are_written_from_cents(version, amount_cents, written):
    doc = Doc(build([replace(RENT, amount_cents=amount_cents)], version=version), version)

    assert doc.text("PmtInf/CdtTrfTxInf/Amt/InstdAmt") == written
    assert doc.text("GrpHdr/CtrlSum") == written


def test_message_of_exactly_140_characters_is_accepted():
    message = "x" * 140
    doc = Doc(build([replace(INSTALMENT, message=message)]), "09")

    assert doc.text("PmtInf/CdtTrfTxInf/RmtInf/Ustrd") == message


def test_same_input_gives_byte_identical_output(version):
    first = build(version=version)
    again = build(list(NOVEMBER), version=version)

    assert first == again


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transfer", "error"),
    [
        pytest.param(
            replace(RENT, message="Vuokra marraskuu"),
            "has both a reference and a message; EPC rules allow only one",
            id="reference-and-message",
        ),
        pytest.param(
            replace(INSTALMENT, message=None),
            "needs a reference or a message",
            id="neither",
        ),
        pytest.param(
            replace(INSTALMENT, message="x" * 141),
            "message is 141 characters; at most 140 are allowed",
            id="message-141",
        ),
        pytest.param(
            replace(INSTALMENT, message="   "),
            "message is empty",
            id="blank-message",
        ),
        pytest.param(
            replace(INSTALMENT, creditor_name="Łukasz Nowak"),
            "creditor name contains 'Ł' (U+0141), which is outside ISO-8859-15",
            id="latin-2-letter",
        ),
        pytest.param(
            replace(INSTALMENT, message="Kiitos 😀"),
            "message contains '😀' (U+1F600), which is outside ISO-8859-15",
            id="emoji",
        ),
        pytest.param(
            replace(INSTALMENT, message="half ½"),
            "message contains '½' (U+00BD), which is outside ISO-8859-15",
            id="latin-1-only",
        ),
        pytest.param(
            replace(INSTALMENT, message="two\nlines"),
            "message contains the control character U+000A",
            id="newline",
        ),
        pytest.param(
            replace(INSTALMENT, message="Käyttövara 131052-308T"),
            "message contains a henkilötunnus",
            id="hetu",
        ),
        pytest.param(
            replace(INSTALMENT, creditor_name="A" * 71),
            "creditor name is 71 characters; at most 70 are allowed",
            id="name-71",
        ),
        pytest.param(
            replace(RENT, amount_cents=0),
            "amount 0,00\u00a0€ must be more than 0,00\u00a0€ and at most "
            "999\u00a0999\u00a0999,99\u00a0€",
            id="zero",
        ),
        pytest.param(
            replace(RENT, amount_cents=-520_00),
            "amount -520,00\u00a0€ must be more than 0,00\u00a0€ and at most "
            "999\u00a0999\u00a0999,99\u00a0€",
            id="negative",
        ),
        pytest.param(
            replace(RENT, amount_cents=1_000_000_000_00),
            "amount 1\u00a0000\u00a0000\u00a0000,00\u00a0€ must be more than 0,00\u00a0€ and at "
            "most 999\u00a0999\u00a0999,99\u00a0€",
            id="too-large",
        ),
        pytest.param(
            replace(RENT, amount_cents=520.0),
            "amount must be whole cents (int), not float",
            id="float",
        ),
        pytest.param(
            replace(RENT, execution_on=datetime(2026, 11, 2, 9, 0)),
            "execution date must be a date",
            id="datetime",
        ),
        pytest.param(
            replace(RENT, reference_kind="ISO"),
            "ISO reference '12345672' is not RF, 2 check digits and 1-21 capitals or digits",
            id="finnish-reference-as-rf",
        ),
        pytest.param(
            replace(ELECTRICITY, reference_kind="SCOR"),
            "SCOR reference 'RF18539007547034' is not 4-20 digits",
            id="rf-as-finnish",
        ),
        pytest.param(
            replace(RENT, reference_kind=None),
            "reference kind None must be 'SCOR' or 'ISO'",
            id="reference-without-kind",
        ),
        pytest.param(
            replace(INSTALMENT, reference_kind="SCOR"),
            "has a reference kind but no reference",
            id="kind-without-reference",
        ),
        pytest.param(
            replace(RENT, creditor_iban="FI9112345600000786"),
            "creditor IBAN 'FI9112345600000786' is not valid: Invalid national checksum",
            id="iban-checksum",
        ),
        pytest.param(
            replace(RENT, creditor_iban="FI21 1234 5600 0007 85"),
            "creditor IBAN 'FI21 1234 5600 0007 85' must be written as FI2112345600000785",
            id="iban-with-spaces",
        ),
        pytest.param(
            replace(RENT, creditor_bic="NDEAFI"),
            "creditor BIC 'NDEAFI' is not an 8 or 11 character BIC",
            id="short-bic",
        ),
    ],
)
def test_a_bad_transfer_is_refused(version, transfer, error):
    with pytest.raises(ValidationError) as raised:
        build([transfer], version=version)

    assert str(raised.value) == f"transfer {transfer.key!r}: {error}"


@pytest.mark.parametrize(
    ("debtor", "error"),
    [
        pytest.param(
            replace(DEBTOR, name="Sosiaalitoimi ☃"),
            "debtor name contains '☃' (U+2603), which is outside ISO-8859-15",
            id="name-character",
        ),
        pytest.param(
            replace(DEBTOR, initiating_party_name=""),
            "initiating party name is empty",
            id="empty-initiating-name",
        ),
        pytest.param(
            replace(DEBTOR, initiating_party_id="X" * 36),
            "initiating party id is 36 characters; at most 35 are allowed",
            id="long-id",
        ),
        pytest.param(
            replace(DEBTOR, initiating_party_scheme="BANKS"),
            "initiating party scheme 'BANKS' must be a code of 1-4 capitals or digits, e.g. BANK",
            id="scheme",
        ),
        pytest.param(
            replace(DEBTOR, iban="FI8150000001202538"),
            "debtor IBAN 'FI8150000001202538' is not valid: Invalid checksum digits",
            id="iban",
        ),
    ],
)
def test_a_bad_debtor_is_refused(version, debtor, error):
    with pytest.raises(ValidationError) as raised:
        build(version=version, debtor=debtor)

    assert str(raised.value) == error


def test_the_same_key_twice_is_refused(version):
    twice = replace(RENT, execution_on=date(2026, 11, 13), amount_cents=1_00)

    with pytest.raises(ValidationError) as raised:
        build([RENT, INSTALMENT, twice], version=version)

    assert str(raised.value) == "transfer key 'order:rent:1001:2026-11' appears twice in one file"


def test_an_empty_file_is_refused(version):
    with pytest.raises(ValidationError) as raised:
        build([], version=version)

    assert str(raised.value) == "a payment file needs at least one transfer"


@pytest.mark.parametrize("unknown", ["10", "001.001.09", "9", ""])
def test_an_unknown_version_is_refused(unknown):
    with pytest.raises(ValidationError) as raised:
        build(version=unknown)
    assert str(raised.value) == f"unknown pain.001 version {unknown!r}; use one of 03, 09"

    with pytest.raises(ValidationError):
        validate_pain001(build(), unknown)


def test_a_file_that_fails_the_schema_is_never_returned(monkeypatch):
    def failing(xml, version):
        raise ValidationError("pain.001.001.09 schema: line 1: broken")

    monkeypatch.setattr(pain001, "validate_pain001", failing)

    with pytest.raises(ValidationError, match="broken"):
        build()


# --- validation of a finished file ----------------------------------------------------------------


def test_a_tampered_file_is_rejected_with_the_first_schema_error(version):
    doc = Doc(build(version=version), version)
    (count,) = doc.all("GrpHdr/NbOfTxs")
    count.getparent().remove(count)
    tampered = etree.tostring(doc.root, xml_declaration=True, encoding="UTF-8")

    with pytest.raises(ValidationError) as raised:
        validate_pain001(tampered, version)

    assert str(raised.value) == (
        f"pain.001.001.{version} schema: line 7: Element 'CtrlSum': This element is not expected."
        " Expected is one of ( Authstn, NbOfTxs )."
    )


def test_a_file_of_the_other_version_is_rejected():
    with pytest.raises(ValidationError, match=r"^pain\.001\.001\.03 schema: line 2: "):
        validate_pain001(build(version="09"), "03")


def test_a_doctype_is_rejected_before_the_schema():
    xml = build().replace(
        b"<Document", b'<!DOCTYPE Document [<!ENTITY x "y">]>\n<Document', 1
    )

    with pytest.raises(ValidationError) as raised:
        validate_pain001(xml)

    assert str(raised.value) == "payment file has a DOCTYPE, which is not allowed"


def test_text_that_is_not_xml_is_rejected():
    with pytest.raises(ValidationError, match=r"^payment file is not well-formed XML: "):
        validate_pain001(b"<Document>")


# --- ids ------------------------------------------------------------------------------------------


def test_make_id_is_35_safe_characters_and_stable():
    made = make_id("order:rent:1001:2026-11")

    assert ID.fullmatch(made) and len(made) == 35
    assert made == make_id("order:rent:1001:2026-11")
    assert made != make_id("order:rent:1001:2026-12")


def test_make_id_keeps_a_prefix_within_35_characters():
    made = make_id("order:rent:1001:2026-11", prefix="VT-")

    assert made.startswith("VT-") and len(made) == 35
    assert made[3:] == make_id("order:rent:1001:2026-11")[:32]


@pytest.mark.parametrize(
    ("key", "prefix"),
    [("", ""), ("order:1", "VT_"), ("order:1", "Ä"), ("order:1", "P" * 16)],
)
def test_make_id_refuses_an_empty_key_or_an_unsafe_prefix(key, prefix):
    with pytest.raises(ValidationError):
        make_id(key, prefix)


def test_an_order_id_is_its_day_then_the_hash_of_its_key():
    made = order_id("order:rent:1001:2026-11", date(2026, 11, 2))

    assert ID.fullmatch(made) and len(made) == 35
    assert made == "20261102" + make_id("order:rent:1001:2026-11")[:27]
    assert made == order_id("order:rent:1001:2026-11", date(2026, 11, 2))
    assert made != order_id("order:rent:1001:2026-12", date(2026, 11, 2))


def test_a_day_s_order_ids_sort_after_the_day_before_s():
    keys = [f"order:inst:{client}:2026-11-02" for client in range(1, 200)]

    assert max(order_id(key, date(2026, 10, 30)) for key in keys) < min(
        order_id(key, date(2026, 11, 2)) for key in keys)


@given(st.text(min_size=1), st.text(min_size=1),
       st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_an_order_id_is_never_an_id_of_the_old_shape(key, other, on):
    # Orders stored before order_id keep make_id(key): base32 has no 0 or 1, every day has one.
    assert order_id(key, on) != make_id(other)
    assert set(order_id(key, on)[:8]) & {"0", "1"}


def test_the_file_carries_the_ids_the_orders_were_stored_with(version):
    new = replace(RENT, end_to_end_id=order_id(RENT.key, date(2026, 10, 30)))
    old = replace(INSTALMENT, end_to_end_id=make_id(INSTALMENT.key))
    doc = Doc(build(transfers=[new, old, ELECTRICITY], version=version), version)

    assert doc.texts("PmtInf/CdtTrfTxInf/PmtId/EndToEndId") == [
        order_id(RENT.key, date(2026, 10, 30)), make_id(INSTALMENT.key), make_id(ELECTRICITY.key)]
    assert doc.texts("PmtInf/CdtTrfTxInf/PmtId/InstrId") == doc.texts(
        "PmtInf/CdtTrfTxInf/PmtId/EndToEndId")


@pytest.mark.parametrize("stored", ["", "VT_1", "Ä1", "X" * 36])
def test_a_stored_id_that_no_bank_takes_is_refused(stored):
    with pytest.raises(ValidationError, match="end-to-end id"):
        build(transfers=[replace(RENT, end_to_end_id=stored)])


def test_two_transfers_with_one_stored_id_are_refused():
    same = order_id(RENT.key, date(2026, 11, 2))
    with pytest.raises(ValidationError, match="gives an id already in the file"):
        build(transfers=[replace(RENT, end_to_end_id=same),
                         replace(INSTALMENT, end_to_end_id=same)])


@given(st.lists(st.text(min_size=1), min_size=2, max_size=200, unique=True))
def test_different_keys_give_different_safe_ids(keys):
    ids = [make_id(key) for key in keys]

    assert all(ID.fullmatch(made) for made in ids)
    assert len(set(ids)) == len(keys)
    assert ids == [make_id(key) for key in keys]
