"""Clients: opening, finding, showing, listing and closing the service for one person.

Rules of this module:

- A client is opened by a social worker (``client.open``) with a valid henkilötunnus, the
  client's own IBAN, one opening criterion (``models.CRITERIA``) and a responsible worker who is a
  registered ``social_worker``. ``rent_debt_fixed_term`` is fixed-term: ``until_on`` must fall 3–6
  calendar months after ``start_on``, both bounds included (start 31.8. → 30.11.–28.2.).
  ``other_weighty`` needs its reason (``criterion_reason``, a free text, e.g. securing a
  debt-restructuring programme), stored on the client and shown by ``client show``.
- The client number is the row id. The client's Finnish reference is
  ``identifiers.client_reference(number)`` and its RF form ``rf_from_finnish`` of that; the money
  is on the ledger account ``client:<number>`` (liability, no-negative). Row, references and
  ledger account are written in one transaction, so a client never exists without them.
- **Exclusions** (DESIGN §2): the service is not meant for people who need guardianship, who get
  labour market subsidy into the account against their will, whose housing costs Kela can pay
  straight to the landlord, or the elderly. The first three are questions the worker answers
  (``True``/``False``; ``None`` = not asked, recorded as such and warned about); ``elderly`` is
  computed from the identity code (65 or older on the start date). When any applies, opening is
  refused unless a reason is given in ``despite``, which is recorded: a person decides, the tool
  warns. The answers and the reason are kept in ``clients.exclusions``.
- ``CLIENT`` in commands is the client number, the Finnish reference (spaces allowed, leading
  zeros as banks pad them ignored) or the RF reference: :func:`resolve_client`. A text of up to
  eight digits is a client number; nine or more digits is a reference, whose check digit is
  checked before it is looked up.
- The name is checked where it enters (``text.clean_line``: no control or invisible characters)
  and its payment form (``text.payment_name``) is stored as ``payment_name``, the name payment
  files carry; ``client show`` shows it where it differs. A name a payment file cannot carry is
  refused at opening, never at export. The ``despite`` reason is a free text (``text.free_text``).
- Identity codes are shown masked (``131052-****``) unless asked for with ``show_hetu``, which
  needs ``client.hetu`` and is audited as ``client.view_hetu``. The audit trail never holds a
  code in clear.
- ``open_clients`` opens many people in one call (a county moving its clients in): each is
  checked, stored and audited as ``open_client`` does one (which is ``open_clients`` of one);
  an identity code given twice is refused, and nothing is written unless all pass.
- Every change is audited with old and new values; every view of a client's data (show, list,
  access log) is audited in the same transaction. Opening refused because the identity code
  already belongs to a client (:class:`HetuTaken`) names that client: the caller records it as
  a view (:func:`record_hetu_taken`) in a unit of its own, since the opening's is rolled back.
- The worker always sets when the need for the service is next reviewed: opening needs
  ``review_on`` (DESIGN §2), on or after today.
- **The service period** (DESIGN §5) ends on its last day: the fixed-term end (``until_on``) or
  the close date. A client is closed only when the ledger balance is zero, or with
  ``final_payout``, which leaves the remaining money for the next batch to pay to the client's
  own account (money that arrives after closing is paid on to them the same way). Closing
  cancels the client's open, unpaid obligations with a pay day after the close date; one that is
  partly paid (or has an order) is left open and named, for a person to look at. The ended
  period is kept with its reason and where the final payout goes (a guardian or an estate
  named with ``payout_to``/``payee`` waits for a second handler): ``people.periods``;
  reopening starts the next period on the same row (``people.lifecycle``).
- A handler's decision changes the last day of the term (extends or shortens it): ``people.terms``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from valitystili.base.accounts import CLIENT_PREFIX, client_account
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import Conflict, NotFound, ValidationError
from valitystili.base.i18n import N_, Message, _
from valitystili.base.identifiers import (
    age_on,
    bic_for_iban,
    client_reference,
    mask_hetu,
    mask_hetus,
    rf_from_finnish,
    validate_finnish_reference,
    validate_hetu,
    validate_iban,
    validate_rf,
)
from valitystili.base.money import format_fi
from valitystili.base.text import free_text, payment_name
from valitystili.people import periods
from valitystili.people.payees import check_name, shown_payment_name
from valitystili.store.models import CRITERIA, LANGUAGES, Client, Obligation, User
from valitystili.store.chunks import scalars_in, select_in
from valitystili.store.settings import get_int
from valitystili.trust import access, audit
from valitystili.trust.auth import Actor

#: The questions a social worker answers at opening, in the order they are asked.
ASKED_EXCLUSIONS = ("guardianship_need", "subsidy_against_will", "kela_pays_landlord")
#: All exclusions, as recorded in ``clients.exclusions``.
EXCLUSIONS = (*ASKED_EXCLUSIONS, "elderly")
#: What applies, after "the client" (marked; translated where it is shown).
EXCLUSION_TEXT = {
    "guardianship_need": N_("needs guardianship (edunvalvonta)"),
    "subsidy_against_will": N_("gets labour market subsidy into the account against their will"),
    "kela_pays_landlord": N_("Kela can pay the housing costs straight to the landlord"),
    "elderly": N_("is elderly"),
}
#: Questions the tool asks a person at a terminal (the CLI); kept here with the rules.
EXCLUSION_QUESTIONS = {
    "guardianship_need": N_("Does the client need guardianship (edunvalvonta)?"),
    "subsidy_against_will": N_("Is labour market subsidy to be paid to the account against the "
                               "client's will?"),
    "kela_pays_landlord": N_("Can Kela pay the housing costs straight to the landlord?"),
}
ELDERLY_AGE = 65
FIXED_TERM = "rent_debt_fixed_term"
FIXED_TERM_MONTHS = (3, 6)

_SPACES_RE = re.compile("[ \u00a0\u202f]")
_DIGITS_RE = re.compile("[0-9]+")
#: Up to this many digits a CLIENT argument is a client number; longer ones are references
#: (a client reference has at least nine digits: prefix, seven digits, check digit).
_MAX_NUMBER_DIGITS = 8


# --- helpers the other service modules share ----------------------------------------------------


def utc_text(at: datetime | None) -> str | None:
    """A stored timestamp as ``2026-11-23 11:16:49`` UTC (SQLite returns naive UTC values)."""
    if at is None:
        return None
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def require_open(client: Client) -> None:
    if client.status != "open":
        if client.closed_on:
            raise Conflict(_("client {client} was closed on {day}").format(
                client=client.id, day=format_fi_date(client.closed_on)))
        raise Conflict(_("client {client} was closed").format(client=client.id))


def format_rf(rf: str) -> str:
    """An RF reference in groups of four, as printed on bills (``RF85 1234 5672``)."""
    return " ".join(rf[i:i + 4] for i in range(0, len(rf), 4))


#: An exclusion's answer as the card holds it: stable English words (JSON and CSV carry them as
#: they are) that a table shows in the person's language (``base/i18n.Message``).
ANSWERS = {None: Message("not asked"), True: Message("yes"), False: Message("no")}


def answer_text(value: bool | None) -> str:
    return ANSWERS[value]


# --- finding a client ---------------------------------------------------------------------------


def resolve_client(session: Session, text: str | int, *, for_update: bool = False) -> Client:
    """The client named by its number, Finnish reference or RF reference (see the module rules).

    ``for_update`` locks the row (PostgreSQL) so that two writers to one client's plans or bills
    take turns; SQLite's write transaction already serialises them.
    """
    return resolve_clients(session, [text], for_update=for_update)[0]


def resolve_clients(session: Session, texts: Sequence[str | int], *,
                    for_update: bool = False) -> list[Client]:
    """The clients ``texts`` name (as :func:`resolve_client`), in order: one query for each
    kind of name (number, reference, RF reference) however many are named."""
    named = [_named(text) for text in texts]
    found: dict[tuple[str, object], Client] = {}
    for key in dict.fromkeys(key for key, _value in named):
        column = getattr(Client, key)
        values = list(dict.fromkeys(value for k, value in named if k == key))
        query = select(Client)
        if for_update:
            query = query.with_for_update()
        rows = (session.execute(query.where(column == values[0])).scalars() if len(values) == 1
                else scalars_in(session, query, column, values))
        found.update(((key, getattr(client, key)), client) for client in rows)
    result = []
    for text, wanted in zip(texts, named):
        client = found.get(wanted)
        if client is None:
            raise NotFound(_("unknown client {text}").format(text=str(text).strip()))
        access.check(session, client)    # need to know: the unit's actor may see this client
        result.append(client)
    return result


def _named(text: str | int) -> tuple[str, object]:
    """(the column of ``clients`` that ``text`` gives, its value): see the module rules."""
    raw = str(text).strip()
    compact = _SPACES_RE.sub("", raw)
    if compact[:2].upper() == "RF":
        return "rf_reference", validate_rf(compact)
    if _DIGITS_RE.fullmatch(compact):
        if len(compact) <= _MAX_NUMBER_DIGITS:
            return "id", int(compact)
        # Banks pad references with leading zeros; ours never start with one.
        return "reference", validate_finnish_reference(compact).lstrip("0")
    # Someone may type an identity code here: it is never repeated whole (DESIGN §10).
    raise NotFound(_("unknown client {text}: give the client number or its reference")
                   .format(text=repr(mask_hetus(raw))))


# --- opening ------------------------------------------------------------------------------------


class HetuTaken(Conflict):
    """The identity code already belongs to a client; the answer names that client, so it is a
    view of the client's data (:func:`record_hetu_taken`)."""

    def __init__(self, message: str, client_id: int, masked_hetu: str):
        super().__init__(message)
        self.client_id = client_id
        self.masked_hetu = masked_hetu


