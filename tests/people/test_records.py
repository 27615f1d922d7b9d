"""The client's service record: each kind added, superseded and shown; a withdrawn consent
raises a flag; bad input is one line and writes nothing (both backends)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import client, world
from sqlalchemy import func, select

from valitystili.base.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from valitystili.flags import service_record
from valitystili.oversight import card
from valitystili.people import clients, records
from valitystili.store.models import AuditEntry, ClientRecord, Flag

D = date
TODAY = D(2026, 11, 20)

#: One record of each kind as the worker (or, for a decision, the handler) gives it, and the
#: correction that supersedes it: (kind, who, date, fields, correction, stored values).
KINDS = [
    ("assessment", "sanna", D(2026, 9, 20), {"reference": "SOS-2026-1234"},
     {"reference": "SOS-2026-1243"},
     {"start_on": None, "end_on": None, "review_on": None,
      "detail": {"reference": "SOS-2026-1243", "worker": "sanna"},
      "summary": "by sanna; social-welfare record SOS-2026-1243"}),
    ("consent", "sanna", D(2026, 9, 25),
     {"incomes": "housing allowance, social assistance", "payments": "rent"},
     {"payments": "rent, electricity"},
     {"start_on": None, "end_on": None, "review_on": None,
      "detail": {"incomes": "housing allowance, social assistance",
                 "payments": "rent, electricity"},
      "summary": "incomes: housing allowance, social assistance; payments: rent, electricity"}),
    ("power_of_attorney", "sanna", D(2026, 9, 25),
     {"scope": "rent matters", "to": "Vaasan Asunnot Oy", "until": D(2027, 9, 30)},
     {"until": D(2027, 10, 31)},
     {"start_on": None, "end_on": D(2027, 10, 31), "review_on": None,
      "detail": {"scope": "rent matters", "to": "Vaasan Asunnot Oy"},
      "summary": "to Vaasan Asunnot Oy: rent matters until 31.10.2027"}),
    ("ev241n", "sanna", D(2026, 9, 28), {"benefits": "housing allowance"},
     {"benefits": "housing allowance, basic social assistance"},
     {"start_on": None, "end_on": None, "review_on": None,
      "detail": {"benefits": "housing allowance, basic social assistance"},
      "summary": "benefits: housing allowance, basic social assistance"}),
    ("decision", "hannu", D(2026, 9, 30),
     {"grounds": "rent arrears twice", "start": D(2026, 10, 1), "review": D(2027, 2, 1)},
     {"review": D(2027, 1, 15), "reference": "SOS/123/2026"},
     {"start_on": D(2026, 10, 1), "end_on": None, "review_on": D(2027, 1, 15),
      "detail": {"grounds": "rent arrears twice", "reference": "SOS/123/2026"},
      "summary": "1.10.2026–until further notice, review 15.1.2027; grounds: rent arrears "
                 "twice"}),
]


def actor(w, name):
    return getattr(w, name)


@pytest.mark.parametrize("kind, who, dated, fields, correction, stored", KINDS,
                         ids=[k[0] for k in KINDS])
def test_each_kind_is_added_superseded_and_shown(session, kind, who, dated, fields,
                                                 correction, stored):
    w = world(session)
    client(session, w)
    first = records.add_record(session, actor(w, who), "1", kind, dated_on=dated,
                               fields=dict(fields))
    assert (first["record"], first["kind"], first["dated_on"], first["supersedes"],
            first["recorded_by"]) == (1, kind, dated, None, who)
    second = records.add_record(session, actor(w, who), "1", kind, fields=dict(correction),
                                supersedes=1)
    assert {key: second[key] for key in stored} == stored
    assert (second["record"], second["dated_on"], second["supersedes"]) == (2, dated, 1)

    shown = card.show_client(session, w.hannu, "1", today=TODAY)["records"]
    assert [(r["record"], r["kind"], r["state"], r["supersedes"]) for r in shown] == [
        (1, kind, "superseded by 2", None),
        (2, kind, "in force, valid until 31.10.2027" if kind == "power_of_attorney"
         else "in force", 1)]
    entries = session.execute(select(AuditEntry).where(AuditEntry.action == "client.record")
                              .order_by(AuditEntry.position)).scalars().all()
    assert [(e.actor, e.client_id, e.subject) for e in entries] == [
        (who, 1, "record:1"), (who, 1, "record:2")]
    correction_entry = json.loads(entries[1].detail)
    assert (correction_entry["old"]["record"], correction_entry["old"]["state"],
            correction_entry["new"]["record"]) == (1, "superseded by 2", 2)
    # Never deleted, never changed: both rows are there as written.
    assert session.execute(select(func.count()).select_from(ClientRecord)).scalar_one() == 2


def test_a_record_is_superseded_once_and_the_correction_is_corrected_next(session):
    w = world(session)
    client(session, w)
    records.add_record(session, w.sanna, "1", "assessment", dated_on=D(2026, 9, 20),
                       fields={"reference": "A-1"})
    records.add_record(session, w.sanna, "1", "assessment", fields={"reference": "A-2"},
                       supersedes=1)
    with pytest.raises(Conflict) as caught:
        records.add_record(session, w.sanna, "1", "assessment", fields={"reference": "A-3"},
                           supersedes=1)
    assert str(caught.value) == ("record 1 is already superseded by record 2; supersede "
                                 "record 2 instead")
    third = records.add_record(session, w.sanna, "1", "assessment", fields={"reference": "A-3"},
                               supersedes=2)
    assert (third["record"], third["supersedes"], third["detail"]["reference"]) == (3, 2, "A-3")


def test_withdrawing_the_consent_ends_it_and_raises_a_flag_until_a_new_consent(session):
    w = world(session)
    client(session, w)
    service_record.record(session, w.sanna, "1", "consent", dated_on=D(2026, 9, 25),
                          fields={"incomes": "housing allowance", "payments": "rent"},
                          on=TODAY)
    withdrawn, flags = service_record.record(session, w.sanna, "1", "consent",
                                             fields={"withdrawn": D(2027, 1, 15)}, on=TODAY)
    assert (withdrawn["record"], withdrawn["supersedes"], withdrawn["dated_on"],
            withdrawn["end_on"], withdrawn["detail"], withdrawn["state"]) == (
        2, 1, D(2027, 1, 15), D(2027, 1, 15),
        {"incomes": "housing allowance", "payments": "rent"}, "withdrawn 15.1.2027")
    stored = session.execute(select(Flag.kind, Flag.subject, Flag.client_id, Flag.detail,
                                    Flag.resolved_at)).all()
    assert [tuple(row) for row in stored] == [
        ("consent_withdrawn", "consent:1:2", 1,
         "consent withdrawn 15.1.2027 (record 2): the service must close or change — close "
         "the client, or record a new consent", None)]
    assert [f.subject for f in flags] == ["consent:1:2"]
    assert card.show_client(session, w.hannu, "1", today=TODAY)["open_flags"][0]["kind"] == \
        "consent_withdrawn"
    with pytest.raises(Conflict) as caught:
        records.add_record(session, w.sanna, "1", "consent", fields={"withdrawn": D(2027, 2, 1)})
    assert str(caught.value) == "client 1 has no consent in force to end with --withdrawn"

    service_record.record(session, w.sanna, "1", "consent", dated_on=D(2027, 1, 20),
                          fields={"incomes": "housing allowance", "payments": "rent"},
                          on=D(2027, 1, 20))
    assert session.execute(select(Flag.resolved_at)).scalar_one() == D(2027, 1, 20)


def test_the_nightly_refresh_keeps_the_consent_flag_and_resolves_it_when_closed(session):
    from valitystili.flags.conditions import refresh_flags

    w = world(session)
    client(session, w)
    records.add_record(session, w.sanna, "1", "consent", dated_on=D(2026, 9, 25),
                       fields={"incomes": "pension", "payments": "rent"})
    records.add_record(session, w.sanna, "1", "consent", fields={"withdrawn": D(2026, 11, 5)})
    assert refresh_flags(session, TODAY)["consent_withdrawn"] == {"open": 1, "resolved": 0}
    clients.close_client(session, w.sanna, "1", closed_on=D(2026, 11, 30))
    assert refresh_flags(session, TODAY)["consent_withdrawn"] == {"open": 0, "resolved": 1}


def test_a_payment_demand_ends_with_its_date_also_after_closing(session):
    w = world(session)
    client(session, w)
    records.add_record(session, w.sanna, "1", "ev241n", dated_on=D(2026, 9, 28),
                       fields={"benefits": "housing allowance"})
    assert [r.id for r in records.open_payment_demands(session, 1)] == [1]
    clients.close_client(session, w.sanna, "1", closed_on=D(2026, 11, 30))
    with pytest.raises(Conflict) as caught:
        records.add_record(session, w.sanna, "1", "assessment", dated_on=D(2026, 12, 1),
                           fields={"reference": "A-9"})
    assert str(caught.value) == ("client 1 was closed on 30.11.2026: only an end (consent "
                                 "--withdrawn, ev241n --ended) may be recorded on a closed "
                                 "client")
    ended = records.add_record(session, w.sanna, "1", "ev241n",
                               fields={"ended": D(2026, 11, 30)})
    assert (ended["supersedes"], ended["state"], ended["detail"]) == (
        1, "ended 30.11.2026", {"benefits": "housing allowance"})
    assert records.open_payment_demands(session, 1) == []


def test_the_other_weighty_criterion_needs_its_reason(session):
    w = world(session)
    with pytest.raises(ValidationError) as caught:
        client(session, w, criterion="other_weighty")
    assert str(caught.value) == ("criterion other_weighty needs the reason "
                                 "(--criterion-reason), e.g. securing a debt-restructuring "
                                 "programme")
    client(session, w, criterion="other_weighty",
           criterion_reason="securing a debt-restructuring programme")
    assert card.show_client(session, w.hannu, "1", today=TODAY)["criterion_reason"] == \
        "securing a debt-restructuring programme"
    decision = {"grounds": "g", "start": D(2026, 10, 1), "review": D(2027, 2, 1),
                "criterion": "other_weighty"}
    with pytest.raises(ValidationError) as caught:
        records.add_record(session, w.hannu, "1", "decision", dated_on=D(2026, 9, 30),
                           fields=decision)
    assert str(caught.value) == ("criterion other_weighty needs the reason (--reason), e.g. "
                                 "securing a debt-restructuring programme")
    made = records.add_record(session, w.hannu, "1", "decision", dated_on=D(2026, 9, 30),
                              fields={**decision, "reason": "debt programme"})
    assert made["summary"] == ("1.10.2026–until further notice, review 1.2.2027; criterion "
                               "other_weighty (debt programme); grounds: g")


@pytest.mark.parametrize("who, kind, options, error, message", [
    ("sanna", "visit", {"dated_on": D(2026, 10, 1)}, ValidationError,
     "unknown record kind 'visit'; the kinds are assessment, consent, power_of_attorney, "
     "ev241n, decision"),
    ("hannu", "decision", {"dated_on": D(2026, 9, 30),
                           "fields": {"grounds": "g", "start": D(2026, 9, 1),
                                      "review": D(2027, 2, 1)}},
     ValidationError, "--start 1.9.2026 is before the client's start 1.10.2026"),
    ("sanna", "consent", {"dated_on": D(2026, 9, 1),
                          "fields": {"incomes": "i", "payments": "p",
                                     "withdrawn": D(2026, 9, 15)}},
     ValidationError, "--withdrawn 15.9.2026 is before the client's start 1.10.2026"),
    ("sanna", "power_of_attorney", {"dated_on": D(2026, 11, 1),
                                    "fields": {"scope": "s", "to": "t",
                                               "until": D(2026, 10, 31)}},
     ValidationError, "--until 31.10.2026 is before the power of attorney's date 1.11.2026"),
    ("sanna", "consent", {"dated_on": D(2026, 10, 1), "fields": {"incomes": "i",
                                                                 "grounds": "g"}},
     ValidationError, "--grounds is not a field of a consent record; it takes --date, "
                      "--incomes, --payments, --withdrawn and --supersedes"),
    ("sanna", "consent", {"dated_on": D(2026, 10, 1), "fields": {"incomes": "i"}},
     ValidationError, "a consent record needs --payments"),
    ("sanna", "ev241n", {"fields": {"benefits": "b"}}, ValidationError,
     "give the date of the ev241n (--date DATE)"),
    ("sanna", "decision", {"dated_on": D(2026, 10, 1)}, PermissionDenied,
     "user sanna (social_worker) may not client decide; allowed roles: handler"),
    ("fiona", "consent", {"dated_on": D(2026, 10, 1)}, PermissionDenied,
     "user fiona (finance) may not client record; allowed roles: handler, social_worker"),
    ("sanna", "assessment", {"dated_on": D(2026, 10, 1),
                             "fields": {"reference": "r", "worker": "hannu"}},
     ValidationError, "worker hannu is a handler, not a social_worker"),
    ("sanna", "assessment", {"dated_on": D(2026, 10, 1), "fields": {"reference": "r"},
                             "supersedes": 9}, NotFound, "client 1 has no record 9"),
    ("sanna", "consent", {"dated_on": D(2026, 10, 1), "fields": {"incomes": "i",
                                                                 "payments": "p"},
                          "supersedes": 1}, ValidationError,
     "record 1 is a assessment: a consent record cannot supersede it"),
])
def test_bad_records_are_refused_and_nothing_is_written(session, who, kind, options, error,
                                                       message):
    w = world(session)
    client(session, w)
    records.add_record(session, w.sanna, "1", "assessment", dated_on=D(2026, 9, 20),
                       fields={"reference": "A-1"})
    before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    options = {key: (dict(value) if isinstance(value, dict) else value)
               for key, value in options.items()}
    with pytest.raises(error) as caught:
        records.add_record(session, actor(w, who), "1", kind, **options)
    assert str(caught.value) == message
    assert session.execute(select(func.count()).select_from(ClientRecord)).scalar_one() == 1
    assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before
