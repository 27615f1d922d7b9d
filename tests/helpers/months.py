"""The stored pipeline over real months, day by day: a harness for the batch's calendar tests.

    run = Months(session, tmp_path, scenario.WORKED_EXAMPLE, start=date(2026, 11, 1))
    run.through(date(2027, 12, 31))
    run.orders      # [Order(on, kind, amount_cents, key), ...] in execution order

Each banking day goes the way the demo (``valitystili.demo.run``) runs a county's day, through
the same service functions and users:

1. finance imports the previous banking day's camt.053 from the simulated bank when anything
   moved on it (the executed payments clear ``outgoing``);
2. the day's expected incomes are credited by Kela to the simulated bank and finance imports the
   day's camt.054 (an intraday source, so the batch sees the money on its arrival day, as the
   worked examples of DESIGN §6 assume); matching gives the money to the client;
3. hannu runs the batch for the day, hilla approves it (four-eyes), finance exports the
   pain.001 and the simulated bank executes it.

Only banking days are run: a run on a closed day is a dry run that stores nothing, and the next
banking day's run pays what it would have shown. The expected incomes and their arrival days
come from the plan text's ``[[income]]`` tables and the service's own Kela payment-day rules
(``plans.expected.income_arrivals``, as the demo pays them in); a test that must not trust those
rules passes ``arrivals`` itself. Nothing is created per day but the files the bank sends.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from helpers import scenario
from valitystili import payments as batches
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.money import parse_amount
from valitystili.demo.bank import Credit, SimulatedBank
from valitystili.plans.expected import income_arrivals
from valitystili.statements import service

KELA = "Kansaneläkelaitos Kela"
KELA_IBAN = "FI6416603000107220"
NAME = "Maija Meikäläinen"
W = scenario.world_actors()


@dataclass(frozen=True)
class Order:
    """One payment order as the batch stored it."""

    on: date                 # execution day
    kind: str                # rent | electricity | other | instalment
    amount_cents: int
    key: str

    @property
    def row(self) -> tuple[date, str, int]:
        return self.on, self.kind, self.amount_cents


@dataclass(frozen=True)
class Arrival:
    """One expected income arriving: on its banking day, its kind and amount."""

    on: date
    kind: str
    amount_cents: int


def plan_arrivals(plan_text: str, start: date, end: date) -> list[Arrival]:
    """The plan's ``[[income]]`` arriving in [start, end] on Kela's payment days."""
    found = []
    for income in tomllib.loads(plan_text).get("income", ()):
        cents = parse_amount(income["amount"])
        found += [Arrival(arrival, income["kind"], cents) for _scheduled, arrival
                  in income_arrivals(income["kind"], income["schedule"], start, end)]
    return sorted(found, key=lambda a: (a.on, a.kind))


def open_client(session: Session, plan_text: str, start: date, **options) -> int:
    """The world, Maija opened on ``start`` (with ``options`` of ``scenario.client``, e.g.
    ``until_on``) and her plan in force from ``start`` (approved)."""
    with session.begin():
        scenario.world(session)
        number = scenario.client(session, W, start_on=start, review_on=date(2028, 1, 31),
                                 **options)
        scenario.plan(session, W, number, plan_text, effective_on=start, today=start)
    return number


class Months:
    """One client's account run day by day through the stored pipeline (module docstring)."""

    def __init__(self, session: Session, folder: Path, plan_text: str, start: date, *,
                 arrivals: list[Arrival] | None = None, **client_options) -> None:
        self.session = session
        self.folder = folder
        self.number = open_client(session, plan_text, start, **client_options)
        self.plan_text = plan_text
        self.arrivals = arrivals
        self.bank = SimulatedBank(scenario.CITY_IBAN, "ESSEFIHX")
        self.day = start                  # the next day to run
        self.previous: date | None = None  # the last banking day run (its camt.053 is due)
        self.orders: list[Order] = []

    def through(self, end: date) -> list[Order]:
        """Run every banking day from the next one up to ``end``; the orders of these days."""
        arrivals = self.arrivals if self.arrivals is not None else plan_arrivals(
            self.plan_text, self.day, end)
        by_day: dict[date, list[Arrival]] = {}
        for arrival in arrivals:
            by_day.setdefault(arrival.on, []).append(arrival)
        first = len(self.orders)
        for day in CALENDAR.banking_days(self.day, end):
            self._morning(day)
            self._incomes(day, by_day.get(day, ()))
            self._batch(day)
            self.previous = day
        self.day = end + timedelta(days=1)
        return self.orders[first:]

    def _import(self, name: str, content: bytes, today: date) -> None:
        path = self.folder / name
        path.write_bytes(content)
        with self.session.begin():
            service.import_file(self.session, W.fiona, path, today=today)

    def _morning(self, day: date) -> None:
        # A day without entries has no statement to import (its balance did not move).
        if self.previous in self.bank.days:
            self._import(f"camt053-{self.previous.isoformat()}.xml",
                         self.bank.camt053(self.previous), day)

    def _incomes(self, day: date, arrivals) -> None:
        for arrival in arrivals:
            self.bank.credit(day, Credit(arrival.amount_cents, KELA, KELA_IBAN,
                                         message=f"KELA {arrival.kind.upper()} {day:%m/%Y} "
                                                 f"{NAME.upper()}"))
        notification = self.bank.camt054(day)
        if notification is not None:
            self._import(f"camt054-{day.isoformat()}.xml", notification, day)

    def _batch(self, day: date) -> None:
        with self.session.begin():
            run = batches.run_batch(self.session, W.hannu, day)
        if not run["orders"]:
            return
        path = self.folder / f"pain001-{day.isoformat()}.xml"
        with self.session.begin():
            batches.approve_batch(self.session, W.hilla, str(run["batch"]), today=day)
        with self.session.begin():
            batches.export_batch(self.session, W.fiona, str(run["batch"]), path, today=day)
        self.bank.execute_pain001(path.read_bytes())
        self.orders += [Order(row["execution_on"], row["kind"], row["amount_cents"], row["key"])
                        for row in run["order_rows"]]
