"""The demo: the main job end to end on a fresh SQLite ledger.

For every banking day of the demo months, in the order a county works:
1. morning: finance imports the previous banking day's camt.053 statement;
2. the bank pays Kela's benefits and relatives' reference payments into the city account, and
   finance imports the day's camt.054 notification;
3. a handler runs the batch, another approves it, and it is exported as pain.001; the simulated
   bank executes the file (one payee account is closed, so a payment comes back);
4. at each month end and at the end, ``reconcile`` checks the books and refreshes the flags.

After every day's batch the demo looks at its clients short of the rent (``checks``: money idle
while rent is open); at the end the summary adds two computed lines, ``instalment_months``
(clients with a covering plan and a month without instalments) and ``short_of_rent``.

At the end each client's letter for the last month (``report statement``) is written into
``letters/`` as text and as the HTML page, from the sender in ``LETTER_SENDER``. The summary
says what the reconciliation result means next to the open flags (``reconcile_means``), gives
the returned payments in euros too, and ends with the commands to look around the ledger
(``look_around``).

The summary's words (``checks``: ``instalment_months``, ``short_of_rent``, ``reconcile_means``,
``letters``) are English in the returned summary, as JSON always is; ``translated=True`` (the
command's table for people) makes them in the current language instead.

Everything goes through the same service functions the CLI uses, as the same users and roles.
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

import ledger
from valitystili import payments as batches
from valitystili.base import i18n
from valitystili.base.accounts import CLIENT_PREFIX, OUTGOING, SUSPENSE, bank_account
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import _
from valitystili.demo import checks
from valitystili.demo.bank import Credit, SimulatedBank
from valitystili.demo.data import LANDLORDS, UTILITIES, Person, iban, people, plan_toml
from valitystili.plans.expected import income_arrivals
from valitystili.store import db
from valitystili.store.chunks import chunks
from valitystili.store.models import Client, Flag, PaymentOrder
from valitystili.trust import configuration, users
from valitystili.trust.auth import Actor

CITY_IBAN = "FI7433010001222090"
CITY_BIC = "ESSEFIHX"
ADMIN = Actor("admin", "admin")
WORKER = Actor("sanna", "social_worker")
HANDLER = Actor("hannu", "handler")
APPROVER = Actor("hilla", "handler")
FINANCE = Actor("fiona", "finance")
AUDITOR = Actor("aune", "auditor")
#: Clients opened, planned and approved in one call each while the demo sets up.
SET_UP_PART = 1000
CLOSED_ACCOUNT_EVERY = 97      # every 97th client's own account is closed: a returned payment
# Kela's messages carry its decision number; the demo's handler knows whose decision it is, as a
# handler does from the client's papers. The tool itself never relies on it.
DECISION_BASE = 4_000_000
#: The reason the demo's social worker gives for the criterion other_weighty (it needs one).
OTHER_WEIGHTY_REASON = "securing a debt-restructuring programme"
#: Written into every folder the demo makes; only such a folder is ever cleared by the demo.
MARKER = ".valitystili-demo"
#: The sender of the clients' letters (settings ``letter_*``, set by the demo's admin).
LETTER_SENDER = {
    "letter_organisation": "Vaasan kaupunki, sosiaalipalvelut",
    "letter_organisation_sv": "Vasa stad, socialtjänsten",
    "letter_organisation_en": "City of Vaasa, social services",
    "letter_handler": "Hannu Hoitaja",
    "letter_phone": "06 325 1111",
    "letter_hours": "ma–pe klo 9–11",
    "letter_hours_sv": "mån–fre kl. 9–11",
    "letter_hours_en": "Mon–Fri 9–11",
}


@dataclass
class Totals:
    money_in_cents: int = 0
    paid: Counter = None
    days: int = 0
    batches: int = 0
    files: int = 0
    assigned: int = 0
    watched: int = 0              # short clients' days with rent open after the batch
    idle: list = None             # checks.IdleMoney found on those days

    def __post_init__(self):
        self.paid = Counter()
        self.idle = []


def run_demo(out_dir: Path, *, clients: int = 200, months: int = 1, start: date = date(2026, 11, 1),
             seed: int = 2026, progress=None, url: str | None = None,
             translated: bool = False) -> dict:
    """Run the demo in ``out_dir``; its database is SQLite in that folder unless ``url`` names
    an empty one (the tests run the demo on PostgreSQL that way). The summary's words are
    English unless ``translated`` (then the current language's: for a table, never JSON)."""
    out_dir = Path(out_dir)
    _fresh_folder(out_dir)
    for sub in ("statements", "payments", "letters"):
        (out_dir / sub).mkdir(mode=0o700)
    database = url or str(out_dir / "demo.db")
    engine = db.make_engine(url or f"sqlite:///{database}")
    db.upgrade(engine)
    factory = db.session_factory(engine)

    persons = people(clients, seed)
    bank = SimulatedBank(CITY_IBAN, CITY_BIC, opening_cents=0)
    numbers = _set_up(factory, persons, start)
    with factory() as session:
        short = checks.short_clients(session)
    closed_accounts = frozenset(p.iban for n, p in enumerate(persons) if n % CLOSED_ACCOUNT_EVERY == 50)

    end = start + relativedelta(months=months) - timedelta(days=1)
    days = CALENDAR.banking_days(start, end)
    totals = Totals()
    previous: date | None = None
    month_ends = {CALENDAR.on_or_before(start + relativedelta(months=m + 1) - timedelta(days=1))
                  for m in range(months)}
    reconciled: list[dict] = []
    iterator = progress(days) if progress else days
    for day in iterator:
        if previous is not None:
            _import(factory, out_dir / "statements" / f"camt053-{previous.isoformat()}.xml",
                    bank.camt053(previous), day)
            bank.forget(previous)
        totals.money_in_cents += _pay_in(bank, persons, numbers, day)
        notification = bank.camt054(day)
        if notification is not None:
            _import(factory, out_dir / "statements" / f"camt054-{day.isoformat()}.xml", notification, day)
            totals.assigned += _assign_unmatched(factory, day)
        with factory() as session, session.begin():
            run = batches.run_batch(session, HANDLER, day)
        if run["orders"]:
            with factory() as session, session.begin():
                batches.approve_batch(session, APPROVER, str(run["batch"]), today=day)
            path = out_dir / "payments" / f"pain001-{day.isoformat()}.xml"
            with factory() as session, session.begin():
                batches.export_batch(session, FINANCE, str(run["batch"]), path, today=day)
            bank.execute_pain001(path.read_bytes(), closed_accounts)
            totals.batches += 1
            totals.files += 1
        _watch_idle(factory, short, day, totals)   # after approval has debited the clients
        totals.days += 1
        previous = day
        if day in month_ends:
            _import(factory, out_dir / "statements" / f"camt053-{day.isoformat()}.xml",
                    bank.camt053(day), day)
            bank.forget(day)
            previous = None
            reconciled.append(_reconcile(factory, day))

    letters = _write_letters(factory, out_dir / "letters", end)
    with _speaking(translated):
        summary = _summary(factory, totals, reconciled, database, out_dir, start, end,
                           _computed_lines(factory, short, start, end, totals), letters)
    engine.dispose()
    return summary


@contextmanager
def _speaking(translated: bool) -> Iterator[None]:
    """The summary's words in the current language when ``translated``, else in English."""
    previous = i18n.set_language(i18n.language() if translated else i18n.DEFAULT)
    try:
        yield
    finally:
        i18n.set_language(previous)


def _set_up(factory, persons: list[Person], start: date) -> dict[str, int]:
    from valitystili.oversight import plan_check
    from valitystili.people import banks, payees
    from valitystili.people import clients as clients_service
    from valitystili.plans import plans

    with factory() as session, session.begin():
        users.bootstrap_admin(session, ADMIN.name)
        for actor in (WORKER, HANDLER, APPROVER, FINANCE, AUDITOR):
            users.add_user(session, ADMIN, actor.name, actor.role)
        banks.add_bank_account(session, ADMIN, iban=CITY_IBAN, name="Välitystili", bic=CITY_BIC)
        for key, value in LETTER_SENDER.items():
            configuration.put(session, ADMIN, key, value)
        import random

        rng = random.Random(7)
        for name, kind in LANDLORDS + UTILITIES:
            payees.add_payee(session, HANDLER, name=name, iban=iban(rng), kind=kind)
    numbers: dict[str, int] = {}
    with factory() as session, session.begin():
        for part in chunks(persons, SET_UP_PART):
            opened = clients_service.open_clients(session, WORKER, [clients_service.Opening(
                hetu=person.hetu, name=person.name, iban=person.iban,
                criterion=person.criterion, worker=WORKER.name, start_on=start,
                criterion_reason=OTHER_WEIGHTY_REASON if person.criterion == "other_weighty"
                else None,
                review_on=start + relativedelta(months=6), language=person.language,
                exclusions={"guardianship_need": False, "subsidy_against_will": False,
                            "kela_pays_landlord": False}) for person in part], today=start)
            numbers.update((person.hetu, int(card["client"])) for person, card in zip(part, opened))
            plans.set_plans(session, WORKER, [plans.PlanText(
                str(numbers[person.hetu]), plan_toml(person, start + relativedelta(months=6)),
                effective_on=start) for person in part], today=start)
            # A plan whose income does not cover the rent is approved only with a reason.
            plan_check.approve_plans(session, HANDLER, [plans.Approval(
                str(numbers[person.hetu]), despite=(
                    "income short of the rent: paid in part, arrears agreed with the landlord"
                    if person.short_of_rent else None)) for person in part])
    return numbers


def _pay_in(bank: SimulatedBank, persons: list[Person], numbers: dict[str, int], day: date) -> int:
    """Credit the day's benefits (Kela, matched by expected income) and relatives' payments
    (with the client's reference) to the simulated bank."""
    from valitystili.base.identifiers import client_reference

    total = 0
    # Every plan has the same two incomes on the same schedule: whether each arrives today is
    # asked once, not once per client.
    arriving = {kind for kind in ("basic_social_assistance", "housing_allowance")
                if income_arrivals(kind, "FREQ=MONTHLY;BYMONTHDAY=1", day, day)}
    for person in persons:
        for kind, cents, label in (("basic_social_assistance", person.assistance_cents, "TOIMEENTULOTUKI"),
                                   ("housing_allowance", person.allowance_cents, "ASUMISTUKI")):
            if kind in arriving:
                decision = DECISION_BASE + numbers[person.hetu]
                bank.credit(day, Credit(cents, "Kansaneläkelaitos Kela", "FI6416603000107220",
                                        message=f"KELA {label} {day:%m/%Y} {person.name.upper()} "
                                                f"PÄÄTÖS {decision}"))
                total += cents
        if person.pays_with_reference and day == CALENDAR.on_or_after(day.replace(day=10)):
            bank.credit(day, Credit(person.pays_with_reference, "Sukulainen",
                                    reference=client_reference(numbers[person.hetu])))
            total += person.pays_with_reference
    return total


def _watch_idle(factory, short: list[int], day: date, totals: Totals) -> None:
    with factory() as session:
        watched, idle = checks.idle_after_batch(session, short, day)
    totals.watched += watched
    totals.idle += idle


def _computed_lines(factory, short: list[int], start: date, end: date, totals: Totals) -> dict:
    """The summary's two lines of ``checks``, with the short clients' rent in cents."""
    with factory() as session:
        covering = checks.covering_clients(session)
        missing = checks.months_without_instalments(session, covering, start, end)
        rent = checks.short_of_rent(session, short, start, end, totals.watched, totals.idle)
    return {"instalment_months": checks.instalment_line(len(covering), missing),
            "short_of_rent": checks.short_line(rent),
            "short_rent_due_cents": rent.rent_due_cents,
            "short_rent_paid_cents": rent.rent_paid_cents}


def _import(factory, path: Path, content: bytes, day: date):
    from valitystili.statements import service

    path.write_bytes(content)
    with factory() as session, session.begin():
        return service.import_file(session, FINANCE, path, today=day)


def _assign_unmatched(factory, day: date) -> int:
    """The handler's daily round: attribute what the matcher would not guess (two clients of
    the same name with similar benefits) by the decision number in Kela's message."""
    import re

    from valitystili.statements import income

    with factory() as session, session.begin():
        lines = income.list_income(session, HANDLER, unmatched=True)
        found = [(line.line, re.search(r"PÄÄTÖS (\d+)", line.message or "")) for line in lines]
        assigned = income.assign_lines(session, HANDLER, [
            (line, str(int(decision.group(1)) - DECISION_BASE))
            for line, decision in found if decision], today=day)
    return len(assigned)


def _write_letters(factory, folder: Path, end: date) -> int:
    """Each client's letter for the demo's last month (or their closing month), as text and as
    the HTML page, dated the next banking day; how many clients got one."""
    from valitystili.oversight import letters

    dated = CALENDAR.on_or_after(end + timedelta(days=1))
    with factory() as session, session.begin():
        by_month: dict[date, list[int]] = defaultdict(list)
        for number, closed_on in session.execute(
                select(Client.id, Client.closed_on).order_by(Client.id)).all():
            by_month[min(end, closed_on) if closed_on else end].append(number)
        for month, numbers in by_month.items():
            for letter in letters.each_client_statement(session, HANDLER, numbers, month.year,
                                                        month.month, output="demo", today=dated):
                for form in ("text", "html"):
                    (folder / letters.letter_name(letter.client, month.year, month.month,
                                                  form)).write_text(
                        letters.render(letter, form), encoding="utf-8")
    return sum(len(numbers) for numbers in by_month.values())


def _reconcile(factory, day: date) -> dict:
    from valitystili.oversight import reconcile

    with factory() as session, session.begin():
        result = reconcile.reconcile(session, FINANCE, as_of=day, today=day)
    return {"clean": result.clean, "findings": [f.row() for f in result.findings],
            "summary": result.summary()}


def _fresh_folder(out_dir: Path) -> None:
    """An empty folder for the demo: a new one, an empty one, or one an earlier demo made.

    A folder holding anything else is refused and left as it is: ``--out`` pointed at the
    wrong place must never delete someone's files.
    """
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise ValidationError(_("{folder} is not a folder the demo can use").format(
            folder=out_dir))
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).is_file():
            raise ValidationError(_("{folder} is not empty and was not made by the demo; give a "
                                    "new or empty folder with --out").format(folder=out_dir))
        # The marker goes last (it is rewritten below): a demo stopped half-way through the
        # clearing leaves a folder the next demo still knows as its own.
        for entry in out_dir.iterdir():
            if entry.name == MARKER:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (out_dir / MARKER).write_text("Made by `valitystili demo`; the next demo run replaces "
                                  "this folder.\n", encoding="utf-8")


