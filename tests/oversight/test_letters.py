"""The client's monthly letter, both backends: DESIGN §6's November in Finnish, Swedish and
English to the character, what it leaves out, arrears, the HTML page and the command."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import WORKED_EXAMPLE, client, plan, world
from oversight.test_reports_world import Money
from sqlalchemy import select

import ledger
from valitystili import payments
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.errors import NotFound, PermissionDenied
from valitystili.oversight import letters
from valitystili.plans import kela
from valitystili.store.models import AuditEntry
from valitystili.trust.auth import Actor

HANNU = Actor("hannu", "handler")
HILLA = Actor("hilla", "handler")
REVIEW = date(2027, 2, 1)
DATED = date(2026, 12, 1)      # the letters' date
IBAN = "FI55 4234 5670 0000 81"


def D(day: int, month: int = 11, year: int = 2026) -> date:
    return date(year, month, day)


def nbsp(text: str) -> str:
    """Amounts are written with a no-break space before the euro sign (Babel's fi_FI style)."""
    return text.replace(" €", "\u00a0€")


def letter(text: str) -> str:
    """``nbsp``, and the client's own account number is never broken (no-break spaces)."""
    return nbsp(text).replace(IBAN, IBAN.replace(" ", "\u00a0"))


@pytest.fixture
def november(session_factory):
    """Maija's November 2026 as DESIGN §6 works it out: Kela's 560,00 and 380,00 on Monday
    2.11., rent 520,00 paid that day, electricity 45,00 on Friday 13.11., and 75,00 to her own
    account every Monday (the last one exported, not yet seen by the bank). A draft order of
    10,00 waits for approval: not paid, but the money is spoken for."""
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w, review_on=REVIEW)
        plan(session, w, number, WORKED_EXAMPLE)
        money = Money(session)
        money.credit(number, 56000, D(2), payer="KELA")
        money.credit(number, 38000, D(2), payer="KELA")
        money.order(number, "rent", 52000, D(2), status="cleared")
        for day in (2, 9, 16, 23, 30):
            money.order(number, "instalment", 7500, D(day), instalment_on=D(day),
                        status="cleared" if day < 30 else "exported")
        money.order(number, "electricity", 4500, D(13), status="cleared", creditor="Vaasan Sähkö Oy")
        # Neither a draft nor a cancelled order was paid.
        money.order(number, "other", 1000, D(27), status="draft", key="order:draft")
        money.order(number, "other", 1000, D(27), status="cancelled", key="order:cancelled")
    return number


FINNISH = letter("""\
Välitystili
1.12.2026

Välitystilin kuukausiote – marraskuu 2026

Hei Maija Meikäläinen,

Tässä kirjeessä kerromme, mitä rahoillesi tapahtui marraskuussa 2026.

Etuutesi maksetaan välitystilille. Välitystili on pankkitili, jolla rahasi
ovat. Maksamme sieltä vuokrasi ja laskusi. Loput rahat maksamme erinä omalle
pankkitilillesi FI55 4234 5670 0000 81.

Kuukauden alussa 1.11.2026 välitystililläsi oli 0,00 €.

Rahaa tuli välitystilillesi
  2.11.2026   Toimeentulotuki, Kela                       560,00 €
  2.11.2026   Asumistuki, Kela                            380,00 €
              Yhteensä                                    940,00 €

Maksoimme välitystililtäsi vuokran ja laskut
  2.11.2026   Vuokra, Vaasan Asunnot Oy                   520,00 €
  13.11.2026  Sähkölasku, Vaasan Sähkö Oy                  45,00 €
              Yhteensä                                    565,00 €

Maksoimme omalle pankkitilillesi
  2.11.2026   Erä omalle pankkitilillesi                   75,00 €
  9.11.2026   Erä omalle pankkitilillesi                   75,00 €
  16.11.2026  Erä omalle pankkitilillesi                   75,00 €
  23.11.2026  Erä omalle pankkitilillesi                   75,00 €
  30.11.2026  Erä omalle pankkitilillesi                   75,00 €
              Yhteensä                                    375,00 €

Kuukauden lopussa 30.11.2026 välitystililläsi oli 0,00 €.

Näin maksamme joulukuussa 2026
  2.12.2026   Vuokra joulukuulta 2026, Vaasan Asunnot Oy  520,00 €
  7.12.2026   Erä omalle pankkitilillesi                   91,25 €
  14.12.2026  Erä omalle pankkitilillesi                   91,25 €
  15.12.2026  Sähkölasku, Vaasan Sähkö Oy                  45,00 €
  21.12.2026  Erä omalle pankkitilillesi                   91,25 €
  28.12.2026  Erä omalle pankkitilillesi                   91,25 €
  Nämä summat ovat oikein, jos rahasi tulevat ajallaan ja yhtä suurina kuin
  yleensä.

Jos sinulla on kysyttävää, ota yhteyttä välitystilin hoitajaan.

Ystävällisin terveisin
Välitystili
""")

