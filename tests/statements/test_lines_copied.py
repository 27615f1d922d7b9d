"""A big file's statement lines reach PostgreSQL with ``COPY`` (``apply._insert_lines``); the
threshold is lowered here so that a small file takes that path (SQLite: the executemany). A
camt.054's items are stored exactly as read, awkward message text included, and the same file
again adds nothing."""

from __future__ import annotations

from datetime import date

from helpers.scenario import client, world
from helpers.statements import CITY, Tx, camt054, ntry, reference_of, write
from sqlalchemy import select

import ledger
from valitystili.statements import service
from valitystili.store.models import StatementLine

TODAY = date(2026, 11, 25)
MESSAGE = "tab\there \\ back\\slash, quote ' and \" ä€"


def test_a_copied_file_stores_every_line_as_read(session, tmp_path, monkeypatch):
    import valitystili.statements.apply

    monkeypatch.setattr(valitystili.statements.apply, "COPY_ROWS", 2)
    w = world(session)
    maija = client(session, w)
    session.commit()
    reference, _ = reference_of(session, maija)
    path = write(tmp_path, "day-054.xml", camt054(ntry(
        "30.00", "LUMP1",
        Tx(amount="10.00", archive_id="I1", reference=reference, payer="Sukulainen"),
        Tx(amount="20.00", archive_id="I2", message=MESSAGE, payer="Joku Muu"))))
    [summary] = service.import_file(session, w.fiona, path, today=TODAY).summaries
    session.commit()
    assert (summary.new_lines, summary.matched_reference, summary.in_suspense) == (2, 1, 1)
    rows = session.execute(
        select(StatementLine.archive_id, StatementLine.parent_archive_id, StatementLine.level,
               StatementLine.amount_cents, StatementLine.client_id, StatementLine.message,
               StatementLine.counterparty_name, StatementLine.booked_on)
        .order_by(StatementLine.archive_id)).all()
    assert [tuple(r) for r in rows] == [
        ("I1", "LUMP1", "item", 1_000, maija, None, "Sukulainen", date(2026, 11, 2)),
        ("I2", "LUMP1", "item", 2_000, None, MESSAGE, "Joku Muu", date(2026, 11, 2)),
    ]
    assert ledger.balance(session, f"client:{maija}") == 1_000
    # The notification moved the lump from incoming to the client (10,00) and suspense (20,00).
    assert ledger.balance(session, f"incoming:{CITY}") == -3_000
    assert ledger.balance(session, "suspense") == 2_000

    [again] = service.import_file(session, w.fiona, path, today=TODAY).summaries
    assert (again.new_lines, again.posted) == (0, 0)
