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


# --- client records: their summary and state --------------------------------------------------

@pytest.fixture
def recorded(cli, planless) -> str:  # noqa: F811
    """Client 1's service record: a consent later withdrawn, an assessment, two powers of
    attorney (one until 31.12.2099, one until revoked) and a Kela payment demand."""
    client = str(planless)
    for args in (("consent", "--date", "20.10.2026", "--incomes", "housing allowance",
                  "--payments", "rent"),
                 ("assessment", "--date", "20.10.2026", "--reference", "SOS-2026-1234"),
                 ("power_of_attorney", "--date", "20.10.2026", "--scope", "rent matters",
                  "--to", "Vaasan Asunnot Oy", "--until", "31.12.2099"),
                 ("power_of_attorney", "--date", "21.10.2026", "--scope", "benefit matters",
                  "--to", "Kela"),
                 ("ev241n", "--date", "21.10.2026", "--benefits", "housing allowance"),
                 ("consent", "--withdrawn", "15.1.2027")):
        cli.ok("client", "record", client, *args, user="hannu")
    return client


RECORDS = {   # (summary, state) of records 1-6
    "en": [("incomes: housing allowance; payments: rent", "superseded by 6"),
           ("by sanna; social-welfare record SOS-2026-1234", "in force"),
           ("to Vaasan Asunnot Oy: rent matters until 31.12.2099",
            "in force, valid until 31.12.2099"),
           ("to Kela: benefit matters until revoked", "in force"),
           ("benefits: housing allowance", "in force"),
           ("incomes: housing allowance; payments: rent", "withdrawn 15.1.2027")],
    "fi": [("tulot: housing allowance; maksut: rent", "korvattu asiakirjalla 6"),
           ("tekijä sanna; sosiaalihuollon asiakirja SOS-2026-1234", "voimassa"),
           ("valtuutettu Vaasan Asunnot Oy: rent matters, 31.12.2099 asti",
            "voimassa, 31.12.2099 asti"),
           ("valtuutettu Kela: benefit matters, kunnes peruutetaan", "voimassa"),
           ("etuudet: housing allowance", "voimassa"),
           ("tulot: housing allowance; maksut: rent", "peruttu 15.1.2027")],
    "sv": [("inkomster: housing allowance; betalningar: rent", "ersatt av handling 6"),
           ("av sanna; socialvårdens journalhandling SOS-2026-1234", "i kraft"),
           ("till Vaasan Asunnot Oy: rent matters till och med 31.12.2099",
            "i kraft, till och med 31.12.2099"),
           ("till Kela: benefit matters tills den återkallas", "i kraft"),
           ("förmåner: housing allowance", "i kraft"),
           ("inkomster: housing allowance; betalningar: rent", "återkallad 15.1.2027")],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_client_records_in_each_language(cli, recorded, language):
    from base.test_i18n_tr_people import table_rows

    rows = table_rows(cli.ok("--lang", language, "--wide", "client", "records", recorded,
                             user="hannu"))
    assert [(row[7], row[10]) for row in rows] == RECORDS[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_client_show_s_records_in_each_language(cli, recorded, language):
    shown = cli.ok("--lang", language, "--wide", "client", "show", recorded, user="hannu")
    from base.test_i18n_tr_people import table_rows

    part = next(part for part in shown.split("\n\n") if "ev241n" in part)   # the records
    rows = table_rows(part.partition("\n")[2])
    assert [(row[-1], row[3]) for row in rows] == RECORDS[language]


def test_client_records_are_english_in_json_in_every_language(cli, recorded):
    for args in (("client", "records", recorded), ("client", "show", recorded)):
        outputs = {language: cli.ok("--lang", language, "--format", "json", *args, user="hannu")
                   for language in LANGUAGES}
        assert outputs["fi"] == outputs["en"] == outputs["sv"], args
    rows = json.loads(cli.ok("--format", "json", "client", "records", recorded, user="hannu"))
    assert [(row["summary"], row["state"]) for row in rows] == RECORDS["en"]
