"""Edge parsing shared by the readers: file limits, amounts, dates, references, stable ids.

Rules:

- Amounts are parsed from text with ``Decimal`` and become integer cents. Nothing is rounded: an
  amount that is not a whole number of cents ("12.345") is refused, and so is anything that is
  not a plain decimal number (exponents, NaN, thousands separators) and anything over
  ``MAX_AMOUNT_CENTS`` (100 000 000,00), which no account here can hold and which points to a
  broken or hostile file.
- Where a format carries the sign separately (camt ``CdtDbtInd``), the amount text must not have
  its own sign: ``-12.00`` with ``CRDT`` is ambiguous, so it is refused rather than guessed.
- Every refusal is a ``StatementError`` whose message starts with the file name and names the
  place (``entry 3``, ``entry 3 item 2``, ``balance CLBD``, ``line 7``).
- Files are size-checked before anything reads them whole.
- **Hidden characters.** No text a statement carries may hold a control character other than
  tab, carriage return and line feed (NUL, ESC, DEL, the C1 controls …), a Unicode line or
  paragraph separator, or a bidirectional formatting character (U+202A–U+202E, U+2066–U+2069,
  which reorder how text is shown): the file is refused, naming the line or entry
  (:func:`check_text`, :func:`first_hidden`). Line breaks inside a message or a counterparty
  name are read as one space; in any other field (archive ids, references, codes) they refuse
  the file too.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from imports.errors import StatementError

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
MAX_AMOUNT_CENTS = 100_000_000_00

_UNSIGNED_DOT = re.compile(r"\d+(\.\d+)?")
_SIGNED_DOT_OR_COMMA = re.compile(r"[+-]?\d+([.,]\d+)?")
_WHITESPACE = re.compile(r"\s+")

#: What no statement text may hold (see the module rules); tab, CR and LF are not in it.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
#: A line break with the blanks around it: one space in a message or a name.
_LINE_BREAK = re.compile("[ \t]*[\r\n]+[ \t]*")


def display_name(path: str | os.PathLike[str]) -> str:
    """The name used in messages: the file's base name, as a user recognises it."""
    return Path(path).name or str(path)


def check_size(path: str | os.PathLike[str], max_bytes: int) -> int:
    """Refuse a missing, unreadable or oversize file before reading it; return its size."""
    name = display_name(path)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise StatementError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise StatementError(f"{name}: file is {size} bytes, over the limit of {max_bytes} bytes")
    return size


class CappedReader:
    """A binary file wrapper that refuses to read past ``max_bytes``.

    ``check_size`` looks at the size first; this guard also holds when the file grows while it is
    read or is not a regular file (a pipe reports size 0).
    """

    def __init__(self, fh: BinaryIO, max_bytes: int, name: str) -> None:
        self._fh = fh
        self._max_bytes = max_bytes
        self._name = name
        self._count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._count += len(data)
        if self._count > self._max_bytes:
            raise StatementError(
                f"{self._name}: file is over the limit of {self._max_bytes} bytes"
            )
        return data


