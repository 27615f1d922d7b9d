"""Fetch statements over FinTS/HBCI (German online banking) with the ``fints`` package.

Rules:

- ``fetch_fints`` logs in with PIN/TAN, lists the SEPA accounts, keeps the one whose IBAN is
  asked for (or all), and calls ``get_transactions`` per account. Dates are passed only when
  given: some servers (the fake bank in python-fints' own tests among them) answer a dated
  request with nothing.
- Each account gives one ``Statement`` (source ``"fints"``) with every booked line as an entry.
  python-fints parses the bank's MT940 blocks into one collection in which only the last block's
  balances survive, so the closing balance (CLBD) is the bank's and the opening balance (OPBD)
  is derived as closing minus the entries, dated on the first booking day. No opening is given
  when the bank sent no closing balance.
- Archive ids follow the MT940 rule, except that the "position" is the line's ordinal within its
  booking day and the statement number is left out: a FinTS fetch is a date range chosen by the
  caller, so positions in the whole result and the bank's block numbers change when the range
  does, while a booking day is always delivered whole. ``fints:`` + sha256 (24 hex digits) of
  account, booking date, value date, amount, bank reference, customer reference, ordinal.
- Texts from the bank are checked like a file's (``parsing.check_text``): a control or
  bidirectional formatting character in a transaction's fields or the statement's reference
  refuses the fetch.
- A wrong PIN, a locked account, a TAN request, an unreachable server and every other FinTS
  failure become a ``StatementError`` with one clear line; a bank that cannot be reached is a
  ``BankUnreachable`` whose line gives the cause in a few words (``connection refused``, ``the
  server's name does not resolve``, ``timed out``, ``the server answered HTTP 503``), not the
  HTTP library's nested text. The PIN never appears in a message
  and nothing here prints or logs it.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections import Counter
from dataclasses import replace
from datetime import date
from urllib.parse import urlsplit

from imports.errors import BankUnreachable, StatementError
from imports.mt940 import account_of, balances_of, entry_from_transaction
from imports.parsing import check_text, clean_iban, stable_id
from imports.records import Balance, Entry, Statement

# python-fints requires a product id. Banks in Germany expect one registered with Die Deutsche
# Kreditwirtschaft; this placeholder is enough for test servers. Pass a real one for a real bank.
DEFAULT_PRODUCT_ID = "VALITYSTILI"


def fetch_fints(
    url: str,
    blz: str,
    login: str,
    pin: str,
    *,
    iban: str | None = None,
    start: date | None = None,
    end: date | None = None,
    product_id: str | None = None,
) -> list[Statement]:
    """Fetch booked transactions for one account (``iban``) or all SEPA accounts of a login."""
    # Imported here so that reading files never loads the FinTS stack (requests, bank data).
    from fints.client import FinTS3PinTanClient, NeedTANResponse
    from fints.exceptions import (
        FinTSClientPINError,
        FinTSClientTemporaryAuthError,
        FinTSConnectionError,
        FinTSError,
        FinTSSCARequiredError,
    )

    where = f"FinTS {_host(url)} bank {blz}"
    wanted = clean_iban(iban) if iban else None
    try:
        client = FinTS3PinTanClient(
            blz, login, pin, url, product_id=product_id or DEFAULT_PRODUCT_ID
        )
        fetched = _fetch(client, NeedTANResponse, wanted, start, end, where, login)
    except StatementError:
        raise
    except FinTSClientPINError:
        raise StatementError(
            f"{where}: the bank refused the PIN for user {login} (wrong PIN?)"
        ) from None
    except FinTSClientTemporaryAuthError:
        raise StatementError(
            f"{where}: access for user {login} is temporarily locked; "
            "unlock it with the bank first"
        ) from None
    except FinTSSCARequiredError:
        raise StatementError(
            f"{where}: the bank requires strong customer authentication (TAN), "
            "which is not supported"
        ) from None
    except FinTSConnectionError as exc:
        raise BankUnreachable(f"{where}: cannot reach the bank ({_cause(exc, pin)})") from None
    except FinTSError as exc:
        raise StatementError(f"{where}: {type(exc).__name__}: {_first_line(exc, pin)}") from None
    except OSError as exc:
        raise BankUnreachable(f"{where}: cannot reach the bank ({_cause(exc, pin)})") from None
    except Exception as exc:  # requests, parser, protocol: one line, never a traceback
        raise StatementError(
            f"{where}: the FinTS exchange failed: {type(exc).__name__}: {_first_line(exc, pin)}"
        ) from None

    return [
        _statement(account_iban, transactions, where, start, end)
        for account_iban, transactions in fetched
    ]


def _host(url: str) -> str:
    # Only the host: a URL may carry credentials in its user-info part.
    parts = urlsplit(url)
    if not parts.hostname:
        return "server"
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


#: HTTP client errors whose class name says the cause (urllib3 and requests wrap the socket's).
_TIMEOUTS = ("Timeout", "TimeoutError")
_BAD_STATUS = re.compile(r"Bad status code (\d{3})")


def _cause(exc: BaseException, pin: str) -> str:
    """The cause of a failed connection in a few words, from the innermost error the HTTP
    libraries wrapped (``requests`` → ``urllib3`` → the socket's ``OSError``)."""
    status = _BAD_STATUS.search(str(exc))
    if status:
        return f"the server answered HTTP {status.group(1)}"
    seen, stack, innermost = set(), [exc], exc
    while stack:
        error = stack.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        innermost = error
        if any(name in type(error).__name__ for name in _TIMEOUTS):
            return "timed out"
        if type(error).__name__ == "NameResolutionError" or isinstance(error, socket.gaierror):
            return "the server's name does not resolve"
        if isinstance(error, ssl.SSLError):
            return "the TLS handshake failed"
        if isinstance(error, OSError) and error.strerror:
            return error.strerror.lower()
        inner = [error.__cause__, error.__context__, getattr(error, "reason", None),
                 *(arg for arg in error.args if isinstance(arg, BaseException))]
        stack.extend(e for e in inner if isinstance(e, BaseException))
    return _first_line(innermost, pin)[:120]


def _first_line(exc: BaseException, pin: str) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    # Library messages are not known to echo the PIN; make sure of it anyway.
    return line.replace(pin, "***") if pin else line


def _statement(
    account_iban: str, transactions: list, where: str, start: date | None, end: date | None
) -> Statement:
    name = f"{where} account {account_iban}"
    # mt940 transactions point back to their collection, which holds the statement-level data;
    # python-fints' camt fallback gives plain records without one (and without balances).
    collection = getattr(transactions[0], "transactions", None) if transactions else None
    block_data = getattr(collection, "data", None) or {}
    currency = (
        (transactions[0].data.get("currency") if transactions else None)
        or getattr(collection, "currency", None)
        or "EUR"
    )
    ordinals: Counter[date | None] = Counter()
    entries: list[Entry] = []
    for position, transaction in enumerate(transactions, start=1):
        data = transaction.data
        # The entry first (it validates the amount), then its key from the validated values.
        provisional = entry_from_transaction(
            data, position=position, currency=currency, archive_id="", name=name,
            where=f"entry {position}",
        )
        ordinals[provisional.booked_on] += 1
        archive_id = stable_id(
            "fints", account_iban, provisional.booked_on, provisional.value_on,
            provisional.amount_cents, (data.get("bank_reference") or "").strip(),
            (data.get("customer_reference") or "").strip(), ordinals[provisional.booked_on],
        )
        entries.append(replace(provisional, archive_id=archive_id))

    balances: list[Balance] = []
    bank_balances = balances_of(block_data, name, "statement")
    closing = next((b for b in bank_balances if b.code == "CLBD"), None)
    if closing is not None:
        booked_days = [e.booked_on for e in entries if e.booked_on is not None]
        opening_on = min(booked_days) if booked_days else closing.on
        total = sum(e.amount_cents for e in entries)
        balances = [Balance("OPBD", closing.amount_cents - total, opening_on), closing]
    reference, number = (
        check_text(str(block_data.get(key) or "").strip(), name=name, where="statement",
                   field=key)
        for key in ("transaction_reference", "statement_number")
    )
    booked = [e.booked_on for e in entries if e.booked_on is not None]
    return Statement(
        source="fints",
        statement_id="/".join(p for p in (reference, number) if p) or f"fints:{account_iban}",
        iban=account_of(account_iban) or account_iban,
        currency=currency,
        created_at=None,
        from_on=start or (min(booked) if booked else None),
        to_on=end or (max(booked) if booked else None),
        balances=tuple(balances),
        entries=tuple(entries),
    )


def _fetch(client, need_tan, wanted: str | None, start: date | None, end: date | None,
           where: str, login: str) -> list[tuple[str, list]]:
    """(IBAN, transactions) of the login's chosen accounts, in one FinTS dialogue."""
    fetched: list[tuple[str, list]] = []
    with client:
        if client.init_tan_response is not None:
            raise StatementError(
                f"{where}: the bank asks for a TAN to log in; TANs are not supported"
            )
        accounts = client.get_sepa_accounts()
        chosen = [a for a in accounts if wanted is None or clean_iban(a.iban) == wanted]
        if wanted is not None and not chosen:
            offered = ", ".join(sorted(str(a.iban) for a in accounts)) or "none"
            raise StatementError(
                f"{where}: user {login} has no account {wanted} (accounts: {offered})"
            )
        for account in chosen:
            kwargs = {}
            if start is not None:
                kwargs["start_date"] = start
            if end is not None:
                kwargs["end_date"] = end
            result = client.get_transactions(account, **kwargs)
            if isinstance(result, need_tan):
                raise StatementError(
                    f"{where}: the bank asks for a TAN to list transactions; "
                    "TANs are not supported"
                )
            fetched.append((clean_iban(account.iban) or str(account.iban), list(result or [])))
    return fetched
