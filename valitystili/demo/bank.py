"""A simulated bank for the demo and for round-trip tests.

It keeps the city account's balance, books credits (Kela's payments, reference payments) and
executes our pain.001 files, and writes what a Finnish bank would send back: camt.054
notifications during the day and the camt.053 statement the next morning, in the shape of
Finance Finland's samples (camt.*.001.02). Reference payments are booked on the statement as
one lump sum per day (Finnish transaction code 705) and itemised in camt.054 under the same
archive id; other credits and every executed payment are entries of their own. Nothing here
reads or writes the database.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from lxml import etree

NS053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
NS054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
#: How payment files are read: no entities resolved, nothing fetched from the network.
_PARSING = {"resolve_entities": False, "no_network": True}
PAIN_NS = ("urn:iso:std:iso:20022:tech:xsd:pain.001.001.09",
           "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03")


@dataclass(frozen=True)
class Credit:
    amount_cents: int
    payer: str
    payer_iban: str | None = None
    reference: str | None = None        # a Finnish or RF reference: booked as a 705 payment
    message: str | None = None


@dataclass(frozen=True)
class Debit:
    amount_cents: int
    creditor: str
    creditor_iban: str
    end_to_end_id: str
    reference: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Return:
    """One of our payments coming back (wrong account, closed account)."""

    amount_cents: int
    end_to_end_id: str
    reason: str = "AC04"
    payer: str = ""


@dataclass
class _Day:
    credits: list[Credit] = field(default_factory=list)
    debits: list[Debit] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)


def _amount(cents: int) -> str:
    return f"{Decimal(abs(cents)) / 100:.2f}"


class SimulatedBank:
    def __init__(self, iban: str, bic: str, opening_cents: int = 0):
        self.iban = iban
        self.bic = bic
        self.balance_cents = opening_cents
        self.days: dict[date, _Day] = {}
        self._sequence = 0

    def _day(self, on: date) -> _Day:
        return self.days.setdefault(on, _Day())

    def forget(self, on: date) -> None:
        """Let go of a day once its statement is written: its balance is carried on, and a
        long run keeps the days still to be stated, not every day it has seen."""
        self.days.pop(on, None)

    def credit(self, on: date, credit: Credit) -> None:
        self._day(on).credits.append(credit)

    def execute_pain001(self, xml: bytes, rejected_ibans: frozenset[str] = frozenset()) -> list[Debit]:
        """Book every transfer of a payment file on its execution date; transfers to a
        rejected IBAN come back as returns two days later... on the same statement day here.

        The file is read a transfer at a time, each let go of once booked."""
        debits = []
        _start, root = next(etree.iterparse(io.BytesIO(xml), events=("start",), **_PARSING))
        ns = root.nsmap.get(None)
        if ns not in PAIN_NS:
            raise ValueError("not a pain.001.001.09/.03 document")
        p = {"p": ns}
        on = None
        for _end, element in etree.iterparse(io.BytesIO(xml), tag=(f"{{{ns}}}ReqdExctnDt",
                                                                   f"{{{ns}}}CdtTrfTxInf"),
                                             **_PARSING):
            if element.tag.endswith("}ReqdExctnDt"):
                on = date.fromisoformat(element.findtext("p:Dt", namespaces=p) or element.text)
                continue
            find = lambda path, tx=element: tx.findtext(
                "/".join(f"p:{part}" for part in path.split("/")), namespaces=p)
            debit = Debit(
                amount_cents=int(Decimal(find("Amt/InstdAmt")) * 100),
                creditor=find("Cdtr/Nm"), creditor_iban=find("CdtrAcct/Id/IBAN"),
                end_to_end_id=find("PmtId/EndToEndId"),
                reference=find("RmtInf/Strd/CdtrRefInf/Ref"), message=find("RmtInf/Ustrd"))
            self._day(on).debits.append(debit)
            if debit.creditor_iban in rejected_ibans:
                self._day(on).returns.append(Return(debit.amount_cents, debit.end_to_end_id,
                                                    "AC04", debit.creditor))
            debits.append(debit)
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
        return debits

    # --- files ---------------------------------------------------------------------------

    def camt054(self, on: date) -> bytes | None:
        """The day's notification: every credit itemised under its entry's archive id."""
        day = self.days.get(on)
        if day is None or not day.credits:
            return None
        x = _Writer(NS054)
        document = x.root("Document")
        message = x.sub(document, "BkToCstmrDbtCdtNtfctn")
        _header(x, message, f"MSG054{on:%Y%m%d}", _stamp(on, 18))
        notification = x.sub(message, "Ntfctn")
        x.sub(notification, "Id", f"NTF{on:%Y%m%d}")
        x.sub(notification, "CreDtTm", _stamp(on, 18))
        self._account(x, notification)
        return x.document(document, notification, self._entries(on, day, itemised_only=True))

    def camt053(self, on: date) -> bytes:
        """The day's statement (sent the next morning), with opening and closing balances."""
        day = self.days.get(on, _Day())
        opening = self.balance_cents
        entries = self._entries(on, day, itemised_only=False)
        movement = (sum(c.amount_cents for c in day.credits) - sum(d.amount_cents for d in day.debits)
                    + sum(r.amount_cents for r in day.returns))
        self.balance_cents = opening + movement
        x = _Writer(NS053)
        document = x.root("Document")
        message = x.sub(document, "BkToCstmrStmt")
        _header(x, message, f"MSG053{on:%Y%m%d}", _stamp(on, 21))
        statement = x.sub(message, "Stmt")
        x.sub(statement, "Id", f"STMT{on:%Y%m%d}")
        x.sub(statement, "CreDtTm", _stamp(on, 21))
        period = x.sub(statement, "FrToDt")
        x.sub(period, "FrDtTm", f"{on.isoformat()}T00:00:00+02:00")
        x.sub(period, "ToDtTm", f"{on.isoformat()}T23:59:59+02:00")
        self._account(x, statement)
        _balance(x, statement, "OPBD", opening, on)
        _balance(x, statement, "CLBD", self.balance_cents, on)
        return x.document(document, statement, entries)

    def _account(self, x: _Writer, parent) -> None:
        account = x.sub(parent, "Acct")
        x.path(account, "Id/IBAN", self.iban)
        x.sub(account, "Ccy", "EUR")
        x.path(account, "Svcr/FinInstnId/BIC", self.bic)

    def _entries(self, on: date, day: _Day, *, itemised_only: bool):
        """Entry writers ``(writer, parent)`` in a fixed order, with archive ids stable for the
        day.

        Credits are lump sums per kind (705 reference payments, 700 other SEPA credits): in the
        notification itemised, on the statement as the lump alone. Debits (our executed
        payments) and returns are entries of their own, on the statement only.
        """
        writers = []
        stamp = f"{on:%y%m%d}"
        for code, credits in (("705", [c for c in day.credits if c.reference]),
                              ("700", [c for c in day.credits if not c.reference])):
            if not credits:
                continue
            archive = f"{stamp}ARCH{code}"
            items = [(f"{archive}{i:05d}", c) for i, c in enumerate(credits, 1)]
            writers.append(lambda x, parent, a=archive, its=items, k=code: _entry(
                x, parent, a, sum(c.amount_cents for _, c in its), on, k, its,
                itemise=itemised_only))
        if not itemised_only:
            for i, back in enumerate(day.returns, 1):
                archive = f"{stamp}ARCHRTN{i:05d}"
                writers.append(lambda x, parent, a=archive, r=back: _return_entry(
                    x, parent, a, r, on))
            for i, debit in enumerate(day.debits, 1):
                archive = f"{stamp}ARCH720{i:05d}"
                writers.append(lambda x, parent, a=archive, d=debit: _debit_entry(
                    x, parent, a, d, on))
        return writers


