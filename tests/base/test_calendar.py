"""Banking days, Kela payment days, rent due days — and the date parsing they rest on.

The tables are explicit on purpose: ``holidays`` is pinned (0.108) and releases often, so a change
in its Finnish or TARGET calendars must show up here as a failing row, not as a silent shift.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import holidays
import pytest

from valitystili.base import banking_calendar as calendar_module
from valitystili.base.banking_calendar import (
    CALENDAR,
    BankingCalendar,
    KelaPaymentRules,
    income_day,
    pay_by,
    rent_due_day,
)
from valitystili.base.dates import format_fi_date, parse_date, parse_month
from valitystili.base.errors import ValidationError


def weekdays_closed(year: int, calendar: BankingCalendar = CALENDAR) -> list[date]:
    day, closed = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5 and not calendar.is_banking_day(day):
            closed.append(day)
        day += timedelta(days=1)
    return closed


# --- the banking-day table -----------------------------------------------------------------------


def test_weekdays_without_banking_in_2026():
    assert weekdays_closed(2026) == [
        date(2026, 1, 1),  # New Year's Day
        date(2026, 1, 6),  # Epiphany
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),  # May Day
        date(2026, 5, 14),  # Ascension Day
        date(2026, 6, 19),  # Midsummer Eve
        date(2026, 12, 24),  # Christmas Eve
        date(2026, 12, 25),  # Christmas Day
    ]


def test_weekdays_without_banking_in_2027():
    assert weekdays_closed(2027) == [
        date(2027, 1, 1),
        date(2027, 1, 6),
        date(2027, 3, 26),  # Good Friday
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 6),  # Ascension Day
        date(2027, 6, 25),  # Midsummer Eve
        date(2027, 12, 6),  # Independence Day, a Monday
        date(2027, 12, 24),
    ]


@pytest.mark.parametrize(
    ("day", "banking"),
    [
        (date(2026, 12, 31), True),  # New Year's Eve: neither Finnish holiday nor TARGET closing
        (date(2026, 1, 2), True),
        (date(2026, 4, 2), True),  # Maundy Thursday
        (date(2026, 4, 30), True),  # May Day Eve
        (date(2026, 2, 5), True),  # Runeberg Day is a flag day, not a holiday
        (date(2026, 12, 23), True),
        (date(2026, 12, 28), True),
        (date(2026, 12, 26), False),  # Saturday (St Stephen's Day)
        (date(2026, 12, 6), False),  # Sunday (Independence Day)
        (date(2026, 6, 20), False),  # Saturday (Midsummer Day)
        (date(2026, 11, 14), False),  # an ordinary Saturday
        (date(2026, 11, 15), False),  # an ordinary Sunday
        # Only TARGET was closed (millennium change): the ECB calendar counts, not just Finland's.
        (date(1999, 12, 31), False),
    ],
)
def test_is_banking_day(day, banking):
    assert CALENDAR.is_banking_day(day) is banking


def test_the_eves_banks_close_on_come_from_the_library():
    # Banks close on Midsummer Eve and Christmas Eve; the calendar relies on holidays.Finland
    # listing them. If a release drops them, this fails before any payment date moves.
    finland = holidays.Finland(years=2026)
    assert finland.get(date(2026, 6, 19)) == "Midsummer Eve"
    assert finland.get(date(2026, 12, 24)) == "Christmas Eve"


def test_target_closing_days_2026():
    assert sorted(holidays.financial_holidays("XECB", years=2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]


# --- moving to banking days ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "after", "before"),
    [
        (date(2026, 11, 1), date(2026, 11, 2), date(2026, 10, 30)),  # Sunday
        (date(2026, 11, 15), date(2026, 11, 16), date(2026, 11, 13)),  # Sunday
        (date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 23)),  # Christmas Eve to Sunday
        (date(2026, 6, 19), date(2026, 6, 22), date(2026, 6, 18)),  # Midsummer Eve
        (date(2026, 4, 3), date(2026, 4, 7), date(2026, 4, 2)),  # Easter
        (date(2027, 1, 1), date(2027, 1, 4), date(2026, 12, 31)),
        (date(2026, 11, 2), date(2026, 11, 2), date(2026, 11, 2)),  # already a banking day
    ],
)
def test_on_or_after_and_on_or_before(day, after, before):
    assert CALENDAR.on_or_after(day) == after
    assert CALENDAR.on_or_before(day) == before


@pytest.mark.parametrize(
    ("day", "following", "preceding"),
    [
        (date(2026, 11, 2), date(2026, 11, 3), date(2026, 10, 30)),
        (date(2026, 12, 23), date(2026, 12, 28), date(2026, 12, 22)),
        (date(2026, 12, 31), date(2027, 1, 4), date(2026, 12, 30)),
    ],
)
def test_next_and_previous_banking_day_are_strict(day, following, preceding):
    assert CALENDAR.next_banking_day(day) == following
    assert CALENDAR.previous_banking_day(day) == preceding


@pytest.mark.parametrize(
    ("day", "n", "result"),
    [
        (date(2026, 12, 23), 1, date(2026, 12, 28)),
        (date(2026, 12, 23), 2, date(2026, 12, 29)),
        (date(2026, 12, 31), 1, date(2027, 1, 4)),
        (date(2027, 1, 4), 2, date(2027, 1, 7)),  # over Epiphany
        (date(2026, 11, 14), 1, date(2026, 11, 16)),  # from a Saturday
        (date(2026, 12, 28), -1, date(2026, 12, 23)),
        (date(2026, 4, 7), -2, date(2026, 4, 1)),  # back over Easter
        (date(2026, 11, 14), 0, date(2026, 11, 14)),  # adding nothing changes nothing
    ],
)
def test_add_banking_days(day, n, result):
    assert CALENDAR.add_banking_days(day, n) == result


def test_banking_days_over_christmas_and_new_year():
    assert CALENDAR.banking_days(date(2026, 12, 20), date(2027, 1, 8)) == [
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 4),
        date(2027, 1, 5),
        date(2027, 1, 7),
        date(2027, 1, 8),
    ]


def test_banking_days_of_whole_year_and_empty_range():
    assert len(CALENDAR.banking_days(date(2026, 1, 1), date(2026, 12, 31))) == 252
    assert CALENDAR.banking_days(date(2026, 11, 3), date(2026, 11, 2)) == []


@pytest.mark.parametrize(
    ("year", "month", "first"),
    [
        (2026, 11, date(2026, 11, 2)),
        (2026, 12, date(2026, 12, 1)),
        (2026, 5, date(2026, 5, 4)),
        (2026, 8, date(2026, 8, 3)),
        (2027, 1, date(2027, 1, 4)),
    ],
)
def test_first_banking_day_of_month(year, month, first):
    assert CALENDAR.first_banking_day_of_month(year, month) == first


def test_extra_closed_days_apply_only_to_their_calendar():
    strike = BankingCalendar(extra_closed_days=[date(2026, 11, 2), date(2027, 3, 1)])
    assert strike.on_or_after(date(2026, 11, 1)) == date(2026, 11, 3)
    assert strike.is_banking_day(date(2027, 3, 1)) is False
    assert strike.is_banking_day(date(2027, 3, 2)) is True
    assert CALENDAR.on_or_after(date(2026, 11, 1)) == date(2026, 11, 2)
    # A bank's closure does not move a legal due date.
    assert strike.rent_due_day(date(2026, 11, 2)) == date(2026, 11, 2)


def test_holiday_sets_are_built_once_per_year(monkeypatch):
    built: list[int] = []
    real_finland = holidays.Finland

    def counting_finland(*, years):
        built.append(years)
        return real_finland(years=years)

    monkeypatch.setattr(calendar_module.holidays, "Finland", counting_finland)
    fresh = BankingCalendar()
    for day in fresh.banking_days(date(2026, 1, 1), date(2027, 12, 31)):
        fresh.is_banking_day(day)
    assert built == [2026, 2027]


# --- Kela payment days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "year", "month", "scheduled_day", "arrives"),
    [
        # First banking day on or after the scheduled day.
        ("housing_allowance", 2026, 11, 1, date(2026, 11, 2)),  # 1.11. is a Sunday
        ("housing_allowance", 2026, 12, 1, date(2026, 12, 1)),
        ("basic_social_assistance", 2026, 5, 1, date(2026, 5, 4)),  # May Day, then weekend
        ("basic_social_assistance", 2026, 8, 1, date(2026, 8, 3)),
        ("basic_social_assistance", 2027, 1, 1, date(2027, 1, 4)),
        # Later parts of split social assistance: Kela moves them earlier (9., 16., 23.5.2026
        # are Saturdays).
        ("basic_social_assistance", 2026, 5, 9, date(2026, 5, 8)),
        ("basic_social_assistance", 2026, 5, 16, date(2026, 5, 15)),
        ("basic_social_assistance", 2026, 5, 23, date(2026, 5, 22)),
        ("basic_social_assistance", 2026, 11, 16, date(2026, 11, 16)),
        # Fixed days: last banking day on or before.
        ("pensioners_housing_allowance", 2026, 4, 4, date(2026, 4, 2)),  # Sat, then Good Friday
        ("national_pension", 2026, 2, 7, date(2026, 2, 6)),
        ("care_allowance", 2026, 6, 7, date(2026, 6, 5)),
        ("guarantee_pension", 2026, 2, 22, date(2026, 2, 20)),
        ("guarantee_pension", 2026, 4, 22, date(2026, 4, 22)),
        ("pension", 2026, 1, 1, date(2025, 12, 31)),  # into the previous month
        ("labour_market_subsidy", 2026, 4, 4, date(2026, 4, 2)),  # unknown kinds: fixed-day rule
    ],
)
def test_income_day(kind, year, month, scheduled_day, arrives):
    assert income_day(kind, year, month, scheduled_day) == arrives


@pytest.mark.parametrize(
    ("kind", "arrives"),
    [
        ("housing_allowance", date(2026, 11, 2)),
        ("basic_social_assistance", date(2026, 11, 2)),
        ("pension_support", date(2026, 11, 4)),
        ("pensioners_housing_allowance", date(2026, 11, 4)),
        ("national_pension", date(2026, 11, 6)),  # 7.11. is a Saturday
        ("care_allowance", date(2026, 11, 6)),
        ("guarantee_pension", date(2026, 11, 20)),  # 22.11. is a Sunday
    ],
)
def test_income_day_uses_the_usual_day_of_the_kind(kind, arrives):
    assert income_day(kind, 2026, 11) == arrives


def test_income_rules_are_configuration():
    rules = KelaPaymentRules(forward_kinds=frozenset({"pension"}), usual_days={"pension": 1})
    assert income_day("pension", 2026, 11, rules=rules) == date(2026, 11, 2)
    assert income_day("housing_allowance", 2026, 11, 1, rules=rules) == date(2026, 10, 30)


@pytest.mark.parametrize(
    ("kind", "year", "month", "day", "message"),
    [
        ("pension", 2026, 11, None,
         "income kind 'pension' has no usual payment day; give the day of the month"),
        ("pension", 2026, 2, 30, "payment day 30 does not exist in 2026-02"),
        ("pension", 2026, 13, 1, "payment day 1 does not exist in 2026-13"),
        ("pension", 2026, 1, 0, "payment day 0 does not exist in 2026-01"),
    ],
)
def test_income_day_refuses_impossible_days(kind, year, month, day, message):
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        income_day(kind, year, month, day)


# --- rent -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "legal_due", "paid_by"),
    [
        (date(2026, 11, 2), date(2026, 11, 2), date(2026, 11, 2)),
        (date(2026, 5, 2), date(2026, 5, 4), date(2026, 4, 30)),  # Saturday
        (date(2026, 8, 2), date(2026, 8, 3), date(2026, 7, 31)),  # Sunday
        (date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 23)),  # Christmas Eve
        (date(2026, 10, 31), date(2026, 11, 2), date(2026, 10, 30)),  # All Saints' Day
        (date(2027, 1, 2), date(2027, 1, 4), date(2026, 12, 31)),
        (date(2027, 1, 6), date(2027, 1, 7), date(2027, 1, 5)),  # Epiphany
        (date(2027, 12, 6), date(2027, 12, 7), date(2027, 12, 3)),  # Independence Day
        (date(2026, 11, 15), date(2026, 11, 16), date(2026, 11, 13)),  # DESIGN §6 electricity
    ],
)
def test_rent_due_day_and_pay_by(due, legal_due, paid_by):
    assert rent_due_day(due) == legal_due
    assert pay_by(due) == paid_by
    assert CALENDAR.rent_due_day(due) == legal_due
    assert CALENDAR.pay_by(due) == paid_by


# --- dates at the edge ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-23", date(2026, 11, 23)),
        ("23.11.2026", date(2026, 11, 23)),
        ("1.2.2026", date(2026, 2, 1)),
        ("01.02.2026", date(2026, 2, 1)),
        (" 29.2.2028 ", date(2028, 2, 29)),
    ],
)
def test_parse_date(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31.2.2026", "date 31.2.2026 does not exist"),
        ("2026-02-29", "date 2026-02-29 does not exist"),
        ("20261123", "date '20261123' is not in the form 23.11.2026 or 2026-11-23"),
        ("2026-W48-1", "date '2026-W48-1' is not in the form 23.11.2026 or 2026-11-23"),
        ("1.2.26", "date '1.2.26' is not in the form 23.11.2026 or 2026-11-23"),
        ("2026-11-23T10:00", "date '2026-11-23T10:00' is not in the form 23.11.2026 or 2026-11-23"),
        ("", "date '' is not in the form 23.11.2026 or 2026-11-23"),
    ],
)
def test_parse_date_refuses(text, message):
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        parse_date(text)


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 11, 23), "23.11.2026"),
        (date(2026, 2, 1), "1.2.2026"),
        (date(2027, 12, 6), "6.12.2027"),
    ],
)
def test_format_fi_date(day, text):
    assert format_fi_date(day) == text
    assert parse_date(text) == day


@pytest.mark.parametrize(("text", "month"), [("2026-11", (2026, 11)), ("2027-01", (2027, 1))])
def test_parse_month(text, month):
    assert parse_month(text) == month


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "month 2026-13 does not exist (the month must be 01–12)"),
        ("2026-00", "month 2026-00 does not exist (the month must be 01–12)"),
        ("11/2026", "month '11/2026' is not in the form 2026-11"),
        ("2026-1", "month '2026-1' is not in the form 2026-11"),
    ],
)
def test_parse_month_refuses(text, message):
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        parse_month(text)
