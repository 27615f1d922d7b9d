"""The client's letter in plain language, read as the client reads it: five months written out
in full in Finnish, Swedish and English (the whole text, compared exactly), each built through
the stored pipeline day by day (``helpers.months``: Kela's money imported, the batch run,
approved, exported and executed by the simulated bank), on both backends.

- an ordinary month: DESIGN §6's worked example, November 2026;
- a short month: only 470,00 € comes, the rent is 520,00 €: 50,00 € of it is left unpaid and
  the electricity cannot be paid;
- a returned payment: the client's own bank account is closed on Monday 16.11., so that day's
  instalment comes back;
- Kela's direct part: Kela's decision gives the landlord 150,00 € of November's rent (the plan's
  usual part is 100,00 €, December's);
- the last month: the service closes on 20.11.; a relative's 50,00 € after it goes to the client.

Then: the letter for a month after the closing is refused, the benefit named by the bank's
message, the sender's settings and their fallbacks, and ``--out``'s file names.
"""

from __future__ import annotations

import functools
from datetime import date

import pytest
from helpers import scenario
from helpers.months import Months
from oversight.test_reports_world import Money
from sqlalchemy import select

from valitystili.base.errors import ValidationError
from valitystili.base.identifiers import client_reference
from valitystili.demo.bank import Credit
from valitystili.oversight import letters
from valitystili.people import clients
from valitystili.plans import kela
from valitystili.store.models import AuditEntry
from valitystili.trust import configuration
from valitystili.trust.auth import Actor

ADMIN = Actor("admin", "admin")
HANNU = Actor("hannu", "handler")
SANNA = Actor("sanna", "social_worker")
DATED = date(2026, 12, 3)
NOVEMBER = date(2026, 11, 1)
IBAN = "FI55 4234 5670 0000 81"
#: The sender, as a county sets it (``settings set letter_…``).
SENDER = {
    "letter_organisation": "Vaasan kaupunki, sosiaalipalvelut",
    "letter_organisation_sv": "Vasa stad, socialtjänsten",
    "letter_organisation_en": "City of Vaasa, social services",
    "letter_handler": "Hannu Hoitaja",
    "letter_phone": "06 325 1111",
    "letter_hours": "ma–pe klo 9–11",
    "letter_hours_sv": "mån–fre kl. 9–11",
    "letter_hours_en": "Mon–Fri 9–11",
}
#: Kela pays the landlord part of the rent: usually 100,00 € (so her assistance is 460,00 €).
KELA_PLAN = scenario.WORKED_EXAMPLE.replace('amount = "560.00"', 'amount = "460.00"', 1).replace(
    'amount = "520.00"', 'amount = "520.00"\npaid_directly = "100.00"', 1)
#: Only 470,00 € of social assistance, for a rent of 520,00 € and electricity of 45,00 €.
SHORT_PLAN = scenario.DESIGN_EXAMPLE.replace('amount = "560.00"', 'amount = "470.00"')


def letter(text: str) -> str:
    """Amounts have a no-break space before the euro sign and the account number is never
    broken over two lines (no-break spaces between its groups)."""
    return text.replace(" €", "\u00a0€").replace(IBAN, IBAN.replace(" ", "\u00a0"))


def written(session, month: tuple[int, int] = (2026, 11)) -> dict[str, str]:
    """The client's letter for the month in each language, dated 3.12.2026."""
    found = {}
    for language in ("fi", "sv", "en"):
        with session.begin():
            found[language] = letters.render_text(letters.client_statement(
                session, HANNU, "1", *month, language, today=DATED))
    return found


# --- the five months ---------------------------------------------------------------------------


def _months(session, folder, plan_text: str) -> Months:
    run = Months(session, folder, plan_text, start=NOVEMBER)
    with session.begin():
        for key, value in SENDER.items():
            configuration.put(session, ADMIN, key, value)
    return run


def ordinary(session, folder) -> None:
    _months(session, folder, scenario.WORKED_EXAMPLE).through(date(2026, 11, 30))


def short(session, folder) -> None:
    _months(session, folder, SHORT_PLAN).through(date(2026, 11, 30))


def returned(session, folder) -> None:
    run = _months(session, folder, scenario.WORKED_EXAMPLE)
    run.through(date(2026, 11, 13))
    execute = run.bank.execute_pain001
    run.bank.execute_pain001 = functools.partial(
        execute, rejected_ibans=frozenset({scenario.CLIENT_IBAN}))   # AC04: account closed
    run.through(date(2026, 11, 16))
    run.bank.execute_pain001 = execute
    run.through(date(2026, 11, 30))


def kela_part(session, folder) -> None:
    run = _months(session, folder, KELA_PLAN)
    with session.begin():
        kela.record_share(session, HANNU, "1", (2026, 11), 15000)
    run.through(date(2026, 11, 30))


def closing(session, folder) -> None:
    run = _months(session, folder, scenario.WORKED_EXAMPLE)
    run.through(date(2026, 11, 13))
    with session.begin():
        clients.close_client(session, SANNA, "1", closed_on=date(2026, 11, 20),
                             final_payout=True)
    run.through(date(2026, 11, 24))
    run.bank.credit(date(2026, 11, 25), Credit(5000, "Matti Virtanen",
                                               reference=client_reference(1)))
    run.through(date(2026, 11, 30))