class _Writer:
    """Elements of one namespace, each made in place under its parent (top down: lxml then
    never moves a subtree between documents, which made a day's statement slow)."""

    def __init__(self, ns: str):
        self.ns = ns

    def document(self, document, container, entries) -> bytes:
        """``document`` pretty-printed with each of ``entries`` (writers of one ``Ntry``) added
        at the end of ``container``, the same bytes as the whole tree would print, but one
        entry held at a time: a day of 20,000 payments is never a tree of 700,000 elements."""
        frame = etree.tostring(document, xml_declaration=True, encoding="UTF-8",
                               pretty_print=True)
        end = frame.rindex(b"\n", 0, frame.rindex(b"</" + etree.QName(container).localname.encode()
                                                  + b">")) + 1
        level = sum(1 for _ in container.iterancestors()) + 1
        declaration = f' xmlns="{self.ns}"'.encode()
        parts = [frame[:end]]
        for write in entries:
            holder = self.root(etree.QName(container).localname)    # let go of as a whole
            write(self, holder)
            etree.indent(holder[0], space=INDENT, level=level)
            parts += [INDENT.encode() * level, etree.tostring(
                holder[0], encoding="UTF-8", with_tail=False).replace(declaration, b"", 1),
                b"\n"]
        parts.append(frame[end:])
        return b"".join(parts)

    def root(self, tag: str):
        return etree.Element(f"{{{self.ns}}}{tag}", nsmap={None: self.ns})

    def sub(self, parent, tag: str, text: str | None = None, **attrs):
        element = etree.SubElement(parent, f"{{{self.ns}}}{tag}", **attrs)
        if text is not None:
            element.text = text
        return element

    def path(self, parent, path: str, text: str | None = None, **attrs):
        """Nested elements ``A/B/C`` under ``parent``; the last gets ``text`` and ``attrs``."""
        *outer, last = path.split("/")
        for tag in outer:
            parent = self.sub(parent, tag)
        return self.sub(parent, last, text, **attrs)


