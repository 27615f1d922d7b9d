"""Views of client data in each client's access log (`audit log --client`), both backends:
`flags`, `flags --client`, `ledger balances` and the refused `client open` that names an
existing client are each recorded; a view of many clients is one audit entry with one link row
per client, and the links are append-only."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import CLI_REVIEW, HETU, HETU_2, client, world
from sqlalchemy import func, select, text

from valitystili.flags import raising as flags
from valitystili.store.models import AuditClientView, AuditEntry
from valitystili.trust import access
from valitystili.trust.auth import Actor

AUNE = "aune"                      # the auditor who reads the access logs
HANNU = Actor("hannu", "handler")
THIRD_HETU = "010594Y124X"
FOURTH_HETU = "010594Y125Y"


@pytest.fixture
def four_clients(cli, session_factory):
    """Clients 1–4 opened by sanna; clients 1 and 2 have an open flag, 3 and 4 none."""
    with session_factory() as session, session.begin():
        w = world(session)
        for hetu in (HETU, HETU_2, THIRD_HETU, FOURTH_HETU):
            client(session, w, hetu=hetu)
        flags.raise_flag(session, "arrears", "rent:1:2026-11", date(2026, 11, 5), client_id=1,
                         amount_cents=52000)
        flags.raise_flag(session, "insufficient_funds", "rent:2:2026-11", date(2026, 11, 2),
                         client_id=2, amount_cents=5000)
        flags.raise_flag(session, "unmatched_income", "A-1", date(2026, 11, 2),
                         amount_cents=1000)           # nobody's: money in suspense
    return cli


def views(cli, number: int) -> list[tuple[str, str, int | None, str]]:
    """(actor, action, entry's client, subject) of the views in the client's access log."""
    return [(row["actor"], row["action"], row["client"], row["subject"])
            for row in cli.json("audit", "log", "--client", str(number), user=AUNE)
            if row["action"] not in ("client.open", "audit.view")]


def test_flags_of_one_client_are_in_that_clients_log(four_clients):
    assert [f["flag"] for f in four_clients.json("flags", "--client", "1", user="hannu")] == [1]
    four_clients.ok("flags", "--client", "3", user="hannu")      # none: still a look at client 3
    assert views(four_clients, 1) == [("hannu", "flags.view", 1, "client:1")]
    assert views(four_clients, 3) == [("hannu", "flags.view", 3, "client:3")]
    assert views(four_clients, 2) == []


def test_the_flag_list_is_in_the_log_of_each_client_it_shows(four_clients):
    assert [f["client"] for f in four_clients.json("flags", user="hannu")] == [1, 2, None]
    for number in (1, 2):
        assert views(four_clients, number) == [("hannu", "flags.view", None, "flags")]
    for number in (3, 4):
        assert views(four_clients, number) == []


def test_ledger_balances_are_in_the_log_of_each_client_account_shown(four_clients):
    shown = four_clients.json("ledger", "balances", "--prefix", "client:", user="hannu")
    assert [row["account"] for row in shown] == ["client:1", "client:2", "client:3", "client:4"]
    for number in (1, 2, 3, 4):
        assert views(four_clients, number) == [
            ("hannu", "ledger.balances.view", None, "ledger balances")]


def test_the_client_list_and_the_balance_report_are_in_each_listed_clients_log(four_clients):
    four_clients.ok("client", "list", user="hannu")
    four_clients.ok("report", "balances", "--as-of", "2026-11-30", user="hannu")
    for number in (1, 2, 3, 4):
        assert views(four_clients, number) == [("hannu", "client.list", None, "clients"),
                                               ("hannu", "view", None, "report balances")]


def test_ledger_balances_of_the_banks_alone_show_no_client(four_clients, session_factory):
    with session_factory() as session:
        before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    four_clients.ok("ledger", "balances", "--prefix", "bank:", user="hannu")
    with session_factory() as session:
        after = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    assert after == before
    assert views(four_clients, 1) == []


def test_a_refused_opening_that_names_the_client_is_in_that_clients_log(four_clients):
    result = four_clients("client", "open", "--hetu", HETU_2, "--name", "Toinen Henkilö",
                          "--review", CLI_REVIEW,
                          "--iban", "FI5542345670000081", "--criterion", "evictions",
                          "--worker", "sanna", "--no-guardianship-need",
                          "--no-subsidy-against-will", "--no-kela-pays-landlord", user="sanna")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "valitystili: error: henkilötunnus 150705B**** already belongs to client 2 "
               "(open)\n")
    assert views(four_clients, 2) == [("sanna", "client.open.duplicate", 2, "client:2")]
    [row] = [r for r in four_clients.json("audit", "log", "--client", "2", user=AUNE)
             if r["action"] == "client.open.duplicate"]
    assert row["detail"] == {"hetu": "150705B****", "clients": 1}
    assert views(four_clients, 1) == []


def test_a_view_of_three_clients_is_one_entry_in_each_of_their_logs(four_clients,
                                                                    session_factory):
    with session_factory() as session, session.begin():
        entries = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        entry_hash = access.record_view(session, HANNU, "flags.view", [3, 1, 2, 1],
                                        subject="flags")
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() \
            == entries + 1
        assert session.execute(select(AuditClientView.client_id).where(
            AuditClientView.entry_hash == entry_hash).order_by(AuditClientView.client_id)
        ).scalars().all() == [1, 2, 3]
    for number in (1, 2, 3):
        assert views(four_clients, number) == [("hannu", "flags.view", None, "flags")]
    assert views(four_clients, 4) == []


def test_a_view_of_no_client_writes_nothing(session):
    assert access.record_view(session, HANNU, "flags.view", []) is None
    assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_ten_thousand_clients_cost_one_chained_entry(session):
    entry_hash = access.record_view(session, HANNU, "ledger.balances.view", range(1, 10_001),
                                    subject="ledger balances")
    assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 1
    assert session.execute(select(func.count()).select_from(AuditClientView)).scalar_one() \
        == 10_000
    [seen] = access.history(session, 5_000)
    assert (seen["action"], seen["client"], seen["detail"]) == (
        "ledger.balances.view", None, {"clients": 10_000})
    assert session.execute(select(AuditEntry.hash)).scalar_one() == entry_hash
    assert access.history(session, 10_001) == []


@pytest.mark.parametrize("statement", [
    "UPDATE audit_client_views SET client_id = 4",
    "DELETE FROM audit_client_views",
])
def test_the_links_are_append_only(session_factory, statement):
    with session_factory() as session, session.begin():
        access.record_view(session, HANNU, "flags.view", [1, 2], subject="flags")
    with pytest.raises(Exception, match="audit_client_views is append-only"):
        with session_factory() as session, session.begin():
            session.execute(text(statement))
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(AuditClientView)).scalar_one() \
            == 2
