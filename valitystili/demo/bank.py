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

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from lxml import etree

NS053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
NS054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
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
        rejected IBAN come back as returns two days later... on the same statement day here."""
        debits = []
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        ns = root.nsmap.get(None)
        if ns not in PAIN_NS:
            raise ValueError("not a pain.001.001.09/.03 document")
        q = lambda path: "/".join(f"p:{part}" for part in path.split("/"))
        for block in root.iterfind(".//p:PmtInf", {"p": ns}):
            when = block.findtext(q("ReqdExctnDt/Dt"), namespaces={"p": ns}) or \
                block.findtext("p:ReqdExctnDt", namespaces={"p": ns})
            on = date.fromisoformat(when)
            for tx in block.iterfind("p:CdtTrfTxInf", {"p": ns}):
                find = lambda path, tx=tx: tx.findtext(q(path), namespaces={"p": ns})
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
        return debits

    # --- files ---------------------------------------------------------------------------

    def camt054(self, on: date) -> bytes | None:
        """The day's notification: every credit itemised under its entry's archive id."""
        day = self.days.get(on)
        if day is None or not day.credits:
            return None
        E = _maker(NS054)
        notification = E("Ntfctn", E("Id", f"NTF{on:%Y%m%d}"),
                         E("CreDtTm", _stamp(on, 18)), self._account(E))
        for entry in self._entries(on, day, itemised_only=True):
            notification.append(entry(E))
        document = E("Document", E("BkToCstmrDbtCdtNtfctn",
                                   E("GrpHdr", E("MsgId", f"MSG054{on:%Y%m%d}"), E("CreDtTm", _stamp(on, 18))),
                                   notification))
        return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def camt053(self, on: date) -> bytes:
        """The day's statement (sent the next morning), with opening and closing balances."""
        day = self.days.get(on, _Day())
        opening = self.balance_cents
        entries = self._entries(on, day, itemised_only=False)
        movement = (sum(c.amount_cents for c in day.credits) - sum(d.amount_cents for d in day.debits)
                    + sum(r.amount_cents for r in day.returns))
        self.balance_cents = opening + movement
        E = _maker(NS053)
        statement = E("Stmt", E("Id", f"STMT{on:%Y%m%d}"), E("CreDtTm", _stamp(on, 21)),
                      E("FrToDt", E("FrDtTm", f"{on.isoformat()}T00:00:00+02:00"),
                        E("ToDtTm", f"{on.isoformat()}T23:59:59+02:00")),
                      self._account(E), _balance(E, "OPBD", opening, on),
                      _balance(E, "CLBD", self.balance_cents, on))
        for entry in entries:
            statement.append(entry(E))
        document = E("Document", E("BkToCstmrStmt",
                                   E("GrpHdr", E("MsgId", f"MSG053{on:%Y%m%d}"), E("CreDtTm", _stamp(on, 21))),
                                   statement))
        return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def _account(self, E):
        return E("Acct", E("Id", E("IBAN", self.iban)), E("Ccy", "EUR"),
                 E("Svcr", E("FinInstnId", E("BIC", self.bic))))

    def _entries(self, on: date, day: _Day, *, itemised_only: bool):
        """Entry builders in a fixed order, with archive ids stable for the day.

        Credits are lump sums per kind (705 reference payments, 700 other SEPA credits): in the
        notification itemised, on the statement as the lump alone. Debits (our executed
        payments) and returns are entries of their own, on the statement only.
        """
        builders = []
        stamp = f"{on:%y%m%d}"
        for code, credits in (("705", [c for c in day.credits if c.reference]),
                              ("700", [c for c in day.credits if not c.reference])):
            if not credits:
                continue
            archive = f"{stamp}ARCH{code}"
            items = [(f"{archive}{i:05d}", c) for i, c in enumerate(credits, 1)]
            builders.append(lambda E, a=archive, its=items, k=code: _entry(
                E, a, sum(c.amount_cents for _, c in its), on, k, its, itemise=itemised_only))
        if not itemised_only:
            for i, back in enumerate(day.returns, 1):
                archive = f"{stamp}ARCHRTN{i:05d}"
                builders.append(lambda E, a=archive, r=back: _return_entry(E, a, r, on))
            for i, debit in enumerate(day.debits, 1):
                archive = f"{stamp}ARCH720{i:05d}"
                builders.append(lambda E, a=archive, d=debit: _debit_entry(E, a, d, on))
        return builders


