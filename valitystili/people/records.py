"""The client's service record (DESIGN §2): the dated records of what the service assessed,
agreed and decided — ``client record CLIENT KIND …``.

Rules of this module:

- **Kinds and their fields** (:data:`FIELDS`; ``--date`` is the day the document was made):

  ``assessment``         the service-need assessment: ``--reference`` to the social-welfare
                         record (never its content), ``--worker`` who made it (a registered
                         social worker; the client's responsible worker when left out);
  ``consent``            the client's consent: its scope ``--incomes`` and ``--payments``;
                         ``--withdrawn DATE`` ends it;
  ``power_of_attorney``  a valtakirja: ``--scope``, ``--to`` whom, valid ``--until`` (or until
                         revoked);
  ``ev241n``             Kela's payment demand (form EV 241N): the ``--benefits`` it covers,
                         sent on ``--date``; ``--ended DATE`` when it ended;
  ``decision``           the handler's decision: ``--grounds``, the ``--criterion`` (the
                         client's when left out; ``other_weighty`` needs ``--reason``), the
                         service's ``--start`` and ``--end`` (none: until further notice), the
                         next ``--review``, and the decision's own ``--reference`` if any.

  A field of another kind is refused, naming the fields this kind takes.
- **Never deleted, never changed.** A correction is a new record of the same kind and client
  that names the one it replaces (``--supersedes ID``); the fields it does not give are taken
  from that record. A record is superseded at most once: a second correction supersedes the
  first correction. The superseded record stays and is shown as such.
- **What ends is recorded with its date**: ``consent --withdrawn D`` and ``ev241n --ended D``
  given alone (no other field, no ``--supersedes``) end the one record of that kind in force
  (refused when there is none, or when there are several: then ``--supersedes`` says which),
  keeping its fields; ``--date`` defaults to the end date. A withdrawn consent raises the flag
  ``consent_withdrawn``: the service must close or change (``flags.service_record``).
- **Dates.** ``--date`` may precede the client's start (an assessment or a consent comes before
  the service opens). The dates of the service a record describes — a decision's start, end and
  review, a withdrawal, a demand's end, a power of attorney's last day — may not be before the
  client's start, nor before the record's own date.
- **Who.** A decision is the handler's (``client.decide``); the other kinds a social worker or a
  handler records (``client.record``). On a closed client only what ends may be recorded (a
  withdrawal, a demand's end): the rest waits for a new service period.
- **The client follows the decision** (``people.terms``): recording a decision sets the
  client's next review to its review date (over the plan's, as ``client edit --review`` does),
  its last day to the decision's end (no end: until further notice; shortening cancels the
  obligations after it), and its criterion (with the reason) when the decision names one. A
  correction (``--supersedes``) changes only what it gives. What would not be allowed on the
  client (a review date or end in the past, an end before the start, a fixed term outside 3–6
  months, a fixed-term criterion without an end) refuses the decision, and nothing is written;
  a value equal to the client's is no change. The change is its own audit entry
  ``client.edit`` naming the record. The decision in force is the newest that stands
  (``people.decisions``): its dates are the client's unless a later edit or plan changed them.
- Each record is an audit entry ``client.record`` (subject ``record:<id>``) holding the new
  record and the one it supersedes. Reading the records is a view of the client's data; the
  callers that show them (``client show``, ``client records``) record that view.
- Free texts are checked where they enter (``settings.free_text``); a reference is one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date as fi
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import N_, Message, _
from valitystili.base.text import clean_line
from valitystili.people import terms
from valitystili.people.clients import resolve_client, utc_text
from valitystili.store.models import CRITERIA, RECORD_KINDS, Client, ClientRecord, User
from valitystili.store.settings import free_text
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: A reference (to the social-welfare record, a decision number) is one line of at most this.
MAX_REFERENCE_CHARS = 140
OTHER_WEIGHTY = "other_weighty"


@dataclass(frozen=True)
class Field:
    """One field of a record kind: where it is stored and whether it must be given."""

    name: str
    column: str              # dated_on | start_on | end_on | review_on | detail
    required: bool = False
    is_date: bool = False
    service_date: bool = False   # a date of the service: not before the client's start


def _text(name: str, required: bool = True) -> Field:
    return Field(name, "detail", required)


#: The fields each kind takes, in the order they are shown.
FIELDS: dict[str, tuple[Field, ...]] = {
    "assessment": (_text("reference"), _text("worker", required=False)),
    "consent": (_text("incomes"), _text("payments"),
                Field("withdrawn", "end_on", is_date=True, service_date=True)),
    "power_of_attorney": (_text("scope"), _text("to"),
                          Field("until", "end_on", is_date=True, service_date=True)),
    "ev241n": (_text("benefits"), Field("ended", "end_on", is_date=True, service_date=True)),
    "decision": (_text("grounds"), _text("criterion", required=False),
                 _text("reason", required=False),
                 Field("start", "start_on", required=True, is_date=True, service_date=True),
                 Field("end", "end_on", is_date=True, service_date=True),
                 Field("review", "review_on", required=True, is_date=True, service_date=True),
                 _text("reference", required=False)),
}
#: The field that ends a record of the kind (an ending record supersedes the one in force).
ENDING = {"consent": "withdrawn", "ev241n": "ended"}
#: One-line fields; the others are free texts.
ONE_LINE = ("reference", "worker", "criterion", "to")


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


# --- recording --------------------------------------------------------------------------------


def add_record(session: Session, actor: Actor, client: str | int, kind: str, *,
               dated_on: date | None = None, fields: dict | None = None,
               supersedes: int | None = None, today: date | None = None,
               notes: list[str] | None = None) -> dict:
    """Record a dated record of ``kind`` on the client; returns it as :func:`record_row`.
    A decision's changes to the client are told in ``notes``."""
    today = today or date.today()
    if kind not in RECORD_KINDS:
        raise ValidationError(_("unknown record kind {kind}; the kinds are {kinds}").format(
            kind=repr(kind), kinds=", ".join(RECORD_KINDS)))
    actor.require("client.decide" if kind == "decision" else "client.record")
    given = {name: value for name, value in (fields or {}).items() if value is not None}
    _check_names(kind, given)
    found = resolve_client(session, client, for_update=True)
    ending = ENDING.get(kind)
    if found.status != "open" and not (ending and ending in given):
        ends = ", ".join(f"{k} {option(v)}" for k, v in ENDING.items())
        if found.closed_on:
            raise Conflict(_("client {client} was closed on {day}: only an end ({ends}) may be "
                             "recorded on a closed client").format(
                client=found.id, day=fi(found.closed_on), ends=ends))
        raise Conflict(_("client {client} was closed: only an end ({ends}) may be recorded on a "
                         "closed client").format(client=found.id, ends=ends))
    # An end alone (no other field of the kind) ends the record in force.
    ends = ending if ending in given and set(given) == {ending} else None
    old = _superseded(session, found, kind, supersedes, ends)
    values = _values(session, kind, given, old)
    if dated_on is None:
        dated_on = given.get(ending) if ending else None
        if dated_on is None and old is not None:
            dated_on = old.dated_on
    if dated_on is None:
        raise ValidationError(_("give the date of the {kind} (--date DATE)").format(
            kind=kind.replace("_", " ")))
    _check_dates(found, kind, dated_on, values)
    if kind == "assessment":
        values["worker"] = _assessor(session, values.get("worker") or found.worker)
    changes = {}
    if kind == "decision":
        _check_criterion(values)
        changes = terms.decided(session, found, values, set(given), fresh=old is None,
                                today=today)
    record = ClientRecord(client_id=found.id, kind=kind, dated_on=dated_on,
                          start_on=values.pop("start_on", None), end_on=values.pop("end_on", None),
                          review_on=values.pop("review_on", None), detail=values,
                          supersedes_id=old.id if old is not None else None,
                          created_by=actor.name)
    session.add(record)
    session.flush()
    row = record_row(record)
    audit.record(session, actor.name, "client.record", client_id=found.id,
                 subject=f"record:{record.id}",
                 detail={"old": record_row(old, record.id) if old is not None else None,
                         "new": row})
    told = terms.follow_decision(session, actor, found, changes, record.id)
    if notes is not None:
        notes.extend(told)
    return row


