"""Statement import, income and the plan commands in Finnish and Swedish: real outputs of the
commands, the words compared exactly."""

from __future__ import annotations

import pytest
from base.test_i18n import invoke, maija  # noqa: F401  (maija is a fixture)

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
