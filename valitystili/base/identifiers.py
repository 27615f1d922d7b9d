"""Identifiers: Finnish and RF payment references, IBAN and BIC, henkilötunnus.

Rules of this module:

- Every ``validate_*`` function returns the normalized form to store and compare (spaces removed,
  upper case) or raises ``ValidationError`` with one specific line. The libraries do the checking:
  schwifty for IBAN/BIC (with ``validate_bban=True``, which also checks the Finnish national Luhn
  digit that plain mod-97 misses), ``stdnum.iso11649`` for RF references and ``stdnum.fi.hetu``
  for identity codes. Only the Finnish reference's 7-3-1 check digit is computed here, because
  python-stdnum has no module for it.
- **Finnish reference** (viitenumero): 4–20 ASCII digits including the check digit; spaces are
  removed; leading zeros are kept as given (banks accept them, and KTL/TITO files pad references
  with zeros to 20 digits), but an all-zero reference is refused. Printed in groups of five from
  the right (``123 45672``). References we *create* never start with zero, because a bank treats
  ``012344`` and ``12344`` as the same reference.
- **RF reference** (ISO 11649): ``RF`` + two check digits + up to 21 letters or digits, mod 97-10;
  surrounding and inner spaces are removed (bank samples carry ``RF7812345 ``).
  :func:`rf_from_finnish` wraps a valid Finnish reference unchanged (``3900`` → ``RF463900``).
- :func:`classify_reference` names the ISO 20022 reference type: ``SCOR`` (Finnish) or ``ISO``
  (RF), the two values ``CdtrRefInf/Tp`` takes in camt and pain files.
- **Client references**: :func:`client_reference` makes the Finnish reference that tells incoming
  money which client it belongs to: base = prefix ``1`` + the client number zero-padded to seven
  digits, then the check digit (client 42 → base ``10000042`` → ``100000421``). The prefix keeps
  the padding zeros from being leading zeros, the fixed width keeps every client's reference the
  same length, and distinct client numbers always give distinct references. Numbers of eight or
  more digits simply make a longer base, which cannot collide with the seven-digit ones.
- **Henkilötunnus**: DDMMYY, century sign (``+`` 1800s; ``-`` Y X W V U 1900s; A–F 2000s), a
  three-digit individual number and a check character. Temporary codes (individual number 900–999)
  are accepted by default because clients may hold one; :func:`is_temporary_hetu` tells them
  apart. Error messages never contain a whole identity code, only the masked form
  (``131052-****``), because errors end up in logs and cron mail.
"""

from __future__ import annotations

from collections.abc import Iterator

import re
from datetime import date

from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_errors
from stdnum import exceptions as stdnum_errors
from stdnum import iso11649
from stdnum.fi import hetu as stdnum_hetu
from stdnum.iso7064 import mod_97_10

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _

# --- Finnish reference numbers -------------------------------------------------------------------

#: Prefix of the references made by :func:`client_reference`; other kinds of reference the service
#: may need later can take another leading digit without ever colliding with client references.
CLIENT_REFERENCE_PREFIX = "1"
#: Width the client number is zero-padded to inside a client reference.
CLIENT_REFERENCE_WIDTH = 7

_WEIGHTS = (7, 3, 1)
BASE_NOT_DIGITS = N_("reference base {base} must consist of digits only")
# Spaces people type or paste between digit groups (space, NO-BREAK SPACE, NARROW NO-BREAK SPACE).
_SPACES_RE = re.compile("[ \u00a0\u202f]")
_DIGITS_RE = re.compile("[0-9]+")  # ASCII only: \d and str.isdigit also take other scripts' digits


def reference_check_digit(base: str) -> int:
    """The 7-3-1 check digit of a Finnish reference base (``1234567`` → 2)."""
    if not _DIGITS_RE.fullmatch(base):
        raise ValidationError(_(BASE_NOT_DIGITS).format(base=repr(base)))
    # Weights 7, 3, 1, 7, 3, 1… from the rightmost digit leftwards.
    total = sum(
        int(digit) * _WEIGHTS[position % 3] for position, digit in enumerate(reversed(base))
    )
    return -total % 10


def make_reference(base: str) -> str:
    """Base of 3–19 digits, no leading 0, plus check digit: ``1234567`` → ``12345672``."""
    if not _DIGITS_RE.fullmatch(base):
        raise ValidationError(_(BASE_NOT_DIGITS).format(base=repr(base)))
    if not 3 <= len(base) <= 19:
        raise ValidationError(_("reference base {base} has {count} digits; it needs 3–19")
                              .format(base=base, count=len(base)))
    if base.startswith("0"):
        # Banks ignore leading zeros, so such a reference would not be the one we think we made.
        raise ValidationError(_("reference base {base} must not start with 0").format(base=base))
    return base + str(reference_check_digit(base))


