"""camt.052 (intraday report), camt.053 (statement) and camt.054 (debit/credit notification)
reader.

Rules:

- Accepted namespaces: ``urn:iso:std:iso:20022:tech:xsd:camt.052.001.02`` ... ``.08``,
  ``camt.053.001.02`` ... ``.08`` and ``camt.054.001.02`` ... ``.08``; their ``Ntry`` structure
  is the same for what is read here. Anything else is refused as "not a camt.052/053/054
  document" before the body is parsed.
- One file may hold several ``Rpt``/``Stmt``/``Ntfctn``: one ``Statement`` each, in file order
  (source ``camt052``, ``camt053``, ``camt054``). A file with none is refused.
- Balances read: OPBD, PRCD, CLBD, CLAV and the interim booked balance ITBD (an intraday report
  has no closing balance; ``Statement.interim``). Other codes (ITAV, FWAV, ...) are skipped.
- Parsing streams through ``imports.xmlsafe``: each ``Ntry`` becomes an ``Entry`` as soon as it
  has been parsed and is then dropped from the tree.
- Amounts: ``Amt`` text is unsigned, the sign comes from ``CdtDbtInd`` (CRDT +, DBIT -). A signed,
  over-precise (more than two decimals) or absurd amount is refused, never rounded. Items take
  their entry's sign; an item amount in another currency than its entry is refused.
- References: the first ``Strd/CdtrRefInf/Ref`` of an item, all whitespace removed (``RF7812345 ``
  becomes ``RF7812345``). Check digits are *not* validated here: ``RF98123456789012`` in the
  Finance Finland sample is invalid and is still returned as text; the service decides.
- An entry's archive id is ``Ntry/AcctSvcrRef``. A booked entry without one is refused (it would
  have no idempotency key); a PDNG/INFO entry without one gets a synthesized ``camt:`` key.
- Entry and item counts, sums against ``TxsSummry`` and item totals against their entry are not
  checked here; the service reconciles.
- Versions .06+ wrap some values (``Sts/Cd``, ``Dbtr/Pty/Nm``); both shapes are read.
- Every text read is checked for hidden characters (``parsing.check_text``: control characters
  other than tab, CR and LF — XML itself already forbids most of them, not DEL or the C1 controls
  — and bidirectional formatting characters); the refusal names the entry, item and element.
  Line breaks in ``Ustrd``, ``AddtlNtryInf`` and party names become spaces.
- Within one camt.053 statement (``Stmt``) or camt.052 report (``Rpt``) two entries with one
  ``AcctSvcrRef`` refuse the file: the archive id is the idempotency key, so the second would otherwise be dropped as
  "already present". camt.054 notifications are not held to this (the bank itemises one lump
  under one archive id with several ``TxDtls``, and statements and notifications share ids
  across files); neither are two statements of one file, which may overlap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

from lxml import etree

from imports.errors import StatementError
from imports.parsing import (
    DEFAULT_MAX_BYTES,
    amount_cents,
    check_text,
    clean_iban,
    compact,
    display_name,
    iso_date,
    iso_datetime,
    stable_id,
)
from imports.records import Balance, Entry, Item, Statement
from imports.xmlsafe import iter_elements, root_tag

_NS_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
CAMT052_NAMESPACES = frozenset(f"{_NS_PREFIX}camt.052.001.{v:02d}" for v in range(2, 9))
CAMT053_NAMESPACES = frozenset(f"{_NS_PREFIX}camt.053.001.{v:02d}" for v in range(2, 9))
CAMT054_NAMESPACES = frozenset(f"{_NS_PREFIX}camt.054.001.{v:02d}" for v in range(2, 9))

_STATUSES = frozenset({"BOOK", "PDNG", "INFO"})
_BALANCE_CODES = frozenset({"OPBD", "PRCD", "CLBD", "CLAV", "ITBD"})
#: The element holding one statement of each kind, and the kinds whose archive ids must be
#: unique within that element.
_CONTAINERS = {"camt052": "Rpt", "camt053": "Stmt", "camt054": "Ntfctn"}
_UNIQUE_IDS = frozenset({"camt052", "camt053"})
NOT_CAMT = "not a camt.052/053/054 document"


def camt_kind(namespace: str) -> str | None:
    """``"camt052"``/``"camt053"``/``"camt054"`` for an accepted namespace, else None."""
    if namespace in CAMT052_NAMESPACES:
        return "camt052"
    if namespace in CAMT053_NAMESPACES:
        return "camt053"
    if namespace in CAMT054_NAMESPACES:
        return "camt054"
    return None


def split_tag(tag: str) -> tuple[str, str]:
    """``{ns}local`` -> (ns, local); an unqualified tag has namespace ''."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def read_camt(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Statement]:
    """Read every ``Rpt`` (camt.052), ``Stmt`` (camt.053) or ``Ntfctn`` (camt.054) in the file."""
    name = display_name(path)
    namespace, _local = split_tag(root_tag(path, max_bytes=max_bytes))
    source = camt_kind(namespace)
    if source is None:
        shown = namespace or "no namespace"
        raise StatementError(f"{name}: {NOT_CAMT} (namespace {shown})")
    container_name = _CONTAINERS[source]
    container = f"{{{namespace}}}{container_name}"
    entry_tag = f"{{{namespace}}}Ntry"

    statements: list[Statement] = []
    entries: list[Entry] = []
    positions: dict[str, int] = {}
    for element in iter_elements(path, (entry_tag, container), max_bytes=max_bytes):
        parent = element.getparent()
        if element.tag == entry_tag:
            # Only entries of a statement count; an Ntry under some other element (supplementary
            # data) is not part of the account's movements.
            if parent is None or parent.tag != container:
                continue
            where = _Where(name, len(statements) + 1, len(entries) + 1)
            entry = _entry(_Node(element, stop=_NTRY_STOP, where=(name, where.entry_label())),
                           where, parent)
            if source in _UNIQUE_IDS:
                _unique_archive_id(entry, positions, where)
            entries.append(entry)
        else:
            where = _Where(name, len(statements) + 1, 0)
            node = _Node(element, stop=_STMT_STOP, where=(name, where.statement_label()))
            statements.append(_statement(node, source, where, entries))
            entries = []
            positions = {}
    if not statements:
        raise StatementError(f"{name}: has no {container_name} (no statement in the file)")
    return statements