ORDINARY_FI = letter("""\
Vaasan kaupunki, sosiaalipalvelut
3.12.2026

Välitystilin kuukausiote – marraskuu 2026

Hei Maija Meikäläinen,

Tässä kirjeessä kerromme, mitä rahoillesi tapahtui marraskuussa 2026.

Etuutesi maksetaan välitystilille. Välitystili on pankkitili, jolla rahasi
ovat. Maksamme sieltä vuokrasi ja laskusi. Loput rahat maksamme erinä omalle
pankkitilillesi FI55 4234 5670 0000 81.

Kuukauden alussa 1.11.2026 välitystililläsi oli 0,00 €.

Rahaa tuli välitystilillesi
  2.11.2026   Toimeentulotuki, Kela                        560,00 €
  2.11.2026   Asumistuki, Kela                             380,00 €
              Yhteensä                                     940,00 €

Maksoimme välitystililtäsi vuokran ja laskut
  2.11.2026   Vuokra marraskuulta 2026, Vaasan Asunnot Oy  520,00 €
  13.11.2026  Sähkölasku, Vaasan Sähkö Oy                   45,00 €
              Yhteensä                                     565,00 €

Maksoimme omalle pankkitilillesi
  2.11.2026   Erä omalle pankkitilillesi                    75,00 €
  9.11.2026   Erä omalle pankkitilillesi                    75,00 €
  16.11.2026  Erä omalle pankkitilillesi                    75,00 €
  23.11.2026  Erä omalle pankkitilillesi                    75,00 €
  30.11.2026  Erä omalle pankkitilillesi                    75,00 €
              Yhteensä                                     375,00 €

Kuukauden lopussa 30.11.2026 välitystililläsi oli 0,00 €.

Näin maksamme joulukuussa 2026
  2.12.2026   Vuokra joulukuulta 2026, Vaasan Asunnot Oy   520,00 €
  7.12.2026   Erä omalle pankkitilillesi                    93,75 €
  14.12.2026  Erä omalle pankkitilillesi                    93,75 €
  15.12.2026  Sähkölasku, Vaasan Sähkö Oy                   45,00 €
  21.12.2026  Erä omalle pankkitilillesi                    93,75 €
  28.12.2026  Erä omalle pankkitilillesi                    93,75 €
  Nämä summat ovat oikein, jos rahasi tulevat ajallaan ja yhtä suurina kuin
  yleensä.

Jos sinulla on kysyttävää, soita meille: 06 325 1111 (ma–pe klo 9–11).

Ystävällisin terveisin
Hannu Hoitaja, välitystilin hoitaja
Vaasan kaupunki, sosiaalipalvelut
""")

ORDINARY_SV = letter("""\
Vasa stad, socialtjänsten
3.12.2026

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
  2.11.2026   Hyra för november 2026, Vaasan Asunnot Oy  520,00 €
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
  7.12.2026   Rat till ditt eget bankkonto                93,75 €
  14.12.2026  Rat till ditt eget bankkonto                93,75 €
  15.12.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
  21.12.2026  Rat till ditt eget bankkonto                93,75 €
  28.12.2026  Rat till ditt eget bankkonto                93,75 €
  Beloppen stämmer om dina pengar kommer i tid och är lika stora som vanligt.

Om du har frågor, ring oss: 06 325 1111 (mån–fre kl. 9–11).

Med vänliga hälsningar
Hannu Hoitaja, förmedlingskontots handläggare
Vasa stad, socialtjänsten
""")

ORDINARY_EN = letter("""\
City of Vaasa, social services
3.12.2026

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
  2.11.2026   Rent for November 2026, Vaasan Asunnot Oy  520,00 €
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
  7.12.2026   Instalment to your own bank account         93,75 €
  14.12.2026  Instalment to your own bank account         93,75 €
  15.12.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
  21.12.2026  Instalment to your own bank account         93,75 €
  28.12.2026  Instalment to your own bank account         93,75 €
  These amounts are right if your money comes on time and in the usual
  amounts.

If you have any questions, call us: 06 325 1111 (Mon–Fri 9–11).

Kind regards
Hannu Hoitaja, account handler
City of Vaasa, social services
""")

