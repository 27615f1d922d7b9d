"""Service periods: why a service ended, where its final payout goes, and the periods shown.

Rules of this module:

- A client's service runs in **periods** (DESIGN §2: "clients leave and come back"). The period
  running now is on the client row (``start_on``, ``until_on``, status ``open``). Closing
  (``people.clients.close_client``) writes the period into ``service_periods`` with its close
  date, the **reason** (one of ``CLOSE_REASONS``, stable English keys with readable labels;
  ``other`` needs a note saying what) and where the final payout goes: :func:`record_closing`.
  ``people.lifecycle.reopen_client`` starts the next period on the same row: same identity
  code, client number, reference and ledger account.
- **The final payout** goes to the client's own account (``own_account``), or, named at
  closing, to a guardian or an estate (``payout_to`` IBAN, ``payee`` name, both checked where
  they enter as a payee's are). A payout to someone else than the client is **waiting** until
  a second handler approves it (``people.lifecycle.approve_payout``, four-eyes as with batches
  and plans); the batch makes no final payout while it waits (:func:`payout_targets`).
- The periods of a client (:func:`periods_of`) are the ended ones, oldest first, and the one
  running now; ``client show`` lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import Message, _
from valitystili.base.identifiers import bic_for_iban, validate_iban
from valitystili.base.text import payment_name
from valitystili.people.payees import check_name
from valitystili.store.models import CLOSE_REASONS, Client, ServicePeriod
from valitystili.store.settings import free_text
from valitystili.trust.auth import Actor

#: What each reason reads as, for people (the keys are what scripts and the database hold). The
#: labels are English in JSON and CSV; a table shows them translated (``base/i18n.Message``).
REASON_LABELS = {
    "service_not_needed": Message("the service is no longer needed"),
    "moved": Message("the client moved away"),
    "guardianship_started": Message("guardianship (edunvalvonta) started"),
    "died": Message("the client died"),
    "consent_withdrawn": Message("the client withdrew their consent"),
    "other": Message("other reason"),
}
assert tuple(REASON_LABELS) == CLOSE_REASONS
#: The label of a period closed before reasons were recorded.
NOT_RECORDED = Message("not recorded")

OWN_ACCOUNT = "own_account"
WAITING = "waiting"
APPROVED = "approved"


def reason_label(reason: str | None) -> str:
    return REASON_LABELS[reason] if reason is not None else NOT_RECORDED


@dataclass(frozen=True)
class Payout:
    """Where a closing sends the final payout: ``name``/``iban`` None means the client's own."""

    status: str                       # own_account | waiting | approved
    name: str | None = None
    payment_name: str | None = None
    iban: str | None = None
    bic: str | None = None


def checked_closing(session: Session, reason: str | None, note: str | None,
                    payout_to: str | None, payee: str | None) -> tuple[str | None, str | None,
                                                                        Payout]:
    """The reason, note and payout of a closing, checked before anything is written."""
    if reason is not None and reason not in CLOSE_REASONS:
        raise ValidationError(_("reason {reason} is not one of {choices}").format(
            reason=repr(reason), choices=", ".join(CLOSE_REASONS)))
    note = free_text(session, note, "--note", required=False)
    if reason == "other" and note is None:
        raise ValidationError(_("reason other needs --note saying what the reason is"))
    if (payout_to is None) != (payee is None):
        raise ValidationError(_("a payout to someone else needs both --payout-to IBAN and "
                                "--payee NAME"))
    if payout_to is None:
        return reason, note, Payout(OWN_ACCOUNT)
    iban = validate_iban(payout_to)
    name = check_name(payee, "payee name")
    return reason, note, Payout(WAITING, name, payment_name(name, "payee name"), iban,
                                bic_for_iban(iban))


def record_closing(session: Session, actor: Actor, client: Client, *, reason: str | None,
                   note: str | None, payout: Payout) -> ServicePeriod:
    """Write the period that ends with the client's closing (the client row already closed)."""
    number = session.execute(select(func.count()).select_from(ServicePeriod).where(
        ServicePeriod.client_id == client.id)).scalar_one() + 1
    period = ServicePeriod(
        client_id=client.id, number=number, start_on=client.start_on, until_on=client.until_on,
        closed_on=client.closed_on, reason=reason, note=note, payout_status=payout.status,
        payout_name=payout.name, payout_payment_name=payout.payment_name,
        payout_iban=payout.iban, payout_bic=payout.bic, closed_by=actor.name)
    session.add(period)
    session.flush()
    return period


def last_period(session: Session, client_id: int, *, for_update: bool = False
                ) -> ServicePeriod | None:
    """The client's last ended period, or None."""
    query = (select(ServicePeriod).where(ServicePeriod.client_id == client_id)
             .order_by(ServicePeriod.number.desc()).limit(1))
    if for_update:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def payout_row(period: ServicePeriod) -> dict:
    """Where the period's final payout goes, as a closing and ``client show`` print it."""
    return {
        "payout_to": period.payout_iban, "payee": period.payout_name,
        "payout_status": period.payout_status,
        "payout_approved_by": period.payout_approved_by,
    }


@dataclass(frozen=True)
class Period:
    """One service period as ``client show`` lists it."""

    period: int
    start_on: date
    until_on: date | None
    closed_on: date | None
    reason: str | None
    reason_label: str
    note: str | None
    payout_to: str | None
    payee: str | None
    payout_status: str | None

    def row(self) -> dict:
        return asdict(self)


def periods_of(session: Session, client: Client) -> list[Period]:
    """The client's periods, oldest first: the ended ones and, while open, the one running."""
    ended = session.execute(select(ServicePeriod).where(ServicePeriod.client_id == client.id)
                            .order_by(ServicePeriod.number)).scalars().all()
    rows = [Period(p.number, p.start_on, p.until_on, p.closed_on, p.reason,
                   reason_label(p.reason), p.note, p.payout_iban, p.payout_name, p.payout_status)
            for p in ended]
    if client.status == "open":
        rows.append(Period(len(rows) + 1, client.start_on, client.until_on, None, None, "",
                           None, None, None, None))
    return rows


def payout_targets(session: Session, client_ids: Iterable[int]) -> dict[int, Payout]:
    """For closed clients among ``client_ids``: where the last closing sends the final payout,
    when not simply to the client's own account (those are left out)."""
    ids = list(client_ids)
    if not ids:
        return {}
    last = (select(ServicePeriod.client_id, func.max(ServicePeriod.number).label("number"))
            .where(ServicePeriod.client_id.in_(ids)).group_by(ServicePeriod.client_id)
            .subquery())
    rows = session.execute(
        select(ServicePeriod).join(last, (last.c.client_id == ServicePeriod.client_id)
                                   & (last.c.number == ServicePeriod.number))
        .join(Client, Client.id == ServicePeriod.client_id)
        .where(Client.status == "closed", ServicePeriod.payout_status != OWN_ACCOUNT)
    ).scalars().all()
    return {p.client_id: Payout(p.payout_status, p.payout_name, p.payout_payment_name,
                                p.payout_iban, p.payout_bic) for p in rows}
