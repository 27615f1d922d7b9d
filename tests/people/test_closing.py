"""Closing the service with a reason, the handover pack, a final payout to a guardian (four-eyes)
and the flag that Kela must be told: stored, on both backends."""

from __future__ import annotations

import json
import stat
from datetime import date

import pytest
from helpers import scenario
from helpers.lifecycle import (
    GUARDIAN,
    GUARDIAN_IBAN,
    W,
    maija,
    maija_paid_in_november,
    run_day,
)
from sqlalchemy import func, select

import ledger
from valitystili import payments as batches
from valitystili.base.errors import Conflict, PermissionDenied, ValidationError
from valitystili.flags.conditions import refresh_flags
from valitystili.oversight import handover, letters
from valitystili.people import lifecycle, records
from valitystili.store.models import (
    AuditEntry,
    Client,
    Flag,
    PaymentOrder,
    ServicePeriod,
)
from valitystili.trust import audit

CLOSED_ON = date(2026, 11, 6)
REASONS = [
    ("service_not_needed", "the service is no longer needed"),
    ("moved", "the client moved away"),
    ("guardianship_started", "guardianship (edunvalvonta) started"),
    ("died", "the client died"),
    ("consent_withdrawn", "the client withdrew their consent"),
    ("other", "other reason"),
]


def periods(session) -> list[tuple]:
    return [(p.client_id, p.number, p.start_on, p.until_on, p.closed_on, p.reason, p.note,
             p.payout_status, p.payout_name, p.payout_iban, p.closed_by)
            for p in session.execute(select(ServicePeriod).order_by(ServicePeriod.id)).scalars()]


# --- the reason ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reason, label", REASONS)
def test_closing_records_each_reason(session, reason, label):
    w = scenario.world(session)
    number = scenario.client(session, w)
    note = "moved abroad to a care home of her daughter's choosing" if reason == "other" else None
    closed = handover.close_service(session, w.sanna, str(number), closed_on=date(2026, 12, 31),
                                    reason=reason, note=note, today=date(2026, 12, 31))
    assert closed == {
        "client": 1, "status": "closed", "closed_on": date(2026, 12, 31), "final_payout": False,
        "balance_cents": 0, "cancelled": [], "left_open": [], "period": 1, "reason": reason,
        "reason_label": label, "note": note, "payout_to": None, "payee": None,
        "payout_status": "own_account", "payout_approved_by": None, "kela_to_tell": []}
    assert periods(session) == [(1, 1, date(2026, 10, 1), None, date(2026, 12, 31), reason, note,
                                 "own_account", None, None, "sanna")]
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "client.close")
                            ).scalar_one()
    detail = audit.shown(session, [entry])[entry.hash]      # the personal values put back
    assert (entry.client_id, detail["reason"], detail["note"], detail["period"]) == (
        1, reason, note, 1)


@pytest.mark.parametrize("options, message", [
    (dict(reason="retired"), "reason 'retired' is not one of service_not_needed, moved, "
                             "guardianship_started, died, consent_withdrawn, other"),
    (dict(reason=None), "give the reason the service ends: --reason service_not_needed|moved|"
                        "guardianship_started|died|consent_withdrawn|other"),
    (dict(reason="other"), "reason other needs --note saying what the reason is"),
    (dict(reason="died", payout_to=GUARDIAN_IBAN),
     "a payout to someone else needs both --payout-to IBAN and --payee NAME"),
    (dict(reason="died", payee="Kuolinpesä"),
     "a payout to someone else needs both --payout-to IBAN and --payee NAME"),
    (dict(reason="died", payout_to="FI2112345600000786", payee="Kuolinpesä"),
     "IBAN FI2112345600000786 has wrong check digits"),
])
def test_a_bad_closing_writes_nothing(session, options, message):
    w = scenario.world(session)
    number = scenario.client(session, w)
    session.commit()
    before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    with pytest.raises(ValidationError) as refused:
        handover.close_service(session, w.sanna, str(number), closed_on=date(2026, 12, 31),
                               today=date(2026, 12, 31), **options)
    assert str(refused.value) == message
    session.rollback()
    assert session.get(Client, number).status == "open"
    assert periods(session) == []
    assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before


# --- the handover pack --------------------------------------------------------------------------


