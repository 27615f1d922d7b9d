"""One money format everywhere a person reads (issue 13): ``1 113,00 €``.

The display form is written by base/money.py without a library; it must stay what CLDR gives
for fi_FI, sv_FI and en_FI (Babel), and no module may print money another way (``.2f``,
``EUR``) where people read it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st

from valitystili.base.money import (
    MAX_AMOUNT_CENTS,
    cents_to_decimal,
    format_count,
    format_fi,
    format_fi_number,
    format_locale,
)

NBSP = "\u00a0"
PACKAGE = Path(__file__).resolve().parents[2] / "valitystili"


@given(st.integers(min_value=-MAX_AMOUNT_CENTS, max_value=MAX_AMOUNT_CENTS))
def test_the_display_form_is_cldrs_for_finland_in_all_three_languages(cents):
    for language, locale in (("fi", "fi_FI"), ("sv", "sv_FI"), ("en", "en_FI")):
        babel = format_currency(cents_to_decimal(cents), "EUR", locale=locale)
        assert format_locale(cents, language) == format_fi(cents) == babel


@pytest.mark.parametrize(("cents", "number", "money"), [
    (111300, f"1{NBSP}113,00", f"1{NBSP}113,00{NBSP}€"),
    (5, "0,05", f"0,05{NBSP}€"),
    (-123456789, f"-1{NBSP}234{NBSP}567,89", f"-1{NBSP}234{NBSP}567,89{NBSP}€"),
    (0, "0,00", f"0,00{NBSP}€"),
])
def test_a_table_writes_the_same_number_without_the_euro_sign(cents, number, money):
    assert (format_fi_number(cents), format_fi(cents)) == (number, money)


@pytest.mark.parametrize(("count", "text"), [
    (0, "0"), (999, "999"), (1234, f"1{NBSP}234"), (5_678_901, f"5{NBSP}678{NBSP}901"),
    (-1000, f"-1{NBSP}000"),
])
def test_counts_are_grouped_like_money(count, text):
    assert format_count(count) == text


@pytest.mark.parametrize("not_a_count", [1.0, True, "12"])
def test_format_count_takes_whole_numbers_only(not_a_count):
    with pytest.raises(TypeError, match="a count must be an int"):
        format_count(not_a_count)


#: Money formatted for people some other way than through base/money.py.
OTHER_FORMATS = re.compile(r"/ ?100\b[^}\n]*:\.2f\}|\.2f\} ?EUR|\} EUR\b|\d EUR\b")
#: Machine formats, not read by people: the payment file's amounts and the demo's own files.
MACHINE = {"payments/pain001.py", "demo/bank.py", "demo/data.py"}


def test_no_module_prints_money_for_people_another_way():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OTHER_FORMATS.search(line) and name not in MACHINE:
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
