"""References, IBANs and identity codes: the checks banks and Kela make, with exact answers."""

from __future__ import annotations

import re
from datetime import date

import pytest

from valitystili.base.errors import ValidationError
from valitystili.base.identifiers import (
    age_on,
    bic_for_iban,
    classify_reference,
    client_reference,
    find_hetu,
    format_iban,
    format_reference,
    hetu_birth_date,
    is_temporary_hetu,
    make_reference,
    mask_hetu,
    reference_check_digit,
    rf_from_finnish,
    validate_bic,
    validate_finnish_reference,
    validate_hetu,
    validate_iban,
    validate_rf,
)


def raises(message: str):
    """The call must fail with exactly this one-line message."""
    return pytest.raises(ValidationError, match=f"^{re.escape(message)}$")


# --- Finnish reference numbers ------------------------------------------------------------------

# The valid examples in BANKING.md.
VALID_REFERENCES = [
    "12345672", "123453", "3900", "12344", "43216", "2345678917", "1234567897", "9544208",
]


@pytest.mark.parametrize("reference", VALID_REFERENCES)
def test_published_references_are_valid(reference):
    assert validate_finnish_reference(reference) == reference


@pytest.mark.parametrize("reference", VALID_REFERENCES)
def test_check_digit_of_published_references(reference):
    assert reference_check_digit(reference[:-1]) == int(reference[-1])
    assert make_reference(reference[:-1]) == reference


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("123 45672", "12345672"),
        ("  1234 5672 ", "12345672"),
        ("123\u00a045672", "12345672"),
        ("00000000000012345672", "00000000000012345672"),  # KTL pads to 20 digits; kept as given
    ],
)
def test_reference_is_normalized_without_spaces(text, normalized):
    assert validate_finnish_reference(text) == normalized


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12345671", "reference 12345671 has a wrong check digit (expected 12345672)"),
        ("3901", "reference 3901 has a wrong check digit (expected 3900)"),
        ("123", "reference 123 has 3 digits; a Finnish reference has 4–20"),
        ("123456789012345678901",
         "reference 123456789012345678901 has 21 digits; a Finnish reference has 4–20"),
        ("0000", "reference 0000 is all zeros"),
        ("12a45672", "reference '12a45672' must consist of digits only"),
        ("RF8512345672", "reference 'RF8512345672' must consist of digits only"),
        ("", "reference '' must consist of digits only"),
    ],
)
def test_bad_references_are_refused(text, message):
    with raises(message):
        validate_finnish_reference(text)


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("12", "reference base 12 has 2 digits; it needs 3–19"),
        ("12345678901234567890",
         "reference base 12345678901234567890 has 20 digits; it needs 3–19"),
        ("0123", "reference base 0123 must not start with 0"),
        ("12x", "reference base '12x' must consist of digits only"),
    ],
)
def test_make_reference_refuses_bad_bases(base, message):
    with raises(message):
        make_reference(base)


@pytest.mark.parametrize(
    ("reference", "printed"),
    [
        ("12345672", "123 45672"),
        ("3900", "3900"),
        ("12344", "12344"),
        ("123453", "1 23453"),
        ("2345678917", "23456 78917"),
        ("00000000000012345672", "00000 00000 00123 45672"),
    ],
)
def test_reference_is_printed_in_groups_of_five_from_the_right(reference, printed):
    assert format_reference(reference) == printed


