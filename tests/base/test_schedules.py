"""Plan-file schedules: RFC 5545 rules give the same dates whatever window is asked about."""

from __future__ import annotations

import re
from datetime import date

import pytest

from valitystili.base.errors import ValidationError
from valitystili.base.schedules import ANCHOR, next_occurrence, occurrences, parse_rule

NOVEMBER_2026 = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.mark.parametrize(
    ("rule", "start", "end", "dates"),
    [
        ("FREQ=MONTHLY;BYMONTHDAY=2", "2026-11-01", "2027-02-28",
         ["2026-11-02", "2026-12-02", "2027-01-02", "2027-02-02"]),
        # DESIGN §6: instalments on the Mondays of November 2026.
        ("FREQ=WEEKLY;BYDAY=MO", "2026-11-01", "2026-11-30",
         ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]),
        # The window starts on a Wednesday: still Mondays.
        ("FREQ=WEEKLY;BYDAY=MO", "2026-11-04", "2026-11-17", ["2026-11-09", "2026-11-16"]),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "2026-11-01", "2026-11-30", ["2026-11-15"]),
        # Both ends are included.
        ("FREQ=MONTHLY;BYMONTHDAY=2", "2026-11-02", "2026-12-02", ["2026-11-02", "2026-12-02"]),
        ("FREQ=MONTHLY;BYMONTHDAY=2", "2026-11-03", "2026-12-01", []),
        ("FREQ=MONTHLY;BYMONTHDAY=2", "2026-12-01", "2026-11-01", []),  # empty window
        # Day 31 is skipped in months without one, as RFC 5545 says; -1 is the last day.
        ("FREQ=MONTHLY;BYMONTHDAY=31", "2026-11-01", "2027-03-31",
         ["2026-12-31", "2027-01-31", "2027-03-31"]),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-11-01", "2027-02-28",
         ["2026-11-30", "2026-12-31", "2027-01-31", "2027-02-28"]),
        # Assistance split in two.
        ("FREQ=MONTHLY;BYMONTHDAY=1,16", "2026-11-01", "2026-11-30", ["2026-11-01", "2026-11-16"]),
        # Values the rule leaves out come from the fixed anchor, Monday 1.1.2001.
        ("FREQ=WEEKLY", "2026-11-04", "2026-11-17", ["2026-11-09", "2026-11-16"]),
        ("FREQ=MONTHLY", "2026-11-02", "2027-01-31", ["2026-12-01", "2027-01-01"]),
        ("FREQ=YEARLY", "2026-01-02", "2027-12-31", ["2027-01-01"]),
        ("FREQ=DAILY", "2026-12-30", "2027-01-02",
         ["2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02"]),
        ("FREQ=DAILY", "2000-12-30", "2001-01-02", ["2001-01-01", "2001-01-02"]),
        # Every other Monday counted from the anchor, not from the window.
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "2026-11-01", "2026-11-30",
         ["2026-11-02", "2026-11-16", "2026-11-30"]),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "2026-11-09", "2026-11-30",
         ["2026-11-16", "2026-11-30"]),
        # With a DTSTART the rule counts from it, and nothing happens before it.
        ("DTSTART:20261109\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "2026-11-01", "2026-11-30",
         ["2026-11-09", "2026-11-23"]),
        ("DTSTART:20261109\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2", "2026-11-01", "2026-11-30",
         ["2026-11-09", "2026-11-16"]),
        ("FREQ=MONTHLY;BYMONTHDAY=2;UNTIL=20261231", "2026-11-01", "2027-02-28",
         ["2026-11-02", "2026-12-02"]),
        ("RRULE:FREQ=WEEKLY;BYDAY=FR", "2026-11-01", "2026-11-14", ["2026-11-06", "2026-11-13"]),
        ("freq=weekly;byday=fr", "2026-11-01", "2026-11-14", ["2026-11-06", "2026-11-13"]),
    ],
)
def test_occurrences(rule, start, end, dates):
    found = occurrences(rule, date.fromisoformat(start), date.fromisoformat(end))
    assert found == [date.fromisoformat(d) for d in dates]


def test_anchor_is_a_monday_and_a_first_of_january():
    assert ANCHOR == date(2001, 1, 1)
    assert ANCHOR.weekday() == 0


def test_occurrences_do_not_depend_on_the_window():
    rule = "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU"
    whole = occurrences(rule, date(2026, 1, 1), date(2026, 12, 31))
    for start in (date(2026, 2, 1), date(2026, 3, 5), date(2026, 7, 14)):
        assert occurrences(rule, start, date(2026, 12, 31)) == [d for d in whole if d >= start]


