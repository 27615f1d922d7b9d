"""The words of the client's monthly letter, in Finnish, Swedish and English.

The letter is written in plain language (selkokieli, lättläst): short sentences, the client
spoken to as "you", no bank codes. Rules of this module:

- **Two accounts, two names.** The city's account holding the client's money is always the
  intermediary account ("välitystili", "förmedlingskontot"); the client's own account, which
  receives the instalments, is always "your own bank account" ("oma pankkitilisi", "ditt eget
  bankkonto"). Neither is ever just "your account".
- **Kela is FPA in Swedish.** A payer Kela's aliases name (``statements.matching``) is shown as
  ``Kela`` in Finnish and English and ``FPA`` in Swedish.
- **Benefits by name.** ``benefit_in_message`` reads Kela's message (Finnish or Swedish words,
  accents and case ignored: ``TOIMEENTULOTUKI``, ``BOSTADSBIDRAG``); the most specific word wins
  ("eläkkeensaajan asumistuki" before "asumistuki", "kansaneläke" before "eläke"). ``BENEFITS``
  names a plan's income kinds; a kind not in it is not named.
- **Returned payments** are explained by the bank's return reason (ISO 20022 codes):
  ``CLOSED``, ``WRONG_NUMBER`` and ``BLOCKED`` have words; any other code gives the sentence
  without a reason.
- Finnish month names inflect: "marraskuu" (nominative), "marraskuulta" (from), "marraskuussa"
  (in) — ``month_words``.
"""

from __future__ import annotations

from valitystili.statements.matching import fold

