"""MT940 and CSV statements take the same path as camt.053: bank side, matching, idempotency,
the opening balance of the first statement and the warning when a later one does not fit."""

from __future__ import annotations

from datetime import date

from helpers.scenario import client, world
from sqlalchemy import select
from helpers.statements import CITY, camt053, ntry, reference_of, write

import ledger
from valitystili.statements import service
from valitystili.store.models import Statement, StatementLine

TODAY = date(2026, 11, 25)

MT940 = """\
:20:STMT20261123
:25:FI74 3301 0001 2220 90
:28C:123/1
:60F:C261120EUR1000,00
:61:2611231123C512,40NTRF{reference}//ARCH0001
:86:Kela toimeentulotuki
 marraskuu
:61:2611231123D100,00NMSCNONREF//ARCH0002
:86:Vuokra marraskuu
:62F:C261123EUR1412,40
-
"""


def test_mt940_first_statement_books_its_opening_balance(session, tmp_path):
    w = world(session)
    maija = client(session, w)
    session.commit()
    reference, _ = reference_of(session, maija)
    path = write(tmp_path, "day.sta", MT940.format(reference=reference))
    [summary] = service.import_file(session, w.fiona, path, today=TODAY).summaries
    session.commit()
    assert (summary.source, summary.entries, summary.posted, summary.matched_reference,
            summary.in_suspense, summary.opening_cents, summary.closing_cents,
            summary.ledger_bank_cents) == ("mt940", 2, 2, 1, 1, 100_000, 141_240, 141_240)
    assert ledger.balance(session, f"client:{maija}") == 51_240
    # The opening balance is dated the day before the statement opens.
    assert ledger.balance(session, f"bank:{CITY}", date(2026, 11, 19)) == 100_000
    assert ledger.balance(session, "suspense") == 100_000 - 10_000

    [again] = service.import_file(session, w.fiona, path, today=TODAY).summaries
    assert (again.posted, again.already_present, again.warnings) == (0, 2, ())


def test_csv_statement(session, tmp_path):
    w = world(session)
    maija = client(session, w)
    session.commit()
    _reference, rf = reference_of(session, maija)
    path = write(tmp_path, "day.csv",
                 "account_iban;booking_date;amount;currency;archive_id;reference;message;"
                 "counterparty_name\n"
                 f"{CITY};23.11.2026;25,00;EUR;CSV-1;{rf};;Sukulainen\n"
                 f"{CITY};23.11.2026;-3,50;EUR;CSV-2;;palvelumaksu;Pankki\n")
    [summary] = service.import_file(session, w.fiona, path, today=TODAY).summaries
    session.commit()
    assert (summary.posted, summary.matched_reference, summary.in_suspense,
            summary.opening_cents, summary.ledger_bank_cents) == (2, 1, 1, None, 2_150)
    lines = {l.archive_id: (l.state, l.match_rule) for l in
             session.execute(select(StatementLine)).scalars()}
    assert lines == {"CSV-1": ("posted", "reference"), "CSV-2": ("suspense", "none")}


def test_a_later_statement_that_does_not_fit_is_a_warning(session, tmp_path):
    w = world(session)
    session.commit()
    first = write(tmp_path, "1.xml", camt053(ntry("10.00", "A1"), statement_id="S1",
                                             opening_cents=5_000, closing_cents=6_000,
                                             on="2026-11-02"))
    service.import_file(session, w.fiona, first, today=TODAY)
    session.commit()
    fits = write(tmp_path, "2.xml", camt053(ntry("1.00", "A2", booked="2026-11-03"),
                                            statement_id="S2", opening_cents=6_000,
                                            on="2026-11-03"))
    [ok] = service.import_file(session, w.fiona, fits, today=TODAY).summaries
    assert ok.warnings == ()
    gap = write(tmp_path, "3.xml", camt053(ntry("1.00", "A3", booked="2026-11-05"),
                                           statement_id="S3", opening_cents=7_000,
                                           on="2026-11-05"))
    [warned] = service.import_file(session, w.fiona, gap, today=TODAY).summaries
    session.commit()
    assert warned.warnings == (
        f"statement S3 of {CITY} opens with 70,00\xa0€ on 2026-11-05, the ledger has "
        "61,00\xa0€ (difference 9,00\xa0€)",)
    # Never adjusted: only the entries moved the bank account after the first opening.
    assert ledger.balance(session, f"bank:{CITY}") == 5_000 + 1_000 + 100 + 100
    assert [s.opening_cents for s in session.execute(
        select(Statement).order_by(Statement.id)).scalars()] == [5_000, 6_000, 7_000]


def test_item_ids_the_bank_repeats_are_numbered_under_their_entry(session, tmp_path):
    from helpers.statements import Tx, camt054

    w = world(session)
    session.commit()
    path = write(tmp_path, "n.xml", camt054(
        ntry("3.00", "E1", Tx(amount="1.00", archive_id="SAME"), Tx(amount="2.00",
                                                                     archive_id="SAME")),
        ntry("4.00", "E2", Tx(amount="4.00", archive_id="X1")),
        ntry("5.00", "E3", Tx(amount="5.00", archive_id="X1"))))
    service.import_file(session, w.fiona, path, today=TODAY)
    session.commit()
    lines = sorted((l.archive_id, l.parent_archive_id, l.amount_cents)
                   for l in session.execute(select(StatementLine)).scalars())
    assert lines == [("E1/1", "E1", 100), ("E1/2", "E1", 200), ("E3/1", "E3", 500),
                     ("X1", "E2", 400)]
    assert ledger.balance(session, f"incoming:{CITY}") == -1_200