STANDING_TEXT = """\
Maksut, jotka maksat itse 7.11.2026 alkaen

Välitystili maksoi nämä maksut puolestasi 6.11.2026 asti. Sen jälkeen maksat
ne itse omalta pankkitililtäsi.

1. Vaasan Asunnot Oy – vuokra
   Tilinumero: FI21 1234 5600 0007 85
   Summa: 520,00\u00a0€
   Eräpäivä: kuukauden 2. päivä
   Viitenumero: 12345672

2. Vaasan Sähkö Oy – sähkö
   Tilinumero: FI49 5000 9420 0287 30
   Summa: 45,00\u00a0€
   Eräpäivä: kuukauden 15. päivä
   Viitenumero: RF18539007547034
"""

STANDING_CSV = """\
payee,iban,kind,amount_eur,kela_pays_eur,due_day,schedule,reference,message
Vaasan Asunnot Oy,FI2112345600000785,rent,520.00,0.00,2,,12345672,
Vaasan Sähkö Oy,FI4950009420028730,electricity,45.00,0.00,15,,RF18539007547034,
"""

KELA_NOTICE = """\
Ilmoitus Kelalle: välitystili päättyy

Asiakas: Maija Meikäläinen
Henkilötunnus: 010594Y****

Asiakkaan välitystilipalvelu päättyy 6.11.2026.

Maksuosoitteen muutos päättyy. Etuudet, jotka on maksettu välitystilille
FI74 3301 0001 2220 90, maksetaan 7.11.2026 alkaen asiakkaan omalle tilille
FI55 4234 5670 0000 81 (ellei asiakas tai hänen edunvalvojansa ilmoita Kelalle
muuta tiliä).

Etuudet:
- Toimeentulotuki
- Asumistuki

Lähettäjä: Välitystili
"""

HISTORY_AT_CLOSING = """\
booked_on,description,amount_eur,balance_eur,key
2026-11-02,from KELA,560.00,560.00,bank:FI7433010001222090:ARCH0001
2026-11-02,from KELA,380.00,940.00,bank:FI7433010001222090:ARCH0002
2026-11-02,rent to Vaasan Asunnot Oy,-520.00,420.00,order:rent:1:2026-11
2026-11-02,instalment to Maija Meikäläinen,-75.00,345.00,order:inst:1:2026-11-02
"""


def close_maija(factory, **options) -> dict:
    """Maija (345,00 left after November's rent and first instalment) closed on 6.11.2026."""
    number = maija_paid_in_november(factory)
    options.setdefault("final_payout", True)
    with factory() as session, session.begin():
        return handover.close_service(session, options.pop("actor", W.hannu), str(number),
                                      closed_on=CLOSED_ON, reason=options.pop("reason", "moved"),
                                      today=CLOSED_ON, **options)


def test_the_handover_pack_of_a_client_who_moved(session_factory):
    closed = close_maija(session_factory)
    # What the batch had made ahead is cancelled: the electricity of 13.11. and on.
    assert closed["cancelled"] == ["electricity:1:2026-11", "rent:1:2026-12",
                                   "electricity:1:2026-12", "rent:1:2027-01"]
    with session_factory() as session, session.begin():
        pack = handover.handover_pack(session, W.hannu, "1", today=CLOSED_ON)
    with session_factory() as session, session.begin():
        letter = letters.client_statement(session, W.hannu, "1", 2026, 11, today=CLOSED_ON)
    assert list(pack) == list(handover.PACK_FILES)
    assert pack["final-statement.txt"] == letters.render(letter, "text")
    assert pack["final-statement.html"] == letters.render(letter, "html")
    assert pack["standing-payments.txt"] == STANDING_TEXT
    assert pack["standing-payments.csv"] == STANDING_CSV
    assert pack["kela-notice.txt"] == KELA_NOTICE
    assert pack["account-history.csv"] == HISTORY_AT_CLOSING

    # Written again after the final payout went (the next banking day's batch), the history
    # shows it and ends at zero.
    assert [(r["kind"], r["amount_cents"]) for r in run_day(session_factory, date(2026, 11, 9))
            ] == [("final", 34500)]
    with session_factory() as session, session.begin():
        history = handover.handover_pack(session, W.hannu, "1")["account-history.csv"]
    assert history == HISTORY_AT_CLOSING + (
        "2026-11-09,final to Maija Meikäläinen,-345.00,0.00,order:final:1:1\n")


