"""Names, messages and free texts are checked where they enter (issue 9, items 7 and 12).

A name a payment file cannot carry used to be accepted and then stopped the whole approved batch
at export. Now hidden characters are refused at entry, other letters get their payment form
(stored and shown), and what has none is refused with one line.
"""

from __future__ import annotations

from datetime import date

import pytest
from helpers import scenario
from lxml import etree
from helpers.scenario import CITY_IBAN, CLI_REVIEW, CLIENT_IBAN, HETU, LANDLORD_IBAN, cli_world
from sqlalchemy import func, select

import ledger
from valitystili.base.errors import ValidationError
from valitystili.base.text import clean_line, lenient_payment_name, payment_form
from valitystili.flags import raising as flags
from valitystili.store.models import AuditEntry, Bill, Client, Flag, Payee, PlanItem

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}

#: These plans are set through the CLI on the real date: the review is a year ahead.
NEXT_YEAR_REVIEW = f"review = {date.today().year + 1}-06-01\n"

RENT_BY_MESSAGE = NEXT_YEAR_REVIEW + """\
[[income]]
source = "Kela"
kind = "basic_social_assistance"
amount = "940.00"
schedule = "FREQ=MONTHLY;BYMONTHDAY=1"

[[pay]]
kind = "rent"
payee = "Łódź Asunnot Oy"
amount = "520.00"
due = "FREQ=MONTHLY;BYMONTHDAY=2"
message = "Vuokra – “Wałęsa” 11/2026"

[instalments]
schedule = "FREQ=WEEKLY;BYDAY=MO"
mode = "even"
"""


def open_client(cli, name: str, hetu: str = HETU):
    return cli("client", "open", "--hetu", hetu, "--name", name, "--iban", CLIENT_IBAN,
               "--review", CLI_REVIEW,
               "--criterion", "evictions", "--worker", "sanna", "--start", "1.10.2026",
               "--no-guardianship-need", "--no-subsidy-against-will", "--no-kela-pays-landlord",
               user="sanna")


def counts(session_factory) -> tuple[int, int, int]:
    with session_factory() as session:
        return tuple(session.execute(select(func.count()).select_from(table)).scalar_one()
                     for table in (Client, Payee, AuditEntry))


@pytest.fixture
def world_cli(cli):
    cli_world(cli)
    return cli


# --- the payment form -----------------------------------------------------------------------------


@pytest.mark.parametrize("typed, paid", [
    ("Łukasz Wałęsa", "Lukasz Walesa"),
    ("Nguyễn Thị Ánh", "Nguyen Thi Ánh"),           # ễ → e; Á is in ISO-8859-15 and stays
    ("Äänekosken Åsunnot Öy", "Äänekosken Åsunnot Öy"),
    ("Müller-Straße, Žilina, Šimek, 5 €", "Müller-Straße, Žilina, Šimek, 5 €"),
    ("Đorđe Ħamrun ıssız", "Dorde Hamrun issiz"),
    ("O’Brien – “Vuokra” …", "O'Brien - \"Vuokra\" ..."),
    ("ﬁnanssi ＡＢ", "finanssi AB"),
])
def test_the_payment_form_keeps_latin_9_and_transliterates_the_rest(typed, paid):
    assert payment_form(clean_line(typed, "name"), "name") == paid


def test_a_letter_without_a_latin_form_is_refused_by_name():
    with pytest.raises(ValidationError) as refused:
        payment_form("Олена", "client name")
    assert str(refused.value) == (
        "client name contains 'О' U+041E (CYRILLIC CAPITAL LETTER O), which a payment file "
        "cannot carry (ISO-8859-15) and has no Latin transliteration; write it in Latin letters")


def test_names_stored_before_the_check_get_a_lenient_payment_form():
    assert lenient_payment_name("Łukasz Wałęsa") == "Lukasz Walesa"
    assert lenient_payment_name("Олена Ł\u202e") == "????? L"
    assert lenient_payment_name("A" * 100) == "A" * 70


# --- clients and payees through the command line --------------------------------------------------


