"""When expected incomes arrive: plan schedules shifted by Kela's payment-day rules."""

from __future__ import annotations

from datetime import date, timedelta

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar, income_day
from valitystili.base.schedules import occurrences

# A benefit scheduled a few days after a date may arrive before it (fixed-day benefits move to
# the preceding banking day), and one scheduled before may arrive after (first banking day).
SHIFT_DAYS = 7


def income_arrivals(kind: str, schedule: str, start: date, end: date,
                    calendar: BankingCalendar = CALENDAR) -> list[tuple[date, date]]:
    """(scheduled date, arrival banking day) for arrivals in [start, end], in order."""
    found = []
    for scheduled in occurrences(schedule, start - timedelta(days=SHIFT_DAYS),
                                 end + timedelta(days=SHIFT_DAYS)):
        arrival = income_day(kind, scheduled.year, scheduled.month, scheduled.day, calendar=calendar)
        if start <= arrival <= end:
            found.append((scheduled, arrival))
    return found
