"""Matching incoming money to clients: the rules one by one, then through a real import."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import HETU, HETU_2, WORKED_EXAMPLE, client, plan, world
from sqlalchemy import select
from helpers.statements import Tx, camt053, ntry, reference_of, write

import ledger
from valitystili.base.errors import Conflict
from valitystili.base.identifiers import mask_hetus
from valitystili.people import clients
from valitystili.plans.versions import in_force_periods
from valitystili.statements import income, service
from valitystili.statements.matching import (
    Credit,
    Directory,
    ExpectedIncome,
    KnownClient,
    payer_matches,
)
from valitystili.store.models import AuditEntry, Flag, StatementLine

TODAY = date(2026, 11, 23)
KELA = "KANSANELÄKELAITOS"

# --- the rules, without a database -----------------------------------------------------------

MAIJA = KnownClient(1, "Maija Meikäläinen", HETU, "100000010", "RF69100000010", "client:1")
PEKKA = KnownClient(2, "Pekka Virtanen", HETU_2, "100000023", "RF09100000023", "client:2")
CLOSED = KnownClient(3, "Kalle Suljettu", "131052-308T", "100000036", "RF46100000036",
                     "client:3", open=False)


def kela(client_id: int, amount_cents: int = 56_000, kind: str = "basic_social_assistance",
         start: date = date(2026, 11, 1), tolerance_cents: int = 500) -> ExpectedIncome:
    return ExpectedIncome(client_id, "Kela", kind, amount_cents, tolerance_cents,
                          "FREQ=MONTHLY;BYMONTHDAY=1", start)


def directory(*expected: ExpectedIncome) -> Directory:
    return Directory([MAIJA, PEKKA, CLOSED], list(expected))


def decide(d: Directory, amount: int = 56_000, on: date = date(2026, 11, 2), **fields):
    m = d.match(Credit(amount, on, **fields))
    return m.rule, m.client_id


@pytest.mark.parametrize("reference", [
    "100000010", "1000 00010", "00000000000100000010", "RF69100000010", "rf69 1000 0001 0 ",
    # The reference in RF form with the Finnish reference's leading zeros.
    "RF690000100000010",
])
def test_own_reference_finnish_or_rf(reference):
    assert decide(directory(), reference=reference) == ("reference", 1)


def test_reference_with_a_wrong_check_digit_matches_nobody():
    m = directory().match(Credit(10_000, date(2026, 11, 2), reference="100000011"))
    assert (m.rule, m.client_id) == ("none", None)
    assert m.reason == "reference 100000011 is not valid"


def test_a_valid_reference_of_nobody_lets_the_other_rules_try():
    assert decide(directory(), reference="12345672", message="maksu 150705B247K") == ("hetu", 2)


def test_reference_written_in_the_message():
    assert decide(directory(), message="Vuokra, viite 100000023 kiitos") == ("reference", 2)
    m = directory().match(Credit(1, date(2026, 11, 2), message="100000010 ja 100000023"))
    assert (m.rule, m.client_id, m.reason) == ("none", None,
                                               "the message has references of clients 1, 2")


def test_identity_code_in_the_message():
    assert decide(directory(), message="Palautus 010594y123w") == ("hetu", 1)
    # A valid identity code of someone who is not a client names nobody.
    assert decide(directory(), message="131052-308U") == ("none", None)
    m = directory().match(Credit(1, date(2026, 11, 2), message="010594Y123W 150705B247K"))
    assert (m.rule, m.reason) == ("none", "the message has identity codes of clients 1, 2")


def test_closed_clients_are_still_found_by_reference():
    assert decide(directory(), reference="100000036") == ("reference", 3)


def test_expected_income_payer_amount_and_day():
    d = directory(kela(1))
    # 1.11.2026 is a Sunday: basic social assistance arrives on Monday 2.11.
    assert decide(d, counterparty_name=KELA) == ("expected_income", 1)
    assert decide(d, 55_500, counterparty_name="Kela") == ("expected_income", 1)   # -5,00
    assert decide(d, 56_501, counterparty_name="Kela") == ("none", None)           # +5,01
    assert decide(d, on=date(2026, 11, 7), counterparty_name="Kela") == ("expected_income", 1)
    assert decide(d, on=date(2026, 11, 8), counterparty_name="Kela") == ("none", None)
    assert decide(d, counterparty_name="Vaasan Asunnot Oy") == ("none", None)
    assert decide(d) == ("none", None)                      # no payer name at all
    # Before the plan is in force nothing is expected.
    assert decide(d, on=date(2026, 10, 1), counterparty_name="Kela") == ("none", None)


def test_each_expected_income_has_its_own_tolerance():
    """An income matches within its own tolerance, another income of the same payer within
    its own: a 5,00 € tolerance refuses 6,00 € off, a 20 % one takes it."""
    exact = kela(1, 56_000, tolerance_cents=500)
    loose = kela(2, 40_000, kind="housing_allowance", tolerance_cents=8_000)
    d = directory(exact, loose)
    assert decide(d, 55_400, counterparty_name=KELA) == ("none", None)            # -6,00
    assert decide(d, 55_500, counterparty_name=KELA) == ("expected_income", 1)    # -5,00
    assert decide(d, 40_600, counterparty_name=KELA) == ("expected_income", 2)    # +6,00
    assert decide(d, 48_000, counterparty_name=KELA) == ("expected_income", 2)    # +80,00
    assert decide(d, 48_001, counterparty_name=KELA) == ("none", None)
    # Within the widest tolerance (80,00) of 560,00 but not within its own 5,00: nobody.
    assert decide(d, 55_000, counterparty_name=KELA) == ("none", None)


TOLERANCE_PLAN = WORKED_EXAMPLE.replace(
    'amount = "560.00"\n', 'amount = "560.00"\ntolerance = "{tolerance}"\n', 1)


@pytest.mark.parametrize("tolerance, state, client_no", [
    ("5.00", "suspense", None),        # 6,00 over a 5,00 tolerance
    ("20%", "posted", 1),              # within 112,00
])
def test_an_income_s_own_tolerance_at_import(session, w, tmp_path, tolerance, state, client_no):
    maija = client(session, w)
    plan(session, w, maija, TOLERANCE_PLAN.format(tolerance=tolerance))
    session.commit()
    imported(session, w, tmp_path,
             ntry("566.00", "K1", Tx(payer=KELA, message="TOIMEENTULOTUKI 11/2026")))
    assert (line(session, "K1").state, line(session, "K1").client_id) == (state, client_no)
    assert ledger.balance(session, f"client:{maija}") == (56_600 if client_no else 0)


def test_expected_income_of_several_clients_needs_the_name():
    d = directory(kela(1), kela(2))
    m = d.match(Credit(56_000, date(2026, 11, 2), counterparty_name=KELA,
                       message="TOIMEENTULOTUKI 11/2026"))
    assert (m.rule, m.client_id) == ("none", None)
    assert m.reason == f"expected income from {KELA} of several clients: 1, 2"
    assert decide(d, counterparty_name=KELA,
                  message="TOIMEENTULOTUKI 11/2026 VIRTANEN PEKKA") == ("expected_income", 2)
    assert decide(d, counterparty_name=KELA,
                  message="toimeentulotuki maija MEIKALAINEN") == ("expected_income", 1)


def test_one_candidate_is_not_taken_when_the_message_names_another_client():
    m = directory(kela(1)).match(Credit(56_000, date(2026, 11, 2), counterparty_name=KELA,
                                        message="ASUMISTUKI PEKKA VIRTANEN"))
    assert (m.rule, m.client_id) == ("none", None)
    assert m.reason == (f"expected income from {KELA} of clients 1, but the message names "
                        "clients 2")


def test_closed_clients_expect_nothing():
    assert decide(directory(kela(3)), counterparty_name=KELA) == ("none", None)


@pytest.mark.parametrize("source, payer, same", [
    ("Kela", "KANSANELÄKELAITOS", True),
    ("Kela", "Kansanelakelaitos Kela", True),
    ("Kela", "FOLKPENSIONSANSTALTEN", True),
    ("Kela", "Kela/FPA", True),
    ("Keva", "Kela", False),
    ("Ilmarinen", "ELÄKEVAKUUTUSOSAKEYHTIÖ ILMARINEN", True),
    ("Vaasan kaupunki", "VAASAN KAUPUNKI", True),
    ("Kela", None, False),
])
def test_payer_names(source, payer, same):
    assert payer_matches(source, payer) is same


def test_plan_versions_in_force():
    periods = in_force_periods([(10, date(2026, 11, 1), 1), (11, date(2026, 12, 1), 2),
                                (12, date(2026, 12, 1), 3)])
    assert periods == {10: (date(2026, 11, 1), date(2026, 12, 1)), 12: (date(2026, 12, 1), None)}


def test_identity_codes_are_masked_for_output():
    assert mask_hetus("maksu 010594Y123W ja 150705b247k") == "maksu 010594Y**** ja 150705B****"
    assert mask_hetus(None) is None


# --- through an import ---------------------------------------------------------------------------


@pytest.fixture
def w(session):
    w = world(session)
    session.commit()
    return w


def imported(session, w, tmp_path, *entries, name="s.xml", statement_id="S1"):
    path = write(tmp_path, name, camt053(*entries, statement_id=statement_id))
    result = service.import_file(session, w.fiona, path, today=TODAY)
    session.commit()
    return result


def line(session, archive_id):
    return session.execute(select(StatementLine).where(StatementLine.archive_id == archive_id)
                           ).scalar_one()


def open_flags(session, kind=None):
    query = select(Flag).where(Flag.resolved_at.is_(None))
    if kind:
        query = query.where(Flag.kind == kind)
    return [(f.kind, f.subject, f.client_id, f.amount_cents)
            for f in session.execute(query.order_by(Flag.id)).scalars()]


def test_credits_by_reference_rf_and_identity_code(session, w, tmp_path):
    maija = client(session, w)
    pekka = client(session, w, hetu=HETU_2, name="Pekka Virtanen")
    session.commit()
    reference, _rf = reference_of(session, maija)
    _ref, rf = reference_of(session, pekka)
    result = imported(session, w, tmp_path,
                      ntry("100.00", "A1", Tx(reference=reference, payer="Sukulainen")),
                      ntry("25.50", "A2", Tx(reference=rf, payer="Ystävä")),
                      ntry("12.00", "A3", Tx(message=f"palautus {HETU}", payer="Kauppa")))
    [summary] = result.summaries
    assert (summary.matched_reference, summary.matched_hetu, summary.in_suspense) == (2, 1, 0)
    assert ledger.balance(session, f"client:{maija}") == 11_200
    assert ledger.balance(session, f"client:{pekka}") == 2_550
    assert [(l.match_rule, l.client_id, l.state) for l in
            (line(session, "A1"), line(session, "A2"), line(session, "A3"))] == [
        ("reference", maija, "posted"), ("reference", pekka, "posted"), ("hetu", maija, "posted")]
    assert open_flags(session, "unmatched_income") == []


def test_expected_kela_income(session, w, tmp_path):
    maija = client(session, w)
    plan(session, w, maija)          # Kela 560,00 on the 1st, effective 1.11.2026
    session.commit()
    imported(session, w, tmp_path,
             ntry("558.00", "K1", Tx(payer=KELA, message="TOIMEENTULOTUKI 11/2026"),
                  booked="2026-11-02"),
             ntry("560.00", "K2", Tx(payer=KELA, message="TOIMEENTULOTUKI"), booked="2026-11-12"),
             ntry("672.01", "K3", Tx(payer=KELA, message="TOIMEENTULOTUKI"), booked="2026-11-02"),
             ntry("448.00", "K4", Tx(payer=KELA, message="TOIMEENTULOTUKI"), booked="2026-11-03"))
    # The plan gives no tolerance: the larger of 5,00 and 20 % of 560,00 = 112,00 either way.
    assert [(line(session, a).match_rule, line(session, a).client_id) for a in ("K1", "K4")] == [
        ("expected_income", maija), ("expected_income", maija)]
    assert ledger.balance(session, f"client:{maija}") == 55_800 + 44_800
    # Outside the window, and outside the tolerance: suspense, flagged.
    assert [line(session, a).state for a in ("K2", "K3")] == ["suspense", "suspense"]
    assert open_flags(session, "unmatched_income") == [
        ("unmatched_income", "K2", None, 56_000), ("unmatched_income", "K3", None, 67_201)]


def test_two_clients_expecting_the_same_payment_go_to_suspense_unless_named(session, w, tmp_path):
    maija = client(session, w)
    pekka = client(session, w, hetu=HETU_2, name="Pekka Virtanen")
    plan(session, w, maija)
    plan(session, w, pekka)
    session.commit()
    imported(session, w, tmp_path,
             ntry("560.00", "K1", Tx(payer=KELA, message="TOIMEENTULOTUKI 11/2026")),
             ntry("560.00", "K2", Tx(payer=KELA, message="TOIMEENTULOTUKI PEKKA VIRTANEN")))
    assert line(session, "K1").state == "suspense"
    flag = session.execute(select(Flag).where(Flag.subject == "K1")).scalar_one()
    assert flag.detail == (f"560,00\xa0€ in on 2026-11-02 from {KELA}: expected income from "
                           f"{KELA} of several clients: {maija}, {pekka}")
    assert (line(session, "K2").client_id, line(session, "K2").match_rule) == (
        pekka, "expected_income")
    assert ledger.balance(session, f"client:{maija}") == 0


def test_unmatched_income_is_assigned_once(session, w, tmp_path):
    maija = client(session, w)
    session.commit()
    imported(session, w, tmp_path, ntry("75.00", "U1", Tx(payer="Tuntematon", message="vuokra")))
    assert ledger.balance(session, "suspense") == 7_500
    assert open_flags(session) == [("unmatched_income", "U1", None, 7_500)]
    unmatched = income.list_income(session, w.hannu, unmatched=True)
    assert [(r.archive_id, r.amount_cents, r.state) for r in unmatched] == [
        ("U1", 7_500, "suspense")]

    result = income.assign_line(session, w.hannu, unmatched[0].line, str(maija), today=TODAY)
    session.commit()
    assert result == income.Assignment(   # booked on the line's day (2.11.), not TODAY
        line=unmatched[0].line, client=maija, amount_cents=7_500, booked_on=date(2026, 11, 2),
        ledger_key=f"assign:{unmatched[0].line}", flag_resolved=True)
    assert ledger.balance(session, "suspense") == 0
    assert ledger.balance(session, f"client:{maija}") == 7_500
    assert open_flags(session) == []
    assert (line(session, "U1").state, line(session, "U1").client_id) == ("assigned", maija)
    assert income.list_income(session, w.hannu, unmatched=True) == []
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "income.assign")
                            ).scalar_one()
    assert (entry.actor, entry.client_id) == ("hannu", maija)

    with pytest.raises(Conflict, match=f"line {result.line} is already assigned to client "
                                       f"{maija}"):
        income.assign_line(session, w.hannu, result.line, str(maija), today=TODAY)
    assert ledger.balance(session, f"client:{maija}") == 7_500


def test_assign_refuses_matched_lines_and_other_roles(session, w, tmp_path):
    maija = client(session, w)
    session.commit()
    reference, _ = reference_of(session, maija)
    imported(session, w, tmp_path, ntry("10.00", "M1", Tx(reference=reference)))
    matched = line(session, "M1")
    with pytest.raises(Conflict, match=f"it is posted \\(client {maija}\\)"):
        income.assign_line(session, w.hannu, matched.id, str(maija), today=TODAY)
    from valitystili.base.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        income.assign_line(session, w.fiona, matched.id, str(maija), today=TODAY)


def test_closed_client_is_credited_and_flagged(session, w, tmp_path):
    maija = client(session, w)
    clients.close_client(session, w.hannu, str(maija), closed_on=date(2026, 10, 31))
    session.commit()
    reference, _ = reference_of(session, maija)
    imported(session, w, tmp_path, ntry("30.00", "C1", Tx(reference=reference, payer="Kela")))
    assert ledger.balance(session, f"client:{maija}") == 3_000
    assert open_flags(session) == [("income_after_closing", "C1", maija, 3_000)]



@pytest.mark.parametrize(("tx", "english", "finnish"), [
    (lambda reference: Tx(reference=reference, payer="Kela"), "reference {reference}",
     "viitenumero {reference}"),
    (lambda reference: Tx(message=f"vuokra {reference}"), "reference {reference} in the message",
     "viitenumero {reference} viestissä"),
    (lambda reference: Tx(message=f"maksaja {HETU}"), "identity code in the message",
     "henkilötunnus viestissä"),
], ids=["reference", "reference in message", "identity code"])
def test_why_a_closed_client_was_credited_is_told_in_the_reader_s_language(
        session, w, tmp_path, tx, english, finnish):
    from valitystili.base import i18n
    from valitystili.flags.raising import shown_detail

    maija = client(session, w)
    clients.close_client(session, w.hannu, str(maija), closed_on=date(2026, 10, 31))
    session.commit()
    reference, _ = reference_of(session, maija)
    imported(session, w, tmp_path, ntry("30.00", "C1", tx(reference)))
    flag = session.execute(select(Flag).where(Flag.kind == "income_after_closing")).scalar_one()
    assert flag.detail == (f"30,00\u00a0€ for closed client {maija} "
                           f"({english.format(reference=reference)}) was credited to the client")
    before = i18n.set_language("fi")
    try:
        assert shown_detail(flag).shown() == (
            f"30,00\u00a0€ asiakkaalle {maija}, jonka palvelu on päättynyt "
            f"({finnish.format(reference=reference)}), kirjattiin asiakkaalle")
    finally:
        i18n.set_language(before)


def test_identity_codes_are_masked_in_the_income_list(session, w, tmp_path):
    imported(session, w, tmp_path, ntry("5.00", "H1", Tx(message="maksaja 131052-308T")))
    [row] = income.list_income(session, w.aune)
    assert row.message == "maksaja 131052-****"


def test_a_later_version_with_an_earlier_date_supersedes_for_matching_too():
    from datetime import date as day
    # v1 from 1.12., then v2 (a correction) from 1.11.: v2 governs from 1.11., v1 never
    assert in_force_periods([(1, day(2026, 12, 1), 1), (2, day(2026, 11, 1), 2)]) == {
        2: (day(2026, 11, 1), None)}
    assert in_force_periods([(1, day(2026, 11, 1), 1), (2, day(2026, 12, 1), 2)]) == {
        1: (day(2026, 11, 1), day(2026, 12, 1)), 2: (day(2026, 12, 1), None)}
