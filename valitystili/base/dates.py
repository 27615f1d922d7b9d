"""Dates at the edges: parsing what people type and printing dates the Finnish way.

Rules of this module:

- Input accepts exactly two forms: ISO ``2026-11-23`` (four-digit year, two-digit month and day)
  and Finnish ``23.11.2026`` with or without leading zeros (``1.2.2026``). Nothing else: no
  two-digit years (``1.2.26`` could be 1926 or 2026), no ISO week dates or ``20261123`` (which
  ``date.fromisoformat`` would accept), no times.
- A well-formed date that does not exist (``31.2.2026``) is refused with its own message.
- Every date a person or a file gives must lie in :data:`FIRST_DATE` … :data:`LAST_DATE`
  (1.1.2000–31.12.2100): nothing this service does happens outside those years, and a year like
  9999 would only overflow the date arithmetic further on. :func:`check_range` is the one test;
  :func:`parse_date` and :func:`parse_month` apply it, and so do the plan file's TOML dates.
- Months are written ``2026-11`` and returned as ``(year, month)``.
- Output for people is ``23.11.2026`` / ``1.2.2026`` (:func:`format_fi_date`); machines get
  ``date.isoformat()``.
"""

from __future__ import annotations

import re
from datetime import date

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _

# [0-9], not \d: \d also matches non-ASCII digits that int() would silently accept.
_ISO_RE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
_FI_RE = re.compile(r"(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\.(?P<year>[0-9]{4})")
_MONTH_RE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})")

#: The first and last day any date given to the service may be (see the module rules).
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2100, 12, 31)


def check_range(day: date, what: str = N_("date")) -> date:
    """``day`` if it lies in 1.1.2000–31.12.2100; else a ``ValidationError`` naming ``what``."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValidationError(
            _("{what} {day} is outside the years the service handles ({first}–{last})")
            .format(what=_(what), day=format_fi_date(day), first=format_fi_date(FIRST_DATE),
                    last=format_fi_date(LAST_DATE))
        )
    return day


def parse_date(text: str) -> date:
    """Parse ``2026-11-23``, ``23.11.2026`` or ``1.2.2026`` into a date."""
    stripped = text.strip()
    match = _ISO_RE.fullmatch(stripped) or _FI_RE.fullmatch(stripped)
    if match is None:
        raise ValidationError(
            _("date {date} is not in the form 23.11.2026 or 2026-11-23").format(date=repr(stripped))
        )
    try:
        day = date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise ValidationError(_("date {date} does not exist").format(date=stripped)) from None
    return check_range(day)


def format_fi_date(d: date) -> str:
    """Finnish form, ``23.11.2026``; day and month without leading zeros (``1.2.2026``)."""
    # No leading zeros: the Finnish writing norm (Kotus) and how Kela and banks print dates.
    return f"{d.day}.{d.month}.{d.year}"


def parse_month(text: str) -> tuple[int, int]:
    """Parse ``2026-11`` into ``(2026, 11)``."""
    stripped = text.strip()
    match = _MONTH_RE.fullmatch(stripped)
    if match is None:
        raise ValidationError(_("month {month} is not in the form 2026-11")
                              .format(month=repr(stripped)))
    year, month = int(match["year"]), int(match["month"])
    if not 1 <= month <= 12:
        raise ValidationError(_("month {month} does not exist (the month must be 01–12)")
                              .format(month=stripped))
    if not FIRST_DATE.year <= year <= LAST_DATE.year:
        raise ValidationError(_("month {month} is outside the years the service handles "
                                "({first}–{last})").format(month=stripped, first=FIRST_DATE.year,
                                                           last=LAST_DATE.year))
    return year, month
