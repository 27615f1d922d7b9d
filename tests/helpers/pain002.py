"""Small builders of the bank's pain.002 status reports (001.03 and 001.10) for the tests.

    report(original="MSGID", group="ACCP")                            # the whole file accepted
    report(original="MSGID", group="PART",
           payments=[payment("PMTINF", tx("E2E-1", "RJCT", "AC04"))])  # one payment rejected
"""

from __future__ import annotations

from pathlib import Path

#: Hostile texts: an external entity (XXE) and entity expansion ("billion laughs").
XXE = """<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
<GrpHdr><MsgId>&xxe;</MsgId></GrpHdr></CstmrPmtStsRpt></Document>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">&lol4;</Document>
"""

NS = {"03": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03",
      "10": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"}


def reasons(*codes: str) -> str:
    return "".join(f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>" for code in codes)


def tx(end_to_end: str, status: str | None = "RJCT", *codes: str, amount: str | None = None,
       instruction: str | None = None) -> str:
    """One ``TxInfAndSts``: the payment's end-to-end id, its status and reason codes."""
    parts = ["<TxInfAndSts>", f"<StsId>S-{end_to_end[:30]}</StsId>"]
    if instruction is not None:
        parts.append(f"<OrgnlInstrId>{instruction}</OrgnlInstrId>")
    if end_to_end:
        parts.append(f"<OrgnlEndToEndId>{end_to_end}</OrgnlEndToEndId>")
    if status is not None:
        parts.append(f"<TxSts>{status}</TxSts>")
    parts.append(reasons(*codes))
    if amount is not None:
        parts.append(f'<OrgnlTxRef><Amt><InstdAmt Ccy="EUR">{amount}</InstdAmt></Amt>'
                     "</OrgnlTxRef>")
    parts.append("</TxInfAndSts>")
    return "".join(parts)


def payment(payment_info_id: str, *txs: str, status: str | None = None,
            codes: tuple[str, ...] = ()) -> str:
    """One ``OrgnlPmtInfAndSts`` with its transactions."""
    status_xml = f"<PmtInfSts>{status}</PmtInfSts>" if status else ""
    return (f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{payment_info_id}</OrgnlPmtInfId>"
            f"{status_xml}{reasons(*codes)}{''.join(txs)}</OrgnlPmtInfAndSts>")


def report(original: str, group: str | None = None, *payments: str, version: str = "03",
           message_id: str = "STS-1", codes: tuple[str, ...] = (),
           namespace: str | None = None) -> str:
    """A whole report answering the pain.001 whose ``MsgId`` is ``original``."""
    pain001 = "pain.001.001.03" if version == "03" else "pain.001.001.09"
    group_xml = f"<GrpSts>{group}</GrpSts>" if group else ""
    bic = "BIC" if version == "03" else "BICFI"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Document xmlns="{namespace or NS[version]}"><CstmrPmtStsRpt>'
            f"<GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>2026-11-02T09:15:00+02:00</CreDtTm>"
            f"<DbtrAgt><FinInstnId><{bic}>ESSEFIHX</{bic}></FinInstnId></DbtrAgt></GrpHdr>"
            f"<OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId>"
            f"<OrgnlMsgNmId>{pain001}</OrgnlMsgNmId>{group_xml}{reasons(*codes)}"
            f"</OrgnlGrpInfAndSts>{''.join(payments)}</CstmrPmtStsRpt></Document>\n")


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
