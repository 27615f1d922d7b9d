"""Leases by kind, checked against the lease rules of supported housing (DESIGN §2, §5).

Rules of this module:

- A lease is of one kind (``models.LEASE_KINDS``): ``supported`` (a supported-housing flat the
  county rents and sublets to the client: the default), ``sublet`` (an ordinary sublet) or
  ``own`` (the client's own tenancy). Only ``supported`` leases follow the lease rules below
  and must have an end; a ``sublet`` or ``own`` lease may be open-ended and of any length.
- The lease rules: a client's first supported lease may last at most 3 months, each later one
  at most 12 months, and all of them together at most 4 years, counted from the start of the
  earliest supported lease to the end of the latest. Leases of the other kinds do not count.
  Ends are inclusive: a lease starting 1.11.2026 may end 31.1.2027 at the latest as a first
  lease, 31.10.2027 as a later one; when the month has no such day the period ends on its last
  day (a first lease from 30.11.2026 may run until 28.2.2027).
- A lease that breaks a rule is refused with the rule in one line, unless a handler allows it
  with an override reason (``lease.override``, handlers only). The reason is stored on the lease
  and the audit entry names the rules it set aside.
- One client's leases never overlap, whatever their kinds: a lease that shares a day with
  another (an open-ended one runs on without end) is refused, naming it. An open-ended lease is
  ended with ``end_lease`` (audited, before and after) before the next one starts.
- A lease's rent that differs from the plan's rent raises a flag (``flags.service_record``).
- Adding and ending a lease are audited; listing a client's leases is a view of their data and
  is audited.
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date as fi
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import N_, _
from valitystili.base.money import format_fi
from valitystili.people.clients import require_open, resolve_client
from valitystili.people.payees import resolve_payee
from valitystili.store.models import LEASE_KINDS, Lease, Payee
from valitystili.store.settings import free_text
from valitystili.trust import audit
from valitystili.trust.auth import Actor

FIRST_LEASE_MONTHS = 3
LATER_LEASE_MONTHS = 12
ALL_LEASES_YEARS = 4
#: The kind the lease rules apply to, and the default.
SUPPORTED = "supported"


def last_day(start: date, months: int) -> date:
    """The last day of a period of ``months`` months starting on ``start`` (inclusive).

    The period ends the day before the same date ``months`` later; when that month has no such
    date (30.11. + 3 months), it ends on that month's last day (28.2.), as time limits in months
    are counted in Finland.
    """
    same_date = start + relativedelta(months=months)
    if same_date.day != start.day:
        # relativedelta moved a missing day to the month's last day: that is the end.
        return same_date
    return same_date - timedelta(days=1)


def rule_violations(client_id: int, existing: list[tuple[date, date]], start_on: date,
                    end_on: date) -> list[str]:
    """The lease rules a new lease ``start_on``–``end_on`` would break, as one-line texts in
    English (an override stores them in the audit trail)."""
    return [text.format(**values)
            for text, values in _violations(client_id, existing, start_on, end_on)]


def _violations(client_id: int, existing: list[tuple[date, date]], start_on: date,
                end_on: date) -> list[tuple[str, dict]]:
    """The lease rules broken, each as its message (marked) and the message's values."""
    found = []
    if not existing:
        limit = last_day(start_on, FIRST_LEASE_MONTHS)
        if end_on > limit:
            found.append((N_("the first lease of client {client} may last at most {months} "
                             "months: {start}–{end} is longer (at most until {limit})"),
                          {"client": client_id, "months": FIRST_LEASE_MONTHS,
                           "start": fi(start_on), "end": fi(end_on), "limit": fi(limit)}))
    else:
        limit = last_day(start_on, LATER_LEASE_MONTHS)
        if end_on > limit:
            found.append((N_("a later lease of client {client} may last at most {months} "
                             "months: {start}–{end} is longer (at most until {limit})"),
                          {"client": client_id, "months": LATER_LEASE_MONTHS,
                           "start": fi(start_on), "end": fi(end_on), "limit": fi(limit)}))
    earliest = min([start_on, *(start for start, _end in existing)])
    limit = last_day(earliest, ALL_LEASES_YEARS * 12)
    if end_on > limit:
        found.append((N_("the leases of client {client} may last at most {years} years in all: "
                         "from {start} until {limit}, and this one ends {end}"),
                      {"client": client_id, "years": ALL_LEASES_YEARS, "start": fi(earliest),
                       "limit": fi(limit), "end": fi(end_on)}))
    return found


