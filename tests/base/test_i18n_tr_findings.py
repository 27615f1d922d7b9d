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


# --- the findings of reconcile, audit verify, ledger verify and db check ----------------------

@pytest.fixture
def tampered(cli, planless, backend, tmp_path) -> None:  # noqa: F811
    """An unknown payer's 75,00 € in suspense since 2.11.2026; then, by plain SQL behind the
    service's back, hilla made an admin and 1,00 € added to the stored balance of suspense."""
    from helpers.statements import Tx
    from trust.test_audit_safety import plain_sql

    cli.ok("import", str(write(tmp_path, "t.xml", camt053(
        ntry("75.00", "U1", Tx(payer="Tuntematon", message="vuokra")), closing_cents=7_500))),
        user="fiona")
    plain_sql(backend, "UPDATE users SET role = 'admin' WHERE name = 'hilla'",
              "UPDATE ledger_accounts SET balance_cents = balance_cents + 100 "
              "WHERE code = 'suspense'")


FOUND = {   # (check, detail) in reconcile's order
    "en": [("balance_equation", "bank accounts hold 75,00 €, liabilities are 76,00 €"),
           ("suspense_old", "75,00 € in from Tuntematon booked 2026-11-02 is unattributed "
                            "after 28 days"),
           ("ledger_stored_balance", "stored 7600 cents, postings give 7500"),
           ("audit_state", "role is 'admin', the audit trail says 'handler' (changed behind "
                           "the service's back)")],
    "fi": [("balance_equation", "pankkitileillä on 75,00 €, velat ovat 76,00 €"),
           ("suspense_old", "75,00 € sisään maksajalta Tuntematon, kirjattu 2026-11-02, on "
                            "kohdistamatta 28 päivän jälkeen"),
           ("ledger_stored_balance", "tallennettu 7600 senttiä, vientien mukaan 7500"),
           ("audit_state", "role on 'admin', tarkastuslokin mukaan 'handler' (muutettu "
                           "palvelun ohi)")],
    "sv": [("balance_equation", "bankkontona har 75,00 €, skulderna är 76,00 €"),
           ("suspense_old", "75,00 € in från Tuntematon, bokfört 2026-11-02, är ofördelat "
                            "efter 28 dagar"),
           ("ledger_stored_balance", "lagrat 7600 cent, konteringarna ger 7500"),
           ("audit_state", "role är 'admin', granskningsloggen säger 'handler' (ändrat förbi "
                           "tjänsten)")],
}
AUDIT_VERIFY_ERROR = {
    "en": "valitystili: error: audit_state: user:hilla: role is 'admin', the audit trail says "
          "'handler' (changed behind the service's back) (and 1 more)\n",
    "fi": "valitystili: error: audit_state: user:hilla: role on 'admin', tarkastuslokin mukaan "
          "'handler' (muutettu palvelun ohi) (ja 1 muu)\n",
    "sv": "valitystili: error: audit_state: user:hilla: role är 'admin', granskningsloggen "
          "säger 'handler' (ändrat förbi tjänsten) (och 1 till)\n",
}


def _found(output: str, check: int = 0, detail: int = 2) -> list[tuple[str, str]]:
    from base.test_i18n_tr_people import table_rows

    return [(row[check], row[detail].replace(NBSP, " ")) for row in table_rows(output)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_reconcile_s_findings_in_each_language(cli, tampered, language):
    result = cli("--lang", language, "--wide", "reconcile", "--check", "--as-of", "30.11.2026",
                 user="fiona")
    assert (result.exit_code, _found(result.stdout)) == (1, FOUND[language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_db_check_s_findings_in_each_language(cli, tampered, language):
    result = cli("--lang", language, "--wide", "db", "check", "--as-of", "30.11.2026",
                 user="aune")
    balance, suspense, (_check, stored), state = FOUND[language]
    assert (result.exit_code, _found(result.stdout)) == (
        1, [state, ("stored_balance", stored), balance, suspense])


@pytest.mark.parametrize("language", LANGUAGES)
def test_audit_verify_s_findings_in_each_language(cli, tampered, language):
    result = cli("--lang", language, "--wide", "audit", "verify", user="aune")
    _balance, _suspense, (_check, stored), state = FOUND[language]
    assert (result.exit_code, _found(result.stdout)) == (1, [state, ("stored_balance", stored)])
    assert result.stderr.splitlines(keepends=True)[-1] == AUDIT_VERIFY_ERROR[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_ledger_verify_s_findings_in_each_language(cli, tampered, language):
    result = cli("--lang", language, "--wide", "ledger", "verify", user="aune")
    [(_check, detail)] = FOUND[language][2:3]
    assert (result.exit_code, _found(result.stdout)) == (1, [("stored_balance", detail)])


@pytest.mark.parametrize("language", LANGUAGES)
def test_reconciliation_mismatch_flags_in_each_language(cli, tampered, language):
    cli("reconcile", "--as-of", "30.11.2026", user="fiona")
    shown = _found(cli.ok("--lang", language, "--wide", "flags", "--kind",
                          "reconciliation_mismatch", user="fiona"), check=1, detail=5)
    assert shown == [("reconciliation_mismatch", detail) for check, detail in FOUND[language]
                     if check != "suspense_old"]


def test_the_findings_are_english_in_json_in_every_language(cli, tampered):
    cli("reconcile", "--as-of", "30.11.2026", user="fiona")
    commands = (("fiona", "reconcile", "--check", "--as-of", "30.11.2026"),
                ("aune", "db", "check", "--as-of", "30.11.2026"),
                ("aune", "audit", "verify"), ("aune", "ledger", "verify"),
                ("fiona", "flags", "--kind", "reconciliation_mismatch"))
    for user, *args in commands:
        outputs = {language: cli("--lang", language, "--format", "json", *args, user=user).stdout
                   for language in LANGUAGES}
        assert outputs["fi"] == outputs["en"] == outputs["sv"], args
    details = [row["detail"].replace(NBSP, " ") for row in json.loads(outputs["en"])]
    assert details == [detail for check, detail in FOUND["en"] if check != "suspense_old"]

