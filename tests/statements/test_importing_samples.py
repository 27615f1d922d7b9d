"""The Finance Finland camt.053/054 sample pair, imported in either order, each file twice.

The statement opens with 10 000,00 and closes (CLBD) with 23 644,83; three of its entries are
lump sums that the camt.054 itemises (ARCH04, ARCH21, ARCH05), one is itemised in both
(ARCH03), and the camt.054 also carries a debit that no statement has yet (NTFCTNXBCT010101,
booked the next day) and an INFO entry that must not be booked. None of the sample's references
is a client's, so all money stays unattributed: that is the point here; matching has its own
tests.
"""

from __future__ import annotations

import os
import uuid
from datetime import date

import pytest
from helpers.scenario import world
from sqlalchemy import select, text
from helpers.statements import CITY, SAMPLE_053, SAMPLE_054, balances

import ledger
from valitystili.statements import service
from valitystili.store.models import Flag, Statement, StatementLine

BANK = f"bank:{CITY}"
INCOMING = f"incoming:{CITY}"
CLOSING = 2_364_483


def sample(path):
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"sample {path} is missing (shared/ should sit beside the repository)")
        pytest.skip(f"sample {path} is missing")
    return path


def counts(result: service.ImportResult) -> dict:
    [summary] = result.summaries
    row = summary.row()
    return {k: row[k] for k in ("entries", "skipped", "already_present", "posted", "new_lines",
                                "in_suspense", "opening_cents", "closing_cents",
                                "ledger_bank_cents")}


def run(session, w, path):
    result = service.import_file(session, w.fiona, sample(path), today=TODAY)
    session.commit()
    return counts(result)


TODAY = date(2026, 11, 23)

# (entries, skipped, already, posted, new lines, in suspense, opening, closing, bank after)
FIRST_053 = dict(entries=10, skipped=0, already_present=0, posted=10, new_lines=15,
                 in_suspense=13, opening_cents=1_000_000, closing_cents=CLOSING,
                 ledger_bank_cents=CLOSING)
THEN_054 = dict(entries=6, skipped=1, already_present=1, posted=4, new_lines=8, in_suspense=8,
                opening_cents=None, closing_cents=None, ledger_bank_cents=CLOSING)
FIRST_054 = dict(entries=6, skipped=1, already_present=0, posted=5, new_lines=11, in_suspense=11,
                 opening_cents=None, closing_cents=None, ledger_bank_cents=0)
THEN_053 = dict(entries=10, skipped=0, already_present=0, posted=10, new_lines=12,
                in_suspense=7, opening_cents=1_000_000, closing_cents=CLOSING,
                ledger_bank_cents=CLOSING)
AGAIN_053 = dict(FIRST_053, already_present=10, posted=0, new_lines=0, in_suspense=0)
AGAIN_054 = dict(THEN_054, already_present=5, posted=0, new_lines=0, in_suspense=0)

FINAL_BALANCES = {
    BANK: CLOSING,
    # opening 10 000,00 + credits 23 075,00 - debits 9 430,17 - the notified debit 1 000,00
    "suspense": 2_264_483,
    # the camt.054 debit of 30.10. that no statement has carried yet
    INCOMING: 100_000,
}


def state(session) -> dict:
    lines = sorted(
        (l.archive_id, l.parent_archive_id, l.level, l.amount_cents, l.state, l.match_rule)
        for l in session.execute(select(StatementLine)).scalars())
    flags = sorted((f.kind, f.subject, f.amount_cents) for f in session.execute(
        select(Flag).where(Flag.resolved_at.is_(None))).scalars())
    return {"balances": balances(session), "lines": lines, "flags": flags}


