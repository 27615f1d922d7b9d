"""ISO 20022 pain.001 credit-transfer files: build them, and validate them against the ISO schema.

Rules this module keeps (BANKING.md "Payment files", DESIGN.md §6):

- Two versions: ``"09"`` (pain.001.001.09, Finance Finland's current guide; ``ReqdExctnDt/Dt``,
  ``BICFI``) and ``"03"`` (pain.001.001.03; ``ReqdExctnDt`` as a plain date, ``BIC``). Anything else
  is refused.
- Ids are derived, never random: ``MsgId = make_id(message_key)``, ``PmtInfId =
  make_id(message_key + ":" + execution date)``, ``InstrId = EndToEndId = make_id(order key)``.
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
- Pure: no database, no clock, no randomness. Every refusal is a one-line ``ValidationError``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from importlib import resources

from lxml import etree
from lxml.builder import ElementMaker
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.fi import hetu

from valitystili.base.errors import ValidationError
from valitystili.base.money import format_fi

__all__ = [
    "CreditTransfer",
    "Debtor",
    "MAX_AMOUNT_CENTS",
    "VERSIONS",
    "build_pain001",
    "make_id",
    "validate_pain001",
]

VERSIONS = {"09": "pain.001.001.09", "03": "pain.001.001.03"}

MAX_AMOUNT_CENTS = 999_999_999_99  # the EPC ceiling for one SEPA credit transfer
MAX_ID_CHARS = 35  # Max35Text; EPC also limits ids to [A-Za-z0-9-] in practice
MAX_NAME_CHARS = 70  # the schema allows 140, EPC rules allow 70
MAX_MESSAGE_CHARS = 140
MAX_FILE_BYTES = 64 * 1024 * 1024  # far above any batch we make; caps what is parsed

# At least 20 base32 characters (100 bits) of the hash stay in every id, whatever the prefix.
_MIN_DIGEST_CHARS = 20
_ID_PREFIX = re.compile(r"[A-Za-z0-9-]*")

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

# One parser for every document we read: no entities, no network, no DTD, no huge trees.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


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


def make_id(key: str, prefix: str = "") -> str:
    """A deterministic 35-character id for ``key``: ``prefix`` + base32 of its SHA-256.

    Only ``[A-Z2-7]`` from the hash, so the id is within ``[A-Za-z0-9-]`` whenever the prefix is.
    """
    if not isinstance(key, str) or not key:
        raise ValidationError("an id needs a non-empty key")
    if not _ID_PREFIX.fullmatch(prefix) or len(prefix) > MAX_ID_CHARS - _MIN_DIGEST_CHARS:
        raise ValidationError(
            f"id prefix {prefix!r} must be at most {MAX_ID_CHARS - _MIN_DIGEST_CHARS} "
            "characters of A-Z, a-z, 0-9 and '-'"
        )
    # surrogatepass keeps the encoding total (and injective) for any Python string.
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    # Base32 turns each 5 bytes into 8 characters on their own, so the first 25 bytes give the
    # same first 40 characters as the whole digest (an id has at most 35).
    return prefix + base64.b32encode(digest[:25]).decode("ascii")[: MAX_ID_CHARS - len(prefix)]


def build_pain001(
    *,
    message_key: str,
    created_at: datetime,
    debtor: Debtor,
    transfers: Sequence[CreditTransfer],
    version: str = "09",
) -> bytes:
    """The pain.001 file for ``transfers``, as UTF-8 bytes that have passed the ISO schema."""
    _schema(version)  # refuses an unknown version before anything else is looked at
    if not isinstance(message_key, str) or not message_key:
        raise ValidationError("a payment file needs a non-empty message key")
    if not isinstance(created_at, datetime):
        raise ValidationError("created_at must be a datetime")
    debtor = _checked_debtor(debtor)
    if not transfers:
        raise ValidationError("a payment file needs at least one transfer")
    checked = [_checked_transfer(t) for t in transfers]
    _refuse_duplicates(checked)

    by_date: dict[date, list[CreditTransfer]] = {}
    for transfer in checked:
        by_date.setdefault(transfer.execution_on, []).append(transfer)

    E = _Maker(_namespace(version))
    document = E.Document(
        E.CstmrCdtTrfInitn(
            _group_header(E, message_key, created_at, debtor, checked),
            *(
                _payment_information(E, version, message_key, debtor, on, by_date[on])
                for on in sorted(by_date)
            ),
        )
    )
    # The declaration is written by hand: lxml's uses single quotes, bank samples use double.
    xml = _DECLARATION + etree.tostring(
        document, encoding="UTF-8", xml_declaration=False, pretty_print=True
    )
    validate_pain001(xml, version)
    return xml


def validate_pain001(xml: bytes, version: str = "09") -> None:
    """Raise ``ValidationError`` naming the first problem unless ``xml`` is a valid pain.001."""
    schema = _schema(version)
    if len(xml) > MAX_FILE_BYTES:
        raise ValidationError(f"payment file is larger than {MAX_FILE_BYTES} bytes")
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as error:
        raise ValidationError(f"payment file is not well-formed XML: {error}") from None
    # Entity tricks need a DTD; a payment file has no use for one.
    if root.getroottree().docinfo.doctype:
        raise ValidationError("payment file has a DOCTYPE, which is not allowed")
    if not schema.validate(root):
        first = schema.error_log[0]
        # libxml2 spells every tag as {namespace}Tag; the bare tag is what a reader looks for.
        message = first.message.replace(f"{{{_namespace(version)}}}", "")
        raise ValidationError(f"{VERSIONS[version]} schema: line {first.line}: {message}")


# --- checks -------------------------------------------------------------------------------------


def _checked_debtor(debtor: Debtor) -> Debtor:
    name = _text(debtor.name, "debtor name", MAX_NAME_CHARS)
    initiating_name = (
        name
        if debtor.initiating_party_name is None
        else _text(debtor.initiating_party_name, "initiating party name", MAX_NAME_CHARS)
    )
    initiating_id = debtor.initiating_party_id
    if initiating_id is not None:
        initiating_id = _text(initiating_id, "initiating party id", MAX_ID_CHARS)
        if not _SCHEME_CODE.fullmatch(debtor.initiating_party_scheme or ""):
            raise ValidationError(
                f"initiating party scheme {debtor.initiating_party_scheme!r} must be a code of "
                "1-4 capitals or digits, e.g. BANK"
            )
    _check_iban(debtor.iban, "debtor IBAN")
    _check_bic(debtor.bic, "debtor BIC")
    return replace(
        debtor, name=name, initiating_party_name=initiating_name, initiating_party_id=initiating_id
    )


def _checked_transfer(transfer: CreditTransfer) -> CreditTransfer:
    if not isinstance(transfer.key, str) or not transfer.key:
        raise ValidationError("a transfer needs a non-empty key")
    where = f"transfer {transfer.key!r}"
    on = transfer.execution_on
    # datetime is a subclass of date; its isoformat would put a time into a date field.
    if not isinstance(on, date) or isinstance(on, datetime):
        raise ValidationError(f"{where}: execution date must be a date")
    cents = transfer.amount_cents
    # bool is an int subclass and a float may carry a rounding error: both are refused.
    if type(cents) is not int:
        raise ValidationError(
            f"{where}: amount must be whole cents (int), not {type(cents).__name__}"
        )
    if not 0 < cents <= MAX_AMOUNT_CENTS:
        raise ValidationError(
            f"{where}: amount {format_fi(cents)} must be more than {format_fi(0)} "
            f"and at most {format_fi(MAX_AMOUNT_CENTS)}"
        )
    name = _text(transfer.creditor_name, f"{where}: creditor name", MAX_NAME_CHARS)
    _check_iban(transfer.creditor_iban, f"{where}: creditor IBAN")
    _check_bic(transfer.creditor_bic, f"{where}: creditor BIC")

    has_reference = transfer.reference is not None
    has_message = transfer.message is not None
    if has_reference and has_message:
        raise ValidationError(
            f"{where}: has both a reference and a message; EPC rules allow only one"
        )
    if not has_reference and not has_message:
        raise ValidationError(f"{where}: needs a reference or a message")
    message = transfer.message
    if has_message:
        if transfer.reference_kind is not None:
            raise ValidationError(f"{where}: has a reference kind but no reference")
        message = _text(message, f"{where}: message", MAX_MESSAGE_CHARS)
        if any(hetu.is_valid(m.group()) for m in _HETU_LIKE.finditer(message)):
            raise ValidationError(f"{where}: message contains a henkilötunnus")
    else:
        shape = _REFERENCE_SHAPES.get(transfer.reference_kind or "")
        if shape is None:
            raise ValidationError(
                f"{where}: reference kind {transfer.reference_kind!r} must be 'SCOR' or 'ISO'"
            )
        if not isinstance(transfer.reference, str) or not shape.fullmatch(transfer.reference):
            expected = {
                "SCOR": "4-20 digits",
                "ISO": "RF, 2 check digits and 1-21 capitals or digits",
            }[transfer.reference_kind]
            raise ValidationError(
                f"{where}: {transfer.reference_kind} reference {transfer.reference!r} "
                f"is not {expected}"
            )
    return replace(transfer, creditor_name=name, message=message)


def _refuse_duplicates(transfers: list[CreditTransfer]) -> None:
    seen_keys: set[str] = set()
    seen_ids: set[str] = set()
    for transfer in transfers:
        if transfer.key in seen_keys:
            raise ValidationError(f"transfer key {transfer.key!r} appears twice in one file")
        end_to_end_id = make_id(transfer.key)
        # Different keys with one id would mean a broken hash; never send such a file.
        if end_to_end_id in seen_ids:
            raise ValidationError(f"transfer key {transfer.key!r} gives an id already in the file")
        seen_keys.add(transfer.key)
        seen_ids.add(end_to_end_id)


def _text(value: object, what: str, max_chars: int) -> str:
    """``value`` in NFC, or ``ValidationError`` if it is empty, too long or out of repertoire."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text")
    value = unicodedata.normalize("NFC", value)
    if not value.strip():
        raise ValidationError(f"{what} is empty")
    if len(value) > max_chars:
        raise ValidationError(f"{what} is {len(value)} characters; at most {max_chars} are allowed")
    for char in value:
        try:
            byte = char.encode("iso8859_15")[0]
        except UnicodeEncodeError:
            raise ValidationError(
                f"{what} contains {char!r} (U+{ord(char):04X}), which is outside ISO-8859-15"
            ) from None
        # C0, DEL and C1 are in the codec's range but are not text a bank will accept.
        if byte < 0x20 or 0x7F <= byte < 0xA0:
            raise ValidationError(f"{what} contains the control character U+{ord(char):04X}")
    return value


