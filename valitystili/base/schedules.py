"""Schedules from plan files: RFC 5545 recurrence rules evaluated as calendar dates.

Rules of this module:

- A schedule is one RRULE as python-dateutil's ``rrulestr`` reads it, e.g.
  ``FREQ=MONTHLY;BYMONTHDAY=2`` or ``FREQ=WEEKLY;BYDAY=MO`` (an ``RRULE:`` prefix is fine),
  optionally preceded by a date-only ``DTSTART:20260105`` line. Refused, with a message naming the
  problem: no ``FREQ``; ``FREQ`` finer than ``DAILY`` or ``BYHOUR``/``BYMINUTE``/``BYSECOND``
  (schedules are whole days); a ``DTSTART`` or ``UNTIL`` with a time or time zone;
  ``EXDATE``/``RDATE``/several rules; ``COUNT`` without ``DTSTART`` (a count needs a known first
  day); a rule that never occurs (``BYMONTHDAY=32``); anything ``rrulestr`` itself rejects.
- **Anchor.** Without ``DTSTART`` every rule starts at :data:`ANCHOR`, Monday 1 January 2001, and
  never at the queried window's start. A fixed anchor keeps answers independent of the window:
  ``FREQ=WEEKLY;INTERVAL=2;BYDAY=MO`` is the same every-other-Monday whichever dates are asked
  about, and the values RFC 5545 takes from the start when the rule leaves them out are fixed too:
  ``FREQ=WEEKLY`` alone means Mondays, ``FREQ=MONTHLY`` alone the 1st, ``FREQ=YEARLY`` alone
  1 January. Nothing occurs before the anchor (or before ``DTSTART``).
- Days that do not exist are **skipped**, as RFC 5545 and dateutil do: ``BYMONTHDAY=31`` occurs only
  in months with 31 days and ``BYMONTHDAY=29;BYMONTH=2`` only in leap years. For "the last day of
  the month" write ``BYMONTHDAY=-1``. Banking-day shifts are not applied here; that is the
  calendar's job.
- :func:`occurrences` includes both ends of its window; :func:`next_occurrence` is strictly after
  its date unless ``inclusive=True``.
- Parsed rules and computed windows are cached: the daily batch asks the same few rules about the
  same few windows for every client.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache

from dateutil.rrule import rrule, rrulestr

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import _

#: Where a rule without ``DTSTART`` starts: a Monday that is also the 1st of January (see above).
ANCHOR = date(2001, 1, 1)

_FREQ_RE = re.compile(r"(?:^|[;:\s])FREQ=([A-Z]*)", re.IGNORECASE)
_SUB_DAY_PART_RE = re.compile(r"(?:^|[;:\s])(BYHOUR|BYMINUTE|BYSECOND)=", re.IGNORECASE)
_UNTIL_WITH_TIME_RE = re.compile(r"(?:^|[;:\s])UNTIL=[0-9]{8}T", re.IGNORECASE)
_COUNT_RE = re.compile(r"(?:^|[;:\s])COUNT=", re.IGNORECASE)
_DTSTART_RE = re.compile(r"^DTSTART(?P<rest>[;:].*)$", re.IGNORECASE | re.MULTILINE)
_DTSTART_DATE_RE = re.compile(r"(?:;VALUE=DATE)?:[0-9]{8}", re.IGNORECASE)
_FINER_THAN_DAILY = {"HOURLY", "MINUTELY", "SECONDLY"}


@lru_cache(maxsize=1024)
def parse_rule(text: str) -> rrule:
    """Check a schedule and return the dateutil rule (anchored; see the module rules).

    The returned rule is shared through the cache: do not change it.
    """
    rule_text = text.strip()
    if not rule_text:
        raise ValidationError(_("schedule is empty (e.g. FREQ=MONTHLY;BYMONTHDAY=2)"))
    freq = _FREQ_RE.search(rule_text)
    if freq is None:
        raise ValidationError(
            _("schedule {rule} has no FREQ (e.g. FREQ=MONTHLY;BYMONTHDAY=2)")
            .format(rule=repr(rule_text))
        )
    if freq[1].upper() in _FINER_THAN_DAILY:
        raise ValidationError(
            _("schedule {rule} repeats more often than daily (FREQ={freq}); schedules are in "
              "whole days").format(rule=repr(rule_text), freq=freq[1].upper())
        )
    sub_day = _SUB_DAY_PART_RE.search(rule_text)
    if sub_day is not None:
        raise ValidationError(
            _("schedule {rule} uses {part}; schedules are in whole days")
            .format(rule=repr(rule_text), part=sub_day[1].upper())
        )
    dtstart = _DTSTART_RE.search(rule_text)
    if dtstart is not None and not _DTSTART_DATE_RE.fullmatch(dtstart["rest"].strip()):
        raise ValidationError(
            _("schedule {rule} has a DTSTART with a time or time zone; give a date only "
              "(DTSTART:20260105)").format(rule=repr(rule_text))
        )
    if _UNTIL_WITH_TIME_RE.search(rule_text):
        raise ValidationError(
            _("schedule {rule} has an UNTIL with a time; give a date only (UNTIL=20261231)")
            .format(rule=repr(rule_text))
        )
    if dtstart is None and _COUNT_RE.search(rule_text):
        raise ValidationError(
            _("schedule {rule} has COUNT but no DTSTART to count from").format(rule=repr(rule_text))
        )
    try:
        # cache=True: the rule remembers the dates it has generated, so asking about 2026 does
        # not walk again from 2001 on every call.
        rule = rrulestr(rule_text, dtstart=datetime.combine(ANCHOR, time.min), cache=True)
    except (ValueError, TypeError) as error:
        raise ValidationError(
            _("schedule {rule} is not a valid RFC 5545 rule ({error})")
            .format(rule=repr(rule_text), error=error)
        ) from None
    if not isinstance(rule, rrule):
        raise ValidationError(
            _("schedule {rule} must be a single RRULE (no EXDATE, RDATE or second rule)")
            .format(rule=repr(rule_text))
        )
    if next(iter(rule), None) is None:
        raise ValidationError(_("schedule {rule} never occurs").format(rule=repr(rule_text)))
    return rule


def occurrences(rule_text: str, start: date, end: date) -> list[date]:
    """The dates the schedule falls on from ``start`` to ``end``, both included."""
    return list(_occurrences(rule_text, start, end))


def next_occurrence(rule_text: str, after: date, *, inclusive: bool = False) -> date | None:
    """The first date the schedule falls on after ``after`` (or on it, when ``inclusive``)."""
    rule = parse_rule(rule_text)
    if inclusive:
        found = rule.after(datetime.combine(after, time.min), inc=True)
    else:
        found = rule.after(datetime.combine(after, time.max))
    return None if found is None else found.date()


@lru_cache(maxsize=4096)
def _occurrences(rule_text: str, start: date, end: date) -> tuple[date, ...]:
    # A tuple so the cached value cannot be changed by a caller.
    rule = parse_rule(rule_text)
    found = rule.between(
        datetime.combine(start, time.min), datetime.combine(end, time.max), inc=True
    )
    return tuple(occurrence.date() for occurrence in found)
