"""camt.053 and camt.054 in any order, any number of times, end in the same ledger.

Hypothesis draws a day of lump sums (each itemised into reference payments for two clients or
for nobody), writes the statement (lumps without detail, or a single lump with the same detail
as its one item) and the notification, and imports a random sequence of the two files that
contains each at least once. After it: the bank holds the lumps, ``incoming`` is back to zero,
each client got exactly their items and suspense exactly the unmatched ones, whatever the order
and however often a file came.

Each example uses its own bank account in a shared database (as the ledger's state machine
namespaces its accounts), so the examples do not see each other.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from helpers.scenario import HETU_2, client, world
from helpers.statements import Tx, camt053, camt054, ntry, reference_of

import ledger
from valitystili.statements import service
from valitystili.store.models import BankAccount

EXAMPLES = int(os.environ.get("VALITYSTILI_IMPORT_EXAMPLES", "30"))

ITEMS = st.lists(st.tuples(st.integers(min_value=1, max_value=90_000),
                           st.sampled_from([0, 1, None])), min_size=1, max_size=4)
DAY = st.lists(ITEMS, min_size=1, max_size=4)
ORDER = st.lists(st.sampled_from(["053", "054"]), min_size=2, max_size=5).filter(
    lambda files: "053" in files and "054" in files)


def euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def test_any_order_any_repetition(session_factory):
    with session_factory() as session:
        w = world(session)
        clients = [client(session, w), client(session, w, hetu=HETU_2, name="Pekka Virtanen")]
        session.commit()
        references = [reference_of(session, c)[0] for c in clients]
    codes = [f"client:{c}" for c in clients]

    @settings(max_examples=EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(day=DAY, order=ORDER, detailed=st.booleans())
    def check(day, order, detailed):
        ns = uuid.uuid4().hex[:10].upper()
        iban = f"XX{ns}"
        with session_factory() as session, session.begin():
            session.add(BankAccount(iban=iban, name=ns, ledger_code=f"bank:{iban}",
                                    created_by="test"))
            ledger.open_account(session, f"bank:{iban}", "asset")
        statement, notification = [], []
        expected = {code: 0 for code in codes}
        expected["suspense"] = 0
        for n, items in enumerate(day):
            archive_id = f"{ns}-L{n}"
            total = sum(amount for amount, _who in items)
            txs = [Tx(amount=euros(amount), archive_id=f"{archive_id}-{i}",
                      reference=None if who is None else references[who], payer="Maksaja")
                   for i, (amount, who) in enumerate(items)]
            for amount, who in items:
                expected["suspense" if who is None else codes[who]] += amount
            notification.append(ntry(euros(total), archive_id, *txs, bank_code="705"))
            # A statement entry is a bare lump, or (one item) may carry that item's detail.
            own = (Tx(reference=txs[0].reference, payer="Maksaja"),) if (
                detailed and len(items) == 1) else ()
            statement.append(ntry(euros(total), archive_id, *own, bank_code="705"))
        with tempfile.TemporaryDirectory() as scratch:
            files = {"053": Path(scratch) / "s.xml", "054": Path(scratch) / "n.xml"}
            files["053"].write_text(camt053(*statement, iban=iban, opening_cents=None,
                                            statement_id=ns), encoding="utf-8")
            files["054"].write_text(camt054(*notification, iban=iban, notification_id=ns),
                                    encoding="utf-8")
            with session_factory() as session:
                before = {code: ledger.balance(session, code) for code in expected}
                for name in order:
                    service.import_file(session, w.fiona, files[name])
                    session.commit()
                after = {code: ledger.balance(session, code) for code in expected}
                assert {code: after[code] - before[code] for code in expected} == expected
                assert ledger.balance(session, f"bank:{iban}") == sum(
                    amount for items in day for amount, _who in items)
                if ledger.account_exists(session, f"incoming:{iban}"):
                    assert ledger.balance(session, f"incoming:{iban}") == 0

    check()