# --- RF references -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finnish", "rf"),
    [("12345672", "RF8512345672"), ("3900", "RF463900"), ("123 45672", "RF8512345672")],
)
def test_rf_from_finnish(finnish, rf):
    assert rf_from_finnish(finnish) == rf
    assert validate_rf(rf) == rf


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("RF18539007547034", "RF18539007547034"),
        ("RF7812345", "RF7812345"),
        ("RF7812345 ", "RF7812345"),  # camt.054 sample: trailing space
        ("RF0812344", "RF0812344"),
        ("rf18 5390 0754 7034", "RF18539007547034"),
    ],
)
def test_valid_rf_references(text, normalized):
    assert validate_rf(text) == normalized


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # camt.053 sample carries this one; it is not a valid RF reference.
        ("RF98123456789012",
         "RF reference RF98123456789012 has wrong check digits (expected RF03123456789012)"),
        ("RF1", "RF reference RF1 has 3 characters; it needs 5–25"),
        ("RF0312345678901234567890123",
         "RF reference RF0312345678901234567890123 has 27 characters; it needs 5–25"),
        ("XX8512345672",
         "RF reference 'XX8512345672' must be RF, two check digits and letters or digits"),
    ],
)
def test_bad_rf_references_are_refused(text, message):
    with raises(message):
        validate_rf(text)


@pytest.mark.parametrize(
    ("text", "classified"),
    [
        ("RF7812345 ", ("ISO", "RF7812345")),
        ("rf18 5390 0754 7034", ("ISO", "RF18539007547034")),
        ("12345672", ("SCOR", "12345672")),
        ("123 45672", ("SCOR", "12345672")),
    ],
)
def test_classify_reference(text, classified):
    assert classify_reference(text) == classified


NEITHER = "a Finnish reference number (digits) nor an RF reference (RF…)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RF98123456789012",
         "RF reference RF98123456789012 has wrong check digits (expected RF03123456789012)"),
        ("12345671", "reference 12345671 has a wrong check digit (expected 12345672)"),
        ("Vuokra marraskuu",
         f"reference 'Vuokra marraskuu' is neither {NEITHER}"),
        ("", f"reference '' is neither {NEITHER}"),
    ],
)
def test_classify_reference_names_the_problem(text, message):
    with raises(message):
        classify_reference(text)


# --- client references ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_number", "reference"),
    [
        (1, "100000010"),
        (42, "100000421"),
        (9_999_999, "199999996"),
        (10_000_000, "1100000006"),  # beyond seven digits the base just grows
    ],
)
def test_client_reference(client_number, reference):
    assert client_reference(client_number) == reference
    assert validate_finnish_reference(reference) == reference


def test_client_references_are_unique_and_valid():
    numbers = [*range(1, 5001), *range(9_999_000, 10_001_000)]
    references = [client_reference(n) for n in numbers]
    assert len(set(references)) == len(numbers)
    assert all(validate_finnish_reference(r) == r for r in references)


@pytest.mark.parametrize(
    ("client_number", "message"),
    [
        (0, "client number 0 must be positive"),
        (-3, "client number -3 must be positive"),
        (10**18, f"client number {10**18} is too large for a reference"),
    ],
)
def test_client_reference_refuses_impossible_numbers(client_number, message):
    with raises(message):
        client_reference(client_number)


# --- IBAN and BIC --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "compact", "printed", "bic"),
    [
        ("FI2112345600000785", "FI2112345600000785", "FI21 1234 5600 0007 85", "NDEAFIHH"),
        ("fi21 1234 5600 0007 85", "FI2112345600000785", "FI21 1234 5600 0007 85", "NDEAFIHH"),
        ("FI7433010001222090", "FI7433010001222090", "FI74 3301 0001 2220 90", "ESSEFIHX"),
        ("DE89370400440532013000", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00",
         "COBADEFFXXX"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32", None),
    ],
)
def test_valid_ibans(text, compact, printed, bic):
    assert validate_iban(text) == compact
    assert format_iban(text) == printed
    assert bic_for_iban(text) == bic


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # mod-97 alone accepts this one; the Finnish national Luhn digit does not.
        ("FI9112345600000786", "IBAN FI9112345600000786 has a wrong national check digit"),
        ("FI2112345600000786", "IBAN FI2112345600000786 has wrong check digits"),
        ("FI211234560000078", "IBAN FI211234560000078 has the wrong length for its country"),
        ("XX2112345600000785", "IBAN XX2112345600000785 has an unknown country code"),
        ("FI21-1234", "IBAN FI21-1234 contains characters an IBAN cannot have"),
    ],
)
def test_bad_ibans_are_refused(text, message):
    with raises(message):
        validate_iban(text)


