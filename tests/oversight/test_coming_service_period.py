"""The letter's coming payments keep to the service period (DESIGN §5), as the batch does: they
stop at a fixed term's last day with the final payout, and the first month pays nothing the
service does not hold. Each case is then run through the stored pipeline (``helpers.months``),
and the batch pays exactly what the letter promised.
"""

from __future__ import annotations

from datetime import date

import pytest
from helpers import scenario
from helpers.months import Months
from helpers.scenario import MONTHLY, UTILITY, pay_text, plan_text

from valitystili.oversight import letters

W = scenario.world_actors()
D = date

#: Basic social assistance in two parts of 310,00 (the 1st and the 16th), rent 520,00 on the 2nd.
SPLIT = plan_text(("basic_social_assistance", "310.00", MONTHLY + "1,16"))

#: Worked example 1's client (560,00 + 380,00 on the 1st, rent 520,00, electricity 45,00 on the
#: 15th, instalments every Monday, even split).
EXAMPLE_1 = scenario.WORKED_EXAMPLE

#: A fixed term ending Friday 15.1.2027, run from 3.12.2026 (split assistance: tests/payments/
#: test_months.py's December) or 1.12.2026 (example 1: December's money all paid out by 28.12.).
#: Split: December's second part (16.12.) keeps 210,00 for January's rent, which the first part
#: (1.1. a holiday, 2.-3.1. a weekend: Monday 4.1.) completes. Nothing is owed after that (no
#: rent after the last day), so the Mondays 4.1. and 11.1. get nothing and the second part,
#: scheduled for Saturday 16.1. and so arriving on the last day, is the final payout: 310,00.
#: Example 1: 4.1. brings 940,00, pays the rent and keeps 45,00 for the electricity of 15.1.;
#: the Mondays to the last day are 4.1. and 11.1. (the last instalment day: it takes the
#: remainder), 375,00 / 2 = 187,50 each; nothing is left for a final payout.
FIXED_TERM = [
    pytest.param(SPLIT, D(2026, 12, 3),
                 [(D(2027, 1, 4), "rent", 52000), (D(2027, 1, 15), "final", 31000)],
                 id="split assistance: the final payout"),
    pytest.param(EXAMPLE_1, D(2026, 12, 1),
                 [(D(2027, 1, 4), "rent", 52000), (D(2027, 1, 4), "instalment", 18750),
                  (D(2027, 1, 11), "instalment", 18750), (D(2027, 1, 15), "electricity", 4500)],
                 id="worked example 1: the last instalment takes the remainder"),
]


def coming(session, number: int, year: int, month: int) -> list[tuple[date, str, int]]:
    with session.begin():
        letter = letters.client_statement(session, W.hannu, str(number), year, month)
    return [(line.on, line.kind, line.amount_cents) for line in letter.coming]


@pytest.mark.parametrize("plan, start, expected", FIXED_TERM)
def test_a_fixed_term_letter_stops_at_the_last_day_with_the_final_payout(
        session, tmp_path, plan, start, expected):
    run = Months(session, tmp_path, plan, start, until_on=D(2027, 1, 15))
    run.through(D(2026, 12, 31))
    promised = coming(session, run.number, 2026, 12)
    assert promised == expected
    # The batch then pays exactly that, to the last day.
    assert [order.row for order in run.through(D(2027, 1, 15))] == expected


#: Pension 776,19 on the 7th, rent 520,00 on the 2nd, electricity 45,00 on the 19th, service
#: from 1.6.2026: June's rent (pay day 2.6.) comes before the first pension (Friday 5.6.) and is
#: the client's own, so June pays no rent; the pension keeps 565,00 for the electricity
#: (Midsummer Eve 19.6.: paid Thursday 18.6.) and July's rent and splits 211,19 over the Mondays
#: to the next pension (tests/payments/test_months.py, PENSION_ON_7TH).
PENSION = plan_text(("national_pension", "776.19", MONTHLY + "7"),
                    items=pay_text("electricity", "45.00", MONTHLY + "19", payee=UTILITY,
                                   reference="RF18539007547034"))
JUNE = [(D(2026, 6, 8), "instalment", 4223), (D(2026, 6, 15), "instalment", 4224),
        (D(2026, 6, 18), "electricity", 4500), (D(2026, 6, 22), "instalment", 4224),
        (D(2026, 6, 29), "instalment", 4224)]


def test_the_first_month_promises_no_rent_from_before_the_first_income(session, tmp_path):
    run = Months(session, tmp_path, PENSION, D(2026, 6, 1))
    assert coming(session, run.number, 2026, 5) == JUNE
    assert [order.row for order in run.through(D(2026, 6, 30))] == JUNE
