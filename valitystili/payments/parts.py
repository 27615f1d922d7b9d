"""The clients a day's run concerns, a part at a time: read, decided and stored together.

Rules of this module:

- A day's run concerns the clients whose obligations it generates (``obligations.generating``),
  those it judges whatever they hold (``concerns``: open, closed on the execution day or later,
  or with a final payout recorded) and closed clients holding money.
- Up to ``CLIENTS_PER_PART`` of them the day is one part, read without a list of its clients
  (``whole_day``). A day concerning more is cut into parts of ``CLIENTS_PER_PART`` clients in the
  order of their numbers, all in the run's one transaction; only the clients' balances, the
  orders not yet debited and the payments asked for by hand are read once for all of them. A
  part's rows are read by the range of numbers from its first client to its last
  (``store.chunks``: one query, no list), the clients it does not concern left out by the
  same conditions as in a day of one part.
- **A part decides as the whole day would.** Everything the decision reads of a client is the
  client's own (its money, obligations, plans, incomes, orders and flags), so each client's
  part holds all of it: a client's payments asked for by hand go with the client's part, a
  refund (of no client) with the first part. The parts' orders are stored part after part, so
  the payments asked for by hand of a later part come after the own payments of an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.payments import manual
from valitystili.plans.obligations import LOOKBACK_DAYS, generating
from valitystili.store.chunks import chunks, fetch_rows, select_in
from valitystili.store.models import Client, PaymentOrder

#: Clients read, decided and stored together: the run's memory follows the part, not the
#: country (read whole, a national day of 100,000 clients held 1.4 GB).
CLIENTS_PER_PART = 10_000


@dataclass(frozen=True)
class DayPart:
    """Clients of a day's run that are read, decided and stored together, with what the run
    read of all its clients before the parts."""

    client_ids: range | None                     # numbers from the first to the last; None: all
    balances: dict[str, int]                     # their ledger balances, by account code
    pending: dict[int, int]                      # their orders not yet debited, by client
    manual: tuple = ()                           # their payments asked for by hand


def concerns(execution_on: date) -> ColumnElement[bool]:
    """The clients the day judges whatever they hold: the open ones, those closed on E or
    later (their service runs to the close date) and those whose final payout was recorded."""
    return ((Client.status == "open") | (Client.final_payout.is_(True))
            | (Client.closed_on >= execution_on))


def day_parts(session: Session, execution_on: date) -> Iterator[DayPart]:
    """The parts of the day's run on ``execution_on`` (see the module rules)."""
    whole = whole_day(session)
    if len(whole.balances) <= CLIENTS_PER_PART:      # every client has an account from opening
        yield whole
        return
    concerned = generating(execution_on - timedelta(days=LOOKBACK_DAYS)) | concerns(execution_on)
    codes = dict(fetch_rows(session, select(Client.id, Client.ledger_code).where(concerned)))
    known = set(codes.values())
    holding = [code for code, cents in whole.balances.items() if cents > 0 and code not in known]
    codes.update(select_in(session, select(Client.id, Client.ledger_code), Client.ledger_code,
                           holding))
    if len(codes) <= CLIENTS_PER_PART:
        yield whole
        return
    for at, members in enumerate(chunks(sorted(codes), CLIENTS_PER_PART)):
        within = set(members)
        yield DayPart(
            range(members[0], members[-1] + 1),
            {codes[c]: whole.balances[codes[c]] for c in members if codes[c] in whole.balances},
            {c: whole.pending[c] for c in members if c in whole.pending},
            tuple(request for request in whole.manual if request.client_id in within
                  or (request.client_id is None and at == 0)))


def whole_day(session: Session) -> DayPart:
    """Every client as one part: all client balances, every order not yet debited, every
    payment asked for by hand."""
    # int(): PostgreSQL's SUM of BIGINT is NUMERIC (a Decimal); money is integer cents.
    pending = {client_id: int(cents) for client_id, cents in session.execute(
        select(PaymentOrder.client_id, func.sum(PaymentOrder.amount_cents))
        .where(PaymentOrder.status == "draft").group_by(PaymentOrder.client_id)).all()}
    return DayPart(None, {b.code: b.balance_cents
                          for b in ledger.balances(session, prefix="client:")},
                   pending, manual.pending(session))
