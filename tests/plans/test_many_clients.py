"""Opening, planning and approving many clients in one call (a county moving its clients in)
stores exactly what one call per client stores: the same rows, audit entries and answers."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timezone

import pytest
from helpers.scenario import LANDLORD, UTILITY, world, world_actors
from sqlalchemy import select

from valitystili.base.errors import ValidationError
from valitystili.demo.data import LANDLORDS, UTILITIES, iban, people, plan_toml
from valitystili.oversight import plan_check
from valitystili.people import clients, payees
from valitystili.people.clients import HetuTaken, Opening
from valitystili.plans import plans
from valitystili.plans.plans import Approval, PlanText
from valitystili.store import db
from valitystili.store.models import (
    AuditEntry,
    AuditPersonal,
    Client,
    Plan,
    PlanIncome,
    PlanItem,
)
from valitystili.trust.audit import PERSONAL_HASH

START = date(2026, 11, 1)
REVIEW = date(2027, 5, 1)
APPROVED_AT = datetime(2026, 10, 28, 9, 30, tzinfo=timezone.utc)
SHORT = "income short of the rent: paid in part, arrears agreed with the landlord"
#: Twelve of the demo's people: both languages, every criterion, fixed and even instalments,
#: a plan without electricity and one short of the rent (not adding up: approved despite).
PERSONS = people(12)


def demo_world(session) -> None:
    """The scenario world with the demo's landlords and utilities as payees."""
    w = world(session)
    accounts = random.Random(7)
    for name, kind in LANDLORDS + UTILITIES:
        if name in (LANDLORD, UTILITY):     # the world has these two already
            continue
        payees.add_payee(session, w.hannu, name=name, iban=iban(accounts), kind=kind)


def opening(person, n: int) -> Opening:
    # The third is asked nothing (warned about); the others answer every question.
    return Opening(hetu=person.hetu, name=person.name, iban=person.iban,
                   criterion=person.criterion, worker="sanna", start_on=START,
                   criterion_reason="securing a debt-restructuring programme"
                   if person.criterion == "other_weighty" else None,
                   review_on=REVIEW, language=person.language,
                   exclusions=None if n == 2 else {
                       "guardianship_need": False, "subsidy_against_will": False,
                       "kela_pays_landlord": False})


def reason(person) -> str | None:
    return SHORT if person.short_of_rent else None


def second_version(person) -> str:
    return plan_toml(person, REVIEW).replace('keep = "0.00"', 'keep = "10.00"')


def one_by_one(session) -> list:
    w = world_actors()
    answers = [clients.open_client(session, w.sanna, today=START, **vars(opening(p, n)))
               for n, p in enumerate(PERSONS)]
    numbers = [str(card["client"]) for card in answers]
    answers += [plans.set_plan(session, w.sanna, number, plan_toml(p, REVIEW),
                               effective_on=START, today=START)
                for number, p in zip(numbers, PERSONS)]
    answers += [plan_check.approve_plan(session, w.hannu, number, despite=reason(p),
                                        at=APPROVED_AT)
                for number, p in zip(numbers, PERSONS)]
    answers += [plans.set_plan(session, w.sanna, number, second_version(p),
                               effective_on=date(2026, 12, 1), today=START)
                for number, p in zip(numbers[:3], PERSONS)]
    answers += [plan_check.approve_plan(session, w.hannu, number, at=APPROVED_AT)
                for number in numbers[:3]]
    return answers


def all_at_once(session) -> list:
    w = world_actors()
    answers = clients.open_clients(session, w.sanna, [opening(p, n) for n, p in
                                                      enumerate(PERSONS)], today=START)
    numbers = [str(card["client"]) for card in answers]
    answers += plans.set_plans(session, w.sanna, [
        PlanText(number, plan_toml(p, REVIEW), START) for number, p in zip(numbers, PERSONS)],
        today=START)
    answers += plan_check.approve_plans(session, w.hannu, [
        Approval(number, despite=reason(p)) for number, p in zip(numbers, PERSONS)],
        at=APPROVED_AT)
    answers += plans.set_plans(session, w.sanna, [
        PlanText(number, second_version(p), date(2026, 12, 1))
        for number, p in zip(numbers[:3], PERSONS)], today=START)
    answers += plan_check.approve_plans(session, w.hannu,
                                        [Approval(number) for number in numbers[:3]],
                                        at=APPROVED_AT)
    return answers


