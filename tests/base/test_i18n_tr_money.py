"""Statement import, income and the plan commands in Finnish and Swedish: real outputs of the
commands, the words compared exactly."""

from __future__ import annotations

import json

import pytest
from base.test_i18n import invoke, maija  # noqa: F401  (maija is a fixture)
from helpers import scenario

NBSP = "\u00a0"

IMPORT_HELP = {
    "fi": "Tuo tiliotteet: camt.052/053/054-, MT940- tai CSV-tiedostot tai FinTS-haku (talous).",
    "sv": "Importera kontoutdrag: camt.052/053/054-, MT940- eller CSV-filer, eller en "
          "FinTS-hämtning (ekonomi).",
}
DATES_REVERSED = {
    "fi": "valitystili: error: --from 2026-11-02 on myöhemmin kuin --to 2026-11-01\n",
    "sv": "valitystili: error: --from 2026-11-02 är senare än --to 2026-11-01\n",
}
SHARE_OVER_RENT = {
    "fi": f"valitystili: error: Kelan osuus 600,00{NBSP}€ on enemmän kuin asiakkaan 1 koko "
          f"vuokra 520,00{NBSP}€ kuukaudelta 11/2026\n",
    "sv": f"valitystili: error: FPA:s andel 600,00{NBSP}€ är mer än hela hyran 520,00{NBSP}€ "
          "för 11/2026 för klienten 1\n",
}
NO_LINE = {
    "fi": "valitystili: error: ei tiliotteen riviä 99\n",
    "sv": "valitystili: error: ingen kontoutdragsrad 99\n",
}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_import_help_in_each_language(language):
    result = invoke(["--lang", language, "import", "--help"])
    assert result.exit_code == 0
    first_paragraph = result.output.split("\n\n")[1]          # after the usage lines
    assert " ".join(first_paragraph.split()) == IMPORT_HELP[language]


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_fetch_with_its_dates_reversed_in_each_language(cli, language):
    result = cli("--lang", language, "import", "fints", "--url", "https://fints.example/",
                 "--blz", "12345678", "--login", "city", "--from", "2.11.2026",
                 "--to", "1.11.2026", env={"VALITYSTILI_FINTS_PIN": "0000"})
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", DATES_REVERSED[language])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_kela_s_share_over_the_rent_in_each_language(cli, maija, language):  # noqa: F811
    result = cli("--lang", language, "plan", "kela-share", "1", "--month", "2026-11",
                 "--amount", "600,00", user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", SHARE_OVER_RENT[language])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_assigning_a_line_that_is_not_there_in_each_language(cli, maija, language):  # noqa: F811
    result = cli("--lang", language, "income", "assign", "99", "1", user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", NO_LINE[language])


# --- the plan check's warnings (English in JSON, the person's language on stderr) --------------

@pytest.fixture
def planless(session_factory) -> int:
    """Client 1, opened on 1.11.2026, with no plan yet."""
    with session_factory() as session, session.begin():
        return scenario.client(session, scenario.world(session))


@pytest.fixture
def design_plan(tmp_path) -> str:
    """DESIGN §12's plan file: 560,00 € a month in, 565,00 € out."""
    path = tmp_path / "plan.toml"
    path.write_text(scenario.DESIGN_EXAMPLE, encoding="utf-8")
    return str(path)


DOES_NOT_ADD_UP = {
    "en": ["valitystili: warning: plan does not add up in 12 months; approving it needs --despite",
           "valitystili: warning: 11/2026: the outgoings 565,00 € exceed the expected income "
           "560,00 €; electricity paid 1.12.2026, after its legal due date 16.11.2026"],
    "fi": ["valitystili: warning: suunnitelma ei täsmää 12 kuukautena; sen hyväksyminen vaatii "
           "valitsimen --despite",
           "valitystili: warning: 11/2026: menot 565,00 € ylittävät odotetut tulot 560,00 €; "
           "electricity maksetaan 1.12.2026, lakisääteisen eräpäivän 16.11.2026 jälkeen"],
    "sv": ["valitystili: warning: planen går inte ihop under 12 månader; att godkänna den kräver "
           "--despite",
           "valitystili: warning: 11/2026: utgifterna 565,00 € överstiger de väntade inkomsterna "
           "560,00 €; electricity betalas 1.12.2026, efter den lagstadgade förfallodagen "
           "16.11.2026"],
}
LAST_MONTH = {
    "en": "valitystili: warning: 10/2027: the outgoings 565,00 € exceed the expected income "
          "560,00 €; electricity 45,00 € not paid by its legal due date 15.10.2027",
    "fi": "valitystili: warning: 10/2027: menot 565,00 € ylittävät odotetut tulot 560,00 €; "
          "electricity 45,00 € ei maksettu lakisääteiseen eräpäivään 15.10.2027 mennessä",
    "sv": "valitystili: warning: 10/2027: utgifterna 565,00 € överstiger de väntade inkomsterna "
          "560,00 €; electricity 45,00 € inte betald senast den lagstadgade förfallodagen "
          "15.10.2027",
}
APPROVE_REFUSED = {
    "fi": "valitystili: error: asiakkaan 1 suunnitelman versio 1 ei täsmää: 11/2026: menot "
          "565,00 € ylittävät odotetut tulot 560,00 €; electricity maksetaan 1.12.2026, "
          "lakisääteisen eräpäivän 16.11.2026 jälkeen (ja 11 muuta kuukautta; plan show luettelee "
          'ne); hyväksy se valitsimella --despite "peruste"\n',
    "sv": "valitystili: error: version 1 av klientens 1 plan går inte ihop: 11/2026: utgifterna "
          "565,00 € överstiger de väntade inkomsterna 560,00 €; electricity betalas 1.12.2026, "
          "efter den lagstadgade förfallodagen 16.11.2026 (och 11 månader till; plan show listar "
          'dem); godkänn den med --despite "motivering"\n',
}
LATE_RENT = {
    "en": "valitystili: warning: rent 11/2026: its money arrives 2.11.2026 and is seen the next "
          "morning without an intraday statement; it is paid 3.11.2026, after its legal due date "
          "2.11.2026 (setting intraday_statements)",
    "fi": "valitystili: warning: rent 11/2026: sen rahat saapuvat 2.11.2026 ja näkyvät ilman "
          "päivänsisäistä tiliotetta vasta seuraavana aamuna; se maksetaan 3.11.2026, "
          "lakisääteisen eräpäivän 2.11.2026 jälkeen (asetus intraday_statements)",
    "sv": "valitystili: warning: rent 11/2026: pengarna kommer 2.11.2026 och syns utan "
          "kontoutdrag under dagen först följande morgon; den betalas 3.11.2026, efter den "
          "lagstadgade förfallodagen 2.11.2026 (inställningen intraday_statements)",
}


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_plan_set_warns_in_each_language(cli, planless, design_plan, language):
    result = cli("--lang", language, "--format", "json", "plan", "set", str(planless),
                 "--file", design_plan, "--effective", "1.11.2026", user="sanna")
    lines = result.stderr.replace(NBSP, " ").splitlines()
    assert result.exit_code == 0
    assert (lines[:2], lines[-1], len(lines)) == (DOES_NOT_ADD_UP[language],
                                                  LAST_MONTH[language], 13)
    assert json.loads(result.stdout)["warnings"][0] == ("plan does not add up in 12 months; "
                                                        "approving it needs --despite")


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_plan_approve_refuses_and_warns_in_each_language(cli, planless, design_plan, language):
    cli.ok("plan", "set", str(planless), "--file", design_plan, "--effective", "1.11.2026",
           user="sanna")
    refused = cli("--lang", language, "plan", "approve", str(planless), user="hannu")
    assert (refused.exit_code, refused.stderr.replace(NBSP, " ")) == (2, APPROVE_REFUSED[language])
    approved = cli("--lang", language, "plan", "approve", str(planless), "--despite", "agreed",
                   user="hannu")
    lines = approved.stderr.splitlines()
    assert (approved.exit_code, lines[0], len(lines)) == (0, LATE_RENT[language], 4)


def test_the_plan_warnings_are_english_in_json_in_every_language(cli, planless, design_plan):
    cli.ok("plan", "set", str(planless), "--file", design_plan, "--effective", "1.11.2026",
           user="sanna")
    outputs = {language: cli.ok("--lang", language, "--format", "json", "plan", "show",
                                str(planless), user="hannu") for language in ("en", "fi", "sv")}
    assert outputs["fi"] == outputs["en"] == outputs["sv"]
    assert json.loads(outputs["en"])["problems"][0] == (
        "11/2026: the outgoings 565,00\u00a0€ exceed the expected income 560,00\u00a0€; "
        "electricity paid 1.12.2026, after its legal due date 16.11.2026")


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["AC04: the account is closed", "no reason given",
            "XX99: a code with no words here (see the report)"]),
    ("fi", ["AC04: tili on lopetettu", "syytä ei annettu",
            "XX99: koodi, jolle ei ole tässä selitystä (katso raportti)"]),
    ("sv", ["AC04: kontot är avslutat", "ingen orsak angiven",
            "XX99: en kod utan förklaring här (se rapporten)"]),
])
def test_a_rejection_s_reason_in_words_in_each_language(language, words):
    from valitystili.base import i18n
    from valitystili.statements.status_reports import reason_in_words

    reasons = [reason_in_words(code) for code in ("AC04", None, "XX99")]
    previous = i18n.set_language(language)
    try:
        assert [i18n.shown(reason) for reason in reasons] == words
    finally:
        i18n.set_language(previous)
    assert reasons == ["AC04: the account is closed", "no reason given",
                       "XX99: a code with no words here (see the report)"]


UNMATCHED = {     # an unknown payer's credit, put in suspense by the import
    "en": "75,00 € in on 2026-11-02 from Tuntematon: nothing identifies a client",
    "fi": "75,00 € saapui 2026-11-02 maksajalta Tuntematon: mikään ei tunnista asiakasta",
    "sv": "75,00 € in 2026-11-02 från Tuntematon: ingenting identifierar en klient",
}


def test_an_imported_line_s_flag_in_each_language(cli, planless, tmp_path):
    from base.test_i18n_tr_people import table_rows
    from helpers.statements import Tx, camt053, ntry, write

    statement = write(tmp_path, "tiliote.xml", camt053(
        ntry("75.00", "U1", Tx(payer="Tuntematon", message="vuokra")), closing_cents=7_500))
    cli.ok("import", str(statement), user="fiona")
    for language, detail in UNMATCHED.items():
        listed = table_rows(cli.ok("--lang", language, "--wide", "flags", user="hannu"))
        assert [(row[1], row[5].replace(NBSP, " ")) for row in listed] == [
            ("unmatched_income", detail)]
    shown = cli.json("--lang", "sv", "flags", user="hannu")
    assert [flag["detail"].replace(NBSP, " ") for flag in shown] == [UNMATCHED["en"]]
