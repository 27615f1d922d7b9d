"""The text of a handler's decision for the client, with its appeal instructions
(``client decision CLIENT``).

Rules of this module:

- The text is made from a ``decision`` record (``people.records``): by default the newest one
  that stands (not superseded), or the one named. It is in the client's language (``fi``,
  ``sv``, ``en``): the service, its start and end (or until further notice), the criterion
  (with its reason for ``other_weighty``), the grounds, the next review, the decision's
  reference and who made it.
- It always ends with the appeal instructions (oikaisuvaatimusohje) of that language: the
  template in the settings ``appeal_instructions_<language>``, where ``{authority}`` is
  replaced by the setting ``appeal_authority``. Nothing else in the template is interpreted.
- Reading the text is a view of the client's data and is audited (``client.decision.view``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from valitystili.base.dates import format_fi_date as fi
from valitystili.base.errors import NotFound, ValidationError
from valitystili.base.i18n import _
from valitystili.people.clients import resolve_client
from valitystili.people.records import records_of
from valitystili.store import settings
from valitystili.store.models import ClientRecord
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: The words of the decision text, per language.
WORDS = {
    "fi": {
        "title": "PÄÄTÖS: VÄLITYSTILIPALVELU",
        "client": "Asiakas", "number": "asiakasnumero", "dated": "Päätöksen päivämäärä",
        "reference": "Päätöksen numero",
        "decision": "Päätös", "granted": "Asiakkaalle myönnetään välitystilipalvelu {start} "
                                         "alkaen {end}.",
        "until": "{end} asti", "open_ended": "toistaiseksi",
        "criterion": "Peruste", "grounds": "Perustelut", "review": "Palvelun tarve arvioidaan "
                                                                  "uudelleen viimeistään",
        "by": "Päätöksen tekijä",
    },
    "sv": {
        "title": "BESLUT: FÖRMEDLINGSKONTO",
        "client": "Klient", "number": "klientnummer", "dated": "Beslutsdatum",
        "reference": "Beslutets nummer",
        "decision": "Beslut", "granted": "Klienten beviljas förmedlingskonto från och med "
                                         "{start} {end}.",
        "until": "till och med {end}", "open_ended": "tills vidare",
        "criterion": "Grund", "grounds": "Motivering", "review": "Behovet av tjänsten bedöms "
                                                                "på nytt senast",
        "by": "Beslutsfattare",
    },
    "en": {
        "title": "DECISION: INTERMEDIARY ACCOUNT SERVICE",
        "client": "Client", "number": "client number", "dated": "Date of decision",
        "reference": "Decision number",
        "decision": "Decision", "granted": "The client is granted the intermediary account "
                                           "service from {start} {end}.",
        "until": "until {end}", "open_ended": "until further notice",
        "criterion": "Criterion", "grounds": "Grounds", "review": "The need for the service "
                                                                 "is reviewed by",
        "by": "Decided by",
    },
}

#: The opening criteria (``models.CRITERIA``) as the decision names them.
CRITERIA_WORDS = {
    "fi": {"sublet": "välivuokra-asukas",
           "housing_condition": "välitystili on asunnon saamisen edellytys",
           "evictions": "useita häätöjä vuokravelan vuoksi",
           "other_weighty": "muu painava syy",
           "rent_debt_fixed_term": "toimeentulotuen ehto vuokravelan vuoksi (määräaikainen)"},
    "sv": {"sublet": "andrahandshyresgäst",
           "housing_condition": "förmedlingskontot är ett villkor för att få bostad",
           "evictions": "flera vräkningar på grund av hyresskuld",
           "other_weighty": "annat vägande skäl",
           "rent_debt_fixed_term": "villkor för utkomststöd på grund av hyresskuld "
                                   "(tidsbegränsat)"},
    "en": {"sublet": "a sublet tenant",
           "housing_condition": "the account is a condition for getting housing",
           "evictions": "several lost homes over rent debt",
           "other_weighty": "another weighty reason",
           "rent_debt_fixed_term": "a condition of social assistance for rent debt "
                                   "(fixed-term)"},
}


@dataclass(frozen=True)
class DecisionText:
    client: int
    record: int
    language: str
    text: str


def decision_text(session: Session, actor: Actor, client: str | int, *,
                  record: int | None = None) -> DecisionText:
    """The decision's text for the client, with the appeal instructions (audited view)."""
    actor.require("client.read")
    found = resolve_client(session, client)
    decision = _decision(session, found.id, record)
    language = found.language if found.language in WORDS else "fi"
    words = WORDS[language]
    d = decision.detail or {}
    criterion = d.get("criterion") or found.criterion
    reason = d.get("reason") or (found.criterion_reason if criterion == found.criterion
                                 else None)
    end = (words["until"].format(end=fi(decision.end_on)) if decision.end_on
           else words["open_ended"])
    lines = [
        words["title"], "",
        f"{words['client']}: {found.name} ({words['number']} {found.id})",
        f"{words['dated']}: {fi(decision.dated_on)}",
    ]
    if d.get("reference"):
        lines.append(f"{words['reference']}: {d['reference']}")
    lines += [
        "",
        f"{words['decision']}: " + words["granted"].format(start=fi(decision.start_on), end=end),
        f"{words['criterion']}: {CRITERIA_WORDS[language].get(criterion, criterion)}"
        + (f" ({reason})" if reason else ""),
        f"{words['grounds']}: {d.get('grounds')}",
        f"{words['review']} {fi(decision.review_on)}.",
        f"{words['by']}: {decision.created_by}",
        "",
        appeal_instructions(session, language),
    ]
    audit.record(session, actor.name, "client.decision.view", client_id=found.id,
                 subject=f"record:{decision.id}", detail={"language": language})
    return DecisionText(found.id, decision.id, language, "\n".join(lines) + "\n")


def appeal_instructions(session: Session, language: str) -> str:
    """The appeal instructions of ``language`` from the settings, the authority filled in."""
    template = settings.get(session, f"appeal_instructions_{language}")
    return template.replace("{authority}", settings.get(session, "appeal_authority"))


def _decision(session: Session, client_id: int, record: int | None) -> ClientRecord:
    decisions = records_of(session, client_id, "decision")
    if record is not None:
        for kept in decisions:
            if kept.record.id == record:
                return kept.record
        other = session.get(ClientRecord, record)
        if other is not None and other.client_id == client_id:
            raise ValidationError(_("record {record} is a {kind}, not a decision").format(
                record=record, kind=other.kind.replace("_", " ")))
        raise NotFound(_("client {client} has no record {record}").format(client=client_id,
                                                                            record=record))
    standing = [kept.record for kept in decisions if kept.superseded_by is None]
    if not standing:
        raise NotFound(_("client {client} has no decision recorded (client record {client} "
                         "decision …)").format(client=client_id))
    return standing[-1]