def _check_names(kind: str, given: dict) -> None:
    names = [f.name for f in FIELDS[kind]]
    stray = [name for name in given if name not in names]
    if stray:
        raise ValidationError(
            _("{option} is not a field of a {kind} record; it takes --date, {options} and "
              "--supersedes").format(option=option(stray[0]), kind=kind.replace("_", " "),
                                     options=", ".join(option(name) for name in names)))


def _superseded(session: Session, client: Client, kind: str, supersedes: int | None,
                ending: str | None) -> ClientRecord | None:
    """The record the new one replaces: ``supersedes``, or for an end the one in force."""
    if supersedes is None:
        if ending is None:
            return None
        current = [r for r in records_of(session, client.id, kind)
                   if r.superseded_by is None and r.record.end_on is None]
        if not current:
            raise Conflict(_("client {client} has no {kind} in force to end with {option}")
                           .format(client=client.id, kind=kind.replace("_", " "),
                                   option=option(ending)))
        if len(current) > 1:
            ids = ", ".join(str(r.record.id) for r in current)
            raise ValidationError(_("client {client} has {count} {kind} records in force "
                                    "({ids}): say which one ends with --supersedes ID").format(
                client=client.id, count=len(current), kind=kind.replace("_", " "), ids=ids))
        return current[0].record
    old = session.get(ClientRecord, supersedes)
    if old is None or old.client_id != client.id:
        raise NotFound(_("client {client} has no record {record}").format(
            client=client.id, record=supersedes))
    if old.kind != kind:
        raise ValidationError(_("record {record} is a {its_kind}: a {kind} record cannot "
                                "supersede it").format(record=supersedes,
                                                       its_kind=old.kind.replace("_", " "),
                                                       kind=kind.replace("_", " ")))
    newer = session.execute(select(ClientRecord.id).where(
        ClientRecord.supersedes_id == old.id)).scalar_one_or_none()
    if newer is not None:
        raise Conflict(_("record {record} is already superseded by record {newer}; supersede "
                         "record {newer} instead").format(record=supersedes, newer=newer))
    return old


