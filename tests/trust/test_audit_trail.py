"""The audit trail: every change and view recorded, no identity code in clear, tampering found."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import (
    BILLS_EXAMPLE,
    CLI_REVIEW,
    HETU,
    LANDLORD,
    UTILITY,
    cli_world,
    client,
    plan,
    world,
)
from sqlalchemy import select, text

from valitystili.base.errors import PermissionDenied
from valitystili.oversight import card
from valitystili.people import clients, leases
from valitystili.plans import bills, plans
from valitystili.store import db
from valitystili.store.models import AuditEntry
from valitystili.trust import audit, audit_verify


def entries(session) -> list[tuple[str, str, int | None]]:
    return [(e.actor, e.action, e.client_id)
            for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_every_change_and_every_view_is_recorded(session):
    w = world(session)
    number = client(session, w)
    plan(session, w, number, BILLS_EXAMPLE)
    card.show_client(session, w.hannu, "1")
    card.show_client(session, w.aune, "1", show_hetu=True)
    clients.list_clients(session, w.fiona)
    plans.show_plan(session, w.fiona, "1")
    bills.add_bill(session, w.hannu, "1", payee=UTILITY, amount_cents=4520,
                   due_on=date(2026, 12, 15), message="Lasku 11/2026", today=date(2026, 11, 20))
    bills.list_bills(session, w.hannu, "1")
    leases.add_lease(session, w.sanna, "1", payee=LANDLORD, rent_cents=52000,
                     start_on=date(2026, 11, 1), end_on=date(2027, 1, 31))
    leases.list_leases(session, w.hannu, "1")
    clients.close_client(session, w.sanna, "1", closed_on=date(2027, 1, 31))
    clients.access_log(session, w.aune, "1")
    assert entries(session) == [
        *[("admin", "user.add", None)] * 6,
        ("admin", "bank.add", None),
        ("hannu", "payee.add", None),
        ("hannu", "payee.add", None),
        ("sanna", "client.open", 1),
        ("sanna", "plan.set", 1),
        ("hannu", "plan.approve", 1),
        ("hannu", "client.view", 1),
        ("aune", "client.view_hetu", 1),
        ("fiona", "client.list", 1),
        ("fiona", "plan.view", 1),
        ("hannu", "bill.add", 1),
        ("hannu", "bill.view", 1),
        ("sanna", "lease.add", 1),
        ("hannu", "lease.view", 1),
        ("sanna", "client.close", 1),
        ("aune", "audit.view", 1),
    ]
    close = session.execute(select(AuditEntry).where(AuditEntry.action == "client.close")) \
        .scalar_one()
    # The closing as recorded, its personal part (reason, note, payee) put back.
    assert audit.shown(session, [close])[close.hash] == {
        "old": {"status": "open", "closed_on": None, "final_payout": False},
        "new": {"status": "closed", "closed_on": "2027-01-31", "final_payout": False},
        "balance_cents": 0, "cancelled": [], "left_open": [], "period": 1, "reason": None,
        "note": None, "payee": None, "payout_to": None, "payout_status": "own_account",
        "payout_approved_by": None}
    assert audit_verify.verify(session) == []


def test_no_identity_code_is_ever_written_in_clear(session):
    w = world(session)
    client(session, w)
    card.show_client(session, w.aune, "1", show_hetu=True)
    for entry in session.execute(select(AuditEntry)).scalars():
        assert HETU not in entry.detail and HETU not in entry.subject
    opened = session.execute(select(AuditEntry).where(AuditEntry.action == "client.open")) \
        .scalar_one()
    # The masked code is personal: kept in the entry's personal part, shown by audit log.
    assert "hetu" not in json.loads(opened.detail)["new"]
    [shown] = [r for r in audit.log(session, 1) if r["action"] == "client.open"]
    assert shown["detail"]["new"]["hetu"] == "010594Y****"


def test_the_access_history_is_one_clients_and_is_itself_recorded(session):
    w = world(session)
    client(session, w)
    client(session, w, hetu="150705B247K", name="Pekka")
    card.show_client(session, w.hannu, "2")
    history = clients.access_log(session, w.aune, "100000010")
    assert [(r["actor"], r["action"], r["client"]) for r in history] == [
        ("sanna", "client.open", 1)]
    again = clients.access_log(session, w.admin, "1")
    assert [r["action"] for r in again] == ["client.open", "audit.view"]
    with pytest.raises(PermissionDenied, match=r"^user hannu \(handler\) may not audit read; "
                                               r"allowed roles: admin, auditor$"):
        clients.access_log(session, w.hannu, "1")


def _tamper_update(session, entry_id: int) -> None:
    """Hide that entry ``entry_id`` showed an identity code."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_log_no_update"))
    else:
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    session.execute(text("UPDATE audit_log SET detail = :d WHERE id = :id"),
                    {"d": '{"hetu_shown":false}', "id": entry_id})