def _unique_archive_id(entry: Entry, positions: dict[str, int], where: "_Where") -> None:
    """Refuse a second entry with an archive id already used in this statement."""
    earlier = positions.setdefault(entry.archive_id, entry.position)
    if earlier != entry.position:
        raise StatementError(
            f"{where.name}: {where.entry_label()} has archive id (AcctSvcrRef) "
            f"{entry.archive_id}, which entry {earlier} of the same statement already has"
        )


# Sub-trees that are indexed on their own: items, and (already released) entries.
_NTRY_STOP = frozenset({"NtryDtls/TxDtls"})
_STMT_STOP = frozenset({"Ntry"})
_NO_STOP: frozenset[str] = frozenset()


class _Node:
    """An element's descendants indexed by local-name path (``BookgDt/Dt``) in one walk.

    One walk over the children is several times faster than an lxml ``find`` per field, which
    matters at 100 000 entries. Paths listed in ``stop`` are indexed but not walked into.
    ``where`` is (file name, place) for the refusal of a text with hidden characters.
    """

    __slots__ = ("element", "_paths", "_where")

    def __init__(self, element: etree._Element, *, stop: frozenset[str] = _NO_STOP,
                 where: tuple[str, str] = ("", "")) -> None:
        self.element = element
        self._where = where
        self._paths: dict[str, list[etree._Element]] = {}
        self._walk(element, "", stop)

    def _walk(self, element: etree._Element, prefix: str, stop: frozenset[str]) -> None:
        paths = self._paths
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            path = prefix + tag[tag.find("}") + 1:]
            found = paths.get(path)
            if found is None:
                paths[path] = [child]
            else:
                found.append(child)
            if len(child) and path not in stop:
                self._walk(child, path + "/", stop)

    def all(self, path: str) -> list[etree._Element]:
        return self._paths.get(path, [])

    def first(self, path: str) -> etree._Element | None:
        found = self._paths.get(path)
        return found[0] if found else None

    def text(self, path: str, *, free: bool = False) -> str | None:
        """Stripped, checked text of the first element at ``path``; empty or missing -> None.

        ``free``: a message or a name, whose line breaks become spaces.
        """
        found = self._paths.get(path)
        if not found or found[0].text is None:
            return None
        return self._checked(found[0].text, path, free)

    def texts(self, path: str, *, free: bool = False) -> list[str]:
        checked = (self._checked(e.text, path, free) for e in self.all(path) if e.text)
        return [t for t in checked if t]

    def _checked(self, raw: str, path: str, free: bool) -> str | None:
        if not (raw.isascii() and raw.isprintable()):
            # Only ASCII blanks first: a hidden character at either end must still be seen.
            name, where = self._where
            raw = check_text(raw.strip(" \t\r\n"), name=name, where=where, field=path,
                             free=free) or ""
        return raw.strip() or None

    def choice(self, path: str) -> str | None:
        """Text of ``path``, or of its ``Cd``/``Prtry`` child (the .06+ choice wrappers)."""
        return self.text(path) or self.text(f"{path}/Cd") or self.text(f"{path}/Prtry")

    def date(self, path: str, name: str, where: str) -> date | None:
        """``path/Dt``, or the date part of ``path/DtTm``."""
        text = self.text(f"{path}/Dt") or self.text(f"{path}/DtTm")
        return iso_date(text, name=name, where=where)


