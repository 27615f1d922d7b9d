"""When expected incomes arrive: plan schedules shifted by Kela's payment-day rules."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

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


def next_arrival(incomes, after: date, calendar: BankingCalendar = CALENDAR,
                 horizon_days: int = 70) -> date | None:
    """First arrival strictly after ``after`` among (kind, schedule) pairs."""
    return _next_arrival(tuple(sorted(incomes)), after, calendar, horizon_days)


@lru_cache(maxsize=4096)
def _next_arrival(incomes: tuple[tuple[str, str], ...], after: date, calendar: BankingCalendar,
                  horizon_days: int) -> date | None:
    # Cached: clients share a few income schedules, and the batch asks for each client.
    best = None
    for kind, schedule in incomes:
        for _scheduled, arrival in income_arrivals(kind, schedule, after + timedelta(days=1),
                                                   after + timedelta(days=horizon_days), calendar):
            if best is None or arrival < best:
                best = arrival
            break
    return best