SHORT_FI = letter("""\
Vaasan kaupunki, sosiaalipalvelut
3.12.2026

Välitystilin kuukausiote – marraskuu 2026

Hei Maija Meikäläinen,

Tässä kirjeessä kerromme, mitä rahoillesi tapahtui marraskuussa 2026.

Etuutesi maksetaan välitystilille. Välitystili on pankkitili, jolla rahasi
ovat. Maksamme sieltä vuokrasi ja laskusi. Loput rahat maksamme erinä omalle
pankkitilillesi FI55 4234 5670 0000 81.

Kuukauden alussa 1.11.2026 välitystililläsi oli 0,00 €.

Rahaa tuli välitystilillesi
  2.11.2026   Toimeentulotuki, Kela                        470,00 €
              Yhteensä                                     470,00 €

Maksoimme välitystililtäsi vuokran ja laskut
  2.11.2026   Vuokra marraskuulta 2026, Vaasan Asunnot Oy  470,00 €
              Rahaa ei ollut tarpeeksi koko vuokraan: 50,00 € jäi maksamatta.
              Soita sosiaaliohjaajallesi.
              Yhteensä                                     470,00 €

Maksoimme omalle pankkitilillesi
  Emme maksaneet rahaa omalle pankkitilillesi.

Kuukauden lopussa 30.11.2026 välitystililläsi oli 0,00 €.

Näin maksamme joulukuussa 2026
  1.12.2026   Vuokra marraskuulta 2026, Vaasan Asunnot Oy   50,00 €
  2.12.2026   Vuokra joulukuulta 2026, Vaasan Asunnot Oy   420,00 €
  Nämä summat ovat oikein, jos rahasi tulevat ajallaan ja yhtä suurina kuin
  yleensä.

Vielä maksamatta
  Näitä ei ole vielä voitu maksaa. Soita sosiaaliohjaajallesi.
  2.11.2026   Vuokra marraskuulta 2026, Vaasan Asunnot Oy   50,00 €
  16.11.2026  Sähkölasku, Vaasan Sähkö Oy                   45,00 €
              Yhteensä                                      95,00 €

Jos sinulla on kysyttävää, soita meille: 06 325 1111 (ma–pe klo 9–11).

Ystävällisin terveisin
Hannu Hoitaja, välitystilin hoitaja
Vaasan kaupunki, sosiaalipalvelut
""")

SHORT_SV = letter("""\
Vasa stad, socialtjänsten
3.12.2026

Förmedlingskontots månadsbesked – november 2026

Hej Maija Meikäläinen,

Här är vad som hände med dina pengar i november 2026.

Dina förmåner betalas till förmedlingskontot. Förmedlingskontot är ett
bankkonto där dina pengar finns. Därifrån betalar vi din hyra och dina
räkningar. Resten av pengarna betalar vi i rater till ditt eget bankkonto
FI55 4234 5670 0000 81.

När månaden började, 1.11.2026, fanns det 0,00 € på ditt förmedlingskonto.

Pengar som kom in på ditt förmedlingskonto
  2.11.2026   Utkomststöd, FPA                           470,00 €
              Totalt                                     470,00 €

Hyra och räkningar som vi betalade från ditt förmedlingskonto
  2.11.2026   Hyra för november 2026, Vaasan Asunnot Oy  470,00 €
              Pengarna räckte inte till hela hyran: 50,00 € blev kvar att
              betala.
              Ring din socialhandledare.
              Totalt                                     470,00 €

Pengar som vi betalade till ditt eget bankkonto
  Vi betalade inga pengar till ditt eget bankkonto.

När månaden slutade, 30.11.2026, fanns det 0,00 € på ditt förmedlingskonto.

Så här betalar vi i december 2026
  1.12.2026   Hyra för november 2026, Vaasan Asunnot Oy   50,00 €
  2.12.2026   Hyra för december 2026, Vaasan Asunnot Oy  420,00 €
  Beloppen stämmer om dina pengar kommer i tid och är lika stora som vanligt.

Ännu obetalt
  Dessa har ännu inte kunnat betalas. Ring din socialhandledare.
  2.11.2026   Hyra för november 2026, Vaasan Asunnot Oy   50,00 €
  16.11.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
              Totalt                                      95,00 €

Om du har frågor, ring oss: 06 325 1111 (mån–fre kl. 9–11).

Med vänliga hälsningar
Hannu Hoitaja, förmedlingskontots handläggare
Vasa stad, socialtjänsten
""")

SHORT_EN = letter("""\
City of Vaasa, social services
3.12.2026

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
  2.11.2026   Social assistance, Kela                    470,00 €
              Total                                      470,00 €

Rent and bills we paid from your intermediary account
  2.11.2026   Rent for November 2026, Vaasan Asunnot Oy  470,00 €
              There was not enough money for the whole rent: 50,00 € was left
              unpaid.
              Call your social worker.
              Total                                      470,00 €

Money we paid to your own bank account
  We paid no money to your own bank account.

At the end of the month, on 30.11.2026, your intermediary account held 0,00 €.

What we will pay in December 2026
  1.12.2026   Rent for November 2026, Vaasan Asunnot Oy   50,00 €
  2.12.2026   Rent for December 2026, Vaasan Asunnot Oy  420,00 €
  These amounts are right if your money comes on time and in the usual
  amounts.

Still unpaid
  These could not be paid yet. Call your social worker.
  2.11.2026   Rent for November 2026, Vaasan Asunnot Oy   50,00 €
  16.11.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
              Total                                       95,00 €

If you have any questions, call us: 06 325 1111 (Mon–Fri 9–11).

Kind regards
Hannu Hoitaja, account handler
City of Vaasa, social services
""")

