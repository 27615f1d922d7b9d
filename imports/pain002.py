"""pain.002 reader: the bank's status report on a payment file (pain.001) we sent.

Rules:

- Accepted namespaces: ``urn:iso:std:iso:20022:tech:xsd:pain.002.001.03`` and
  ``pain.002.001.10`` (the customer payment status report, ``CstmrPmtStsRpt``); the parts read
  here have the same shape in both. Anything else is refused as "not a pain.002.001.03/.10
  document" before the body is parsed.
- XML is parsed only through ``imports.xmlsafe`` (size cap, no DOCTYPE, no entities, no network),
  exactly as a camt statement.
- What is read: the report's own ``GrpHdr/MsgId`` and ``CreDtTm``; from
  ``OrgnlGrpInfAndSts`` the id of the message it answers (``OrgnlMsgId``, required), that
  message's name (``OrgnlMsgNmId``), the group status (``GrpSts``) and its reasons; each
  ``OrgnlPmtInfAndSts`` (``OrgnlPmtInfId``, ``PmtInfSts``, reasons) with each of its
  ``TxInfAndSts`` (``OrgnlEndToEndId``, ``OrgnlInstrId``, ``TxSts``, reasons, and the original
  amount ``OrgnlTxRef/Amt/InstdAmt`` when given). A reason is ``StsRsnInf/Rsn/Cd`` (an ISO
  code such as AC04) or ``Rsn/Prtry``.
- A status must be one of :data:`STATUSES` (ISO ExternalPaymentGroupStatus1Code and
  ExternalPaymentTransactionStatus1Code); a reason code is 1–35 letters and digits. A report that
  says nothing (no group status and no payment information) is refused, and so is a transaction
  with neither an end-to-end id nor an instruction id, or without a status of its own or of
  its payment information or group.
- ``NOTPROVIDED`` as an end-to-end id is no id.
- Every text is checked for hidden characters (``parsing.check_text``) and every refusal is a
  ``StatementError`` whose one line starts with the file name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from imports.errors import StatementError
from imports.parsing import (
    DEFAULT_MAX_BYTES,
    amount_cents,
    check_text,
    display_name,
    iso_datetime,
)
from imports.xmlsafe import iter_elements, root_tag

_NS_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
PAIN002_NAMESPACES = {f"{_NS_PREFIX}pain.002.001.03": "03", f"{_NS_PREFIX}pain.002.001.10": "10"}
NOT_PAIN002 = "not a pain.002.001.03/.10 document"

#: Group, payment-information and transaction statuses a bank may report.
STATUSES = frozenset({
    "ACCC", "ACCP", "ACFC", "ACIS", "ACPD", "ACSC", "ACSP", "ACTC", "ACWC", "ACWP", "BLCK",
    "CANC", "PART", "PATC", "PDNG", "PRES", "RCVD", "RJCT",
})
REJECTED = "RJCT"
_REASON = re.compile(r"[A-Za-z0-9]{1,35}")


@dataclass(frozen=True, slots=True)
class TransactionStatus:
    """One payment's status (``TxInfAndSts``). ``status`` None: its block's status holds."""

    position: int
    end_to_end_id: str | None
    instruction_id: str | None
    status: str | None
    reasons: tuple[str, ...]
    amount_cents: int | None
    currency: str | None

    @property
    def ident(self) -> str:
        return self.end_to_end_id or self.instruction_id or ""


@dataclass(frozen=True, slots=True)
class PaymentInfoStatus:
    """One payment-information block's status (``OrgnlPmtInfAndSts``)."""

    position: int
    payment_info_id: str
    status: str | None
    reasons: tuple[str, ...]
    transactions: tuple[TransactionStatus, ...]


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A whole pain.002 file. ``version`` is ``"03"`` or ``"10"``."""

    version: str
    message_id: str
    created_at: datetime | None
    original_message_id: str
    original_message_name: str | None
    group_status: str | None
    group_reasons: tuple[str, ...]
    payments: tuple[PaymentInfoStatus, ...]


def pain002_version(namespace: str) -> str | None:
    """``"03"`` or ``"10"`` for an accepted namespace, else None."""
    return PAIN002_NAMESPACES.get(namespace)


def read_pain002(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
                 ) -> StatusReport:
    """Read a pain.002.001.03 or .10 status report (see the module rules)."""
    name = display_name(path)
    tag = root_tag(path, max_bytes=max_bytes)
    namespace = tag[1:].partition("}")[0] if tag.startswith("{") else ""
    version = pain002_version(namespace)
    if version is None:
        raise StatementError(f"{name}: {NOT_PAIN002} (namespace {namespace or 'no namespace'})")
    ns = f"{{{namespace}}}"
    wanted = (f"{ns}GrpHdr", f"{ns}OrgnlGrpInfAndSts", f"{ns}OrgnlPmtInfAndSts")
    header: dict[str, str | None] = {}
    group: tuple[str | None, str | None, str | None, tuple[str, ...]] | None = None
    payments: list[PaymentInfoStatus] = []
    for element in iter_elements(path, wanted, max_bytes=max_bytes):
        parent = element.getparent()
        if parent is None or parent.tag != f"{ns}CstmrPmtStsRpt":
            continue
        reader = _Reader(element, ns, name)
        if element.tag == wanted[0]:
            header = {"id": reader.text("MsgId", "group header"),
                      "created": reader.text("CreDtTm", "group header")}
        elif element.tag == wanted[1]:
            where = "original group"
            group = (reader.text("OrgnlMsgId", where), reader.text("OrgnlMsgNmId", where),
                     reader.status("GrpSts", where), reader.reasons(element, where))
        else:
            payments.append(_payment(reader, len(payments) + 1))
    if not header.get("id"):
        raise StatementError(f"{name}: the report has no message id (GrpHdr/MsgId)")
    if group is None or not group[0]:
        raise StatementError(
            f"{name}: the report names no original message (OrgnlGrpInfAndSts/OrgnlMsgId)")
    original_id, original_name, group_status, group_reasons = group
    if group_status is None and not payments:
        raise StatementError(f"{name}: the report gives no status (no GrpSts and no "
                             "OrgnlPmtInfAndSts)")
    for payment in payments:
        for tx in payment.transactions:
            if (tx.status or payment.status or group_status) is None:
                raise StatementError(f"{name}: payment information {payment.position} "
                                     f"transaction {tx.position} has no status (TxSts)")
    return StatusReport(
        version=version, message_id=header["id"],
        created_at=iso_datetime(header.get("created"), name=name,
                                where="group header creation time"),
        original_message_id=original_id, original_message_name=original_name,
        group_status=group_status, group_reasons=group_reasons, payments=tuple(payments))


def _payment(reader: _Reader, position: int) -> PaymentInfoStatus:
    where = f"payment information {position}"
    payment_info_id = reader.text("OrgnlPmtInfId", where)
    if payment_info_id is None:
        raise StatementError(f"{reader.name}: {where} has no OrgnlPmtInfId")
    transactions = []
    for index, element in enumerate(reader.element.iterchildren(f"{reader.ns}TxInfAndSts"),
                                    start=1):
        tx = _Reader(element, reader.ns, reader.name)
        label = f"{where} transaction {index}"
        end_to_end = tx.text("OrgnlEndToEndId", label)
        if end_to_end is not None and end_to_end.upper() == "NOTPROVIDED":
            end_to_end = None
        instruction = tx.text("OrgnlInstrId", label)
        if end_to_end is None and instruction is None:
            raise StatementError(f"{reader.name}: {label} names no payment "
                                 "(no OrgnlEndToEndId or OrgnlInstrId)")
        amount_element = element.find(f"{reader.ns}OrgnlTxRef/{reader.ns}Amt/{reader.ns}InstdAmt")
        amount = currency = None
        if amount_element is not None:
            amount = amount_cents(amount_element.text, name=reader.name, where=label)
            currency = amount_element.get("Ccy")
        transactions.append(TransactionStatus(
            index, end_to_end, instruction, tx.status("TxSts", label),
            tx.reasons(element, label), amount, currency))
    return PaymentInfoStatus(position, payment_info_id, reader.status("PmtInfSts", where),
                             reader.reasons(reader.element, where), tuple(transactions))


class _Reader:
    """Checked texts of one element's direct children (and their reasons)."""

    __slots__ = ("element", "name", "ns")

    def __init__(self, element: etree._Element, ns: str, name: str) -> None:
        self.element, self.ns, self.name = element, ns, name

    def text(self, child: str, where: str, element: etree._Element | None = None) -> str | None:
        found = (self.element if element is None else element).find(
            "/".join(f"{self.ns}{part}" for part in child.split("/")))
        if found is None or found.text is None:
            return None
        value = check_text(found.text.strip(), name=self.name, where=where, field=child)
        return value or None

    def status(self, child: str, where: str) -> str | None:
        value = self.text(child, where)
        if value is not None and value not in STATUSES:
            raise StatementError(f"{self.name}: {where} has status {value} ({child}); expected "
                                 "one of the ISO codes, e.g. ACCP, ACTC, ACSP, PART, RJCT")
        return value

    def reasons(self, element: etree._Element, where: str) -> tuple[str, ...]:
        codes = []
        for info in element.iterchildren(f"{self.ns}StsRsnInf"):
            code = (self.text("Rsn/Cd", where, info) or self.text("Rsn/Prtry", where, info))
            if code is None:
                continue
            if not _REASON.fullmatch(code):
                raise StatementError(f"{self.name}: {where} has reason code {code!r}, which is "
                                     "not a code (letters and digits)")
            codes.append(code.upper())
        return tuple(codes)