def test_a_polish_client_is_paid_under_the_transliterated_name(world_cli, session_factory,
                                                              tmp_path):
    cli = world_cli
    added = cli("payee", "add", "--name", "Łódź Asunnot Oy", "--iban", LANDLORD_IBAN,
                "--kind", "landlord", user="hannu")
    assert added.stderr == ("valitystili: note: payment files carry the payee name as "
                            "'Lódz Asunnot Oy'\n")
    opened = open_client(cli, "Łukasz  Wałęsa")
    assert opened.exit_code == 0, opened.stderr
    assert opened.stderr == ("valitystili: note: payment files carry the client's name as "
                             "'Lukasz Walesa'\n")
    shown = cli.json("client", "show", "1", user="hannu")
    assert (shown["name"], shown["payment_name"]) == ("Łukasz Wałęsa", "Lukasz Walesa")
    assert ("name                  Łukasz Wałęsa\n"
            "payment name          Lukasz Walesa\n") in cli.ok("client", "show", "1", user="hannu")

    with session_factory() as session, session.begin():
        scenario.plan(session, scenario.world_actors(), 1, RENT_BY_MESSAGE,
                      effective_on=date(2026, 11, 1), today=date(2026, 10, 20))
        ledger.post(session, "kela:1", [(f"bank:{CITY_IBAN}", 94000), ("client:1", -94000)],
                    date(2026, 11, 2))
        stored_message = session.execute(select(PlanItem.message)).scalar_one()
    assert stored_message == 'Vuokra - "Walesa" 11/2026'

    cli.ok("batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    cli.ok("batch", "approve", "1", user="hilla")
    out = tmp_path / "maksut.xml"
    cli.ok("batch", "export", "1", "--out", str(out), "--yes", user="fiona")
    root = etree.fromstring(out.read_bytes())
    transfers = [(t.findtext("p:Cdtr/p:Nm", namespaces=NS),
                  t.findtext("p:Amt/p:InstdAmt", namespaces=NS),
                  t.findtext("p:RmtInf/p:Ustrd", namespaces=NS))
                 for t in root.iterfind(".//p:CdtTrfTxInf", NS)]
    assert transfers == [
        ("Lódz Asunnot Oy", "520.00", 'Vuokra - "Walesa" 11/2026'),
        ("Lukasz Walesa", "84.00", "Välitystili 2.11.2026"),
    ]


@pytest.mark.parametrize("name, error", [
    ("Evil\u202eName", "client name contains the invisible formatting character U+202E "
                       "(RIGHT-TO-LEFT OVERRIDE)"),
    ("Maija\x00Meikäläinen", "client name contains the control character U+0000 (NUL)"),
    ("Maija\nMeikäläinen", "client name contains a line break U+000A (LINE FEED)"),
    ("Maija\u200bMeikäläinen", "client name contains the invisible formatting character U+200B "
                               "(ZERO WIDTH SPACE)"),
    ("Maija\u2028Meikäläinen", "client name contains a line break U+2028 (LINE SEPARATOR)"),
    (" \u00a0 ", "client name is empty"),
    ("Олена Петренко", "client name contains 'О' U+041E (CYRILLIC CAPITAL LETTER O), which a "
                       "payment file cannot carry (ISO-8859-15) and has no Latin "
                       "transliteration; write it in Latin letters"),
    ("Maija " + "Meikäläinen" * 6, "client name has 72 characters; a payment file takes at "
                                   "most 70"),
])
def test_a_name_that_cannot_be_paid_is_refused_at_opening_and_nothing_is_written(
        world_cli, session_factory, name, error):
    before = counts(session_factory)
    refused = open_client(world_cli, name)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr == f"valitystili: error: {error}\n"
    assert counts(session_factory) == before


def test_a_hidden_character_in_a_payee_name_is_refused(world_cli, session_factory):
    before = counts(session_factory)
    refused = world_cli("payee", "add", "--name", "Vuokra\u202e yO", "--iban", LANDLORD_IBAN,
                        user="hannu")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: payee name contains the invisible formatting character U+202E "
           "(RIGHT-TO-LEFT OVERRIDE)\n")
    assert counts(session_factory) == before


