"""Client, lease and closing commands in Finnish and Swedish: real outputs of the commands (help,
refusals), the words compared exactly; the English of what is stored stays English."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from base.test_i18n import invoke, maija  # noqa: F401  (maija is a fixture)
from helpers import scenario

from valitystili.flags.raising import raise_flag

NBSP = "\u00a0"

CLIENT_EDIT_HELP = {
    "fi": "Muuta asiakkaan tietoja; jokainen muutos kirjataan lokiin ennen ja jälkeen -arvoineen.",
    "sv": "Ändra en klients uppgifter; varje ändring loggas med före och efter.",
}
NOTHING_TO_EDIT = {
    "fi": "valitystili: error: anna muutettava tieto: --iban, --name, --language, --worker, "
          "--review tai --until\n",
    "sv": "valitystili: error: ange vad som ska ändras: --iban, --name, --language, --worker, "
          "--review eller --until\n",
}
LEASE_TOO_LONG = {
    "fi": "valitystili: error: asiakkaan 1 ensimmäinen vuokrasopimus voi kestää enintään 3 "
          "kuukautta: 1.1.2027–30.6.2027 on pidempi (enintään 31.3.2027 asti); välitystilin "
          'hoitaja voi sallia sen valinnalla --override "syy"\n',
    "sv": "valitystili: error: det första hyresavtalet för klient 1 får gälla högst 3 månader: "
          "1.1.2027–30.6.2027 är längre (högst till 31.3.2027); en handläggare kan tillåta det "
          'med --override "skäl"\n',
}
MONEY_HELD = {
    "fi": f"valitystili: error: asiakkaan 1 tilillä on vielä 940,00{NBSP}€; maksa se ensin tai "
          "päätä valinnalla --final-payout\n",
    "sv": f"valitystili: error: klient 1 har ännu 940,00{NBSP}€; betala ut det först eller "
          "avsluta med --final-payout\n",
}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_client_edit_help_in_each_language(language):
    result = invoke(["--lang", language, "client", "edit", "--help"])
    assert result.exit_code == 0
    first_paragraph = result.output.split("\n\n")[1]          # after the usage line
    assert " ".join(first_paragraph.split()) == CLIENT_EDIT_HELP[language]


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_an_edit_that_changes_nothing_in_each_language(cli, maija, language):  # noqa: F811
    result = cli("--lang", language, "client", "edit", str(maija), user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", NOTHING_TO_EDIT[language])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_broken_lease_rule_in_each_language(cli, maija, language):  # noqa: F811
    result = cli("--lang", language, "lease", "add", str(maija), "--payee", "Vaasan Asunnot Oy",
                 "--rent", "520", "--start", "1.1.2027", "--end", "30.6.2027", user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", LEASE_TOO_LONG[language])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_closing_with_money_held_in_each_language(cli, maija, language):  # noqa: F811
    result = cli("--lang", language, "client", "close", str(maija), "--date", "31.12.2026",
                 "--reason", "moved", user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", MONEY_HELD[language])


def test_an_overridden_lease_stores_its_broken_rule_in_english(cli, maija):  # noqa: F811
    cli.ok("--lang", "fi", "lease", "add", str(maija), "--payee", "Vaasan Asunnot Oy", "--rent",
           "520", "--start", "1.1.2027", "--end", "30.6.2027", "--override", "päätös 3/2027",
           user="hannu")
    entries = [e for e in cli.json("audit", "log", user="aune") if e["action"] == "lease.override"]
    broken = ("the first lease of client 1 may last at most 3 months: 1.1.2027–30.6.2027 is "
              "longer (at most until 31.3.2027)")
    assert [e["detail"]["overridden"] for e in entries] == [[broken]]


@pytest.fixture
def matti(session_factory) -> int:
    """Client 1, opened with only the Kela question answered (no): two were not asked."""
    with session_factory() as session, session.begin():
        w = scenario.world(session)
        return scenario.client(session, w, name="Matti Meikäläinen",
                               exclusions={"kela_pays_landlord": False},
                               start_on=date(2026, 11, 1), today=date(2026, 11, 1))


def card_lines(output: str, headers: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The card's lines whose name is one of ``headers``, as (name, value)."""
    pairs = [tuple(re.split(r" {2,}", line.rstrip(), maxsplit=1)) for line in output.splitlines()]
    return [pair for pair in pairs if pair[0] in headers]


ANSWERS = {
    "en": [("guardianship need", "not asked"), ("subsidy against will", "not asked"),
           ("kela pays landlord", "no"), ("elderly", "no")],
    "fi": [("edunvalvonnan tarve", "kysymättä"), ("työmarkkinatuki vastoin tahtoa", "kysymättä"),
           ("Kela maksaa vuokranantajalle", "ei"), ("ikääntynyt", "ei")],
    "sv": [("behov av intressebevakning", "inte ställd"),
           ("arbetsmarknadsstöd mot viljan", "inte ställd"),
           ("FPA betalar hyresvärden", "nej"), ("äldre", "nej")],
}


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_the_card_s_exclusion_answers_in_each_language(cli, matti, language):
    shown = cli.ok("--lang", language, "client", "show", str(matti), user="hannu")
    headers = tuple(name for name, _answer in ANSWERS[language])
    assert card_lines(shown, headers) == ANSWERS[language]