def read_capped(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """Read a whole (text) statement file after the size checks."""
    name = display_name(path)
    check_size(path, max_bytes)
    try:
        with open(path, "rb") as fh:
            return CappedReader(fh, max_bytes, name).read()
    except OSError as exc:
        raise StatementError(f"{name}: cannot read the file: {exc.strerror or exc}") from None


def amount_cents(
    text: str | None, *, name: str, where: str, signed: bool = False, decimal_comma: bool = False
) -> int:
    """Parse a decimal amount into integer cents, refusing anything that would need rounding.

    ``signed``: the text may carry its own sign (CSV, MT940 after the library); otherwise a minus
    sign is refused because the sign belongs in a separate indicator.
    ``decimal_comma``: ``512,40`` is accepted as well as ``512.40`` (CSV typed by people).
    """
    raw = (text or "").strip()
    if not raw:
        raise StatementError(f"{name}: {where} has no amount")
    pattern = _SIGNED_DOT_OR_COMMA if (signed or decimal_comma) else _UNSIGNED_DOT
    if raw.startswith("-") and not signed:
        raise StatementError(
            f"{name}: {where} has negative amount {raw}; the sign belongs in CdtDbtInd"
        )
    if not pattern.fullmatch(raw) or ("," in raw and not decimal_comma):
        raise StatementError(f"{name}: {where} has amount {raw!r}, which is not a decimal number")
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise StatementError(f"{name}: {where} has amount {raw!r}, which is not a number") from None
    return decimal_cents(value, name=name, where=where, shown=raw)


def decimal_cents(value: Decimal, *, name: str, where: str, shown: str | None = None) -> int:
    """Turn an already parsed ``Decimal`` (e.g. from mt940) into cents with the same refusals."""
    shown = shown if shown is not None else str(value)
    if not value.is_finite():
        raise StatementError(f"{name}: {where} has amount {shown!r}, which is not a number")
    cents = value * 100
    # "12.340" is a whole number of cents and is kept; "12.345" would need rounding.
    if cents != cents.to_integral_value():
        raise StatementError(f"{name}: {where} has amount {shown} with more than two decimals")
    result = int(cents)
    if abs(result) > MAX_AMOUNT_CENTS:
        raise StatementError(
            f"{name}: {where} has amount {shown} over the limit of 100000000.00"
        )
    return result


def iso_date(text: str | None, *, name: str, where: str) -> date | None:
    """Parse ``YYYY-MM-DD`` or an ISO date-time (its date part as written); empty -> None."""
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        # The date as the bank wrote it, not converted to another zone: 2010-10-28T23:30+02:00
        # is the 28th for the bank and for the payer.
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError:
        raise StatementError(f"{name}: {where} has {raw!r}, which is not a date") from None


def iso_datetime(text: str | None, *, name: str, where: str) -> datetime | None:
    """Parse an ISO 8601 date-time; empty -> None."""
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise StatementError(f"{name}: {where} has {raw!r}, which is not a date-time") from None


def compact(text: str | None) -> str | None:
    """Remove all whitespace (references, IBANs); empty -> None."""
    if text is None:
        return None
    squeezed = _WHITESPACE.sub("", text)
    return squeezed or None


def clean_iban(text: str | None) -> str | None:
    """An IBAN as stored: no spaces, upper case. Not validated here (the service does it)."""
    squeezed = compact(text)
    return squeezed.upper() if squeezed else None


def reference_kind_of(reference: str | None) -> str | None:
    """Classify a reference found in free-form formats (MT940, CSV): RF -> ISO, digits -> SCOR.

    Check digits are not verified here; the service validates and matches.
    """
    if not reference:
        return None
    if reference[:2].upper() == "RF":
        return "ISO"
    if reference.isdigit():
        return "SCOR"
    return None


def stable_id(prefix: str, *parts: object) -> str:
    """A synthesized archive id: ``prefix:`` + the first 24 hex digits of sha256 over the parts.

    The parts are joined with a separator that cannot occur in them ambiguously (``\\x1f``), so
    ("ab", "c") and ("a", "bc") give different ids.
    """
    key = "\x1f".join("" if part is None else str(part) for part in parts)
    return f"{prefix}:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}"


def describe_hidden(char: str) -> str:
    """``the control character U+0000``: a hidden character named so a person can find it."""
    code = ord(char)
    if code <= 0x9F:
        kind = "control character"
    elif code <= 0x2029:
        kind = "line separator"
    else:
        kind = "bidirectional formatting character"
    return f"the {kind} U+{ord(char):04X}"


def first_hidden(text: str) -> tuple[int, str] | None:
    """(1-based line, character) of the first hidden character in a whole text, else None."""
    found = _HIDDEN.search(text)
    if found is None:
        return None
    return text.count("\n", 0, found.start()) + 1, found.group()


def check_text(
    value: str | None, *, name: str, where: str, field: str, free: bool = False
) -> str | None:
    """``value`` if it holds no hidden character (see the module rules), else a StatementError.

    ``free``: a message or a name, whose line breaks become one space; elsewhere a line break is
    refused like any other control character.
    """
    if value is None:
        return None
    hidden = _HIDDEN.search(value)
    if hidden is not None:
        raise StatementError(f"{name}: {where} has {describe_hidden(hidden.group())} in {field}")
    if "\n" in value or "\r" in value:
        if not free:
            raise StatementError(f"{name}: {where} has a line break in {field}")
        value = _LINE_BREAK.sub(" ", value)
    return value
