"""The whole-system state machine (``tests/reliability/test_system_machine.py`` runs it).

``SystemMachine(factory, folder)`` works on a fresh ledger holding ``set_up_world``'s rows (the
users, the city's account with its BIC, the landlord and the utility). Every rule calls the
service functions as the CLI does, as the role that does it in real life; the model keeps only
what it needs to choose valid steps and to predict what reconciliation may report. ``STEPS``
counts examples, steps, rules run and bank days reconciled, for the test to print.
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from lxml import etree
from sqlalchemy import func, select

import ledger
from helpers import scenario
from helpers.scenario import MONTHLY, UTILITY, pay_text, plan_text
from valitystili import payments as batches
from valitystili.base.accounts import BANK_PREFIX, CLIENT_PREFIX
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.errors import Conflict, InsufficientFunds
from valitystili.demo.bank import Credit, SimulatedBank
from valitystili.demo.data import hetu as make_hetu
from valitystili.demo.data import iban as make_iban
from valitystili.oversight import plan_check, reconcile
from valitystili.payments import manual
from valitystili.people import banks, clients, lifecycle, payees
from valitystili.statements import income, service
from valitystili.statements.splitting import split_line
from valitystili.store.models import (
    BANK_ONLY,
    IN_SUSPENSE,
    Client,
    Obligation,
    PaymentOrder,
    StatementLine,
)
from valitystili.trust import users

STEPS: Counter = Counter()

CITY_IBAN = scenario.CITY_IBAN
CITY_BIC = "ESSEFIHX"
W = scenario.world_actors()
FIRST_DAY = date(2026, 12, 1)
#: First days: before Independence Day (Sunday 6.12.2026), Christmas (24.–26.12.), New Year and
#: Epiphany (1.1., 6.1.2027), Easter (26.–29.3.2027), May Day and Ascension (1.5., 6.5.2027),
#: Midsummer (25.6.2027); a month's end and first days of income on the way to each.
STARTS = (date(2026, 11, 30), date(2026, 12, 21), date(2026, 12, 29), date(2027, 3, 24),
          date(2027, 4, 28), date(2027, 6, 22))
RENTS = st.lists(st.integers(20_000, 60_000), min_size=3, max_size=3)
KELA = "Kansaneläkelaitos Kela"
KELA_IBAN = "FI1316630001072202"
BENEFITS = (("housing_allowance", "ASUMISTUKI"), ("basic_social_assistance", "TOIMEENTULOTUKI"))
#: (name, IBAN or None) of people who send money without a reference.
STRANGERS = (("Tuntematon Maksaja", "FI2112345600000785"), ("Anonyymi Lahjoittaja", None))
REFUND_TO = ("FI4950009420028730", "Palautuksen Saaja")
#: The machine's people; the account of the one at ``CLOSED_AT_BANK`` is closed at the bank.
NAMES = ("Aino Mäkinen", "Eero Laine", "Liisa Koski", "Pekka Nieminen", "Sanni Heikkinen",
         "Ville Järvinen", "Outi Lehtonen", "Timo Salo")
CLOSED_AT_BANK = 5
CREDITS_A_DAY = 8
#: Orders that pay nothing of their obligation (any more).
NOT_PAYING = ("cancelled", "returned", "rejected")
SUSPENSE_DAYS = 5                  # the setting suspense_flag_after_days (its default)
FIXED_TERM = "rent_debt_fixed_term"
UNCLEARED_DAYS = 3                 # the setting uncleared_after_banking_days (its default)


@dataclass(frozen=True)
class Person:
    hetu: str
    name: str
    iban: str


def _people() -> tuple[Person, ...]:
    rng, used = random.Random(2026), set()
    return tuple(Person(make_hetu(rng, used), name, make_iban(rng)) for name in NAMES)


PEOPLE = _people()
REJECTED = frozenset({PEOPLE[CLOSED_AT_BANK].iban})


def set_up_world(session) -> None:
    """Users, the city's account (with its BIC, for the simulated bank) and the two payees."""
    for name, role in scenario.USERS:
        if not (role == "admin" and users.bootstrap_admin(session, name)):
            users.add_user(session, W.admin, name, role)
    banks.add_bank_account(session, W.admin, iban=CITY_IBAN, name="Välitystili", bic=CITY_BIC)
    payees.add_payee(session, W.hannu, name=scenario.LANDLORD, iban=scenario.LANDLORD_IBAN,
                     kind="landlord")
    payees.add_payee(session, W.hannu, name=UTILITY, iban=scenario.UTILITY_IBAN, kind="utility")


def euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class ClientModel:
    number: int
    person: Person
    reference: str
    rf_reference: str
    status: str = "open"
    criterion: str = "evictions"
    start_on: date = FIRST_DAY
    until_on: date | None = None
    closed_on: date | None = None
    incomes: dict[str, int] = field(default_factory=dict)   # of the latest plan version
    draft: int | None = None                                # latest version, if unapproved
    latest_effective: date | None = None
    planned_on: date | None = None                          # a plan is set at most once a day


@dataclass
class BatchModel:
    execution_on: date
    status: str = "draft"                                   # approved, exported, cancelled


@dataclass
class BankFile:
    name: str
    content: bytes
    day: date
    entries: set[str] = field(init=False)
    items: dict[str, str] = field(init=False)

    def __post_init__(self):
        self.entries, self.items = archive_ids(self.content)


AMOUNTS = st.integers(min_value=1, max_value=120_000)
PICK = st.integers(min_value=0, max_value=1_000)


class SystemMachine(RuleBasedStateMachine):
    def __init__(self, factory, folder: Path):
        super().__init__()
        STEPS["examples"] += 1
        self.factory = factory
        self.folder = Path(tempfile.mkdtemp(dir=folder))    # files of this example only
        self.today = self.first_day = FIRST_DAY
        self.bank = SimulatedBank(CITY_IBAN, CITY_BIC)
        self.clients: dict[int, ClientModel] = {}
        self.batches: dict[int, BatchModel] = {}
        self.mailbox: list[BankFile] = []
        self.imported: list[BankFile] = []
        self.again: set[str] = set()
        self.in_suspense = 0               # lines in suspense after the last step
        self.notified: set[date] = set()
        self.closed_days: list[date] = []
        self.reconciled_through: date | None = None
        self.refreshed_through: date | None = None
        self.files = 0

    # --- helpers ---------------------------------------------------------------------------

    def step(self, name: str) -> None:
        STEPS["steps"] += 1
        STEPS[f"rule:{name}"] += 1

    def unit(self):
        """One unit of work: a session in a transaction, as each CLI command has."""
        session = self.factory()
        return _Unit(session)

    def banking_day(self) -> bool:
        return CALENDAR.is_banking_day(self.today)

    def open_ones(self) -> list[ClientModel]:
        return [c for c in self.clients.values() if c.status == "open"]

    def path(self, stem: str) -> Path:
        self.files += 1
        return self.folder / f"{self.files}-{stem}.xml"

    def credit(self, credit: Credit) -> None:
        self.bank.credit(self.today, credit)

    def may_credit(self) -> bool:
        day = self.bank.days.get(self.today)
        return (self.banking_day() and self.today not in self.notified
                and (day is None or len(day.credits) < CREDITS_A_DAY))

    # --- the start ---------------------------------------------------------------------------

    @initialize(start=st.sampled_from(STARTS), opened=st.integers(0, 3), rents=RENTS,
                assistance=st.integers(30_000, 90_000))
    def begin(self, start, opened, rents, assistance):
        """The first day (before a holiday season) and up to three clients with plans in force."""
        self.step("begin")
        self.today = self.first_day = start
        for n in range(opened):
            client = self.open_one(n, "open", 0)
            self.plan_one(client, rents[n], 38_000, assistance, 1 + 7 * n, 0, 0,
                          'mode = "even"\n', True)
            if self.banking_day():        # what the client had saved, sent by a relative
                self.credit(Credit(rents[n] + assistance, "Sukulainen",
                                   reference=client.reference))

    # --- people and plans ----------------------------------------------------------------------

    @precondition(lambda self: len(self.clients) < len(PEOPLE))
    @rule(pick=PICK, term=st.sampled_from(["open", "until", "fixed"]),
          days=st.integers(min_value=8, max_value=45))
    def open_client(self, pick, term, days):
        self.step("open_client")
        self.open_one(pick, term, days)

    def open_one(self, pick: int, term: str, days: int) -> ClientModel:
        waiting = [p for p in PEOPLE if p.hetu not in {c.person.hetu for c in self.clients.values()}]
        person = waiting[pick % len(waiting)]
        criterion, until_on = "evictions", None
        if term == "until":
            until_on = self.today + timedelta(days=days)
        elif term == "fixed":
            criterion, until_on = FIXED_TERM, self.today + relativedelta(months=3)
        with self.unit() as session:
            opened = clients.open_client(
                session, W.sanna, hetu=person.hetu, name=person.name, iban=person.iban,
                criterion=criterion, worker="sanna", start_on=self.today, until_on=until_on,
                review_on=self.today + relativedelta(months=6), today=self.today,
                exclusions={"guardianship_need": False, "subsidy_against_will": False,
                            "kela_pays_landlord": False})
            number = opened["client"]
            row = session.get(Client, number)
            self.clients[number] = ClientModel(number, person, row.reference, row.rf_reference,
                                               criterion=criterion, start_on=self.today,
                                               until_on=until_on)
        return self.clients[number]

    @precondition(lambda self: any(c.status == "open" and c.planned_on != self.today
                                   for c in self.clients.values()))
    @rule(pick=PICK, rent=st.integers(20_000, 70_000), allowance=st.sampled_from([0, 25_000, 38_000, 51_234]),
          assistance=st.integers(10_000, 90_000), rent_day=st.integers(1, 28),
          electricity=st.sampled_from([0, 0, 4_500, 6_140]), later=st.integers(0, 10),
          instalments=st.sampled_from(['mode = "even"\n', 'amount = "50.00"\n',
                                       'mode = "even"\nkeep = "20.00"\n']),
          approve=st.booleans())
    def set_plan(self, pick, rent, allowance, assistance, rent_day, electricity, later,
                 instalments, approve):
        self.step("set_plan")
        unplanned = [c for c in self.open_ones() if c.planned_on != self.today]
        client = unplanned[pick % len(unplanned)]
        self.plan_one(client, rent, allowance, assistance, rent_day, electricity, later,
                      instalments, approve)

    def plan_one(self, client: ClientModel, rent: int, allowance: int, assistance: int,
                 rent_day: int, electricity: int, later: int, instalments: str,
                 approve: bool) -> None:
        effective = max(self.today, client.start_on) + timedelta(days=later)
        if client.until_on is not None:
            effective = min(effective, client.until_on)
        incomes = [(kind, euros(cents), MONTHLY + "1")
                   for (kind, _), cents in zip(BENEFITS, (allowance, assistance)) if cents]
        items = (pay_text("electricity", euros(electricity), MONTHLY + "15", payee=UTILITY,
                          reference="RF18539007547034") if electricity else "")
        text = plan_text(*incomes, rent=euros(rent), rent_due=MONTHLY + str(rent_day),
                         items=items, instalments=instalments)
        with self.unit() as session:
            version = plan_check.set_plan(session, W.sanna, str(client.number), text,
                                          effective_on=effective, today=self.today)["version"]
            if approve:
                plan_check.approve_plan(session, W.hannu, str(client.number), version,
                                        despite=scenario.AS_WRITTEN)
        client.incomes = {kind: cents for (kind, _), cents in zip(BENEFITS, (allowance, assistance))
                          if cents}
        client.draft = None if approve else version
        client.planned_on = self.today
        client.latest_effective = max(client.latest_effective or effective, effective)

    @precondition(lambda self: any(c.status == "open" and c.draft for c in self.clients.values()))
    @rule(pick=PICK)
    def approve_plan(self, pick):
        self.step("approve_plan")
        waiting = [c for c in self.open_ones() if c.draft]
        client = waiting[pick % len(waiting)]
        with self.unit() as session:
            plan_check.approve_plan(session, W.hannu, str(client.number), client.draft,
                                    despite=scenario.AS_WRITTEN)
        client.draft = None

    @precondition(lambda self: any(c.status == "open" for c in self.clients.values()))
    @rule(pick=PICK, payout=st.booleans())
    def close_client(self, pick, payout):
        self.step("close_client")
        client = self.open_ones()[pick % len(self.open_ones())]
        closed_on = max(self.today, client.start_on)
        with self.unit() as session:
            held = ledger.balance(session, f"{CLIENT_PREFIX}{client.number}")
        try:
            with self.unit() as session:
                clients.close_client(session, W.sanna, client.number, closed_on=closed_on,
                                     final_payout=payout, reason=None)
        except Conflict:
            assert held != 0 and not payout, (client.number, held, payout)
            return
        assert held == 0 or payout, (client.number, held)
        client.status, client.closed_on, client.draft = "closed", closed_on, None

    @precondition(lambda self: any(c.status == "closed" for c in self.clients.values()))
    @rule(pick=PICK, later=st.integers(1, 5))
    def reopen_client(self, pick, later):
        self.step("reopen_client")
        closed = [c for c in self.clients.values() if c.status == "closed"]
        client = closed[pick % len(closed)]
        start = max(self.today, client.closed_on, client.latest_effective or self.today) \
            + timedelta(days=later)
        until_on = start + relativedelta(months=3) if client.criterion == FIXED_TERM else None
        with self.unit() as session:
            waiting_payout = session.execute(select(PaymentOrder.id).where(
                PaymentOrder.client_id == client.number, PaymentOrder.kind == "final",
                PaymentOrder.status == "draft")).first()
        try:
            with self.unit() as session:
                lifecycle.reopen_client(session, W.sanna, client.number, start_on=start,
                                        review_on=start + relativedelta(months=6),
                                        until_on=until_on, today=self.today)
        except Conflict as refused:
            assert waiting_payout is not None, str(refused)
            return
        assert waiting_payout is None
        client.status, client.start_on, client.until_on = "open", start, until_on
        client.closed_on, client.incomes, client.draft = None, {}, None

    # --- money arriving at the bank --------------------------------------------------------------

    @precondition(lambda self: self.clients and self.may_credit())
    @rule(pick=PICK, benefit=st.sampled_from(BENEFITS), amount=AMOUNTS, planned=st.booleans())
    def kela_pays(self, pick, benefit, amount, planned):
        self.step("kela_pays")
        client = list(self.clients.values())[pick % len(self.clients)]
        kind, label = benefit
        if planned and kind in client.incomes:
            amount = client.incomes[kind]
        self.credit(Credit(amount, KELA, KELA_IBAN, message=(
            f"KELA {label} {self.today:%m/%Y} {client.person.name.upper()}")))

    @precondition(lambda self: self.clients and self.may_credit())
    @rule(pick=PICK, amount=AMOUNTS, rf=st.booleans())
    def relative_pays(self, pick, amount, rf):
        self.step("relative_pays")
        client = list(self.clients.values())[pick % len(self.clients)]
        reference = client.rf_reference if rf else client.reference
        self.credit(Credit(amount, "Sukulainen", reference=reference))

    @precondition(lambda self: self.may_credit())
    @rule(stranger=st.sampled_from(STRANGERS), amount=AMOUNTS)
    def stranger_pays(self, stranger, amount):
        self.step("stranger_pays")
        name, iban = stranger
        self.credit(Credit(amount, name, iban, message="Lahjoitus"))

    @precondition(lambda self: self.may_credit() and self.today in self.bank.days
                  and self.bank.days[self.today].credits)
    @rule()
    def bank_notifies(self):
        """The day's camt.054: the day's credits itemised; no more credits come that day."""
        self.step("bank_notifies")
        self.notified.add(self.today)
        self.mailbox.append(BankFile(f"camt054-{self.today}", self.bank.camt054(self.today),
                                     self.today))

    @rule(order=st.randoms(use_true_random=False))
    def next_day(self, order):
        """The bank's day ends (its camt.054, if not sent, and camt.053 are written); the
        calendar moves one day. Finance has imported the files of the days before by then (in
        any order): each bank day is reconciled by the next one's end."""
        self.step("next_day")
        self.end_day(order)

    def end_day(self, order) -> None:
        late = [file for file in self.mailbox if file.day < self.today]
        order.shuffle(late)
        for file in late:
            self.import_one(self.mailbox.index(file))
        if self.banking_day():
            if self.may_credit() and self.today in self.bank.days \
                    and self.bank.days[self.today].credits:
                self.bank_notifies()
            self.mailbox.append(BankFile(f"camt053-{self.today}", self.bank.camt053(self.today),
                                         self.today))
            self.closed_days.append(self.today)
        self.today += timedelta(days=1)

    # --- finance imports ---------------------------------------------------------------------------

    @precondition(lambda self: self.mailbox)
    @rule(pick=PICK)
    def import_file(self, pick):
        self.step("import_file")
        self.import_one(pick)

    def import_one(self, pick: int) -> None:
        file = self.mailbox.pop(pick % len(self.mailbox))
        path = self.path(file.name)
        path.write_bytes(file.content)
        with self.unit() as session:
            service.import_file(session, W.fiona, path, today=self.today)
        self.imported.append(file)

    @precondition(lambda self: len(self.imported) > len(self.again))
    @rule(pick=PICK)
    def import_again(self, pick):
        """A file imported before (each at most once more): nothing changes in the books."""
        self.step("import_again")
        files = [f for f in self.imported if f.name not in self.again]
        file = files[pick % len(files)]
        self.again.add(file.name)
        path = self.path(file.name)
        path.write_bytes(file.content)
        with self.unit() as session:
            before = _books(session)
        with self.unit() as session:
            service.import_file(session, W.fiona, path, today=self.today)
        with self.unit() as session:
            assert _books(session) == before, file.name

    # --- handlers and suspense -------------------------------------------------------------------

    def suspense_lines(self) -> list[StatementLine]:
        with self.unit() as session:
            return session.execute(select(StatementLine).where(
                StatementLine.state == IN_SUSPENSE, StatementLine.amount_cents > 0)
                .order_by(StatementLine.id)).scalars().all()

    @precondition(lambda self: self.clients and self.in_suspense)
    @rule(line=PICK, pick=PICK)
    def assign(self, line, pick):
        self.step("assign")
        lines = self.suspense_lines()
        chosen = lines[line % len(lines)]
        client = list(self.clients.values())[pick % len(self.clients)]
        with self.unit() as session:
            before = ledger.balance(session, f"{CLIENT_PREFIX}{client.number}")
            income.assign_line(session, W.hannu, chosen.id, str(client.number), today=self.today)
            after = ledger.balance(session, f"{CLIENT_PREFIX}{client.number}")
        assert after - before == chosen.amount_cents

    @precondition(lambda self: len(self.clients) >= 2 and self.in_suspense)
    @rule(line=PICK, pick=PICK, share=st.floats(0.01, 0.99))
    def split(self, line, pick, share):
        """A line shared between two clients, to the cent (one of at least 2 cents)."""
        self.step("split")
        lines = [one for one in self.suspense_lines() if one.amount_cents >= 2]
        if not lines:
            return
        chosen = lines[line % len(lines)]
        numbers = sorted(self.clients)
        first = numbers[pick % len(numbers)]
        second = numbers[(pick + 1) % len(numbers)]
        part = min(max(int(chosen.amount_cents * share), 1), chosen.amount_cents - 1)
        with self.unit() as session:
            before = {n: ledger.balance(session, f"{CLIENT_PREFIX}{n}") for n in (first, second)}
            split_line(session, W.hannu, chosen.id,
                       [(str(first), part), (str(second), chosen.amount_cents - part)],
                       today=self.today)
            after = {n: ledger.balance(session, f"{CLIENT_PREFIX}{n}") for n in (first, second)}
        assert (after[first] - before[first], after[second] - before[second]) == (
            part, chosen.amount_cents - part)

    @precondition(lambda self: any(c.status == "open" for c in self.clients.values()))
    @rule(pick=PICK, amount=st.integers(1, 30_000))
    def pay_by_hand(self, pick, amount):
        """A one-off payment out of the client's money (``pay``), refused beyond what is free."""
        self.step("pay_by_hand")
        client = self.open_ones()[pick % len(self.open_ones())]
        try:
            with self.unit() as session:
                manual.request_payment(session, W.hannu, client.number, amount_cents=amount,
                                       message="Kertamaksu")
        except InsufficientFunds:
            with self.unit() as session:
                free = (ledger.balance(session, f"{CLIENT_PREFIX}{client.number}")
                        - manual.held_cents(session, client.number))
            assert amount > free, (client.number, amount, free)

    @precondition(lambda self: self.in_suspense)
    @rule(line=PICK)
    def refund(self, line):
        self.step("refund")
        lines = self.suspense_lines()
        chosen = lines[line % len(lines)]
        to_iban, to_name = (None, None) if chosen.counterparty_iban and chosen.counterparty_name \
            else REFUND_TO
        with self.unit() as session:
            manual.refund_line(session, W.hannu, chosen.id, to_iban=to_iban, to_name=to_name,
                               today=self.today)

    # --- the batch ------------------------------------------------------------------------------

    @precondition(lambda self: self.banking_day() and self.clients)
    @rule()
    def run_batch(self):
        self.step("run_batch")
        self.run_one()

    def run_one(self) -> int | None:
        """The day's run by hannu; the batch it added to (None: nothing to pay)."""
        with self.unit() as session:
            result = batches.run_batch(session, W.hannu, self.today)
        if not result["orders"]:
            return None
        known = self.batches.setdefault(result["batch"], BatchModel(result["execution_on"]))
        assert known.status == "draft" and known.execution_on == self.today
        return result["batch"]

    @precondition(lambda self: self.clients)
    @rule(order=st.randoms(use_true_random=False))
    def work_day(self, order):
        """The day's routine: the bank's notification in, the batch run, approved by the other
        handler, exported by finance and executed by the bank; then the day ends."""
        self.step("work_day")
        if self.banking_day():
            self.work()
        self.end_day(order)

    def work(self) -> None:
        if self.may_credit() and self.today in self.bank.days \
                and self.bank.days[self.today].credits:
            self.bank_notifies()
        for file in [f for f in self.mailbox if f.day == self.today]:
            self.import_one(self.mailbox.index(file))
        number = self.run_one()
        if number is not None:
            self.approve_one(number)
            self.export_one(number)

    def with_status(self, status: str) -> list[int]:
        return [n for n, b in self.batches.items() if b.status == status]

    @precondition(lambda self: self.with_status("draft"))
    @rule(pick=PICK)
    def approve_batch(self, pick):
        self.step("approve_batch")
        self.approve_one(self.with_status("draft")[pick % len(self.with_status("draft"))])

    def approve_one(self, number: int) -> None:
        with self.unit() as session:
            batches.approve_batch(session, W.hilla, str(number), today=self.today)
        self.batches[number].status = "approved"

    @precondition(lambda self: any(b.status == "approved" and b.execution_on == self.today
                                   for b in self.batches.values()))
    @rule(pick=PICK)
    def export_batch(self, pick):
        """Finance exports the day's approved batch; the bank executes the file."""
        self.step("export_batch")
        ready = [n for n in self.with_status("approved")
                 if self.batches[n].execution_on == self.today]
        self.export_one(ready[pick % len(ready)])

    def export_one(self, number: int) -> None:
        path = self.path(f"pain001-{number}")
        with self.unit() as session:
            batches.export_batch(session, W.fiona, str(number), path, today=self.today)
        self.bank.execute_pain001(path.read_bytes(), REJECTED)
        self.batches[number].status = "exported"

    @precondition(lambda self: self.with_status("exported"))
    @rule(pick=PICK)
    def export_again(self, pick):
        """Exporting a batch twice needs ``again``: the bank would pay a file twice."""
        self.step("export_again")
        number = self.with_status("exported")[pick % len(self.with_status("exported"))]
        try:
            with self.unit() as session:
                batches.export_batch(session, W.fiona, str(number), self.path("again"),
                                     today=self.today)
        except batches.NeedsConfirmation:
            return
        raise AssertionError(f"batch {number} was exported a second time unasked")

    @precondition(lambda self: self.with_status("draft") or self.with_status("approved"))
    @rule(pick=PICK)
    def cancel_batch(self, pick):
        self.step("cancel_batch")
        open_batches = self.with_status("draft") + self.with_status("approved")
        number = open_batches[pick % len(open_batches)]
        with self.unit() as session:
            batches.cancel_batch(session, W.hilla, str(number), reason="not sent today",
                                 today=self.today)
        self.batches[number].status = "cancelled"

    @precondition(lambda self: self.reconciled_through not in (None, self.refreshed_through))
    @rule()
    def finance_reconciles(self):
        """The nightly ``reconcile``: flags refreshed, the audit entry and head written."""
        self.step("finance_reconciles")
        with self.unit() as session:
            reconcile.reconcile(session, W.fiona, as_of=self.reconciled_through,
                                today=self.today)
        self.refreshed_through = self.reconciled_through

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def books_hold(self):
        with self.unit() as session:
            self.in_suspense = check_books(session, self.bank, self.imported, self.clients)

    @invariant()
    def bank_day_reconciles(self):
        if self.mailbox or not self.closed_days or self.closed_days[-1] == self.reconciled_through:
            return
        as_of = self.closed_days[-1]
        with self.unit() as session:
            findings = reconcile.check_all(session, as_of, today=self.today)
            unexpected = [f for f in findings if not self.predicted(session, f, as_of)]
        assert not unexpected, [f.row() for f in unexpected]
        self.reconciled_through = as_of
        STEPS["bank_days"] += 1

    def teardown(self):
        """What the example did, for the test's figures: orders by status, lines by state."""
        with self.unit() as session:
            for status, n in session.execute(select(PaymentOrder.status, func.count())
                                             .group_by(PaymentOrder.status)):
                STEPS[f"orders {status}"] += n
            for state, n in session.execute(select(StatementLine.state, func.count())
                                            .group_by(StatementLine.state)):
                STEPS[f"lines {state}"] += n
        STEPS["days"] += (self.today - self.first_day).days

    def predicted(self, session, finding, as_of: date) -> bool:
        """Work for people the model expects: old suspense, batches never exported."""
        if finding.check == "suspense_old":
            archive = finding.subject.split(" ", 1)[1]
            line = session.execute(select(StatementLine).where(
                StatementLine.archive_id == archive)).scalar_one()
            return line.state == IN_SUSPENSE and (as_of - line.booked_on).days > SUSPENSE_DAYS
        if finding.check == "uncleared_payment":
            order = session.execute(select(PaymentOrder).where(
                PaymentOrder.key == finding.subject)).scalar_one()
            late = CALENDAR.add_banking_days(order.execution_on, UNCLEARED_DAYS) < as_of
            return late and self.batches[order.batch_id].status == "approved"
        return False