@dataclass(frozen=True, slots=True)
class _Where:
    """Where in the file a value is, for messages: ``entry 3``, ``statement 2 entry 3``."""

    name: str
    statement: int
    entry: int

    def entry_label(self) -> str:
        if self.statement == 1:
            return f"entry {self.entry}"
        return f"statement {self.statement} entry {self.entry}"

    def statement_label(self) -> str:
        return "statement" if self.statement == 1 else f"statement {self.statement}"


def _signed_amount(
    amount_element: etree._Element | None, indicator: str | None, where: str, name: str
) -> tuple[int, str | None]:
    """(signed cents, currency) from an ``Amt`` element and a CdtDbtInd value."""
    if amount_element is None:
        raise StatementError(f"{name}: {where} has no amount")
    cents = amount_cents(amount_element.text, name=name, where=where)
    if indicator == "DBIT":
        return -cents, amount_element.get("Ccy")
    if indicator == "CRDT":
        return cents, amount_element.get("Ccy")
    shown = indicator if indicator is not None else "nothing"
    raise StatementError(f"{name}: {where} has CdtDbtInd {shown}; expected CRDT or DBIT")


def _entry(ntry: _Node, where: _Where, stmt: etree._Element) -> Entry:
    name = where.name
    label = where.entry_label()
    amount, currency = _signed_amount(ntry.first("Amt"), ntry.text("CdtDbtInd"), label, name)
    if not currency:
        raise StatementError(f"{name}: {label} has an amount without a currency (Amt@Ccy)")
    status = ntry.choice("Sts")
    if status not in _STATUSES:
        raise StatementError(
            f"{name}: {label} has status {status or 'nothing'}; expected BOOK, PDNG or INFO"
        )
    booked_on = ntry.date("BookgDt", name, f"{label} booking date")
    value_on = ntry.date("ValDt", name, f"{label} value date")
    reversal = (ntry.text("RvslInd") or "false").lower() in ("true", "1")
    archive_id = ntry.text("AcctSvcrRef")
    if archive_id is None:
        if status == "BOOK":
            raise StatementError(f"{name}: {label} is booked but has no archive id (AcctSvcrRef)")
        # Unbooked entries are never posted, but they still need a key to be shown and skipped;
        # it is derived from what identifies them in this statement so a re-read gives the same.
        header = _Node(stmt, stop=_STMT_STOP, where=(name, where.statement_label()))
        archive_id = stable_id(
            "camt", header.text("Acct/Id/IBAN"), header.text("Id"), where.entry,
            amount, booked_on, value_on, ntry.text("NtryRef"),
        )
    bank_code = ntry.text("BkTxCd/Prtry/Cd") or _iso_bank_code(ntry)

    details = ntry.all("NtryDtls/TxDtls")
    if details:
        items = tuple(
            _item(_Node(tx, where=(name, f"{label} item {index}")), where, index, amount,
                  currency, only=len(details) == 1)
            for index, tx in enumerate(details, start=1)
        )
    else:
        message = " ".join(ntry.texts("AddtlNtryInf", free=True)) or None
        items = (Item(amount, None, None, None, None, message, None, None, None, None),)
    return Entry(
        position=where.entry,
        archive_id=archive_id,
        amount_cents=amount,
        currency=currency,
        status=status,
        booked_on=booked_on,
        value_on=value_on,
        reversal=reversal,
        bank_code=bank_code,
        items=items,
    )


