"""Input errors, settings and the lock of the ledger in Finnish and Swedish: real outputs of the
commands, the words compared exactly; what scripts read (JSON) stays English."""

from __future__ import annotations

import pytest

from valitystili.base import i18n
from valitystili.base.errors import ValidationError
from valitystili.base.money import parse_amount

BAD_IBAN = {
    "fi": "valitystili: error: IBANin FI2112345600000786 tarkisteet ovat väärät\n",
    "sv": "valitystili: error: IBAN FI2112345600000786 har fel kontrollsiffror\n",
}
BAD_CHOICE = {
    "fi": "valitystili: error: asetuksen pain_version arvo on jokin näistä: 09, 03, ei '04'\n",
    "sv": "valitystili: error: inställningen pain_version är en av 09, 03, inte '04'\n",
}
PAIN_VERSION_MEANING = {"fi": "pain.001-versio: 09 tai 03", "sv": "pain.001-version: 09 eller 03"}
TOO_MANY_DECIMALS = {
    "fi": "summassa 12,345 on enemmän kuin kaksi desimaalia",
    "sv": "beloppet 12,345 har fler än två decimaler",
    "en": "amount 12,345 has more than two decimals",
}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_wrong_iban_is_refused_in_each_language(cli, language):
    result = cli("--lang", language, "bank", "add", "--iban", "FI2112345600000786",
                 "--name", "Kaupunki")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", BAD_IBAN[language])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_setting_s_wrong_value_is_refused_in_each_language(cli, language):
    result = cli("--lang", language, "settings", "set", "pain_version", "04")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", BAD_CHOICE[language])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_settings_list_says_what_a_setting_means_in_each_language(cli, language):
    lines = cli.ok("--lang", language, "--wide", "settings", "list").splitlines()
    [row] = [line for line in lines if line.startswith("pain_version ")]
    assert row.split("  ")[-1].strip() == PAIN_VERSION_MEANING[language]
    meanings = {row["key"]: row["meaning"]
                for row in cli.json("--lang", language, "settings", "list")}
    assert meanings["pain_version"] == "pain.001 version: 09 or 03"      # JSON stays English


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_an_amount_s_refusal_in_each_language(language):
    previous = i18n.set_language(language)
    try:
        with pytest.raises(ValidationError) as refused:
            parse_amount("12,345")
    finally:
        i18n.set_language(previous)
    assert str(refused.value) == TOO_MANY_DECIMALS[language]
