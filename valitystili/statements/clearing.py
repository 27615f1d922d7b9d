"""Money out seen on the statement: clearing payment orders and recognising returns. Pure.

An :class:`OrderBook` holds the orders a file can touch (loaded once per file) and remembers
what this file's bookings have already used, so one order is never cleared by two lines.

- A **debit** clears an exported order when the line carries the order's end-to-end id and the
  same amount (rule ``end_to_end``). A debit with our end-to-end id but another amount is not
  taken: that is a finding, not a match. Without an end-to-end id, a debit clears an order with
  the same amount, the same creditor IBAN and an execution day within
  :data:`CLEARING_WINDOW_BANKING_DAYS` banking days of the booking day (rule ``amount``). Orders
  that agree on all three are interchangeable for the ledger (each has debited its client when
  the batch was approved and credited the one ``outgoing`` account), so the closest execution
  day, then the oldest order, is taken.
- A **return** is a credit with a return reason (``RtrInf``) or a reversal indicator whose
  end-to-end id is one of our orders that has been exported (cleared or not) and not returned
  yet. The money goes back to the order's client.
- Orders that are cleared or returned stay in the book by end-to-end id, so a late debit of a
  returned order still clears it and the same return twice is recognised as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.i18n import Message
from valitystili.base.money import format_fi

CLEARING_WINDOW_BANKING_DAYS = 3

END_TO_END = "end_to_end"
AMOUNT = "amount"
RETURN = "return"


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """A payment order as clearing sees it."""

    id: int
    key: str
    client_id: int
    end_to_end_id: str
    creditor_iban: str
    amount_cents: int
    execution_on: date
    status: str  # exported | cleared | returned
    cleared_on: date | None = None


@dataclass(frozen=True, slots=True)
class Debit:
    amount_cents: int  # negative: money out
    booked_on: date
    end_to_end_id: str | None = None
    counterparty_iban: str | None = None


@dataclass(frozen=True, slots=True)
class Cleared:
    """What a debit did: the order it cleared (None: nothing) and in words why."""

    order: OpenOrder | None
    rule: str | None
    reason: str


class OrderBook:
    def __init__(self, orders: Iterable[OpenOrder], *, calendar: BankingCalendar = CALENDAR):
        self.calendar = calendar
        self._by_e2e: dict[str, OpenOrder] = {}
        self._uncleared: dict[tuple[int, str], list[OpenOrder]] = {}
        self._cleared: set[int] = set()
        self._returned: set[int] = set()
        for order in orders:
            self._by_e2e[order.end_to_end_id] = order
            if order.cleared_on is not None:
                self._cleared.add(order.id)
            if order.status == "returned":
                self._returned.add(order.id)
            if order.cleared_on is None and order.status in ("exported", "returned"):
                key = (order.amount_cents, order.creditor_iban)
                self._uncleared.setdefault(key, []).append(order)

    def clear(self, debit: Debit) -> Cleared:
        """Find (and mark as used) the order a debit pays out (see the module rules)."""
        if debit.end_to_end_id:
            order = self._by_e2e.get(debit.end_to_end_id)
            if order is not None:
                if order.id in self._cleared:
                    return Cleared(None, None, Message("order {order} is already cleared",
                                                       order=order.key))
                if -debit.amount_cents != order.amount_cents:
                    return Cleared(None, None, Message(
                        "end-to-end id of order {order}, but the order is {amount}",
                        order=order.key, amount=format_fi(order.amount_cents)))
                self._cleared.add(order.id)
                return Cleared(order, END_TO_END, f"end-to-end id of order {order.key}")
        if not debit.counterparty_iban:
            return Cleared(None, None, Message("no end-to-end id or creditor account to match "
                                               "an order"))
        same = self._uncleared.get((-debit.amount_cents, debit.counterparty_iban), ())
        candidates = [
            order for order in same
            if order.id not in self._cleared and self._within_window(order.execution_on,
                                                                      debit.booked_on)
        ]
        if not candidates:
            return Cleared(None, None, Message("no exported order with this amount and "
                                               "creditor"))
        order = min(candidates, key=lambda o: (abs((o.execution_on - debit.booked_on).days), o.id))
        self._cleared.add(order.id)
        return Cleared(order, AMOUNT, f"amount and creditor of order {order.key}")

    def returned(self, end_to_end_id: str | None) -> tuple[OpenOrder | None, str]:
        """The order a return credit gives back (and mark it returned), or None with why not."""
        if not end_to_end_id:
            return None, "a return without an end-to-end id"
        order = self._by_e2e.get(end_to_end_id)
        if order is None:
            return None, f"a return of {end_to_end_id}, which is none of our orders"
        if order.id in self._returned:
            return None, f"order {order.key} has already been returned"
        self._returned.add(order.id)
        return order, f"return of order {order.key}"

    def is_cleared(self, order: OpenOrder) -> bool:
        return order.id in self._cleared

    def _within_window(self, execution_on: date, booked_on: date) -> bool:
        earliest = self.calendar.add_banking_days(execution_on, -CLEARING_WINDOW_BANKING_DAYS)
        latest = self.calendar.add_banking_days(execution_on, CLEARING_WINDOW_BANKING_DAYS)
        return earliest <= booked_on <= latest
