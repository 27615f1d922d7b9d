"""``plan approve`` warns of rents paid after their legal due date for want of an intraday
report (DESIGN §6 "When the money becomes visible"; setting ``intraday_statements``).

Worked example 1's client, effective 1.11.2026: rent agreed for the 2nd, basic social
assistance and housing allowance scheduled for the 1st and paid on the first banking day on or
after it. When the 1st is a banking day the money is on the account a day before the rent's
pay day. When the 1st is closed the money arrives on the first banking day after it, which is
also the rent's legal due date (the 2nd, or the first banking day after it when the 2nd is
closed too) and its pay day; seen only the next morning, the rent is paid a banking day late.
From 11/2026 to 10/2027 the 1st is closed in four months:

- 1.11.2026 Sunday: money and due date Monday 2.11., paid Tuesday 3.11.
- 1.1.2027 New Year's Day (Friday), 2.–3.1. a weekend: Monday 4.1., paid Tuesday 5.1.
- 1.5.2027 Saturday (May Day), 2.5. Sunday: Monday 3.5., paid Tuesday 4.5.
- 1.8.2027 Sunday: Monday 2.8., paid Tuesday 3.8.

Every other 1st (1.12. Tue, 1.2. Mon, 1.3. Mon, 1.4. Thu, 1.6. Tue, 1.7. Thu, 1.9. Wed,
1.10. Fri) is a banking day.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import AS_WRITTEN, WORKED_EXAMPLE, client, plan, world

from valitystili.oversight import plan_check
from valitystili.plans.check import late_rent_warnings
from valitystili.trust import configuration


def late_line(month: str, arrives: str, paid: str) -> str:
    """The warning for a rent whose money arrives on its legal due date."""
    return (f"rent {month}: its money arrives {arrives} and is seen the next morning without an "
            f"intraday statement; it is paid {paid}, after its legal due date {arrives} "
            "(setting intraday_statements)")


EXPECTED = [
    late_line("11/2026", "2.11.2026", "3.11.2026"),
    late_line("1/2027", "4.1.2027", "5.1.2027"),
    late_line("5/2027", "3.5.2027", "4.5.2027"),
    late_line("8/2027", "2.8.2027", "3.8.2027"),
]
KELA_ON_THE_1ST = [("basic_social_assistance", "FREQ=MONTHLY;BYMONTHDAY=1"),
                   ("housing_allowance", "FREQ=MONTHLY;BYMONTHDAY=1")]


def approve(session, *, intraday: str | None = None):
    w = world(session)
    if intraday is not None:
        configuration.put(session, w.admin, "intraday_statements", intraday)
    number = client(session, w)
    plan(session, w, number, WORKED_EXAMPLE, approve=False)
    return plan_check.approve_plan(session, w.hannu, str(number), despite=AS_WRITTEN)


def test_worked_example_1_warns_for_the_months_whose_1st_is_closed(session):
    approved = approve(session)
    assert approved["warnings"] == EXPECTED
    assert approved["approved_by"] == "hannu"        # a warning does not block


@pytest.mark.parametrize("intraday", ["true", "false"])
def test_an_intraday_report_before_each_batch_leaves_nothing_to_warn_of(session, intraday):
    assert approve(session, intraday=intraday)["warnings"] == (
        [] if intraday == "true" else EXPECTED)


@pytest.mark.parametrize(("rent", "incomes", "count", "first"), [
    # Rent agreed for the 5th: the money of the 1st is there days before, whatever the month.
    ("FREQ=MONTHLY;BYMONTHDAY=5", KELA_ON_THE_1ST, 0, []),
    # Rent agreed for the 1st, the day the money is scheduled: every month the money arrives
    # on the rent's pay day, which is also its legal due date.
    ("FREQ=MONTHLY;BYMONTHDAY=1", KELA_ON_THE_1ST[:1], 12,
     [late_line("11/2026", "2.11.2026", "3.11.2026"), late_line("12/2026", "1.12.2026", "2.12.2026"),
      late_line("1/2027", "4.1.2027", "5.1.2027")]),
    # No expected income: nothing arrives on a pay day.
    ("FREQ=MONTHLY;BYMONTHDAY=2", [], 0, []),
], ids=["rent-on-the-5th", "rent-on-the-1st", "no-income"])
def test_only_a_pay_day_that_is_an_arrival_day_and_the_due_date_warns(rent, incomes, count,
                                                                        first):
    warnings = late_rent_warnings(date(2026, 11, 1), [("rent", rent)], incomes, intraday=False)
    assert (len(warnings), warnings[:3]) == (count, first)
    assert late_rent_warnings(date(2026, 11, 1), [("rent", rent)], incomes, intraday=True) == []


def test_plan_approve_prints_the_warnings_and_approves(cli, session_factory):
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w)
        plan(session, w, number, WORKED_EXAMPLE, approve=False)
    result = cli("--format", "json", "plan", "approve", str(number), "--despite", AS_WRITTEN,
                 user="hannu")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "".join(f"valitystili: warning: {line}\n" for line in EXPECTED)
    assert json.loads(result.stdout)["warnings"] == EXPECTED
