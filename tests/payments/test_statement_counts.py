"""The day's work costs the same whatever the history: the SQL statements that a batch run and an
import issue do not grow with the months behind them (issue: fast at every size, target 5).

The history is the batch benchmark's (``bench.batch_bench.seed``: settled obligations, cleared
orders and their ledger transactions, the incomes' statement lines, month after month), so the
figures this test guards are the ones the benchmark measures. It counts statements, not time.
"""

from __future__ import annotations

from sqlalchemy import event

from bench.batch_bench import DAY, seed
from tests.helpers.statements import Tx, camt054, ntry, write
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.identifiers import client_reference
from valitystili.payments import run_batch
from valitystili.statements.service import import_file
from valitystili.store import db
from valitystili.trust.auth import Actor

CLIENTS = 12


class Statements:
    """Counts the statements an engine sends while ``counting`` is on."""

    def __init__(self, engine):
        self.count = 0
        self.counting = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        if self.counting:
            self.count += 1


def _day_of_work(url: str, tmp_path, months: int) -> tuple[int, int, dict, int]:
    """(statements of the batch run, statements of the import, the run's result, lines booked)
    on the benchmark's world with ``months`` of history."""
    seed(url, CLIENTS, months)
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    counter = Statements(engine)
    handler, finance = Actor("hannu", "handler"), Actor("fiona", "finance")
    try:
        with factory() as session, session.begin():
            run_batch(session, handler, CALENDAR.previous_banking_day(DAY))
        counter.counting = True
        with factory() as session, session.begin():
            result = run_batch(session, handler, DAY)
        batch_statements, counter.count = counter.count, 0
        # A day's camt.054: one credit with the reference of each client.
        entries = [ntry("10.00", f"A{c}", Tx(amount="10.00", archive_id=f"A{c}-1",
                                             reference=client_reference(c), payer="Kela"),
                        booked=DAY.isoformat())
                   for c in range(1, CLIENTS + 1)]
        path = write(tmp_path, f"day-{months}.xml", camt054(*entries))
        with factory() as session, session.begin():
            imported = import_file(session, finance, path, today=DAY)
        return batch_statements, counter.count, result, imported.summaries[0].matched_reference
    finally:
        engine.dispose()


def test_the_batch_and_the_import_issue_as_many_statements_after_a_year(backend, tmp_path,
                                                                        second_url):
    short = _day_of_work(backend.url, tmp_path, 1)
    long = _day_of_work(second_url, tmp_path, 12)
    # The same day's work: two orders a client (rent 520,00 and the first instalment).
    assert short[2]["orders"] == long[2]["orders"] == 2 * CLIENTS
    assert short[2]["total_cents"] == long[2]["total_cents"] == CLIENTS * (52000 + 7500)
    assert short[3] == long[3] == CLIENTS
    assert long[0] == short[0], f"batch run: {short[0]} statements, {long[0]} after a year"
    assert long[1] == short[1], f"import: {short[1]} statements, {long[1]} after a year"
