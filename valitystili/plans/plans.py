"""Payment plans: versions of a client's plan file, approved by a handler's decision (DESIGN §5).

Rules of this module:

- A plan is written in TOML (parsed and checked by ``plans.planfile``) and stored twice: the
  source text as written, and the parsed rows in ``plans``/``plan_items``/``plan_incomes``.
  Each ``set_plan`` makes the next version (1, 2, …) of the client's plan, effective from a date
  (default: today, never before the client's start). Nothing is ever changed in a stored version
  except its approval.
- **The plan in force** on a date D is the highest-numbered *approved* version whose
  ``effective_on`` ≤ D (:func:`valitystili.plans.versions.in_force`). A draft pays nothing;
  approving a later version with a later effective date leaves the earlier one in force until
  then.
- Approval is the handler's decision (``plan.approve``). The author may not approve their own
  plan; a version older than an approved one cannot be approved (set a new version instead).
- ``set_plans`` and ``approve_plans`` store and decide for many clients in one call (a county
  moving its clients in), each checked, stored and audited as ``set_plan`` and ``approve_plan``
  do one (which are those of one); a client is named at most once a call.
- Every change is audited (old and new summaries; the source text by its SHA-256); every view
  (``show_plan``, the text opened by ``plan edit``) is audited as ``plan.view``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import Message, _, ngettext, shown
from valitystili.base.text import free_text
from valitystili.people.clients import require_open, resolve_client, resolve_clients, utc_text
from valitystili.people.payees import resolve_payee
from valitystili.plans.check import direct_part_warnings, late_rent_warnings
from valitystili.plans.due import paid_here
from valitystili.plans.planfile import PLAN_TEMPLATE, ParsedPlan, parse_plan
from valitystili.plans.versions import plan_in_force
from valitystili.store.chunks import insert_rows, member_of, scalars_in
from valitystili.store.models import (
    Client,
    Payee,
    Plan,
    PlanIncome,
    PlanItem,
)
from valitystili.store.settings import get_bool, get_int
from valitystili.trust import audit
from valitystili.trust.auth import Actor

# --- storing and approving ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanText:
    """One client's next plan version as :func:`set_plan` takes it; :func:`set_plans` stores
    many."""

    client: str | int
    toml_text: str
    effective_on: date | None = None
    expect_version: int | None = None


def set_plan(session: Session, actor: Actor, client: str | int, toml_text: str, *,
             effective_on: date | None = None, today: date | None = None,
             expect_version: int | None = None, notes: list[str] | None = None) -> dict:
    """Store the next version of the client's plan (a draft until approved).

    ``expect_version`` is the version the text was edited from (``plan edit``); when another
    version was stored meanwhile the edit is refused rather than silently overwriting it.
    ``notes`` gets a line for each message stored in another form for the payment file.
    ``warnings``: Kela's direct part over half the rent (``check.direct_part_warnings``); what
    does not add up is the plan check's (``oversight.plan_check.set_plan`` adds it).
    """
    return set_plans(session, actor, [PlanText(client, toml_text, effective_on, expect_version)],
                     today=today, notes=notes)[0]


def set_plans(session: Session, actor: Actor, texts: Sequence[PlanText], *,
              today: date | None = None, notes: list[str] | None = None) -> list[dict]:
    """Store the next version of each client's plan, in order, with the checks, rows and audit
    entries of as many :func:`set_plan` calls; the clients, their latest versions and the
    payees are read once a call. A client is named at most once a call."""
    actor.require("plan.set")
    today = today or date.today()
    found = resolve_clients(session, [text.client for text in texts], for_update=True)
    _once_each(found)
    latest = _latest_versions(session, [client.id for client in found])
    payee = _remembering(resolve_payee)
    stored = []
    for text, client in zip(texts, found):
        parsed = _parsed(session, client, text, today, payee)
        if notes is not None:
            notes.extend(parsed.plan.notes)
        before = latest.get(client.id)
        latest_version = before.version if before is not None else 0
        if text.expect_version is not None and latest_version != text.expect_version:
            raise Conflict(_("the plan of client {client} changed while it was being edited "
                             "(now version {version}); edit it again").format(
                                 client=client.id, version=latest_version))
        stored.append((Plan(
            client_id=client.id, version=latest_version + 1, effective_on=parsed.effective_on,
            review_on=parsed.plan.review_on, source=text.toml_text,
            instalment_schedule=parsed.plan.instalment_schedule,
            instalment_mode=parsed.plan.instalment_mode,
            instalment_cents=parsed.plan.instalment_cents, keep_cents=parsed.plan.keep_cents,
            minimum_cents=parsed.plan.minimum_cents, first_period=parsed.plan.first_period,
            author=actor.name), parsed.plan, before))
    session.add_all(plan for plan, _parsed_plan, _before in stored)
    session.flush()
    insert_rows(session, PlanItem.__table__, [
        {"plan_id": plan.id, "position": i.position, "kind": i.kind, "payee_id": i.payee_id,
         "amount_cents": i.amount_cents, "bills": i.bills, "schedule": i.schedule,
         "reference": i.reference, "reference_kind": i.reference_kind, "message": i.message,
         "paid_by": i.paid_by, "allow_partial": i.allow_partial,
         "paid_directly_cents": i.paid_directly_cents, "tag": i.tag}
        for plan, parsed, _before in stored for i in parsed.items])
    insert_rows(session, PlanIncome.__table__, [
        {"plan_id": plan.id, "position": i.position, "source": i.source, "kind": i.kind,
         "amount_cents": i.amount_cents, "schedule": i.schedule, "route": i.route,
         "tolerance_cents": i.tolerance_cents, "tolerance_percent": i.tolerance_percent}
        for plan, parsed, _before in stored for i in parsed.incomes])
    names = dict(session.execute(select(Payee.id, Payee.name)).all())
    earlier = _rows_of(session, [before for _plan, _parsed, before in stored if before])
    audit.record_each(session, actor.name, "plan.set", [
        (plan.client_id, f"plan:{plan.client_id}:{plan.version}",
         {"old": _summary(before, *earlier[before.id], names) if before else None,
          "new": _summary(plan, parsed.items, parsed.incomes, names)})
        for plan, parsed, before in stored])
    return [{"client": plan.client_id, "version": plan.version, "status": "draft",
             "effective_on": plan.effective_on, "review_on": parsed.review_on,
             "item_count": len(parsed.items), "income_count": len(parsed.incomes),
             "expected_monthly_income_cents": parsed.monthly_income_cents,
             "warnings": direct_part_warnings((i.position, i.kind, i.amount_cents,
                                               i.paid_directly_cents) for i in parsed.items)}
            for plan, parsed, _before in stored]


@dataclass(frozen=True)
class _Parsed:
    plan: ParsedPlan
    effective_on: date


def _parsed(session: Session, client: Client, text: PlanText, today: date,
            payee: Callable) -> _Parsed:
    """The plan text checked for ``client``: open, the effective date in its service."""
    require_open(client)
    effective_on = text.effective_on or today
    if effective_on < client.start_on:
        raise ValidationError(_("plan: effective date {day} is before the client's start "
                                "{start}").format(day=format_fi_date(effective_on),
                                                  start=format_fi_date(client.start_on)))
    if client.until_on is not None and effective_on > client.until_on:
        raise ValidationError(_("plan: effective date {day} is after the service ends {end}")
                              .format(day=format_fi_date(effective_on),
                                      end=format_fi_date(client.until_on)))
    return _Parsed(parse_plan(session, text.toml_text, effective_on=effective_on, today=today,
                              payee=payee), effective_on)


def _once_each(clients: Sequence[Client]) -> None:
    """Refuse a call that names a client twice (each is one decision about one version)."""
    seen: set[int] = set()
    for client in clients:
        if client.id in seen:
            raise ValidationError(_("client {client} is named twice").format(client=client.id))
        seen.add(client.id)


def _remembering(resolve: Callable) -> Callable:
    """``resolve(session, text)`` asked once per text in a call."""
    known: dict = {}

    def remembered(session: Session, text):
        key = (type(text), text)
        if key not in known:
            known[key] = resolve(session, text)
        return known[key]
    return remembered


@dataclass(frozen=True)
class Approval:
    """A handler's decision as :func:`approve_plan` takes it; :func:`approve_plans` makes many."""

    client: str | int
    version: int | None = None
    despite: str | None = None


