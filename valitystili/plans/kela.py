"""Kela's share of a month's rent, from Kela's monthly decision (DESIGN §2, §5).

From 1.2.2026 Kela may pay part of the rent straight to the landlord, set in each monthly
decision. A rent item of the plan records the whole rent and the part Kela usually pays
(``paid_directly``); a handler records each month's actual share here (``plan kela-share``).

Rules:
- One share per client and month (the month of the rent's agreed date); recording it again
  replaces it. The share, not the item's usual part, is Kela's part of that month's rent
  (``obligations.direct_part``): the account pays the rest, never the whole.
- A share is recorded only for an open client whose plan in force that month has a rent item
  paid by the account (one: a month with two rent items cannot tell which rent the share is
  for), and is at most the whole rent (a share equal to it leaves the account nothing to pay).
- The month's rent obligation, when it exists (and is not cancelled), is brought in line at
  once: its amount becomes the whole rent less the share and ``direct_cents`` the share; it is
  settled when nothing is left to pay and open again when a lower share leaves more. When the
  account has already paid more than the rent less the share (an order counts from when it
  exists), the share is refused and nothing is written: the landlord must first return the
  overpayment.
- Recording is audited (``plan.kela_share``) with the old and the new share and what the
  obligation was and became.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.errors import Conflict, ValidationError
from valitystili.base.i18n import _
from valitystili.base.money import MAX_AMOUNT_CENTS, format_fi
from valitystili.people.clients import require_open, resolve_client
from valitystili.plans.due import Due, item_dues
from valitystili.plans.obligations import ITEM_COLUMNS, income_schedules
from valitystili.plans.versions import approved_versions
from valitystili.store.chunks import select_in
from valitystili.store.models import Client, KelaShare, Obligation, PlanItem
from valitystili.trust import audit
from valitystili.trust.auth import Actor


@dataclass(frozen=True)
class KelaShareRecorded:
    """A month's share as recorded, and the month's rent obligation after it (None: not yet
    made; the batch makes it with the share)."""

    client: int
    month: str                       # "2026-11"
    rent_cents: int                  # the whole rent
    kela_cents: int                  # Kela's share, paid by Kela to the landlord
    account_cents: int               # the rest, paid from the account
    previous_kela_cents: int | None  # the share recorded before (None: the first)
    obligation: str | None           # the rent obligation's key
    obligation_status: str | None    # open | settled
    left_cents: int | None           # what the account still has to pay of it

    def row(self) -> dict:
        return asdict(self)


def record_share(session: Session, actor: Actor, client: str | int, month: tuple[int, int],
                 amount_cents: int, *, calendar: BankingCalendar = CALENDAR) -> KelaShareRecorded:
    """Record (or replace) Kela's share of the client's rent for ``month`` (year, month)."""
    actor.require("plan.kela_share")
    found = resolve_client(session, client, for_update=True)
    require_open(found)
    _check_amount(amount_cents)
    due = month_rent(session, found, month, calendar)
    label = f"{month[1]}/{month[0]}"
    if amount_cents > due.item.amount_cents:
        raise ValidationError(
            _("Kela's share {amount} is more than the whole rent {rent} of {month} of client "
              "{client}").format(amount=format_fi(amount_cents),
                                 rent=format_fi(due.item.amount_cents), month=label,
                                 client=found.id))
    obligation = session.execute(select(Obligation).where(
        Obligation.key == due.key, Obligation.status != "cancelled").with_for_update()
    ).scalar_one_or_none()
    before = _state(obligation)
    if obligation is not None:
        _bring_in_line(obligation, due.item.amount_cents, amount_cents,
                       _("rent {month} of client {client}").format(month=label, client=found.id))
    month_text = f"{month[0]:04d}-{month[1]:02d}"
    previous = _store_share(session, actor, found.id, month_text, amount_cents)
    session.flush()
    audit.record(session, actor.name, "plan.kela_share", client_id=found.id,
                 subject=f"kela_share:{found.id}:{month_text}",
                 detail={"month": month_text, "rent_cents": due.item.amount_cents,
                         "old": {"amount_cents": previous}, "new": {"amount_cents": amount_cents},
                         "obligation": due.key if obligation is not None else None,
                         "obligation_old": before, "obligation_new": _state(obligation)})
    return KelaShareRecorded(
        client=found.id, month=month_text, rent_cents=due.item.amount_cents,
        kela_cents=amount_cents, account_cents=due.item.amount_cents - amount_cents,
        previous_kela_cents=previous, obligation=obligation.key if obligation else None,
        obligation_status=obligation.status if obligation else None,
        left_cents=obligation.amount_cents - obligation.paid_cents if obligation else None)


def _check_amount(amount_cents: int) -> None:
    if amount_cents < 0:
        raise ValidationError(_("Kela's share {amount} is negative").format(
            amount=format_fi(amount_cents)))
    if amount_cents > MAX_AMOUNT_CENTS:
        raise ValidationError(_("Kela's share {amount} is larger than the maximum {most}").format(
            amount=format_fi(amount_cents), most=format_fi(MAX_AMOUNT_CENTS)))


def month_rent(session: Session, client: Client, month: tuple[int, int],
               calendar: BankingCalendar = CALENDAR) -> Due:
    """The rent the account pays for ``month`` by the plan in force then (the rule of
    ``due.item_dues``, the same expansion that makes the obligation)."""
    year, number = month
    first = date(year, number, 1)
    last = date(year + (number == 12), number % 12 + 1, 1) - timedelta(days=1)
    versions = approved_versions(session, [client.id]).get(client.id, [])
    items: dict[int, list] = {}
    for item in select_in(session, select(*ITEM_COLUMNS), PlanItem.plan_id,
                          [plan.id for plan in versions]):
        items.setdefault(item.plan_id, []).append(item)
    windows = {plan.id: (max(first, plan.effective_on, client.start_on), last)
               for plan in versions}
    rents = [due for due in item_dues(client.id, versions, items, windows, calendar,
                                      income_schedules(session, list(items)))
             if due.item.kind == "rent"]
    if not rents:
        raise ValidationError(_("client {client} has no rent paid by the account in {month} "
                                "(the plan in force then); Kela's share is recorded for such a "
                                "rent").format(client=client.id, month=f"{number}/{year}"))
    if len(rents) > 1:
        raise ValidationError(_("client {client} has {count} rents paid by the account in "
                                "{month}; Kela's share cannot say which it is for").format(
                                    client=client.id, count=len(rents), month=f"{number}/{year}"))
    return rents[0]


def _bring_in_line(obligation: Obligation, rent_cents: int, share_cents: int,
                   what: str) -> None:
    """The obligation pays the rent less the share, unless the account paid more already."""
    account = rent_cents - share_cents
    if obligation.paid_cents > account:
        raise Conflict(_("{what}: the account has already paid {paid}, more than the {left} "
                         "left after Kela's {share}; return the overpayment with the landlord "
                         "first").format(what=what, paid=format_fi(obligation.paid_cents),
                                         left=format_fi(account), share=format_fi(share_cents)))
    obligation.amount_cents = account
    obligation.direct_cents = share_cents
    obligation.status = "settled" if obligation.paid_cents >= account else "open"


def _store_share(session: Session, actor: Actor, client_id: int, month: str,
                 amount_cents: int) -> int | None:
    """Write the share; the one it replaces (None when it is the first)."""
    row = session.execute(select(KelaShare).where(
        KelaShare.client_id == client_id, KelaShare.month == month).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        session.add(KelaShare(client_id=client_id, month=month, amount_cents=amount_cents,
                              created_by=actor.name))
        return None
    previous = row.amount_cents
    row.amount_cents = amount_cents
    row.created_by = actor.name
    row.created_at = datetime.now(UTC)
    return previous


def _state(obligation: Obligation | None) -> dict | None:
    if obligation is None:
        return None
    return {"amount_cents": obligation.amount_cents, "direct_cents": obligation.direct_cents,
            "paid_cents": obligation.paid_cents, "status": obligation.status}
