"""The plan checks that need no projection (DESIGN §5, §6).

Whether a plan adds up is the plan check's (``oversight.plan_check``): it runs the batch's own
decision forward over the plan's months, which this layer cannot call. What stays here reads
the plan and the calendar alone.

It warns, without blocking, when Kela's direct part is over half the rent: then the
service may not be needed (seed 002's exclusion: people whose housing costs Kela can pay
straight to the landlord).

It warns too, without blocking, when a rent would be paid after its legal due date only
because its money is seen a day late (DESIGN §6, "When the money becomes visible"): Kela's
credits carry no reference of ours, so without an intraday report (camt.052 or FinTS, setting
``intraday_statements``) the batch sees the money that arrives on a rent's pay day only the
next morning, and pays the rent on the next banking day. ``late_rent_warnings`` names each rent
of the twelve months from the plan's effective date whose pay day is an arrival day of one of
the plan's expected incomes and whose next banking day is after its legal due date. The days
are the rent ledger's own (``due.obligation_days``, ``expected.income_arrivals``).

Both read plain values, so they serve the parsed file (``plan set``) and the stored rows
(``plan approve``) alike. Their lines are ``base.i18n.Message``: English in JSON and where stored,
in the person's language where shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.i18n import Message
from valitystili.base.money import format_fi
from valitystili.base.schedules import occurrences
from valitystili.plans.due import obligation_days
from valitystili.plans.expected import income_arrivals

#: How many months from a plan's effective date its checks look at (here and in the plan check).
MONTHS_LOOKED_AT = 12


def _last_day_looked_at(start: date) -> date:
    return start + relativedelta(months=MONTHS_LOOKED_AT) - timedelta(days=1)


def direct_part_warnings(items: Iterable[tuple[int, str, int | None, int]]) -> list[Message]:
    """Rent items whose direct part is over half the rent; ``items`` are (position, kind,
    amount, Kela's direct part)."""
    return [Message("pay {position}: Kela pays {direct} of the rent {rent} directly, over half "
                    "of it; the service may not be needed", position=position,
                    direct=format_fi(direct), rent=format_fi(cents))
            for position, kind, cents, direct in items
            if kind == "rent" and cents and direct * 2 > cents]


def late_rent_warnings(start: date, rents: Iterable[tuple[str, str]],
                       incomes: Iterable[tuple[str, str]], *, intraday: bool,
                       calendar: BankingCalendar = CALENDAR) -> list[Message]:
    """Rents paid after their legal due date for want of an intraday report (see the module
    docstring), one line each; none when ``intraday`` (the setting ``intraday_statements``).

    ``rents`` are (name, schedule) of the rent items this account pays, ``incomes`` the plan's
    expected incomes as (kind, schedule)."""
    if intraday:
        return []
    incomes = tuple(sorted(incomes))
    warnings = []
    for name, schedule in rents:
        for agreed_on in occurrences(schedule, start, _last_day_looked_at(start)):
            due_on, pay_on = obligation_days(agreed_on, incomes, calendar)
            if not any(income_arrivals(kind, rule, pay_on, pay_on, calendar)
                       for kind, rule in incomes):
                continue
            paid_on = calendar.next_banking_day(pay_on)
            if paid_on > due_on:
                warnings.append(Message(
                    "{item} {month}: its money arrives {arrives} and is seen the next morning "
                    "without an intraday statement; it is paid {paid}, after its legal due "
                    "date {due} (setting intraday_statements)", item=name,
                    month=f"{agreed_on.month}/{agreed_on.year}", arrives=format_fi_date(pay_on),
                    paid=format_fi_date(paid_on), due=format_fi_date(due_on)))
    return warnings
