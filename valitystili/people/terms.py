"""The service's term: its last day, changed by a handler's decision (DESIGN §5).

Rules of this module:

- **Who.** The last day (``clients.until_on``: the fixed-term end) changes only by a handler's
  decision (``client.extend``): ``client edit --until`` (later or earlier), ``client extend``
  (later only), or a ``decision`` record whose ``--end`` differs (``people.records``; a new
  decision without ``--end`` makes the service run until further notice). It is not
  four-eyes: unlike an IBAN it never changes *where* the client's money goes — a shorter term
  pays the remainder earlier, to the client's own approved account (or the payee a closing
  names, which is four-eyes itself), and a longer one keeps paying by the approved plan. The
  decision is audited with before and after, and its reason.
- **One check** (:func:`check_end`), before anything is written: the client is open; the end
  is after the client's start, not in the past (today is allowed: the service ends today),
  and for ``rent_debt_fixed_term`` 3–6 calendar months after the start
  (``clients._check_term``: the term is the service period's, from its start). An end equal to
  the stored one is no change.
- **Extending.** The next batch makes the obligations up to the new end: every run looks again
  at the dates around the last day (``plans.obligations``).
- **Shortening** (or setting an end on an open-ended service) works as closing does on its day
  (``clients._end_obligations``): the open obligations with a pay day after the new end that
  nothing has paid are cancelled; one partly paid or with an order is left open and named, for
  a person to look at. The batch then pays the remainder on the last instalment day on or
  before the new end, and the rest of the balance that day or the next (``payments.decision``).
  How far the client's plan versions count their obligations as generated is pulled back to
  :data:`REVISIT_DAYS` before the new end, so that extending the term again later makes the
  cancelled months again (an unpaid cancelled obligation the plan asks for again is reopened).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date as fi
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _
from valitystili.people.clients import (
    _check_term,
    _end_obligations,
    require_open,
    resolve_client,
)
from valitystili.store.models import Client, Plan
from valitystili.store.settings import free_text
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: A shortened term's plan versions are generated again from this many days before the new
#: end: more than any pay day moves from its agreed date (a month, to be plain about it).
REVISIT_DAYS = 31


@dataclass(frozen=True)
class TermChange:
    """What changing the last day did: the obligations cancelled and those left open."""

    client: int
    old_until_on: date | None
    until_on: date | None
    cancelled: tuple[str, ...] = ()
    left_open: tuple[str, ...] = ()

    def detail(self) -> dict:
        """The audit detail's keys for the obligations (none when nothing was touched)."""
        return ({"cancelled": list(self.cancelled), "left_open": list(self.left_open)}
                if self.cancelled or self.left_open else {})

    def notes(self) -> list[str]:
        """What a person is told about the obligations."""
        notes = []
        if self.cancelled:
            notes.append(_("the service now ends {day}: cancelled {obligations}").format(
                day=fi(self.until_on), obligations=", ".join(self.cancelled)))
        if self.left_open:
            notes.append(_("left open for a person to look at (partly paid or ordered): "
                           "{obligations}").format(obligations=", ".join(self.left_open)))
        return notes


def check_end(client: Client, until_on: date | None, today: date, *,
              criterion: str | None = None, option: str = "--until") -> None:
    """Refuse a last day the client's service cannot take (see the module rules)."""
    if until_on is not None and client.start_on < until_on < today:
        raise ValidationError(_("{option} {day} is in the past").format(option=option,
                                                                          day=fi(until_on)))
    _check_term(criterion or client.criterion, client.start_on, until_on, option=option)


def change_end(session: Session, client: Client, until_on: date | None) -> TermChange:
    """Store the new last day (already checked) and end what lies after it."""
    old = client.until_on
    client.until_on = until_on
    session.flush()
    if until_on is None or (old is not None and until_on >= old):
        return TermChange(client.id, old, until_on)
    cancelled, left_open = _end_obligations(session, client.id, until_on)
    revisit = until_on - timedelta(days=REVISIT_DAYS)
    session.execute(update(Plan).where(Plan.client_id == client.id,
                                       Plan.obligations_through > revisit)
                    .values(obligations_through=revisit))
    return TermChange(client.id, old, until_on, tuple(cancelled), tuple(left_open))


# --- client extend ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extended:
    """A fixed term extended by a handler's decision."""

    client: int
    old_until_on: date
    until_on: date
    reason: str

    def row(self) -> dict:
        return asdict(self)


