"""Retention (DESIGN §10), both backends: a closed client without money is anonymised (name,
identity code, IBAN and free texts replaced), and afterwards `audit verify` and `ledger verify`
are clean, every balance is unchanged and the identity code is in no text column of the
database; an open client and one with money are refused; `--due` finds who is due."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import lifecycle, scenario
from helpers.scenario import CLIENT_IBAN, HETU, HETU_2
from sqlalchemy import JSON, String, Text, select, text

import ledger
from valitystili.base.errors import Conflict
from valitystili.oversight import handover
from valitystili.people import records, retention
from valitystili.store.models import AuditPersonal, metadata
from valitystili.trust import audit

W = scenario.world_actors()
NAME = "Maija Meikäläinen"
PEKKA_IBAN = "FI5442345670000099"
NOTE = "Muutti Maija Meikäläisen siskon luo Ouluun"


def closed_client(factory) -> tuple[int, int]:
    """Maija (paid in November, her money paid out by the final payout of 30.11.) and Pekka
    (client 2, open, with no money): (maija's number, pekka's number)."""
    number = lifecycle.maija_paid_in_november(factory)
    with factory() as session, session.begin():
        records.add_record(session, W.sanna, str(number), "consent", dated_on=date(2026, 10, 20),
                           fields={"incomes": f"Kelan asumistuki ({NAME})",
                                   "payments": "vuokra"})
        handover.close_service(session, W.sanna, str(number), closed_on=date(2026, 11, 30),
                               reason="moved", note=NOTE, final_payout=True,
                               today=date(2026, 11, 30))
    lifecycle.run_day(factory, date(2026, 11, 30))
    with factory() as session, session.begin():
        other = scenario.client(session, W, hetu=HETU_2, name="Pekka Puupää", iban=PEKKA_IBAN,
                                start_on=date(2026, 11, 1))
    return number, other


def texts_holding(session, needle: str) -> list[str]:
    """Every table.column of text whose stored value contains ``needle``."""
    found = []
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in session.execute(select(*columns)).all():
            for column, value in zip(columns, row, strict=True):
                if value is not None and needle in str(value):
                    found.append(f"{table.name}.{column.name}")
    return sorted(set(found))


def test_anonymise_keeps_the_books_and_the_chain_and_leaves_no_identity_code(
        cli, session_factory):
    number, other = closed_client(session_factory)
    with session_factory() as session:
        before = {b.code: b.balance_cents for b in ledger.balances(session)}
        assert before[f"client:{number}"] == 0
        assert texts_holding(session, HETU) == ["clients.hetu"]
        assert "audit_personal.personal" in texts_holding(session, NAME)
    result = cli.json("client", "anonymise", str(number), user="admin")
    assert (result["client"], result["anonymised"], result["closed_on"],
            result["legacy_entries"]) == (number, True, "2026-11-30", 0)
    assert result["audit_parts"] > 0
    with session_factory() as session:
        assert {b.code: b.balance_cents for b in ledger.balances(session)} == before
        assert texts_holding(session, HETU) == []
        # The books are append-only: a payout to the client's own account keeps its
        # description ("instalment to NAME") as posted.
        assert texts_holding(session, NAME) == ["ledger_transactions.description"]
        assert texts_holding(session, CLIENT_IBAN) == []
        assert texts_holding(session, "Ouluun") == []
        assert texts_holding(session, "Pekka Puupää") != []      # the other client is kept
        assert audit.verify(session) == []
    verified = cli("audit", "verify", user="aune")
    assert (verified.exit_code, verified.stdout) == (0, "(none)\n")
    assert "chain intact" in verified.stderr
    verified = cli("ledger", "verify", user="fiona")
    assert (verified.exit_code, verified.stdout) == (0, "(none)\n")
    shown = cli.json("client", "show", str(number), user="hannu")
    assert (shown["name"], shown["status"]) == ("anonymised", "closed")
    opened = [r for r in cli.json("audit", "log", "--client", str(number), user="aune")
              if r["action"] == "client.open"]
    assert opened[0]["detail"]["personal"] == "anonymised"
    again = cli("client", "anonymise", str(number), user="admin")
    assert (again.exit_code, again.stderr) == (
        2, f"valitystili: error: client {number} was anonymised already\n")
    assert other == 2


def test_an_open_client_and_one_with_money_are_refused(cli, session_factory):
    number = lifecycle.maija_paid_in_november(session_factory)
    result = cli("client", "anonymise", str(number), user="admin")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "valitystili: error: client 1 is open: close the service first\n")
    with session_factory() as session, session.begin():
        handover.close_service(session, W.sanna, str(number), closed_on=date(2026, 11, 30),
                               reason="moved", final_payout=True, today=date(2026, 11, 30))
    result = cli("client", "anonymise", str(number), user="admin")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", ("valitystili: error: client 1 still has money (345,00\u00a0€): the final payout "
                "must go first\n"))
    result = cli("client", "anonymise", str(number), user="hannu")
    assert (result.exit_code, result.stderr) == (
        2, ("valitystili: error: user hannu (handler) may not client anonymise; allowed "
            "roles: admin\n"))
    with session_factory() as session:
        assert session.execute(select(AuditPersonal.personal).where(
            AuditPersonal.personal.is_(None))).all() == []


def test_due_clients_after_the_retention_period(cli, session_factory):
    number, _other = closed_client(session_factory)
    with session_factory() as session:
        assert retention.due(session, W.admin, date(2032, 11, 29)) == []
        assert retention.due(session, W.admin, date(2032, 11, 30)) == [
            {"client": number, "closed_on": date(2026, 11, 30), "due_on": date(2032, 11, 30),
             "balance_cents": 0}]
    assert cli.json("client", "anonymise", "--due", user="admin") == []
    cli.ok("settings", "set", "retention_years_after_closing", "1", user="admin")
    with session_factory() as session, session.begin():
        assert [r["client"] for r in retention.due(session, W.admin, date(2027, 11, 30))] \
            == [number]
        done = retention.anonymise_due(session, W.admin, date(2027, 11, 30))
    assert [(r["client"], r["anonymised"]) for r in done] == [(number, True)]
    with session_factory() as session:
        assert retention.due(session, W.admin, date(2040, 1, 1)) == []
        assert audit.verify(session) == []


def test_an_emptied_personal_part_of_a_client_not_anonymised_is_a_finding(
        cli, session_factory):
    number, _other = closed_client(session_factory)
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE audit_personal SET personal = NULL WHERE client_id = :c"),
                        {"c": number})
    with session_factory() as session:
        findings = {(f.check, f.detail) for f in audit.verify(session)}
    emptied = f"the entry's personal part was emptied, but client {number} was never anonymised"
    assert findings == {("audit_personal", emptied)}


def test_an_altered_personal_part_is_a_finding(cli, session_factory):
    with session_factory() as session, session.begin():
        w = scenario.world(session)
        scenario.client(session, w)
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE audit_personal SET personal = replace(personal, "
                             "'Meikäläinen', 'Virtanen')"))
    with session_factory() as session:
        findings = [(f.check, f.detail) for f in audit.verify(session)]
    assert findings == [("audit_personal",
                         "the entry's personal part was altered after it was written")]


def test_the_service_refuses_an_open_client(session_factory):
    number = lifecycle.maija(session_factory)
    with session_factory() as session, session.begin(), pytest.raises(
            Conflict, match="^client 1 is open: close the service first$"):
        retention.anonymise(session, W.admin, str(number))
