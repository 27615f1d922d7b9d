"""Builders for the import, matching and clearing tests (no tests in here).

- ``camt053`` / ``camt054`` / ``ntry`` / ``tx`` write small ISO 20022 documents with exactly the
  fields a test needs (payer, reference, message, end-to-end id, return reason…).
- ``order`` puts an exported payment order in place the way the daily batch leaves it: a
  ``payment_batches`` and a ``payment_orders`` row and the ledger transaction approval posts
  (key = the order's key; client debit, ``outgoing`` credit).
- ``snapshot`` is every table's row count and every ledger balance: "nothing was written".
- The world (users, the city's account FI7433010001222090, payees), clients and plans come from
  ``tests/scenario.py`` and so from the real services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from valitystili.store.models import Client, PaymentBatch, PaymentOrder

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "bank"
SAMPLE_053 = SAMPLES / "finance-finland-content_053.xml"
SAMPLE_054 = SAMPLES / "finance-finland-content_054.xml"

CITY = "FI7433010001222090"
NS = "urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.02"
BOOKED = "2026-11-02"


@dataclass(frozen=True)
class Tx:
    """One ``TxDtls``: only the fields given are written."""

    amount: str | None = None
    archive_id: str | None = None
    reference: str | None = None
    message: str | None = None
    payer: str | None = None          # Dbtr/Nm on credits, Cdtr/Nm on debits
    iban: str | None = None           # DbtrAcct / CdtrAcct
    e2e: str | None = None
    return_reason: str | None = None


def tx_xml(t: Tx, credit: bool) -> str:
    refs = ""
    if t.archive_id or t.e2e:
        refs = "<Refs>" + (f"<AcctSvcrRef>{t.archive_id}</AcctSvcrRef>" if t.archive_id else "") \
            + (f"<EndToEndId>{t.e2e}</EndToEndId>" if t.e2e else "") + "</Refs>"
    amount = (f'<AmtDtls><TxAmt><Amt Ccy="EUR">{t.amount}</Amt></TxAmt></AmtDtls>'
              if t.amount else "")
    party = "Dbtr" if credit else "Cdtr"
    parties = ""
    if t.payer or t.iban:
        parties = "<RltdPties>" + (f"<{party}><Nm>{t.payer}</Nm></{party}>" if t.payer else "") \
            + (f"<{party}Acct><Id><IBAN>{t.iban}</IBAN></Id></{party}Acct>" if t.iban else "") \
            + "</RltdPties>"
    remittance = ""
    if t.reference:
        issuer = "<Issr>ISO</Issr>" if t.reference.upper().startswith("RF") else ""
        remittance = ("<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>"
                      f"{issuer}</Tp><Ref>{t.reference}</Ref></CdtrRefInf></Strd></RmtInf>")
    elif t.message:
        remittance = f"<RmtInf><Ustrd>{t.message}</Ustrd></RmtInf>"
    returned = f"<RtrInf><Rsn><Cd>{t.return_reason}</Cd></Rsn></RtrInf>" if t.return_reason else ""
    return f"<TxDtls>{refs}{amount}{parties}{remittance}{returned}</TxDtls>"


def ntry(amount: str, archive_id: str, *txs: Tx, debit: bool = False, status: str = "BOOK",
         booked: str = BOOKED, bank_code: str | None = None, reversal: bool = False,
         currency: str = "EUR") -> str:
    """One ``Ntry``; ``txs`` become its ``NtryDtls`` (none: an entry without detail)."""
    code = f"<BkTxCd><Prtry><Cd>{bank_code}</Cd></Prtry></BkTxCd>" if bank_code else ""
    details = ("<NtryDtls>" + "".join(tx_xml(t, not debit) for t in txs) + "</NtryDtls>"
               if txs else "")
    return (f'<Ntry><Amt Ccy="{currency}">{amount}</Amt>'
            f"<CdtDbtInd>{'DBIT' if debit else 'CRDT'}</CdtDbtInd>"
            + ("<RvslInd>true</RvslInd>" if reversal else "")
            + f"<Sts>{status}</Sts><BookgDt><Dt>{booked}</Dt></BookgDt>"
            f"<ValDt><Dt>{booked}</Dt></ValDt><AcctSvcrRef>{archive_id}</AcctSvcrRef>{code}"
            f"{details}</Ntry>")


def balance(code: str, amount_cents: int, on: str) -> str:
    indicator = "DBIT" if amount_cents < 0 else "CRDT"
    cents = abs(amount_cents)
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="EUR">{cents // 100}.{cents % 100:02d}</Amt>'
            f"<CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>")


def camt053(*entries: str, iban: str = CITY, statement_id: str = "STMT-1",
            opening_cents: int | None = 0, closing_cents: int | None = None,
            on: str = BOOKED, currency: str = "EUR",
            namespace: str | None = None) -> str:
    balances = ""
    if opening_cents is not None:
        balances += balance("OPBD", opening_cents, on)
    if closing_cents is not None:
        balances += balance("CLBD", closing_cents, on)
    return _document("053", "BkToCstmrStmt", "Stmt", entries, iban, statement_id, balances,
                     currency, namespace)


def camt054(*entries: str, iban: str = CITY, notification_id: str = "NTFCTN-1") -> str:
    return _document("054", "BkToCstmrDbtCdtNtfctn", "Ntfctn", entries, iban, notification_id,
                     "", "EUR", None)


def _document(kind, message, container, entries, iban, ident, balances, currency, namespace):
    ns = namespace or NS.format(kind=kind)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{ns}"><{message}>'
            "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-02T06:00:00+02:00</CreDtTm></GrpHdr>"
            f"<{container}><Id>{ident}</Id><CreDtTm>2026-11-02T06:00:00+02:00</CreDtTm>"
            f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>{balances}"
            + "".join(entries) + f"</{container}></{message}></Document>\n")


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- the database ------------------------------------------------------------------------------


def snapshot(session: Session) -> dict:
    """Row counts of every table and every ledger balance."""
    counts = {
        table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in ledger.metadata.sorted_tables
    }
    balances = {b.code: b.balance_cents for b in ledger.balances(session)}
    return {"rows": counts, "balances": balances}


def balances(session: Session) -> dict[str, int]:
    return {b.code: b.balance_cents for b in ledger.balances(session) if b.balance_cents}


def reference_of(session: Session, client_no: int) -> tuple[str, str]:
    client = session.get(Client, client_no)
    return client.reference, client.rf_reference


def order(session: Session, bank_account_id: int, client_no: int, amount_cents: int, *,
          key: str, e2e: str, creditor_iban: str, execution_on: date,
          creditor_name: str = "Vaasan Asunnot Oy", status: str = "exported") -> int:
    """An exported payment order as the daily batch leaves it (see the module docstring)."""
    batch = PaymentBatch(key=f"batch-{key}", run_on=execution_on, execution_on=execution_on,
                         bank_account_id=bank_account_id, status="draft", created_by="hannu")
    session.add(batch)
    session.flush()
    placed = PaymentOrder(key=key, end_to_end_id=e2e, batch_id=batch.id, client_id=client_no,
                          kind="rent", creditor_name=creditor_name, creditor_iban=creditor_iban,
                          amount_cents=amount_cents, execution_on=execution_on, status=status)
    session.add(placed)
    session.flush()
    batch.status = "exported"    # orders join only a draft batch (a database guard)
    session.flush()
    ledger.post(session, key, [(session.get(Client, client_no).ledger_code, amount_cents),
                               ("outgoing", -amount_cents)], execution_on)
    return placed.id


def valid_hetu(ddmmyy: str, sign: str, individual: int) -> str:
    """A valid identity code for a birth date and individual number (check character computed)."""
    number = int(ddmmyy + f"{individual:03d}")
    return f"{ddmmyy}{sign}{individual:03d}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[number % 31]