RETURNED_FI = letter("""\
Vaasan kaupunki, sosiaalipalvelut
3.12.2026

Välitystilin kuukausiote – marraskuu 2026

Hei Maija Meikäläinen,

Tässä kirjeessä kerromme, mitä rahoillesi tapahtui marraskuussa 2026.

Etuutesi maksetaan välitystilille. Välitystili on pankkitili, jolla rahasi
ovat. Maksamme sieltä vuokrasi ja laskusi. Loput rahat maksamme erinä omalle
pankkitilillesi FI55 4234 5670 0000 81.

Kuukauden alussa 1.11.2026 välitystililläsi oli 0,00 €.

Rahaa tuli välitystilillesi
  2.11.2026   Toimeentulotuki, Kela                        560,00 €
  2.11.2026   Asumistuki, Kela                             380,00 €
              Yhteensä                                     940,00 €

Maksoimme välitystililtäsi vuokran ja laskut
  2.11.2026   Vuokra marraskuulta 2026, Vaasan Asunnot Oy  520,00 €
  13.11.2026  Sähkölasku, Vaasan Sähkö Oy                   45,00 €
              Yhteensä                                     565,00 €

Maksoimme omalle pankkitilillesi
  2.11.2026   Erä omalle pankkitilillesi                    75,00 €
  9.11.2026   Erä omalle pankkitilillesi                    75,00 €
  16.11.2026  Erä omalle pankkitilillesi                    75,00 €
  23.11.2026  Erä omalle pankkitilillesi                   112,50 €
  30.11.2026  Erä omalle pankkitilillesi                   112,50 €
              Yhteensä                                     450,00 €

Palautuneet maksut
  16.11.2026  Erä omalle pankkitilillesi                    75,00 €
              Pankki palautti erän, koska tilisi on suljettu.
              Raha on taas välitystililläsi.
              Kerro uusi tilinumerosi sosiaaliohjaajallesi.

Kuukauden lopussa 30.11.2026 välitystililläsi oli 0,00 €.

Näin maksamme joulukuussa 2026
  2.12.2026   Vuokra joulukuulta 2026, Vaasan Asunnot Oy   520,00 €
  7.12.2026   Erä omalle pankkitilillesi                    93,75 €
  14.12.2026  Erä omalle pankkitilillesi                    93,75 €
  15.12.2026  Sähkölasku, Vaasan Sähkö Oy                   45,00 €
  21.12.2026  Erä omalle pankkitilillesi                    93,75 €
  28.12.2026  Erä omalle pankkitilillesi                    93,75 €
  Nämä summat ovat oikein, jos rahasi tulevat ajallaan ja yhtä suurina kuin
  yleensä.

Jos sinulla on kysyttävää, soita meille: 06 325 1111 (ma–pe klo 9–11).

Ystävällisin terveisin
Hannu Hoitaja, välitystilin hoitaja
Vaasan kaupunki, sosiaalipalvelut
""")

RETURNED_SV = letter("""\
Vasa stad, socialtjänsten
3.12.2026

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
  2.11.2026   Hyra för november 2026, Vaasan Asunnot Oy  520,00 €
  13.11.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
              Totalt                                     565,00 €

Pengar som vi betalade till ditt eget bankkonto
  2.11.2026   Rat till ditt eget bankkonto                75,00 €
  9.11.2026   Rat till ditt eget bankkonto                75,00 €
  16.11.2026  Rat till ditt eget bankkonto                75,00 €
  23.11.2026  Rat till ditt eget bankkonto               112,50 €
  30.11.2026  Rat till ditt eget bankkonto               112,50 €
              Totalt                                     450,00 €

Betalningar som kom tillbaka
  16.11.2026  Rat till ditt eget bankkonto                75,00 €
              Banken skickade tillbaka raten eftersom ditt konto är avslutat.
              Pengarna finns igen på ditt förmedlingskonto.
              Ge ditt nya kontonummer till din socialhandledare.

När månaden slutade, 30.11.2026, fanns det 0,00 € på ditt förmedlingskonto.

Så här betalar vi i december 2026
  2.12.2026   Hyra för december 2026, Vaasan Asunnot Oy  520,00 €
  7.12.2026   Rat till ditt eget bankkonto                93,75 €
  14.12.2026  Rat till ditt eget bankkonto                93,75 €
  15.12.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
  21.12.2026  Rat till ditt eget bankkonto                93,75 €
  28.12.2026  Rat till ditt eget bankkonto                93,75 €
  Beloppen stämmer om dina pengar kommer i tid och är lika stora som vanligt.

Om du har frågor, ring oss: 06 325 1111 (mån–fre kl. 9–11).

Med vänliga hälsningar
Hannu Hoitaja, förmedlingskontots handläggare
Vasa stad, socialtjänsten
""")

RETURNED_EN = letter("""\
City of Vaasa, social services
3.12.2026

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
  2.11.2026   Rent for November 2026, Vaasan Asunnot Oy  520,00 €
  13.11.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
              Total                                      565,00 €

Money we paid to your own bank account
  2.11.2026   Instalment to your own bank account         75,00 €
  9.11.2026   Instalment to your own bank account         75,00 €
  16.11.2026  Instalment to your own bank account         75,00 €
  23.11.2026  Instalment to your own bank account        112,50 €
  30.11.2026  Instalment to your own bank account        112,50 €
              Total                                      450,00 €

Payments that came back
  16.11.2026  Instalment to your own bank account         75,00 €
              The bank sent the instalment back because your account is
              closed.
              The money is back on your intermediary account.
              Give your new account number to your social worker.

At the end of the month, on 30.11.2026, your intermediary account held 0,00 €.

What we will pay in December 2026
  2.12.2026   Rent for December 2026, Vaasan Asunnot Oy  520,00 €
  7.12.2026   Instalment to your own bank account         93,75 €
  14.12.2026  Instalment to your own bank account         93,75 €
  15.12.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
  21.12.2026  Instalment to your own bank account         93,75 €
  28.12.2026  Instalment to your own bank account         93,75 €
  These amounts are right if your money comes on time and in the usual
  amounts.

If you have any questions, call us: 06 325 1111 (Mon–Fri 9–11).

Kind regards
Hannu Hoitaja, account handler
City of Vaasa, social services
""")

