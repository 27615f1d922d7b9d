"""The bank's intraday report (camt.052) in the daily cycle, both backends (DESIGN §6 "When the
money becomes visible", §7): Kela's money, reported during the day, pays the rent that same
day; the next morning's camt.053 carrying the same entries books only what the report did not;
reconciliation stays clean; pending entries wait; a hostile report is refused. And what holds
for FinTS in the day and camt.053 the next morning (the last tests)."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.camt052 import camt052
from helpers.readers import fints_server_fixture
from helpers.scenario import CITY_IBAN, WORKED_EXAMPLE, client, plan, world
from helpers.statements import Tx, balances, camt053, camt054, ntry, snapshot, write
from sqlalchemy import select

import ledger
from imports.fints_source import fetch_fints
from valitystili import payments as batches
from valitystili.base.errors import ValidationError
from valitystili.oversight import reconcile
from valitystili.statements import service
from valitystili.store.models import (
    BankAccount,
    Client,
    PaymentOrder,
    Statement,
    StatementLine,
)

MONDAY = date(2026, 11, 2)
TUESDAY = date(2026, 11, 3)
BANK = f"bank:{CITY_IBAN}"
#: Kela pays without a reference of ours; the expected incomes of the plan match it.
SOCIAL_ASSISTANCE = Tx(payer="KANSANELAKELAITOS", message="MAIJA MEIKALAINEN TOIMEENTULOTUKI")
HOUSING_ALLOWANCE = Tx(payer="KANSANELAKELAITOS", message="MAIJA MEIKALAINEN ASUMISTUKI")


# The fake FinTS bank of python-fints' own tests (session fixture, started when first used).
fints_server = fints_server_fixture()


def findings(session, day):
    return [(f.check, f.subject, f.amount_cents) for f in reconcile.check_all(session, day)]


def summary_of(result):
    [summary] = result.summaries
    return {k: getattr(summary, k) for k in (
        "source", "entries", "posted", "already_present", "skipped", "matched_expected_income",
        "matched_reference", "closing_cents", "ledger_bank_cents", "warnings")}


def kela_report(*extra, report_id="RPT-0211-14", interim_cents=94000):
    """Monday's report at 14:00: Kela's two credits booked, the client's own 25,00 pending."""
    return camt052(ntry("560.00", "A-0211-1", SOCIAL_ASSISTANCE),
                   ntry("380.00", "A-0211-2", HOUSING_ALLOWANCE),
                   ntry("25.00", "A-0211-3", Tx(payer="Maija Meikäläinen"), status="PDNG"),
                   *extra, report_id=report_id, opening_cents=0, interim_cents=interim_cents,
                   on="2026-11-02")


@pytest.fixture
def maija(session_factory):
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w)
        plan(session, w, number, WORKED_EXAMPLE)
        reference = session.get(Client, number).reference
    return w, number, reference


def test_reported_during_the_day_paid_the_same_day_and_the_statement_adds_nothing(
        session_factory, maija, tmp_path):
    w, number, reference = maija
    with session_factory() as session, session.begin():
        during = service.import_file(session, w.fiona,
                                     write(tmp_path, "0211-14.xml", kela_report()), today=MONDAY)
    assert summary_of(during) == {
        "source": "camt052", "entries": 3, "posted": 2, "already_present": 0, "skipped": 1,
        "matched_expected_income": 2, "matched_reference": 0, "closing_cents": 94000,
        "ledger_bank_cents": 94000, "warnings": ()}

    with session_factory() as session, session.begin():
        run = batches.run_batch(session, w.hannu, MONDAY)
    with session_factory() as session, session.begin():
        batches.approve_batch(session, w.hilla, str(run["batch"]), today=MONDAY)
        batches.export_batch(session, w.fiona, str(run["batch"]), tmp_path / "pain.xml",
                             today=MONDAY)
    with session_factory() as session:
        orders = session.execute(select(PaymentOrder.kind, PaymentOrder.amount_cents,
                                        PaymentOrder.execution_on)
                                 .order_by(PaymentOrder.id)).all()
        assert [tuple(o) for o in orders] == [("rent", 52000, MONDAY),
                                              ("instalment", 7500, MONDAY)]
        # The report's interim balance is not the day's closing: nothing to find.
        assert findings(session, MONDAY) == []

    # Tuesday morning: Monday's statement repeats the report's entries and books the rest.
    statement = camt053(ntry("560.00", "A-0211-1", SOCIAL_ASSISTANCE),
                        ntry("380.00", "A-0211-2", HOUSING_ALLOWANCE),
                        ntry("25.00", "A-0211-3", Tx(reference=reference, payer="Maija")),
                        statement_id="STMT-0211", opening_cents=0, closing_cents=96500,
                        on="2026-11-02")
    with session_factory() as session, session.begin():
        morning = service.import_file(session, w.fiona, write(tmp_path, "0211.xml", statement),
                                      today=TUESDAY)
    assert summary_of(morning) == {
        "source": "camt053", "entries": 3, "posted": 1, "already_present": 2, "skipped": 0,
        "matched_expected_income": 0, "matched_reference": 1, "closing_cents": 96500,
        "ledger_bank_cents": 96500, "warnings": ()}

    with session_factory() as session, session.begin():
        assert balances(session) == {BANK: 96500, f"client:{number}": 37000, "outgoing": 59500}
        stored = session.execute(select(
            Statement.source, Statement.statement_id, Statement.opening_cents,
            Statement.closing_cents, Statement.closing_on).order_by(Statement.id)).all()
        assert [tuple(s) for s in stored] == [
            ("camt052", "RPT-0211-14", 0, 94000, MONDAY),
            ("camt053", "STMT-0211", 0, 96500, MONDAY)]
        lines = session.execute(select(StatementLine.archive_id, StatementLine.amount_cents,
                                       StatementLine.match_rule)
                                .order_by(StatementLine.id)).all()
        assert [tuple(line) for line in lines] == [("A-0211-1", 56000, "expected_income"),
                                                   ("A-0211-2", 38000, "expected_income"),
                                                   ("A-0211-3", 2500, "reference")]
        assert findings(session, MONDAY) == []
        assert reconcile.reconcile(session, w.fiona, MONDAY, today=TUESDAY).clean