def record_hetu_taken(session: Session, actor: Actor, taken: HetuTaken) -> None:
    """Log the answer "henkilötunnus … already belongs to client N" as a view of client N.

    The opening's own unit of work is rolled back with the error, so the caller records this in
    a unit of its own before the error reaches the user.
    """
    access.record_view(session, actor, "client.open.duplicate", [taken.client_id],
                       subject=f"client:{taken.client_id}", detail={"hetu": taken.masked_hetu})


@dataclass(frozen=True)
class Opening:
    """One person's opening as :func:`open_client` takes it; :func:`open_clients` opens many
    (a county moving its clients in)."""

    hetu: str
    name: str
    iban: str
    criterion: str
    worker: str
    start_on: date | None = None
    until_on: date | None = None
    review_on: date | None = None
    language: str = "fi"
    exclusions: dict | None = None
    despite: str | None = None
    criterion_reason: str | None = None


def open_client(session: Session, actor: Actor, *, today: date | None = None,
                notes: list[str] | None = None, **fields) -> dict:
    """Open the service for a person (``fields``: those of :class:`Opening`); returns the
    client's card and ``warnings`` for the user. When payment files will carry the name in
    another form, ``notes`` gets a line saying so."""
    return open_clients(session, actor, [Opening(**fields)], today=today, notes=notes)[0]