def _summary(factory, totals: Totals, reconciled: list[dict], database: str, out_dir: Path,
             start: date, end: date, computed: dict, letters: int) -> dict:
    with factory() as session:
        paid = defaultdict(int)
        for kind, total in session.execute(
                select(PaymentOrder.kind, func.sum(PaymentOrder.amount_cents))
                .where(PaymentOrder.status.in_(("approved", "exported", "cleared")))
                .group_by(PaymentOrder.kind)).all():
            paid[kind] = int(total)
        returned, returned_cents = session.execute(
            select(func.count(), func.coalesce(func.sum(PaymentOrder.amount_cents), 0))
            .where(PaymentOrder.status == "returned")).one()
        flags = dict(session.execute(select(Flag.kind, func.count()).where(Flag.resolved_at.is_(None))
                                     .group_by(Flag.kind)).all())
        held = sum(b.balance_cents for b in ledger.balances(session, prefix=CLIENT_PREFIX))
        bank_balance = ledger.balance(session, bank_account(CITY_IBAN))
        outgoing = ledger.balance(session, OUTGOING)
        suspense = ledger.balance(session, SUSPENSE)
        client_count = session.execute(select(func.count()).select_from(Client)).scalar_one()
    last = reconciled[-1] if reconciled else {}
    return {
        "period": f"{start.isoformat()} – {end.isoformat()}",
        "clients": client_count,
        "banking_days": totals.days,
        "money_in_cents": totals.money_in_cents,
        "rent_paid_cents": paid.get("rent", 0),
        "bills_paid_cents": paid.get("electricity", 0) + paid.get("other", 0),
        "instalments_paid_cents": paid.get("instalment", 0),
        "payments_returned": returned,
        "payments_returned_cents": int(returned_cents),
        "assigned_by_handler": totals.assigned,
        "held_for_clients_cents": held,
        "bank_balance_cents": bank_balance,
        "outgoing_cents": outgoing,
        "suspense_cents": suspense,
        "payment_files": totals.files,
        "open_flags": dict(sorted(flags.items())),
        "reconcile": "clean" if last.get("clean") else f"{len(last.get('findings', []))} findings",
        "reconcile_means": checks.reconcile_line(bool(last.get("clean")),
                                                 len(last.get("findings", [])), flags),
        **computed,
        "letters": checks.letters_line(letters, out_dir / "letters", end),
        "database": database,
        "files": str(out_dir),
        **checks.look_around_lines(database),
    }