class _Unit:
    """``with unit() as session``: commit on success, roll back on any error, close."""

    def __init__(self, session):
        self.session = session

    def __enter__(self):
        self.session.begin()
        return self.session

    def __exit__(self, kind, value, trace):
        try:
            if kind is None:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()
        return False


def _books(session) -> tuple:
    """Every ledger balance and the number of statement lines and orders."""
    return (tuple(sorted((b.code, b.balance_cents) for b in ledger.balances(session))),
            session.execute(select(func.count()).select_from(StatementLine)).scalar_one(),
            session.execute(select(func.count()).select_from(PaymentOrder)).scalar_one())


def check_books(session, bank: SimulatedBank, imported: list[BankFile],
                clients: dict[int, ClientModel]) -> int:
    """The invariants that hold after every step (see the test module), in four reads; the
    number of incoming lines in suspense."""
    balances = ledger.balances(session)
    bank_total = sum(b.balance_cents for b in balances if b.code.startswith(BANK_PREFIX))
    owed = sum(b.balance_cents for b in balances if b.kind == "liability")
    assert bank_total == owed, (bank_total, owed, [(b.code, b.balance_cents) for b in balances])
    negative = [(b.code, b.balance_cents) for b in balances
                if b.code.startswith(CLIENT_PREFIX) and b.balance_cents < 0]
    assert not negative, negative
    check_orders(session, bank)
    return check_lines(session, imported, clients)