def open_clients(session: Session, actor: Actor, openings: Sequence[Opening], *,
                 today: date | None = None, notes: list[str] | None = None) -> list[dict]:
    """Open the service for each person, in order, with the checks, rows and audit entries of
    as many :func:`open_client` calls; the settings and the workers are read once a call and
    the identity codes looked up together. Nothing is written unless every opening passes."""
    actor.require("client.open")
    today = today or date.today()
    max_chars = get_int(session, "free_text_max_chars")
    workers: set[str] = set()
    checked = [_checked_opening(session, opening, today, max_chars, workers)
               for opening in openings]
    _refuse_taken(session, checked)

    # The reference is made from the id, which exists only after the insert: write unique
    # placeholders first, then the real values, all in this one transaction.
    rows = []
    for opening, payment, answers, _described in checked:
        token = uuid.uuid4().hex
        rows.append(Client(
            hetu=opening.hetu, name=opening.name, payment_name=payment, iban=opening.iban,
            bic=bic_for_iban(opening.iban), language=opening.language,
            criterion=opening.criterion, criterion_reason=opening.criterion_reason,
            worker=opening.worker, start_on=opening.start_on, until_on=opening.until_on,
            review_on=opening.review_on, reference="x" + token[:19],
            rf_reference="x" + token[:24], ledger_code="x:" + token, exclusions=answers,
            status="open", created_by=actor.name))
    session.add_all(rows)
    session.flush()
    for client in rows:
        client.reference = client_reference(client.id)
        client.rf_reference = rf_from_finnish(client.reference)
        client.ledger_code = client_account(client.id)
    session.flush()
    for client in rows:
        ledger.open_account(session, client.ledger_code, "liability", name=f"client {client.id}",
                            no_negative=True)

    cards = [_card(client) for client in rows]
    audit.record_each(session, actor.name, "client.open", [
        (client.id, f"client:{client.id}",
         {"old": None, "new": card, "criterion_reason": client.criterion_reason})
        for client, card in zip(rows, cards)])
    results = []
    for (opening, payment, answers, described), card in zip(checked, cards):
        if payment != opening.name and notes is not None:
            notes.append(_("payment files carry the client's name as {name}").format(
                name=repr(payment)))
        results.append({**card, "warnings": _opening_warnings(answers, described)})
    return results


