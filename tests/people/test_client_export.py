"""`client export CLIENT --out FILE.json` (access request), both backends: exactly the client's
own data, nothing of another client; the export is in the client's access log; need to know
applies."""

from __future__ import annotations

import json
from datetime import date

from helpers import lifecycle, scenario
from helpers.scenario import HETU, HETU_2

from valitystili.people import records

W = scenario.world_actors()
OTHER_IBAN = "FI5442345670000099"


def two_clients(factory) -> tuple[int, int]:
    """Maija (client 1: plan, money in, the batch of 2.11., a consent record) and Pekka
    (client 2: a plan of his own, money in)."""
    maija = lifecycle.maija_paid_in_november(factory)
    with factory() as session, session.begin():
        records.add_record(session, W.sanna, str(maija), "consent", dated_on=date(2026, 10, 20),
                           fields={"incomes": "asumistuki", "payments": "vuokra"})
        pekka = scenario.client(session, W, hetu=HETU_2, name="Pekka Puupää", iban=OTHER_IBAN,
                                start_on=date(2026, 11, 1))
        scenario.plan(session, W, pekka, scenario.WORKED_EXAMPLE,
                      effective_on=date(2026, 11, 1), today=date(2026, 11, 1))
    lifecycle.receive(factory, pekka, date(2026, 11, 3), 98765)
    return maija, pekka


def test_the_export_holds_exactly_the_clients_own_data(cli, session_factory, tmp_path):
    maija, pekka = two_clients(session_factory)
    out = tmp_path / "asiakas-1.json"
    result = cli("client", "export", str(maija), "--out", str(out), user="sanna")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", f"wrote {out}\n")
    text = out.read_text(encoding="utf-8")
    data = json.loads(text)
    assert (data["client"]["id"], data["client"]["hetu"], data["client"]["name"]) == (
        maija, HETU, "Maija Meikäläinen")
    assert data["balance_cents"] == 34500
    assert [r["kind"] for r in data["records"]] == ["consent"]
    assert [p["version"] for p in data["plans"]] == [1]
    assert all(i["plan_id"] == data["plans"][0]["id"] for i in data["plans"][0]["items"])
    assert [(o["kind"], o["amount_cents"]) for o in data["payment_orders"]] == [
        ("rent", 52000), ("instalment", 7500)]
    assert sorted(line["amount_cents"] for line in data["statement_lines"]) == [38000, 56000]
    assert {o["client_id"] for o in data["obligations"]} == {maija}
    assert data["letters"] == [{"month": "2026-11", "command":
                                f"valitystili report statement {maija} --month 2026-11"}]
    # Nothing of the other client: not his number in any client column, name, code or money.
    for needle in ("Pekka", HETU_2, OTHER_IBAN, "98765", f"\"client_id\": {pekka}"):
        assert needle not in text, needle
    for section in ("records", "kela_shares", "bills", "leases", "obligations",
                    "payment_orders", "manual_payments", "statement_lines", "flags",
                    "service_periods", "edits"):
        assert all(row.get("client_id") == maija for row in data[section]), section
    logged = [(r["actor"], r["action"]) for r in cli.json(
        "audit", "log", "--client", str(maija), user="aune") if r["action"] == "client.export"]
    assert logged == [("sanna", "client.export")]
    assert [r for r in cli.json("audit", "log", "--client", str(pekka), user="aune")
            if r["action"] == "client.export"] == []


def test_export_is_refused_for_another_workers_client_and_an_existing_file(
        cli, session_factory, tmp_path):
    with session_factory() as session, session.begin():
        w = scenario.world(session)
        from valitystili.trust.auth import Actor
        from valitystili.trust.users import add_user

        add_user(session, Actor("admin", "admin"), "saara", "social_worker")
        scenario.client(session, w, hetu=HETU, worker="saara")
    out = tmp_path / "x.json"
    result = cli("client", "export", "1", "--out", str(out), user="sanna")
    assert (result.exit_code, result.stderr) == (
        2, ("valitystili: error: user sanna (social_worker) may not see client 1: not their "
            "client and not granted to them (`client grant`)\n"))
    assert not out.exists()
    out.write_text("old", encoding="utf-8")
    result = cli("client", "export", "1", "--out", str(out), user="hannu")
    assert result.exit_code == 2
    assert out.read_text(encoding="utf-8") == "old"
    assert [r["action"] for r in cli.json("audit", "log", "--client", "1", user="aune")
            if r["action"] == "client.export"] == []