def test_a_later_report_of_the_same_day_books_only_what_is_new(session_factory, maija,
                                                                 tmp_path):
    w, _number, reference = maija
    later = kela_report(ntry("10.00", "A-0211-4", Tx(reference=reference, payer="Maija")),
                        report_id="RPT-0211-16", interim_cents=95000)
    with session_factory() as session, session.begin():
        service.import_file(session, w.fiona, write(tmp_path, "14.xml", kela_report()),
                            today=MONDAY)
        second = service.import_file(session, w.fiona, write(tmp_path, "16.xml", later),
                                     today=MONDAY)
        assert (summary_of(second)["posted"], summary_of(second)["already_present"],
                summary_of(second)["skipped"]) == (1, 2, 1)
        assert balances(session)[BANK] == 95000
        # The same report twice adds nothing.
        again = service.import_file(session, w.fiona, write(tmp_path, "16b.xml", later),
                                    today=MONDAY)
        assert (summary_of(again)["posted"], summary_of(again)["already_present"]) == (0, 3)
        assert balances(session)[BANK] == 95000


def lump_053():
    return camt053(ntry("1000.00", "A-0211-L", bank_code="705"),
                   statement_id="STMT-0211", opening_cents=0, closing_cents=100000,
                   on="2026-11-02")


def lump_052():
    return camt052(ntry("1000.00", "A-0211-L", bank_code="705"), report_id="RPT-0211-14",
                   opening_cents=0, interim_cents=100000, on="2026-11-02")


def lump_054(reference):
    return camt054(ntry("1000.00", "A-0211-L",
                        Tx(amount="600.00", archive_id="A-0211-L-1", reference=reference,
                           payer="Maija"),
                        Tx(amount="400.00", archive_id="A-0211-L-2", reference=reference,
                           payer="Maija")))


@pytest.mark.parametrize("order", [("052", "054", "053"), ("054", "052", "053"),
                                   ("053", "054", "052")])
def test_a_lump_sum_the_report_carried_is_itemised_as_with_the_statement(
        session_factory, maija, tmp_path, order):
    w, number, reference = maija
    files = {"052": lump_052(), "053": lump_053(), "054": lump_054(reference)}
    posted = []
    for name in order:
        with session_factory() as session, session.begin():
            result = service.import_file(session, w.fiona,
                                         write(tmp_path, f"{name}.xml", files[name]),
                                         today=MONDAY)
            posted.append(summary_of(result)["posted"])
    # The lump's bank side once (052 or 053, whichever first), its items once.
    assert sorted(posted) == [0, 1, 1]
    with session_factory() as session:
        assert balances(session) == {BANK: 100000, f"client:{number}": 100000}
        states = session.execute(select(StatementLine.archive_id, StatementLine.state)
                                 .order_by(StatementLine.archive_id)).all()
        assert [tuple(s) for s in states] == [("A-0211-L", "bank_only"),
                                              ("A-0211-L-1", "posted"),
                                              ("A-0211-L-2", "posted")]
        assert findings(session, MONDAY) == []


# --- through the command line ---------------------------------------------------------------


@pytest.fixture
def world_cli(cli, session_factory):
    """The world built through the services (quicker than through the command line)."""
    with session_factory() as session, session.begin():
        world(session)
    return cli


def test_the_import_names_the_pending_entries_it_left(world_cli, tmp_path):
    path = write(tmp_path, "intraday.xml", kela_report())
    first = world_cli("import", str(path), user="fiona")
    assert (first.exit_code, first.stderr) == (
        0, ("intraday.xml: FI7433010001222090: 3 entries, posted 2, already present 0, "
            "skipped 1 (not booked), in suspense 2\n"))
    again = world_cli("import", "--format", "camt052", "--dry-run", str(path), user="fiona")
    assert (again.exit_code, again.stderr) == (
        0, ("intraday.xml: FI7433010001222090: 3 entries, would post 0, already present 2, "
            "skipped 1 (not booked), in suspense 0\n"))


