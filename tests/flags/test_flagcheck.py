"""The nightly flag refresh, both backends: each kind appears when its condition starts, says
what it is about, and resolves itself when the condition clears; acknowledgements are kept."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import HETU_2, WORKED_EXAMPLE, client, plan, world
from sqlalchemy import select
from oversight.test_reports_world import Money

from valitystili.flags import raising as flags
from valitystili.flags.conditions import REFRESHED_KINDS, refresh_flags
from valitystili.people import clients
from valitystili.store.models import Flag, Lease

D = date


def open_flags(session, kind):
    return [(f.subject, f.client_id, f.amount_cents, f.detail, f.first_seen, f.last_seen)
            for f in session.execute(select(Flag).where(
                Flag.kind == kind, Flag.resolved_at.is_(None)).order_by(Flag.id)).scalars()]


def resolved_on(session, kind, subject):
    return session.execute(select(Flag.resolved_at).where(
        Flag.kind == kind, Flag.subject == subject)).scalar_one()


@pytest.fixture
def setup(session_factory):
    """Maija (client 1, opened 1.10.2026) with the worked-example plan from 1.11.2026
    (review 1.2.2027; Kela 560,00 + 380,00 on the 1st; rent, electricity, even instalments)."""
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w)
        plan(session, w, number, WORKED_EXAMPLE)
    return w


def test_the_refresh_reports_every_kind(session, setup):
    summary = refresh_flags(session, D(2026, 11, 2))
    assert list(summary) == list(REFRESHED_KINDS)
    assert all(counts == {"open": 0, "resolved": 0} for counts in summary.values())


def test_review_due_then_overdue_then_resolved_by_a_new_plan(session, setup):
    assert refresh_flags(session, D(2027, 1, 17))["review_due"]["open"] == 0
    refresh_flags(session, D(2027, 1, 18))                    # 1.2.2027 is 14 days away
    assert open_flags(session, "review_due") == [
        ("review:1:2027-02-01", 1, None, "review due 2027-02-01, 14 days left",
         D(2027, 1, 18), D(2027, 1, 18))]
    refresh_flags(session, D(2027, 2, 2))
    assert open_flags(session, "review_due") == []
    assert open_flags(session, "review_overdue") == [
        ("review:1:2027-02-01", 1, None, "review was due 2027-02-01, 1 days ago",
         D(2027, 2, 2), D(2027, 2, 2))]
    # The review is done: the social worker writes a new plan version with the next review.
    plan(session, setup, 1, WORKED_EXAMPLE.replace("review = 2027-02-01", "review = 2027-08-01"),
         effective_on=D(2027, 3, 1), approve=False, today=D(2027, 2, 3))
    summary = refresh_flags(session, D(2027, 2, 3))
    assert summary["review_overdue"] == {"open": 0, "resolved": 1}
    assert resolved_on(session, "review_overdue", "review:1:2027-02-01") == D(2027, 2, 3)


def test_review_date_given_at_opening_counts_until_a_plan_gives_one(session, setup):
    second = client(session, setup, hetu=HETU_2, name="Pekka Puupää", review_on=D(2026, 11, 20),
                    today=D(2026, 10, 1))
    refresh_flags(session, D(2026, 11, 6))
    assert open_flags(session, "review_due") == [
        (f"review:{second}:2026-11-20", second, None, "review due 2026-11-20, 14 days left",
         D(2026, 11, 6), D(2026, 11, 6))]


def test_fixed_term_ending_appears_30_days_before_and_resolves_when_closed(session, setup):
    number = client(session, setup, hetu=HETU_2, name="Pekka Puupää",
                    criterion="rent_debt_fixed_term", until_on=D(2027, 1, 31))
    refresh_flags(session, D(2026, 12, 31))
    assert open_flags(session, "fixed_term_ending") == []
    refresh_flags(session, D(2027, 1, 1))
    assert open_flags(session, "fixed_term_ending") == [
        (f"fixed_term:{number}:2027-01-31", number, None,
         "fixed-term service ends 2027-01-31, 30 days left", D(2027, 1, 1), D(2027, 1, 1))]
    refresh_flags(session, D(2027, 2, 3))
    assert open_flags(session, "fixed_term_ending")[0][3] == (
        "fixed-term service ended 2027-01-31 but the client is still open")
    clients.close_client(session, setup.sanna, number, closed_on=D(2027, 2, 3))
    refresh_flags(session, D(2027, 2, 4))
    assert open_flags(session, "fixed_term_ending") == []


def test_lease_ending_appears_60_days_before_and_resolves_with_a_later_lease(session, setup):
    session.add(Lease(client_id=1, payee_id=setup.landlord, rent_cents=52000,
                      start_on=D(2026, 11, 1), end_on=D(2027, 1, 31), sublet=True))
    session.flush()
    refresh_flags(session, D(2026, 12, 1))
    assert open_flags(session, "lease_ending") == []
    refresh_flags(session, D(2026, 12, 2))
    [(subject, client_id, amount, detail, *_)] = open_flags(session, "lease_ending")
    assert (client_id, amount, detail) == (
        1, 52000, "lease ends 2027-01-31, 60 days left; no later lease")
    session.add(Lease(client_id=1, payee_id=setup.landlord, rent_cents=53000,
                      start_on=D(2027, 2, 1), end_on=D(2028, 1, 31), sublet=True))
    session.flush()
    assert refresh_flags(session, D(2026, 12, 3))["lease_ending"] == {"open": 0, "resolved": 1}


def test_income_missing_then_changed_then_settled(session, setup):
    money = Money(session)
    # Kela's 1.11. is a Sunday: both benefits are expected Monday 2.11.; missing from the next
    # banking day, 3.11.
    refresh_flags(session, D(2026, 11, 2))
    assert open_flags(session, "income_missing") == []
    refresh_flags(session, D(2026, 11, 3))
    assert open_flags(session, "income_missing") == [
        ("income:1:basic_social_assistance:2026-11-01", 1, 56000,
         "basic_social_assistance from Kela of 560,00\u00a0€ expected 2026-11-02 has not arrived",
         D(2026, 11, 3), D(2026, 11, 3)),
        ("income:1:housing_allowance:2026-11-01", 1, 38000,
         "housing_allowance from Kela of 380,00\u00a0€ expected 2026-11-02 has not arrived",
         D(2026, 11, 3), D(2026, 11, 3)),
    ]
    money.credit(1, 55700, D(2026, 11, 4))           # within the default tolerance (112,00)
    money.credit(1, 30000, D(2026, 11, 5))           # cut by 80,00: over 20 % of 380,00
    refresh_flags(session, D(2026, 11, 5))
    assert open_flags(session, "income_missing") == []
    assert open_flags(session, "income_changed") == [
        ("income:1:housing_allowance:2026-11-01", 1, 30000,
         "housing_allowance from Kela expected 2026-11-02: 380,00\u00a0€ expected, "
         "300,00\u00a0€ received 2026-11-05", D(2026, 11, 5), D(2026, 11, 5))]
    # The plan is revised to expect the new amount: the condition clears.
    plan(session, setup, 1, WORKED_EXAMPLE.replace('amount = "380.00"', 'amount = "300.00"'),
         effective_on=D(2026, 11, 1), today=D(2026, 11, 5))
    assert refresh_flags(session, D(2026, 11, 6))["income_changed"] == {"open": 0, "resolved": 1}


def test_a_credit_before_the_window_does_not_settle_an_income_a_late_one_does(session, setup):
    Money(session).credit(1, 56000, D(2026, 10, 27))  # 6 days before 2.11., window is 5
    Money(session).credit(1, 38000, D(2026, 11, 2))
    refresh_flags(session, D(2026, 11, 6))
    assert [s for s, *_ in open_flags(session, "income_missing")] == [
        "income:1:basic_social_assistance:2026-11-01"]
    Money(session).credit(1, 56000, D(2026, 11, 9))   # a week late: the income came
    assert refresh_flags(session, D(2026, 11, 9))["income_missing"] == {"open": 0, "resolved": 1}
    assert open_flags(session, "income_changed") == []


def test_funds_accumulating_above_the_threshold(session, setup):
    money = Money(session)
    money.credit(1, 200000, D(2026, 11, 2))
    refresh_flags(session, D(2026, 11, 2))
    assert open_flags(session, "funds_accumulating") == []          # 2 000,00 is not above
    money.credit(1, 1, D(2026, 11, 3), payer="Pankki")
    refresh_flags(session, D(2026, 11, 3))
    assert open_flags(session, "funds_accumulating") == [
        ("funds:1", 1, 200001, "balance 2\u00a0000,01\u00a0€ is above 2\u00a0000,00\u00a0€",
         D(2026, 11, 3), D(2026, 11, 3))]
    money.order(1, "instalment", 10000, D(2026, 11, 9), instalment_on=D(2026, 11, 9))
    assert refresh_flags(session, D(2026, 11, 9))["funds_accumulating"] == {"open": 0, "resolved": 1}


def test_uncleared_payment_resolves_when_the_bank_shows_it_leaving(session, setup):
    money = Money(session)
    money.credit(1, 10000, D(2026, 11, 2))
    order = money.order(1, "electricity", 4500, D(2026, 11, 13), creditor="Vaasan Sähkö Oy")
    refresh_flags(session, D(2026, 11, 18))
    assert open_flags(session, "uncleared_payment") == []
    refresh_flags(session, D(2026, 11, 19))
    assert open_flags(session, "uncleared_payment") == [
        ("order:electricity:1:2026-11-13", 1, 4500,
         "electricity to Vaasan Sähkö Oy executing 2026-11-13: exported, "
         "not seen leaving the bank by 2026-11-18", D(2026, 11, 19), D(2026, 11, 19))]
    money.clear(order, D(2026, 11, 19))
    assert refresh_flags(session, D(2026, 11, 20))["uncleared_payment"] == {"open": 0, "resolved": 1}


def test_arrears_resolve_when_the_obligation_is_paid(session, setup):
    money = Money(session)
    rent = money.obligation(1, "rent", 52000, D(2026, 12, 2), payee_id=setup.landlord,
                            key="rent:1:2026-12")
    refresh_flags(session, D(2026, 12, 2))
    assert open_flags(session, "arrears") == []
    refresh_flags(session, D(2026, 12, 5))
    assert open_flags(session, "arrears") == [
        ("rent:1:2026-12", 1, 52000, "rent due 2026-12-02 unpaid, 3 days past due",
         D(2026, 12, 5), D(2026, 12, 5))]
    money.credit(1, 60000, D(2026, 12, 7))
    money.order(1, "rent", 52000, D(2026, 12, 7), obligation=rent)
    assert refresh_flags(session, D(2026, 12, 7))["arrears"] == {"open": 0, "resolved": 1}


def test_an_acknowledgement_is_kept_while_the_condition_holds(session, setup):
    refresh_flags(session, D(2027, 1, 20))
    [flag] = session.execute(select(Flag).where(Flag.kind == "review_due")).scalars().all()
    flags.acknowledge(session, setup.sanna, flag.id, "Review meeting booked for 28.1.")
    refresh_flags(session, D(2027, 1, 21))
    session.refresh(flag)
    assert (flag.ack_by, flag.ack_comment, flag.first_seen, flag.last_seen, flag.detail) == (
        "sanna", "Review meeting booked for 28.1.", D(2027, 1, 20), D(2027, 1, 21),
        "review due 2027-02-01, 11 days left")
    assert flag.resolved_at is None


# --- the one write path: raise_flags and resolve_flags ----------------------------------------


def flag_row(session, kind, subject):
    flag = session.execute(select(Flag).where(Flag.kind == kind, Flag.subject == subject)
                           ).scalar_one()
    return (flag.client_id, flag.amount_cents, flag.detail, flag.first_seen, flag.last_seen,
            flag.resolved_at, flag.ack_by, flag.ack_comment)


def test_flags_raised_in_bulk_are_new_refreshed_or_reopened(session, setup):
    flags.raise_flags(session, [
        flags.FlagRaised("arrears", "rent:1:2026-11", 1, 52000, "rent unpaid"),
        flags.FlagRaised("funds_accumulating", "funds:1", 1, 250000, "balance high"),
    ], D(2026, 11, 5))
    funds = session.execute(select(Flag).where(Flag.kind == "funds_accumulating")).scalar_one()
    flags.acknowledge(session, setup.sanna, funds.id, "Saving for a washing machine.")
    flags.resolve_flags(session, "funds_accumulating", D(2026, 11, 6))

    flags.raise_flags(session, [
        flags.FlagRaised("arrears", "rent:1:2026-11", 1, 40000, "rent partly unpaid"),
        flags.FlagRaised("funds_accumulating", "funds:1", 1, 260000, "balance high again"),
        flags.FlagRaised("unmatched_income", "A-1", None, 1000, "first word"),
        flags.FlagRaised("unmatched_income", "A-1", None, 1200, "last word"),
    ], D(2026, 11, 9))

    assert flag_row(session, "arrears", "rent:1:2026-11") == (
        1, 40000, "rent partly unpaid", D(2026, 11, 5), D(2026, 11, 9), None, None, None)
    # Back after it resolved: a new situation, the acknowledgement cleared (and the copy of the
    # flag loaded above reads what was written).
    assert flag_row(session, "funds_accumulating", "funds:1") == (
        1, 260000, "balance high again", D(2026, 11, 9), D(2026, 11, 9), None, None, None)
    assert (funds.first_seen, funds.ack_comment) == (D(2026, 11, 9), None)
    # Given twice: one flag, the last word wins.
    assert flag_row(session, "unmatched_income", "A-1") == (
        None, 1200, "last word", D(2026, 11, 9), D(2026, 11, 9), None, None, None)
    assert [f.kind for f in session.execute(select(Flag).order_by(Flag.id)).scalars()] == [
        "arrears", "funds_accumulating", "unmatched_income"]


def test_raising_an_earlier_day_again_keeps_the_last_day_seen(session, setup):
    flags.raise_flag(session, "arrears", "rent:1:2026-11", D(2026, 11, 9), client_id=1)
    flag = flags.raise_flag(session, "arrears", "rent:1:2026-11", D(2026, 11, 6), client_id=1,
                            amount_cents=100, detail="looked at the past")
    assert (flag.first_seen, flag.last_seen, flag.amount_cents, flag.detail) == (
        D(2026, 11, 9), D(2026, 11, 9), 100, "looked at the past")


def test_resolving_keeps_the_subjects_that_still_hold_within_what_was_judged(session, setup):
    number = client(session, setup, hetu=HETU_2)
    flags.raise_flags(session, [
        flags.FlagRaised("arrears", "rent:1:2026-11", 1),
        flags.FlagRaised("arrears", "rent:1:2026-12", 1),
        flags.FlagRaised("arrears", f"rent:{number}:2026-11", number),
        flags.FlagRaised("insufficient_funds", "rent:1:2026-12", 1),
    ], D(2026, 12, 2))
    # Only client 1 was judged; its December rent still holds.
    assert flags.resolve_flags(session, "arrears", D(2026, 12, 3), keep={"rent:1:2026-12"},
                               client_ids=[1]) == 1
    assert flags.resolve_flags(session, "arrears", D(2026, 12, 3), subjects=["rent:1:2026-12"]) == 1
    assert flags.resolve_flags(session, "arrears", D(2026, 12, 3), subjects=[]) == 0
    assert [(f.kind, f.subject) for f in session.execute(
        select(Flag).where(Flag.resolved_at.is_(None)).order_by(Flag.id)).scalars()] == [
        ("arrears", f"rent:{number}:2026-11"), ("insufficient_funds", "rent:1:2026-12")]