def _values(session: Session, kind: str, given: dict, old: ClientRecord | None) -> dict:
    """The record's stored values: those given, checked; the rest from the superseded record."""
    values: dict = {}
    for spec in FIELDS[kind]:
        value = given.get(spec.name)
        if value is None and old is not None:
            value = (old.detail or {}).get(spec.name) if spec.column == "detail" \
                else getattr(old, spec.column)
        if value is None:
            if spec.required:
                raise ValidationError(_("a {kind} record needs {option}").format(
                    kind=kind.replace("_", " "), option=option(spec.name)))
            continue
        if spec.is_date:
            if not isinstance(value, date):
                raise ValidationError(_("{option} must be a date").format(
                    option=option(spec.name)))
        elif spec.name in ONE_LINE:
            value = clean_line(str(value), option(spec.name), max_chars=MAX_REFERENCE_CHARS)
        else:
            value = free_text(session, str(value), option(spec.name), multiline=True)
        values[spec.column if spec.column != "detail" else spec.name] = value
    return values


def _check_dates(client: Client, kind: str, dated_on: date, values: dict) -> None:
    for spec in FIELDS[kind]:
        value = values.get(spec.column) if spec.is_date else None
        if value is None or not spec.service_date:
            continue
        if value < client.start_on:
            raise ValidationError(_("{option} {day} is before the client's start {start}")
                                  .format(option=option(spec.name), day=fi(value),
                                          start=fi(client.start_on)))
        if value < dated_on:
            raise ValidationError(_("{option} {day} is before the {kind}'s date {dated}").format(
                option=option(spec.name), day=fi(value), kind=kind.replace("_", " "),
                dated=fi(dated_on)))
    start, end = values.get("start_on"), values.get("end_on")
    if kind == "decision" and end is not None and end < start:
        raise ValidationError(_("--end {end} is before --start {start}").format(
            end=fi(end), start=fi(start)))


def _assessor(session: Session, worker: str) -> str:
    role = session.execute(select(User.role).where(User.name == worker)).scalar_one_or_none()
    if role is None:
        raise ValidationError(_("worker {worker} is not a registered user").format(
            worker=repr(worker)))
    if role != "social_worker":
        raise ValidationError(_("worker {worker} is a {role}, not a social_worker").format(
            worker=worker, role=role))
    return worker


def _check_criterion(values: dict) -> None:
    criterion = values.get("criterion")
    if criterion is not None and criterion not in CRITERIA:
        raise ValidationError(_("criterion {criterion} is not one of {choices}").format(
            criterion=repr(criterion), choices=", ".join(CRITERIA)))
    if criterion == OTHER_WEIGHTY and not values.get("reason"):
        raise ValidationError(_("criterion other_weighty needs the reason (--reason), e.g. "
                                "securing a debt-restructuring programme"))


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    """A stored record and the id of the record that superseded it (None: it stands)."""

    record: ClientRecord
    superseded_by: int | None


def records_of(session: Session, client_id: int, kind: str | None = None) -> list[Kept]:
    """The client's records (of ``kind``), oldest first, each with what superseded it."""
    query = select(ClientRecord).where(ClientRecord.client_id == client_id)
    if kind is not None:
        query = query.where(ClientRecord.kind == kind)
    rows = list(session.execute(query.order_by(ClientRecord.id)).scalars())
    by = {row.supersedes_id: row.id for row in rows if row.supersedes_id is not None}
    return [Kept(row, by.get(row.id)) for row in rows]


