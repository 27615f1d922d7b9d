"""Builders for the lifecycle tests: closing, the handover pack, reopening, money moved by hand.

    number = maija_paid_in_november(factory)   # worked example 1's client: 940,00 in on 2.11.,
                                               # the batch of 2.11. approved: 345,00 left
    run_day(factory, date(2026, 11, 9))        # hannu runs, hilla approves

Everything goes through the services as the CLI would call them (the world of
``helpers.scenario``; money in as the import books it, ``oversight.test_reports_world.Money``).
"""

from __future__ import annotations

from datetime import date

from oversight.test_reports_world import Money

from helpers import scenario
from valitystili import payments as batches

W = scenario.world_actors()
NOVEMBER_2 = date(2026, 11, 2)
#: The guardian of a client whose guardianship started (a valid Finnish IBAN).
GUARDIAN = "Edunvalvoja Eeva Esimerkki"
GUARDIAN_IBAN = "FI2112345600000785"


def maija(factory, *, start_on: date = date(2026, 11, 1)) -> int:
    """Worked example 1's client (DESIGN §6), open from ``start_on``, plan approved."""
    with factory() as session, session.begin():
        scenario.world(session)
        number = scenario.client(session, W, start_on=start_on)
        scenario.plan(session, W, number, scenario.WORKED_EXAMPLE, effective_on=start_on,
                      today=start_on)
    return number


def receive(factory, number: int, on: date, *parts: int) -> None:
    """Money in for the client as the import books it (one statement line per part)."""
    with factory() as session, session.begin():
        money = Money(session)
        for cents in parts:
            money.credit(number, cents, on)


def run_day(factory, day: date, *, runner=W.hannu, approver=W.hilla) -> list[dict]:
    """The day's batch run by ``runner`` and approved by ``approver``: the orders it made."""
    with factory() as session, session.begin():
        result = batches.run_batch(session, runner, day)
    if result["orders"]:
        with factory() as session, session.begin():
            batches.approve_batch(session, approver, str(result["batch"]), today=day)
    return result["order_rows"]


def maija_paid_in_november(factory) -> int:
    """Maija with November's benefits in (560,00 + 380,00 on 2.11.) and the batch of 2.11.
    approved: rent 520,00 and the first instalment 75,00 paid, 345,00 left."""
    number = maija(factory)
    receive(factory, number, NOVEMBER_2, 56000, 38000)
    paid = run_day(factory, NOVEMBER_2)
    assert [(row["kind"], row["amount_cents"]) for row in paid] == [
        ("rent", 52000), ("instalment", 7500)]
    return number
