"""An unreachable FinTS bank (issue 13): the fetch could not run, so exit 3 with one short line
giving the cause, never the HTTP libraries' nested text; nothing is written."""

from __future__ import annotations

import socket

import pytest
import requests
from fints.exceptions import FinTSConnectionError
from helpers import scenario
from helpers.statements import snapshot

from imports import fints_source
from imports.errors import BankUnreachable


def test_an_unreachable_bank_exits_3_with_one_line_and_writes_nothing(cli, session_factory):
    with session_factory() as session, session.begin():
        scenario.world(session)
    with session_factory() as session:
        before = snapshot(session)
    # Port 1 on the loopback: nothing listens there, the connection is refused at once.
    result = cli("import", "fints", "--url", "https://127.0.0.1:1/fints", "--blz", "12345678",
                 "--login", "city", user="fiona", env={"VALITYSTILI_FINTS_PIN": "1234"})
    assert (result.exit_code, result.stdout, result.stderr) == (
        3, "", "valitystili: error: FinTS 127.0.0.1:1 bank 12345678: cannot reach the bank "
               "(connection refused)\n")
    with session_factory() as session:
        assert snapshot(session) == before


def wrapped(inner: BaseException) -> FinTSConnectionError:
    """As python-fints raises it: its own error from requests' from urllib3's from the socket's."""
    try:
        try:
            try:
                raise inner
            except BaseException as error:
                raise requests.exceptions.ConnectionError("HTTPSConnectionPool(host='bank.example'"
                                                          ", port=443): Max retries exceeded") \
                    from error
        except requests.exceptions.ConnectionError as error:
            raise FinTSConnectionError(f"Could not connect to FinTS endpoint: {error}") from error
    except FinTSConnectionError as error:
        return error


@pytest.mark.parametrize(("raised", "cause"), [
    (wrapped(ConnectionRefusedError(111, "Connection refused")), "connection refused"),
    (wrapped(socket.gaierror(-2, "Name or service not known")),
     "the server's name does not resolve"),
    (wrapped(requests.exceptions.ConnectTimeout("timed out after 30 s")), "timed out"),
    (FinTSConnectionError("Bad status code 503"), "the server answered HTTP 503"),
], ids=["refused", "no-name", "timeout", "server-error"])
def test_the_cause_is_said_in_a_few_words(monkeypatch, raised, cause):
    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(fints_source, "_fetch", fail)
    with pytest.raises(BankUnreachable) as caught:
        fints_source.fetch_fints("https://bank.example/fints", "12345678", "city", "1234")
    assert str(caught.value) == f"FinTS bank.example bank 12345678: cannot reach the bank ({cause})"