def approve_plan(session: Session, actor: Actor, client: str | int, version: int | None = None,
                 *, check: Callable[[Session, Sequence[Plan]], list[list[Message]]],
                 at: datetime | None = None, despite: str | None = None) -> dict:
    """The handler's decision: the version (default the latest) is in force from its date.

    A plan that does not add up (``check``: the plan check, ``oversight.plan_check``, which runs
    the batch's decision forward and so lives above this layer; it answers for many versions at
    once) is approved only ``despite`` a reason, which the decision records with the check's
    lines. ``warnings``: the rents paid late for want of an intraday report
    (``check.late_rent_warnings``); they do not block."""
    return approve_plans(session, actor, [Approval(client, version, despite)], check=check,
                         at=at)[0]


def approve_plans(session: Session, actor: Actor, approvals: Sequence[Approval], *,
                  check: Callable[[Session, Sequence[Plan]], list[list[Message]]],
                  at: datetime | None = None) -> list[dict]:
    """Make each decision, in order, with the checks, rows and audit entries of as many
    :func:`approve_plan` calls; the clients, their versions and what the check reads are read
    once a call. A client is named at most once a call."""
    actor.require("plan.approve")
    found = resolve_clients(session, [approval.client for approval in approvals],
                            for_update=True)
    _once_each(found)
    versions: dict[int, list[Plan]] = defaultdict(list)
    for plan in scalars_in(session, select(Plan).order_by(Plan.version), Plan.client_id,
                           [client.id for client in found]):
        versions[plan.client_id].append(plan)
    max_chars = get_int(session, "free_text_max_chars")
    targets = [_target(client, versions[client.id], approval.version, actor)
               for approval, client in zip(approvals, found)]
    reasons = [free_text(approval.despite, _("--despite reason"), max_chars=max_chars,
                         required=False) for approval in approvals]
    found_problems = check(session, targets)
    for target, problems, despite in zip(targets, found_problems, reasons):
        if problems and despite is None:
            raise ValidationError(_not_adding_up(target, problems))
    at = (at or datetime.now(UTC)).astimezone(UTC)
    for target, problems, despite in zip(targets, found_problems, reasons):
        target.approved_by = actor.name
        target.approved_at = at
        target.approved_despite = despite if problems else None
    session.flush()
    audit.record_each(session, actor.name, "plan.approve", [
        (target.client_id, f"plan:{target.client_id}:{target.version}",
         {"version": target.version, "effective_on": target.effective_on,
          "old": {"approved_by": None, "approved_at": None},
          "new": {"approved_by": actor.name, "approved_at": utc_text(at)},
          "problems": problems, "despite": target.approved_despite})
        for target, problems in zip(targets, found_problems)])
    warnings = stored_late_rent_warnings(session, targets)
    return [{"client": target.client_id, "version": target.version,
             "effective_on": target.effective_on, "approved_by": actor.name,
             "approved_at": utc_text(at), "approved_despite": target.approved_despite,
             "warnings": warned} for target, warned in zip(targets, warnings)]