#: One level of the documents' indentation (lxml's pretty printing).
INDENT = "  "


def _header(x: _Writer, parent, message_id: str, created: str) -> None:
    header = x.sub(parent, "GrpHdr")
    x.sub(header, "MsgId", message_id)
    x.sub(header, "CreDtTm", created)


def _stamp(on: date, hour: int) -> str:
    return datetime(on.year, on.month, on.day, hour, 0, tzinfo=UTC).isoformat()


def _balance(x: _Writer, parent, code: str, cents: int, on: date) -> None:
    balance = x.sub(parent, "Bal")
    x.path(balance, "Tp/CdOrPrtry/Cd", code)
    x.sub(balance, "Amt", _amount(cents), Ccy="EUR")
    x.sub(balance, "CdtDbtInd", "CRDT" if cents >= 0 else "DBIT")
    x.path(balance, "Dt/Dt", on.isoformat())


def _head(x: _Writer, parent, archive: str, cents: int, on: date, indicator: str, code: str):
    """An entry (``Ntry``) under ``parent`` with its amount, dates, archive id and code."""
    entry = x.sub(parent, "Ntry")
    x.sub(entry, "Amt", _amount(cents), Ccy="EUR")
    x.sub(entry, "CdtDbtInd", indicator)
    x.sub(entry, "Sts", "BOOK")
    x.path(entry, "BookgDt/Dt", on.isoformat())
    x.path(entry, "ValDt/Dt", on.isoformat())
    x.sub(entry, "AcctSvcrRef", archive)
    code_element = x.path(entry, "BkTxCd/Prtry/Cd", code)
    x.sub(code_element.getparent(), "Issr", "FFFS")
    return entry


def _entry(x: _Writer, parent, archive, cents, on, code, items, itemise=True) -> None:
    details = x.sub(_head(x, parent, archive, cents, on, "CRDT", code), "NtryDtls")
    x.path(details, "Btch/NbOfTxs", str(len(items)))
    if not itemise:
        return
    for item_archive, credit in items:
        tx = x.sub(details, "TxDtls")
        x.path(tx, "Refs/AcctSvcrRef", item_archive)
        x.path(tx, "AmtDtls/TxAmt/Amt", _amount(credit.amount_cents), Ccy="EUR")
        parties = x.sub(tx, "RltdPties")
        x.path(parties, "Dbtr/Nm", credit.payer)
        if credit.payer_iban:
            x.path(parties, "DbtrAcct/Id/IBAN", credit.payer_iban)
        _remittance(x, tx, credit.reference, credit.message)


def _remittance(x: _Writer, parent, reference: str | None, message: str | None) -> None:
    """A structured reference (``Strd``), or else the message (``Ustrd``)."""
    remittance = x.sub(parent, "RmtInf")
    if not reference:
        x.sub(remittance, "Ustrd", message or "")
        return
    creditor_reference = x.path(remittance, "Strd/CdtrRefInf")
    kind = x.sub(creditor_reference, "Tp")
    x.path(kind, "CdOrPrtry/Cd", "SCOR")
    if reference.upper().startswith("RF"):
        x.sub(kind, "Issr", "ISO")
    x.sub(creditor_reference, "Ref", reference)


def _debit_entry(x: _Writer, parent, archive, debit: Debit, on) -> None:
    tx = x.path(_head(x, parent, archive, debit.amount_cents, on, "DBIT", "720"),
                "NtryDtls/TxDtls")
    refs = x.sub(tx, "Refs")
    x.sub(refs, "AcctSvcrRef", archive + "1")
    x.sub(refs, "EndToEndId", debit.end_to_end_id)
    x.path(tx, "AmtDtls/TxAmt/Amt", _amount(debit.amount_cents), Ccy="EUR")
    parties = x.sub(tx, "RltdPties")
    x.path(parties, "Cdtr/Nm", debit.creditor)
    x.path(parties, "CdtrAcct/Id/IBAN", debit.creditor_iban)
    _remittance(x, tx, debit.reference, debit.message)


def _return_entry(x: _Writer, parent, archive, back: Return, on) -> None:
    tx = x.path(_head(x, parent, archive, back.amount_cents, on, "CRDT", "710"),
                "NtryDtls/TxDtls")
    refs = x.sub(tx, "Refs")
    x.sub(refs, "AcctSvcrRef", archive + "1")
    x.sub(refs, "EndToEndId", back.end_to_end_id)
    x.path(tx, "AmtDtls/TxAmt/Amt", _amount(back.amount_cents), Ccy="EUR")
    x.path(tx, "RltdPties/Dbtr/Nm", back.payer or "RETURN")
    x.path(tx, "RtrInf/Rsn/Cd", back.reason)
