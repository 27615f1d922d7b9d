"""The service period (DESIGN §5), stored, on both backends: the first obligations, the
fixed-term end and its extension, closing, and money that comes after closing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers import scenario
from helpers.statements import Tx, camt053, ntry, write
from oversight.test_reports_world import Money
from sqlalchemy import select

import ledger
from valitystili import payments as batches
from valitystili.base.errors import Conflict, PermissionDenied, ValidationError
from valitystili.flags.conditions import arrears_obligations, refresh_flags
from valitystili.oversight.reports import arrears_items
from valitystili.people import clients, terms
from valitystili.plans.obligations import ensure_obligations
from valitystili.statements import service
from valitystili.store.models import AuditEntry, Flag, Obligation, PaymentOrder
from valitystili.trust import audit

W = scenario.world_actors()

#: A national pension on the 7th; rent agreed for the 2nd, electricity for the 15th.
PENSION_PLAN = """\
review = 2027-02-01
{first_period}
[[income]]
source = "Kela"
kind = "national_pension"
amount = "900.00"
schedule = "FREQ=MONTHLY;BYMONTHDAY=7"

[[pay]]
kind = "rent"
payee = "Vaasan Asunnot Oy"
amount = "520.00"
due = "FREQ=MONTHLY;BYMONTHDAY=2"
reference = "12345672"

[[pay]]
kind = "electricity"
payee = "Vaasan Sähkö Oy"
amount = "45.00"
due = "FREQ=MONTHLY;BYMONTHDAY=15"
reference = "RF18539007547034"

[instalments]
schedule = "FREQ=WEEKLY;BYDAY=MO"
mode = "even"
"""


def obligations(session) -> dict[str, tuple[date, int, str]]:
    """Every obligation: key → (pay day, amount, status)."""
    return {row.key: (row.pay_on, row.amount_cents, row.status) for row in session.execute(
        select(Obligation.key, Obligation.pay_on, Obligation.amount_cents, Obligation.status))}


def receive(session, number: int, cents: int, on: date) -> None:
    """Money in as the import books it (a statement line and its posting), so the batch knows
    which expected income came; 940,00 is Kela's two payments, 560,00 and 380,00."""
    money = Money(session)
    for part in ((56000, 38000) if cents == 94000 else (cents,)):
        money.credit(number, part, on)


def run_day(factory, day: date) -> list[tuple[date, str, int]]:
    """The day's batch, approved by the second handler: (execution day, kind, cents) ordered."""
    with factory() as session, session.begin():
        result = batches.run_batch(session, W.hannu, day)
    if result["orders"]:
        with factory() as session, session.begin():
            batches.approve_batch(session, W.hilla, str(result["batch"]), today=day)
    return [(r["execution_on"], r["kind"], r["amount_cents"]) for r in result["order_rows"]]


def run_days(factory, days, incomes: dict[date, int], number: int
             ) -> list[tuple[date, str, int]]:
    """The batch of each of ``days`` (banking days), each day's incomes booked first."""
    paid = []
    for day in days:
        if day in incomes:
            with factory() as session, session.begin():
                receive(session, number, incomes[day], day)
        paid += run_day(factory, day)
    return paid


def days_of(year: int, month: int, *days: int) -> list[date]:
    return [date(year, month, day) for day in days]


# --- the first obligations ----------------------------------------------------------------------


def test_the_first_obligations_wait_for_the_first_income(session):
    """Opened 1.10.2026, the pension arrives 7.10.: October's rent (pay day 2.10.) is the
    client's own; the first rent is November's. October's electricity (15.10.) is the account's."""
    w = scenario.world(session)
    number = scenario.client(session, w, start_on=date(2026, 10, 1))
    scenario.plan(session, w, number, PENSION_PLAN.format(first_period=""),
                  effective_on=date(2026, 10, 1), today=date(2026, 10, 1))
    session.commit()
    batches.run_batch(session, w.hannu, date(2026, 10, 1))
    session.commit()
    autumn = {key: value for key, value in obligations(session).items()
              if key.endswith(("2026-10", "2026-11"))}
    assert autumn == {
        f"electricity:{number}:2026-10": (date(2026, 10, 15), 4500, "open"),
        f"rent:{number}:2026-11": (date(2026, 11, 2), 52000, "open"),
        f"electricity:{number}:2026-11": (date(2026, 11, 13), 4500, "open"),
    }