def check_orders(session, bank: SimulatedBank) -> None:
    """Obligations paid at most their amount, by their live orders; order keys and end-to-end
    ids used once; the bank executed each end-to-end id at most once."""
    orders = session.execute(select(PaymentOrder.obligation_id, PaymentOrder.key,
                                    PaymentOrder.end_to_end_id, PaymentOrder.amount_cents,
                                    PaymentOrder.status)).all()
    live = Counter()
    for order in orders:
        if order.obligation_id is not None and order.status not in NOT_PAYING:
            live[order.obligation_id] += order.amount_cents
    for obligation in session.execute(select(Obligation.id, Obligation.key,
                                             Obligation.amount_cents, Obligation.paid_cents)):
        assert 0 <= obligation.paid_cents <= obligation.amount_cents, obligation
        assert obligation.paid_cents == live[obligation.id], (obligation, live[obligation.id])
    for used in (Counter(o.key for o in orders), Counter(o.end_to_end_id for o in orders),
                 Counter(d.end_to_end_id for day in bank.days.values() for d in day.debits)):
        assert all(n == 1 for n in used.values()), [e for e, n in used.items() if n > 1]


def check_lines(session, imported: list[BankFile], clients: dict[int, ClientModel]) -> int:
    """Each line of the imported files is one statement line: every statement entry, and every
    notified item unless a handler attributed its entry (lump sum) before the notification
    came (the first itemisation wins: DESIGN §7); money matched by reference is on the client
    whose reference it carries. Returns the incoming lines in suspense."""
    rows = session.execute(select(StatementLine.archive_id, StatementLine.level,
                                  StatementLine.state, StatementLine.amount_cents,
                                  StatementLine.reference, StatementLine.client_id,
                                  StatementLine.match_rule)).all()
    counted = Counter(row.archive_id for row in rows)
    assert all(n == 1 for n in counted.values()), [a for a, n in counted.items() if n > 1]
    entries = {row.archive_id: row.state for row in rows if row.level == "entry"}
    items = {row.archive_id for row in rows if row.level == "item"}
    sent_entries, sent_items = set(), {}
    for file in imported:
        sent_entries |= file.entries
        sent_items.update(file.items)
    assert set(entries) == sent_entries, (sorted(set(entries) ^ sent_entries))
    assert items <= set(sent_items), sorted(items - set(sent_items))
    missing = [item for item, parent in sent_items.items()
               if item not in items and entries.get(parent, BANK_ONLY) == BANK_ONLY]
    assert not missing, missing
    for row in rows:
        if row.match_rule == "reference":
            owner = clients[row.client_id]
            assert row.reference in (owner.reference, owner.rf_reference), row
    return sum(1 for row in rows if row.state == IN_SUSPENSE and row.amount_cents > 0)


def archive_ids(content: bytes) -> tuple[set[str], dict[str, str]]:
    """The archive ids a camt file gives statement lines: a statement's entries (camt.053), and
    a notification's items (camt.054: item -> its entry, which is the statement's to book)."""
    root = etree.fromstring(content)
    notification = root.find("{*}BkToCstmrDbtCdtNtfctn") is not None
    entries, items = set(), {}
    for entry in root.iter("{*}Ntry"):
        archive = entry.findtext("{*}AcctSvcrRef")
        if notification:
            items.update((ref.text, archive) for ref in entry.iterfind(
                "{*}NtryDtls/{*}TxDtls/{*}Refs/{*}AcctSvcrRef"))
        else:
            entries.add(archive)
    return entries, items