def _checked_opening(session: Session, opening: Opening, today: date, max_chars: int,
                     workers: set[str]) -> tuple[Opening, str, dict, str]:
    """The opening with its values checked and cleaned, the name's payment form, the
    exclusion answers and what applies described; ``workers`` holds the workers already
    checked in this call."""
    start_on = opening.start_on or today
    hetu = validate_hetu(opening.hetu)
    name = check_name(opening.name, "client name")
    payment = payment_name(name, "client name")
    iban = validate_iban(opening.iban)
    criterion, language = opening.criterion, opening.language
    if criterion not in CRITERIA:
        raise ValidationError(_("criterion {criterion} is not one of {choices}").format(
            criterion=repr(criterion), choices=", ".join(CRITERIA)))
    if language not in LANGUAGES:
        raise ValidationError(_("language {language} is not one of {choices}").format(
            language=repr(language), choices=", ".join(LANGUAGES)))
    if opening.worker not in workers:
        _check_worker(session, opening.worker)
        workers.add(opening.worker)
    _check_term(criterion, start_on, opening.until_on)
    criterion_reason = free_text(opening.criterion_reason, "--criterion-reason",
                                      max_chars=max_chars, required=False)
    if criterion == "other_weighty" and criterion_reason is None:
        raise ValidationError(_("criterion other_weighty needs the reason (--criterion-reason), "
                                "e.g. securing a debt-restructuring programme"))
    _check_review(opening.review_on, today)
    answers, described = _checked_exclusions(hetu, start_on, opening.exclusions,
                                             opening.despite, max_chars)
    return (replace(opening, hetu=hetu, name=name, iban=iban, start_on=start_on,
                    criterion_reason=criterion_reason), payment, answers, described)


def _refuse_taken(session: Session, checked: Sequence[tuple[Opening, str, dict, str]]) -> None:
    """Refuse an identity code given twice, and (:class:`HetuTaken`) the first one that
    already belongs to a client."""
    hetus = [opening.hetu for opening, *_rest in checked]
    seen: set[str] = set()
    for hetu in hetus:
        if hetu in seen:
            raise ValidationError(_("henkilötunnus {hetu} is given twice").format(
                hetu=mask_hetu(hetu)))
        seen.add(hetu)
    existing = {row.hetu: row for row in select_in(
        session, select(Client.hetu, Client.id, Client.status), Client.hetu, hetus)}
    for hetu in hetus:
        if hetu in existing:
            row, masked = existing[hetu], mask_hetu(hetu)
            raise HetuTaken(_("henkilötunnus {hetu} already belongs to client {client} "
                              "({status})").format(hetu=masked, client=row.id,
                                                   status=row.status), row.id, masked)


def _checked_exclusions(hetu: str, start_on: date, exclusions: dict | None,
                        despite: str | None, max_chars: int) -> tuple[dict, str]:
    """The exclusion answers with the ``--despite`` reason, and what applies described; an
    exclusion that applies without a reason is refused."""
    answers, age = _exclusion_answers(hetu, start_on, exclusions)
    applying = [key for key in EXCLUSIONS if answers[key] is True]
    despite = free_text(despite, "--despite reason", max_chars=max_chars, required=False)
    described = _both(*(_describe(key, age, start_on) for key in applying))
    if applying and despite is None:
        raise ValidationError(
            _("exclusion applies: the client {exclusion}; the service is not meant for them — "
              'to open it anyway give --despite "reason"').format(exclusion=described)
        )
    answers["despite"] = despite
    return answers, described


def _both(*texts: str) -> str:
    """``a and b and c`` in the current language (empty for none)."""
    joined = ""
    for text in texts:
        joined = _("{first} and {second}").format(first=joined, second=text) if joined else text
    return joined


def _opening_warnings(answers: dict, described: str) -> list[str]:
    warnings = []
    if described:
        warnings.append(_("opened despite exclusion: the client {exclusion}; reason: {reason}")
                        .format(exclusion=described, reason=answers["despite"]))
    not_asked = [key for key in ASKED_EXCLUSIONS if answers[key] is None]
    if not_asked:
        warnings.append(_("exclusion questions not answered, recorded as not asked: "
                          "{questions}").format(questions=", ".join(not_asked)))
    return warnings