SWEDISH = letter("""\
Välitystili
1.12.2026

Förmedlingskontots månadsbesked – november 2026

Hej Maija Meikäläinen,

Här är vad som hände med dina pengar i november 2026.

Dina förmåner betalas till förmedlingskontot. Förmedlingskontot är ett
bankkonto där dina pengar finns. Därifrån betalar vi din hyra och dina
räkningar. Resten av pengarna betalar vi i rater till ditt eget bankkonto
FI55 4234 5670 0000 81.

När månaden började, 1.11.2026, fanns det 0,00 € på ditt förmedlingskonto.

Pengar som kom in på ditt förmedlingskonto
  2.11.2026   Utkomststöd, FPA                           560,00 €
  2.11.2026   Bostadsbidrag, FPA                         380,00 €
              Totalt                                     940,00 €

Hyra och räkningar som vi betalade från ditt förmedlingskonto
  2.11.2026   Hyra, Vaasan Asunnot Oy                    520,00 €
  13.11.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
              Totalt                                     565,00 €

Pengar som vi betalade till ditt eget bankkonto
  2.11.2026   Rat till ditt eget bankkonto                75,00 €
  9.11.2026   Rat till ditt eget bankkonto                75,00 €
  16.11.2026  Rat till ditt eget bankkonto                75,00 €
  23.11.2026  Rat till ditt eget bankkonto                75,00 €
  30.11.2026  Rat till ditt eget bankkonto                75,00 €
              Totalt                                     375,00 €

När månaden slutade, 30.11.2026, fanns det 0,00 € på ditt förmedlingskonto.

Så här betalar vi i december 2026
  2.12.2026   Hyra för december 2026, Vaasan Asunnot Oy  520,00 €
  7.12.2026   Rat till ditt eget bankkonto                91,25 €
  14.12.2026  Rat till ditt eget bankkonto                91,25 €
  15.12.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
  21.12.2026  Rat till ditt eget bankkonto                91,25 €
  28.12.2026  Rat till ditt eget bankkonto                91,25 €
  Beloppen stämmer om dina pengar kommer i tid och är lika stora som vanligt.

Om du har frågor, kontakta förmedlingskontots handläggare.

Med vänliga hälsningar
Välitystili
""")