def _iso_bank_code(ntry: _Node) -> str | None:
    parts = [
        ntry.text("BkTxCd/Domn/Cd"),
        ntry.text("BkTxCd/Domn/Fmly/Cd"),
        ntry.text("BkTxCd/Domn/Fmly/SubFmlyCd"),
    ]
    present = [p for p in parts if p]
    return "/".join(present) if present else None


def _item(
    tx: _Node,
    where: _Where,
    index: int,
    entry_amount: int,
    entry_currency: str,
    *,
    only: bool,
) -> Item:
    name = where.name
    label = f"{where.entry_label()} item {index}"
    # .03+ may carry the amount directly on TxDtls instead of in AmtDtls.
    amount_element = tx.first("AmtDtls/TxAmt/Amt")
    if amount_element is None:
        amount_element = tx.first("Amt")
    if amount_element is None:
        if not only:
            raise StatementError(f"{name}: {label} has no amount (AmtDtls/TxAmt/Amt)")
        # A single detail without its own amount is the whole entry.
        amount = entry_amount
    else:
        unsigned = amount_cents(amount_element.text, name=name, where=label)
        currency = amount_element.get("Ccy")
        if currency and currency != entry_currency:
            raise StatementError(
                f"{name}: {label} has currency {currency}, its entry has {entry_currency}"
            )
        amount = -unsigned if entry_amount < 0 else unsigned

    reference, kind = _reference(tx, (name, label))
    end_to_end = tx.text("Refs/EndToEndId")
    if end_to_end is not None and end_to_end.upper() == "NOTPROVIDED":
        end_to_end = None
    credit = entry_amount >= 0
    counterparty_name, counterparty_iban = _party(tx, "Dbtr" if credit else "Cdtr")
    if counterparty_name is None and counterparty_iban is None:
        # Returns and some bank conventions name only the other side; better that than nothing.
        counterparty_name, counterparty_iban = _party(tx, "Cdtr" if credit else "Dbtr")
    return Item(
        amount_cents=amount,
        archive_id=tx.text("Refs/AcctSvcrRef"),
        end_to_end_id=end_to_end,
        reference=reference,
        reference_kind=kind,
        message=" ".join(tx.texts("RmtInf/Ustrd", free=True)) or None,
        counterparty_name=counterparty_name,
        counterparty_iban=counterparty_iban,
        return_reason=tx.text("RtrInf/Rsn/Cd"),
        payment_date=iso_date(tx.text("RltdDts/AccptncDtTm"), name=name,
                              where=f"{label} payment date"),
    )


