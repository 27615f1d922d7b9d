"""What a statement reader returns: plain, frozen values with money in integer cents.

Rules:

- Money is ``int`` cents, signed: ``+`` is money into the account (CRDT), ``-`` money out (DBIT).
  Readers never round; an amount that is not a whole number of cents is refused before a record
  is built.
- Every reader returns ``list[Statement]``, whatever the format. Readers only read: matching,
  validation of reference check digits, EUR-only and booking rules belong to the service.
- ``Entry.archive_id`` is the bank's own archive id (camt ``Ntry/AcctSvcrRef``). Formats without
  one get a synthesized key that is stable across reads of the same data (see the MT940 and FinTS
  readers), because the service uses it as the idempotency key.
- ``Entry.items`` is never empty: an entry without ``TxDtls`` gets one item built from the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Balance:
    """A balance the bank reports on a statement."""

    code: str  # OPBD, PRCD, CLBD, CLAV, ITBD (MT940: OPBD for opening, CLBD for closing)
    amount_cents: int  # signed: negative when CdtDbtInd is DBIT
    on: date


@dataclass(frozen=True, slots=True)
class Item:
    """One itemised part of an entry (camt ``TxDtls``)."""

    amount_cents: int  # signed like its entry (+ credit, - debit)
    archive_id: str | None  # TxDtls/Refs/AcctSvcrRef
    end_to_end_id: str | None  # TxDtls/Refs/EndToEndId ("NOTPROVIDED" -> None)
    reference: str | None  # CdtrRefInf/Ref, whitespace removed
    reference_kind: str | None  # "SCOR" (Finnish, no Issr), "ISO" (Issr ISO / RF-prefixed) or None
    message: str | None  # RmtInf/Ustrd joined with a space
    counterparty_name: str | None  # Dbtr/Nm for credits, Cdtr/Nm for debits
    counterparty_iban: str | None  # DbtrAcct/CdtrAcct IBAN, spaces removed, upper case
    return_reason: str | None  # RtrInf/Rsn/Cd
    payment_date: date | None  # RltdDts/AccptncDtTm date part


@dataclass(frozen=True, slots=True)
class Entry:
    """One booking line of a statement (camt ``Ntry``, MT940 ``:61:``, one CSV row)."""

    position: int  # 1-based position in its statement
    archive_id: str  # Ntry/AcctSvcrRef, or a synthesized stable key
    amount_cents: int  # signed: + CRDT, - DBIT
    currency: str
    status: str  # BOOK, PDNG, INFO
    booked_on: date | None
    value_on: date | None
    reversal: bool  # Ntry/RvslInd true
    bank_code: str | None  # BkTxCd/Prtry/Cd, else Domn/Cd/Fmly/Cd/SubFmlyCd joined with '/'
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One account's statement (camt ``Stmt``), intraday report (``Rpt``), notification
    (``Ntfctn``) or fetched period."""

    source: str  # "camt052", "camt053", "camt054", "mt940", "csv", "fints"
    statement_id: str  # Rpt/Id, Stmt/Id or Ntfctn/Id (MT940: transaction reference + statement number)
    iban: str
    currency: str
    created_at: datetime | None
    from_on: date | None
    to_on: date | None
    balances: tuple[Balance, ...]
    entries: tuple[Entry, ...]

    @property
    def opening(self) -> Balance | None:
        """The opening balance: OPBD, else PRCD (the previous closing), else None."""
        return self._balance("OPBD") or self._balance("PRCD")

    @property
    def closing(self) -> Balance | None:
        """The booked closing balance (CLBD), or None."""
        return self._balance("CLBD")

    @property
    def interim(self) -> Balance | None:
        """The interim booked balance (ITBD) of an intraday report, or None."""
        return self._balance("ITBD")

    def _balance(self, code: str) -> Balance | None:
        # The first one wins: a multi-day camt Stmt should not repeat a code, and if a bank does,
        # the first is the one its own ordering puts forward.
        return next((b for b in self.balances if b.code == code), None)
