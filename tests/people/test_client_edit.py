"""`client edit`: each field changed and audited before and after; the IBAN waits for a second
person, and the next batch pays to the new one; bad input is one line and writes nothing
(both backends)."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import (
    CLIENT_IBAN,
    WORKED_EXAMPLE,
    client,
    plan,
    world,
    world_actors,
)
from oversight.test_reports_world import Money
from sqlalchemy import func, select

from valitystili import payments
from valitystili.base.errors import Conflict, PermissionDenied, ValidationError
from valitystili.flags.conditions import date_items
from valitystili.oversight import card
from valitystili.people import clients, edits
from valitystili.store.models import AuditEntry, Client, ClientEdit, PaymentOrder
from valitystili.trust import audit

W = world_actors()
TODAY = date(2026, 11, 20)
NEW_IBAN = "FI4950009420028730"


def entries(session, action: str) -> list[tuple]:
    found = session.execute(select(AuditEntry).where(AuditEntry.action == action)
                            .order_by(AuditEntry.position)).scalars().all()
    shown = audit.shown(session, found)      # the personal values put back
    return [(e.actor, e.client_id, e.subject, shown[e.hash]) for e in found]


@pytest.mark.parametrize("change, rows, stored, detail", [
    ({"name": "Maija Virtanen"},
     [("name", "Maija Meikäläinen", "Maija Virtanen")],
     {"name": "Maija Virtanen", "payment_name": "Maija Virtanen"},
     {"old": {"name": "Maija Meikäläinen", "payment_name": "Maija Meikäläinen"},
      "new": {"name": "Maija Virtanen", "payment_name": "Maija Virtanen"}}),
    ({"language": "sv"}, [("language", "fi", "sv")], {"language": "sv"},
     {"old": {"language": "fi"}, "new": {"language": "sv"}}),
    ({"worker": "saara"}, [("worker", "sanna", "saara")], {"worker": "saara"},
     {"old": {"worker": "sanna"}, "new": {"worker": "saara"}}),
    ({"review_on": date(2027, 3, 1)}, [("review_on", date(2027, 2, 1), date(2027, 3, 1))],
     {"review_on": date(2027, 3, 1), "review_plan_version": 0},
     {"old": {"review_on": "2027-02-01"}, "new": {"review_on": "2027-03-01"}}),
])
def test_each_field_changes_at_once_and_is_audited_before_and_after(session, change, rows,
                                                                   stored, detail):
    w = world(session)
    from valitystili.trust import users
    users.add_user(session, w.admin, "saara", "social_worker")
    client(session, w)
    changed = edits.edit_client(session, w.sanna, "1", today=TODAY, **change)
    assert [(r["field"], r["old"], r["new"], r["status"]) for r in changed] == [
        (*row, "changed") for row in rows]
    found = session.get(Client, 1)
    assert {key: getattr(found, key) for key in stored} == stored
    assert entries(session, "client.edit") == [("sanna", 1, "client:1", detail)]


def test_a_new_iban_waits_for_another_handler_then_the_next_batch_pays_to_it(session_factory):
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w, start_on=date(2026, 11, 1), review_on=date(2027, 2, 1))
        plan(session, w, number, WORKED_EXAMPLE, effective_on=date(2026, 11, 1),
             today=date(2026, 11, 1))
        Money(session).credit(1, 94000, date(2026, 11, 2))
    with session_factory() as session, session.begin():
        proposed = edits.edit_client(session, W.hannu, "1", iban=NEW_IBAN, today=TODAY)
        assert proposed == [{"client": 1, "field": "iban", "old": "FI55 4234 5670 0000 81",
                             "new": "FI49 5000 9420 0287 30", "status": "waiting for approval",
                             "edit": 1}]
        # Until approved the client's IBAN is the old one, and the card says what waits.
        assert session.get(Client, 1).iban == CLIENT_IBAN
        shown = card.show_client(session, W.fiona, "1", today=TODAY)
        assert [(e["edit"], e["new"], e["status"]) for e in shown["pending_edits"]] == [
            (1, "FI49 5000 9420 0287 30", "pending")]
    with session_factory() as session, session.begin():
        payments.run_batch(session, W.hannu, date(2026, 11, 2))
    with session_factory() as session, session.begin(), pytest.raises(Conflict) as caught:
        edits.approve_edit(session, W.hannu, 1)
    assert str(caught.value) == "four-eyes: hannu proposed edit 1; another handler must approve it"
    with session_factory() as session, session.begin(), pytest.raises(PermissionDenied):
        edits.approve_edit(session, W.sanna, 1)
    with session_factory() as session, session.begin():
        approved = edits.approve_edit(session, W.hilla, 1)
        assert (approved["status"], approved["decided_by"]) == ("approved", "hilla")
        assert (session.get(Client, 1).iban, session.get(Client, 1).bic) == (NEW_IBAN,
                                                                             "OKOYFIHH")
        assert entries(session, "client.edit.approve") == [
            ("hilla", 1, "client_edit:1",
             {"old": {"iban": CLIENT_IBAN, "bic": "ITELFIHH"},
              "new": {"iban": NEW_IBAN, "bic": "OKOYFIHH"}, "proposed_by": "hannu"})]
    with session_factory() as session, session.begin():
        payments.run_batch(session, W.hannu, date(2026, 11, 9))
    with session_factory() as session:
        instalments = session.execute(
            select(PaymentOrder.execution_on, PaymentOrder.creditor_iban)
            .where(PaymentOrder.kind == "instalment").order_by(PaymentOrder.id)).all()
    assert [tuple(row) for row in instalments] == [
        (date(2026, 11, 2), CLIENT_IBAN), (date(2026, 11, 9), NEW_IBAN)]


def test_a_waiting_change_is_rejected_or_withdrawn_and_one_waits_at_a_time(session):
    w = world(session)
    client(session, w)
    edits.edit_client(session, w.sanna, "1", iban=NEW_IBAN, today=TODAY)
    with pytest.raises(Conflict) as caught:
        edits.edit_client(session, w.sanna, "1", iban="FI2112345600000785", today=TODAY)
    assert str(caught.value) == ("client 1 already has an IBAN change waiting for approval "
                                 "(edit 1); approve or reject it first")
    withdrawn = edits.reject_edit(session, w.sanna, 1, reason="typed it wrong")
    assert (withdrawn["status"], withdrawn["decided_by"]) == ("withdrawn", "sanna")
    edits.edit_client(session, w.sanna, "1", iban="FI2112345600000785", today=TODAY)
    rejected = edits.reject_edit(session, w.hannu, 2, reason="the landlord's account")
    assert rejected["status"] == "rejected"
    assert [(a, s, d["reason"]) for a, _, s, d in entries(session, "client.edit.reject")] == [
        ("hannu", "client_edit:2", "the landlord's account")]
    assert session.get(Client, 1).iban == CLIENT_IBAN
    assert [(r["edit"], r["status"]) for r in edits.list_edits(session, w.fiona, "1",
                                                                all_statuses=True)] == [
        (1, "withdrawn"), (2, "rejected")]
    assert edits.list_edits(session, w.fiona) == []


def test_a_review_date_set_by_hand_counts_until_a_newer_plan_names_one(session):
    w = world(session)
    number = client(session, w)
    plan(session, w, number)                     # its review: 1.2.2027
    edits.edit_client(session, w.sanna, "1", review_on=date(2026, 12, 1), today=TODAY)
    shown = card.show_client(session, w.hannu, "1", today=date(2026, 11, 20))
    assert shown["review_on"] == date(2026, 12, 1)
    assert [(i.what, i.on) for i in date_items(session, date(2026, 11, 20))] == [
        ("review", date(2026, 12, 1))]
    plan(session, w, number, today=date(2026, 10, 20))    # version 2: 1.2.2027 again
    assert card.show_client(session, w.hannu, "1", today=date(2026, 11, 20))["review_on"] == \
        date(2027, 2, 1)
    assert date_items(session, date(2026, 11, 20)) == []


@pytest.mark.parametrize("who, change, error, message", [
    ("sanna", {"iban": "FI5542345670000082"}, ValidationError,
     "IBAN FI5542345670000082 has wrong check digits"),
    ("sanna", {"name": "Maija\tM"}, ValidationError,
     "client name contains the control character U+0009 (TAB)"),
    ("sanna", {"language": "de"}, ValidationError, "language 'de' is not one of fi, sv, en"),
    ("sanna", {"worker": "hannu"}, ValidationError,
     "worker hannu is a handler, not a social_worker"),
    ("sanna", {"review_on": date(2026, 11, 19)}, ValidationError,
     "review date 19.11.2026 is in the past"),
    ("sanna", {"language": "fi"}, ValidationError,
     "nothing to change: client 1 already has these details"),
    ("sanna", {}, ValidationError,
     "give what to change: --iban, --name, --language, --worker, --review or --until"),
    ("fiona", {"language": "sv"}, PermissionDenied,
     "user fiona (finance) may not client edit; allowed roles: handler, social_worker"),
])
def test_bad_edits_are_refused_and_nothing_is_written(session, who, change, error, message):
    w = world(session)
    client(session, w)
    before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    with pytest.raises(error) as caught:
        edits.edit_client(session, getattr(w, who), "1", today=TODAY, **dict(change))
    assert str(caught.value) == message
    assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before
    assert session.execute(select(func.count()).select_from(ClientEdit)).scalar_one() == 0
    found = session.get(Client, 1)
    assert (found.iban, found.name, found.language, found.worker, found.review_on) == (
        CLIENT_IBAN, "Maija Meikäläinen", "fi", "sanna", date(2027, 2, 1))


def test_a_closed_client_is_not_edited(session):
    w = world(session)
    client(session, w)
    clients.close_client(session, w.sanna, "1", closed_on=date(2026, 11, 30))
    with pytest.raises(ValidationError) as caught:
        edits.edit_client(session, w.sanna, "1", name="Maija Virtanen", today=TODAY)
    assert str(caught.value) == ("client 1 was closed on 30.11.2026: a closed client's details "
                                 "are not changed")


# --- through the command line -------------------------------------------------------------------


@pytest.fixture
def maija(session_factory):
    with session_factory() as session, session.begin():
        client(session, world(session))


def test_the_commands_propose_list_and_approve_an_iban(cli, maija):
    assert cli.json("client", "edit", "1", "--iban", "FI49 5000 9420 0287 30", "--language",
                    "sv", user="sanna") == [
        {"client": 1, "field": "language", "old": "fi", "new": "sv", "status": "changed",
         "edit": None},
        {"client": 1, "field": "iban", "old": "FI55 4234 5670 0000 81",
         "new": "FI49 5000 9420 0287 30", "status": "waiting for approval", "edit": 1}]
    waiting = cli.json("client", "edits", user="hannu")
    assert [(e["edit"], e["client"], e["proposed_by"], e["status"]) for e in waiting] == [
        (1, 1, "sanna", "pending")]
    assert cli.json("client", "edit-approve", "1", user="hannu")["status"] == "approved"
    shown = cli.json("client", "show", "1", user="hannu")
    assert (shown["iban"], shown["bic"], shown["language"], shown["pending_edits"]) == (
        "FI49 5000 9420 0287 30", "OKOYFIHH", "sv", [])


@pytest.mark.parametrize("args, user, message", [
    (("--iban", "FI5542345670000082"), "sanna", "IBAN FI5542345670000082 has wrong check digits"),
    (("--review", "1.1.2020"), "sanna", "review date 1.1.2020 is in the past"),
    (("--worker", "nobody"), "sanna", "worker 'nobody' is not a registered user"),
    ((), "sanna",
     "give what to change: --iban, --name, --language, --worker, --review or --until"),
])
def test_bad_edits_on_the_command_line_are_one_line_and_write_nothing(cli, maija, args, user,
                                                                     message):
    result = cli("client", "edit", "1", *args, user=user)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {message}\n")
    assert cli.json("client", "edits", "--all", user="hannu") == []
    assert [r["action"] for r in cli.json("audit", "log", "--client", "1", user="aune")
            if r["action"].startswith("client.edit.") or r["action"] == "client.edit"] == []


def test_a_closed_client_edited_on_the_command_line_is_exit_2(cli, maija, session_factory):
    with session_factory() as session, session.begin():
        clients.close_client(session, W.sanna, "1", closed_on=date(2026, 11, 30))
    result = cli("client", "edit", "1", "--name", "Maija Virtanen", user="sanna")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: client 1 was closed on 30.11.2026: a closed client's details "
           "are not changed\n")