def stored(session) -> dict:
    """Everything the services wrote, without the moments rows were written at and the
    audit trail's hashes (they cover those moments) and salts."""
    def rows(model, *skip):
        columns = [c for c in model.__table__.columns if c.name not in skip]
        return [tuple(row) for row in session.execute(
            select(*columns).order_by(model.__table__.c.id)).all()]

    entries = session.execute(select(AuditEntry).order_by(AuditEntry.position)).scalars().all()
    personal = dict(session.execute(select(AuditPersonal.entry_hash,
                                           AuditPersonal.personal)).all())
    trail = []
    for entry in entries:
        detail = json.loads(entry.detail)
        detail.pop(PERSONAL_HASH, None)
        values = json.loads(personal[entry.hash])["values"] if entry.hash in personal else None
        trail.append((entry.position, entry.actor, entry.action, entry.client_id,
                      entry.subject, detail, values))
    return {"clients": rows(Client, "created_at", "reference", "rf_reference", "ledger_code"),
            "references": rows(Client, "created_at", "hetu", "name"),
            "plans": rows(Plan, "created_at"), "items": rows(PlanItem),
            "incomes": rows(PlanIncome), "trail": trail}


@pytest.fixture
def two_ledgers(engine, second_url):
    second = db.make_engine(second_url)
    db.upgrade(second)
    factories = db.session_factory(engine), db.session_factory(second)
    for factory in factories:
        with factory() as session, session.begin():
            demo_world(session)
    yield factories
    second.dispose()


def test_many_in_one_call_store_what_one_call_each_stores(two_ledgers):
    single, bulk = two_ledgers
    with single() as session, session.begin():
        single_answers = one_by_one(session)
    with bulk() as session, session.begin():
        bulk_answers = all_at_once(session)
    assert len(bulk_answers) == len(single_answers) == 3 * 12 + 2 * 3
    assert bulk_answers == single_answers
    with single() as one, bulk() as other:
        expected, got = stored(one), stored(other)
        despite = other.execute(select(Plan.client_id, Plan.version, Plan.approved_despite)
                                .where(Plan.approved_despite.is_not(None))).all()
    assert got == expected
    trail = [(action, subject) for _p, _a, action, _c, subject, _d, _v in got["trail"]]
    assert trail.count(("plan.approve", "plan:6:1")) == 1 and ("plan.set", "plan:3:2") in trail
    assert despite == [(6, 1, SHORT)]       # the sixth person is short of the rent


def test_an_identity_code_twice_or_taken_opens_nobody(session):
    demo_world(session)
    session.commit()
    w = world_actors()
    twice = [opening(PERSONS[0], 0), opening(PERSONS[1], 1), opening(PERSONS[0], 0)]
    with pytest.raises(ValidationError, match=r"henkilötunnus \d{6}-\*\*\*\* is given twice"):
        clients.open_clients(session, w.sanna, twice, today=START)
    session.rollback()
    assert session.execute(select(Client.id)).all() == []
    clients.open_clients(session, w.sanna, [opening(PERSONS[1], 1)], today=START)
    session.commit()
    with pytest.raises(HetuTaken, match="already belongs to client 1 \\(open\\)") as taken:
        clients.open_clients(session, w.sanna, [opening(PERSONS[0], 0), opening(PERSONS[1], 1)],
                             today=START)
    assert taken.value.client_id == 1
    session.rollback()
    assert session.execute(select(Client.id)).scalars().all() == [1]


def test_one_plan_not_adding_up_without_a_reason_approves_none(session):
    demo_world(session)
    w = world_actors()
    opened = clients.open_clients(session, w.sanna, [opening(p, n) for n, p in
                                                     enumerate(PERSONS[:6])], today=START)
    numbers = [str(card["client"]) for card in opened]
    plans.set_plans(session, w.sanna, [PlanText(number, plan_toml(p, REVIEW), START)
                                       for number, p in zip(numbers, PERSONS)], today=START)
    session.commit()
    with pytest.raises(ValidationError, match="plan version 1 of client 6 does not add up"):
        plan_check.approve_plans(session, w.hannu, [Approval(number) for number in numbers])
    session.rollback()
    assert session.execute(select(Plan.id).where(Plan.approved_by.is_not(None))).all() == []


def test_a_client_named_twice_in_one_call_is_refused(session):
    demo_world(session)
    w = world_actors()
    number = str(clients.open_clients(session, w.sanna, [opening(PERSONS[0], 0)],
                                      today=START)[0]["client"])
    with pytest.raises(ValidationError, match="client 1 is named twice"):
        plans.set_plans(session, w.sanna, [PlanText(number, plan_toml(PERSONS[0], REVIEW),
                                                    START)] * 2, today=START)
