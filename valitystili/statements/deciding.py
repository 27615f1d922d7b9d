"""Where one line's money goes, while an import is prepared (DESIGN §7). Reads, never writes.

Rules of this module:

- **Credits** are matched by :mod:`valitystili.statements.matching` (reference, hetu, expected
  income); a client who is closed is still credited, and flagged ``income_after_closing`` (the same flag the nightly refresh keeps: one condition,
  one flag).
  Unmatched: ``suspense`` and an ``unmatched_income`` flag with the matcher's reason (for a
  statement entry with no detail at all: "a lump sum: its camt.054 itemisation will attribute
  it").
- A credit with a return reason or a reversal indicator that carries the end-to-end id of one of
  our orders is a **return**: the money goes back to the order's client, the order becomes
  ``returned``, flag ``payment_returned``; a returned refund (an order of no client) puts the
  money back in ``suspense``.
- **Debits** clear exported orders (:mod:`valitystili.statements.clearing`): ``outgoing`` debit,
  order ``cleared`` (an order already returned stays ``returned``). Unmatched: ``suspense`` and
  an ``unmatched_debit`` flag.
- Flags name the line's archive id as subject; a flag raised and resolved within one file is
  never written.
- Clients and orders are loaded once per file, and only when a line needs them (``loading``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from imports.records import Item
from valitystili.base.accounts import OUTGOING, SUSPENSE
from valitystili.base.errors import NotFound
from valitystili.base.i18n import N_, Message, _
from valitystili.base.money import format_fi
from valitystili.flags.raising import FlagRaised
from valitystili.statements.bookings import Counts, OrderChange
from valitystili.statements.clearing import RETURN, Debit, OpenOrder, OrderBook
from valitystili.statements.matching import NONE, Credit, Directory
from valitystili.store.models import CLEARED, IN_SUSPENSE, POSTED, RETURNED


@dataclass(frozen=True, slots=True)
class Decision:
    """The account a line's money goes to, the line's state and the rule that decided."""

    account: str
    state: str
    rule: str | None
    client_id: int | None = None
    order_id: int | None = None


class Decider:
    """Decides each line of one file; collects the flags and order changes the decisions make."""

    def __init__(self, directory: Callable[[], Directory], orders: Callable[[], OrderBook]):
        self._load_directory = directory
        self._load_orders = orders
        self._directory: Directory | None = None
        self._orders: OrderBook | None = None
        self.flags: dict[tuple[str, str], FlagRaised] = {}
        self.resolved: list[tuple[str, str]] = []
        self.order_changes: dict[int, OrderChange] = {}

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            self._directory = self._load_directory()
        return self._directory

    @property
    def orders(self) -> OrderBook:
        if self._orders is None:
            self._orders = self._load_orders()
        return self._orders

    def flag(self, kind: str, subject: str, client_id: int | None, amount: int | None,
             detail: str) -> None:
        self.flags[(kind, subject)] = FlagRaised(kind, subject, client_id, amount, detail)

    def resolve(self, kind: str, subject: str) -> None:
        if self.flags.pop((kind, subject), None) is None:
            self.resolved.append((kind, subject))

    def decide(self, archive_id: str, item: Item, amount: int, booked_on: date, reversal: bool,
               counts: Counts, *, detail_hint: bool) -> Decision:
        """Where ``amount`` (signed: + in, - out) of the line ``archive_id`` goes."""
        if amount > 0:
            if item.return_reason or reversal:
                order, _why = self.orders.returned(item.end_to_end_id)
                if order is not None:
                    return self._returned(order, archive_id, item, amount, booked_on, counts)
            return self._credit(archive_id, item, amount, booked_on, counts,
                                detail_hint=detail_hint)
        return self._debit(archive_id, item, amount, booked_on, counts)

    def _debit(self, archive_id: str, item: Item, amount: int, booked_on: date,
               counts: Counts) -> Decision:
        cleared = self.orders.clear(Debit(amount, booked_on, item.end_to_end_id,
                                          item.counterparty_iban))
        if cleared.order is not None:
            order = cleared.order
            previous = self.order_changes.get(order.id)
            status = "returned" if (order.status == "returned" or (
                previous is not None and previous.status == "returned")) else "cleared"
            self.order_changes[order.id] = OrderChange(
                order.id, order.key, status, booked_on,
                previous.returned_on if previous else None)
            counts.cleared += 1
            return Decision(OUTGOING, CLEARED, cleared.rule, order.client_id, order.id)
        counts.in_suspense += 1
        values = {"amount": format_fi(-amount), "day": booked_on.isoformat(),
                  "payee": item.counterparty_name, "reason": cleared.reason}
        self.flag("unmatched_debit", archive_id, None, amount,
                  Message(OUT_TO if item.counterparty_name else OUT, **values))
        return Decision(SUSPENSE, IN_SUSPENSE, NONE)

    def _returned(self, order: OpenOrder, archive_id: str, item: Item, amount: int,
                  booked_on: date, counts: Counts) -> Decision:
        client = self.directory.clients.get(order.client_id)
        if client is None and order.client_id is not None:  # pragma: no cover - a foreign key
            raise NotFound(_("order {key} names client {client}, who does not exist").format(
                key=order.key, client=order.client_id))
        previous = self.order_changes.get(order.id)
        self.order_changes[order.id] = OrderChange(
            order.id, order.key, "returned",
            previous.cleared_on if previous else order.cleared_on, booked_on)
        counts.returned += 1
        values = {"order": order.key, "amount": format_fi(order.amount_cents),
                  "code": item.return_reason, "returned": format_fi(amount),
                  "client": order.client_id}
        if client is None:      # a refund of money in suspense (``payments.manual``)
            self.flag("payment_returned", archive_id, None, amount,
                      Message(CAME_BACK[False, bool(item.return_reason)], **values))
            return Decision(SUSPENSE, IN_SUSPENSE, RETURN, None, order.id)
        self.flag("payment_returned", archive_id, order.client_id, amount,
                  Message(CAME_BACK[True, bool(item.return_reason)], **values))
        return Decision(client.ledger_code, RETURNED, RETURN, order.client_id, order.id)

    def _credit(self, archive_id: str, item: Item, amount: int, booked_on: date,
                counts: Counts, *, detail_hint: bool) -> Decision:
        match = self.directory.match(Credit(amount, booked_on, item.reference, item.message,
                                            item.counterparty_name))
        if match.client_id is not None:
            client = self.directory.clients[match.client_id]
            counts.matched[match.rule] += 1
            if not client.open:
                self.flag("income_after_closing", archive_id, client.id, amount,
                          Message("{amount} for closed client {client} ({reason}) was credited "
                                  "to the client", amount=format_fi(amount), client=client.id,
                                  reason=match.reason))
            return Decision(client.ledger_code, POSTED, match.rule, client.id)
        counts.in_suspense += 1
        reason = match.reason
        if detail_hint and not _has_detail(item):
            reason = Message("no payer, reference or message on the statement (a lump sum: its "
                             "camt.054 itemisation will attribute it)")
        self.flag("unmatched_income", archive_id, None, amount,
                  Message(IN_FROM if item.counterparty_name else IN, amount=format_fi(amount),
                          day=booked_on.isoformat(), payer=item.counterparty_name,
                          reason=reason))
        return Decision(SUSPENSE, IN_SUSPENSE, NONE)


def _has_detail(item: Item) -> bool:
    return any((item.reference, item.message, item.counterparty_name, item.counterparty_iban,
                item.end_to_end_id))


#: The flags of a line in suspense: money in (from its payer, when named) or out (to whom).
IN = N_("{amount} in on {day}: {reason}")
IN_FROM = N_("{amount} in on {day} from {payer}: {reason}")
OUT = N_("{amount} out on {day}: {reason}")
OUT_TO = N_("{amount} out on {day} to {payee}: {reason}")
#: A payment that came back, by (it was a client's, the bank gave a return code).
CAME_BACK = {
    (True, True): N_("payment {order} of {amount} came back ({code}); {returned} returned to "
                     "client {client}"),
    (True, False): N_("payment {order} of {amount} came back; {returned} returned to client "
                      "{client}"),
    (False, True): N_("refund {order} of {amount} came back ({code}); {returned} is in suspense "
                      "again"),
    (False, False): N_("refund {order} of {amount} came back; {returned} is in suspense again"),
}
