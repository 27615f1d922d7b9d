"""A flag's detail about an obligation names its kind in the reader's language; the stored
English is the kind itself (JSON and CSV are the same in every language)."""

from __future__ import annotations

from datetime import date

import pytest

from valitystili.base import i18n
from valitystili.flags.raising import arrears_detail, short_detail


@pytest.fixture
def speaking():
    before = i18n.language()

    def speak(code: str) -> None:
        i18n.set_language(code)

    yield speak
    i18n.set_language(before)


@pytest.mark.parametrize(("kind", "english", "finnish", "swedish"), [
    ("rent", "rent", "vuokra", "hyra"),
    ("electricity", "electricity", "sähkölasku", "elräkning"),
    ("other", "other", "muu lasku", "annan räkning"),
])
def test_an_arrears_detail_names_the_kind_in_each_language(speaking, kind, english, finnish,
                                                           swedish):
    detail = arrears_detail(kind, date(2026, 11, 2), 8)
    assert detail == f"{english} due 2026-11-02 unpaid, 8 days past due"
    speaking("fi")
    assert detail.shown() == f"{finnish}, eräpäivä 2026-11-02, maksamatta; päiviä eräpäivästä: 8"
    speaking("sv")
    assert detail.shown().startswith(f"{swedish} med förfallodag 2026-11-02")


def test_a_shortfall_detail_names_the_kind_and_the_amounts(speaking):
    detail = short_detail("rent", date(2026, 11, 2), 5000, 52000)
    assert detail == "rent due 2026-11-02: 50,00\u00a0€ short of 520,00\u00a0€"
    speaking("fi")
    assert detail.shown() == "vuokra, eräpäivä 2026-11-02: summasta 520,00\u00a0€ puuttuu 50,00\u00a0€"


def test_a_kind_without_a_word_is_named_as_it_is(speaking):
    speaking("fi")
    assert arrears_detail("water", date(2026, 11, 2), 1).shown().startswith("water, eräpäivä")