ENGLISH = letter("""\
Välitystili
1.12.2026

Intermediary account monthly statement – November 2026

Hello Maija Meikäläinen,

This letter tells you what happened to your money in November 2026.

Your benefits are paid into the intermediary account. The intermediary account
is a bank account that holds your money. From it we pay your rent and bills.
We pay the rest of the money in instalments to your own bank account
FI55 4234 5670 0000 81.

At the start of the month, on 1.11.2026, your intermediary account held
0,00 €.

Money that came into your intermediary account
  2.11.2026   Social assistance, Kela                    560,00 €
  2.11.2026   Housing allowance, Kela                    380,00 €
              Total                                      940,00 €

Rent and bills we paid from your intermediary account
  2.11.2026   Rent, Vaasan Asunnot Oy                    520,00 €
  13.11.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
              Total                                      565,00 €

Money we paid to your own bank account
  2.11.2026   Instalment to your own bank account         75,00 €
  9.11.2026   Instalment to your own bank account         75,00 €
  16.11.2026  Instalment to your own bank account         75,00 €
  23.11.2026  Instalment to your own bank account         75,00 €
  30.11.2026  Instalment to your own bank account         75,00 €
              Total                                      375,00 €

At the end of the month, on 30.11.2026, your intermediary account held 0,00 €.

What we will pay in December 2026
  2.12.2026   Rent for December 2026, Vaasan Asunnot Oy  520,00 €
  7.12.2026   Instalment to your own bank account         91,25 €
  14.12.2026  Instalment to your own bank account         91,25 €
  15.12.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
  21.12.2026  Instalment to your own bank account         91,25 €
  28.12.2026  Instalment to your own bank account         91,25 €
  These amounts are right if your money comes on time and in the usual
  amounts.

If you have any questions, please contact your account handler.

Kind regards
Välitystili
""")


# December, as the batch will decide it (DESIGN §6, worked example 1 a month on): the balance
# is 0,00 less the 10,00 draft; 560,00 + 380,00 arrive on Tuesday 1.12.; rent 520,00 is paid on
# its agreed day, Wednesday 2.12.; electricity 45,00 (agreed for Tuesday 15.12.) comes before
# the next income (Monday 4.1.2027, as 1.1. is a holiday), so it is kept back; the instalment
# Mondays 7.12., 14.12., 21.12. and 28.12. (30.11. was paid in November) share
# 940 - 10 - 520 - 45 = 365,00: 91,25 each.


@pytest.mark.parametrize("language, expected", [("fi", FINNISH), ("sv", SWEDISH), ("en", ENGLISH)])
def test_the_november_letter_in_each_language(session, november, language, expected):
    written = letters.client_statement(session, HANNU, str(november), 2026, 11, language,
                                       today=DATED)
    assert letters.render_text(written) == expected


def test_reading_a_letter_is_audited_as_a_view_of_the_client(session, november):
    letters.client_statement(session, HANNU, "1", 2026, 11)
    entry = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    assert (entry.actor, entry.action, entry.client_id, entry.subject, json.loads(entry.detail)) == (
        "hannu", "view", 1, "statement 2026-11",
        {"month": "2026-11", "language": "fi", "output": "text"})


def test_the_clients_own_language_is_the_default(session, november):
    letter = letters.client_statement(session, HANNU, "1", 2026, 11)
    assert letter.language == "fi"


def test_a_returned_payment_is_paid_then_given_back_and_assigned_money_names_its_payer(
        session, november):
    money = Money(session)
    # Money from a relative, first in suspense, assigned to Maija by a handler on 26.11.
    line = money.suspense_credit(1000, D(25), payer="Matti Virtanen")
    ledger.post(session, f"assign:{line.id}", [("suspense", 1000), ("client:1", -1000)], D(26))
    line.state, line.client_id = "assigned", 1
    # A payment of it to the landlord came back on 30.11.: it went out (a bill paid) and came
    # back (a returned payment), and the money coming back is not money received.
    returned = money.order(1, "other", 1000, D(27), status="exported", key="order:other:1:back")
    ledger.post(session, "bank:return", [("bank:FI7433010001222090", 1000), ("client:1", -1000)],
                D(30))
    money.line(D(30), 1000, state="returned", ledger_key="bank:return", client_id=1,
               order_id=returned.id, return_reason="AC04", payer="Vaasan Asunnot Oy")
    returned.status, returned.returned_on = "returned", D(30)
    session.flush()
    letter = letters.client_statement(session, HANNU, "1", 2026, 11, "en", today=DATED)
    assert [(r.on, r.kind, r.text, r.amount_cents, r.benefit) for r in letter.received] == [
        (D(2), "payer", "Kela", 56000, "basic_social_assistance"),
        (D(2), "payer", "Kela", 38000, "housing_allowance"),
        (D(26), "payer", "Matti Virtanen", 1000, None)]
    assert [(r.on, r.kind, r.amount_cents) for r in letter.paid] == [
        (D(2), "rent", 52000), (D(13), "electricity", 4500), (D(27), "other", 1000)]
    assert [(r.on, r.kind, r.text, r.amount_cents, r.reason) for r in letter.returned] == [
        (D(30), "other", "Vaasan Asunnot Oy", 1000, "AC04")]
    assert (letter.opening_cents, letter.balance_cents) == (0, 1000)
    # The landlord's account, not the client's, was closed: the service sorts it out.
    assert letters.render_text(letter).split("Payments that came back\n")[1].split("\n\n")[0] \
        == nbsp("""\
  30.11.2026  Bill, Vaasan Asunnot Oy                     10,00 €
              The bank sent the payment back because the payee's account is
              closed.
              The money is back on your intermediary account.
              We will sort it out.""")


