"""The simulated bank writes its statements an entry at a time: the same bytes as the whole
document printed at once, and it reads payment files a transfer at a time."""

from __future__ import annotations

from datetime import date

from lxml import etree

from valitystili.demo import bank
from valitystili.demo.bank import Credit, Debit, Return, SimulatedBank

DAY = date(2026, 11, 2)
CITY = ("FI7433010001222090", "ESSEFIHX")


def busy_day() -> SimulatedBank:
    """A day with every kind of entry: itemised credits with and without a reference, an
    account or a message; payments with a Finnish or RF reference or a message (one with
    characters XML escapes, one with none); and returns."""
    city = SimulatedBank(*CITY, opening_cents=10_000)
    for n in range(5):
        city.credit(DAY, Credit(56_000 + n, "Kansaneläkelaitos Kela", "FI6416603000107220",
                                message=f"KELA TOIMEENTULOTUKI 11/2026 <{n}> & co"))
    city.credit(DAY, Credit(2_500, "Sukulainen", reference="100000010"))
    city.credit(DAY, Credit(2_600, "Sukulainen", reference="RF69100000010"))
    city.credit(DAY, Credit(1_000, "Maksaja"))
    day = city.days[DAY]
    for n, (reference, message) in enumerate([("12345672", None), ("RF85 1234 5672", None),
                                              (None, "vuokra 11/2026 \"A\" & <B>"),
                                              (None, None)]):
        day.debits.append(Debit(30_000 + n, f"Vaasan Asunnot Oy {n}", "FI2112345600000785",
                                f"E2E{n:06d}", reference=reference, message=message))
    day.returns.append(Return(30_003, "E2E000003", "AC04", "Vaasan Asunnot Oy 3"))
    day.returns.append(Return(100, "E2E000009"))
    return city


def whole(self, document, container, entries) -> bytes:
    """How the documents were printed before: every entry in the tree, then the tree."""
    for write in entries:
        write(self, container)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def test_statements_are_the_bytes_of_the_whole_document(monkeypatch):
    streamed = busy_day()
    notification, statement = streamed.camt054(DAY), streamed.camt053(DAY)
    monkeypatch.setattr(bank._Writer, "document", whole)
    at_once = busy_day()
    assert notification == at_once.camt054(DAY)
    assert statement == at_once.camt053(DAY)
    assert statement.count(b"<Ntry>") == 2 + 2 + 4 and b"<Ustrd></Ustrd>" in statement
    assert b"&lt;0&gt; &amp; co" in notification and streamed.balance_cents == at_once.balance_cents


def test_a_payment_file_is_booked_transfer_by_transfer():
    city = SimulatedBank(*CITY)
    document = busy_day().camt053(DAY)     # not a payment file
    try:
        city.execute_pain001(document)
    except ValueError as error:
        assert "not a pain.001" in str(error)
    else:
        raise AssertionError("a statement was executed as a payment file")
    ns = bank.PAIN_NS[1]                   # pain.001.001.03: the date without <Dt>
    transfers = "".join(
        f"<CdtTrfTxInf><PmtId><EndToEndId>E{n}</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"EUR\">"
        f"{n}.05</InstdAmt></Amt><Cdtr><Nm>Payee {n}</Nm></Cdtr><CdtrAcct><Id><IBAN>FI{n}"
        f"</IBAN></Id></CdtrAcct><RmtInf><Ustrd>m{n}</Ustrd></RmtInf></CdtTrfTxInf>"
        for n in range(1, 4))
    file = (f'<Document xmlns="{ns}"><CstmrCdtTrfInitn><PmtInf><ReqdExctnDt>2026-11-03'
            f"</ReqdExctnDt>{transfers}</PmtInf><PmtInf><ReqdExctnDt>2026-11-04</ReqdExctnDt>"
            f"{transfers}</PmtInf></CstmrCdtTrfInitn></Document>").encode()
    booked = city.execute_pain001(file, frozenset({"FI2"}))
    assert [(d.end_to_end_id, d.amount_cents, d.creditor, d.message) for d in booked[:3]] == [
        ("E1", 105, "Payee 1", "m1"), ("E2", 205, "Payee 2", "m2"), ("E3", 305, "Payee 3", "m3")]
    assert sorted(city.days) == [date(2026, 11, 3), date(2026, 11, 4)]
    assert [len(city.days[day].debits) for day in sorted(city.days)] == [3, 3]
    assert city.days[date(2026, 11, 4)].returns == [Return(205, "E2", "AC04", "Payee 2")]
