"""Flags from the client's service record and leases, raised as soon as the record is made and
kept right by the nightly refresh (``conditions.refresh_flags``).

Rules of this module:

- **consent_withdrawn** (subject ``consent:<client>:<record>``): an open client's consent was
  withdrawn (a consent record with ``--withdrawn`` that stands) and no consent given since
  stands without an end. The service must close or change. It resolves when the client is
  closed or a new consent is recorded.
- **lease_rent_differs** (``lease_rent:<lease>``): a lease of an open client that has not ended
  by the day judged, whose rent differs from the whole rent of the plan version in force on
  its first day still to come (the later of its start and that day): the sum of the plan's rent
  items. The flag's amount is the lease's rent less the plan's. No plan in force: nothing to
  compare. It resolves when the lease ends or a plan with that rent is in force.
- ``record`` and ``lease`` are the service calls behind ``client record`` and ``lease add``:
  they write the record or lease (``people.records``, ``people.leases``) and judge that
  client's flags of these kinds in the same unit of work, so the flag is there at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date as fi
from valitystili.base.i18n import Message
from valitystili.base.money import format_fi
from valitystili.flags.raising import FlagRaised, raise_flags, resolve_flags
from valitystili.people import leases, records
from valitystili.plans.versions import approved_versions, in_force
from valitystili.store.chunks import select_in
from valitystili.store.models import Client, ClientRecord, Lease, PlanItem
from valitystili.trust.auth import Actor

CONSENT_WITHDRAWN = "consent_withdrawn"
LEASE_RENT_DIFFERS = "lease_rent_differs"
KINDS = (CONSENT_WITHDRAWN, LEASE_RENT_DIFFERS)


def _of_open_clients(query, client_column, client_ids: Iterable[int] | None):
    """``query`` limited to open clients (and to ``client_ids`` when given: one client's flags)."""
    query = query.join(Client, Client.id == client_column).where(Client.status == "open")
    if client_ids is not None:
        query = query.where(client_column.in_(list(client_ids)))
    return query


def consent_conditions(session: Session, client_ids: Iterable[int] | None = None
                       ) -> list[FlagRaised]:
    """Open clients whose consent stands withdrawn with no new consent since."""
    rows = list(session.execute(_of_open_clients(
        select(ClientRecord).where(ClientRecord.kind == "consent"), ClientRecord.client_id,
        client_ids).order_by(ClientRecord.id)).scalars())
    superseded = {row.supersedes_id for row in rows if row.supersedes_id is not None}
    standing: dict[int, list[ClientRecord]] = {}
    for row in rows:
        if row.id not in superseded:
            standing.setdefault(row.client_id, []).append(row)
    found = []
    for client_id, consents in standing.items():
        if any(consent.end_on is None for consent in consents):
            continue
        withdrawn = max(consents, key=lambda consent: (consent.end_on, consent.id))
        found.append(FlagRaised(
            CONSENT_WITHDRAWN, f"consent:{client_id}:{withdrawn.id}", client_id, None,
            Message("consent withdrawn {day} (record {record}): the service must close or "
                    "change — close the client, or record a new consent",
                    day=fi(withdrawn.end_on), record=withdrawn.id)))
    return found


def lease_rent_conditions(session: Session, on: date, client_ids: Iterable[int] | None = None
                          ) -> list[FlagRaised]:
    """Leases not ended by ``on`` whose rent differs from the rent of the plan in force."""
    current = list(session.execute(_of_open_clients(
        select(Lease).where((Lease.end_on.is_(None)) | (Lease.end_on >= on)), Lease.client_id,
        client_ids).order_by(Lease.client_id, Lease.start_on, Lease.id)).scalars())
    versions = approved_versions(session, sorted({lease.client_id for lease in current}))
    judged = [(lease, max(lease.start_on, on)) for lease in current]
    plans = {lease.id: in_force(versions.get(lease.client_id, ()), day) for lease, day in judged}
    rents: dict[int, list[int | None]] = {}
    plan_ids = sorted({plan.id for plan in plans.values() if plan is not None})
    for plan_id, amount in select_in(session, select(PlanItem.plan_id, PlanItem.amount_cents)
                                     .where(PlanItem.kind == "rent"), PlanItem.plan_id, plan_ids):
        rents.setdefault(plan_id, []).append(amount)
    found = []
    for lease, day in judged:
        plan = plans[lease.id]
        items = rents.get(plan.id) if plan is not None else None
        if not items or any(rent is None for rent in items):
            continue      # no plan in force, or no rent of a set amount to compare with
        plan_rent = sum(items)
        if plan_rent != lease.rent_cents:
            found.append(FlagRaised(
                LEASE_RENT_DIFFERS, f"lease_rent:{lease.id}", lease.client_id,
                lease.rent_cents - plan_rent,
                Message("lease {lease} from {start}: rent {rent}, the plan in force on {day} "
                        "(version {version}) has {plan_rent}", lease=lease.id,
                        start=fi(lease.start_on), rent=format_fi(lease.rent_cents), day=fi(day),
                        version=plan.version, plan_rent=format_fi(plan_rent))))
    return found


def conditions(session: Session, on: date, client_ids: Iterable[int] | None = None
               ) -> list[FlagRaised]:
    """Every condition of ``KINDS`` that holds on ``on`` (for ``client_ids``, or all)."""
    return [*consent_conditions(session, client_ids),
            *lease_rent_conditions(session, on, client_ids)]


def refresh_client(session: Session, client_id: int, on: date) -> list[FlagRaised]:
    """Raise and resolve one client's flags of ``KINDS``; returns the ones that hold."""
    found = conditions(session, on, [client_id])
    raise_flags(session, found, on)
    for kind in KINDS:
        resolve_flags(session, kind, on, keep={f.subject for f in found if f.kind == kind},
                      client_ids=[client_id])
    return found


def record(session: Session, actor: Actor, client: str | int, kind: str, *,
           on: date | None = None, **options) -> tuple[dict, list[FlagRaised]]:
    """``client record``: write the record, then judge the client's flags; (record, flags)."""
    row = records.add_record(session, actor, client, kind, **options)
    return row, refresh_client(session, row["client"], on or date.today())


def lease(session: Session, actor: Actor, client: str | int, *, on: date | None = None,
          **options) -> tuple[dict, list[FlagRaised]]:
    """``lease add``: write the lease, then judge the client's flags; (lease, flags)."""
    row = leases.add_lease(session, actor, client, **options)
    return row, refresh_client(session, row["client"], on or date.today())