KELA_PART_FI = letter("""\
Vaasan kaupunki, sosiaalipalvelut
3.12.2026

Välitystilin kuukausiote – marraskuu 2026

Hei Maija Meikäläinen,

Tässä kirjeessä kerromme, mitä rahoillesi tapahtui marraskuussa 2026.

Etuutesi maksetaan välitystilille. Välitystili on pankkitili, jolla rahasi
ovat. Maksamme sieltä vuokrasi ja laskusi. Loput rahat maksamme erinä omalle
pankkitilillesi FI55 4234 5670 0000 81.

Kuukauden alussa 1.11.2026 välitystililläsi oli 0,00 €.

Rahaa tuli välitystilillesi
  2.11.2026   Toimeentulotuki, Kela                        460,00 €
  2.11.2026   Asumistuki, Kela                             380,00 €
              Yhteensä                                     840,00 €

Maksoimme välitystililtäsi vuokran ja laskut
  2.11.2026   Vuokra marraskuulta 2026, Vaasan Asunnot Oy  370,00 €
              Vuokra on 520,00 €.
              Kela maksaa siitä 150,00 € suoraan vuokranantajalle.
              Me maksoimme loput 370,00 € välitystililtäsi.
  13.11.2026  Sähkölasku, Vaasan Sähkö Oy                   45,00 €
              Yhteensä                                     415,00 €

Maksoimme omalle pankkitilillesi
  2.11.2026   Erä omalle pankkitilillesi                    85,00 €
  9.11.2026   Erä omalle pankkitilillesi                    85,00 €
  16.11.2026  Erä omalle pankkitilillesi                    85,00 €
  23.11.2026  Erä omalle pankkitilillesi                    85,00 €
  30.11.2026  Erä omalle pankkitilillesi                    85,00 €
              Yhteensä                                     425,00 €

Kuukauden lopussa 30.11.2026 välitystililläsi oli 0,00 €.

Näin maksamme joulukuussa 2026
  2.12.2026   Vuokra joulukuulta 2026, Vaasan Asunnot Oy   420,00 €
              Vuokra on 520,00 €.
              Kela maksaa siitä 100,00 € suoraan vuokranantajalle.
              Me maksamme loput 420,00 € välitystililtäsi.
  7.12.2026   Erä omalle pankkitilillesi                    93,75 €
  14.12.2026  Erä omalle pankkitilillesi                    93,75 €
  15.12.2026  Sähkölasku, Vaasan Sähkö Oy                   45,00 €
  21.12.2026  Erä omalle pankkitilillesi                    93,75 €
  28.12.2026  Erä omalle pankkitilillesi                    93,75 €
  Nämä summat ovat oikein, jos rahasi tulevat ajallaan ja yhtä suurina kuin
  yleensä.

Jos sinulla on kysyttävää, soita meille: 06 325 1111 (ma–pe klo 9–11).

Ystävällisin terveisin
Hannu Hoitaja, välitystilin hoitaja
Vaasan kaupunki, sosiaalipalvelut
""")

KELA_PART_SV = letter("""\
Vasa stad, socialtjänsten
3.12.2026

Förmedlingskontots månadsbesked – november 2026

Hej Maija Meikäläinen,

Här är vad som hände med dina pengar i november 2026.

Dina förmåner betalas till förmedlingskontot. Förmedlingskontot är ett
bankkonto där dina pengar finns. Därifrån betalar vi din hyra och dina
räkningar. Resten av pengarna betalar vi i rater till ditt eget bankkonto
FI55 4234 5670 0000 81.

När månaden började, 1.11.2026, fanns det 0,00 € på ditt förmedlingskonto.

Pengar som kom in på ditt förmedlingskonto
  2.11.2026   Utkomststöd, FPA                           460,00 €
  2.11.2026   Bostadsbidrag, FPA                         380,00 €
              Totalt                                     840,00 €

Hyra och räkningar som vi betalade från ditt förmedlingskonto
  2.11.2026   Hyra för november 2026, Vaasan Asunnot Oy  370,00 €
              Hyran är 520,00 €.
              FPA betalar 150,00 € av den direkt till hyresvärden.
              Vi betalade resten, 370,00 €, från ditt förmedlingskonto.
  13.11.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
              Totalt                                     415,00 €

Pengar som vi betalade till ditt eget bankkonto
  2.11.2026   Rat till ditt eget bankkonto                85,00 €
  9.11.2026   Rat till ditt eget bankkonto                85,00 €
  16.11.2026  Rat till ditt eget bankkonto                85,00 €
  23.11.2026  Rat till ditt eget bankkonto                85,00 €
  30.11.2026  Rat till ditt eget bankkonto                85,00 €
              Totalt                                     425,00 €

När månaden slutade, 30.11.2026, fanns det 0,00 € på ditt förmedlingskonto.

Så här betalar vi i december 2026
  2.12.2026   Hyra för december 2026, Vaasan Asunnot Oy  420,00 €
              Hyran är 520,00 €.
              FPA betalar 100,00 € av den direkt till hyresvärden.
              Vi betalar resten, 420,00 €, från ditt förmedlingskonto.
  7.12.2026   Rat till ditt eget bankkonto                93,75 €
  14.12.2026  Rat till ditt eget bankkonto                93,75 €
  15.12.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
  21.12.2026  Rat till ditt eget bankkonto                93,75 €
  28.12.2026  Rat till ditt eget bankkonto                93,75 €
  Beloppen stämmer om dina pengar kommer i tid och är lika stora som vanligt.

Om du har frågor, ring oss: 06 325 1111 (mån–fre kl. 9–11).

Med vänliga hälsningar
Hannu Hoitaja, förmedlingskontots handläggare
Vasa stad, socialtjänsten
""")

