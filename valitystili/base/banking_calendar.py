"""Finnish banking days, Kela payment days and rent due days.

Rules of this module:

- A **banking day** is a weekday (Monday–Friday) that is neither a Finnish public holiday as
  ``holidays.Finland`` lists it (with the pinned holidays 0.108 that includes Midsummer Eve and
  Christmas Eve, on which Finnish banks are closed although they are not statutory holidays) nor
  a TARGET closing day (``holidays.financial_holidays('XECB')``), nor an extra closed day given to
  the :class:`BankingCalendar`. New Year's Eve is a banking day: it is in neither list.
- Holiday sets are built once per year and cached on the calendar instance: the daily batch asks
  about the same few dates for thousands of clients.
- ``on_or_after``/``on_or_before`` include the date itself; ``next_banking_day`` and
  ``previous_banking_day`` never do.
- **Kela payment days** are configuration (:data:`KELA_RULES`), not code: housing allowance and
  basic social assistance paid on the 1st arrive on the first banking day **on or after** it;
  the later parts of split assistance (the 9th/16th/23rd) arrive, like every other benefit
  with a fixed day, on the last banking day **on or before** their day (Kela moves them
  earlier). The fixed days: pension support and pensioner's housing allowance the 4th,
  national pension and care allowances the 7th, guarantee pension the 22nd.
  Kinds not named in the rules follow the fixed-day rule.
- Some benefits have **no fixed day** (:attr:`KelaPaymentRules.unfixed_kinds`): unemployment
  benefits and the labour market subsidy are paid on a 4-week cycle after each application
  period, sickness and parental allowances for 25 weekdays at a time; their day
  in the plan is an expectation, not Kela's date. :func:`has_fixed_day` tells them apart (the
  batch counts them ``late_days`` banking days later).
- **Rent due days** (AHVL 34 § with the Act on the calculation of time limits 150/1930): a due
  date on a Saturday, Sunday or Finnish public holiday moves to the next weekday that is not a
  holiday. TARGET-only closing days and extra bank closures do not move a legal due date. The
  service still pays so the money is there by the original due date: :meth:`BankingCalendar.pay_by`
  is the last banking day on or before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import _

_DAY = timedelta(days=1)


class BankingCalendar:
    """Finnish banking days, optionally with extra days on which the bank is closed."""

    def __init__(self, extra_closed_days: Iterable[date] = ()) -> None:
        self._extra_closed = frozenset(extra_closed_days)
        # year -> dates; filled lazily so a calendar costs nothing until it is asked.
        self._public_holidays: dict[int, frozenset[date]] = {}
        self._closed: dict[int, frozenset[date]] = {}

    # --- what a day is ---------------------------------------------------------------------------

    def is_public_holiday(self, d: date) -> bool:
        """True on a Finnish public holiday (incl. Midsummer Eve and Christmas Eve)."""
        return d in self._public_holidays_of(d.year)

    def is_banking_day(self, d: date) -> bool:
        """True when Finnish banks execute payments on ``d``."""
        return d.weekday() < 5 and d not in self._closed_days_of(d.year)

    # --- moving to banking days -----------------------------------------------------------------

    def on_or_after(self, d: date) -> date:
        """``d`` if it is a banking day, else the first banking day after it."""
        while not self.is_banking_day(d):
            d += _DAY
        return d

    def on_or_before(self, d: date) -> date:
        """``d`` if it is a banking day, else the last banking day before it."""
        while not self.is_banking_day(d):
            d -= _DAY
        return d

    def next_banking_day(self, d: date) -> date:
        """The first banking day strictly after ``d``."""
        return self.on_or_after(d + _DAY)

    def previous_banking_day(self, d: date) -> date:
        """The last banking day strictly before ``d``."""
        return self.on_or_before(d - _DAY)

    def add_banking_days(self, d: date, n: int) -> date:
        """The ``n``-th banking day after ``d`` (before it when ``n`` < 0); 0 gives ``d`` itself."""
        step = self.next_banking_day if n > 0 else self.previous_banking_day
        for _step in range(abs(n)):
            d = step(d)
        return d

    def banking_days(self, start: date, end: date) -> list[date]:
        """Every banking day from ``start`` to ``end``, both included."""
        days: list[date] = []
        d = start
        while d <= end:
            if self.is_banking_day(d):
                days.append(d)
            d += _DAY
        return days

    def first_banking_day_of_month(self, year: int, month: int) -> date:
        """The first banking day of a month (the day Kela's monthly benefits arrive)."""
        return self.on_or_after(date(year, month, 1))

    # --- rent -------------------------------------------------------------------------------------

    def rent_due_day(self, due: date) -> date:
        """The legal due day: from a Saturday, Sunday or holiday to the next non-holiday weekday."""
        while due.weekday() >= 5 or self.is_public_holiday(due):
            due += _DAY
        return due

    def pay_by(self, due: date) -> date:
        """The last banking day on or before the (original) due date: the money is there in time."""
        return self.on_or_before(due)

    # --- cached holiday sets ---------------------------------------------------------------------

    def _public_holidays_of(self, year: int) -> frozenset[date]:
        cached = self._public_holidays.get(year)
        if cached is None:
            cached = frozenset(holidays.Finland(years=year))
            self._public_holidays[year] = cached
        return cached

    def _closed_days_of(self, year: int) -> frozenset[date]:
        cached = self._closed.get(year)
        if cached is None:
            target = holidays.financial_holidays("XECB", years=year)
            extra = {d for d in self._extra_closed if d.year == year}
            cached = self._public_holidays_of(year) | frozenset(target) | frozenset(extra)
            self._closed[year] = cached
        return cached


#: The calendar the service uses unless a test or a configuration gives another one.
CALENDAR = BankingCalendar()


# --- Kela payment days ---------------------------------------------------------------------------

#: Benefit kinds known to the rules (the ``kind`` of an ``[[income]]`` in a plan file).
HOUSING_ALLOWANCE = "housing_allowance"
BASIC_SOCIAL_ASSISTANCE = "basic_social_assistance"
UNEMPLOYMENT_BENEFIT = "unemployment_benefit"
LABOUR_MARKET_SUBSIDY = "labour_market_subsidy"
SICKNESS_ALLOWANCE = "sickness_allowance"


@dataclass(frozen=True)
class KelaPaymentRules:
    """When Kela's payments arrive: which kinds move forward, and each kind's usual day."""

    #: Kinds whose payment on ``forward_day`` (the 1st) comes on the first banking day on or
    #: after it; their other parts (basic social assistance split over the 9th, 16th, 23rd) and
    #: all other kinds come on the last banking day on or before their day.
    forward_kinds: frozenset[str] = frozenset({HOUSING_ALLOWANCE, BASIC_SOCIAL_ASSISTANCE})
    forward_day: int = 1
    #: The day of the month each kind is scheduled for when the plan does not say. Kinds without
    #: one Kela day (earnings-related ``pension``, survivors' pensions by surname, unemployment
    #: and sickness benefits on their own cycles) are left out: the plan must give the day.
    usual_days: dict[str, int] = field(
        default_factory=lambda: {
            HOUSING_ALLOWANCE: 1,
            BASIC_SOCIAL_ASSISTANCE: 1,
            "pension_support": 4,
            "pensioners_housing_allowance": 4,
            "national_pension": 7,
            "care_allowance": 7,
            "guarantee_pension": 22,
        }
    )
    #: Kinds paid on a cycle of their own, not on a day of the month: the day the plan gives
    #: is when they are expected, and they may come a few banking days later.
    unfixed_kinds: frozenset[str] = frozenset({
        UNEMPLOYMENT_BENEFIT, "basic_unemployment_allowance", "earnings_related_allowance",
        LABOUR_MARKET_SUBSIDY, SICKNESS_ALLOWANCE, "parental_allowance",
        "rehabilitation_allowance",
    })


KELA_RULES = KelaPaymentRules()


def income_day(
    kind: str,
    year: int,
    month: int,
    scheduled_day: int | None = None,
    *,
    calendar: BankingCalendar = CALENDAR,
    rules: KelaPaymentRules = KELA_RULES,
) -> date:
    """The banking day a Kela payment of ``kind`` scheduled for ``scheduled_day`` arrives.

    Without ``scheduled_day`` the kind's usual day from ``rules`` is used.
    """
    if scheduled_day is None:
        try:
            scheduled_day = rules.usual_days[kind]
        except KeyError:
            raise ValidationError(
                _("income kind {kind} has no usual payment day; give the day of the month")
                .format(kind=repr(kind))
            ) from None
    try:
        scheduled = date(year, month, scheduled_day)
    except ValueError:
        raise ValidationError(
            _("payment day {day} does not exist in {month}")
            .format(day=scheduled_day, month=f"{year}-{month:02d}")
        ) from None
    if kind in rules.forward_kinds and scheduled_day == rules.forward_day:
        return calendar.on_or_after(scheduled)
    return calendar.on_or_before(scheduled)


def has_fixed_day(kind: str, rules: KelaPaymentRules = KELA_RULES) -> bool:
    """False for a benefit paid on its own cycle (4-week or 25-day), whose day may slip."""
    return kind not in rules.unfixed_kinds


def rent_due_day(due: date, calendar: BankingCalendar = CALENDAR) -> date:
    """The legal due day of rent due on ``due`` (see :meth:`BankingCalendar.rent_due_day`)."""
    return calendar.rent_due_day(due)


def pay_by(due: date, calendar: BankingCalendar = CALENDAR) -> date:
    """The last banking day on or before ``due`` (see :meth:`BankingCalendar.pay_by`)."""
    return calendar.pay_by(due)