def _check_worker(session: Session, worker: str) -> None:
    role = session.execute(select(User.role).where(User.name == worker)).scalar_one_or_none()
    if role is None:
        raise ValidationError(_("worker {worker} is not a registered user").format(
            worker=repr(worker)))
    if role != "social_worker":
        raise ValidationError(_("worker {worker} is a {role}, not a social_worker").format(
            worker=worker, role=role))


def _check_review(review_on: date | None, today: date) -> None:
    if review_on is None:
        raise ValidationError(_("give the date the need for the service is next reviewed "
                                "(--review DATE)"))
    if review_on < today:
        raise ValidationError(_("review date {day} is in the past").format(
            day=format_fi_date(review_on)))


def _check_term(criterion: str, start_on: date, until_on: date | None,
                option: str = "--until") -> None:
    if until_on is not None and until_on <= start_on:
        raise ValidationError(_("end date {day} must be after the start {start}").format(
            day=format_fi_date(until_on), start=format_fi_date(start_on)))
    if criterion != FIXED_TERM:
        return
    shortest, longest = FIXED_TERM_MONTHS
    if until_on is None:
        raise ValidationError(_("criterion {criterion} is fixed-term: give {option} "
                                "{shortest}–{longest} months after the start").format(
            criterion=FIXED_TERM, option=option, shortest=shortest, longest=longest))
    # relativedelta keeps month ends: 31.8. + 3 months is 30.11.
    earliest = start_on + relativedelta(months=shortest)
    latest = start_on + relativedelta(months=longest)
    if not earliest <= until_on <= latest:
        raise ValidationError(
            _("criterion {criterion} runs {shortest}–{longest} months: {option} {day} is not "
              "between {earliest} and {latest} (start {start})").format(
                criterion=FIXED_TERM, shortest=shortest, longest=longest, option=option,
                day=format_fi_date(until_on), earliest=format_fi_date(earliest),
                latest=format_fi_date(latest), start=format_fi_date(start_on))
        )


def _exclusion_answers(hetu: str, start_on: date, given: dict | None) -> tuple[dict, int]:
    given = dict(given or {})
    unknown = sorted(set(given) - set(ASKED_EXCLUSIONS))
    if unknown:
        message = (N_("unknown exclusion {names} (computed from the henkilötunnus); the "
                      "questions are {questions}") if unknown == ["elderly"] else
                   N_("unknown exclusion {names}; the questions are {questions}"))
        raise ValidationError(_(message).format(names=", ".join(unknown),
                                                questions=", ".join(ASKED_EXCLUSIONS)))
    answers: dict = {}
    for key in ASKED_EXCLUSIONS:
        value = given.get(key)
        if value is not None and not isinstance(value, bool):
            raise ValidationError(_("exclusion {name} must be yes, no or not asked").format(
                name=key))
        answers[key] = value
    age = age_on(hetu, start_on)
    answers["elderly"] = age >= ELDERLY_AGE
    return answers, age


def _describe(key: str, age: int, start_on: date) -> str:
    if key == "elderly":
        return _("is elderly ({age} on {day}; direct debit or a continuing power of attorney "
                 "first)").format(age=age, day=format_fi_date(start_on))
    return _(EXCLUSION_TEXT[key])


def _card(client: Client) -> dict:
    """What opening records and returns: no identity code in clear."""
    answers = client.exclusions or {}
    return {
        "client": client.id,
        "name": client.name,
        "payment_name": shown_payment_name(client.name, client.payment_name),
        "hetu": mask_hetu(client.hetu),
        "reference": client.reference,
        "rf_reference": client.rf_reference,
        "iban": client.iban,
        "criterion": client.criterion,
        "worker": client.worker,
        "start_on": client.start_on,
        "until_on": client.until_on,
        "review_on": client.review_on,
        "language": client.language,
        **{key: answer_text(answers.get(key)) for key in EXCLUSIONS},
        "despite": answers.get("despite"),
    }


# --- reading ------------------------------------------------------------------------------------