def test_payee_list_shows_the_payment_name_only_where_it_differs(world_cli):
    world_cli.ok("payee", "add", "--name", "Wałęsa Kiinteistöt", "--iban", LANDLORD_IBAN,
                 user="hannu")
    listed = world_cli.json("payee", "list", user="hannu")
    assert [(p["name"], p["payment_name"]) for p in listed] == [
        ("Vaasan Asunnot Oy", None), ("Vaasan Sähkö Oy", None),
        ("Wałęsa Kiinteistöt", "Walesa Kiinteistöt")]
    table = world_cli.ok("payee", "list", user="hannu").splitlines()
    assert table[2:] == [
        "1      Vaasan Asunnot Oy                       FI21 1234 5600 0007 85  NDEAFIHH  landlord",
        "2      Vaasan Sähkö Oy                         FI49 5000 9420 0287 30  OKOYFIHH  utility",
        "3      Wałęsa Kiinteistöt  Walesa Kiinteistöt  FI21 1234 5600 0007 85  NDEAFIHH  other",
    ]


BILLS_PLAN = scenario.BILLS_EXAMPLE.replace("review = 2027-02-01\n", NEXT_YEAR_REVIEW)


def bills_world(cli, tmp_path):
    cli_world(cli)
    assert open_client(cli, "Maija Meikäläinen").exit_code == 0
    path = tmp_path / "plan.toml"
    path.write_text(BILLS_PLAN, encoding="utf-8")
    cli.ok("plan", "set", "1", "--file", str(path), "--effective", "1.11.2026", user="sanna")
    cli.ok("plan", "approve", "1", user="hannu")


def test_a_bill_message_is_stored_in_its_payment_form_and_the_command_says_so(cli, tmp_path,
                                                                              session_factory):
    bills_world(cli, tmp_path)
    added = cli("--format", "json", "bill", "add", "1", "--payee", "Vaasan Sähkö Oy",
                "--amount", "45,20", "--due", "15.12.2026",
                "--message", "Lasku “marraskuu” – Łódź", user="hannu")
    assert added.exit_code == 0, added.stderr
    assert added.stderr == ("valitystili: note: bill: message stored as "
                            "'Lasku \"marraskuu\" - Lódz' for the payment file\n")
    with session_factory() as session:
        assert session.execute(select(Bill.message)).scalar_one() == 'Lasku "marraskuu" - Lódz'
    # Typed again as first written, it is the same bill.
    again = cli("bill", "add", "1", "--payee", "Vaasan Sähkö Oy", "--amount", "45,20",
                "--due", "15.12.2026", "--message", "Lasku “marraskuu” – Łódź", user="hannu")
    assert again.exit_code == 2
    assert "is already entered" in again.stderr


@pytest.mark.parametrize("message, error", [
    ("Lasku\n11/2026", "bill: message contains a line break U+000A (LINE FEED)"),
    ("Lasku \u202e6202/11", "bill: message contains the invisible formatting character U+202E "
                            "(RIGHT-TO-LEFT OVERRIDE)"),
    ("Счёт 11/2026", "bill: message contains 'С' U+0421 (CYRILLIC CAPITAL LETTER ES), which a "
                     "payment file cannot carry (ISO-8859-15) and has no Latin "
                     "transliteration; write it in Latin letters"),
])
def test_a_bill_message_no_payment_file_can_carry_is_refused(cli, tmp_path, session_factory,
                                                             message, error):
    bills_world(cli, tmp_path)
    refused = cli("bill", "add", "1", "--payee", "Vaasan Sähkö Oy", "--amount", "45,20",
                  "--due", "15.12.2026", "--message", message, user="hannu")
    assert (refused.exit_code, refused.stderr) == (2, f"valitystili: error: {error}\n")
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(Bill)).scalar_one() == 0


def test_a_plan_message_is_stored_in_its_payment_form_and_plan_set_says_so(world_cli, tmp_path,
                                                                         session_factory):
    cli = world_cli
    cli.ok("payee", "add", "--name", "Łódź Asunnot Oy", "--iban", LANDLORD_IBAN, user="hannu")
    assert open_client(cli, "Maija Meikäläinen").exit_code == 0
    path = tmp_path / "plan.toml"
    path.write_text(RENT_BY_MESSAGE.replace('payee = "Łódź Asunnot Oy"',
                                            'payee = "lódz asunnot oy"'), encoding="utf-8")
    result = cli("plan", "set", "1", "--file", str(path), "--effective", "1.11.2026",
                 user="sanna")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("valitystili: note: plan: pay 1: message stored as "
                             "'Vuokra - \"Walesa\" 11/2026' for the payment file\n")
    with session_factory() as session:
        item = session.execute(select(PlanItem)).scalar_one()
        payee = session.get(Payee, item.payee_id)
    assert (payee.name, item.message) == ("Łódź Asunnot Oy", 'Vuokra - "Walesa" 11/2026')