KELA_PART_EN = letter("""\
City of Vaasa, social services
3.12.2026

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
  2.11.2026   Social assistance, Kela                    460,00 €
  2.11.2026   Housing allowance, Kela                    380,00 €
              Total                                      840,00 €

Rent and bills we paid from your intermediary account
  2.11.2026   Rent for November 2026, Vaasan Asunnot Oy  370,00 €
              The rent is 520,00 €.
              Kela pays 150,00 € of it straight to the landlord.
              We paid the rest, 370,00 €, from your intermediary account.
  13.11.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
              Total                                      415,00 €

Money we paid to your own bank account
  2.11.2026   Instalment to your own bank account         85,00 €
  9.11.2026   Instalment to your own bank account         85,00 €
  16.11.2026  Instalment to your own bank account         85,00 €
  23.11.2026  Instalment to your own bank account         85,00 €
  30.11.2026  Instalment to your own bank account         85,00 €
              Total                                      425,00 €

At the end of the month, on 30.11.2026, your intermediary account held 0,00 €.

What we will pay in December 2026
  2.12.2026   Rent for December 2026, Vaasan Asunnot Oy  420,00 €
              The rent is 520,00 €.
              Kela pays 100,00 € of it straight to the landlord.
              We will pay the rest, 420,00 €, from your intermediary account.
  7.12.2026   Instalment to your own bank account         93,75 €
  14.12.2026  Instalment to your own bank account         93,75 €
  15.12.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
  21.12.2026  Instalment to your own bank account         93,75 €
  28.12.2026  Instalment to your own bank account         93,75 €
  These amounts are right if your money comes on time and in the usual
  amounts.

If you have any questions, call us: 06 325 1111 (Mon–Fri 9–11).

Kind regards
Hannu Hoitaja, account handler
City of Vaasa, social services
""")

CLOSING_FI = letter("""\
Vaasan kaupunki, sosiaalipalvelut
3.12.2026

Välitystilin kuukausiote – marraskuu 2026

Hei Maija Meikäläinen,

Tässä kirjeessä kerromme, mitä rahoillesi tapahtui marraskuussa 2026.

Etuutesi maksetaan välitystilille. Välitystili on pankkitili, jolla rahasi
ovat. Maksamme sieltä vuokrasi ja laskusi. Loput rahat maksamme erinä omalle
pankkitilillesi FI55 4234 5670 0000 81.

Kuukauden alussa 1.11.2026 välitystililläsi oli 0,00 €.

Rahaa tuli välitystilillesi
  2.11.2026   Toimeentulotuki, Kela                        560,00 €
  2.11.2026   Asumistuki, Kela                             380,00 €
  25.11.2026  Matti Virtanen                                50,00 €
              Yhteensä                                     990,00 €

Maksoimme välitystililtäsi vuokran ja laskut
  2.11.2026   Vuokra marraskuulta 2026, Vaasan Asunnot Oy  520,00 €
  13.11.2026  Sähkölasku, Vaasan Sähkö Oy                   45,00 €
              Yhteensä                                     565,00 €

Maksoimme omalle pankkitilillesi
  2.11.2026   Erä omalle pankkitilillesi                    75,00 €
  9.11.2026   Erä omalle pankkitilillesi                    75,00 €
  16.11.2026  Erä omalle pankkitilillesi                   225,00 €
  25.11.2026  Loppumaksu omalle pankkitilillesi             50,00 €
              Yhteensä                                     425,00 €

Kuukauden lopussa 30.11.2026 välitystililläsi oli 0,00 €.

Välitystilisi viimeinen päivä on 20.11.2026. Sen jälkeen maksat itse vuokrasi
ja laskusi. Jos välitystilille tulee vielä rahaa, maksamme sen omalle
pankkitilillesi.

Jos sinulla on kysyttävää, soita meille: 06 325 1111 (ma–pe klo 9–11).

Ystävällisin terveisin
Hannu Hoitaja, välitystilin hoitaja
Vaasan kaupunki, sosiaalipalvelut
""")