def list_clients(session: Session, actor: Actor, *, status: str | None = None) -> list[dict]:
    """All clients (or those with ``status``), with masked identity codes and balances.

    The listing is one audit entry (``client.list``) naming the clients shown, not one per
    client: a county lists thousands at once.
    """
    actor.require("client.read")
    if status is not None and status not in ("open", "closed"):
        raise ValidationError(_("status {status} is not open or closed").format(
            status=repr(status)))
    query = select(Client).where(access.visible(actor)).order_by(Client.id)
    if status is not None:
        query = query.where(Client.status == status)
    balances = {b.code: b.balance_cents for b in ledger.balances(session, prefix=CLIENT_PREFIX)}
    rows = [
        {"client": c.id, "name": c.name, "hetu": mask_hetu(c.hetu), "reference": c.reference,
         "status": c.status, "worker": c.worker,
         "balance_cents": balances.get(c.ledger_code, 0)}
        for c in session.execute(query).scalars()
    ]
    access.record_view(session, actor, "client.list", [r["client"] for r in rows],
                       subject="clients", detail={"status": status})
    return rows


# --- closing ------------------------------------------------------------------------------------


def close_client(session: Session, actor: Actor, client: str | int, *, closed_on: date,
                 final_payout: bool = False, reason: str | None = None, note: str | None = None,
                 payout_to: str | None = None, payee: str | None = None) -> dict:
    """End the service. Refused while money is held, unless the batch is to pay it out
    (``final_payout``, or a payout to ``payee``'s account ``payout_to``: see ``periods``).

    The ended period is written with its ``reason`` (``periods.record_closing``). The result
    names the obligations closing cancelled (``cancelled``) and those it left open because
    they are partly paid (``left_open``)."""
    actor.require("client.close")
    reason, note, payout = periods.checked_closing(session, reason, note, payout_to, payee)
    final_payout = final_payout or payout.iban is not None
    found = resolve_client(session, client, for_update=True)
    require_open(found)
    if closed_on < found.start_on:
        raise ValidationError(_("closing date {day} is before the start {start}").format(
            day=format_fi_date(closed_on), start=format_fi_date(found.start_on)))
    balance = ledger.balance(session, found.ledger_code)
    if balance != 0 and not final_payout:
        raise Conflict(_("client {client} still holds {amount}; pay it out first or close "
                         "with --final-payout").format(client=found.id,
                                                       amount=format_fi(balance)))
    old = {"status": found.status, "closed_on": None, "final_payout": found.final_payout}
    found.status = "closed"
    found.closed_on = closed_on
    found.final_payout = final_payout
    session.flush()
    cancelled, left_open = _end_obligations(session, found.id, closed_on)
    period = periods.record_closing(session, actor, found, reason=reason, note=note,
                                    payout=payout)
    new = {"status": "closed", "closed_on": closed_on, "final_payout": final_payout}
    audit.record(session, actor.name, "client.close", client_id=found.id,
                 subject=f"client:{found.id}",
                 detail={"old": old, "new": new, "balance_cents": balance,
                         "cancelled": cancelled, "left_open": left_open,
                         "period": period.number, "reason": reason, "note": note,
                         **periods.payout_row(period)})
    return {"client": found.id, **new, "balance_cents": balance, "cancelled": cancelled,
            "left_open": left_open}


def _end_obligations(session: Session, client_id: int, last_on: date
                     ) -> tuple[list[str], list[str]]:
    """Cancel the client's open obligations with a pay day after ``last_on`` that nothing has
    paid; (keys cancelled, keys left open because something has)."""
    rows = session.execute(
        select(Obligation.id, Obligation.key, Obligation.paid_cents)
        .where(Obligation.client_id == client_id, Obligation.status == "open",
               Obligation.pay_on > last_on)
        .order_by(Obligation.pay_on, Obligation.key)).all()
    unpaid = [row for row in rows if row.paid_cents == 0]
    if unpaid:
        table = Obligation.__table__
        session.execute(table.update().where(table.c.id.in_([row.id for row in unpaid]))
                        .values(status="cancelled"))
    return [row.key for row in unpaid], [row.key for row in rows if row.paid_cents != 0]


# --- the access history -------------------------------------------------------------------------


def access_log(session: Session, actor: Actor, client: str | int | None = None,
               limit: int | None = None) -> list[dict]:
    """The audit trail, or one client's access history (Client Data Act 703/2023 §§ on logs):
    the entries about the client and the views that showed the client among others
    (``access.history``).

    Reading it is itself a view of the client's data and is recorded after the rows are read.
    """
    actor.require("audit.read")
    client_id = resolve_client(session, client).id if client is not None else None
    if client_id is None:
        rows = audit.log(session, None, limit)
    else:
        rows = access.history(session, client_id, limit)
    audit.record(session, actor.name, "audit.view", client_id=client_id,
                 subject=f"client:{client_id}" if client_id is not None else "audit_log",
                 detail={"entries": len(rows)})
    return rows
