"""Money at the edges: parsing euro amounts typed by people and formatting cents for output.

Rules of this module:

- Inside the service money is an ``int`` of euro cents. Floats are never accepted (a float given
  to a formatter is a bug and raises ``TypeError``); ``Decimal`` appears only in
  :func:`cents_to_decimal` for callers that need it at a boundary (XML, reports).
- Input accepts a decimal comma or a decimal point (``512,40``, ``512.40``), whole euros
  (``512``), one decimal (``1234.5``) and thousands grouped by a space, no-break space (U+00A0) or
  narrow no-break space (U+202F) in groups of three (``1 234,56``). A trailing ``€`` is allowed so
  that what :func:`format_fi` prints parses back. Only one kind of separator may appear besides
  the grouping space: ``1.234,56`` and ``1,234.56`` are refused because they are ambiguous.
- Amounts are **refused, never rounded**, when they have more than two decimals, and refused when
  empty, not a number (NaN, inf, letters), negative (except in :func:`parse_signed_amount`) or
  larger than :data:`MAX_AMOUNT_CENTS` in absolute value.
- Output for people: **one format everywhere a person reads** (tables, summaries, messages,
  errors, letters): :func:`format_fi`, ``1 234,56 €`` with U+00A0 NO-BREAK SPACE as the group
  separator and before ``€``, negatives with a hyphen-minus (``-1 234,56 €``). It is what CLDR
  (Babel 2.18) gives for fi_FI, and tests/base/test_money_one_format.py holds the two equal.
  A table writes the number alone (:func:`format_fi_number`, ``1 234,56``) under a header that
  ends in ``€``. :func:`format_plain` is for machines (``1234.56``, no grouping; CSV).
  :func:`format_locale` is the form for the user's language, ``fi``, ``sv`` or ``en``: the same
  ``1 234,56 €`` in all three, as CLDR gives for fi_FI, sv_FI and **en_FI** (English in
  Finland, not ``€1,234.56``): the tool's users are Finnish offices, so an amount reads the same
  in every language, matches the bank's and Kela's documents, and the comma is never a
  thousands separator anywhere (which :func:`parse_amount` could not read back).
- Counts a person reads (``1 234 entries``) are grouped the same way: :func:`format_count`.
- Formatting needs no library, so the command line's printing loads none (fast start, STYLE 13).
"""

from __future__ import annotations

import re
from decimal import Decimal

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import _

#: The largest amount (in absolute value) accepted anywhere: 10 000 000,00 €. Nothing a client
#: receives or pays comes near it, so a larger value is a typing slip (an extra digit or a pasted
#: account number), not money.
MAX_AMOUNT_CENTS = 1_000_000_000

# Grouping characters people and Babel use between thousands: space, NO-BREAK SPACE, NARROW
# NO-BREAK SPACE (newer CLDR data uses U+202F for some locales).
_GROUP = " \u00a0\u202f"

# ASCII digits only (\d would also take Arabic-Indic and other digits, which int() accepts).
# Either plain digits or correctly grouped thousands, then optionally one decimal separator and
# digits. The decimal digits are captured without a length limit so that "more than two decimals"
# can be reported as such instead of as "not a number".
_AMOUNT_RE = re.compile(
    rf"(?P<whole>[0-9]+|[0-9]{{1,3}}(?:[{_GROUP}][0-9]{{3}})+)(?:[.,](?P<fraction>[0-9]+))?"
)

# A trailing euro sign, as format_fi prints it, may follow the number.
_EURO_SUFFIX_RE = re.compile(rf"[{_GROUP}]*€$")

# Minus signs a leading minus may be written with: hyphen-minus and U+2212 MINUS SIGN (CLDR's
# minus for Finnish, which some programs and older Babel data print).
_MINUS = "-\u2212"

#: The languages :func:`format_locale` takes, and the CLDR locale whose form it writes.
LANGUAGES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_FI"}
NBSP = "\u00a0"


def parse_amount(text: str) -> int:
    """Parse a non-negative euro amount such as ``512,40`` or ``1 234.5`` into cents."""
    cents = parse_signed_amount(text)
    if cents < 0:
        raise ValidationError(_("amount {amount} is negative").format(amount=text.strip()))
    return cents


def parse_signed_amount(text: str) -> int:
    """Parse a euro amount that may carry a leading minus (``-12,50``) into cents."""
    stripped = text.strip()
    if not stripped:
        raise ValidationError(_("amount is empty"))
    body = _EURO_SUFFIX_RE.sub("", stripped)
    sign = 1
    if body[:1] and body[0] in _MINUS:
        sign = -1
        body = body[1:]
    match = _AMOUNT_RE.fullmatch(body)
    if match is None:
        raise ValidationError(_("amount {amount} is not a number (use e.g. 512,40 or 512.40)")
                              .format(amount=repr(stripped)))
    fraction = match["fraction"] or ""
    if len(fraction) > 2:
        raise ValidationError(_("amount {amount} has more than two decimals")
                              .format(amount=stripped))
    whole = int(re.sub(f"[{_GROUP}]", "", match["whole"]))
    cents = sign * (whole * 100 + int(fraction.ljust(2, "0")))
    if abs(cents) > MAX_AMOUNT_CENTS:
        raise ValidationError(
            _("amount {amount} is larger than the maximum {most}")
            .format(amount=stripped, most=format_fi(MAX_AMOUNT_CENTS))
        )
    return cents


def cents_to_decimal(cents: int) -> Decimal:
    """Cents as euros with exactly two decimals: ``51240`` → ``Decimal('512.40')``."""
    _require_int(cents)
    # scaleb keeps the exponent at -2, so 100 becomes 1.00, not 1: exact and always two decimals.
    return Decimal(cents).scaleb(-2)


def format_plain(cents: int) -> str:
    """Machine-readable euros: ``123456`` → ``1234.56``, ``-5`` → ``-0.05``."""
    return format(cents_to_decimal(cents), "f")


def format_count(number: int) -> str:
    """A whole number grouped by thousands with U+00A0: ``1234`` → ``1 234``."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"a count must be an int, got {type(number).__name__} {number!r}")
    sign = "-" if number < 0 else ""
    return sign + f"{abs(number):,}".replace(",", NBSP)


def format_fi_number(cents: int) -> str:
    """The number of :func:`format_fi` without ``€``, for a table: ``123456`` → ``1 234,56``."""
    _require_int(cents)
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{format_count(whole)},{part:02d}"


def format_fi(cents: int) -> str:
    """The one display form of money: ``123456`` → ``1 234,56 €`` (U+00A0; see the rules)."""
    return f"{format_fi_number(cents)}{NBSP}€"


def format_locale(cents: int, language: str) -> str:
    """Display form for the user's language (``fi``, ``sv`` or ``en``; see the module rules)."""
    if language not in LANGUAGES:
        raise ValidationError(
            _("language {language} is not supported (choose one of {choices})")
            .format(language=repr(language), choices=", ".join(LANGUAGES))
        )
    return format_fi(cents)


def _require_int(cents: int) -> None:
    # bool is an int subclass; True cents is always a bug, as is a float that slipped through.
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"money must be integer cents, got {type(cents).__name__} {cents!r}")
