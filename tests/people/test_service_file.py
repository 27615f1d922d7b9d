"""The client's service file on the command line, both backends: `client show` reads as the
file (card with the balance, the plan and the decision in force, then the periods, the records
and the open flags under their titles), and each kind of bad input a worker or a handler types
about it is one line on stderr, exit 2, and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import lifecycle, scenario
from helpers.statements import Tx, camt053, ntry, write
from sqlalchemy import func, select

from valitystili.oversight import handover
from valitystili.people import records
from valitystili.statements import income, service
from valitystili.store.models import Client, StatementLine, metadata

W = scenario.world_actors()


@pytest.fixture
def file_world(session_factory, tmp_path) -> int:
    """Maija (client 1, from 1.11.2026, paid in November: 345,00 left), her decision, a line
    of 25,00 from a relative assigned to her by a handler, and Pekka (client 2) closed on
    30.11.2026. Returns the assigned line's id."""
    lifecycle.maija_paid_in_november(session_factory)
    with session_factory() as session, session.begin():
        records.add_record(session, W.hannu, "1", "decision", dated_on=date(2026, 10, 25),
                           fields={"grounds": "rent arrears twice", "start": date(2026, 11, 1),
                                   "review": date(2027, 2, 1)}, today=date(2026, 10, 25))
        scenario.client(session, W, hetu=scenario.HETU_2, name="Pekka Virtanen",
                        start_on=date(2026, 11, 1))
        handover.close_service(session, W.sanna, "2", closed_on=date(2026, 11, 30),
                               reason="moved", today=date(2026, 11, 30))
    with session_factory() as session, session.begin():
        service.import_file(session, W.fiona, write(tmp_path, "ark-7.xml", camt053(
            ntry("25.00", "ARK-7", Tx(payer="Matti Meikäläinen", iban="FI5542345670000081",
                                     message="lahjoitus"), booked="2026-11-03"),
            statement_id="S-ARK-7", on="2026-11-03", opening_cents=None)),
            today=date(2026, 11, 3))
    with session_factory() as session, session.begin():
        line = session.execute(select(StatementLine.id).where(
            StatementLine.archive_id == "ARK-7")).scalar_one()
        income.assign_line(session, W.hannu, line, "1", today=date(2026, 11, 3))
    return line


def rows(session_factory) -> dict[str, int]:
    """Every table's row count: "nothing was written"."""
    with session_factory() as session:
        return {table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
                for table in metadata.sorted_tables}


def test_client_show_reads_as_the_service_file(cli, file_world):
    shown = cli.json("client", "show", "1", user="hannu")
    assert (shown["balance_cents"], shown["plan_in_force"], shown["decision_in_force"],
            shown["review_on"], shown["until_on"]) == (37000, 1, 1, "2027-02-01", None)
    assert [(p["period"], p["start_on"], p["closed_on"]) for p in shown["periods"]] == [
        (1, "2026-11-01", None)]
    assert [(r["record"], r["kind"], r["state"]) for r in shown["records"]] == [
        (1, "decision", "in force")]
    table = cli.ok("client", "show", "1", user="hannu").splitlines()
    assert [line for line in table if line.startswith(("balance", "plan in force",
                                                        "decision in force"))] == [
        "balance €             370,00", "plan in force         1", "decision in force     1"]
    assert [line for line in table if line.endswith(":")] == ["periods:", "records:"]
    assert table[-1].startswith("1       decision  2026-10-25  in force              hannu ")


@pytest.mark.parametrize("args, user, message", [
    (("client", "record", "1", "visit", "--date", "1.11.2026"), "sanna",
     ("Invalid value for 'KIND': 'visit' is not one of 'assessment', 'consent', "
     "'power_of_attorney', 'ev241n', 'decision'.")),
    (("client", "record", "1", "decision", "--date", "25.10.2026", "--grounds", "g", "--start",
      "1.10.2026", "--review", "1.2.2027"), "hannu",
     "--start 1.10.2026 is before the client's start 1.11.2026"),
    (("client", "edit", "2", "--name", "Pekka Virtala"), "sanna",
     "client 2 was closed on 30.11.2026: a closed client's details are not changed"),
    (("client", "edit", "1", "--iban", "FI5542345670000082"), "sanna",
     "IBAN FI5542345670000082 has wrong check digits"),
    (("client", "edit", "1", "--until", "1.10.2026", "--reason", "r"), "hannu",
     "end date 1.10.2026 must be after the start 1.11.2026"),
    (("income", "refund", "{line}"), "hannu", "line {line} is already assigned to client 1"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli, session_factory, file_world,
                                                          args, user, message):
    before = rows(session_factory)
    result = cli(*(arg.format(line=file_world) for arg in args), user=user)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {message.format(line=file_world)}\n")
    assert rows(session_factory) == before
    with session_factory() as session:
        assert [(c.name, c.iban, c.status, c.until_on) for c in session.execute(
            select(Client).order_by(Client.id)).scalars()] == [
            ("Maija Meikäläinen", scenario.CLIENT_IBAN, "open", None),
            ("Pekka Virtanen", scenario.CLIENT_IBAN, "closed", None)]