def _target(client: Client, plans: list[Plan], version: int | None, actor: Actor) -> Plan:
    """The version a decision approves (default the latest), if it may be approved: not
    already, not older than an approved one, not by its author."""
    require_open(client)
    if not plans:
        raise NotFound(_("client {client} has no plan to approve").format(client=client.id))
    if version is None:
        target = plans[-1]
    else:
        target = next((p for p in plans if p.version == version), None)
        if target is None:
            raise NotFound(_("client {client} has no plan version {version}").format(
                client=client.id, version=version))
    if target.approved_by is not None:
        raise Conflict(_("plan version {version} of client {client} is already approved (by "
                         "{name} on {day})").format(version=target.version, client=client.id,
                                                    name=target.approved_by,
                                                    day=utc_text(target.approved_at)[:10]))
    newer = [p.version for p in plans if p.version > target.version and p.approved_by]
    if newer:
        raise Conflict(_("plan version {version} of client {client} is older than approved "
                         "version {approved}; set a new version instead").format(
                             version=target.version, client=client.id, approved=newer[-1]))
    if target.author == actor.name:
        raise Conflict(_("plan version {version} of client {client} was written by {name}; "
                         "another person must approve it").format(
                             version=target.version, client=client.id, name=actor.name))
    return target


def _not_adding_up(target: Plan, problems: list[Message]) -> str:
    """The refusal of a version that does not add up, approved without a reason."""
    values = {"version": target.version, "client": target.client_id,
              "problem": shown(problems[0]), "count": len(problems) - 1}
    return (ngettext(
        'plan version {version} of client {client} does not add up: {problem} (and {count} '
        'more month; plan show lists them); approve it with --despite "reason"',
        'plan version {version} of client {client} does not add up: {problem} (and {count} '
        'more months; plan show lists them); approve it with --despite "reason"',
        values["count"]) if len(problems) > 1 else
        _('plan version {version} of client {client} does not add up: {problem}; approve it '
          'with --despite "reason"')).format(**values)