def test_a_swedish_speaking_clients_pack_with_a_payment_demand(session_factory):
    """Standing payments in Swedish, Kela's notice in Swedish with the payment demand (EV 241N)
    of a pension, and the identity code in clear only when asked for (audited)."""
    with session_factory() as session, session.begin():
        w = scenario.world(session)
        number = scenario.client(session, w, start_on=date(2026, 11, 1), language="sv")
        text = scenario.WORKED_EXAMPLE.replace(
            'kind = "housing_allowance"\namount = "380.00"', 'kind = "national_pension"\n'
            'amount = "380.00"').replace('route = "client_declared_account"\n\n[[pay]]',
                                         'route = "payment_demand_ev241n"\n\n[[pay]]')
        scenario.plan(session, w, number, text, effective_on=date(2026, 11, 1),
                      today=date(2026, 11, 1))
        records.add_record(session, w.sanna, str(number), "ev241n", dated_on=date(2026, 10, 20),
                           fields={"benefits": "kansaneläke / folkpension"})
        closed = handover.close_service(session, w.sanna, str(number), closed_on=date(2026, 11, 30),
                                        reason="guardianship_started", today=date(2026, 11, 30))
        pack = handover.handover_pack(session, w.sanna, str(number), show_hetu=True)
    assert closed["kela_to_tell"] == [
        "client 1 was closed on 30.11.2026: tell Kela that the payment demand (EV 241N, record "
        "1: kansaneläke / folkpension) ends, then record its end: client record 1 ev241n "
        "--ended DATE"]
    assert pack["standing-payments.txt"].splitlines()[:4] == [
        "Betalningar som du betalar själv från 1.12.2026", "",
        "Förmedlingskontot betalade de här betalningarna för dig till och med",
        "30.11.2026. Efter det betalar du dem själv från ditt eget bankkonto."]
    assert pack["kela-notice.txt"] == """\
Meddelande till FPA: förmedlingskontot upphör

Klient: Maija Meikäläinen
Personbeteckning: 010594Y123W

Klientens förmedlingskontotjänst upphör 30.11.2026.

Ändringen av betalningsadressen upphör. Förmåner som har betalats till
förmedlingskontot FI74 3301 0001 2220 90 betalas från 1.12.2026 till klientens
eget konto FI55 4234 5670 0000 81 (om inte klienten eller hens
intressebevakare meddelar FPA ett annat konto).

Förmåner:
- Utkomststöd

Betalningsbegäran (blankett EV 241N) upphör 30.11.2026. Den gällde förmånerna:
- Folkpension
- kansaneläke / folkpension

Avsändare: Välitystili
"""
    with session_factory() as session:
        assert [json.loads(e.detail) for e in session.execute(select(AuditEntry).where(
            AuditEntry.action == "client.view_hetu")).scalars()] == [
            {"hetu_shown": True, "in": "kela-notice.txt"}]
        with pytest.raises(PermissionDenied):
            handover.handover_pack(session, W.fiona, "1")


def test_the_pack_is_for_a_closed_client_only(session):
    w = scenario.world(session)
    scenario.client(session, w)
    with pytest.raises(Conflict, match=r"^client 1 is open: the handover pack is written when "
                                       r"the service closes$"):
        handover.handover_pack(session, w.sanna, "1")


def test_cli_close_writes_the_pack_and_the_handover_rewrites_it(cli, session_factory, tmp_path):
    number = maija_paid_in_november(session_factory)
    out = tmp_path / "luovutus-1"
    refused = cli("client", "close", str(number), "--date", "6.11.2026", "--reason", "retired",
                  "--final-payout", "--out", str(out), user="hannu")
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.startswith("valitystili: error: Invalid value for '--reason': "
                                     "'retired' is not one of ")
    assert not out.exists()
    done = cli.json("client", "close", str(number), "--date", "6.11.2026", "--reason", "moved",
                    "--final-payout", "--out", str(out), user="hannu")
    assert (done["status"], done["reason"], done["balance_cents"], done["handover"]) == (
        "closed", "moved", 34500, str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted(handover.PACK_FILES)
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}
    assert (out / "standing-payments.csv").read_text(encoding="utf-8") == STANDING_CSV
    assert (out / "account-history.csv").read_text(encoding="utf-8") == HISTORY_AT_CLOSING

    again = cli("client", "handover", str(number), "--out", str(out), user="hannu")
    assert (again.exit_code, again.stderr) == (
        2, f"valitystili: error: {out / 'final-statement.html'} already exists (use --force to "
           "replace it)\n")
    cli.ok("client", "handover", str(number), "--out", str(out), "--force", user="hannu")
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "client.handover")).scalar_one() == 2


