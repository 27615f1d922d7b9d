"""Kela pays part of the rent (DESIGN §2, §5), both backends: `plan kela-share` records a
month's share from Kela's decision, replaces it, refuses what it must, brings an existing rent
obligation in line, and the batch then pays the whole rent less Kela's part."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import WORKED_EXAMPLE, client, plan, world, world_actors
from oversight.test_reports_world import Money
from sqlalchemy import select

from valitystili import payments
from valitystili.people import clients
from valitystili.store.models import KelaShare, Obligation, PaymentOrder

W = world_actors()
RENT_KEY = "rent:1:2026-11"
REVIEW = date(2027, 2, 1)


def D(day: int, month: int = 11, year: int = 2026) -> date:
    return date(year, month, day)


def with_usual_part(cents: str) -> str:
    """The worked example's plan with ``paid_directly`` on its rent item."""
    return WORKED_EXAMPLE.replace('amount = "520.00"',
                                  f'amount = "520.00"\npaid_directly = "{cents}"', 1)


@pytest.fixture
def maija(session_factory):
    """Maija of DESIGN §6: rent 520,00 € agreed for the 2nd, paid by the account."""
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w, review_on=REVIEW)
        plan(session, w, number, WORKED_EXAMPLE)
    return number


def share(cli, amount: str, month: str = "2026-11", client_no: str = "1", user: str = "hannu"):
    return cli("plan", "kela-share", client_no, "--month", month, f"--amount={amount}", user=user)


def rent_obligation(session_factory) -> tuple:
    with session_factory() as session:
        row = session.execute(select(Obligation).where(Obligation.key == RENT_KEY)).scalar_one()
        return row.amount_cents, row.direct_cents, row.paid_cents, row.status


def stored_shares(session_factory) -> list[tuple]:
    with session_factory() as session:
        return [tuple(r) for r in session.execute(
            select(KelaShare.client_id, KelaShare.month, KelaShare.amount_cents,
                   KelaShare.created_by).order_by(KelaShare.id)).all()]


def batch(session_factory, on: date, *, money_cents: int = 0) -> list[tuple]:
    """Credit ``money_cents`` from Kela on ``on``, run the day's batch; its (kind, amount)."""
    if money_cents:
        # A unit of its own: the import's audit lock and the batch's lock are taken in the
        # order the service takes them (the advisory locks are shared by parallel tests).
        with session_factory() as session, session.begin():
            Money(session).credit(1, money_cents, on)
    with session_factory() as session, session.begin():
        payments.run_batch(session, W.hannu, on)
    with session_factory() as session:
        return [tuple(r) for r in session.execute(
            select(PaymentOrder.kind, PaymentOrder.amount_cents)
            .where(PaymentOrder.execution_on == on).order_by(PaymentOrder.id)).all()]


# --- recording ----------------------------------------------------------------------------------


def test_a_share_is_recorded_replaced_and_audited(cli, maija, session_factory):
    first = cli.json("plan", "kela-share", "1", "--month", "2026-11", "--amount", "150,00",
                     user="hannu")
    assert first == {
        "client": 1, "month": "2026-11", "rent_cents": 52000, "kela_cents": 15000,
        "account_cents": 37000, "previous_kela_cents": None, "obligation": None,
        "obligation_status": None, "left_cents": None}
    replaced = cli.json("plan", "kela-share", "1", "--month", "2026-11", "--amount", "120.00",
                        user="hilla")
    assert (replaced["kela_cents"], replaced["account_cents"],
            replaced["previous_kela_cents"]) == (12000, 40000, 15000)
    assert stored_shares(session_factory) == [(1, "2026-11", 12000, "hilla")]
    log = [e for e in cli.json("audit", "log", "--client", "1", user="aune")
           if e["action"] == "plan.kela_share"]
    assert [(e["actor"], e["subject"], e["detail"]["old"], e["detail"]["new"],
             e["detail"]["rent_cents"]) for e in log] == [
        ("hannu", "kela_share:1:2026-11", {"amount_cents": None}, {"amount_cents": 15000}, 52000),
        ("hilla", "kela_share:1:2026-11", {"amount_cents": 15000}, {"amount_cents": 12000},
         52000)]


def test_the_table_names_the_three_parts(cli, maija):
    result = share(cli, "150,00")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines()[:6] == [
        "client             1",
        "month              2026-11",
        "rent €             520,00",
        "kela €             150,00",
        "account €          370,00",
        "previous kela €"]