CLOSING_SV = letter("""\
Vasa stad, socialtjänsten
3.12.2026

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
  25.11.2026  Matti Virtanen                              50,00 €
              Totalt                                     990,00 €

Hyra och räkningar som vi betalade från ditt förmedlingskonto
  2.11.2026   Hyra för november 2026, Vaasan Asunnot Oy  520,00 €
  13.11.2026  Elräkning, Vaasan Sähkö Oy                  45,00 €
              Totalt                                     565,00 €

Pengar som vi betalade till ditt eget bankkonto
  2.11.2026   Rat till ditt eget bankkonto                75,00 €
  9.11.2026   Rat till ditt eget bankkonto                75,00 €
  16.11.2026  Rat till ditt eget bankkonto               225,00 €
  25.11.2026  Slutbetalning till ditt eget bankkonto      50,00 €
              Totalt                                     425,00 €

När månaden slutade, 30.11.2026, fanns det 0,00 € på ditt förmedlingskonto.

Den sista dagen för ditt förmedlingskonto är 20.11.2026. Efter det betalar du
själv din hyra och dina räkningar. Om det ännu kommer pengar till
förmedlingskontot betalar vi dem till ditt eget bankkonto.

Om du har frågor, ring oss: 06 325 1111 (mån–fre kl. 9–11).

Med vänliga hälsningar
Hannu Hoitaja, förmedlingskontots handläggare
Vasa stad, socialtjänsten
""")

CLOSING_EN = letter("""\
City of Vaasa, social services
3.12.2026

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
  25.11.2026  Matti Virtanen                              50,00 €
              Total                                      990,00 €

Rent and bills we paid from your intermediary account
  2.11.2026   Rent for November 2026, Vaasan Asunnot Oy  520,00 €
  13.11.2026  Electricity bill, Vaasan Sähkö Oy           45,00 €
              Total                                      565,00 €

Money we paid to your own bank account
  2.11.2026   Instalment to your own bank account         75,00 €
  9.11.2026   Instalment to your own bank account         75,00 €
  16.11.2026  Instalment to your own bank account        225,00 €
  25.11.2026  Final payment to your own bank account      50,00 €
              Total                                      425,00 €

At the end of the month, on 30.11.2026, your intermediary account held 0,00 €.

The last day of your intermediary account is 20.11.2026. After that you pay
your rent and bills yourself. If money still comes into the intermediary
account, we pay it to your own bank account.

If you have any questions, call us: 06 325 1111 (Mon–Fri 9–11).

Kind regards
Hannu Hoitaja, account handler
City of Vaasa, social services
""")


@pytest.mark.parametrize("build, expected", [
    pytest.param(ordinary, {"fi": ORDINARY_FI, "sv": ORDINARY_SV, "en": ORDINARY_EN},
                 id="ordinary"),
    pytest.param(short, {"fi": SHORT_FI, "sv": SHORT_SV, "en": SHORT_EN}, id="short"),
    pytest.param(returned, {"fi": RETURNED_FI, "sv": RETURNED_SV, "en": RETURNED_EN},
                 id="returned"),
    pytest.param(kela_part, {"fi": KELA_PART_FI, "sv": KELA_PART_SV, "en": KELA_PART_EN},
                 id="kela_part"),
    pytest.param(closing, {"fi": CLOSING_FI, "sv": CLOSING_SV, "en": CLOSING_EN},
                 id="last_month"),
])
def test_the_whole_letter_in_each_language(session, tmp_path, build, expected):
    build(session, tmp_path)
    assert written(session) == expected


def test_the_letter_of_the_month_after_the_closing_is_refused(session, tmp_path):
    closing(session, tmp_path)
    with pytest.raises(ValidationError) as refused:
        written(session, (2026, 12))
    assert str(refused.value) == ("client 1 was closed on 20.11.2026: there is no letter for "
                                  "2026-12 (the last one is for 2026-11)")


# --- the benefit, the sender -------------------------------------------------------------------


@pytest.fixture
def maija(session):
    """Maija with DESIGN §12's plan (only social assistance expected from Kela), no sender set."""
    with session.begin():
        w = scenario.world(session)
        number = scenario.client(session, w)
        scenario.plan(session, w, number)
    return number


def test_the_bank_message_names_the_benefit_before_the_plan(session, maija):
    with session.begin():
        money = Money(session)
        lines = [
            money.credit(maija, 56000, date(2026, 11, 2), payer="Kansaneläkelaitos Kela"),
            money.credit(maija, 38000, date(2026, 11, 2), payer="Kansaneläkelaitos Kela"),
            money.credit(maija, 9000, date(2026, 11, 4), payer="FOLKPENSIONSANSTALTEN"),
            money.credit(maija, 2500, date(2026, 11, 10), payer="Matti Virtanen"),
        ]
        lines[1].message = "KELA ASUMISTUKI 11/2026 MAIJA MEIKÄLÄINEN PÄÄTÖS 4000001"
        lines[2].message = "FPA BOSTADSBIDRAG FÖR PENSIONSTAGARE 11/2026"
        lines[3].message = "Asumistuki-lisä äidiltä"      # a relative's words name nothing
        lines[3].counterparty_name = "Matti Virtanen"
    with session.begin():
        found = letters.client_statement(session, HANNU, "1", 2026, 11, "sv", today=DATED)
    # The plan expects only social assistance from Kela: a credit without words is that; the
    # relative's payment is not Kela's, whatever its message says.
    assert [(line.text, line.benefit) for line in found.received] == [
        ("Kela", "basic_social_assistance"), ("Kela", "housing_allowance"),
        ("Kela", "pensioners_housing_allowance"), ("Matti Virtanen", None)]
    assert letters.render_text(found).split("Pengar som kom in på ditt förmedlingskonto\n")[1] \
        .split("\n\n")[0] == letter("""\
  2.11.2026   Utkomststöd, FPA                             560,00 €
  2.11.2026   Bostadsbidrag, FPA                           380,00 €
  4.11.2026   Bostadsbidrag för pensionstagare, FPA         90,00 €
  10.11.2026  Matti Virtanen                                25,00 €
              Totalt                                     1 055,00 €""").replace("1 055", "1\u00a0055")


