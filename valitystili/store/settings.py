"""Deployment settings: defaults here, overrides stored in the ``settings`` table.

Everything a county may need to tune lives in ``DEFAULTS`` with its meaning; nothing else in
the code hard-codes these values.

Settings change only through ``trust.configuration.put()`` (``settings set``, admins): the value is checked against
the kind of its default (yes/no, a whole number, a choice) and each change is an audit entry
(subject ``setting:<key>``) holding the new state, ``{"state": {"value": …}}``. ``audit
verify`` compares the ``settings`` rows with it, so a value changed behind the service's back
(``four_eyes`` switched off by plain SQL, say) is a finding.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from valitystili.base import text
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _
from valitystili.store.models import Setting

APPEAL_FI = (
    "OIKAISUVAATIMUSOHJE\n"
    "Tähän päätökseen tyytymätön voi hakea siihen oikaisua. Oikaisuvaatimus tehdään "
    "kirjallisesti osoitettuna: {authority}. Oikaisuvaatimus on tehtävä 30 päivän kuluessa "
    "päätöksen tiedoksisaannista. Kirjeellä lähetetyn päätöksen katsotaan tulleen tiedoksi "
    "seitsemäntenä päivänä sen lähettämisestä, jollei muuta näytetä. Oikaisuvaatimuksessa "
    "ilmoitetaan päätös, johon haetaan oikaisua, miten päätöstä halutaan muutettavaksi ja "
    "millä perusteilla, sekä tekijän nimi ja yhteystiedot. Oikaisuvaatimus on maksuton.")
APPEAL_SV = (
    "ANVISNING FÖR BEGÄRAN OM OMPRÖVNING\n"
    "Den som är missnöjd med detta beslut kan begära omprövning av det. Begäran görs "
    "skriftligen till: {authority}. Begäran ska göras inom 30 dagar från delfåendet av "
    "beslutet. Ett beslut som sänts per brev anses ha kommit till mottagarens kännedom den "
    "sjunde dagen efter att det sänts, om inte något annat visas. I begäran anges det beslut "
    "som avses, hur beslutet ska ändras och på vilka grunder, samt namn och kontaktuppgifter. "
    "Begäran om omprövning är avgiftsfri.")
APPEAL_EN = (
    "HOW TO REQUEST A REVIEW (oikaisuvaatimusohje)\n"
    "If you are not satisfied with this decision you may request that it be reviewed. Send "
    "a written request to: {authority}. The request must be made within 30 days of receiving "
    "the decision. A decision sent by letter is deemed received on the seventh day after it "
    "was sent, unless shown otherwise. State the decision concerned, how you want it changed "
    "and why, and your name and contact details. Requesting a review is free of charge.")

DEFAULTS: dict[str, tuple[str, str]] = {
    "four_eyes": ("true", N_("a batch must be approved by another handler than the one who ran it")),
    "handler_exports": ("false", N_("handlers may export payment files too (by default finance "
                                    "exports them: the bank upload is a third person's step)")),
    "debtor_name": ("Välitystili", N_("payer name in payment files (the city or county)")),
    "initiating_party_id": ("", N_("service id / Y-tunnus for pain.001 InitgPty (empty: none)")),
    "pain_version": ("09", N_("pain.001 version: 09 or 03")),
    "uncleared_after_banking_days": ("3", N_("an exported order not seen leaving the bank by then is flagged")),
    "suspense_flag_after_days": ("5", N_("unattributed money older than this is a reconciliation finding")),
    "income_amount_tolerance_cents": ("500", N_("an expected income without a tolerance of its own "
                                         "matches within the larger of this many cents and "
                                         "income_amount_tolerance_percent")),
    "income_amount_tolerance_percent": ("20", N_("… and this share (%) of its expected amount")),
    "income_window_days": ("5", N_("expected income matches within this many days of its date")),
    "income_missing_after_banking_days": ("1", N_("an expected income not matched by the end of its "
                                             "arrival day is missing this many banking days later")),
    "late_days": ("3", N_("an income without a fixed day (4-week or 25-day cycle) counts in the "
                          "reserve this many banking days after its expected day")),
    "intraday_statements": ("false", N_("an intraday report (camt.052 or FinTS) is imported before "
                                        "each batch, so Kela's money is seen the day it arrives")),
    "funds_accumulating_cents": ("200000", N_("a client balance above this raises a flag")),
    "review_warning_days": ("14", N_("plans due for review within this many days are flagged")),
    "fixed_term_warning_days": ("30", N_("fixed-term services ending within this many days are flagged")),
    "lease_warning_days": ("60", N_("leases ending within this many days are flagged")),
    # The appeal instructions a decision's text for the client carries (people.decisions):
    # one template per language; {authority} is replaced by appeal_authority.
    "appeal_authority": ("Hyvinvointialueen sosiaali- ja terveyslautakunnan yksilöjaosto",
                         N_("where a request for review (oikaisuvaatimus) of a decision is sent")),
    "appeal_instructions_fi": (APPEAL_FI, N_("appeal instructions (oikaisuvaatimusohje) in Finnish "
                                             "decisions; {authority}: appeal_authority")),
    "appeal_instructions_sv": (APPEAL_SV, N_("… in Swedish decisions (anvisning för begäran om "
                                             "omprövning)")),
    "appeal_instructions_en": (APPEAL_EN, N_("… in English decisions")),
    "free_text_max_chars": ("2000", N_("comments, reasons and other free texts are at most this long")),
    # The sender of the client's monthly letter (report statement); empty: left out.
    "letter_organisation": ("", N_("the letter's sender, e.g. Vaasan kaupunki, sosiaalipalvelut "
                                   "(empty: debtor_name)")),
    "letter_organisation_sv": ("", N_("the sender in Swedish letters, e.g. Vasa stad, "
                                      "socialtjänsten (empty: letter_organisation)")),
    "letter_organisation_en": ("", N_("the sender in English letters (empty: letter_organisation)")),
    "letter_handler": ("", N_("the account handler's name the letter is signed with (empty: none)")),
    "letter_phone": ("", N_("the phone number the letter gives for questions (empty: none)")),
    "letter_hours": ("", N_("when that phone is answered, in Finnish, e.g. ma–pe klo 9–11 "
                            "(empty: not said)")),
    "letter_hours_sv": ("", N_("… in Swedish letters, e.g. mån–fre kl. 9–11 (empty: letter_hours)")),
    "letter_hours_en": ("", N_("… in English letters, e.g. Mon–Fri 9–11 (empty: letter_hours)")),
    "lock_timeout_seconds": ("30", N_("a command waits this long for another user's work on the "
                                      "ledger (a lock) and then gives up with exit 3 (0: no limit)")),
    # Retention (people.retention): DESIGN §10 names no period; 6 years is the accounting
    # vouchers' (kirjanpitolaki 2:10 §). Set the county's own period from its records plan.
    "retention_years_after_closing": ("6", N_("a closed client's personal data is anonymised this "
                                              "many years after the service closed "
                                              "(`client anonymise --due`)")),
}


def get(session: Session, key: str) -> str:
    if key not in DEFAULTS:
        raise ValidationError(_("unknown setting {key}").format(key=repr(key)))
    stored = session.execute(select(Setting.value).where(Setting.key == key)).scalar_one_or_none()
    return DEFAULTS[key][0] if stored is None else stored


def get_int(session: Session, key: str) -> int:
    return int(get(session, key))


def get_bool(session: Session, key: str) -> bool:
    return get(session, key).lower() in ("1", "true", "yes", "on")


#: Settings whose value is one of a few words.
CHOICES: dict[str, tuple[str, ...]] = {"pain_version": ("09", "03")}
BOOLEANS = ("true", "false")
#: Settings that go into payment files as names: stored in their payment form.
PAYMENT_NAMES = ("debtor_name",)
#: Longest value stored (the widest text setting, a payer name, is 70 characters in pain.001).
MAX_VALUE_CHARS = 140
#: Settings that are texts of several lines (templates), and their longest value.
TEXTS = ("appeal_instructions_fi", "appeal_instructions_sv", "appeal_instructions_en")
MAX_TEXT_CHARS = 4000
#: A setting named in a refusal of its value.
SETTING = N_("setting {key}")


def checked(key: str, value: str) -> str:
    """The value as stored, or a ``ValidationError`` saying what this setting takes."""
    if key not in DEFAULTS:
        raise ValidationError(_("unknown setting {key}; known: {known}").format(
            key=repr(key), known=", ".join(sorted(DEFAULTS))))
    value = value.strip()
    default = DEFAULTS[key][0]
    if key in CHOICES:
        if value not in CHOICES[key]:
            raise ValidationError(_("setting {key} is one of {choices}, not {value}").format(
                key=key, choices=", ".join(CHOICES[key]), value=repr(value)))
    elif default in BOOLEANS:
        value = value.lower()
        if value in ("yes", "on", "1"):
            value = "true"
        elif value in ("no", "off", "0"):
            value = "false"
        if value not in BOOLEANS:
            raise ValidationError(_("setting {key} is true or false, not {value}")
                                  .format(key=key, value=repr(value)))
    elif default.isdigit():
        if not value.isdigit() or len(value) > 12:
            raise ValidationError(_("setting {key} is a whole number of 0 or more, not {value}")
                                  .format(key=key, value=repr(value)))
        value = str(int(value))
    elif key in TEXTS:
        value = text.free_text(value, _(SETTING).format(key=key), max_chars=MAX_TEXT_CHARS,
                               multiline=True)
    elif len(value) > MAX_VALUE_CHARS or any(not ch.isprintable() for ch in value):
        raise ValidationError(_("setting {key} is one line of at most {most} printable "
                                "characters").format(key=key, most=MAX_VALUE_CHARS))
    if key in PAYMENT_NAMES:
        what = _(SETTING).format(key=key)
        value = text.payment_name(text.clean_line(value, what), what)
    return value


def all_settings(session: Session) -> list[dict]:
    stored = dict(session.execute(select(Setting.key, Setting.value)).all())
    return [{"key": k, "value": stored.get(k, default), "default": default, "meaning": meaning}
            for k, (default, meaning) in DEFAULTS.items()]


def free_text(session: Session, value: str | None, what: str, *, multiline: bool = False,
              required: bool = True) -> str | None:
    """A comment or reason checked by ``text.free_text``, capped at ``free_text_max_chars``."""
    return text.free_text(value, what, max_chars=get_int(session, "free_text_max_chars"),
                             multiline=multiline, required=required)