def test_returned_lists_are_the_callers_own():
    first = occurrences("FREQ=MONTHLY;BYMONTHDAY=2", *NOVEMBER_2026)
    first.append(date(1999, 1, 1))
    assert occurrences("FREQ=MONTHLY;BYMONTHDAY=2", *NOVEMBER_2026) == [date(2026, 11, 2)]


@pytest.mark.parametrize(
    ("rule", "after", "inclusive", "found"),
    [
        ("FREQ=MONTHLY;BYMONTHDAY=1", date(2026, 11, 2), False, date(2026, 12, 1)),
        ("FREQ=MONTHLY;BYMONTHDAY=1", date(2026, 12, 1), False, date(2027, 1, 1)),  # strictly after
        ("FREQ=MONTHLY;BYMONTHDAY=1", date(2026, 12, 1), True, date(2026, 12, 1)),
        ("FREQ=WEEKLY;BYDAY=MO", date(2026, 11, 2), False, date(2026, 11, 9)),
        ("FREQ=MONTHLY;BYMONTHDAY=31", date(2027, 1, 31), False, date(2027, 3, 31)),
        ("FREQ=MONTHLY;BYMONTHDAY=2;UNTIL=20261231", date(2026, 12, 2), False, None),
        ("FREQ=MONTHLY;BYMONTHDAY=2", date(1990, 5, 5), False, date(2001, 1, 2)),  # anchor
    ],
)
def test_next_occurrence(rule, after, inclusive, found):
    assert next_occurrence(rule, after, inclusive=inclusive) == found


WHOLE_DAYS = "schedules are in whole days"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("BYMONTHDAY=2", "has no FREQ (e.g. FREQ=MONTHLY;BYMONTHDAY=2)"),
        ("every month", "has no FREQ (e.g. FREQ=MONTHLY;BYMONTHDAY=2)"),
        ("FREQ=HOURLY", f"repeats more often than daily (FREQ=HOURLY); {WHOLE_DAYS}"),
        ("freq=minutely", f"repeats more often than daily (FREQ=MINUTELY); {WHOLE_DAYS}"),
        ("FREQ=SECONDLY", f"repeats more often than daily (FREQ=SECONDLY); {WHOLE_DAYS}"),
        ("FREQ=DAILY;BYHOUR=9,17", f"uses BYHOUR; {WHOLE_DAYS}"),
        ("FREQ=FORTNIGHTLY", "is not a valid RFC 5545 rule (invalid 'FREQ': FORTNIGHTLY)"),
        ("FREQ=WEEKLY;BYDAY=MA", "is not a valid RFC 5545 rule (invalid 'BYDAY': MA)"),
        ("FREQ=MONTHLY;DAY=2", "is not a valid RFC 5545 rule (unknown parameter 'DAY')"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "never occurs"),
        ("FREQ=MONTHLY;BYMONTHDAY=2;UNTIL=19991231", "never occurs"),
        ("FREQ=MONTHLY;BYMONTHDAY=2;COUNT=3", "has COUNT but no DTSTART to count from"),
        ("FREQ=MONTHLY;UNTIL=20261231T000000Z",
         "has an UNTIL with a time; give a date only (UNTIL=20261231)"),
        ("DTSTART:20260105T120000Z\nRRULE:FREQ=DAILY",
         "has a DTSTART with a time or time zone; give a date only (DTSTART:20260105)"),
        ("FREQ=MONTHLY;BYMONTHDAY=2\nEXDATE:20261202",
         "must be a single RRULE (no EXDATE, RDATE or second rule)"),
    ],
)
def test_bad_rules_are_refused(rule, problem):
    # repr keeps a multi-line rule on the message's one line.
    message = f"schedule {rule!r} {problem}"
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        parse_rule(rule)


def test_empty_rule_is_refused():
    with pytest.raises(
        ValidationError, match=re.escape("schedule is empty (e.g. FREQ=MONTHLY;BYMONTHDAY=2)")
    ):
        parse_rule("  ")


def test_bad_rule_is_refused_by_occurrences_too():
    with pytest.raises(ValidationError, match="has no FREQ"):
        occurrences("BYDAY=MO", *NOVEMBER_2026)


def test_parsed_rules_are_cached():
    assert parse_rule("FREQ=MONTHLY;BYMONTHDAY=9") is parse_rule("FREQ=MONTHLY;BYMONTHDAY=9")