@pytest.mark.parametrize("order", ["053-then-054", "054-then-053"])
def test_sample_pair_in_either_order_twice(session, order):
    w = world(session)
    session.commit()
    if order == "053-then-054":
        assert run(session, w, SAMPLE_053) == FIRST_053
        assert run(session, w, SAMPLE_054) == THEN_054
    else:
        assert run(session, w, SAMPLE_054) == FIRST_054
        # Itemised at once from incoming: three lump credits, the ARCH03 debit, the notified
        # debit of the 30th; all of it unattributed (no client references in the sample).
        assert balances(session) == {INCOMING: -200_000 - 50_000 - 300_000 + 423_005 + 100_000,
                                     "suspense": 200_000 + 50_000 + 300_000 - 423_005 - 100_000}
        assert run(session, w, SAMPLE_053) == THEN_053
    assert run(session, w, SAMPLE_053) == AGAIN_053
    assert run(session, w, SAMPLE_054) == AGAIN_054

    assert balances(session) == FINAL_BALANCES
    assert ledger.verify(session) == []
    [statement] = session.execute(select(Statement).where(Statement.source == "camt053")).scalars()
    assert (statement.opening_cents, statement.closing_cents) == (1_000_000, CLOSING)
    assert ledger.balance(session, BANK, statement.closing_on) == statement.closing_cents
    # Nothing counted twice: one bank posting per booked camt.053 entry, plus the opening.
    bank_keys = [key for key, in session.execute(
        select(ledger.models.transactions.c.key)
        .where(ledger.models.transactions.c.key.like(f"bank:{CITY}:%")))]
    assert len(bank_keys) == 10


@pytest.fixture
def second_factory(backend, tmp_path):
    """A second, empty database on the same backend."""
    from conftest import pg_schema_url

    from valitystili.store import db

    schema = None
    if backend.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'second.db'}"
    else:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with backend.admin_engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = pg_schema_url(schema)
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield db.session_factory(engine)
    engine.dispose()
    if schema is not None:
        with backend.admin_engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_either_order_ends_in_the_same_state(session_factory, second_factory):
    ends = []
    for factory, files in ((session_factory, (SAMPLE_053, SAMPLE_054)),
                           (second_factory, (SAMPLE_054, SAMPLE_053))):
        with factory() as session:
            w = world(session)
            session.commit()
            for path in files:
                run(session, w, path)
            ends.append(state(session))
    first, second = ends
    assert first["balances"] == second["balances"] == FINAL_BALANCES
    assert first["lines"] == second["lines"]
    assert first["flags"] == second["flags"]
    assert ("unmatched_income", f"opening:{CITY}", 1_000_000) in first["flags"]
    # The lump sums (and the itemised debits) are bank-only lines whose items carry the
    # money, in both orders.
    lumps = [l for l in first["lines"] if l[4] == "bank_only"]
    assert [l[0] for l in lumps] == ["091029ACCTSTMTARCH03", "091029ACCTSTMTARCH04",
                                     "091029ACCTSTMTARCH05", "091029ACCTSTMTARCH09",
                                     "091029ACCTSTMTARCH21"]


def test_item_lines_of_the_054(session):
    w = world(session)
    session.commit()
    run(session, w, SAMPLE_054)
    items = {l.archive_id: (l.parent_archive_id, l.amount_cents, l.reference,
                            l.counterparty_name, l.state)
             for l in session.execute(select(StatementLine)).scalars()}
    assert items["D091029N987654321S001"] == (
        "091029ACCTSTMTARCH04", 190_000, "3900", "PAYERS NAME1", "suspense")
    assert items["D091029N123456789S001"] == (
        "091029ACCTSTMTARCH05", 250_000, "RF7812345", "AT-02 DEBTOR NAME 01", "suspense")
    # Items without an archive id of their own are numbered under their entry.
    assert items["091029NTFCTNXBCT010101/1"] == (
        "091029NTFCTNXBCT010101", -50_000, None, "CREDITOR", "suspense")
    # The INFO entry is not stored at all.
    assert "D091029N987654321S288" not in items


def test_dry_run_prepares_without_writing(session):
    from helpers.statements import snapshot

    w = world(session)
    session.commit()
    before = snapshot(session)
    result = service.import_file(session, w.fiona, sample(SAMPLE_053), dry_run=True,
                                 today=TODAY)
    session.rollback()
    assert snapshot(session) == before
    assert not result.applied
    bookings = result.bookings
    assert [e.key for e in bookings.entries][:3] == [
        f"opening:{CITY}", f"bank:{CITY}:091029ACCTSTMTARCH01", f"bank:{CITY}:091029ACCTSTMTARCH02"]
    assert bookings.entries[0].legs == ((BANK, 1_000_000), ("suspense", -1_000_000))
    assert len(bookings.lines) == 15
    assert counts(result) == FIRST_053