@pytest.mark.parametrize(
    ("text", "compact"),
    [("NDEAFIHH", "NDEAFIHH"), ("ndea fi hh", "NDEAFIHH"), ("OKOYFIHHXXX", "OKOYFIHHXXX")],
)
def test_valid_bics(text, compact):
    assert validate_bic(text) == compact


@pytest.mark.parametrize("text", ["NDEAFIH", "NDEAXXHH", "1234FIHH"])
def test_bad_bics_are_refused(text):
    with pytest.raises(ValidationError, match=f"^BIC {text} is not valid "):
        validate_bic(text)


# --- henkilötunnus -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "masked", "born", "temporary"),
    [
        ("131052-308T", "131052-308T", "131052-****", date(1952, 10, 13), False),
        ("010594Y123W", "010594Y123W", "010594Y****", date(1994, 5, 1), False),
        ("010594y123w", "010594Y123W", "010594Y****", date(1994, 5, 1), False),
        ("150705B247K", "150705B247K", "150705B****", date(2005, 7, 15), False),
        ("010101-900R", "010101-900R", "010101-****", date(1901, 1, 1), True),
    ],
)
def test_valid_identity_codes(text, code, masked, born, temporary):
    assert validate_hetu(text) == code
    assert mask_hetu(text) == masked
    assert hetu_birth_date(text) == born
    assert is_temporary_hetu(text) is temporary


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("131052-308U", "henkilötunnus 131052-**** has a wrong check character"),
        ("310252-308Y", "henkilötunnus 310252-**** has a birth date that does not exist"),
        ("131052-001T",
         "henkilötunnus 131052-**** has individual number 001, which is never issued"),
        ("131052G308T", "henkilötunnus is not in the form DDMMYYCNNNQ (e.g. 131052-308T)"),
        ("131052-308", "henkilötunnus is not in the form DDMMYYCNNNQ (e.g. 131052-308T)"),
        ("", "henkilötunnus is not in the form DDMMYYCNNNQ (e.g. 131052-308T)"),
    ],
)
def test_bad_identity_codes_are_refused_without_showing_them(text, message):
    with raises(message):
        validate_hetu(text)


def test_temporary_codes_can_be_refused():
    with raises("henkilötunnus 010101-**** is a temporary code (individual number 900–999)"):
        validate_hetu("010101-900R", allow_temporary=False)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Toimeentulotuki 131052-308T marraskuu", "131052-308T"),
        ("KELA ASUMISTUKI 010594y123w", "010594Y123W"),
        # The first candidate has a wrong check character, so the second, valid one is taken.
        ("131052-308U / 150705B247K", "150705B247K"),
        ("(131052-308T)", "131052-308T"),
        ("131052-308T,010594Y123W", "131052-308T"),
        ("x131052-308T", None),  # glued to other text: not an identity code
        ("131052-308TX", None),
        ("Vuokra 11/2026 viite 12345672", None),
        ("", None),
    ],
)
def test_find_hetu_in_a_payment_message(text, found):
    assert find_hetu(text) == found


@pytest.mark.parametrize(
    ("code", "on", "age"),
    [
        ("131052-308T", date(2026, 10, 12), 73),
        ("131052-308T", date(2026, 10, 13), 74),
        ("150705B247K", date(2023, 7, 14), 17),
        ("150705B247K", date(2023, 7, 15), 18),
        ("150705B247K", date(2005, 7, 15), 0),
        # Born 29.2.2000: a year older on 1 March in common years.
        ("290200A002C", date(2026, 2, 28), 25),
        ("290200A002C", date(2026, 3, 1), 26),
        ("290200A002C", date(2028, 2, 29), 28),
    ],
)
def test_age_on(code, on, age):
    assert age_on(code, on) == age


def test_age_before_birth_is_refused():
    with raises("2005-07-14 is before the birth date of 150705B****"):
        age_on("150705B247K", date(2005, 7, 14))