@pytest.mark.parametrize("first_period, keys", [
    ("2026-10", ["rent:1:2026-10", "electricity:1:2026-10", "rent:1:2026-11",
                 "electricity:1:2026-11", "rent:1:2026-12", "electricity:1:2026-12"]),
    ("2026-12", ["rent:1:2026-12", "electricity:1:2026-12"]),
])
def test_a_plans_first_period_names_the_first_month(session, first_period, keys):
    w = scenario.world(session)
    scenario.client(session, w, start_on=date(2026, 10, 1))
    text = PENSION_PLAN.format(first_period=f'first_period = "{first_period}"')
    scenario.plan(session, w, 1, text, effective_on=date(2026, 10, 1), today=date(2026, 10, 1))
    ensure_obligations(session, date(2026, 10, 1), date(2026, 12, 31))
    assert sorted(obligations(session), key=lambda k: (k[-7:], k)) == sorted(
        keys, key=lambda k: (k[-7:], k))


# --- a fixed term -------------------------------------------------------------------------------


@pytest.fixture
def fixed_term(session_factory) -> int:
    """Worked example 1's client with a fixed term 1.11.2026–31.1.2027."""
    with session_factory() as session, session.begin():
        scenario.world(session)
        number = scenario.client(session, W, start_on=date(2026, 11, 1),
                                 until_on=date(2027, 1, 31))
        scenario.plan(session, W, number, scenario.WORKED_EXAMPLE,
                      effective_on=date(2026, 11, 1), today=date(2026, 11, 1))
    return number


BENEFITS = {date(2026, 11, 2): 94000, date(2026, 12, 1): 94000, date(2027, 1, 4): 94000}


def test_a_fixed_term_ends_with_the_remainder_and_the_whole_balance_to_the_client(
        session_factory, fixed_term):
    number = fixed_term
    # The days something is due (incomes, pay days, Mondays) and the last week's others.
    days = (days_of(2026, 11, 2, 9, 13, 16, 23, 30) + days_of(2026, 12, 1, 2, 7, 14, 15, 21, 28)
            + days_of(2027, 1, 4, 11, 15, 18, 25, 26, 27, 28, 29))
    paid = run_days(session_factory, days, BENEFITS, number)
    assert paid == [
        (date(2026, 11, 2), "rent", 52000),            # worked example 1
        (date(2026, 11, 2), "instalment", 7500),
        (date(2026, 11, 9), "instalment", 7500),
        (date(2026, 11, 13), "electricity", 4500),
        (date(2026, 11, 16), "instalment", 7500),
        (date(2026, 11, 23), "instalment", 7500),
        (date(2026, 11, 30), "instalment", 7500),
        (date(2026, 12, 2), "rent", 52000),
        (date(2026, 12, 7), "instalment", 9375),       # (940 − 520 − 45) / 4 Mondays
        (date(2026, 12, 14), "instalment", 9375),
        (date(2026, 12, 15), "electricity", 4500),
        (date(2026, 12, 21), "instalment", 9375),
        (date(2026, 12, 28), "instalment", 9375),
        (date(2027, 1, 4), "rent", 52000),             # 1.1. a holiday: money and rent on 4.1.
        (date(2027, 1, 4), "instalment", 9375),        # Mondays up to the last day, 31.1.
        (date(2027, 1, 11), "instalment", 9375),
        (date(2027, 1, 15), "electricity", 4500),
        (date(2027, 1, 18), "instalment", 9375),
        (date(2027, 1, 25), "instalment", 9375),       # the last instalment day: the remainder
    ]
    with session_factory() as session:
        assert ledger.balance(session, f"client:{number}") == 0
        assert not [key for key in obligations(session) if key.endswith("2027-02")]
    # Kela still pays on 1.2.2027: nothing is owed after the term, so all of it goes to her.
    after = run_days(session_factory, days_of(2027, 2, 1, 2, 15), {date(2027, 2, 1): 94000},
                     number)
    assert after == [(date(2027, 2, 1), "final", 94000)]
    with session_factory() as session:
        final = session.execute(select(PaymentOrder).where(PaymentOrder.kind == "final")
                                ).scalar_one()
        assert (final.key, final.creditor_iban, final.message) == (
            f"order:final:{number}:1", scenario.CLIENT_IBAN, "Välitystili: loppumaksu")
        assert ledger.balance(session, f"client:{number}") == 0