def stored_late_rent_warnings(session: Session, plans: Sequence[Plan]) -> list[list[Message]]:
    """``check.late_rent_warnings`` of each stored version, as the setting
    ``intraday_statements`` stands."""
    intraday = get_bool(session, "intraday_statements")
    rows = _rows_of(session, plans)
    return [late_rent_warnings(
        plan.effective_on,
        [(f"{i.kind}-{i.tag}" if i.tag else i.kind, i.schedule)
         for i in rows[plan.id][0] if i.kind == "rent" and paid_here(i)],
        [(i.kind, i.schedule) for i in rows[plan.id][1]],
        intraday=intraday) for plan in plans]


# --- reading ------------------------------------------------------------------------------------


def plan_items(session: Session, plan: Plan) -> list[PlanItem]:
    return list(session.execute(
        select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.position)
    ).scalars())


def plan_incomes(session: Session, plan: Plan) -> list[PlanIncome]:
    return list(session.execute(
        select(PlanIncome).where(PlanIncome.plan_id == plan.id).order_by(PlanIncome.position)
    ).scalars())


def show_plan(session: Session, actor: Actor, client: str | int, *, version: int | None = None,
              today: date | None = None) -> dict:
    """One version of a client's plan (default: the latest), with its rows; audited."""
    actor.require("client.read")
    today = today or date.today()
    found = resolve_client(session, client)
    plan = _version(session, found.id, version)
    in_force = plan_in_force(session, found.id, today)
    payees = {p.id: p for p in session.execute(select(Payee)).scalars()}
    items = [
        {"position": i.position, "kind": i.kind, "payee": payees[i.payee_id].name,
         "payee_id": i.payee_id, "iban": payees[i.payee_id].iban, "amount_cents": i.amount_cents,
         **_rent_parts(i),
         "bills": i.bills, "due": i.schedule, "reference": i.reference,
         "reference_kind": i.reference_kind, "message": i.message, "paid_by": i.paid_by,
         "allow_partial": i.allow_partial}
        for i in plan_items(session, plan)
    ]
    incomes = [
        {"position": i.position, "source": i.source, "kind": i.kind,
         "amount_cents": i.amount_cents, "schedule": i.schedule, "route": i.route}
        for i in plan_incomes(session, plan)
    ]
    instalments = None
    if plan.instalment_schedule is not None:
        instalments = {"schedule": plan.instalment_schedule, "mode": plan.instalment_mode,
                       "amount_cents": plan.instalment_cents, "keep_cents": plan.keep_cents,
                       "minimum_cents": plan.minimum_cents}
    result = {
        "client": found.id,
        "version": plan.version,
        "status": "approved" if plan.approved_by else "draft",
        "in_force": in_force is not None and in_force.id == plan.id,
        "in_force_version": in_force.version if in_force is not None else None,
        "effective_on": plan.effective_on,
        "review_on": plan.review_on,
        "author": plan.author,
        "created_at": utc_text(plan.created_at),
        "approved_by": plan.approved_by,
        "approved_at": utc_text(plan.approved_at),
        "approved_despite": plan.approved_despite,
        "items": items,
        "incomes": incomes,
        "instalments": instalments,
    }
    audit.record(session, actor.name, "plan.view", client_id=found.id,
                 subject=f"plan:{found.id}:{plan.version}", detail={"version": plan.version})
    return result


