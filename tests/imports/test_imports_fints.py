"""FinTS end to end against python-fints' own fake bank (loaded from its source distribution)."""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest
from helpers.readers import fints_server_fixture

from imports import Balance, StatementError
from imports.errors import BankUnreachable
from imports.fints_source import fetch_fints

# The fake bank's session fixture, bound here so only this module starts the server.
fints_server = fints_server_fixture()

BLZ, USER, PIN = "12345678", "test1", "1234"
ACCOUNT = "DE111234567800000001"


def where(server: str) -> str:
    host = re.match(r"http://([^/]+)/", server).group(1)
    return f"FinTS {host} bank {BLZ}"


def test_fetch_without_dates(fints_server):
    [statement] = fetch_fints(fints_server, BLZ, USER, PIN)
    assert (statement.source, statement.iban, statement.currency, statement.statement_id) == (
        "fints", ACCOUNT, "EUR", "STARTUMS/0")
    assert [(e.position, e.amount_cents, e.booked_on, e.status, e.bank_code)
            for e in statement.entries] == [
        (1, 18_234, date(2015, 1, 1), "BOOK", "051"),
        (2, 10_003, date(2015, 3, 1), "BOOK", "051"),
        (3, 10_000, date(2015, 3, 1), "BOOK", "051"),
    ]
    assert statement.closing == Balance("CLBD", 142_360, date(2015, 1, 1))
    # Derived: closing minus the entries, which is the bank's own first :60F: (1041,23).
    assert statement.opening == Balance("OPBD", 104_123, date(2015, 1, 1))
    assert (statement.from_on, statement.to_on) == (date(2015, 1, 1), date(2015, 3, 1))
    first = statement.entries[0].items[0]
    assert (first.amount_cents, first.counterparty_name, first.reference) == (18_234, "Bank", None)
    assert first.message.startswith("Ihre Kontonummer 0000001234/Test Ueberweisung 1")


def test_ids_are_stable_and_distinct(fints_server):
    [first] = fetch_fints(fints_server, BLZ, USER, PIN)
    [again] = fetch_fints(fints_server, BLZ, USER, PIN, iban="de11 1234 5678 0000 0001")
    ids = [e.archive_id for e in first.entries]
    assert ids == [e.archive_id for e in again.entries]
    assert len(set(ids)) == 3
    assert all(i.startswith("fints:") and len(i) == len("fints:") + 24 for i in ids)


def test_dates_are_passed_only_when_given(fints_server):
    # The fake bank answers a dated request with nothing, as BANKING.md records.
    [statement] = fetch_fints(fints_server, BLZ, USER, PIN,
                              start=date(2015, 1, 1), end=date(2015, 3, 31))
    assert (statement.entries, statement.balances, statement.from_on, statement.to_on) == (
        (), (), date(2015, 1, 1), date(2015, 3, 31))


def test_unknown_account(fints_server):
    with pytest.raises(StatementError) as caught:
        fetch_fints(fints_server, BLZ, USER, PIN, iban="FI7433010001222090")
    assert str(caught.value) == (
        f"{where(fints_server)}: user test1 has no account FI7433010001222090 (accounts: {ACCOUNT})"
    )


def test_wrong_pin(fints_server, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StatementError) as caught:
        fetch_fints(fints_server, BLZ, USER, "97531")
    assert str(caught.value) == (
        f"{where(fints_server)}: the bank refused the PIN for user test1 (wrong PIN?)"
    )
    # Neither our message nor anything logged on the way (python-fints logs whole messages at
    # DEBUG, with the PIN masked) carries the PIN.
    assert "97531" not in str(caught.value)
    assert "Sending" in caplog.text and "97531" not in caplog.text


def test_locked_access(fints_server):
    with pytest.raises(StatementError) as caught:
        fetch_fints(fints_server, BLZ, USER, "3938")
    assert str(caught.value) == (
        f"{where(fints_server)}: access for user test1 is temporarily locked; "
        "unlock it with the bank first"
    )


def test_unreachable_server():
    # Port 9 (discard) on the loopback: nothing listens there in a test environment.
    with pytest.raises(BankUnreachable) as caught:
        fetch_fints("http://127.0.0.1:9/", BLZ, USER, PIN)
    assert str(caught.value) == "FinTS 127.0.0.1:9 bank 12345678: cannot reach the bank " \
                                "(connection refused)"