def test_unpaid_bills_and_fixed_instalments(session_factory):
    """November's rent went unpaid (only 660,00 came, and no batch paid it): December's first
    banking day pays it before anything else, the 2nd December's rent, and the fixed 75,00
    instalments come out of what is left above the electricity kept back for the 15th."""
    fixed = WORKED_EXAMPLE.replace('mode = "even"', 'amount = "75.00"')
    with session_factory() as session, session.begin():
        w = world(session)
        client(session, w, language="sv", review_on=REVIEW)
        plan(session, w, 1, fixed)
        money = Money(session)
        money.credit(1, 66000, D(2), payer="KELA")
        money.obligation(1, "rent", 52000, D(2), payee_id=w.landlord, key="rent:1:2026-11")
    with session_factory() as session, session.begin():
        text = letters.render_text(letters.client_statement(session, HANNU, "1", 2026, 11))
    # 660 + 940 - 520 - 520 = 560,00 left on 2.12.; 45,00 kept back for the electricity. Each
    # rent names its month: the first one paid in December is November's.
    assert text.split("Så här betalar vi i december 2026\n")[1] == nbsp("""\
  1.12.2026   Hyra för november 2026, Vaasan Asunnot Oy  520,00 €
  2.12.2026   Hyra för december 2026, Vaasan Asunnot Oy  520,00 €
  7.12.2026   Rat till ditt eget bankkonto                75,00 €
  14.12.2026  Rat till ditt eget bankkonto                75,00 €
  15.12.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
  21.12.2026  Rat till ditt eget bankkonto                75,00 €
  28.12.2026  Rat till ditt eget bankkonto                75,00 €
  Beloppen stämmer om dina pengar kommer i tid och är lika stora som vanligt.

Ännu obetalt
  Dessa har ännu inte kunnat betalas. Ring din socialhandledare.
  2.11.2026   Hyra för november 2026, Vaasan Asunnot Oy  520,00 €
              Totalt                                     520,00 €

Om du har frågor, kontakta förmedlingskontots handläggare.

Med vänliga hälsningar
Välitystili
""")
    assert ("Hyra och räkningar som vi betalade från ditt förmedlingskonto\n"
            "  Vi betalade ingen hyra och inga räkningar.\n") in text
    assert nbsp("När månaden slutade, 30.11.2026, fanns det 660,00 € på ditt "
                "förmedlingskonto.\n") in text