def extend_client(session: Session, actor: Actor, client: str | int, *, until_on: date,
                  reason: str | None, today: date | None = None) -> Extended:
    """Extend a fixed-term service to ``until_on`` (the handler's decision; audited)."""
    actor.require("client.extend")
    today = today or date.today()
    reason = free_text(session, reason, "--reason")
    found = resolve_client(session, client, for_update=True)
    require_open(found)
    old = found.until_on
    if old is None:
        raise ValidationError(_("client {client} has no fixed term: there is no end to extend")
                              .format(client=found.id))
    if until_on <= old:
        raise ValidationError(_("the new end {day} is not after the current end {end}").format(
            day=fi(until_on), end=fi(old)))
    check_end(found, until_on, today)
    change_end(session, found, until_on)
    audit.record(session, actor.name, "client.extend", client_id=found.id,
                 subject=f"client:{found.id}",
                 detail={"old": {"until_on": old}, "new": {"until_on": until_on},
                         "reason": reason})
    return Extended(found.id, old, until_on, reason)


# --- a decision record --------------------------------------------------------------------------


def next_review(client: Client, plan_version: int | None, plan_review_on: date | None
                ) -> date | None:
    """The client's next review, given a plan version (the newest, or the one in force) and
    its review date: the plan's, unless a person (``client edit --review``, a decision record)
    set one when that version (or a newer one) was already the newest; without a plan, the
    client's own."""
    if plan_version is None or plan_review_on is None:
        return client.review_on
    if client.review_plan_version is not None and client.review_plan_version >= plan_version:
        return client.review_on
    return plan_review_on


def newest_plan(session: Session, client_id: int) -> tuple[int, date | None]:
    """The client's newest plan version and its review date; (0, None) without a plan."""
    row = session.execute(select(Plan.version, Plan.review_on).where(
        Plan.client_id == client_id).order_by(Plan.version.desc()).limit(1)).first()
    return (row.version, row.review_on) if row is not None else (0, None)


def decided(session: Session, client: Client, values: dict, given: set[str], *, fresh: bool,
            today: date) -> dict[str, tuple]:
    """What a decision record changes on the client, checked before anything is written:
    ``{field: (old, new)}`` for ``review_on``, ``criterion`` (with ``criterion_reason``) and
    ``until_on``. A new decision (``fresh``) states the review and the end (none: until further
    notice); a correction only what it gives. The criterion changes only when named."""
    changes: dict[str, tuple] = {}
    review = values["review_on"]
    if fresh or "review" in given:
        version, plan_review_on = newest_plan(session, client.id)
        current = next_review(client, version or None, plan_review_on)
        if review != current:
            if review < today:
                raise ValidationError(_("--review {day} is in the past: the client's next "
                                        "review follows the decision").format(day=fi(review)))
            changes["review_on"] = (current, review)
    criterion = values["criterion"] if "criterion" in given else client.criterion
    if criterion != client.criterion:
        changes["criterion"] = (client.criterion, criterion)
    reason = values.get("reason") if ("criterion" in changes or "reason" in given) \
        else client.criterion_reason
    if reason != client.criterion_reason:
        changes["criterion_reason"] = (client.criterion_reason, reason)
    end = values.get("end_on") if (fresh or "end" in given) else client.until_on
    if end != client.until_on:
        check_end(client, end, today, criterion=criterion, option="--end")
        changes["until_on"] = (client.until_on, end)
    elif "criterion" in changes:
        _check_term(criterion, client.start_on, end, option="--end")
    return changes


def follow_decision(session: Session, actor: Actor, client: Client, changes: dict[str, tuple],
                    record_id: int) -> list[str]:
    """Make the client follow decision ``record_id`` (``changes`` from :func:`decided`): one
    audit entry ``client.edit`` naming the record; returns what a person is told."""
    if not changes:
        return []
    for key, (_old, new) in changes.items():
        if key != "until_on":
            setattr(client, key, new)
    if "review_on" in changes:
        client.review_plan_version = newest_plan(session, client.id)[0]
    session.flush()
    detail: dict = {"old": {key: old for key, (old, _new) in changes.items()},
                    "new": {key: new for key, (_old, new) in changes.items()},
                    "record": record_id}
    notes = [_("client {client} follows decision {record}: {changes}").format(
        client=client.id, record=record_id, changes="; ".join(
            _("{field} {new} (was {old})").format(field=_(FOLLOWED[key]), new=_shown(key, new),
                                                  old=_shown(key, old))
            for key, (old, new) in changes.items()))]
    if "until_on" in changes:
        term = change_end(session, client, changes["until_on"][1])
        detail.update(term.detail())
        notes.extend(term.notes())
    audit.record(session, actor.name, "client.edit", client_id=client.id,
                 subject=f"client:{client.id}", detail=detail)
    return notes


#: The client's fields a decision sets, as a person reads them.
FOLLOWED = {"review_on": N_("review"), "criterion": N_("criterion"),
            "criterion_reason": N_("criterion reason"), "until_on": N_("end")}


def _shown(key: str, value) -> str:
    if value is None:
        return _("until further notice") if key == "until_on" else _("none")
    return fi(value) if isinstance(value, date) else str(value)