def _tamper_delete(session, entry_id: int) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": entry_id})


def test_the_table_refuses_updates_without_tampering(session_factory):
    with db.transaction(session_factory) as session:
        w = world(session)
        client(session, w)
    with pytest.raises(Exception, match="audit_log is append-only"):
        with db.transaction(session_factory) as session:
            session.execute(text("UPDATE audit_log SET actor = 'x' WHERE id = 1"))


def _cli_setup(cli):
    cli_world(cli)
    cli.ok("client", "open", "--hetu", HETU, "--name", "Maija", "--iban", "FI5542345670000081",
           "--review", CLI_REVIEW,
           "--criterion", "evictions", "--worker", "sanna", user="sanna")
    cli.ok("client", "show", "1", "--show-hetu", user="hannu")   # entry 11
    cli.ok("client", "show", "1", user="hannu")


def _tamper(backend, action) -> None:
    engine = db.make_engine(backend.url)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            action(session, 11)
    finally:
        engine.dispose()


def test_cli_audit_verify_is_clean_then_names_an_altered_entry(cli, backend):
    _cli_setup(cli)
    assert cli.ok("audit", "verify", user="aune") == "(none)\n"
    _tamper(backend, _tamper_update)
    result = cli("--format", "json", "audit", "verify", user="aune")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"check": "audit_chain", "subject": "position 11",
         "detail": "entry id 11: its content was altered after it was written"}]
    assert result.stderr.splitlines()[-1] == (
        "valitystili: error: audit_chain: position 11: entry id 11: its content was altered "
        "after it was written")


def test_cli_audit_verify_names_a_deleted_entry(cli, backend):
    _cli_setup(cli)
    _tamper(backend, _tamper_delete)
    result = cli("audit", "verify", user=backend.admin_name)
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        1, "valitystili: error: audit_chain: position 12: position 11 is missing before it "
           "(deleted)")


def test_cli_audit_is_for_auditors_and_admins(cli):
    _cli_setup(cli)
    result = cli("audit", "verify", user="hannu")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: user hannu (handler) may not audit read; allowed roles: "
           "admin, auditor\n")


def test_cli_audit_log_of_a_client(cli):
    _cli_setup(cli)
    rows = cli.json("audit", "log", "--client", "RF69100000010", user="aune")
    assert [(r["id"], r["actor"], r["action"], r["client"], r["subject"], r["detail"])
            for r in rows] == [
        (10, "sanna", "client.open", 1, "client:1", rows[0]["detail"]),
        (11, "hannu", "client.view_hetu", 1, "client:1", {"hetu_shown": True}),
        (12, "hannu", "client.view", 1, "client:1", {"hetu_shown": False}),
    ]
    assert rows[0]["detail"]["new"]["hetu"] == "010594Y****"
    table = cli.ok("audit", "log", "--client", "1", "--limit", "2", user="aune").splitlines()
    assert table[0].split() == ["id", "at", "actor", "action", "client", "summary"]
    assert table[3].endswith("  client.view_hetu  1       client:1: hetu shown yes")
    wide = cli.ok("audit", "log", "--client", "1", "--limit", "2", "--wide", user="aune")
    assert wide.splitlines()[3].split() == ["11", *table[3].split()[1:6], "client:1",
                                            '{"hetu_shown":true}', "client:1:", "hetu", "shown",
                                            "yes"]
    assert len(table) == 4
    # Both readings of the history are in the history.
    assert [r["action"] for r in cli.json("audit", "log", "--client", "1", user="aune")][-2:] \
        == ["audit.view", "audit.view"]
