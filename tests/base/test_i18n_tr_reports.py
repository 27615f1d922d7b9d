"""Reconciliation, reports, the audit trail's check and the demo's refusals in Finnish and
Swedish: real outputs of the commands, the words compared exactly."""

from __future__ import annotations

import pytest
from base.test_i18n import invoke, maija  # noqa: F401  (maija is a fixture)

NBSP = "\u00a0"

RECONCILE_HELP = {
    "fi": "Täsmäytä kirjanpito tiliotteisiin ja itseensä; päivitä huomautukset.",
    "sv": "Stäm av bokföringen mot kontoutdragen och mot sig själv; uppdatera anmärkningarna.",
}
NOTHING_TO_RECONCILE = {
    "fi": "valitystili: error: ei mitään täsmäytettävää: kirjanpidossa ei ole pankkitiliä (lisää "
          "kaupungin tili komennolla `valitystili bank add`)\n",
    "sv": "valitystili: error: inget att stämma av: bokföringen har inget bankkonto (lägg till "
          "stadens konto med `valitystili bank add`)\n",
}
BALANCES = {
    "fi": f"1 asiakas, yhteensä 940,00{NBSP}€\n",
    "sv": f"1 klient, sammanlagt 940,00{NBSP}€\n",
}
VERIFIED_LEDGER_LINE = {
    "fi": "kirjanpito: {count} tapahtumaa, eheysehdot pitävät",
    "sv": "bokföring: {count} transaktioner, invarianterna håller",
}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_reconcile_help_in_each_language(language):
    result = invoke(["--lang", language, "reconcile", "--help"])
    assert result.exit_code == 0
    first_paragraph = result.output.split("\n\n")[1]          # after the usage line
    assert " ".join(first_paragraph.split()) == RECONCILE_HELP[language]


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_nothing_to_reconcile_in_each_language(cli, language):
    result = cli("--lang", language, "reconcile")
    assert (result.exit_code, result.stdout, result.stderr) == (
        3, "", NOTHING_TO_RECONCILE[language])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_balances_summary_in_each_language(cli, maija, language):  # noqa: F811
    result = cli("--lang", language, "report", "balances", "--as-of", "2.11.2026",
                 user="hannu")
    assert (result.exit_code, result.stderr) == (0, BALANCES[language])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_audit_verify_says_what_it_checked_in_each_language(cli, maija, language):  # noqa: F811
    english = cli("audit", "verify").stderr.splitlines()
    result = cli("--lang", language, "audit", "verify")
    lines = result.stderr.splitlines()
    assert result.exit_code == 0
    assert len(lines) == len(english) == 5
    count = english[3].removeprefix("ledger: ").split(" ")[0]
    assert english[3] == f"ledger: {count} transactions, invariants hold"
    assert lines[3] == VERIFIED_LEDGER_LINE[language].format(count=count)
    assert lines[4].split(": ")[1] == english[4].split(": ")[1]     # the same head