def test_extending_the_term_makes_the_later_obligations(session_factory, fixed_term):
    number = fixed_term
    with session_factory() as session, session.begin():
        batches.run_batch(session, W.hannu, date(2027, 1, 4))
    with session_factory() as session:
        assert sorted(key for key in obligations(session) if "2027" in key) == [
            f"electricity:{number}:2027-01", f"rent:{number}:2027-01"]
    with session_factory() as session, session.begin():
        extended = terms.extend_client(session, W.hannu, str(number),
                                         until_on=date(2027, 4, 30), reason="decision 7/2027")
    assert extended == terms.Extended(number, date(2027, 1, 31), date(2027, 4, 30),
                                        "decision 7/2027")
    with session_factory() as session, session.begin():
        batches.run_batch(session, W.hannu, date(2027, 1, 5))
    with session_factory() as session:
        got = obligations(session)
        assert got[f"rent:{number}:2027-02"] == (date(2027, 2, 2), 52000, "open")
        assert got[f"electricity:{number}:2027-02"] == (date(2027, 2, 15), 4500, "open")
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "client.extend")
                                ).scalar_one()
        assert (entry.actor, entry.client_id, audit.shown(session, [entry])[entry.hash]) == (
            "hannu", number, {
            "old": {"until_on": "2027-01-31"}, "new": {"until_on": "2027-04-30"},
            "reason": "decision 7/2027"})


def test_extending_is_refused_where_it_cannot_apply(session):
    w = scenario.world(session)
    fixed = scenario.client(session, w, until_on=date(2027, 1, 31))
    open_ended = scenario.client(session, w, hetu=scenario.HETU_2, name="Pekka Virtanen")
    refusals = [
        (dict(client=fixed, until_on=date(2027, 1, 31), reason="r"),
         ValidationError, "the new end 31.1.2027 is not after the current end 31.1.2027"),
        (dict(client=open_ended, until_on=date(2027, 4, 30), reason="r"),
         ValidationError, f"client {open_ended} has no fixed term: there is no end to extend"),
        (dict(client=fixed, until_on=date(2027, 4, 30), reason=None),
         ValidationError, "--reason is empty"),
        (dict(client=fixed, until_on=date(2027, 4, 30), reason="x" * 2001),
         ValidationError, "--reason has 2001 characters; at most 2000 (setting "
                          "free_text_max_chars)"),
    ]
    for options, error, message in refusals:
        with pytest.raises(error) as caught:
            terms.extend_client(session, w.hannu, str(options.pop("client")), **options)
        assert str(caught.value) == message
    with pytest.raises(PermissionDenied):
        terms.extend_client(session, w.sanna, str(fixed), until_on=date(2027, 4, 30),
                              reason="r")
    clients.close_client(session, w.hannu, str(fixed), closed_on=date(2026, 12, 31))
    with pytest.raises(Conflict, match=r"^client 1 was closed on 31\.12\.2026$"):
        terms.extend_client(session, w.hannu, str(fixed), until_on=date(2027, 4, 30),
                              reason="r")
    assert session.get(clients.Client, fixed).until_on == date(2027, 1, 31)


# --- closing ------------------------------------------------------------------------------------


@pytest.fixture
def worked(session_factory) -> int:
    """Worked example 1's client, open-ended, from 1.11.2026."""
    with session_factory() as session, session.begin():
        scenario.world(session)
        number = scenario.client(session, W, start_on=date(2026, 11, 1))
        scenario.plan(session, W, number, scenario.WORKED_EXAMPLE,
                      effective_on=date(2026, 11, 1), today=date(2026, 11, 1))
    return number


