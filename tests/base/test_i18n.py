"""The command line in Finnish, Swedish and English (base/i18n.py): the language's order of
choice, the catalogues against the code, help and messages in each language, and what scripts
read — JSON and CSV — the same in all three."""

from __future__ import annotations

import json
from datetime import date

import click
import pytest
from click.testing import CliRunner
from helpers import scenario
from oversight.test_reports_world import Money

from valitystili.base import i18n
from valitystili.cli import COMMANDS, lang_flag
from valitystili.cli import cli as cli_group

DAY = date(2026, 11, 2)          # Kela's money arrives; rent 520,00 and electricity 75,00 paid
NBSP = "\u00a0"


@pytest.fixture
def maija(cli, session_factory) -> int:
    """Client 1 with the worked example's plan and Kela's 940,00 € booked on 2.11.2026."""
    with session_factory() as session, session.begin():
        w = scenario.world(session)
        number = scenario.client(session, w, start_on=date(2026, 11, 1),
                                 review_on=date(2027, 2, 1))
        scenario.plan(session, w, number, scenario.WORKED_EXAMPLE,
                      effective_on=date(2026, 11, 1), today=date(2026, 11, 1))
        money = Money(session)
        money.credit(number, 56000, DAY)
        money.credit(number, 38000, DAY)
    return number


def invoke(args: list[str], env: dict | None = None):
    """``valitystili ARGS`` without a database (help, usage errors)."""
    return CliRunner().invoke(cli_group, args, prog_name="valitystili", env=env)


# --- the language's order of choice ------------------------------------------------------------

@pytest.mark.parametrize(("flag", "environ", "user", "chosen"), [
    ("sv", {"VALITYSTILI_LANG": "fi", "LANG": "fi_FI.UTF-8"}, "fi", ("sv", "flag")),
    (None, {"VALITYSTILI_LANG": "fi", "LANG": "sv_FI.UTF-8"}, "sv", ("fi", "env")),
    (None, {"LANG": "fi_FI.UTF-8"}, "sv", ("sv", "user")),
    (None, {"LANG": "fi_FI.UTF-8"}, None, ("fi", "locale")),
    (None, {"LANG": "sv_FI.UTF-8", "LC_ALL": "en_GB.UTF-8"}, None, ("en", "locale")),
    (None, {"LANG": "sv_FI.UTF-8", "LC_MESSAGES": "fi_FI"}, None, ("fi", "locale")),
    (None, {"LANG": "C.UTF-8"}, None, ("en", "default")),
    (None, {}, None, ("en", "default")),
    (None, {"VALITYSTILI_LANG": "de", "LANG": "de_DE.UTF-8"}, None, ("en", "default")),
])
def test_the_flag_comes_before_the_environment_the_user_and_the_locale(flag, environ, user,
                                                                       chosen):
    assert i18n.choose_language(flag, environ, user) == chosen


@pytest.mark.parametrize(("args", "flag"), [
    (["--lang", "fi", "batch", "run"], "fi"),
    (["--db", "x.db", "--lang=sv", "--help"], "sv"),
    (["--format", "json", "batch", "run", "--lang", "fi"], None),    # after the command: its own
    (["batch", "--help"], None),
])
def test_lang_is_read_among_the_root_options_only(args, flag):
    assert lang_flag(args) == flag


def test_the_language_is_restored_after_a_command():
    invoke(["--lang", "fi", "--help"])
    assert i18n.language() == "en"


# --- the catalogues ----------------------------------------------------------------------------

def test_every_marked_message_is_translated_and_every_entry_is_used():
    assert i18n.check() == []


def test_the_command_table_says_what_each_command_s_help_says_in_each_language():
    assert i18n.short_help_problems(COMMANDS) == []


def test_the_check_finds_a_missing_an_obsolete_and_a_fuzzy_entry(monkeypatch, tmp_path):
    source = tmp_path / "module.py"
    source.write_text('_("kept")\n_("new")\nN_("with {name}")\n_(f"bad {x}")\n')
    po = tmp_path / "fi" / "LC_MESSAGES" / "valitystili.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "kept"\nmsgstr "pidetty"\n\n'
                  '#, fuzzy\nmsgid "with {name}"\nmsgstr "nimellä {nimi}"\n\n'
                  'msgid "gone"\nmsgstr "poissa"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "TRANSLATED", ("fi",))
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "source_files", lambda root=None: [source])
    problems = i18n.check()
    assert [p.split(":", 2)[-1].strip() if "f-string" in p else p for p in problems] == [
        "an f-string given to _(): use _(\"… {name} …\").format(name=…)",
        f"fi: not in the catalogue: 'new' ({source}:2)",
        "fi: 'with {name}': fuzzy (check the translation and remove the fuzzy flag)",
        "fi: 'gone': obsolete entry (no code uses it)",
    ]


