"""A builder for the bank's intraday report, camt.052 (no tests in here).

``camt052(*entries, ...)`` writes one ``BkToCstmrAcctRpt`` with one ``Rpt``: the day's opening
balance (OPBD) and, when given, the interim booked balance (ITBD), around ``Ntry`` texts made
with ``helpers.statements.ntry`` (the entry structure is the same as camt.053's). An intraday
report has no closing balance.
"""

from __future__ import annotations

from helpers.statements import BOOKED, CITY, balance

NS052 = "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"


def camt052(*entries: str, iban: str = CITY, report_id: str = "RPT-1",
            opening_cents: int | None = 0, interim_cents: int | None = None,
            on: str = BOOKED, created: str = "2026-11-02T14:00:00+02:00",
            namespace: str = NS052, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n'
            ) -> str:
    balances = ""
    if opening_cents is not None:
        balances += balance("OPBD", opening_cents, on)
    if interim_cents is not None:
        balances += balance("ITBD", interim_cents, on)
    return (f'{prolog}<Document xmlns="{namespace}"><BkToCstmrAcctRpt>'
            f"<GrpHdr><MsgId>M052</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>"
            f"<Rpt><Id>{report_id}</Id><CreDtTm>{created}</CreDtTm>"
            f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>{balances}"
            + "".join(entries) + "</Rpt></BkToCstmrAcctRpt></Document>\n")