def _reference(tx: _Node, where: tuple[str, str]) -> tuple[str | None, str | None]:
    """The first creditor reference and its kind (SCOR = Finnish, ISO = RF)."""
    for element in tx.all("RmtInf/Strd/CdtrRefInf"):
        info = _Node(element, where=where)
        reference = compact(info.text("Ref"))
        if reference is None:
            continue
        issuer = info.text("Tp/Issr")
        code = info.text("Tp/CdOrPrtry/Cd")
        if (issuer or "").upper() == "ISO" or reference[:2].upper() == "RF":
            return reference, "ISO"
        if code == "SCOR" and issuer is None:
            return reference, "SCOR"
        return reference, None
    return None, None


def _party(tx: _Node, role: str) -> tuple[str | None, str | None]:
    name = (tx.text(f"RltdPties/{role}/Nm", free=True)
            or tx.text(f"RltdPties/{role}/Pty/Nm", free=True))
    iban = clean_iban(tx.text(f"RltdPties/{role}Acct/Id/IBAN"))
    return name, iban


def _statement(stmt: _Node, source: str, where: _Where, entries: list[Entry]) -> Statement:
    name = where.name
    label = where.statement_label()
    statement_id = stmt.text("Id")
    if statement_id is None:
        raise StatementError(f"{name}: {label} has no Id")
    iban = clean_iban(stmt.text("Acct/Id/IBAN"))
    if iban is None:
        raise StatementError(f"{name}: {label} {statement_id} has no account IBAN (Acct/Id/IBAN)")
    balances, balance_currency = _balances(stmt, name, label)
    first_entry_currency = entries[0].currency if entries else None
    currency = stmt.text("Acct/Ccy") or balance_currency or first_entry_currency
    if currency is None:
        raise StatementError(f"{name}: {label} {statement_id} has no currency (Acct/Ccy)")
    created_at = iso_datetime(stmt.text("CreDtTm") or _group_created(stmt.element, name),
                              name=name, where=f"{label} creation time")
    return Statement(
        source=source,
        statement_id=statement_id,
        iban=iban,
        currency=currency,
        created_at=created_at,
        from_on=iso_date(stmt.text("FrToDt/FrDtTm"), name=name, where=f"{label} FrDtTm"),
        to_on=iso_date(stmt.text("FrToDt/ToDtTm"), name=name, where=f"{label} ToDtTm"),
        balances=balances,
        entries=tuple(entries),
    )


def _group_created(stmt: etree._Element, name: str) -> str | None:
    message = stmt.getparent()
    if message is None:
        return None
    header = _Node(message, stop=frozenset(_CONTAINERS.values()), where=(name, "group header"))
    return header.text("GrpHdr/CreDtTm")


def _balances(stmt: _Node, name: str, label: str) -> tuple[tuple[Balance, ...], str | None]:
    balances: list[Balance] = []
    currency: str | None = None
    for element in stmt.all("Bal"):
        bal = _Node(element, where=(name, f"{label} balance"))
        code = bal.text("Tp/CdOrPrtry/Cd") or bal.text("Tp/CdOrPrtry/Prtry")
        label = f"balance {code or '(no code)'}"
        if code not in _BALANCE_CODES:
            # ITAV, FWAV, ... carry nothing the ledger reconciles against or stores.
            continue
        cents, ccy = _signed_amount(bal.first("Amt"), bal.text("CdtDbtInd"), label, name)
        on = bal.date("Dt", name, f"{label} date")
        if on is None:
            raise StatementError(f"{name}: {label} has no date")
        currency = currency or ccy
        balances.append(Balance(code=code, amount_cents=cents, on=on))
    return tuple(balances), currency