def test_a_catalogue_without_a_compiled_file_is_compiled_on_first_use(monkeypatch, tmp_path):
    po = tmp_path / "fi" / "LC_MESSAGES" / "valitystili.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "batch"\nmsgstr "maksuajo"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n.forget_loaded()
    previous = i18n.set_language("fi")
    try:
        assert i18n._("batch") == "maksuajo"
        assert i18n._("not in it") == "not in it"
    finally:
        i18n.set_language(previous)
        i18n.forget_loaded()
    assert not po.with_suffix(".mo").exists()
    assert len(list((tmp_path / "cache").rglob("fi-*.mo"))) == 1


# --- help --------------------------------------------------------------------------------------

HELP_FIRST_LINES = {
    "en": ["Usage: valitystili batch run [OPTIONS]", "",
           "  Plan today's payments: obligations due, reserves, instalments."],
    "fi": ["Käyttö: valitystili batch run [OPTIONS]", "",
           "  Suunnittele päivän maksut: erääntyvät velvoitteet, varaukset, erät."],
    "sv": ["Användning: valitystili batch run [OPTIONS]", "",
           "  Planera dagens betalningar: förfallna åtaganden, reserveringar, rater."],
}


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_batch_run_help_in_each_language(language):
    result = invoke(["--lang", language, "batch", "run", "--help"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:3] == HELP_FIRST_LINES[language]


def test_help_follows_the_environment_and_then_the_locale_and_switches_back():
    swedish = invoke(["batch", "--help"], env={"VALITYSTILI_LANG": "sv"})
    finnish = invoke(["batch", "--help"], env={"LANG": "fi_FI.UTF-8"})
    english = invoke(["batch", "--help"])
    assert [r.stdout.splitlines()[2] for r in (swedish, finnish, english)] == [
        "  Kör, granska, godkänn och exportera dagens betalningsomgång.",
        "  Tee, tarkista, hyväksy ja vie päivän maksuajo.",
        "  Run, review, approve and export the daily payment batch."]
    assert "  -h, --help  Visa den här hjälpen och avsluta." in swedish.stdout.splitlines()
    assert "  -h, --help  Show this message and exit." in english.stdout.splitlines()


def test_a_usage_error_is_one_line_in_the_language_with_exit_2():
    result = invoke(["--lang", "fi", "batch", "run", "--pain"])
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: Valitsinta '--pain' ei ole. Tarkoititko '--iban'?\n")


def test_the_root_help_lists_the_commands_in_finnish_without_loading_them():
    result = invoke(["--lang", "fi", "--help"])
    lines = result.stdout.splitlines()
    assert "Komennot:" in lines
    assert "  batch      Tee, tarkista, hyväksy ja vie päivän maksuajo." in lines
    assert isinstance(cli_group.get_command(click.Context(cli_group), "batch"), click.Group)


# --- messages and tables of the batch, on both backends ----------------------------------------

SUMMARY = {
    "en": f"batch 1: 2 payments, 595,00{NBSP}€, executing 2026-11-02\n",
    "fi": f"maksuajo 1: 2 maksua, 595,00{NBSP}€, maksupäivä 2026-11-02\n",
    "sv": f"betalningsomgång 1: 2 betalningar, 595,00{NBSP}€, betalningsdag 2026-11-02\n",
}
REFUSAL = {
    "en": "valitystili: error: user sanna (social_worker) may not batch run; allowed roles: "
          "handler\n",
    "fi": "valitystili: error: käyttäjä sanna (social_worker) ei saa tehdä toimintoa batch run; "
          "sallitut roolit: handler\n",
    "sv": "valitystili: error: användaren sanna (social_worker) får inte utföra batch run; "
          "tillåtna roller: handler\n",
}


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_the_batch_summary_in_each_language(cli, maija, language):
    result = cli("--lang", language, "batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    assert (result.exit_code, result.stderr) == (0, SUMMARY[language])


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_a_role_refusal_in_each_language(cli, maija, language):
    result = cli("--lang", language, "batch", "run", "--date", "2.11.2026", "--yes", user="sanna")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", REFUSAL[language])


def test_the_user_setting_comes_before_the_locale_and_after_the_environment(cli, maija):
    cli.ok("user", "add", "liisa", "--role", "handler", "--language", "sv")
    assert [u["language"] for u in cli.json("user", "list") if u["name"] == "liisa"] == ["sv"]
    looked = cli("batch", "run", "--date", "2.11.2026", "--dry-run", user="liisa",
                 env={"LANG": "fi_FI.UTF-8"})
    told = cli("batch", "run", "--date", "2.11.2026", "--dry-run", user="liisa",
               env={"VALITYSTILI_LANG": "fi"})
    assert looked.stderr == f"skulle betala 2 betalningar, 595,00{NBSP}€, betalningsdag 2026-11-02\n"
    assert told.stderr == f"maksettaisiin 2 maksua, 595,00{NBSP}€, maksupäivä 2026-11-02\n"


def test_a_user_without_a_setting_is_spoken_to_in_the_locale(cli, maija):
    refused = cli("batch", "list", user="sanna", env={"LANG": "sv_FI.UTF-8"})
    assert refused.stderr == ("valitystili: error: användaren sanna (social_worker) får inte "
                              "utföra batch read; tillåtna roller: auditor, finance, handler\n")


BATCH_LIST_FI = (
    "maksuajo  maksupäivä  tila   määräyksiä  yhteensä €  luoja  hyväksyjä  viety  pankki\n"
    "--------  ----------  -----  ----------  ----------  -----  ---------  -----  ------\n"
    "1         2026-11-02  draft  2               595,00  hannu             ei\n")


def test_a_table_for_people_has_finnish_headers_and_words(cli, maija):
    cli.ok("batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    assert cli.ok("--lang", "fi", "batch", "list", user="hannu") == BATCH_LIST_FI


def test_json_and_csv_are_the_same_in_every_language(cli, maija):
    cli.ok("batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    outputs = {}
    for language in ("en", "fi", "sv"):
        outputs[language] = [
            cli.ok("--lang", language, "--format", fmt, *command, user="hannu")
            for fmt in ("json", "csv")
            for command in (("batch", "list"), ("batch", "show", "1"),
                            ("batch", "run", "--date", "2.11.2026", "--dry-run"))]
    assert outputs["fi"] == outputs["en"]
    assert outputs["sv"] == outputs["en"]
    assert json.loads(outputs["en"][0])[0]["status"] == "draft"
    assert outputs["en"][3].splitlines()[0] == ("batch,key,run_on,execution_on,status,orders,"
                                                "total_eur,created_by,approved_by,exported,"
                                                "bank_status")


# --- a message kept in English, shown in the reader's language ---------------------------------

def test_a_message_is_its_english_text_and_shows_in_the_current_language():
    late = i18n.Message("{item} paid {day}, after its legal due date {due}", item="rent",
                        day="3.11.2026", due="2.11.2026")
    months = i18n.PluralMessage("plan does not add up in {count} month; approving it needs "
                                "--despite", "plan does not add up in {count} months; approving "
                                "it needs --despite", 2, count=2)
    line = i18n.Message.joined(": ", ["11/2026", i18n.Message.joined("; ", [late, "as is"])])
    assert (late, months, line) == (
        "rent paid 3.11.2026, after its legal due date 2.11.2026",
        "plan does not add up in 2 months; approving it needs --despite",
        "11/2026: rent paid 3.11.2026, after its legal due date 2.11.2026; as is")
    assert json.dumps([late]) == json.dumps(["rent paid 3.11.2026, after its legal due date "
                                             "2.11.2026"])
    previous = i18n.set_language("sv")
    try:
        assert [i18n.shown(text) for text in (late, months, line, "plain")] == [
            "rent betalas 3.11.2026, efter den lagstadgade förfallodagen 2.11.2026",
            "planen går inte ihop under 2 månader; att godkänna den kräver --despite",
            "11/2026: rent betalas 3.11.2026, efter den lagstadgade förfallodagen 2.11.2026; "
            "as is",
            "plain"]
    finally:
        i18n.set_language(previous)


def test_a_message_is_kept_as_data_and_made_again_with_its_stored_english():
    named = i18n.Message("{amount} assigned by {name} to closed client {client}",
                         amount="10,00 €", name="hannu", client=1)
    nested = i18n.Message.joined(": ", ["AC04", i18n.Message("the account is closed")])
    for message in (named, nested):
        again = i18n.Message.from_data(json.loads(json.dumps(message.data())))
        assert (again, again.data()) == (message, message.data())
    stored = i18n.Message.from_data(named.data(), english="as it was stored")
    # A change to its values' texts (anonymising a name) makes the English again from them.
    assert (stored, stored.with_texts(str.upper)) == (
        "as it was stored", "10,00 € assigned by HANNU to closed client 1")


def test_message_and_plural_message_are_markers_for_the_catalogue(tmp_path):
    source = tmp_path / "module.py"
    source.write_text('Message("one {x}", x=1)\nPluralMessage("a {n}", "many {n}", 2, n=2)\n'
                      'Message(f"bad {y}")\n')
    found, problems = i18n.messages_in(source)
    assert sorted(found, key=str) == [("a {n}", "many {n}"), "one {x}"]
    assert [p.split(": ", 1)[1] for p in problems] == [
        "an f-string given to Message(): use _(\"… {name} …\").format(name=…)"]
