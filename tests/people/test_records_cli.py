"""`client record`, `client records`, `client decision` and `client show` as the service file,
through the command line (both backends): exact output, one-line refusals that write nothing."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import client, plan, world, world_actors
from sqlalchemy import func, select

from valitystili.people import records
from valitystili.store.models import AuditEntry, ClientRecord

W = world_actors()


@pytest.fixture
def maija(session_factory):
    """Maija, opened 1.10.2026 (client 1), with the DESIGN §12 plan in force from 1.11.2026."""
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w, review_on=date(2027, 2, 1))
        plan(session, w, number)
    return number


def counts(session_factory) -> tuple[int, int]:
    with session_factory() as session:
        return (session.execute(select(func.count()).select_from(ClientRecord)).scalar_one(),
                session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_records_through_the_command_line_and_the_service_file(cli, maija, session_factory):
    made = cli.json("client", "record", "1", "assessment", "--date", "20.9.2026",
                    "--reference", "SOS-2026-1234", user="sanna")
    assert {k: made[k] for k in ("record", "kind", "dated_on", "summary", "state")} == {
        "record": 1, "kind": "assessment", "dated_on": "2026-09-20",
        "summary": "by sanna; social-welfare record SOS-2026-1234", "state": "in force"}
    cli.ok("client", "record", "1", "consent", "--date", "25.9.2026", "--incomes", "pension",
           "--payments", "rent", user="sanna")
    cli.ok("client", "record", "1", "decision", "--date", "30.9.2026", "--grounds",
           "rent arrears twice", "--start", "1.10.2026", "--review", "1.2.2027", user="hannu")
    withdrawn = cli("client", "record", "1", "consent", "--withdrawn", "15.11.2026",
                    user="sanna")
    assert withdrawn.exit_code == 0
    assert withdrawn.stderr == (
        "valitystili: warning: consent withdrawn 15.11.2026 (record 4): the service must close "
        "or change — close the client, or record a new consent\n")

    listed = cli.json("client", "records", "1", "--kind", "consent", user="fiona")
    assert [(r["record"], r["state"], r["supersedes"]) for r in listed] == [
        (2, "superseded by 4", None), (4, "withdrawn 15.11.2026", 2)]

    shown = cli.json("client", "show", "1", user="hannu")
    assert [(p["period"], p["start_on"], p["closed_on"]) for p in shown["periods"]] == [
        (1, "2026-10-01", None)]
    assert [(r["record"], r["kind"], r["state"]) for r in shown["records"]] == [
        (1, "assessment", "in force"), (2, "consent", "superseded by 4"),
        (3, "decision", "in force"), (4, "consent", "withdrawn 15.11.2026")]
    assert (shown["plan_in_force"], shown["balance_cents"]) == (1, 0)
    assert [(f["kind"], f["detail"][:26]) for f in shown["open_flags"]] == [
        ("consent_withdrawn", "consent withdrawn 15.11.20")]
    table = cli.ok("client", "show", "1", user="hannu")
    assert [line for line in table.splitlines() if line.endswith(":")] == [
        "periods:", "records:", "open flags:"]
    assert "withdrawn 15.11.2026" in table and "consent_withdrawn" in table
    csv_card = cli.ok("--format", "csv", "client", "show", "1", user="hannu")
    assert csv_card.splitlines()[0].startswith("client,name,payment_name,hetu,")
    assert len(csv_card.splitlines()) == 2


def test_the_decision_text_carries_appeal_instructions_in_the_clients_language(
        cli, session_factory):
    with session_factory() as session, session.begin():
        w = world(session)
        client(session, w, language="sv", name="Maja Mattsson")
        records.add_record(session, w.hannu, "1", "decision", dated_on=date(2026, 9, 30),
                           fields={"grounds": "hyresskuld två gånger",
                                   "start": date(2026, 10, 1), "end": date(2027, 3, 31),
                                   "review": date(2027, 2, 1), "reference": "SOS/123/2026"})
    cli.ok("settings", "set", "appeal_authority", "Vasa stads socialnämnd")
    text = cli.ok("client", "decision", "1", user="sanna")
    assert text == (
        "BESLUT: FÖRMEDLINGSKONTO\n"
        "\n"
        "Klient: Maja Mattsson (klientnummer 1)\n"
        "Beslutsdatum: 30.9.2026\n"
        "Beslutets nummer: SOS/123/2026\n"
        "\n"
        "Beslut: Klienten beviljas förmedlingskonto från och med 1.10.2026 till och med "
        "31.3.2027.\n"
        "Grund: flera vräkningar på grund av hyresskuld\n"
        "Motivering: hyresskuld två gånger\n"
        "Behovet av tjänsten bedöms på nytt senast 1.2.2027.\n"
        "Beslutsfattare: hannu\n"
        "\n"
        "ANVISNING FÖR BEGÄRAN OM OMPRÖVNING\n"
        "Den som är missnöjd med detta beslut kan begära omprövning av det. Begäran görs "
        "skriftligen till: Vasa stads socialnämnd. Begäran ska göras inom 30 dagar från "
        "delfåendet av beslutet. Ett beslut som sänts per brev anses ha kommit till "
        "mottagarens kännedom den sjunde dagen efter att det sänts, om inte något annat "
        "visas. I begäran anges det beslut som avses, hur beslutet ska ändras och på vilka "
        "grunder, samt namn och kontaktuppgifter. Begäran om omprövning är avgiftsfri.\n")
    cli.ok("settings", "set", "appeal_instructions_sv", "Omprövning:\nskriv till {authority}.")
    assert cli.ok("client", "decision", "1", user="sanna").endswith(
        "Beslutsfattare: hannu\n\nOmprövning:\nskriv till Vasa stads socialnämnd.\n")
    history = cli.json("audit", "log", "--client", "1", user="aune")
    assert [r["action"] for r in history][-2:] == ["client.decision.view",
                                                   "client.decision.view"]


def test_a_client_without_a_decision_has_no_decision_text(cli, maija):
    result = cli("client", "decision", "1", user="sanna")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: client 1 has no decision recorded (client record 1 decision "
           "…)\n")


@pytest.mark.parametrize("args, user, message", [
    (("visit", "--date", "1.10.2026"), "sanna",
     "Invalid value for 'KIND': 'visit' is not one of 'assessment', 'consent', "
     "'power_of_attorney', 'ev241n', 'decision'."),
    (("decision", "--date", "30.9.2026", "--grounds", "g", "--start", "1.9.2026", "--review",
      "1.2.2027"), "hannu", "--start 1.9.2026 is before the client's start 1.10.2026"),
    (("consent", "--date", "1.10.2026", "--incomes", "i", "--payments", "p", "--withdrawn",
      "30.9.2026"), "sanna", "--withdrawn 30.9.2026 is before the client's start 1.10.2026"),
    (("consent", "--date", "1.10.2026", "--grounds", "g"), "sanna",
     "--grounds is not a field of a consent record; it takes --date, --incomes, --payments, "
     "--withdrawn and --supersedes"),
    (("decision", "--date", "30.9.2026", "--grounds", "g", "--start", "1.10.2026", "--review",
      "1.2.2027", "--criterion", "other_weighty"), "hannu",
     "criterion other_weighty needs the reason (--reason), e.g. securing a "
     "debt-restructuring programme"),
    (("decision", "--date", "30.9.2026"), "sanna",
     "user sanna (social_worker) may not client decide; allowed roles: handler"),
    (("assessment", "--date", "1.10.2026", "--reference", "a\u202eb"), "sanna",
     "--reference contains the invisible formatting character U+202E (RIGHT-TO-LEFT "
     "OVERRIDE)"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_is_written(cli, maija, session_factory, args,
                                                             user, message):
    before = counts(session_factory)
    result = cli("client", "record", "1", *args, user=user)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {message}\n")
    assert counts(session_factory) == before