def test_the_html_page_is_self_contained_and_escaped(session, november):
    session.execute(select(1))
    from valitystili.store.models import Client

    session.get(Client, 1).name = "Maija <Meikäläinen> & co"
    letter = letters.client_statement(session, HANNU, "1", 2026, 11, "fi")
    page = letters.render_html(letter)
    assert page.startswith('<!DOCTYPE html>\n<html lang="fi">\n<head>\n<meta charset="utf-8">\n'
                           "<title>Välitystilin kuukausiote – marraskuu 2026</title>")
    assert "<p>Hei Maija &lt;Meikäläinen&gt; &amp; co,</p>" in page
    assert nbsp('<tr class="total"><td class="date"></td><td>Yhteensä</td>'
                '<td class="amount">940,00 €</td></tr>') in page
    for external in ("http:", "https:", "<script", "<link", "<img", "src=", "@import", "url("):
        assert external not in page
    assert page.endswith("</body>\n</html>\n")


def test_letter_refusals(session, november):
    with pytest.raises(NotFound):
        letters.client_statement(session, HANNU, "999", 2026, 11)
    with pytest.raises(PermissionDenied):
        letters.client_statement(session, Actor("root", "admin"), "1", 2026, 11)


# --- the command -------------------------------------------------------------------------------


def test_report_statement_prints_the_letter(cli, november):
    result = cli("report", "statement", "1", "--month", "2026-11", "--language", "sv",
                 "--date", "1.12.2026", user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (0, SWEDISH, "")
    data = cli.json("report", "statement", "1", "--month", "2026-11", user="sanna")
    assert (data["language"], data["balance_cents"], data["balance_on"], len(data["coming"])) == (
        "fi", 0, "2026-11-30", 6)


def test_report_statement_writes_a_print_ready_page(cli, november, tmp_path):
    out = tmp_path / "marraskuu.html"
    result = cli("report", "statement", "1", "--month", "2026-11", "--language", "en",
                 "--out", str(out), user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", f"wrote {out}\n")
    page = out.read_text(encoding="utf-8")
    assert "<h1>Intermediary account monthly statement – November 2026</h1>" in page
    log = cli.json("audit", "log", "--client", "1", user="aune")
    assert log[-1]["action"] == "view" and log[-1]["detail"]["output"] == "html"


def test_report_statement_bad_month_is_a_usage_error(cli, november):
    result = cli("report", "statement", "1", "--month", "11/2026", user="hannu")
    assert (result.exit_code, result.stderr) == (
        2, ("valitystili: error: Invalid value for '--month': month '11/2026' is not in the "
            "form 2026-11\n"))


# --- Kela pays part of the rent; the coming payments are what the batch then pays ------------

#: DESIGN §6's client when Kela pays part of the rent: the landlord usually gets 100,00 of the
#: 520,00 rent from Kela (so her social assistance is 460,00); Kela's November decision says 150,00.
KELA_PLAN = WORKED_EXAMPLE.replace('amount = "560.00"', 'amount = "460.00"', 1).replace(
    'amount = "520.00"', 'amount = "520.00"\npaid_directly = "100.00"', 1)
BENEFITS = (46000, 38000)


def run_days(session_factory, days, arrivals: dict[date, tuple[int, ...]], *,
             approve: bool = True) -> list[tuple]:
    """On each day: Kela's money arriving that day is credited, the batch runs and (``approve``)
    a second handler approves it. The orders the batches made, as (day, kind, amount)."""
    made = []
    for day in days:
        if day in arrivals:
            with session_factory() as session, session.begin():
                for cents in arrivals[day]:
                    Money(session).credit(1, cents, day, payer="KELA")
        with session_factory() as session, session.begin():
            result = payments.run_batch(session, HANNU, day)
        if approve and result["orders"]:
            with session_factory() as session, session.begin():
                payments.approve_batch(session, HILLA, str(result["batch"]), today=day)
        made += [(row["execution_on"], row["kind"], row["amount_cents"])
                 for row in result["order_rows"]]
    return made


@pytest.fixture
def kela_november(session_factory):
    """November 2026 through the batch: Kela's decision gives the landlord 150,00, so the
    account pays 370,00 on 2.11.; electricity 45,00 on 13.11.; the Mondays share
    840 - 370 - 45 = 425,00, 85,00 each."""
    with session_factory() as session, session.begin():
        w = world(session)
        client(session, w, review_on=REVIEW)
        plan(session, w, 1, KELA_PLAN)
        kela.record_share(session, w.hannu, "1", (2026, 11), 15000)
    made = run_days(session_factory, [D(day) for day in (2, 9, 13, 16, 23, 30)],
                    {D(2): BENEFITS})
    assert made == [(D(2), "rent", 37000), (D(2), "instalment", 8500),
                    (D(9), "instalment", 8500), (D(13), "electricity", 4500),
                    *((D(day), "instalment", 8500) for day in (16, 23, 30))]
    return 1


#: The three parts of a rent Kela pays part of, paid in November (Kela's decision: 150,00 €)
#: and coming in December (Kela's usual 100,00 €), one sentence a line under the rent.
PARTS = {
    "fi": (("Vuokra on 520,00 €.", "Kela maksaa siitä 150,00 € suoraan vuokranantajalle.",
            "Me maksoimme loput 370,00 € välitystililtäsi."),
           ("Vuokra on 520,00 €.", "Kela maksaa siitä 100,00 € suoraan vuokranantajalle.",
            "Me maksamme loput 420,00 € välitystililtäsi.")),
    "sv": (("Hyran är 520,00 €.", "FPA betalar 150,00 € av den direkt till hyresvärden.",
            "Vi betalade resten, 370,00 €, från ditt förmedlingskonto."),
           ("Hyran är 520,00 €.", "FPA betalar 100,00 € av den direkt till hyresvärden.",
            "Vi betalar resten, 420,00 €, från ditt förmedlingskonto.")),
    "en": (("The rent is 520,00 €.", "Kela pays 150,00 € of it straight to the landlord.",
            "We paid the rest, 370,00 €, from your intermediary account."),
           ("The rent is 520,00 €.", "Kela pays 100,00 € of it straight to the landlord.",
            "We will pay the rest, 420,00 €, from your intermediary account.")),
}


def test_a_rent_kela_pays_part_of_shows_its_three_parts(session, kela_november):
    # December has no decision recorded: Kela's usual 100,00, the account 420,00; the Mondays
    # share 840 - 420 - 45 = 375,00, 93,75 each.
    letter = letters.client_statement(session, HANNU, "1", 2026, 11, "en")
    assert [(line.on, line.amount_cents, line.rent_cents, line.kela_cents, line.month)
            for line in (*letter.paid, *letter.coming) if line.kind == "rent"] == [
        (D(2), 37000, 52000, 15000, "2026-11"), (D(2, 12), 42000, 52000, 10000, "2026-12")]
    for language, (paid, coming) in PARTS.items():
        letter = letters.client_statement(session, HANNU, "1", 2026, 11, language)
        text = letters.render_text(letter)
        for sentences in (paid, coming):
            assert nbsp("".join(f"              {sentence}\n" for sentence in sentences)) in text
        assert nbsp(f'<tr class="note"><td class="date"></td><td colspan="2">{" ".join(paid)}'
                    "</td></tr>") in letters.render_html(letter)


def test_the_coming_payments_are_what_the_batch_then_pays(session_factory, kela_november):
    with session_factory() as session, session.begin():
        letter = letters.client_statement(session, HANNU, "1", 2026, 11)
    promised = [(line.on, line.kind, line.amount_cents) for line in letter.coming]
    december = list(CALENDAR.banking_days(D(1, 12), D(31, 12)))
    # Orders count against the money from when they are made: approval changes nothing here.
    assert run_days(session_factory, december, {D(1, 12): BENEFITS}, approve=False) == promised
    assert promised == [(D(2, 12), "rent", 42000),
                        *((D(day, 12), "instalment", 9375) for day in (7, 14)),
                        (D(15, 12), "electricity", 4500),
                        *((D(day, 12), "instalment", 9375) for day in (21, 28))]
