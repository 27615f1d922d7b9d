"""Need to know (DESIGN §10), both backends: a social worker sees and changes only their own
clients and those granted to them; handlers, finance and auditors see every client. A refusal
is one line, exit 2, and the attempt is in the client's access log."""

from __future__ import annotations

import pytest
from helpers.scenario import DESIGN_EXAMPLE, HETU, HETU_2, client, world

from valitystili.trust.auth import Actor
from valitystili.trust.users import add_user

SANNA_OWN = 1       # sanna's client
SAARA_OWN = 2       # saara's client
REFUSED = ("valitystili: error: user sanna (social_worker) may not see client 2: not their "
           "client and not granted to them (`client grant`)\n")


@pytest.fixture
def two_workers(cli, session_factory):
    """Client 1 is sanna's, client 2 saara's (both social workers)."""
    with session_factory() as session, session.begin():
        w = world(session)
        add_user(session, Actor("admin", "admin"), "saara", "social_worker")
        assert client(session, w, hetu=HETU) == SANNA_OWN
        assert client(session, w, hetu=HETU_2, name="Saaran Asiakas", worker="saara") \
            == SAARA_OWN
    return cli


def refusals(cli, number: int) -> list[tuple[str, str]]:
    return [(row["actor"], row["subject"])
            for row in cli.json("audit", "log", "--client", str(number), user="aune")
            if row["action"] == "access.refused"]


def test_a_social_worker_is_refused_another_workers_client_and_the_refusal_is_logged(
        two_workers, tmp_path):
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(DESIGN_EXAMPLE, encoding="utf-8")
    attempts = [("client", "show", "2"),
                ("plan", "set", "2", "--file", str(plan_file), "--effective", "1.11.2026"),
                ("report", "statement", "2", "--month", "2026-11")]
    for args in attempts:
        result = two_workers(*args, user="sanna")
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", REFUSED), args
    assert refusals(two_workers, SAARA_OWN) == [("sanna", "client:2")] * 3
    assert refusals(two_workers, SANNA_OWN) == []
    # Nothing of the refused plan was written.
    result = two_workers("plan", "show", "2", user="saara")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: client 2 has no plan yet; set one with `plan set`\n")


def test_own_client_is_shown(two_workers):
    shown = two_workers.json("client", "show", "1", user="sanna")
    assert (shown["client"], shown["worker"]) == (1, "sanna")


def test_a_grant_lets_the_worker_in_and_a_revoke_shuts_them_out(two_workers):
    assert two_workers.json("client", "grant", "2", "sanna", user="admin") == {
        "client": 2, "user": "sanna", "granted": True}
    assert two_workers.json("client", "show", "2", user="sanna")["name"] == "Saaran Asiakas"
    assert [c["client"] for c in two_workers.json("client", "list", user="sanna")] == [1, 2]
    assert two_workers.json("client", "revoke", "2", "sanna", user="admin") == {
        "client": 2, "user": "sanna", "granted": False}
    result = two_workers("client", "show", "2", user="sanna")
    assert (result.exit_code, result.stderr) == (2, REFUSED)
    assert [c["client"] for c in two_workers.json("client", "list", user="sanna")] == [1]
    actions = [(row["actor"], row["action"]) for row in two_workers.json(
        "audit", "log", "--client", "2", user="aune")
        if row["action"] in ("client.grant", "client.revoke", "access.refused")]
    assert actions == [("admin", "client.grant"), ("admin", "client.revoke"),
                       ("sanna", "access.refused")]


def test_only_an_admin_grants_and_a_grant_is_to_a_social_worker(two_workers):
    result = two_workers("client", "grant", "2", "sanna", user="hannu")
    assert (result.exit_code, result.stderr) == (
        2, ("valitystili: error: user hannu (handler) may not client grant; allowed roles: "
            "admin\n"))
    result = two_workers("client", "grant", "2", "hannu", user="admin")
    assert (result.exit_code, result.stderr) == (
        2, ("valitystili: error: user hannu is a handler, who sees every client already; "
            "grants are for social workers\n"))
    result = two_workers("client", "revoke", "2", "sanna", user="admin")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: client 2 is not granted to sanna\n")


def test_lists_are_filtered_for_a_social_worker_and_whole_for_a_handler(two_workers):
    assert [c["client"] for c in two_workers.json("client", "list", user="sanna")] == [1]
    assert [c["client"] for c in two_workers.json("client", "list", user="saara")] == [2]
    assert [c["client"] for c in two_workers.json("client", "list", user="hannu")] == [1, 2]
    assert [r["client"] for r in two_workers.json(
        "report", "balances", "--as-of", "2026-11-30", user="sanna")] == [1]
    assert [r["client"] for r in two_workers.json(
        "report", "balances", "--as-of", "2026-11-30", user="fiona")] == [1, 2]


def test_a_handler_sees_and_changes_every_client(two_workers):
    assert two_workers.json("client", "show", "2", user="hannu")["client"] == 2
    assert two_workers.json("client", "show", "1", user="aune")["client"] == 1
    assert refusals(two_workers, SAARA_OWN) == []
