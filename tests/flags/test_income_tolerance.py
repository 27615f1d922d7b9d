"""Each income's own amount tolerance (DESIGN §7, §12 ``tolerance``): the rule, and the
*income changed* flag judging by it, both backends."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import WORKED_EXAMPLE, client, plan, world
from oversight.test_reports_world import Money
from sqlalchemy import select

from valitystili.flags.conditions import refresh_flags
from valitystili.plans.expected import ToleranceDefaults, income_tolerance_cents
from valitystili.store.models import Flag

DEFAULTS = ToleranceDefaults(cents=500, percent=20)     # the settings' defaults


@pytest.mark.parametrize("expected, own_cents, own_percent, tolerance", [
    (56_000, None, None, 11_200),      # max(5,00, 20 % of 560,00)
    (2_000, None, None, 500),          # max(5,00, 4,00)
    (56_000, 500, None, 500),          # tolerance = "5.00"
    (56_000, None, 20, 11_200),        # tolerance = "20%"
    (38_050, None, 10, 3_805),
    (999, None, 10, 99),               # floored to cents
    (56_000, 0, None, 0),              # "0.00": the amount exactly
])
def test_an_income_s_tolerance(expected, own_cents, own_percent, tolerance):
    assert income_tolerance_cents(expected, own_cents, own_percent, DEFAULTS) == tolerance


def test_the_default_follows_the_settings():
    assert income_tolerance_cents(56_000, None, None, ToleranceDefaults(20_000, 20)) == 20_000
    assert income_tolerance_cents(56_000, None, None, ToleranceDefaults(500, 50)) == 28_000


def tolerance_plan(tolerance: str | None) -> str:
    if tolerance is None:
        return WORKED_EXAMPLE
    return WORKED_EXAMPLE.replace('amount = "560.00"\n',
                                  f'amount = "560.00"\ntolerance = "{tolerance}"\n', 1)


def changed(session):
    return [(f.subject, f.amount_cents, f.detail) for f in session.execute(
        select(Flag).where(Flag.kind == "income_changed", Flag.resolved_at.is_(None))
        .order_by(Flag.id)).scalars()]


def missing(session):
    return [f.subject for f in session.execute(
        select(Flag).where(Flag.kind == "income_missing", Flag.resolved_at.is_(None))
        .order_by(Flag.id)).scalars()]


@pytest.mark.parametrize("tolerance, received, flagged", [
    ("5.00", 56_600, True),           # 6,00 over its own 5,00
    ("5.00", 56_500, False),
    ("20%", 56_600, False),
    ("20%", 44_800, False),           # 112,00 under
    ("20%", 44_799, True),
    (None, 44_800, False),            # the default: 112,00 for 560,00
    (None, 44_799, True),
    (None, 67_201, True),
])
def test_income_changed_judges_by_the_income_s_own_tolerance(session, tolerance, received,
                                                             flagged):
    w = world(session)
    number = client(session, w)
    plan(session, w, number, tolerance_plan(tolerance))
    money = Money(session)
    money.credit(number, received, date(2026, 11, 2))
    money.credit(number, 38_000, date(2026, 11, 2))
    refresh_flags(session, date(2026, 11, 3))
    subject = f"income:{number}:basic_social_assistance:2026-11-01"
    euros = f"{received // 100},{received % 100:02d}\u00a0€"
    assert changed(session) == ([(subject, received,
                                  "basic_social_assistance from Kela expected 2026-11-02: "
                                  f"560,00\u00a0€ expected, {euros} received 2026-11-02")]
                                if flagged else [])
    assert missing(session) == []         # changed or not, the income came
