"""The import's warnings, the reconciliation and verification findings and the client records in
Finnish, Swedish and English: real outputs of the commands, the words compared exactly, and the
JSON the same bytes in every language."""

from __future__ import annotations

import json

import pytest
from base.test_i18n_tr_money import planless  # noqa: F401  (a fixture)
from helpers.statements import CITY, camt053, ntry, write

NBSP = "\u00a0"
LANGUAGES = ("en", "fi", "sv")


# --- the import's warnings ------------------------------------------------------------------

OPENS_WITH = {
    "en": f"statement S3 of {CITY} opens with 70,00 € on 2026-11-05, the ledger has 61,00 € "
          "(difference 9,00 €)",
    "fi": f"tiliotteen S3 (tili {CITY}) alkusaldo 2026-11-05 on 70,00 €, kirjanpidossa 61,00 € "
          "(erotus 9,00 €)",
    "sv": f"kontoutdraget S3 (konto {CITY}) har ingående saldo 70,00 € 2026-11-05, i bokföringen "
          "61,00 € (skillnad 9,00 €)",
}


@pytest.fixture
def gap(cli, planless, tmp_path) -> str:  # noqa: F811
    """Two statements imported (50,00 € → 60,00 €, 60,00 € → 61,00 €) and a third one, not yet
    imported, that opens with 70,00 €."""
    for name, statement_id, entry, opening, on in (("1.xml", "S1", "A1", 5_000, "2026-11-02"),
                                                   ("2.xml", "S2", "A2", 6_000, "2026-11-03")):
        amount = "10.00" if entry == "A1" else "1.00"
        cli.ok("import", str(write(tmp_path, name, camt053(
            ntry(amount, entry, booked=on), statement_id=statement_id, opening_cents=opening,
            on=on))), user="fiona")
    return str(write(tmp_path, "3.xml", camt053(ntry("1.00", "A3", booked="2026-11-05"),
                                                statement_id="S3", opening_cents=7_000,
                                                on="2026-11-05")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_import_warning_in_each_language(cli, gap, language):
    result = cli("--lang", language, "import", gap, "--dry-run", user="fiona")
    warnings = [line for line in result.stderr.replace(NBSP, " ").splitlines()
                if line.startswith("valitystili: warning:")]
    assert result.exit_code == 0
    assert warnings == [f"valitystili: warning: 3.xml: {OPENS_WITH[language]}"]


def test_an_import_warning_is_english_in_json_in_every_language(cli, gap):
    outputs = {language: cli.ok("--lang", language, "--format", "json", "import", gap,
                                "--dry-run", user="fiona") for language in LANGUAGES}
    assert outputs["fi"] == outputs["en"] == outputs["sv"]
    [summary] = json.loads(outputs["en"])["files"]
    assert [w.replace(NBSP, " ") for w in summary["warnings"]] == [OPENS_WITH["en"]]