def _rent_parts(item: PlanItem) -> dict:
    """A rent item's whole rent (``amount_cents``) splits into Kela's usual direct part and the
    account's part; other items have neither (None)."""
    if item.kind != "rent":
        return {"paid_directly_cents": None, "account_cents": None}
    direct = item.paid_directly_cents or 0
    account = (item.amount_cents - direct
               if item.paid_by == "account" and item.amount_cents is not None else 0)
    return {"paid_directly_cents": direct, "account_cents": account}


def plan_source(session: Session, actor: Actor, client: str | int) -> dict:
    """The latest version's text, for ``plan edit`` (a template when there is none); audited."""
    actor.require("plan.set")
    found = resolve_client(session, client)
    require_open(found)
    latest = _latest(session, found.id)
    audit.record(session, actor.name, "plan.view", client_id=found.id,
                 subject=f"plan:{found.id}:{latest.version if latest else 0}",
                 detail={"version": latest.version if latest else None, "for": "edit"})
    return {"client": found.id, "version": latest.version if latest else 0,
            "source": latest.source if latest else PLAN_TEMPLATE}


def _latest(session: Session, client_id: int) -> Plan | None:
    return session.execute(
        select(Plan).where(Plan.client_id == client_id).order_by(Plan.version.desc()).limit(1)
    ).scalar_one_or_none()


def _version(session: Session, client_id: int, version: int | None) -> Plan:
    if version is None:
        plan = _latest(session, client_id)
        if plan is None:
            raise NotFound(_("client {client} has no plan yet; set one with `plan set`").format(
                client=client_id))
        return plan
    plan = session.execute(
        select(Plan).where(Plan.client_id == client_id, Plan.version == version)
    ).scalar_one_or_none()
    if plan is None:
        raise NotFound(_("client {client} has no plan version {version}").format(
            client=client_id, version=version))
    return plan


def _latest_versions(session: Session, client_ids: Sequence[int]) -> dict[int, Plan]:
    """Each client's latest version (none: no plan yet)."""
    latest = (select(Plan.client_id, func.max(Plan.version).label("version"))
              .group_by(Plan.client_id))
    if len(client_ids) == 1:
        latest = latest.where(Plan.client_id == client_ids[0])
    else:
        latest = latest.where(member_of(session, Plan.client_id, client_ids))
    latest = latest.subquery()
    return {plan.client_id: plan for plan in session.execute(
        select(Plan).join(latest, (Plan.client_id == latest.c.client_id)
                          & (Plan.version == latest.c.version))).scalars()}


def _rows_of(session: Session, plans: Sequence[Plan]
             ) -> dict[int, tuple[list[PlanItem], list[PlanIncome]]]:
    """The item and income rows of each version, by position."""
    ids = [plan.id for plan in plans]
    rows: dict[int, tuple[list, list]] = {plan_id: ([], []) for plan_id in ids}
    for model, index in ((PlanItem, 0), (PlanIncome, 1)):
        for row in scalars_in(session, select(model).order_by(model.plan_id, model.position),
                              model.plan_id, ids):
            rows[row.plan_id][index].append(row)
    return rows


def _summary(plan: Plan, items: Sequence, incomes: Sequence, names: dict[int, str]) -> dict:
    """What the audit trail keeps of a version: enough to see what changed, no personal data.
    ``items`` and ``incomes`` are its rows, stored or as parsed (the same fields)."""
    return {
        "version": plan.version,
        "effective_on": plan.effective_on,
        "review_on": plan.review_on,
        "source_sha256": hashlib.sha256(plan.source.encode("utf-8")).hexdigest(),
        "items": [{"kind": i.kind, "payee": names[i.payee_id], "amount_cents": i.amount_cents,
                   "bills": i.bills, "due": i.schedule, "paid_by": i.paid_by}
                  for i in items],
        "incomes": [{"kind": i.kind, "amount_cents": i.amount_cents, "schedule": i.schedule,
                     "route": i.route} for i in incomes],
        "instalments": {"schedule": plan.instalment_schedule, "mode": plan.instalment_mode,
                        "amount_cents": plan.instalment_cents, "keep_cents": plan.keep_cents,
                        "minimum_cents": plan.minimum_cents},
    }
