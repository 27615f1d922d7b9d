"""A handler's round: assigning many unmatched lines in one call posts, flags and audits what
one call a line does."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import HETU, HETU_2, ELDERLY_HETU, client, world, world_actors
from helpers.statements import Tx, camt053, ntry, write
from sqlalchemy import select

import ledger
from valitystili.base.errors import Conflict
from valitystili.people import clients
from valitystili.statements import income, service
from valitystili.store import db
from valitystili.store.models import AuditEntry, Flag, StatementLine

TODAY = date(2026, 11, 23)
#: Four lines nobody's: two for Maija, one for Pekka, one for Kalle, whose service has ended.
LINES = (("U1", "75.00", 1), ("U2", "12.50", 2), ("U3", "40.00", 1), ("U4", "30.00", 3))


def round_ready(factory, tmp_path) -> list[tuple[int, str]]:
    """The world, three clients (the third closed) and an import leaving LINES in suspense;
    the (line, client) pairs to assign."""
    with factory() as session, session.begin():
        w = world(session)
        client(session, w, hetu=HETU, name="Maija Meikäläinen")
        client(session, w, hetu=HETU_2, name="Pekka Virtanen")
        client(session, w, hetu=ELDERLY_HETU, name="Kalle Suljettu", despite="asked for it")
        clients.close_client(session, w.hannu, "3", closed_on=date(2026, 10, 31))
    tmp_path.mkdir(exist_ok=True)
    path = write(tmp_path, "s.xml", camt053(*(
        ntry(amount, archive, Tx(payer="Tuntematon", message="vuokra"))
        for archive, amount, _client in LINES)))
    with factory() as session, session.begin():
        service.import_file(session, w.fiona, path, today=TODAY)
        ids = dict(session.execute(select(StatementLine.archive_id, StatementLine.id)).all())
    return [(ids[archive], str(number)) for archive, _amount, number in LINES]


def stored(session) -> dict:
    trail = session.execute(select(AuditEntry.action, AuditEntry.client_id, AuditEntry.subject,
                                   AuditEntry.detail).order_by(AuditEntry.position)).all()
    return {
        "balances": {b.code: b.balance_cents for b in ledger.balances(session)},
        "lines": session.execute(select(StatementLine.archive_id, StatementLine.state,
                                        StatementLine.client_id)
                                 .order_by(StatementLine.id)).all(),
        "flags": session.execute(select(Flag.kind, Flag.subject, Flag.client_id,
                                        Flag.amount_cents, Flag.resolved_at)
                                 .order_by(Flag.id)).all(),
        "trail": [(action, client_id, subject, {k: v for k, v in json.loads(detail).items()
                                                if k != "personal_sha256"})
                  for action, client_id, subject, detail in trail],
    }


def test_a_round_in_one_call_does_what_one_call_a_line_does(engine, second_url, tmp_path):
    other = db.make_engine(second_url)
    db.upgrade(other)
    single, bulk = db.session_factory(engine), db.session_factory(other)
    pairs = round_ready(single, tmp_path / "a")
    assert round_ready(bulk, tmp_path / "b") == pairs
    hannu = world_actors().hannu
    with single() as session, session.begin():
        one_by_one = [income.assign_line(session, hannu, line, number, today=TODAY)
                      for line, number in pairs]
    with bulk() as session, session.begin():
        at_once = income.assign_lines(session, hannu, pairs, today=TODAY)
    assert at_once == one_by_one
    assert [(a.client, a.amount_cents, a.flag_resolved) for a in at_once] == [
        (1, 7_500, True), (2, 1_250, True), (1, 4_000, True), (3, 3_000, True)]
    with single() as one, bulk() as two:
        expected, got = stored(one), stored(two)
    other.dispose()
    assert got == expected
    assert got["balances"]["suspense"] == 0 and got["balances"]["client:1"] == 11_500
    assert [(kind, subject) for kind, subject, _c, _a, resolved in got["flags"]
            if resolved is None] == [("income_after_closing", "U4")]
    assigned = [row for row in got["trail"] if row[0] == "income.assign"]
    assert [row[3]["transactions"]["count"] for row in assigned] == [1, 1, 1, 1]


def test_a_line_twice_in_one_call_is_assigned_once(session_factory, tmp_path):
    pairs = round_ready(session_factory, tmp_path)
    with session_factory() as session:
        with pytest.raises(Conflict, match=f"line {pairs[0][0]} is already assigned to client 1"):
            income.assign_lines(session, world_actors().hannu, [pairs[0], pairs[1], pairs[0]],
                                today=TODAY)