# --- free texts -----------------------------------------------------------------------------------


@pytest.fixture
def flag(world_cli, session_factory) -> int:
    with session_factory() as session, session.begin():
        return flags.raise_flag(session, "unmatched_income", "line:1", date(2026, 11, 2),
                                amount_cents=1000).id


def ack_comment(session_factory, flag_id: int) -> str | None:
    with session_factory() as session:
        return session.get(Flag, flag_id).ack_comment


def test_a_comment_over_the_free_text_limit_is_refused_and_the_flag_stays(world_cli, flag,
                                                                          session_factory):
    refused = world_cli("flags", "ack", str(flag), "--comment", "x" * 2001, user="hannu")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: comment has 2001 characters; at most 2000 "
           "(setting free_text_max_chars)\n")
    assert ack_comment(session_factory, flag) is None
    world_cli.ok("flags", "ack", str(flag), "--comment", "x" * 2000, user="hannu")
    assert ack_comment(session_factory, flag) == "x" * 2000


def test_a_comment_keeps_its_lines_but_not_hidden_characters(world_cli, flag, session_factory):
    world_cli.ok("flags", "ack", str(flag), "--comment", "Soitettu Kelaan.\r\nOdotetaan  päätöstä.",
                 user="hannu")
    assert ack_comment(session_factory, flag) == "Soitettu Kelaan.\nOdotetaan päätöstä."
    refused = world_cli("flags", "ack", str(flag), "--comment", "ok\x1b[2J", user="hannu")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: comment contains the control character U+001B (ESCAPE)\n")
    assert ack_comment(session_factory, flag) == "Soitettu Kelaan.\nOdotetaan päätöstä."


def test_reasons_are_free_texts_too(world_cli, session_factory):
    before = counts(session_factory)
    refused = world_cli("client", "open", "--hetu", scenario.ELDERLY_HETU, "--name", "Erkki",
                        "--review", CLI_REVIEW,
                        "--iban", CLIENT_IBAN, "--criterion", "evictions", "--worker", "sanna",
                        "--no-guardianship-need", "--no-subsidy-against-will",
                        "--no-kela-pays-landlord", "--despite", "y" * 2001, user="sanna")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: --despite reason has 2001 characters; at most 2000 "
           "(setting free_text_max_chars)\n")
    assert counts(session_factory) == before


# --- names stored before the check -----------------------------------------------------------------


def test_migration_0005_gives_stored_names_their_payment_form(backend):
    from alembic import command
    from sqlalchemy import text as sql

    from valitystili.store import db

    engine = db.make_engine(backend.url)
    try:
        db.upgrade(engine, "0004")
        with engine.begin() as connection:
            connection.execute(sql(
                "INSERT INTO payees (id, name, iban, kind, created_by) VALUES "
                "(1, 'Łódź Asunnot Oy', :iban, 'landlord', 'x'), "
                "(2, 'Vaasan Sähkö Oy', :iban, 'utility', 'x')"), {"iban": LANDLORD_IBAN})
            connection.execute(sql(
                "INSERT INTO clients (id, hetu, name, iban, language, criterion, worker, "
                "start_on, reference, rf_reference, ledger_code, exclusions, status, "
                "final_payout, created_by) VALUES (1, :hetu, :name, :iban, 'fi', 'evictions', "
                "'sanna', '2026-10-01', '100000010', 'RF69100000010', 'client:1', '{}', 'open', "
                ":no, 'sanna')"),
                {"hetu": HETU, "name": "Олена Wałęsa\u202e", "iban": CLIENT_IBAN, "no": False})
        db.upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(sql("SELECT payment_name FROM payees ORDER BY id")
                                      ).scalars().all() == ["Lódz Asunnot Oy", "Vaasan Sähkö Oy"]
            assert connection.execute(sql("SELECT payment_name FROM clients")).scalar_one() == (
                "????? Walesa")
        with engine.begin() as connection:
            command.downgrade(db.alembic_config(connection), "0004")
        with engine.connect() as connection:
            assert connection.execute(sql("SELECT name FROM clients")).scalar_one() == (
                "Олена Wałęsa\u202e")
    finally:
        engine.dispose()