MONTHS = {
    "fi": ("tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu", "heinäkuu",
           "elokuu", "syyskuu", "lokakuu", "marraskuu", "joulukuu"),
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def month_words(language: str, year: int, month: int) -> dict[str, str]:
    """``{"month": "marraskuu 2026", "month_from": "marraskuulta 2026", "month_in":
    "marraskuussa 2026"}``; Swedish and English use the name in all three."""
    name = MONTHS[language][month - 1]
    if language != "fi":
        return dict.fromkeys(("month", "month_from", "month_in"), f"{name} {year}")
    return {"month": f"{name} {year}", "month_from": f"{name}lta {year}",
            "month_in": f"{name}ssa {year}"}


#: Benefit kinds (a plan's ``[[income]] kind``) by name: Finnish, Swedish, English.
BENEFITS: dict[str, tuple[str, str, str]] = {
    "basic_social_assistance": ("Toimeentulotuki", "Utkomststöd", "Social assistance"),
    "housing_allowance": ("Asumistuki", "Bostadsbidrag", "Housing allowance"),
    "pensioners_housing_allowance": ("Eläkkeensaajan asumistuki",
                                     "Bostadsbidrag för pensionstagare",
                                     "Pensioner's housing allowance"),
    "pension": ("Eläke", "Pension", "Pension"),
    "national_pension": ("Kansaneläke", "Folkpension", "National pension"),
    "guarantee_pension": ("Takuueläke", "Garantipension", "Guarantee pension"),
    "pension_support": ("Eläketuki", "Pensionsstöd", "Pension support"),
    "care_allowance": ("Hoitotuki", "Vårdbidrag", "Care allowance"),
    "labour_market_subsidy": ("Työmarkkinatuki", "Arbetsmarknadsstöd", "Labour market subsidy"),
    "unemployment_benefit": ("Työttömyysetuus", "Arbetslöshetsförmån", "Unemployment benefit"),
    "basic_unemployment_allowance": ("Peruspäiväraha", "Grunddagpenning",
                                     "Basic unemployment allowance"),
    "earnings_related_allowance": ("Ansiopäiväraha", "Inkomstrelaterad dagpenning",
                                   "Earnings-related allowance"),
    "sickness_allowance": ("Sairauspäiväraha", "Sjukdagpenning", "Sickness allowance"),
    "parental_allowance": ("Vanhempainpäiväraha", "Föräldradagpenning", "Parental allowance"),
    "rehabilitation_allowance": ("Kuntoutusraha", "Rehabiliteringspenning",
                                 "Rehabilitation allowance"),
    "child_benefit": ("Lapsilisä", "Barnbidrag", "Child benefit"),
    "student_financial_aid": ("Opintotuki", "Studiestöd", "Student financial aid"),
}

#: Words in a bank message that name a benefit, folded (``matching.fold``); first match wins,
#: so the more specific words come first.
MESSAGE_WORDS: tuple[tuple[str, str], ...] = (
    ("elakkeensaajan asumistuki", "pensioners_housing_allowance"),
    ("bostadsbidrag for pensionstagare", "pensioners_housing_allowance"),
    ("toimeentulotuki", "basic_social_assistance"),
    ("utkomststod", "basic_social_assistance"),
    ("asumistuki", "housing_allowance"),
    ("bostadsbidrag", "housing_allowance"),
    ("tyomarkkinatuki", "labour_market_subsidy"),
    ("arbetsmarknadsstod", "labour_market_subsidy"),
    ("peruspaivaraha", "basic_unemployment_allowance"),
    ("grunddagpenning", "basic_unemployment_allowance"),
    ("ansiopaivaraha", "earnings_related_allowance"),
    ("inkomstrelaterad dagpenning", "earnings_related_allowance"),
    ("sairauspaivaraha", "sickness_allowance"),
    ("sjukdagpenning", "sickness_allowance"),
    ("vanhempainpaivaraha", "parental_allowance"),
    ("foraldradagpenning", "parental_allowance"),
    ("kuntoutusraha", "rehabilitation_allowance"),
    ("rehabiliteringspenning", "rehabilitation_allowance"),
    ("takuuelake", "guarantee_pension"),
    ("garantipension", "guarantee_pension"),
    ("kansanelake", "national_pension"),
    ("folkpension", "national_pension"),
    ("elaketuki", "pension_support"),
    ("pensionsstod", "pension_support"),
    ("hoitotuki", "care_allowance"),
    ("vardbidrag", "care_allowance"),
    ("lapsilisa", "child_benefit"),
    ("barnbidrag", "child_benefit"),
    ("opintotuki", "student_financial_aid"),
    ("studiestod", "student_financial_aid"),
    ("elake", "pension"),
    ("pension", "pension"),
)


def benefit_in_message(message: str | None) -> str | None:
    """The benefit kind a bank message names (see the module rules), or None."""
    if not message:
        return None
    folded = " ".join(fold(message).split())
    for word, kind in MESSAGE_WORDS:
        if word in folded:
            return kind
    return None


def benefit_name(kind: str, language: str) -> str | None:
    names = BENEFITS.get(kind)
    return None if names is None else names[("fi", "sv", "en").index(language)]


#: How Kela is named in each language.
KELA = {"fi": "Kela", "sv": "FPA", "en": "Kela"}

#: Return reasons (ISO 20022 ExternalReturnReason1Code) with words of their own.
CLOSED = frozenset({"AC04"})
WRONG_NUMBER = frozenset({"AC01", "AC02", "AC03", "BE01", "RC01"})
BLOCKED = frozenset({"AC06", "AG01"})


def reason_group(code: str | None) -> str | None:
    """``closed``, ``wrong_number``, ``blocked`` or None (no words for the code)."""
    code = (code or "").upper()
    for group, codes in (("closed", CLOSED), ("wrong_number", WRONG_NUMBER),
                         ("blocked", BLOCKED)):
        if code in codes:
            return group
    return None


TEXTS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Välitystilin kuukausiote – {month}",
        "greeting": "Hei {name},",
        "intro": "Tässä kirjeessä kerromme, mitä rahoillesi tapahtui {month_in}.",
        "service": "Etuutesi maksetaan välitystilille. Välitystili on pankkitili, jolla rahasi "
                   "ovat. Maksamme sieltä vuokrasi ja laskusi. Loput rahat maksamme erinä "
                   "omalle pankkitilillesi {iban}.",
        "opening": "Kuukauden alussa {date} välitystililläsi oli {amount}.",
        "closing": "Kuukauden lopussa {date} välitystililläsi oli {amount}.",
        "received": "Rahaa tuli välitystilillesi",
        "paid": "Maksoimme välitystililtäsi vuokran ja laskut",
        "instalments": "Maksoimme omalle pankkitilillesi",
        "returned": "Palautuneet maksut",
        "coming": "Näin maksamme {month_in}",
        "arrears": "Vielä maksamatta",
        "arrears_note": "Näitä ei ole vielä voitu maksaa. Soita sosiaaliohjaajallesi.",
        "none_received": "Välitystilillesi ei tullut rahaa.",
        "none_paid": "Emme maksaneet vuokraa emmekä laskuja.",
        "none_instalments": "Emme maksaneet rahaa omalle pankkitilillesi.",
        "none_coming": "Emme ole suunnitelleet maksuja.",
        "total": "Yhteensä",
        "deposit": "Talletus",
        "rent": "Vuokra", "electricity": "Sähkölasku", "other": "Lasku",
        "instalment": "Erä omalle pankkitilillesi",
        "final": "Loppumaksu omalle pankkitilillesi",
        "final_to": "Loppumaksu, {name}",
        "rent_for": "Vuokra {month_from}",
        "expected_note": "Nämä summat ovat oikein, jos rahasi tulevat ajallaan ja yhtä "
                         "suurina kuin yleensä.",
        "parts_paid": "Vuokra on {rent}. Kela maksaa siitä {kela} suoraan vuokranantajalle. "
                      "Me maksoimme loput {account} välitystililtäsi.",
        "parts_coming": "Vuokra on {rent}. Kela maksaa siitä {kela} suoraan vuokranantajalle. "
                        "Me maksamme loput {account} välitystililtäsi.",
        "short_rent": "Rahaa ei ollut tarpeeksi koko vuokraan: {amount} jäi maksamatta. "
                      "Soita sosiaaliohjaajallesi.",
        "short_bill": "Rahaa ei ollut tarpeeksi koko laskuun: {amount} jäi maksamatta. "
                      "Soita sosiaaliohjaajallesi.",
        "returned_why": "Pankki palautti {what}, koska {why}.",
        "returned_plain": "Pankki palautti {what}.",
        "back": "Raha on taas välitystililläsi.",
        "new_number": "Kerro uusi tilinumerosi sosiaaliohjaajallesi.",
        "call_worker": "Soita sosiaaliohjaajallesi.",
        "sort_out": "Selvitämme asian.",
        "last_day": "Välitystilisi viimeinen päivä on {date}. Sen jälkeen maksat itse vuokrasi "
                    "ja laskusi. Jos välitystilille tulee vielä rahaa, maksamme sen omalle "
                    "pankkitilillesi.",
        "questions": "Jos sinulla on kysyttävää, ota yhteyttä välitystilin hoitajaan.",
        "questions_phone": "Jos sinulla on kysyttävää, soita meille: {phone}.",
        "questions_phone_hours": "Jos sinulla on kysyttävää, soita meille: {phone} ({hours}).",
        "regards": "Ystävällisin terveisin",
        "role": "välitystilin hoitaja",
    },
    "sv": {
        "title": "Förmedlingskontots månadsbesked – {month}",
        "greeting": "Hej {name},",
        "intro": "Här är vad som hände med dina pengar i {month_in}.",
        "service": "Dina förmåner betalas till förmedlingskontot. Förmedlingskontot är ett "
                   "bankkonto där dina pengar finns. Därifrån betalar vi din hyra och dina "
                   "räkningar. Resten av pengarna betalar vi i rater till ditt eget bankkonto "
                   "{iban}.",
        "opening": "När månaden började, {date}, fanns det {amount} på ditt förmedlingskonto.",
        "closing": "När månaden slutade, {date}, fanns det {amount} på ditt förmedlingskonto.",
        "received": "Pengar som kom in på ditt förmedlingskonto",
        "paid": "Hyra och räkningar som vi betalade från ditt förmedlingskonto",
        "instalments": "Pengar som vi betalade till ditt eget bankkonto",
        "returned": "Betalningar som kom tillbaka",
        "coming": "Så här betalar vi i {month_in}",
        "arrears": "Ännu obetalt",
        "arrears_note": "Dessa har ännu inte kunnat betalas. Ring din socialhandledare.",
        "none_received": "Inga pengar kom in på ditt förmedlingskonto.",
        "none_paid": "Vi betalade ingen hyra och inga räkningar.",
        "none_instalments": "Vi betalade inga pengar till ditt eget bankkonto.",
        "none_coming": "Inga betalningar är planerade.",
        "total": "Totalt",
        "deposit": "Insättning",
        "rent": "Hyra", "electricity": "Elräkning", "other": "Räkning",
        "instalment": "Rat till ditt eget bankkonto",
        "final": "Slutbetalning till ditt eget bankkonto",
        "final_to": "Slutbetalning, {name}",
        "rent_for": "Hyra för {month_from}",
        "expected_note": "Beloppen stämmer om dina pengar kommer i tid och är lika stora som "
                         "vanligt.",
        "parts_paid": "Hyran är {rent}. FPA betalar {kela} av den direkt till hyresvärden. "
                      "Vi betalade resten, {account}, från ditt förmedlingskonto.",
        "parts_coming": "Hyran är {rent}. FPA betalar {kela} av den direkt till hyresvärden. "
                        "Vi betalar resten, {account}, från ditt förmedlingskonto.",
        "short_rent": "Pengarna räckte inte till hela hyran: {amount} blev kvar att betala. "
                      "Ring din socialhandledare.",
        "short_bill": "Pengarna räckte inte till hela räkningen: {amount} blev kvar att betala. "
                      "Ring din socialhandledare.",
        "returned_why": "Banken skickade tillbaka {what} eftersom {why}.",
        "returned_plain": "Banken skickade tillbaka {what}.",
        "back": "Pengarna finns igen på ditt förmedlingskonto.",
        "new_number": "Ge ditt nya kontonummer till din socialhandledare.",
        "call_worker": "Ring din socialhandledare.",
        "sort_out": "Vi reder ut saken.",
        "last_day": "Den sista dagen för ditt förmedlingskonto är {date}. Efter det betalar du "
                    "själv din hyra och dina räkningar. Om det ännu kommer pengar till "
                    "förmedlingskontot betalar vi dem till ditt eget bankkonto.",
        "questions": "Om du har frågor, kontakta förmedlingskontots handläggare.",
        "questions_phone": "Om du har frågor, ring oss: {phone}.",
        "questions_phone_hours": "Om du har frågor, ring oss: {phone} ({hours}).",
        "regards": "Med vänliga hälsningar",
        "role": "förmedlingskontots handläggare",
    },
    "en": {
        "title": "Intermediary account monthly statement – {month}",
        "greeting": "Hello {name},",
        "intro": "This letter tells you what happened to your money in {month_in}.",
        "service": "Your benefits are paid into the intermediary account. The intermediary "
                   "account is a bank account that holds your money. From it we pay your rent "
                   "and bills. We pay the rest of the money in instalments to your own bank "
                   "account {iban}.",
        "opening": "At the start of the month, on {date}, your intermediary account held "
                   "{amount}.",
        "closing": "At the end of the month, on {date}, your intermediary account held "
                   "{amount}.",
        "received": "Money that came into your intermediary account",
        "paid": "Rent and bills we paid from your intermediary account",
        "instalments": "Money we paid to your own bank account",
        "returned": "Payments that came back",
        "coming": "What we will pay in {month_in}",
        "arrears": "Still unpaid",
        "arrears_note": "These could not be paid yet. Call your social worker.",
        "none_received": "No money came into your intermediary account.",
        "none_paid": "We paid no rent and no bills.",
        "none_instalments": "We paid no money to your own bank account.",
        "none_coming": "No payments are planned.",
        "total": "Total",
        "deposit": "Deposit",
        "rent": "Rent", "electricity": "Electricity bill", "other": "Bill",
        "instalment": "Instalment to your own bank account",
        "final": "Final payment to your own bank account",
        "final_to": "Final payment, {name}",
        "rent_for": "Rent for {month_from}",
        "expected_note": "These amounts are right if your money comes on time and in the "
                         "usual amounts.",
        "parts_paid": "The rent is {rent}. Kela pays {kela} of it straight to the landlord. "
                      "We paid the rest, {account}, from your intermediary account.",
        "parts_coming": "The rent is {rent}. Kela pays {kela} of it straight to the landlord. "
                        "We will pay the rest, {account}, from your intermediary account.",
        "short_rent": "There was not enough money for the whole rent: {amount} was left "
                      "unpaid. Call your social worker.",
        "short_bill": "There was not enough money for the whole bill: {amount} was left "
                      "unpaid. Call your social worker.",
        "returned_why": "The bank sent {what} back because {why}.",
        "returned_plain": "The bank sent {what} back.",
        "back": "The money is back on your intermediary account.",
        "new_number": "Give your new account number to your social worker.",
        "call_worker": "Call your social worker.",
        "sort_out": "We will sort it out.",
        "last_day": "The last day of your intermediary account is {date}. After that you pay "
                    "your rent and bills yourself. If money still comes into the intermediary "
                    "account, we pay it to your own bank account.",
        "questions": "If you have any questions, please contact your account handler.",
        "questions_phone": "If you have any questions, call us: {phone}.",
        "questions_phone_hours": "If you have any questions, call us: {phone} ({hours}).",
        "regards": "Kind regards",
        "role": "account handler",
    },
}