def test_the_sender_falls_back_to_the_payer_name_and_to_the_finnish_words(session, maija):
    with session.begin():
        english_default = letters.client_statement(session, HANNU, "1", 2026, 11, "en", today=DATED)
    # Nothing set: the organisation is the payer name of the payment files (``debtor_name``).
    assert english_default.sender == letters.Sender("Välitystili")
    text = letters.render_text(english_default)
    assert text.startswith("Välitystili\n3.12.2026\n\nIntermediary account monthly statement")
    assert text.endswith("If you have any questions, please contact your account handler.\n\n"
                         "Kind regards\nVälitystili\n")
    with session.begin():
        for key, value in (("letter_organisation", "Vaasan kaupunki, sosiaalipalvelut"),
                           ("letter_phone", "06 325 1111"), ("letter_hours", "ma–pe klo 9–11"),
                           ("letter_hours_sv", "mån–fre kl. 9–11")):
            configuration.put(session, ADMIN, key, value)
    with session.begin():
        swedish = letters.client_statement(session, HANNU, "1", 2026, 11, "sv", today=DATED)
        english = letters.client_statement(session, HANNU, "1", 2026, 11, "en", today=DATED)
    assert swedish.sender == letters.Sender("Vaasan kaupunki, sosiaalipalvelut", "",
                                            "06 325 1111", "mån–fre kl. 9–11")
    assert english.sender == letters.Sender("Vaasan kaupunki, sosiaalipalvelut", "",
                                            "06 325 1111", "ma–pe klo 9–11")
    assert letters.render_text(swedish).endswith(
        "Om du har frågor, ring oss: 06 325 1111 (mån–fre kl. 9–11).\n\n"
        "Med vänliga hälsningar\nVaasan kaupunki, sosiaalipalvelut\n")


# --- the command -------------------------------------------------------------------------------

STATEMENT = ("report", "statement", "1", "--month", "2026-11", "--date", "3.12.2026")


def test_out_adds_html_or_txt_to_a_name_without_a_suffix(cli, maija, tmp_path):
    printed = cli(*STATEMENT, user="hannu")
    assert printed.exit_code == 0 and printed.stdout.startswith("Välitystili\n3.12.2026\n")
    page = cli(*STATEMENT, "--out", str(tmp_path / "kirje"), user="hannu")
    assert (page.exit_code, page.stdout, page.stderr) == (
        0, "", f"wrote {tmp_path / 'kirje.html'}\n")
    assert (tmp_path / "kirje.html").read_text(encoding="utf-8").startswith(
        '<!DOCTYPE html>\n<html lang="fi">')
    text = cli(*STATEMENT, "--out", str(tmp_path / "kirje"), "--text", user="hannu")
    assert (text.exit_code, text.stderr) == (0, f"wrote {tmp_path / 'kirje.txt'}\n")
    assert (tmp_path / "kirje.txt").read_text(encoding="utf-8") == printed.stdout
    named = cli(*STATEMENT, "--out", str(tmp_path / "brev.txt"), "--language", "sv",
                user="hannu")
    assert (named.exit_code, named.stderr) == (0, f"wrote {tmp_path / 'brev.txt'}\n")
    assert (tmp_path / "brev.txt").read_text(encoding="utf-8").startswith(
        "Välitystili\n3.12.2026\n\nFörmedlingskontots månadsbesked – november 2026\n")


@pytest.mark.parametrize("options, error", [
    (("--out", "kirje.pdf"),
     "--out kirje.pdf: a letter is written as .html or .txt (a name without a suffix gets .html)"),
    (("--out", "kirje.html", "--text"), "--out kirje.html: --text writes a .txt file, not .html"),
])
def test_out_refuses_another_suffix_and_writes_nothing(cli, maija, session, tmp_path,
                                                       options, error):
    folder = tmp_path / "letters"
    folder.mkdir()
    result = cli(*STATEMENT, options[0], str(folder / options[1]), *options[2:], user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {error}\n")
    assert list(folder.iterdir()) == []
    with session.begin():   # refused before the letter was read: no view was recorded
        assert session.execute(select(AuditEntry.id).where(AuditEntry.action == "view")).all() == []


def test_a_month_after_the_closing_exits_2_and_the_last_month_is_written(cli, maija, session):
    with session.begin():
        clients.close_client(session, SANNA, "1", closed_on=date(2026, 11, 30))
    result = cli("report", "statement", "1", "--month", "2026-12", user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", ("valitystili: error: client 1 was closed on 30.11.2026: there is no letter "
                "for 2026-12 (the last one is for 2026-11)\n"))
    last = cli(*STATEMENT, user="hannu")
    assert last.exit_code == 0
    assert ("Välitystilisi viimeinen päivä on 30.11.2026. Sen jälkeen maksat itse vuokrasi\n"
            "ja laskusi.") in last.stdout