def test_the_exclusion_answers_stay_english_in_json_and_csv(cli, matti):
    outputs = {language: [cli.ok("--lang", language, "--format", fmt, "client", "show",
                                 str(matti), user="hannu") for fmt in ("json", "csv")]
               for language in ("en", "fi", "sv")}
    assert outputs["fi"] == outputs["en"] == outputs["sv"]
    card = cli.json("--lang", "fi", "client", "show", str(matti), user="hannu")
    assert [card[key] for key in ("guardianship_need", "subsidy_against_will",
                                  "kela_pays_landlord", "elderly")] == [
        "not asked", "not asked", "no", "no"]


CLOSED = {     # the closing's reason and its label; the client's periods after it
    "en": ([("reason", "moved"), ("reason label", "the client moved away")], "periods:",
           ["1", "2026-11-01", "2026-11-30", "the client moved away", "own_account"]),
    "fi": ([("syy", "moved"), ("syy", "asiakas muutti pois")], "jaksot:",
           ["1", "2026-11-01", "2026-11-30", "asiakas muutti pois", "own_account"]),
    "sv": ([("orsak", "moved"), ("orsak", "klienten flyttade bort")], "perioder:",
           ["1", "2026-11-01", "2026-11-30", "klienten flyttade bort", "own_account"]),
}


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_the_closing_reason_s_label_in_each_language(cli, matti, language):
    reason, title, period = CLOSED[language]
    closed = cli.ok("--lang", language, "client", "close", str(matti), "--date", "30.11.2026",
                    "--reason", "moved", user="hannu")
    assert card_lines(closed, tuple(name for name, _label in reason)) == reason
    shown = cli.ok("--lang", language, "client", "show", str(matti), user="hannu")
    periods = shown.split(f"\n{title}\n", 1)[1].splitlines()
    assert [re.split(r" {2,}", line) for line in periods[2:]] == [period]


def test_the_closing_reason_s_label_stays_english_in_json(cli, matti):
    closed = cli.json("--lang", "sv", "client", "close", str(matti), "--date", "30.11.2026",
                      "--reason", "moved", user="hannu")
    shown = cli.json("--lang", "fi", "client", "show", str(matti), user="hannu")
    assert (closed["reason"], closed["reason_label"]) == ("moved", "the client moved away")
    assert [(p["reason"], p["reason_label"]) for p in shown["periods"]] == [
        ("moved", "the client moved away")]


DEMAND_ENDS = {     # the flag a closing leaves when Kela's payment demand is still open
    "en": "client 1 was closed on 30.11.2026: tell Kela that the payment demand (EV 241N, record "
          "1: housing allowance) ends, then record its end: client record 1 ev241n --ended DATE",
    "fi": "asiakkaan 1 palvelu päättyi 30.11.2026: ilmoita Kelalle, että maksatuspyyntö (EV 241N, "
          "asiakirja 1: housing allowance) päättyy, ja kirjaa sitten sen päättyminen: client "
          "record 1 ev241n --ended DATE",
    "sv": "klient 1 avslutades 30.11.2026: meddela FPA att betalningsbegäran (EV 241N, handling 1: "
          "housing allowance) upphör och registrera sedan att den upphört: client record 1 ev241n "
          "--ended DATE",
}


def table_rows(output: str) -> list[list[str]]:
    """A list table's rows as cells, cut where its rule line's dashes are."""
    lines = output.splitlines()
    spans = [match.span() for match in re.finditer(r"-+", lines[1])]
    spans[-1] = (spans[-1][0], None)
    return [[line[start:end].strip() for start, end in spans] for line in lines[2:]]


def close_with_a_payment_demand(cli, client: int, language: str = "en"):
    cli.ok("client", "record", str(client), "ev241n", "--date", "21.10.2026", "--benefits",
           "housing allowance", user="hannu")
    return cli("--lang", language, "client", "close", str(client), "--date", "30.11.2026",
               "--reason", "moved", user="hannu")


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_a_flag_s_detail_in_each_language(cli, matti, language):
    closed = close_with_a_payment_demand(cli, matti, language)
    assert (closed.exit_code, closed.stderr) == (
        0, f"valitystili: warning: {DEMAND_ENDS[language]}\n")
    listed = table_rows(cli.ok("--lang", language, "--wide", "flags", user="hannu"))
    assert [row[5] for row in listed] == [DEMAND_ENDS[language]]


def test_a_flag_s_detail_stays_english_in_json_and_csv(cli, matti):
    close_with_a_payment_demand(cli, matti)
    outputs = {language: [cli.ok("--lang", language, "--format", fmt, *command, user="hannu")
                          for fmt in ("json", "csv")
                          for command in (("flags",), ("client", "show", str(matti)))]
               for language in ("en", "fi", "sv")}
    assert outputs["fi"] == outputs["en"] == outputs["sv"]
    assert [flag["detail"] for flag in json.loads(outputs["en"][0])] == [DEMAND_ENDS["en"]]


def test_a_flag_stored_as_plain_text_is_shown_as_stored(cli, matti, session_factory):
    with session_factory() as session, session.begin():
        raise_flag(session, "review_due", "review:1:2027-02-01", date(2026, 11, 30),
                   client_id=matti, detail="review due 2027-02-01, 63 days left")
    shown = cli.json("--lang", "fi", "flags", user="hannu")
    listed = cli.ok("--lang", "fi", "--wide", "flags", user="hannu")
    assert [flag["detail"] for flag in shown] == ["review due 2027-02-01, 63 days left"]
    assert "review due 2027-02-01, 63 days left" in listed