#: What the bank sent back, as the object of "returned …", by order kind.
RETURNED_WHAT = {
    "fi": {"instalment": "erän", "final": "loppumaksun", "rent": "vuokran",
           "electricity": "sähkölaskun maksun", "other": "laskun maksun"},
    "sv": {"instalment": "raten", "final": "slutbetalningen", "rent": "hyran",
           "electricity": "betalningen av elräkningen", "other": "betalningen av räkningen"},
    "en": {"instalment": "the instalment", "final": "the final payment", "rent": "the rent",
           "electricity": "the electricity payment", "other": "the payment"},
}

#: Why, by reason group: (to the client's own bank account, to a landlord or other payee).
RETURNED_WHY = {
    "fi": {"closed": ("tilisi on suljettu", "saajan tili on suljettu"),
           "wrong_number": ("tilinumerosi on väärä", "saajan tilinumero on väärä"),
           "blocked": ("tilisi on estetty", "saajan tili on estetty")},
    "sv": {"closed": ("ditt konto är avslutat", "mottagarens konto är avslutat"),
           "wrong_number": ("ditt kontonummer är fel", "mottagarens kontonummer är fel"),
           "blocked": ("ditt konto är spärrat", "mottagarens konto är spärrat")},
    "en": {"closed": ("your account is closed", "the payee's account is closed"),
           "wrong_number": ("your account number is wrong", "the payee's account number is wrong"),
           "blocked": ("your account is blocked", "the payee's account is blocked")},
}