def _check_iban(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text")
    try:
        # validate_bban also checks national check digits (the Finnish Luhn digit).
        compact = IBAN(value, validate_bban=True).compact
    except SchwiftyException as error:
        raise ValidationError(f"{what} {value!r} is not valid: {error}") from None
    # The writer does not rewrite account numbers: what is stored is what is sent.
    if value != compact:
        raise ValidationError(f"{what} {value!r} must be written as {compact}")


def _check_bic(value: object, what: str) -> None:
    if value is not None and (not isinstance(value, str) or not _BIC.fullmatch(value)):
        raise ValidationError(f"{what} {value!r} is not an 8 or 11 character BIC")


# --- XML ----------------------------------------------------------------------------------------


class _Maker:
    """An lxml ``ElementMaker`` that skips ``None`` children, so optional parts read inline."""

    def __init__(self, namespace: str) -> None:
        self._make = ElementMaker(namespace=namespace, nsmap={None: namespace})

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
) -> etree._Element:
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
    return E.PmtInf(
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
        *(_transaction(E, bic_tag, t) for t in transfers),
    )


def _transaction(E: _Maker, bic_tag: str, transfer: CreditTransfer) -> etree._Element:
    transfer_id = make_id(transfer.key)
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
            f"unknown pain.001 version {version!r}; use one of {', '.join(sorted(VERSIONS))}"
        )
    return _load_schema(VERSIONS[version])


@cache
def _load_schema(name: str) -> etree.XMLSchema:
    # Compiling an XSD takes milliseconds; a batch validates once per file, tests many times.
    source = resources.files("sepaxml") / "schemas" / f"{name}.xsd"
    return etree.XMLSchema(etree.fromstring(source.read_bytes(), _PARSER))