REFUSALS = [
    (("999", "2026-11", "150,00", "hannu"), "unknown client 999"),
    (("1", "2026-10", "150,00", "hannu"),
     "client 1 has no rent paid by the account in 10/2026 (the plan in force then); Kela's "
     "share is recorded for such a rent"),
    (("1", "2026-11", "520,01", "hannu"),
     "Kela's share 520,01\u00a0€ is more than the whole rent 520,00\u00a0€ of 11/2026 of "
     "client 1"),
    (("1", "2026-11", "-5,00", "hannu"),
     "Invalid value for '--amount': amount -5,00 is negative"),
    (("1", "2026-11", "150000000,00", "hannu"),
     "Invalid value for '--amount': amount 150000000,00 is larger than the maximum "
     "10\u00a0000\u00a0000,00\u00a0€"),
    (("1", "11/2026", "150,00", "hannu"),
     "Invalid value for '--month': month '11/2026' is not in the form 2026-11"),
    (("1", "2026-13", "150,00", "hannu"),
     "Invalid value for '--month': month 2026-13 does not exist (the month must be 01–12)"),
    (("1", "2026-11", "150,00", "sanna"),
     "user sanna (social_worker) may not plan kela_share; allowed roles: handler"),
]


@pytest.mark.parametrize("args, message", REFUSALS,
                         ids=["unknown", "no-rent", "over-rent", "negative", "absurd",
                              "malformed-month", "no-such-month", "role"])
def test_refusals_are_one_line_and_write_nothing(cli, maija, session_factory, args, message):
    client_no, month, amount, user = args
    result = share(cli, amount, month, client_no, user)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {message}\n")
    assert stored_shares(session_factory) == []


def test_a_closed_client_is_refused(cli, maija, session_factory):
    with session_factory() as session, session.begin():
        clients.close_client(session, W.sanna, "1", closed_on=D(30))
    result = share(cli, "150,00")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: client 1 was closed on 30.11.2026\n")
    assert stored_shares(session_factory) == []


# --- what the batch pays -----------------------------------------------------------------------


@pytest.mark.parametrize("plan_text, recorded, rent_order", [
    (WORKED_EXAMPLE, "150,00", 37000),           # Kela's decision: 150,00 of 520,00
    (with_usual_part("100.00"), None, 42000),   # no share recorded: the usual part
    (with_usual_part("100.00"), "150,00", 37000),  # the decision wins over the usual part
    (with_usual_part("100.00"), "0,00", 52000),  # this month Kela pays nothing
], ids=["share", "usual-part", "share-over-usual", "zero-share"])
def test_the_batch_pays_the_whole_rent_less_kelas_part(cli, session_factory, plan_text,
                                                        recorded, rent_order):
    with session_factory() as session, session.begin():
        w = world(session)
        plan(session, w, client(session, w, review_on=REVIEW), plan_text)
    if recorded is not None:
        assert share(cli, recorded).exit_code == 0
    assert batch(session_factory, D(2), money_cents=94000)[0] == ("rent", rent_order)
    amount, direct, paid, status = rent_obligation(session_factory)
    assert (amount + direct, amount, paid, status) == (52000, rent_order, rent_order, "settled")


def test_a_share_of_the_whole_rent_pays_nothing(cli, maija, session_factory):
    assert share(cli, "520,00").exit_code == 0
    assert [kind for kind, _ in batch(session_factory, D(2), money_cents=94000)] == ["instalment"]
    assert rent_obligation(session_factory) == (0, 52000, 0, "settled")


def test_an_existing_obligation_is_brought_in_line(cli, maija, session_factory):
    # The batch of 2.11. made the rent obligation but had no money to pay it.
    assert batch(session_factory, D(2)) == []
    assert rent_obligation(session_factory) == (52000, 0, 0, "open")
    assert cli.json("plan", "kela-share", "1", "--month", "2026-11", "--amount", "150",
                    user="hannu")["left_cents"] == 37000
    assert rent_obligation(session_factory) == (37000, 15000, 0, "open")
    share(cli, "520")                                   # Kela pays it all: settled
    assert rent_obligation(session_factory) == (0, 52000, 0, "settled")
    recorded = cli.json("plan", "kela-share", "1", "--month", "2026-11", "--amount", "100",
                        user="hannu")
    assert (recorded["obligation"], recorded["obligation_status"], recorded["left_cents"]) == (
        RENT_KEY, "open", 42000)                        # a lower share reopens it
    assert rent_obligation(session_factory) == (42000, 10000, 0, "open")
    assert batch(session_factory, D(3), money_cents=94000)[0] == ("rent", 42000)
    assert rent_obligation(session_factory) == (42000, 10000, 42000, "settled")
    share(cli, "100")                                   # the same share again: nothing to do
    assert rent_obligation(session_factory) == (42000, 10000, 42000, "settled")


def test_a_share_the_account_has_already_overpaid_is_refused(cli, maija, session_factory):
    assert batch(session_factory, D(2), money_cents=94000)[0] == ("rent", 52000)
    result = share(cli, "150,00")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "valitystili: error: rent 11/2026 of client 1: the account has already paid "
               "520,00\u00a0€, more than the 370,00\u00a0€ left after Kela's 150,00\u00a0€; "
               "return the overpayment with the landlord first\n")
    assert stored_shares(session_factory) == []
    assert rent_obligation(session_factory) == (52000, 0, 52000, "settled")
    # December's share is another month: its rent is not paid yet.
    assert share(cli, "150,00", "2026-12").exit_code == 0