def in_force(session: Session, client_id: int, kind: str, on: date) -> list[ClientRecord]:
    """The client's records of ``kind`` that stand and have not ended by ``on`` (a consent not
    withdrawn, a payment demand not ended, a power of attorney still valid, a decision whose
    term has not passed), oldest first."""
    return [kept.record for kept in records_of(session, client_id, kind)
            if kept.superseded_by is None
            and (kept.record.end_on is None or kept.record.end_on >= on)]


def open_payment_demands(session: Session, client_id: int) -> list[ClientRecord]:
    """Kela payment demands (EV 241N) of the client with no end recorded."""
    return [kept.record for kept in records_of(session, client_id, "ev241n")
            if kept.superseded_by is None and kept.record.end_on is None]


#: A record's end as its state says it (``state``), by the word the kind uses.
ENDS = {
    "withdrawn": N_("withdrawn {day}"),
    "ended": N_("ended {day}"),
    "valid until": N_("valid until {day}"),
    "until": N_("until {day}"),
    "expired": N_("expired {day}"),
}


def state(record: ClientRecord, superseded_by: int | None, today: date) -> str:
    """How the record stands: in force, superseded, or ended (with the day). A ``Message``:
    English in the data, in the reader's language in a table."""
    if superseded_by is not None:
        return Message("superseded by {record}", record=superseded_by)
    end = record.end_on
    if end is None:
        return Message("in force")
    verb = {"consent": "withdrawn", "ev241n": "ended", "power_of_attorney": "valid until",
            "decision": "until"}[record.kind]
    if record.kind in ENDING or end < today:
        verb = {"power_of_attorney": "expired", "decision": "ended"}.get(record.kind, verb)
        return Message(ENDS[verb], day=fi(end))
    return Message("in force, {end}", end=Message(ENDS[verb], day=fi(end)))


def summary(record: ClientRecord) -> str:
    """One line saying what the record holds (for tables and the service file). A ``Message``:
    English in the data, in the reader's language in a table."""
    d = record.detail or {}
    if record.kind == "assessment":
        return Message("by {worker}; social-welfare record {reference}",
                       worker=d.get("worker"), reference=d.get("reference"))
    if record.kind == "consent":
        return Message("incomes: {incomes}; payments: {payments}",
                       incomes=d.get("incomes"), payments=d.get("payments"))
    if record.kind == "power_of_attorney":
        if record.end_on:
            return Message("to {to}: {scope} until {day}", to=d.get("to"), scope=d.get("scope"),
                           day=fi(record.end_on))
        return Message("to {to}: {scope} until revoked", to=d.get("to"), scope=d.get("scope"))
    if record.kind == "ev241n":
        return Message("benefits: {benefits}", benefits=d.get("benefits"))
    end = fi(record.end_on) if record.end_on else Message("until further notice")
    criterion = d.get("criterion")
    values = {"start": fi(record.start_on), "end": end, "review": fi(record.review_on),
              "grounds": d.get("grounds")}
    if criterion and d.get("reason"):
        return Message("{start}–{end}, review {review}; criterion {criterion} ({reason}); "
                       "grounds: {grounds}", criterion=criterion, reason=d["reason"], **values)
    if criterion:
        return Message("{start}–{end}, review {review}; criterion {criterion}; grounds: {grounds}",
                       criterion=criterion, **values)
    return Message("{start}–{end}, review {review}; grounds: {grounds}", **values)


def record_row(record: ClientRecord, superseded_by: int | None = None,
               today: date | None = None) -> dict:
    """A record as commands print it; ``detail`` holds the kind's own fields."""
    return {
        "record": record.id,
        "client": record.client_id,
        "kind": record.kind,
        "dated_on": record.dated_on,
        "start_on": record.start_on,
        "end_on": record.end_on,
        "review_on": record.review_on,
        "summary": summary(record),
        "detail": dict(record.detail or {}),
        "supersedes": record.supersedes_id,
        "state": state(record, superseded_by, today or date.today()),
        "recorded_by": record.created_by,
        "recorded_at": utc_text(record.created_at),
    }


def list_records(session: Session, actor: Actor, client: str | int, *, kind: str | None = None,
                 today: date | None = None) -> list[dict]:
    """The client's records, oldest first, superseded ones too (the view is audited)."""
    actor.require("client.read")
    if kind is not None and kind not in RECORD_KINDS:
        raise ValidationError(_("unknown record kind {kind}; the kinds are {kinds}").format(
            kind=repr(kind), kinds=", ".join(RECORD_KINDS)))
    found = resolve_client(session, client)
    rows = [record_row(kept.record, kept.superseded_by, today)
            for kept in records_of(session, found.id, kind)]
    audit.record(session, actor.name, "client.records.view", client_id=found.id,
                 subject=f"client:{found.id}", detail={"kind": kind, "records": len(rows)})
    return rows
