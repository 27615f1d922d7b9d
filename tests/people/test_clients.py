"""Clients: opening (criteria, fixed term, exclusions), finding, showing, listing, closing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import (
    CLI_REVIEW,
    CITY_IBAN,
    CLIENT_IBAN,
    ELDERLY_HETU,
    HETU,
    HETU_2,
    cli_world,
    client,
    plan,
    world,
)
from sqlalchemy import select

import ledger
from ledger.models import accounts
from valitystili.base.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from valitystili.oversight import card
from valitystili.people import clients
from valitystili.store.models import AuditEntry, Client

NO = {"guardianship_need": False, "subsidy_against_will": False, "kela_pays_landlord": False}


def open_(session, w, **changes):
    fields = dict(hetu=HETU, name="Maija Meikäläinen", iban=CLIENT_IBAN, criterion="evictions",
                  worker="sanna", start_on=date(2026, 10, 1), review_on=date(2027, 2, 1),
                  exclusions=NO, today=date(2026, 10, 1))
    fields.update(changes)
    return clients.open_client(session, w.sanna, **fields)


def pay_in(session, client_no: int, cents: int, key: str = "test:in") -> None:
    ledger.post(session, key, [(f"bank:{CITY_IBAN}", cents), (f"client:{client_no}", -cents)],
                date(2026, 11, 2))


# --- opening ------------------------------------------------------------------------------------


def test_opening_gives_the_number_references_and_a_no_negative_account(session):
    w = world(session)
    opened = open_(session, w, hetu="010594y123w", review_on=date(2027, 2, 1), language="sv")
    assert opened == {
        "client": 1, "name": "Maija Meikäläinen", "payment_name": None, "hetu": "010594Y****",
        "reference": "100000010", "rf_reference": "RF69100000010", "iban": CLIENT_IBAN,
        "criterion": "evictions", "worker": "sanna", "start_on": date(2026, 10, 1),
        "until_on": None, "review_on": date(2027, 2, 1), "language": "sv",
        "guardianship_need": "no", "subsidy_against_will": "no", "kela_pays_landlord": "no",
        "elderly": "no", "despite": None, "warnings": [],
    }
    row = session.execute(
        select(accounts.c.kind, accounts.c.no_negative).where(accounts.c.code == "client:1")
    ).one()
    assert (row.kind, row.no_negative) == ("liability", True)
    stored = session.get(Client, 1)
    assert (stored.hetu, stored.bic, stored.ledger_code, stored.created_by) == (
        "010594Y123W", "ITELFIHH", "client:1", "sanna")
    assert stored.exclusions == {**NO, "elderly": False, "despite": None}
    second = open_(session, w, hetu=HETU_2, name="Pekka")
    assert (second["client"], second["reference"], second["rf_reference"]) == (
        2, "100000023", "RF09100000023")


@pytest.mark.parametrize("changes, message", [
    ({"hetu": "010594Y123X"}, "henkilötunnus 010594Y**** has a wrong check character"),
    ({"hetu": "0105941234"}, "henkilötunnus is not in the form DDMMYYCNNNQ (e.g. 131052-308T)"),
    ({"iban": "FI5542345670000082"}, "IBAN FI5542345670000082 has wrong check digits"),
    ({"criterion": "poverty"}, "criterion 'poverty' is not one of sublet, housing_condition, "
                               "evictions, other_weighty, rent_debt_fixed_term"),
    ({"language": "de"}, "language 'de' is not one of fi, sv, en"),
    ({"worker": "nobody"}, "worker 'nobody' is not a registered user"),
    ({"worker": "hannu"}, "worker hannu is a handler, not a social_worker"),
    ({"name": " "}, "client name is empty"),
    ({"review_on": date(2026, 9, 30)}, "review date 30.9.2026 is in the past"),
    ({"review_on": None},
     "give the date the need for the service is next reviewed (--review DATE)"),
    ({"until_on": date(2026, 10, 1)}, "end date 1.10.2026 must be after the start 1.10.2026"),
    ({"exclusions": {"elderly": False}}, "unknown exclusion elderly (computed from the "
     "henkilötunnus); the questions are guardianship_need, subsidy_against_will, "
     "kela_pays_landlord"),
])
def test_bad_openings_are_refused_and_write_nothing(session, changes, message):
    w = world(session)
    with pytest.raises(ValidationError) as caught:
        open_(session, w, **changes)
    assert str(caught.value) == message
    assert session.execute(select(Client)).first() is None


@pytest.mark.parametrize("until, ok", [
    (date(2026, 11, 29), False),
    (date(2026, 11, 30), True),     # 31.8. + 3 months keeps the month end
    (date(2027, 2, 28), True),      # 31.8. + 6 months
    (date(2027, 3, 1), False),
])
def test_rent_debt_fixed_term_runs_three_to_six_months_inclusive(session, until, ok):
    w = world(session)
    changes = dict(criterion="rent_debt_fixed_term", start_on=date(2026, 8, 31), until_on=until,
                   today=date(2026, 8, 31))
    if ok:
        assert open_(session, w, **changes)["until_on"] == until
    else:
        with pytest.raises(ValidationError) as caught:
            open_(session, w, **changes)
        assert str(caught.value) == (
            f"criterion rent_debt_fixed_term runs 3–6 months: --until {until.day}.{until.month}."
            f"{until.year} is not between 30.11.2026 and 28.2.2027 (start 31.8.2026)")


def test_rent_debt_fixed_term_needs_an_end(session):
    w = world(session)
    with pytest.raises(ValidationError, match=r"^criterion rent_debt_fixed_term is fixed-term: "
                                              r"give --until 3–6 months after the start$"):
        open_(session, w, criterion="rent_debt_fixed_term")


def test_the_same_person_cannot_be_opened_twice(session):
    w = world(session)
    open_(session, w)
    with pytest.raises(Conflict, match=r"^henkilötunnus 010594Y\*\*\*\* already belongs to "
                                       r"client 1 \(open\)$"):
        open_(session, w, name="Maija M.")


def test_only_social_workers_open_clients(session):
    w = world(session)
    with pytest.raises(PermissionDenied, match=r"^user hannu \(handler\) may not client open; "
                                               r"allowed roles: social_worker$"):
        clients.open_client(session, w.hannu, hetu=HETU, name="M", iban=CLIENT_IBAN,
                            criterion="evictions", worker="sanna", today=date(2026, 10, 1))


# --- exclusions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key, text", [
    ("guardianship_need", "needs guardianship (edunvalvonta)"),
    ("subsidy_against_will", "gets labour market subsidy into the account against their will"),
    ("kela_pays_landlord", "Kela can pay the housing costs straight to the landlord"),
])
def test_an_exclusion_needs_a_reason(session, key, text):
    w = world(session)
    with pytest.raises(ValidationError) as caught:
        open_(session, w, exclusions={**NO, key: True})
    assert str(caught.value) == (f"exclusion applies: the client {text}; the service is not "
                                 'meant for them — to open it anyway give --despite "reason"')
    opened = open_(session, w, exclusions={**NO, key: True}, despite="  no other way  ")
    assert opened[key] == "yes"
    assert opened["despite"] == "no other way"
    assert opened["warnings"] == [f"opened despite exclusion: the client {text}; "
                                  "reason: no other way"]
    assert session.get(Client, 1).exclusions[key] is True


def test_the_elderly_are_recognised_from_the_identity_code(session):
    w = world(session)
    with pytest.raises(ValidationError) as caught:
        open_(session, w, hetu=ELDERLY_HETU, exclusions={**NO, "guardianship_need": True})
    assert str(caught.value) == (
        "exclusion applies: the client needs guardianship (edunvalvonta) and is elderly "
        "(73 on 1.10.2026; direct debit or a continuing power of attorney first); the service "
        'is not meant for them — to open it anyway give --despite "reason"')
    opened = open_(session, w, hetu=ELDERLY_HETU, despite="continuing power of attorney refused")
    assert (opened["elderly"], opened["hetu"]) == ("yes", "131052-****")
    assert session.get(Client, 1).exclusions == {
        **NO, "elderly": True, "despite": "continuing power of attorney refused"}


def test_age_is_counted_on_the_start_date(session):
    w = world(session)
    # Born 13.10.1952: 64 on 12.10.2017, 65 on 13.10.2017.
    assert open_(session, w, hetu=ELDERLY_HETU, start_on=date(2017, 10, 12),
                 today=date(2017, 10, 12))["elderly"] == "no"
    with pytest.raises(ValidationError, match=r"is elderly \(65 on 13\.10\.2017;"):
        open_(session, w, hetu=ELDERLY_HETU, start_on=date(2017, 10, 13),
              today=date(2017, 10, 13), name="again")


def test_unanswered_questions_are_recorded_as_not_asked_and_warned_about(session):
    w = world(session)
    opened = open_(session, w, exclusions={"kela_pays_landlord": False})
    assert (opened["guardianship_need"], opened["kela_pays_landlord"]) == ("not asked", "no")
    assert opened["warnings"] == ["exclusion questions not answered, recorded as not asked: "
                                  "guardianship_need, subsidy_against_will"]
    assert session.get(Client, 1).exclusions["guardianship_need"] is None


# --- finding a client ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1", 1, " 1 ", "100000010", "1000 00010", "0000100000010",
                                  "RF69100000010", "rf69 1000 0001 0"])
def test_a_client_is_found_by_number_or_reference(session, text):
    w = world(session)
    client(session, w)
    assert clients.resolve_client(session, text).id == 1


@pytest.mark.parametrize("text, error, message", [
    ("2", NotFound, "unknown client 2"),
    ("100000023", NotFound, "unknown client 100000023"),
    ("100000011", ValidationError, "reference 100000011 has a wrong check digit "
                                   "(expected 100000010)"),
    ("RF70100000010", ValidationError, "RF reference RF70100000010 has wrong check digits "
                                       "(expected RF69100000010)"),
    ("Maija", NotFound, "unknown client 'Maija': give the client number or its reference"),
])
def test_unknown_clients_and_bad_references(session, text, error, message):
    w = world(session)
    client(session, w)
    with pytest.raises(error) as caught:
        clients.resolve_client(session, text)
    assert str(caught.value) == message


# --- showing and listing ------------------------------------------------------------------------


def test_show_masks_the_identity_code_and_shows_balance_and_plan(session):
    w = world(session)
    number = client(session, w, review_on=date(2026, 12, 1))
    plan(session, w, number)
    plan(session, w, number, approve=False)
    pay_in(session, number, 94000)
    shown = card.show_client(session, w.hannu, "1", today=date(2026, 11, 2))
    assert shown == {
        "client": 1, "name": "Maija Meikäläinen", "payment_name": None,
        "hetu": "010594Y****", "reference": "1000 00010", "rf_reference": "RF69 1000 0001 0", "status": "open",
        "criterion": "evictions", "worker": "sanna", "language": "fi",
        "iban": "FI55 4234 5670 0000 81", "bic": "ITELFIHH", "start_on": date(2026, 10, 1),
        "until_on": None, "review_on": date(2027, 2, 1), "closed_on": None,
        "final_payout": False, "guardianship_need": "no", "subsidy_against_will": "no",
        "kela_pays_landlord": "no", "elderly": "no", "despite": None, "balance_cents": 94000,
        "plan_in_force": 1, "plan_effective_on": date(2026, 11, 1), "plan_pending": 2,
        "opened_by": "sanna", "criterion_reason": None, "decision_in_force": None,
        "periods": [{"period": 1, "start_on": date(2026, 10, 1), "until_on": None,
                     "closed_on": None, "reason": None, "reason_label": "", "note": None,
                     "payout_to": None, "payee": None, "payout_status": None}],
        "records": [], "leases": [], "open_flags": [], "pending_edits": [],
    }
    # Before the plan takes effect the client's own review date is the one that counts.
    before = card.show_client(session, w.hannu, "1", today=date(2026, 10, 20))
    assert (before["plan_in_force"], before["review_on"]) == (None, date(2026, 12, 1))


def test_show_hetu_is_allowed_to_some_roles_and_audited_as_such(session):
    w = world(session)
    client(session, w)
    assert card.show_client(session, w.aune, "1", show_hetu=True)["hetu"] == HETU
    last = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert (last.actor, last.action, last.client_id, json.loads(last.detail)) == (
        "aune", "client.view_hetu", 1, {"hetu_shown": True})
    with pytest.raises(PermissionDenied, match=r"^user fiona \(finance\) may not client hetu; "
                                               r"allowed roles: auditor, handler, social_worker$"):
        card.show_client(session, w.fiona, "1", show_hetu=True)
    with pytest.raises(PermissionDenied, match=r"^user admin \(admin\) may not client read; "):
        card.show_client(session, w.admin, "1")


def test_list_shows_masked_codes_references_and_balances(session):
    w = world(session)
    client(session, w)
    client(session, w, hetu=HETU_2, name="Pekka Virtanen")
    pay_in(session, 2, 1250)
    clients.close_client(session, w.sanna, "1", closed_on=date(2026, 12, 31))
    rows = clients.list_clients(session, w.fiona)
    assert rows == [
        {"client": 1, "name": "Maija Meikäläinen", "hetu": "010594Y****",
         "reference": "100000010", "status": "closed", "worker": "sanna", "balance_cents": 0},
        {"client": 2, "name": "Pekka Virtanen", "hetu": "150705B****",
         "reference": "100000023", "status": "open", "worker": "sanna", "balance_cents": 1250},
    ]
    assert [r["client"] for r in clients.list_clients(session, w.fiona, status="open")] == [2]


# --- closing ------------------------------------------------------------------------------------


def test_a_client_with_money_is_closed_only_with_a_final_payout(session):
    w = world(session)
    number = client(session, w)
    pay_in(session, number, 12345)
    with pytest.raises(Conflict) as caught:
        clients.close_client(session, w.sanna, "1", closed_on=date(2026, 12, 31))
    assert str(caught.value) == ("client 1 still holds 123,45\u00a0€; pay it out first or close "
                                 "with --final-payout")
    assert session.get(Client, 1).status == "open"
    closed = clients.close_client(session, w.hannu, "100000010", closed_on=date(2026, 12, 31),
                                  final_payout=True)
    assert closed == {"client": 1, "status": "closed", "closed_on": date(2026, 12, 31),
                      "final_payout": True, "balance_cents": 12345, "cancelled": [],
                      "left_open": []}
    stored = session.get(Client, 1)
    assert (stored.status, stored.closed_on, stored.final_payout) == (
        "closed", date(2026, 12, 31), True)
    with pytest.raises(Conflict, match=r"^client 1 was closed on 31\.12\.2026$"):
        clients.close_client(session, w.sanna, "1", closed_on=date(2027, 1, 1))


def test_closing_checks_the_date_and_the_role(session):
    w = world(session)
    client(session, w)
    with pytest.raises(ValidationError, match=r"^closing date 30\.9\.2026 is before the start "
                                              r"1\.10\.2026$"):
        clients.close_client(session, w.sanna, "1", closed_on=date(2026, 9, 30))
    with pytest.raises(PermissionDenied, match=r"^user fiona \(finance\) may not client close;"):
        clients.close_client(session, w.fiona, "1", closed_on=date(2026, 12, 31))


# --- CLI wiring ---------------------------------------------------------------------------------


def test_cli_open_show_list_close(cli):
    cli_world(cli)
    result = cli("--format", "json", "client", "open", "--hetu", HETU, "--name", "Maija M",
                 "--review", CLI_REVIEW,
                 "--iban", CLIENT_IBAN, "--criterion", "sublet", "--worker", "sanna",
                 "--start", "1.10.2026", "--no-guardianship-need", user="sanna")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("valitystili: warning: exclusion questions not answered, recorded "
                             "as not asked: subsidy_against_will, kela_pays_landlord\n")
    opened = json.loads(result.stdout)
    assert (opened["client"], opened["reference"], opened["guardianship_need"],
            opened["kela_pays_landlord"], opened["start_on"]) == (
        1, "100000010", "no", "not asked", "2026-10-01")
    shown = cli.json("client", "show", "RF69 1000 0001 0", user="hannu")
    assert (shown["hetu"], shown["reference"], shown["balance_cents"]) == (
        "010594Y****", "1000 00010", 0)
    assert cli.json("client", "show", "1", "--show-hetu", user="hannu")["hetu"] == HETU
    assert cli.ok("client", "list", user="fiona") == (
        "client  name     hetu         reference  status  worker  balance €\n"
        "------  -------  -----------  ---------  ------  ------  ---------\n"
        "1       Maija M  010594Y****  100000010  open    sanna        0,00\n"
    )
    closed = cli.json("client", "close", "1", "--date", "31.12.2026", "--reason", "moved",
                      user="sanna")
    assert closed == {"client": 1, "status": "closed", "closed_on": "2026-12-31",
                      "final_payout": False, "balance_cents": 0, "cancelled": [],
                      "left_open": [], "period": 1, "reason": "moved",
                      "reason_label": "the client moved away", "note": None, "payout_to": None,
                      "payee": None, "payout_status": "own_account",
                      "payout_approved_by": None}


def test_cli_exclusion_without_reason_is_one_error_line(cli):
    cli_world(cli)
    args = ("client", "open", "--hetu", ELDERLY_HETU, "--name", "Eino", "--iban", CLIENT_IBAN,
            "--review", CLI_REVIEW,
            "--criterion", "evictions", "--worker", "sanna", "--start", "2026-10-01",
            "--no-guardianship-need", "--no-subsidy-against-will", "--no-kela-pays-landlord")
    refused = cli(*args, user="sanna")
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr == (
        "valitystili: error: exclusion applies: the client is elderly (73 on 1.10.2026; direct "
        "debit or a continuing power of attorney first); the service is not meant for them — "
        'to open it anyway give --despite "reason"\n')
    opened = cli(*args, "--despite", "daughter asked; no power of attorney", user="sanna")
    assert opened.exit_code == 0
    assert opened.stderr == (
        "valitystili: warning: opened despite exclusion: the client is elderly (73 on 1.10.2026; "
        "direct debit or a continuing power of attorney first); reason: daughter asked; no "
        "power of attorney\n")


def test_cli_fixed_term_error_and_unknown_client(cli):
    cli_world(cli)
    result = cli("client", "open", "--hetu", HETU, "--name", "M", "--iban", CLIENT_IBAN,
                 "--review", CLI_REVIEW,
                 "--criterion", "rent_debt_fixed_term", "--worker", "sanna", "--start",
                 "1.11.2026", "--until", "1.6.2027", user="sanna")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: criterion rent_debt_fixed_term runs 3–6 months: --until 1.6.2027 "
           "is not between 1.2.2027 and 1.5.2027 (start 1.11.2026)\n")
    missing = cli("client", "show", "7", user="hannu")
    assert (missing.exit_code, missing.stderr) == (2, "valitystili: error: unknown client 7\n")


def test_cli_close_with_money_names_the_balance(cli, backend):
    cli_world(cli)
    cli.ok("client", "open", "--hetu", HETU, "--name", "M", "--iban", CLIENT_IBAN,
           "--review", CLI_REVIEW,
           "--criterion", "sublet", "--worker", "sanna", user="sanna")
    from valitystili.store import db

    engine = db.make_engine(backend.url)
    with db.transaction(db.session_factory(engine)) as session:
        pay_in(session, 1, 5000)
    engine.dispose()
    result = cli("client", "close", "1", "--date", "31.12.2026", "--reason", "moved",
                 user="sanna")
    assert (result.exit_code, result.stderr) == (
        # Money keeps its no-break space on the error line too.
        2, "valitystili: error: client 1 still holds 50,00\u00a0€; pay it out first or close "
           "with --final-payout\n")


def test_cli_asks_the_unanswered_questions_at_a_terminal(cli, monkeypatch):
    from valitystili.cli import commands_people

    cli_world(cli)
    monkeypatch.setattr(commands_people, "_interactive", lambda: True)
    args = ("--format", "json", "client", "open", "--hetu", HETU, "--name", "Maija", "--iban",
            CLIENT_IBAN, "--criterion", "evictions", "--worker", "sanna",
            "--review", CLI_REVIEW,
            "--no-kela-pays-landlord")
    refused = cli(*args, user="sanna", input="y\nn\n")
    assert refused.exit_code == 2
    # CliRunner echoes what was typed after each question.
    assert refused.stderr.splitlines() == [
        "Does the client need guardianship (edunvalvonta)? [y/n]: y",
        "Is labour market subsidy to be paid to the account against the client's will? [y/n]: n",
        "valitystili: error: exclusion applies: the client needs guardianship (edunvalvonta); "
        'the service is not meant for them — to open it anyway give --despite "reason"']
    opened = cli(*args, user="sanna", input="n\nn\n")
    assert opened.exit_code == 0, opened.stderr
    answers = json.loads(opened.stdout)
    assert (answers["guardianship_need"], answers["subsidy_against_will"],
            answers["kela_pays_landlord"]) == ("no", "no", "no")