HOSTILE = {
    "xxe": '<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
    "billion-laughs": ('<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY a "aaaaaaaa">'
                       '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'),
}


@pytest.mark.parametrize("prolog", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_report_is_refused_and_nothing_is_written(world_cli, session_factory,
                                                           tmp_path, prolog):
    good = write(tmp_path, "good.xml", kela_report())
    bad = write(tmp_path, "bad.xml", camt052(ntry("5.00", "X1"), prolog=prolog))
    with session_factory() as session:
        before = snapshot(session)
    result = world_cli("import", str(good), str(bad), user="fiona")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", ("valitystili: error: bad.xml: refused: the XML has a DOCTYPE/ENTITY "
                "declaration\n"))
    with session_factory() as session:
        assert snapshot(session) == before


# --- FinTS during the day, camt.053 the next morning -------------------------------------------

FINTS_IBAN = "DE111234567800000001"


def fints_account(session) -> None:
    """The fake bank's IBAN has 20 characters, so `bank add` (rightly) refuses it: the account
    is put in place the way `bank add` would."""
    session.add(BankAccount(iban=FINTS_IBAN, name="FinTS test", created_by="test",
                            ledger_code=f"bank:{FINTS_IBAN}"))
    ledger.open_account(session, f"bank:{FINTS_IBAN}", "asset")


def fints_fetch(fints_server):
    return fetch_fints(fints_server, "12345678", "test1", "1234", iban=FINTS_IBAN)


def statement_of_1_march():
    """The bank's camt.053 of 1.3.2015 for the two credits the fake bank delivers for that day."""
    return camt053(ntry("100.03", "ARCH-0103-1", Tx(payer="Ihre Kontonummer"),
                        booked="2015-03-01"),
                   ntry("100.00", "ARCH-0103-2", Tx(payer="Ihre Kontonummer"),
                        booked="2015-03-01"),
                   iban=FINTS_IBAN, statement_id="STMT-0103", opening_cents=122_357,
                   closing_cents=142_360, on="2015-03-01")


def test_fints_again_adds_nothing_and_a_camt053_of_a_fints_day_is_refused(
        session_factory, fints_server, tmp_path):
    """A FinTS fetch repeated (during the day, then the next morning) gives the same keys, so
    it adds nothing. A camt.053 cannot recognise FinTS's entries: FinTS delivers MT940 lines
    without the bank's archive id (the fake bank's lines carry NONREF and no bank reference),
    so their keys are derived (``fints:…``) and the statement's are the bank's. Rather than
    book the same money twice, the statement of a day FinTS has booked is refused."""
    with session_factory() as session, session.begin():
        w = world(session)
        fints_account(session)
    with session_factory() as session, session.begin():
        first = service.import_statements(session, w.fiona, fints_fetch(fints_server),
                                          file_name="FinTS")
        again = service.import_statements(session, w.fiona, fints_fetch(fints_server),
                                          file_name="FinTS")
    assert (summary_of(first)["posted"], summary_of(first)["ledger_bank_cents"]) == (3, 142_360)
    assert (summary_of(again)["posted"], summary_of(again)["already_present"]) == (0, 3)

    path = write(tmp_path, "0103.xml", statement_of_1_march())
    with session_factory() as session:
        before = snapshot(session)
        with pytest.raises(ValidationError) as refused:
            service.import_file(session, w.fiona, path)
        session.rollback()
        assert snapshot(session) == before
    assert str(refused.value) == (
        "0103.xml: statement STMT-0103 (camt053) books 1.3.2015 on DE111234567800000001, which "
        "fints has booked already; the two have no entry ids in common, so the same money would "
        "be booked twice: import one of them for a day; nothing was imported")


def test_a_fints_fetch_of_a_day_a_statement_booked_is_refused(session_factory, fints_server,
                                                             tmp_path):
    with session_factory() as session, session.begin():
        w = world(session)
        fints_account(session)
        service.import_file(session, w.fiona, write(tmp_path, "0103.xml", statement_of_1_march()))
    with session_factory() as session:
        before = snapshot(session)
        with pytest.raises(ValidationError) as refused:
            service.import_statements(session, w.fiona, fints_fetch(fints_server),
                                      file_name="FinTS 12345678 test1")
        session.rollback()
        assert snapshot(session) == before
    assert str(refused.value).startswith("FinTS 12345678 test1: statement ")
    assert str(refused.value).endswith(
        " (fints) books 1.3.2015 on DE111234567800000001, which camt053 has booked already; the "
        "two have no entry ids in common, so the same money would be booked twice: import one "
        "of them for a day; nothing was imported")