def test_closing_cancels_what_falls_after_it_and_pays_out_the_rest(session_factory, worked):
    number = worked
    with session_factory() as session, session.begin():       # November: worked example 1
        receive(session, number, 94000, date(2026, 11, 2))
    assert run_days(session_factory, days_of(2026, 11, 2, 9, 13, 16, 23, 30), {}, number) == [
        (date(2026, 11, 2), "rent", 52000), (date(2026, 11, 2), "instalment", 7500),
        (date(2026, 11, 9), "instalment", 7500), (date(2026, 11, 13), "electricity", 4500),
        (date(2026, 11, 16), "instalment", 7500), (date(2026, 11, 23), "instalment", 7500),
        (date(2026, 11, 30), "instalment", 7500)]
    assert run_days(session_factory, days_of(2026, 12, 1, 2, 7, 14, 15), BENEFITS, number) == [
        (date(2026, 12, 2), "rent", 52000), (date(2026, 12, 7), "instalment", 9375),
        (date(2026, 12, 14), "instalment", 9375), (date(2026, 12, 15), "electricity", 4500)]
    with session_factory() as session, session.begin():
        assert ledger.balance(session, f"client:{number}") == 18750    # 21.12. and 28.12.
        closed = clients.close_client(session, W.hannu, str(number), closed_on=date(2026, 12, 15),
                                      final_payout=True)
    # What the batch had made ahead (its horizon) is cancelled: January's, and on.
    assert ([key for key in closed["cancelled"] if key.endswith("2027-01")], closed["left_open"]
            ) == ([f"rent:{number}:2027-01", f"electricity:{number}:2027-01"], [])
    with session_factory() as session:
        got = obligations(session)
        assert {got[key][2] for key in closed["cancelled"]} == {"cancelled"}
        assert [key for key, (pay_on, _cents, status) in got.items()
                if pay_on > date(2026, 12, 15) and status != "cancelled"] == []
        assert got[f"rent:{number}:2027-01"] == (date(2027, 1, 4), 52000, "cancelled")
        assert got[f"electricity:{number}:2026-12"] == (date(2026, 12, 15), 4500, "settled")
        # Cancelled obligations are never arrears, in the flags or the report.
        assert arrears_obligations(session, date(2027, 2, 1)) == []
        assert arrears_items(session, date(2027, 2, 1)) == []
    assert run_days(session_factory, days_of(2026, 12, 16, 21) + days_of(2027, 1, 4), {},
                    number) == [(date(2026, 12, 16), "final", 18750)]


def test_a_partly_paid_obligation_is_left_open_and_named(cli, session_factory, worked):
    number = worked
    with session_factory() as session, session.begin():
        receive(session, number, 30000, date(2026, 11, 2))
    assert run_day(session_factory, date(2026, 11, 2)) == [(date(2026, 11, 2), "rent", 30000)]
    closed = cli("client", "close", str(number), "--date", "1.11.2026", "--reason", "moved",
                 user="hannu")
    assert closed.exit_code == 0, closed.stderr
    assert closed.stderr == (f"valitystili: warning: rent:{number}:2026-11 is partly paid: left "
                             "open, not cancelled\n")
    assert f"rent:{number}:2026-11" in closed.stdout
    with session_factory() as session:
        got = obligations(session)
        assert got[f"rent:{number}:2026-11"] == (date(2026, 11, 2), 52000, "open")
        assert got[f"electricity:{number}:2026-11"] == (date(2026, 11, 13), 4500, "cancelled")


# --- money after closing ------------------------------------------------------------------------


def test_income_after_closing_is_flagged_and_paid_on(session_factory, worked, tmp_path):
    number = worked
    with session_factory() as session, session.begin():
        clients.close_client(session, W.hannu, str(number), closed_on=date(2026, 12, 15))
        reference = session.get(clients.Client, number).reference
    statement = camt053(ntry("123.45", "ARK-1", Tx(reference=reference, payer="Kela"),
                             booked="2027-01-04"), on="2027-01-04")
    with session_factory() as session, session.begin():
        service.import_file(session, W.fiona, write(tmp_path, "s.xml", statement),
                            today=date(2027, 1, 4))
    with session_factory() as session, session.begin():
        refresh_flags(session, date(2027, 1, 4), today=date(2027, 1, 4))
    with session_factory() as session:
        # One condition, one flag: the import's and the nightly refresh's are the same row.
        assert session.execute(select(Flag.kind).where(Flag.subject == "ARK-1")).scalars().all() \
            == ["income_after_closing"]
        flag = session.execute(select(Flag).where(Flag.kind == "income_after_closing")
                               ).scalar_one()
        assert (flag.subject, flag.client_id, flag.amount_cents, flag.detail) == (
            "ARK-1", number, 12345,
            f"line ARK-1: 123,45\u00a0€ booked 2027-01-04 for client {number}, closed "
            "2026-12-15; paid on to the client")
    # Closed with a zero balance (no final payout recorded): still paid on to her.
    assert run_day(session_factory, date(2027, 1, 4)) == [(date(2027, 1, 4), "final", 12345)]
    with session_factory() as session, session.begin():
        assert ledger.balance(session, f"client:{number}") == 0
        refresh_flags(session, date(2027, 3, 8), today=date(2027, 1, 4))   # 62 days on
    with session_factory() as session:
        assert session.execute(select(Flag.resolved_at).where(
            Flag.kind == "income_after_closing")).scalar_one() is not None
