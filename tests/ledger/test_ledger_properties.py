"""The ledger's invariants under random sequences of operations (Hypothesis state machine).

After every step: the model's balances equal the ledger's, all balances sum to zero in debit
terms, no no-negative account is below zero, each key has posted at most once, each transaction
is reversed at most once, and ``verify()`` finds nothing. Examples: at least 200 in CI, more
locally (``VALITYSTILI_EXAMPLES`` overrides).
"""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

import ledger
from ledger.core import SIGN
from ledger.models import transactions

EXAMPLES = int(os.environ.get("VALITYSTILI_EXAMPLES", "200" if os.environ.get("CI") else "300"))
ACCOUNTS = {  # suffix -> (kind, no_negative)
    "bank": ("asset", False),
    "c1": ("liability", True),
    "c2": ("liability", True),
    "c3": ("liability", True),
    "outgoing": ("liability", False),
}
KEYS = st.sampled_from([f"k{i}" for i in range(12)])
AMOUNTS = st.integers(min_value=1, max_value=50_000)
DAYS = st.integers(min_value=0, max_value=40)
NAMES = st.sampled_from(sorted(ACCOUNTS))


def run_machine(session_factory) -> None:
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.ns = uuid.uuid4().hex[:8]
            self.balance = {name: 0 for name in ACCOUNTS}
            self.posted: dict[str, tuple] = {}      # key -> content
            self.legs: dict[str, dict[str, int]] = {}
            self.reversed: set[str] = set()
            with session_factory() as session, session.begin():
                for name, (kind, no_negative) in ACCOUNTS.items():
                    ledger.open_account(session, self.code(name), kind, no_negative=no_negative)

        def code(self, name: str) -> str:
            return f"{self.ns}:{name}"

        def key(self, key: str) -> str:
            return f"{self.ns}:{key}"

        def would_overdraw(self, legs: dict[str, int]) -> bool:
            return any(
                ACCOUNTS[name][1] and self.balance[name] + SIGN[ACCOUNTS[name][0]] * amount < 0
                for name, amount in legs.items()
            )

        def apply(self, legs: dict[str, int]) -> None:
            for name, amount in legs.items():
                self.balance[name] += SIGN[ACCOUNTS[name][0]] * amount

        def attempt(self, key, legs, on, reverses=None):
            content = (tuple(sorted(legs.items())), on, reverses)
            if key in self.posted:
                expected = "same" if self.posted[key] == content else "conflict"
            elif reverses is not None and reverses in self.reversed:
                expected = "already_reversed"
            elif self.would_overdraw(legs):
                expected = "overdraw"
            else:
                expected = "created"
            with session_factory() as session:
                try:
                    with session.begin():
                        if reverses is None:
                            result = ledger.post(
                                session, self.key(key),
                                [(self.code(n), a) for n, a in legs.items()], on)
                        else:
                            result = ledger.reverse(session, self.key(key), self.key(reverses), on)
                    outcome = "created" if result.created else "same"
                except ledger.KeyConflict:
                    outcome = "conflict"
                except ledger.InsufficientFunds:
                    outcome = "overdraw"
                except ledger.AlreadyReversed:
                    outcome = "already_reversed"
            assert outcome == expected, (key, legs, expected, outcome)
            if outcome == "created":
                self.posted[key] = content
                self.legs[key] = legs
                self.apply(legs)
                if reverses is not None:
                    self.reversed.add(reverses)

        @rule(key=KEYS, debit=NAMES, credit=NAMES, amount=AMOUNTS, day=DAYS)
        def post(self, key, debit, credit, amount, day):
            if debit == credit:
                return
            self.attempt(key, {debit: amount, credit: -amount}, date(2026, 1, 1) + timedelta(day))

        @rule(key=KEYS, client=st.sampled_from(["c1", "c2", "c3"]), amount=AMOUNTS)
        def receive(self, key, client, amount):
            self.attempt(key, {"bank": amount, client: -amount}, date(2026, 1, 2))

        @rule(key=KEYS, client=st.sampled_from(["c1", "c2", "c3"]), amount=AMOUNTS)
        def pay(self, key, client, amount):
            self.attempt(key, {client: amount, "outgoing": -amount}, date(2026, 1, 3))

        @rule(data=st.data())
        def reverse(self, data):
            if not self.legs:
                return
            target = data.draw(st.sampled_from(sorted(self.legs)))
            key = data.draw(KEYS)
            legs = {name: -amount for name, amount in self.legs[target].items()}
            self.attempt(key, legs, date(2026, 2, 1), reverses=target)

        @rule(items=st.lists(st.tuples(KEYS, st.sampled_from(["c1", "c2", "c3"]), AMOUNTS,
                                       st.booleans()), min_size=1, max_size=5))
        def bulk(self, items):
            entries, simulated, posted, ok = [], dict(self.balance), dict(self.posted), True
            expected_error = None
            for key, client, amount, incoming in items:
                legs = {"bank": amount, client: -amount} if incoming else {client: amount, "outgoing": -amount}
                content = (tuple(sorted(legs.items())), date(2026, 1, 5), None)
                entries.append(ledger.Entry(self.key(key), tuple((self.code(n), a) for n, a in legs.items()),
                                            date(2026, 1, 5)))
                if key in posted:
                    if posted[key] != content and expected_error is None:
                        expected_error = ledger.KeyConflict
                    continue
                posted[key] = content
                for name, value in legs.items():
                    change = SIGN[ACCOUNTS[name][0]] * value
                    if ACCOUNTS[name][1] and simulated[name] + change < 0 and expected_error is None:
                        expected_error = ledger.InsufficientFunds
                    simulated[name] += change
            with session_factory() as session:
                try:
                    with session.begin():
                        ledger.post_many(session, entries)
                    error = None
                except (ledger.KeyConflict, ledger.InsufficientFunds) as raised:
                    error = type(raised)
            if expected_error is not None:
                # which error surfaces first may differ; that something is refused may not
                assert error is not None, items
                return
            assert error is None, (items, error)
            for key, client, amount, incoming in items:
                if key not in self.posted:
                    legs = {"bank": amount, client: -amount} if incoming else {client: amount, "outgoing": -amount}
                    self.posted[key] = posted[key]
                    self.legs[key] = legs
            self.balance = simulated

        @invariant()
        def books_agree(self):
            with session_factory() as session:
                stored = {b.code.split(":", 1)[1]: b.balance_cents
                          for b in ledger.balances(session, prefix=f"{self.ns}:")}
                assert stored == self.balance
                assert sum(SIGN[ACCOUNTS[n][0]] * v for n, v in stored.items()) == 0
                assert all(stored[n] >= 0 for n, (_, nn) in ACCOUNTS.items() if nn)
                count = session.execute(
                    select(func.count()).select_from(transactions)
                    .where(transactions.c.key.startswith(f"{self.ns}:"))).scalar_one()
                assert count == len(self.posted)
                assert ledger.verify(session) == []

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=EXAMPLES, stateful_step_count=12, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )


def test_ledger_invariants_hold_under_random_operations(session_factory):
    run_machine(session_factory)
