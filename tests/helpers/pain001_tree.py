"""The pain.001 writer as it was before it wrote a transfer at a time: the whole file built as
one lxml tree and pretty-printed. The tests hold the streaming writer's bytes against this
one's (``tests/payments/test_pain001_stream.py``); the checks are the module's own, since only
the XML is compared. Kept as it was: do not "fix" it to follow the module."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from lxml import etree
from lxml.builder import ElementMaker

from valitystili.payments.pain001 import (
    _DECLARATION,
    CreditTransfer,
    Debtor,
    _checked_debtor,
    _checked_transfer,
    _end_to_end_id,
    _euros,
    _namespace,
    _refuse_duplicates,
    make_id,
)


def build_tree_pain001(*, message_key: str, created_at: datetime, debtor: Debtor,
                       transfers: Sequence[CreditTransfer], version: str = "09") -> bytes:
    """The file's bytes as the tree builder made them (not validated)."""
    debtor = _checked_debtor(debtor)
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
    return _DECLARATION + etree.tostring(
        document, encoding="UTF-8", xml_declaration=False, pretty_print=True
    )


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