# --- a payout to a guardian ---------------------------------------------------------------------


def test_a_payout_to_a_guardian_waits_for_a_second_handler(session_factory, tmp_path):
    closed = close_maija(session_factory, reason="guardianship_started", final_payout=False,
                         payout_to=GUARDIAN_IBAN, payee=GUARDIAN)
    assert (closed["payout_to"], closed["payee"], closed["payout_status"]) == (
        GUARDIAN_IBAN, GUARDIAN, "waiting")
    # Waiting: the batch pays nothing out, to the client or anyone.
    assert run_day(session_factory, date(2026, 11, 9)) == []
    with session_factory() as session:
        for who, error, message in (
                (W.hannu, Conflict, "four-eyes: hannu closed client 1's service; another handler "
                                    f"must approve the payout to {GUARDIAN}"),
                (W.sanna, PermissionDenied, "user sanna (social_worker) may not client "
                                            "payout_approve; allowed roles: handler")):
            with pytest.raises(error) as refused:
                lifecycle.approve_payout(session, who, "1")
            assert str(refused.value) == message
            session.rollback()
    with session_factory() as session, session.begin():
        approved = lifecycle.approve_payout(session, W.hilla, "1")
    assert approved == {"client": 1, "period": 1, "payout_to": GUARDIAN_IBAN, "payee": GUARDIAN,
                        "payout_status": "approved", "payout_approved_by": "hilla",
                        "balance_cents": 34500}
    with session_factory() as session, pytest.raises(Conflict, match="no final payout waiting"):
        lifecycle.approve_payout(session, W.hilla, "1")

    rows = run_day(session_factory, date(2026, 11, 10))
    assert [(r["kind"], r["payee"], r["iban"], r["amount_cents"], r["key"]) for r in rows] == [
        ("final", GUARDIAN, GUARDIAN_IBAN, 34500, "order:final:1:1")]
    with session_factory() as session, session.begin():
        batch = session.execute(select(PaymentOrder.batch_id)).scalars().all()[-1]
        batches.export_batch(session, W.fiona, str(batch), tmp_path / "maksut.xml",
                             today=date(2026, 11, 10))
    xml = (tmp_path / "maksut.xml").read_text(encoding="utf-8")
    assert f"<Nm>{GUARDIAN}</Nm>" in xml and f"<IBAN>{GUARDIAN_IBAN}</IBAN>" in xml
    assert '<InstdAmt Ccy="EUR">345.00</InstdAmt>' in xml
    with session_factory() as session:
        assert ledger.balance(session, "client:1") == 0


# --- Kela must be told --------------------------------------------------------------------------


def test_an_open_payment_demand_is_flagged_until_its_end_is_recorded(session_factory):
    number = maija(session_factory)
    with session_factory() as session, session.begin():
        records.add_record(session, W.sanna, str(number), "ev241n", dated_on=date(2026, 10, 20),
                           fields={"benefits": "national pension"})
        handover.close_service(session, W.sanna, str(number), closed_on=date(2026, 11, 30),
                               reason="service_not_needed", today=date(2026, 11, 30))

    def open_flags() -> list[tuple]:
        with session_factory() as session:
            return [(f.kind, f.subject, f.client_id) for f in session.execute(
                select(Flag).where(Flag.resolved_at.is_(None))).scalars()]

    assert open_flags() == [("payment_demand_ends", "ev241n:1:1", 1)]
    with session_factory() as session, session.begin():     # the nightly refresh keeps it
        refresh_flags(session, date(2026, 12, 1), today=date(2026, 12, 1))
    assert ("payment_demand_ends", "ev241n:1:1", 1) in open_flags()
    with session_factory() as session, session.begin():
        records.add_record(session, W.sanna, str(number), "ev241n",
                           fields={"ended": date(2026, 11, 30)})
        refresh_flags(session, date(2026, 12, 2), today=date(2026, 12, 2))
    assert [f for f in open_flags() if f[0] == "payment_demand_ends"] == []