def add_lease(session: Session, actor: Actor, client: str | int, *, payee: str | int,
              rent_cents: int, start_on: date, end_on: date | None = None,
              kind: str = SUPPORTED, override: str | None = None) -> dict:
    actor.require("lease.add")
    if kind not in LEASE_KINDS:
        raise ValidationError(_("lease kind {kind} is not one of {choices}").format(
            kind=repr(kind), choices=", ".join(LEASE_KINDS)))
    override = free_text(session, override, "override reason", required=False)
    if override is not None:
        actor.require("lease.override")
    found = resolve_client(session, client, for_update=True)
    require_open(found)
    landlord = resolve_payee(session, payee)
    if rent_cents <= 0:
        raise ValidationError(_("rent must be more than {amount}").format(amount=format_fi(0)))
    if end_on is None and kind == SUPPORTED:
        raise ValidationError(_("a supported-housing lease has an end (--end DATE); only a "
                                "sublet or own lease may be open-ended"))
    if end_on is not None and end_on < start_on:
        raise ValidationError(_("lease end {end} is before its start {start}").format(
            end=fi(end_on), start=fi(start_on)))
    existing = leases_of(session, found.id)
    _refuse_overlap(found.id, existing, start_on, end_on)
    broken = []
    if kind == SUPPORTED:
        supported = [(lease.start_on, lease.end_on) for lease in existing
                     if lease.kind == SUPPORTED]
        broken = _violations(found.id, supported, start_on, end_on)
    if broken and override is None:
        text, values = broken[0]
        raise ValidationError(_('{rule}; a handler may allow it with --override "reason"')
                              .format(rule=_(text).format(**values)))
    lease = Lease(client_id=found.id, payee_id=landlord.id, rent_cents=rent_cents,
                  start_on=start_on, end_on=end_on, kind=kind, sublet=False,
                  override_reason=override, created_by=actor.name)
    session.add(lease)
    session.flush()
    row = lease_row(lease, landlord.name)
    detail = {"old": None, "new": row}
    if override is not None:
        detail["overridden"] = [text.format(**values) for text, values in broken]
    audit.record(session, actor.name, "lease.override" if broken else "lease.add",
                 client_id=found.id, subject=f"lease:{lease.id}", detail=detail)
    return row


def _refuse_overlap(client_id: int, existing: list[Lease], start_on: date,
                    end_on: date | None) -> None:
    for lease in existing:
        if (lease.end_on is None or lease.end_on >= start_on) and \
                (end_on is None or lease.start_on <= end_on):
            if lease.end_on is not None:
                raise ValidationError(_("client {client} already has lease {lease} ({kind}, "
                                        "{start}–{end}) in that time").format(
                    client=client_id, lease=lease.id, kind=lease.kind,
                    start=fi(lease.start_on), end=fi(lease.end_on)))
            raise ValidationError(_("client {client} already has lease {lease} ({kind}, {start} "
                                    "with no end) in that time; end it first (lease end "
                                    "{lease} --date DATE)").format(
                client=client_id, lease=lease.id, kind=lease.kind, start=fi(lease.start_on)))


def end_lease(session: Session, actor: Actor, lease_id: int, *, end_on: date) -> dict:
    """End an open-ended lease (or move an end earlier) on ``end_on``; audited."""
    actor.require("lease.add")
    lease = session.get(Lease, lease_id)
    if lease is None:
        raise NotFound(_("no lease {lease}").format(lease=lease_id))
    found = resolve_client(session, lease.client_id, for_update=True)
    if end_on < lease.start_on:
        raise ValidationError(_("lease end {end} is before its start {start}").format(
            end=fi(end_on), start=fi(lease.start_on)))
    if lease.end_on is not None and end_on >= lease.end_on:
        raise Conflict(_("lease {lease} already ends {end}; a lease is ended earlier here, "
                         "never extended (add a new lease)").format(lease=lease.id,
                                                                    end=fi(lease.end_on)))
    names = dict(session.execute(select(Payee.id, Payee.name)).all())
    old = lease_row(lease, names[lease.payee_id])
    lease.end_on = end_on
    session.flush()
    row = lease_row(lease, names[lease.payee_id])
    audit.record(session, actor.name, "lease.end", client_id=found.id,
                 subject=f"lease:{lease.id}", detail={"old": old, "new": row})
    return row


def list_leases(session: Session, actor: Actor, client: str | int) -> list[dict]:
    actor.require("client.read")
    found = resolve_client(session, client)
    names = dict(session.execute(select(Payee.id, Payee.name)).all())
    rows = [lease_row(lease, names[lease.payee_id]) for lease in leases_of(session, found.id)]
    audit.record(session, actor.name, "lease.view", client_id=found.id,
                 subject=f"client:{found.id}", detail={"leases": len(rows)})
    return rows


def leases_of(session: Session, client_id: int) -> list[Lease]:
    return list(session.execute(
        select(Lease).where(Lease.client_id == client_id).order_by(Lease.start_on, Lease.id)
    ).scalars())


def lease_row(lease: Lease, payee_name: str) -> dict:
    return {"lease": lease.id, "client": lease.client_id, "payee": payee_name,
            "kind": lease.kind, "rent_cents": lease.rent_cents, "start_on": lease.start_on,
            "end_on": lease.end_on, "override": lease.override_reason}