def validate_finnish_reference(text: str) -> str:
    """Check a Finnish reference number and return it without spaces (leading zeros kept)."""
    reference = _SPACES_RE.sub("", text.strip())
    if not _DIGITS_RE.fullmatch(reference):
        raise ValidationError(_("reference {reference} must consist of digits only")
                              .format(reference=repr(text.strip())))
    if not 4 <= len(reference) <= 20:
        raise ValidationError(
            _("reference {reference} has {count} digits; a Finnish reference has 4–20")
            .format(reference=reference, count=len(reference))
        )
    if reference.strip("0") == "":
        raise ValidationError(_("reference {reference} is all zeros").format(reference=reference))
    base, check = reference[:-1], int(reference[-1])
    expected = reference_check_digit(base)
    if check != expected:
        raise ValidationError(
            _("reference {reference} has a wrong check digit (expected {expected})")
            .format(reference=reference, expected=f"{base}{expected}")
        )
    return reference


def format_reference(text: str) -> str:
    """A Finnish reference in groups of five from the right (``2345678917`` → ``23456 78917``)."""
    reference = validate_finnish_reference(text)
    head = len(reference) % 5
    groups = ([reference[:head]] if head else []) + [
        reference[i : i + 5] for i in range(head, len(reference), 5)
    ]
    return " ".join(groups)


# --- RF creditor references (ISO 11649) ---------------------------------------------------------


def rf_from_finnish(reference: str) -> str:
    """The RF form of a Finnish reference (``12345672`` → ``RF8512345672``)."""
    finnish = validate_finnish_reference(reference)
    # ISO 11649 computes the check over the reference followed by "RF"; mod_97_10 gives the two
    # digits that make that string valid.
    return "RF" + mod_97_10.calc_check_digits(finnish + "RF") + finnish


def validate_rf(text: str) -> str:
    """Check an RF reference; return it compact, upper case (``rf78 12345 `` → ``RF7812345``)."""
    compact = iso11649.compact(text)
    try:
        return iso11649.validate(compact)
    except stdnum_errors.InvalidChecksum:
        body = compact[4:]
        expected = "RF" + mod_97_10.calc_check_digits(body + "RF") + body
        raise ValidationError(
            _("RF reference {reference} has wrong check digits (expected {expected})")
            .format(reference=compact, expected=expected)
        ) from None
    except stdnum_errors.InvalidLength:
        raise ValidationError(
            _("RF reference {reference} has {count} characters; it needs 5–25")
            .format(reference=compact, count=len(compact))
        ) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(
            _("RF reference {reference} must be RF, two check digits and letters or digits")
            .format(reference=repr(compact))
        ) from None


def classify_reference(text: str) -> tuple[str, str]:
    """``("ISO", rf)`` for an RF reference, ``("SCOR", reference)`` for a Finnish one."""
    stripped = text.strip()
    if stripped[:2].upper() == "RF":
        return "ISO", validate_rf(stripped)
    if _DIGITS_RE.fullmatch(_SPACES_RE.sub("", stripped)):
        return "SCOR", validate_finnish_reference(stripped)
    raise ValidationError(
        _("reference {reference} is neither a Finnish reference number (digits) nor an RF "
          "reference (RF…)").format(reference=repr(stripped))
    )


def client_reference(client_number: int) -> str:
    """The Finnish reference for a client number (42 → ``100000421``; see the module rules)."""
    if isinstance(client_number, bool) or not isinstance(client_number, int):
        raise TypeError(f"client number must be an int, got {client_number!r}")
    if client_number < 1:
        raise ValidationError(_("client number {number} must be positive")
                              .format(number=client_number))
    base = CLIENT_REFERENCE_PREFIX + f"{client_number:0{CLIENT_REFERENCE_WIDTH}d}"
    if len(base) > 19:
        raise ValidationError(_("client number {number} is too large for a reference")
                              .format(number=client_number))
    return make_reference(base)


# --- IBAN and BIC --------------------------------------------------------------------------------


def validate_iban(text: str) -> str:
    """Check an IBAN, including the national check digit, and return it compact upper case."""
    error: str | None = None
    try:
        return IBAN(text, validate_bban=True).compact
    except schwifty_errors.InvalidBBANChecksum:
        problem = N_("IBAN {iban} has a wrong national check digit")
    except schwifty_errors.InvalidChecksumDigits:
        problem = N_("IBAN {iban} has wrong check digits")
    except schwifty_errors.InvalidLength:
        problem = N_("IBAN {iban} has the wrong length for its country")
    except schwifty_errors.InvalidCountryCode:
        problem = N_("IBAN {iban} has an unknown country code")
    except schwifty_errors.InvalidStructure:
        problem = N_("IBAN {iban} contains characters an IBAN cannot have")
    except schwifty_errors.SchwiftyException as failure:
        problem, error = N_("IBAN {iban} is not valid ({error})"), str(failure)
    shown = _SPACES_RE.sub("", text.strip()).upper()
    raise ValidationError(_(problem).format(iban=shown, error=error))


#: What retention (``people.retention``) puts in place of a client's name, IBAN and texts.
ANONYMISED = "anonymised"