def _maker(ns: str):
    def E(tag, *children, **attrs):
        element = etree.Element(f"{{{ns}}}{tag}", nsmap={None: ns}, **attrs)
        for child in children:
            if isinstance(child, str):
                element.text = child
            elif child is not None:
                element.append(child)
        return element
    return E


def _stamp(on: date, hour: int) -> str:
    return datetime(on.year, on.month, on.day, hour, 0, tzinfo=UTC).isoformat()


def _balance(E, code: str, cents: int, on: date):
    return E("Bal", E("Tp", E("CdOrPrtry", E("Cd", code))), E("Amt", _amount(cents), Ccy="EUR"),
             E("CdtDbtInd", "CRDT" if cents >= 0 else "DBIT"), E("Dt", E("Dt", on.isoformat())))


def _head(E, archive: str, cents: int, on: date, indicator: str, code: str, reversal: bool = False):
    children = [E("Amt", _amount(cents), Ccy="EUR"), E("CdtDbtInd", indicator)]
    if reversal:
        children.append(E("RvslInd", "true"))
    children += [E("Sts", "BOOK"), E("BookgDt", E("Dt", on.isoformat())),
                 E("ValDt", E("Dt", on.isoformat())), E("AcctSvcrRef", archive),
                 E("BkTxCd", E("Prtry", E("Cd", code), E("Issr", "FFFS")))]
    return children


def _entry(E, archive, cents, on, code, items, itemise=True):
    details = E("NtryDtls", E("Btch", E("NbOfTxs", str(len(items)))))
    if not itemise:
        return E("Ntry", *_head(E, archive, cents, on, "CRDT", code), details)
    for item_archive, credit in items:
        parties = E("RltdPties", E("Dbtr", E("Nm", credit.payer)))
        if credit.payer_iban:
            parties.append(E("DbtrAcct", E("Id", E("IBAN", credit.payer_iban))))
        if credit.reference:
            remittance = E("RmtInf", E("Strd", E("CdtrRefInf", _ref_type(E, credit.reference),
                                                 E("Ref", credit.reference))))
        else:
            remittance = E("RmtInf", E("Ustrd", credit.message or ""))
        details.append(E("TxDtls", E("Refs", E("AcctSvcrRef", item_archive)),
                         E("AmtDtls", E("TxAmt", E("Amt", _amount(credit.amount_cents), Ccy="EUR"))),
                         parties, remittance))
    return E("Ntry", *_head(E, archive, cents, on, "CRDT", code), details)


def _ref_type(E, reference: str):
    kind = E("Tp", E("CdOrPrtry", E("Cd", "SCOR")))
    if reference.upper().startswith("RF"):
        kind.append(E("Issr", "ISO"))
    return kind


def _debit_entry(E, archive, debit: Debit, on):
    remittance = (E("RmtInf", E("Strd", E("CdtrRefInf", _ref_type(E, debit.reference), E("Ref", debit.reference))))
                  if debit.reference else E("RmtInf", E("Ustrd", debit.message or "")))
    details = E("NtryDtls", E("TxDtls",
                              E("Refs", E("AcctSvcrRef", archive + "1"), E("EndToEndId", debit.end_to_end_id)),
                              E("AmtDtls", E("TxAmt", E("Amt", _amount(debit.amount_cents), Ccy="EUR"))),
                              E("RltdPties", E("Cdtr", E("Nm", debit.creditor)),
                                E("CdtrAcct", E("Id", E("IBAN", debit.creditor_iban)))),
                              remittance))
    return E("Ntry", *_head(E, archive, debit.amount_cents, on, "DBIT", "720"), details)


def _return_entry(E, archive, back: Return, on):
    details = E("NtryDtls", E("TxDtls",
                              E("Refs", E("AcctSvcrRef", archive + "1"), E("EndToEndId", back.end_to_end_id)),
                              E("AmtDtls", E("TxAmt", E("Amt", _amount(back.amount_cents), Ccy="EUR"))),
                              E("RltdPties", E("Dbtr", E("Nm", back.payer or "RETURN"))),
                              E("RtrInf", E("Rsn", E("Cd", back.reason)))))
    return E("Ntry", *_head(E, archive, back.amount_cents, on, "CRDT", "710"), details)
