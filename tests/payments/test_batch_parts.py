"""A day's run over more clients than ``parts.CLIENTS_PER_PART`` reads, decides and stores them a
part at a time; it stores exactly what a run of all of them at once stores, on both backends.

The same world is built in two databases and the same days are run in each: with the parts'
size at two clients in one, at the default (every client in one part) in the other. The world
has what a part must carry for its clients: money short of the rent (flags raised, then
resolved when the money comes), a client closed with its final payout recorded, one closed
months ago whose money came after (the day concerns it only because it holds money), payments
asked for by hand of a client in a later part and a refund of no client.
"""

from __future__ import annotations

from datetime import date

import pytest
from helpers import scenario
from helpers.statements import valid_hetu
from oversight.test_reports_world import Money
from sqlalchemy import select

from valitystili import payments as batches
from valitystili.payments import manual, parts
from valitystili.people import clients
from valitystili.store import db
from valitystili.store.models import Flag, Obligation, PaymentOrder
from valitystili.trust.auth import Actor

W = scenario.world_actors()
HANNU, HILLA = Actor("hannu", "handler"), Actor("hilla", "handler")
NOVEMBER_1, NOVEMBER_2, NOVEMBER_3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
#: Money in on 2.11. of the open clients (cents): client 3 is short of the rent, 5 has none.
MONEY = {1: 94000, 2: 0, 3: 30000, 4: 0, 5: 0, 6: 94000, 7: 94000}
PAYER, PAYER_IBAN = "Matti Virtanen", "FI5542345670000081"


#: Clients 2 and 4 are closed (from, to): 2 with its final payout recorded, holding 100,00;
#: 4 long before the day's lookback, 5,00 coming in for it on 2.11.
CLOSED = {2: (date(2026, 10, 1), date(2026, 10, 31)), 4: (date(2026, 7, 1), date(2026, 8, 31))}


def build(factory) -> None:
    """Seven clients on the worked example's plan from 1.11.2026 (2 and 4: ``CLOSED``), their
    ``MONEY`` in on 2.11., a payment asked for by hand for client 7 and a refund of 25,00
    in suspense."""
    with factory() as session, session.begin():
        scenario.world(session)
        for n in MONEY:
            start = CLOSED[n][0] if n in CLOSED else NOVEMBER_1
            number = scenario.client(session, W, hetu=valid_hetu("010190", "-", 100 + n),
                                     name=f"Asiakas {n}", start_on=start)
            scenario.plan(session, W, number, scenario.WORKED_EXAMPLE, effective_on=start,
                          today=start)
        Money(session).credit(2, 10000, date(2026, 10, 15))
    with factory() as session, session.begin():
        for n, (_start, closed_on) in CLOSED.items():
            clients.close_client(session, W.sanna, n, closed_on=closed_on, final_payout=n == 2)
    with factory() as session, session.begin():
        money = Money(session)
        for n, cents in MONEY.items():
            if cents:
                money.credit(n, cents, NOVEMBER_2)
        money.credit(4, 500, NOVEMBER_2)
        line = money.suspense_credit(2500, NOVEMBER_2, payer=PAYER)
    with factory() as session, session.begin():
        manual.request_payment(session, HANNU, 7, amount_cents=10000, message="Silmälasit")
        manual.refund_line(session, HANNU, line.id, to_iban=PAYER_IBAN, to_name=PAYER)


def stored(factory) -> dict:
    """Every order, obligation and flag as stored, without the row numbers: by their keys."""
    with factory() as session:
        def rows(model, *key):
            table = model.__table__
            names = [c.name for c in table.columns if c.name != "id"]
            found = session.execute(select(*(table.c[n] for n in names))).all()
            return sorted(tuple(zip(names, row)) for row in found)
        return {"orders": rows(PaymentOrder), "obligations": rows(Obligation),
                "flags": rows(Flag)}


def run_days(factory) -> list[dict]:
    """2.11.: the run, approved by a second handler; 3.11.: client 5's money comes, the run."""
    results = []
    with factory() as session, session.begin():
        results.append(batches.run_batch(session, HANNU, NOVEMBER_2))
    with factory() as session, session.begin():
        batches.approve_batch(session, HILLA, str(results[-1]["batch"]), today=NOVEMBER_2)
    with factory() as session, session.begin():
        Money(session).credit(5, 94000, NOVEMBER_3)
    with factory() as session, session.begin():
        results.append(batches.run_batch(session, HANNU, NOVEMBER_3))
    return results


def comparable(result: dict) -> dict:
    """A run's result without the order of its rows (a later part's payment asked for by hand
    comes after an earlier part's payments)."""
    return {**result, "order_rows": sorted(result["order_rows"], key=lambda row: row["key"]),
            "notices": sorted(result["notices"], key=lambda notice: notice["subject"])}


@pytest.fixture
def factories(engine, second_url):
    """Two databases with the same world: the first run in parts of two clients."""
    second = db.make_engine(second_url)
    db.upgrade(second)
    both = db.session_factory(engine), db.session_factory(second)
    for factory in both:
        build(factory)
    yield both
    second.dispose()


def test_a_run_in_parts_stores_what_a_run_of_all_clients_at_once_stores(factories,
                                                                       monkeypatch):
    in_parts, at_once = factories
    with monkeypatch.context() as small:
        small.setattr(parts, "CLIENTS_PER_PART", 2)
        with in_parts() as session:
            assert [part.client_ids for part in parts.day_parts(session, NOVEMBER_2)] == [
                range(1, 3), range(3, 5), range(5, 7), range(7, 8)]
        by_parts = run_days(in_parts)
    whole = run_days(at_once)
    assert [comparable(result) for result in by_parts] == [comparable(result) for result in whole]
    assert stored(in_parts) == stored(at_once)
    # What the two days did: on 2.11. the payments asked for by hand first, each client's
    # payments in the order of the clients, the final payout last; client 5 paid when its
    # money came, and its flag resolved.
    assert [[(row["client"], row["kind"], row["amount_cents"]) for row in result["order_rows"]]
            for result in whole] == [
        [(7, "manual", 10000), (None, "refund", 2500), (1, "rent", 52000),
         (1, "instalment", 8400), (3, "rent", 30000), (6, "rent", 52000),
         (6, "instalment", 8400), (7, "rent", 52000), (7, "instalment", 6400),
         (2, "final", 10000), (4, "final", 500)],
        [(5, "rent", 52000)]]
    with at_once() as session:
        assert session.execute(select(Flag.kind, Flag.subject, Flag.amount_cents,
                                      Flag.resolved_at).order_by(Flag.id)).all() == [
            ("insufficient_funds", "rent:3:2026-11", 22000, None),
            ("insufficient_funds", "rent:5:2026-11", 52000, NOVEMBER_3),
            ("arrears", "rent:3:2026-11", 22000, None)]
