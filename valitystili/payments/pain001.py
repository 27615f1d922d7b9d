"""ISO 20022 pain.001 credit-transfer files: build them, and validate them against the ISO schema.

Rules this module keeps (BANKING.md "Payment files", DESIGN.md §6):

- Two versions: ``"09"`` (pain.001.001.09, Finance Finland's current guide; ``ReqdExctnDt/Dt``,
  ``BICFI``) and ``"03"`` (pain.001.001.03; ``ReqdExctnDt`` as a plain date, ``BIC``). Anything else
  is refused.
- Ids are derived, never random: ``MsgId = make_id(message_key)``, ``PmtInfId =
  make_id(message_key + ":" + execution date)``, ``InstrId = EndToEndId`` = the order's stored
  id (``order_id(order key, its first execution day)``; orders stored before that rule keep
  ``make_id(order key)``), or ``make_id(order key)`` for a transfer given without one.
  The same inputs therefore give byte-identical files, and a payment on the bank statement leads
  back to its order through its ``EndToEndId``.
- One ``PmtInf`` per execution date, in date order; transfers keep the caller's order inside a
  date. ``BtchBookg`` is false so each payment is its own statement entry. Service level SEPA,
  charges SLEV, currency EUR only.
- Money is integer cents (0 < amount <= 999 999 999.99 €) and is written with two decimals by
  integer arithmetic; a float is refused, never rounded.
- Remittance is **either** a structured creditor reference (``SCOR`` Finnish reference, or ``SCOR``
  with issuer ``ISO`` for an RF reference) **or** an unstructured message of at most 140
  characters; both or neither is refused (EPC rule the ISO schema does not enforce). A message that
  contains a valid henkilötunnus is refused: identity codes never go into a payment message.
- Text keeps ä, ö, å but must stay in the ISO-8859-15 repertoire without control characters; any
  other character is refused by name, never transliterated. Text is NFC-normalised first, so a
  decomposed "ä" is the same ä. Names are at most 70 characters (EPC), refused if longer.
- No postal addresses: SEPA lets them be left out, and unstructured ones are refused by banks from
  15 Nov 2026.
- The produced bytes are validated against the XSD shipped by ``sepaxml`` before they are returned;
  an invalid file is never returned. The XML itself is written here with lxml, not with sepaxml
  (which makes random ids, transliterates and cannot write structured references).
- Bounded memory: ``write_pain001`` writes into a stream a transfer at a time (``xmlfile``; the
  counts and sums of the headers are added up first) and checks the schema while reading the
  stream back, dropping each transfer once read; neither the tree nor the bytes of the whole file
  are ever held. The bytes are those of lxml pretty-printing the whole tree (two spaces a level,
  the declaration in double quotes), as before; ``build_pain001`` is the same writer into memory.
- Pure: no database, no clock, no randomness. Every refusal is a one-line ``ValidationError``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import BinaryIO

from lxml import etree
from lxml.builder import ElementMaker
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.fi import hetu

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _
from valitystili.base.money import format_fi

__all__ = [
    "CreditTransfer",
    "Debtor",
    "MAX_AMOUNT_CENTS",
    "VERSIONS",
    "build_pain001",
    "make_id",
    "order_id",
    "validate_pain001",
    "write_pain001",
]

VERSIONS = {"09": "pain.001.001.09", "03": "pain.001.001.03"}

MAX_AMOUNT_CENTS = 999_999_999_99  # the EPC ceiling for one SEPA credit transfer
MAX_ID_CHARS = 35  # Max35Text; EPC also limits ids to [A-Za-z0-9-] in practice
MAX_NAME_CHARS = 70  # the schema allows 140, EPC rules allow 70
MAX_MESSAGE_CHARS = 140
MAX_FILE_BYTES = 64 * 1024 * 1024  # far above any batch we make; caps what is parsed

# At least 20 base32 characters (100 bits) of the hash stay in every id, whatever the prefix.
_MIN_DIGEST_CHARS = 20
_ID_CHARS = re.compile(r"[A-Za-z0-9-]*")

# The intersection of the .03 BIC and the .09 BICFI patterns, so one check serves both versions.
_BIC = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")
_SCHEME_CODE = re.compile(r"[A-Z0-9]{1,4}")
# Shapes only: the checksums are the caller's (references are validated where they are entered).
# The shape check still catches a reference filed under the wrong kind.
_REFERENCE_SHAPES = {
    "SCOR": re.compile(r"[0-9]{4,20}"),
    "ISO": re.compile(r"RF[0-9]{2}[A-Z0-9]{1,21}"),
}
_HETU_LIKE = re.compile(r"[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]", re.IGNORECASE)

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# One set of options for every document we read: no entities, no network, no DTD, no huge trees.
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False,
                   "huge_tree": False}
_PARSER = etree.XMLParser(**_PARSER_OPTIONS)
_DOCTYPE_REFUSED = N_("payment file has a DOCTYPE, which is not allowed")


@dataclass(frozen=True)
class Debtor:
    """The intermediary account that pays, and who initiates the file."""

    name: str
    iban: str
    bic: str | None = None
    initiating_party_name: str | None = None  # defaults to name
    # Y-tunnus or bank service id → InitgPty/Id/OrgId/Othr/Id; some banks require it.
    initiating_party_id: str | None = None
    initiating_party_scheme: str = "BANK"  # SchmeNm/Cd of that id


@dataclass(frozen=True)
class CreditTransfer:
    """One payment order to put in the file."""

    key: str  # the stable order key, e.g. "order:rent:1001:2026-11"
    execution_on: date
    amount_cents: int
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None = None
    reference: str | None = None  # already validated by the caller
    reference_kind: str | None = None  # "SCOR" (Finnish) or "ISO" (RF)
    message: str | None = None  # unstructured, <= 140 chars
    # The order's stored end-to-end id; None: make_id(key).
    end_to_end_id: str | None = None


def make_id(key: str, prefix: str = "") -> str:
    """A deterministic 35-character id for ``key``: ``prefix`` + base32 of its SHA-256.

    Only ``[A-Z2-7]`` from the hash, so the id is within ``[A-Za-z0-9-]`` whenever the prefix is.
    """
    if not isinstance(key, str) or not key:
        raise ValidationError(_("an id needs a non-empty key"))
    if not _ID_CHARS.fullmatch(prefix) or len(prefix) > MAX_ID_CHARS - _MIN_DIGEST_CHARS:
        raise ValidationError(
            _("id prefix {prefix} must be at most {most} characters of A-Z, a-z, 0-9 and '-'")
            .format(prefix=repr(prefix), most=MAX_ID_CHARS - _MIN_DIGEST_CHARS)
        )
    # surrogatepass keeps the encoding total (and injective) for any Python string.
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    # Base32 turns each 5 bytes into 8 characters on their own, so the first 25 bytes give the
    # same first 40 characters as the whole digest (an id has at most 35).
    return prefix + base64.b32encode(digest[:25]).decode("ascii")[: MAX_ID_CHARS - len(prefix)]


def order_id(key: str, on: date) -> str:
    """The end-to-end id of a new order: the day it is first to be executed (``YYYYMMDD``), then
    ``make_id`` of its key (27 base32 characters, 135 bits).

    Starting with the day keeps a day's new ids together at the end of the unique index of
    ids, where a hash alone would scatter them over every page of years of orders. Every such
    id holds a ``0`` or ``1`` among its first eight characters (the month), which base32 never
    has, so no order key's id of this shape equals an id stored before it (``make_id(key)``).
    """
    return make_id(key, prefix=f"{on:%Y%m%d}")


def build_pain001(
    *,
    message_key: str,
    created_at: datetime,
    debtor: Debtor,
    transfers: Sequence[CreditTransfer],
    version: str = "09",
) -> bytes:
    """The pain.001 file for ``transfers``, as UTF-8 bytes that have passed the ISO schema."""
    out = io.BytesIO()
    write_pain001(out, message_key=message_key, created_at=created_at, debtor=debtor,
                  transfers=transfers, version=version)
    return out.getvalue()


def write_pain001(
    out: BinaryIO,
    *,
    message_key: str,
    created_at: datetime,
    debtor: Debtor,
    transfers: Sequence[CreditTransfer],
    version: str = "09",
) -> str:
    """Write the pain.001 file for ``transfers`` into ``out``, validate what was written, and
    return the file's SHA-256 (hex).

    ``out`` is a seekable stream open for reading and writing (a temporary file, ``io.BytesIO``)
    positioned at its start. A transfer's elements are made, written and dropped one transfer at
    a time, and the schema is checked while the written file is read back, so neither step holds
    the whole file. On a refusal ``out`` holds an invalid or partial file: the caller discards it.
    """
    _schema(version)  # refuses an unknown version before anything else is looked at
    if not isinstance(message_key, str) or not message_key:
        raise ValidationError(_("a payment file needs a non-empty message key"))
    if not isinstance(created_at, datetime):
        raise ValidationError(_("created_at must be a datetime"))
    debtor = _checked_debtor(debtor)
    if not transfers:
        raise ValidationError(_("a payment file needs at least one transfer"))
    checked = [_checked_transfer(t) for t in transfers]
    _refuse_duplicates(checked)

    by_date: dict[date, list[CreditTransfer]] = {}
    for transfer in checked:
        by_date.setdefault(transfer.execution_on, []).append(transfer)

    start = out.tell()
    _write_document(out, version, message_key, created_at, debtor, checked, by_date)
    out.seek(start)
    validate_pain001(out, version)
    out.seek(start)
    return hashlib.file_digest(out, "sha256").hexdigest()


def validate_pain001(xml: bytes | BinaryIO, version: str = "09") -> None:
    """Raise ``ValidationError`` naming the first problem unless ``xml`` is a valid pain.001.

    ``xml`` is the file's bytes or a seekable binary stream at the file's start. The schema is
    checked while the file is parsed, and each transfer's elements are dropped once read, so a
    valid file of any size is checked in little memory. The streaming check names no line, so a
    file it refuses is read once more as a whole (``_refusal``) to say where and why, as a reader
    needs; only an invalid file pays for that.
    """
    schema = _schema(version)
    source = io.BytesIO(xml) if isinstance(xml, (bytes, bytearray)) else xml
    start = source.tell()
    if source.seek(0, io.SEEK_END) - start > MAX_FILE_BYTES:
        raise ValidationError(_("payment file is larger than {most} bytes")
                              .format(most=MAX_FILE_BYTES))
    source.seek(start)
    try:
        _stream_valid(source, schema, _namespace(version))
    except etree.XMLSyntaxError as streamed:
        source.seek(start)
        raise _refusal(source.read(), schema, version) or ValidationError(
            _("{schema} schema: {error}").format(schema=VERSIONS[version], error=streamed)
        ) from None


def _stream_valid(source: BinaryIO, schema: etree.XMLSchema, namespace: str) -> None:
    """Parse ``source`` against ``schema``, dropping each transfer once it is read; raise
    ``XMLSyntaxError`` on any problem and ``ValidationError`` on a DOCTYPE."""
    document, transfer = f"{{{namespace}}}Document", f"{{{namespace}}}CdtTrfTxInf"
    events = etree.iterparse(source, events=("start", "end"), tag=(document, transfer),
                             schema=schema, **_PARSER_OPTIONS)
    for event, element in events:
        if event == "start":
            if element.tag == document and element.getroottree().docinfo.doctype:
                raise ValidationError(_(_DOCTYPE_REFUSED))
        elif element.tag == transfer:
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]


def _refusal(xml: bytes, schema: etree.XMLSchema, version: str) -> ValidationError | None:
    """The first problem of the whole file ``xml``, with its line; None if it has none."""
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as error:
        return ValidationError(_("payment file is not well-formed XML: {error}")
                               .format(error=error))
    # Entity tricks need a DTD; a payment file has no use for one.
    if root.getroottree().docinfo.doctype:
        return ValidationError(_(_DOCTYPE_REFUSED))
    if schema.validate(root):
        return None
    first = schema.error_log[0]
    # libxml2 spells every tag as {namespace}Tag; the bare tag is what a reader looks for.
    message = first.message.replace(f"{{{_namespace(version)}}}", "")
    return ValidationError(_("{schema} schema: line {line}: {error}").format(
        schema=VERSIONS[version], line=first.line, error=message))


# --- checks -------------------------------------------------------------------------------------


def _checked_debtor(debtor: Debtor) -> Debtor:
    name = _text(debtor.name, _("debtor name"), MAX_NAME_CHARS)
    initiating_name = (
        name
        if debtor.initiating_party_name is None
        else _text(debtor.initiating_party_name, _("initiating party name"), MAX_NAME_CHARS)
    )
    initiating_id = debtor.initiating_party_id
    if initiating_id is not None:
        initiating_id = _text(initiating_id, _("initiating party id"), MAX_ID_CHARS)
        if not _SCHEME_CODE.fullmatch(debtor.initiating_party_scheme or ""):
            raise ValidationError(
                _("initiating party scheme {scheme} must be a code of 1-4 capitals or digits, "
                  "e.g. BANK").format(scheme=repr(debtor.initiating_party_scheme))
            )
    _check_iban(debtor.iban, _("debtor IBAN"))
    _check_bic(debtor.bic, _("debtor BIC"))
    return replace(
        debtor, name=name, initiating_party_name=initiating_name, initiating_party_id=initiating_id
    )


def _checked_transfer(transfer: CreditTransfer) -> CreditTransfer:
    if not isinstance(transfer.key, str) or not transfer.key:
        raise ValidationError(_("a transfer needs a non-empty key"))
    where = _("transfer {key}").format(key=repr(transfer.key))
    on = transfer.execution_on
    # datetime is a subclass of date; its isoformat would put a time into a date field.
    if not isinstance(on, date) or isinstance(on, datetime):
        raise ValidationError(_("{where}: execution date must be a date").format(where=where))
    cents = transfer.amount_cents
    # bool is an int subclass and a float may carry a rounding error: both are refused.
    if type(cents) is not int:
        raise ValidationError(
            _("{where}: amount must be whole cents (int), not {kind}")
            .format(where=where, kind=type(cents).__name__)
        )
    if not 0 < cents <= MAX_AMOUNT_CENTS:
        raise ValidationError(
            _("{where}: amount {amount} must be more than {least} and at most {most}")
            .format(where=where, amount=format_fi(cents), least=format_fi(0),
                    most=format_fi(MAX_AMOUNT_CENTS))
        )
    name = _text(transfer.creditor_name, _("{where}: creditor name").format(where=where),
                 MAX_NAME_CHARS)
    _check_iban(transfer.creditor_iban, _("{where}: creditor IBAN").format(where=where))
    _check_bic(transfer.creditor_bic, _("{where}: creditor BIC").format(where=where))

    has_reference = transfer.reference is not None
    has_message = transfer.message is not None
    if has_reference and has_message:
        raise ValidationError(
            _("{where}: has both a reference and a message; EPC rules allow only one")
            .format(where=where)
        )
    if not has_reference and not has_message:
        raise ValidationError(_("{where}: needs a reference or a message").format(where=where))
    message = transfer.message
    if has_message:
        if transfer.reference_kind is not None:
            raise ValidationError(_("{where}: has a reference kind but no reference")
                                  .format(where=where))
        message = _text(message, _("{where}: message").format(where=where), MAX_MESSAGE_CHARS)
        if any(hetu.is_valid(m.group()) for m in _HETU_LIKE.finditer(message)):
            raise ValidationError(_("{where}: message contains a henkilötunnus")
                                  .format(where=where))
    else:
        shape = _REFERENCE_SHAPES.get(transfer.reference_kind or "")
        if shape is None:
            raise ValidationError(
                _("{where}: reference kind {kind} must be 'SCOR' or 'ISO'")
                .format(where=where, kind=repr(transfer.reference_kind))
            )
        if not isinstance(transfer.reference, str) or not shape.fullmatch(transfer.reference):
            raise ValidationError(_(REFERENCE_NOT_OF_ITS_KIND[transfer.reference_kind]).format(
                where=where, reference=repr(transfer.reference)))
    return replace(transfer, creditor_name=name, message=message)


#: A structured reference that is not of its kind's shape, by kind (whole sentences).
REFERENCE_NOT_OF_ITS_KIND = {
    "SCOR": N_("{where}: SCOR reference {reference} is not 4-20 digits"),
    "ISO": N_("{where}: ISO reference {reference} is not RF, 2 check digits and 1-21 capitals or "
              "digits"),
}


def _refuse_duplicates(transfers: list[CreditTransfer]) -> None:
    seen_keys: set[str] = set()
    seen_ids: set[str] = set()
    for transfer in transfers:
        if transfer.key in seen_keys:
            raise ValidationError(_("transfer key {key} appears twice in one file")
                                  .format(key=repr(transfer.key)))
        end_to_end_id = _end_to_end_id(transfer)
        # Different keys with one id would mean a broken hash; never send such a file.
        if end_to_end_id in seen_ids:
            raise ValidationError(_("transfer key {key} gives an id already in the file")
                                  .format(key=repr(transfer.key)))
        seen_keys.add(transfer.key)
        seen_ids.add(end_to_end_id)


def _end_to_end_id(transfer: CreditTransfer) -> str:
    """The transfer's ``EndToEndId`` (and ``InstrId``): the order's stored id, else derived."""
    if transfer.end_to_end_id is None:
        return make_id(transfer.key)
    if (len(transfer.end_to_end_id) > MAX_ID_CHARS
            or not _ID_CHARS.fullmatch(transfer.end_to_end_id) or not transfer.end_to_end_id):
        raise ValidationError(
            _("end-to-end id {id} of {key} must be 1-{most} characters of A-Z, a-z, 0-9 and '-'")
            .format(id=repr(transfer.end_to_end_id), key=repr(transfer.key), most=MAX_ID_CHARS))
    return transfer.end_to_end_id


def _text(value: object, what: str, max_chars: int) -> str:
    """``value`` in NFC, or ``ValidationError`` if it is empty, too long or out of repertoire."""
    if not isinstance(value, str):
        raise ValidationError(_("{what} must be text").format(what=what))
    value = unicodedata.normalize("NFC", value)
    if not value.strip():
        raise ValidationError(_("{what} is empty").format(what=what))
    if len(value) > max_chars:
        raise ValidationError(_("{what} is {count} characters; at most {most} are allowed")
                              .format(what=what, count=len(value), most=max_chars))
    for char in value:
        try:
            byte = char.encode("iso8859_15")[0]
        except UnicodeEncodeError:
            raise ValidationError(
                _("{what} contains {text} ({char}), which is outside ISO-8859-15")
                .format(what=what, text=repr(char), char=f"U+{ord(char):04X}")
            ) from None
        # C0, DEL and C1 are in the codec's range but are not text a bank will accept.
        if byte < 0x20 or 0x7F <= byte < 0xA0:
            raise ValidationError(_("{what} contains the control character {char}")
                                  .format(what=what, char=f"U+{ord(char):04X}"))
    return value


def _check_iban(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise ValidationError(_("{what} must be text").format(what=what))
    try:
        # validate_bban also checks national check digits (the Finnish Luhn digit).
        compact = IBAN(value, validate_bban=True).compact
    except SchwiftyException as error:
        raise ValidationError(_("{what} {value} is not valid: {error}")
                              .format(what=what, value=repr(value), error=error)) from None
    # The writer does not rewrite account numbers: what is stored is what is sent.
    if value != compact:
        raise ValidationError(_("{what} {value} must be written as {compact}")
                              .format(what=what, value=repr(value), compact=compact))


def _check_bic(value: object, what: str) -> None:
    if value is not None and (not isinstance(value, str) or not _BIC.fullmatch(value)):
        raise ValidationError(_("{what} {value} is not an 8 or 11 character BIC")
                              .format(what=what, value=repr(value)))


# --- XML ----------------------------------------------------------------------------------------


#: Pretty-printing's indentation: two spaces a level, as lxml's and the banks' samples have it.
_INDENT = "  "


def _write_document(
    out: BinaryIO,
    version: str,
    message_key: str,
    created_at: datetime,
    debtor: Debtor,
    transfers: list[CreditTransfer],
    by_date: dict[date, list[CreditTransfer]],
) -> None:
    """The file, written element by element: the bytes lxml's pretty-printing gives the whole
    tree (``Document`` at level 0, a transfer's ``CdtTrfTxInf`` at level 3).

    The outer elements are opened and closed by ``xmlfile``, which declares the namespace on
    ``Document``. The elements written inside them are made without a namespace, so each is
    written without a declaration of its own; in the file they are in ``Document``'s default
    namespace, as the schema check of the written file confirms.
    """
    namespace = _namespace(version)
    E = _Maker()
    bic_tag = "BICFI" if version == "09" else "BIC"
    # The declaration is written by hand: lxml's uses single quotes, bank samples use double.
    out.write(_DECLARATION)
    with etree.xmlfile(out, encoding="UTF-8") as xf:  # noqa: SIM117 (the document nests in xf)
        with xf.element(f"{{{namespace}}}Document", nsmap={None: namespace}):
            xf.write("\n" + _INDENT)
            with xf.element(f"{{{namespace}}}CstmrCdtTrfInitn"):
                _write_at(xf, 2, _group_header(E, message_key, created_at, debtor, transfers))
                for on in sorted(by_date):
                    xf.write("\n" + _INDENT * 2)
                    with xf.element(f"{{{namespace}}}PmtInf"):
                        for element in _payment_information(E, version, message_key, debtor, on,
                                                            by_date[on]):
                            _write_at(xf, 3, element)
                        for transfer in by_date[on]:
                            _write_at(xf, 3, _transaction(E, bic_tag, transfer))
                        xf.write("\n" + _INDENT * 2)
                xf.write("\n" + _INDENT)
            xf.write("\n")
    out.write(b"\n")    # after the root, where xmlfile writes nothing


def _write_at(xf, level: int, element: etree._Element) -> None:
    """Write ``element`` on a line of its own, indented as at ``level`` of the whole tree."""
    etree.indent(element, space=_INDENT, level=level)
    xf.write("\n" + _INDENT * level, element)


class _Maker:
    """An lxml ``ElementMaker`` (of elements without a namespace: see ``_write_document``) that
    skips ``None`` children, so optional parts read inline."""

    def __init__(self) -> None:
        self._make = ElementMaker()

    def __getattr__(self, tag: str) -> Callable[..., etree._Element]:
        def make(*children: object, **attrib: str) -> etree._Element:
            return self._make(tag, *(c for c in children if c is not None), **attrib)

        return make


def _group_header(
    E: _Maker,
    message_key: str,
    created_at: datetime,
    debtor: Debtor,
    transfers: list[CreditTransfer],
) -> etree._Element:
    # Seconds are enough for a creation stamp and keep the value short and stable to compare.
    created = created_at.replace(microsecond=0).isoformat()
    initiating_id = None
    if debtor.initiating_party_id is not None:
        initiating_id = E.Id(
            E.OrgId(
                E.Othr(
                    E.Id(debtor.initiating_party_id),
                    E.SchmeNm(E.Cd(debtor.initiating_party_scheme)),
                )
            )
        )
    return E.GrpHdr(
        E.MsgId(make_id(message_key)),
        E.CreDtTm(created),
        E.NbOfTxs(str(len(transfers))),
        E.CtrlSum(_euros(sum(t.amount_cents for t in transfers))),
        E.InitgPty(E.Nm(debtor.initiating_party_name), initiating_id),
    )


def _payment_information(
    E: _Maker,
    version: str,
    message_key: str,
    debtor: Debtor,
    execution_on: date,
    transfers: list[CreditTransfer],
) -> list[etree._Element]:
    """The elements of a ``PmtInf`` block before its transfers."""
    bic_tag = "BICFI" if version == "09" else "BIC"
    if version == "09":
        requested = E.ReqdExctnDt(E.Dt(execution_on.isoformat()))
    else:
        requested = E.ReqdExctnDt(execution_on.isoformat())
    if debtor.bic is not None:
        debtor_agent = E.FinInstnId(getattr(E, bic_tag)(debtor.bic))
    else:
        # The agreed way to say "the bank knows from the IBAN" in a mandatory agent element.
        debtor_agent = E.FinInstnId(E.Othr(E.Id("NOTPROVIDED")))
    return [
        E.PmtInfId(make_id(f"{message_key}:{execution_on.isoformat()}")),
        E.PmtMtd("TRF"),
        # false: every payment is its own statement entry with our EndToEndId (exact clearing).
        E.BtchBookg("false"),
        E.NbOfTxs(str(len(transfers))),
        E.CtrlSum(_euros(sum(t.amount_cents for t in transfers))),
        E.PmtTpInf(E.SvcLvl(E.Cd("SEPA"))),
        requested,
        E.Dbtr(E.Nm(debtor.name)),
        E.DbtrAcct(E.Id(E.IBAN(debtor.iban)), E.Ccy("EUR")),
        E.DbtrAgt(debtor_agent),
        E.ChrgBr("SLEV"),
    ]


def _transaction(E: _Maker, bic_tag: str, transfer: CreditTransfer) -> etree._Element:
    transfer_id = _end_to_end_id(transfer)
    creditor_agent = None
    if transfer.creditor_bic is not None:
        creditor_agent = E.CdtrAgt(E.FinInstnId(getattr(E, bic_tag)(transfer.creditor_bic)))
    if transfer.reference is not None:
        issuer = E.Issr("ISO") if transfer.reference_kind == "ISO" else None
        remittance = E.Strd(
            E.CdtrRefInf(E.Tp(E.CdOrPrtry(E.Cd("SCOR")), issuer), E.Ref(transfer.reference))
        )
    else:
        remittance = E.Ustrd(transfer.message)
    return E.CdtTrfTxInf(
        E.PmtId(E.InstrId(transfer_id), E.EndToEndId(transfer_id)),
        E.Amt(E.InstdAmt(_euros(transfer.amount_cents), Ccy="EUR")),
        creditor_agent,
        E.Cdtr(E.Nm(transfer.creditor_name)),
        E.CdtrAcct(E.Id(E.IBAN(transfer.creditor_iban))),
        E.RmtInf(remittance),
    )


def _namespace(version: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:{VERSIONS[version]}"


def _euros(cents: int) -> str:
    """``12345`` → ``"123.45"``: integer arithmetic, so no float ever touches an amount."""
    sign = "-" if cents < 0 else ""  # only error messages ever show a negative amount
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _schema(version: str) -> etree.XMLSchema:
    """The ISO XSD for ``version``, or ``ValidationError`` for a version we do not write."""
    if not isinstance(version, str) or version not in VERSIONS:
        raise ValidationError(
            _("unknown pain.001 version {version}; use one of {choices}")
            .format(version=repr(version), choices=", ".join(sorted(VERSIONS)))
        )
    return _load_schema(VERSIONS[version])


@cache
def _load_schema(name: str) -> etree.XMLSchema:
    # Compiling an XSD takes milliseconds; a batch validates once per file, tests many times.
    source = resources.files("sepaxml") / "schemas" / f"{name}.xsd"
    return etree.XMLSchema(etree.fromstring(source.read_bytes(), _PARSER))
