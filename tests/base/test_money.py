"""Money at the edges: what people type becomes exact cents, and cents print as Babel does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valitystili.base.errors import ValidationError
from valitystili.base.money import (
    MAX_AMOUNT_CENTS,
    cents_to_decimal,
    format_fi,
    format_locale,
    format_plain,
    parse_amount,
    parse_signed_amount,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("512,40", 51240),
        ("512.40", 51240),
        ("512", 51200),
        ("1 234,56", 123456),
        (f"1{NBSP}234,56", 123456),
        ("1\u202f234,56", 123456),
        ("1234.5", 123450),
        ("0,05", 5),
        ("0", 0),
        ("0.00", 0),
        ("  45,00 ", 4500),
        (f"1{NBSP}234,56{NBSP}€", 123456),  # what format_fi prints
        ("1 234 567", 123456700),
        ("0512,40", 51240),
        ("10 000 000,00", MAX_AMOUNT_CENTS),
    ],
)
def test_parse_amount_accepts(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("512,405", "amount 512,405 has more than two decimals"),
        ("0.001", "amount 0.001 has more than two decimals"),
        ("1,234", "amount 1,234 has more than two decimals"),
        ("-5", "amount -5 is negative"),
        ("-0,01", "amount -0,01 is negative"),
        ("", "amount is empty"),
        ("   ", "amount is empty"),
        ("abc", "amount 'abc' is not a number"),
        ("nan", "amount 'nan' is not a number"),
        ("NaN", "amount 'NaN' is not a number"),
        ("inf", "amount 'inf' is not a number"),
        ("-Infinity", "amount '-Infinity' is not a number"),
        ("1e3", "amount '1e3' is not a number"),
        ("+5", "amount '+5' is not a number"),
        ("1.234,56", "amount '1.234,56' is not a number"),
        ("1,234.56", "amount '1,234.56' is not a number"),
        ("12 34,56", "amount '12 34,56' is not a number"),
        ("512,", "amount '512,' is not a number"),
        (",50", "amount ',50' is not a number"),
        ("5 EUR", "amount '5 EUR' is not a number"),
        ("\u0665", "amount '\u0665' is not a number"),  # ARABIC-INDIC DIGIT FIVE
        ("10000000,01",
         f"amount 10000000,01 is larger than the maximum 10{NBSP}000{NBSP}000,00{NBSP}€"),
        ("99999999999", "amount 99999999999 is larger than the maximum"),
    ],
)
def test_parse_amount_rejects(text, message):
    with pytest.raises(ValidationError) as raised:
        parse_amount(text)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("-12,50", -1250),
        ("\u221212,50", -1250),  # U+2212 MINUS SIGN
        ("12,50", 1250),
        (f"-1{NBSP}234,56{NBSP}€", -123456),
        ("-10 000 000,00", -MAX_AMOUNT_CENTS),
        ("-0", 0),
    ],
)
def test_parse_signed_amount(text, cents):
    assert parse_signed_amount(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("--5", "amount '--5' is not a number"),
        ("-", "amount '-' is not a number"),
        ("-10000000,01", "amount -10000000,01 is larger than the maximum"),
        ("-1,005", "amount -1,005 has more than two decimals"),
    ],
)
def test_parse_signed_amount_rejects(text, message):
    with pytest.raises(ValidationError) as raised:
        parse_signed_amount(text)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (123456, f"1{NBSP}234,56{NBSP}€"),
        (51240, f"512,40{NBSP}€"),
        (5, f"0,05{NBSP}€"),
        (0, f"0,00{NBSP}€"),
        (100, f"1,00{NBSP}€"),
        (MAX_AMOUNT_CENTS, f"10{NBSP}000{NBSP}000,00{NBSP}€"),
        # Babel 2.18's fi_FI data writes the minus as a HYPHEN-MINUS.
        (-123456, f"-1{NBSP}234,56{NBSP}€"),
    ],
)
def test_format_fi_is_babels_fi_fi_form(cents, text):
    assert format_fi(cents) == text


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (123456, "1234.56"),
        (100, "1.00"),
        (5, "0.05"),
        (0, "0.00"),
        (-5, "-0.05"),
        (MAX_AMOUNT_CENTS, "10000000.00"),
    ],
)
def test_format_plain(cents, text):
    assert format_plain(cents) == text


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("fi", f"1{NBSP}234,56{NBSP}€"),
        ("sv", f"1{NBSP}234,56{NBSP}€"),
        # en_FI: English in Finland keeps the Finnish number style (documented choice).
        ("en", f"1{NBSP}234,56{NBSP}€"),
    ],
)
def test_format_locale(language, text):
    assert format_locale(123456, language) == text


def test_format_locale_refuses_unknown_language():
    message = r"^language 'de' is not supported \(choose one of fi, sv, en\)$"
    with pytest.raises(ValidationError, match=message):
        format_locale(100, "de")


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (51240, Decimal("512.40")),
        (100, Decimal("1.00")),
        (-5, Decimal("-0.05")),
        (0, Decimal("0.00")),
    ],
)
def test_cents_to_decimal_has_exactly_two_decimals(cents, expected):
    value = cents_to_decimal(cents)
    assert value == expected
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize("not_cents", [512.4, True, Decimal("512.40"), "51240"])
def test_formatters_refuse_anything_but_int_cents(not_cents):
    with pytest.raises(TypeError, match="money must be integer cents"):
        format_plain(not_cents)


@given(st.integers(min_value=-MAX_AMOUNT_CENTS, max_value=MAX_AMOUNT_CENTS))
def test_every_printed_amount_parses_back(cents):
    assert parse_signed_amount(format_fi(cents)) == cents
    assert parse_signed_amount(format_plain(cents)) == cents
    for language in ("fi", "sv", "en"):
        assert parse_signed_amount(format_locale(cents, language)) == cents