def format_iban(text: str) -> str:
    """An IBAN in groups of four (``FI21 1234 5600 0007 85``)."""
    if text == ANONYMISED:
        return text
    return IBAN(validate_iban(text)).formatted


def bic_for_iban(text: str) -> str | None:
    """The BIC of the bank holding the account, when schwifty's registry knows it."""
    bic = IBAN(validate_iban(text)).bic
    return None if bic is None else bic.compact


def validate_bic(text: str) -> str:
    """Check a BIC (8 or 11 characters, SWIFT-compliant) and return it compact upper case."""
    try:
        return BIC(text, enforce_swift_compliance=True).compact
    except schwifty_errors.SchwiftyException as error:
        shown = _SPACES_RE.sub("", text.strip()).upper()
        raise ValidationError(_("BIC {bic} is not valid ({error})").format(bic=shown, error=error)
                              ) from None


# --- Henkilötunnus -------------------------------------------------------------------------------

# Century of the birth year by the sign between date and individual number (reform of 2023 added
# Y X W V U and B–F). stdnum checks these but does not expose the birth date, hence this table.
_CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}

# A candidate identity code inside free text: not glued to other letters or digits, any case.
_HETU_IN_TEXT_RE = re.compile(
    r"(?<![0-9A-Za-z])([0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Za-z])(?![0-9A-Za-z])"
)


def validate_hetu(text: str, *, allow_temporary: bool = True) -> str:
    """Check a henkilötunnus and return it upper case (``010594y123w`` → ``010594Y123W``)."""
    compact = stdnum_hetu.compact(text)
    try:
        return stdnum_hetu.validate(compact, allow_temporary=allow_temporary)
    except stdnum_errors.InvalidFormat:
        # Not echoed at all: it may be a whole identity code with a typo in it.
        raise ValidationError(
            _("henkilötunnus is not in the form DDMMYYCNNNQ (e.g. 131052-308T)")
        ) from None
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            _("henkilötunnus {hetu} has a wrong check character").format(hetu=_mask(compact))
        ) from None
    except stdnum_errors.InvalidComponent:
        individual = int(compact[7:10])
        if individual < 2:
            problem = N_("henkilötunnus {hetu} has individual number {number}, which is never "
                         "issued")
        elif individual >= 900 and not allow_temporary:
            problem = N_("henkilötunnus {hetu} is a temporary code (individual number 900–999)")
        else:
            problem = N_("henkilötunnus {hetu} has a birth date that does not exist")
        raise ValidationError(_(problem).format(hetu=_mask(compact), number=compact[7:10])
                              ) from None


#: What an anonymised client's identity code is replaced with (``people.retention``):
#: ``X`` and the client number, never a valid code; shown as ``anonymised``.
ANONYMISED_HETU_PREFIX = "X"


def mask_hetu(text: str) -> str:
    """Birth date and century sign only: ``131052-308T`` → ``131052-****``."""
    if text.startswith(ANONYMISED_HETU_PREFIX):
        return ANONYMISED
    return _mask(validate_hetu(text))


def hetu_spans(text: str) -> Iterator[tuple[int, str]]:
    """(position, code in upper case) of each valid identity code in ``text``, in order."""
    upper = text.upper()
    start = 0
    while (code := find_hetu(upper[start:])) is not None:
        at = upper.find(code, start)
        if at < 0:  # pragma: no cover - find_hetu returns text taken from the message
            return
        yield at, code
        start = at + len(code)


def mask_hetus(message: str | None) -> str | None:
    """A text with every valid identity code in it masked (for output: a bank message, or what
    a person typed where a client number goes)."""
    if not message:
        return message
    parts, end = [], 0
    for at, code in hetu_spans(message):
        parts += [message[end:at], mask_hetu(code)]
        end = at + len(code)
    return "".join(parts) + message[end:]


def hetu_birth_date(text: str) -> date:
    """The birth date in a henkilötunnus (``010594Y123W`` → 1994-05-01)."""
    code = validate_hetu(text)
    return date(_CENTURIES[code[6]] + int(code[4:6]), int(code[2:4]), int(code[0:2]))


def is_temporary_hetu(text: str) -> bool:
    """True for a temporary identity code (individual number 900–999)."""
    return int(validate_hetu(text)[7:10]) >= 900


def find_hetu(text: str) -> str | None:
    """The first valid henkilötunnus inside free text (e.g. a payment message), upper case."""
    for match in _HETU_IN_TEXT_RE.finditer(text):
        if stdnum_hetu.is_valid(match[1], allow_temporary=True):
            return stdnum_hetu.compact(match[1])
    return None


def age_on(text: str, on: date) -> int:
    """Age in full years on a date; someone born on 29 February turns a year older on 1 March."""
    born = hetu_birth_date(text)
    if on < born:
        raise ValidationError(_("{day} is before the birth date of {hetu}")
                              .format(day=on.isoformat(), hetu=mask_hetu(text)))
    # Comparing (month, day) makes a 29 February birthday count as passed only from 1 March in
    # common years.
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _mask(compact: str) -> str:
    return compact[:7] + "****"
