"""Every client's letter for a month in one run (issue 16), both backends.

A county's November in one database: clients with Kela's money, rent paid in part, Kela's
share of a rent, a returned payment and money assigned from suspense, a lump sum of Kela's
items shared by two clients, a client closed during the month and one closed before it, fixed
terms, bills, no plan at all, and letters in Finnish, Swedish and English. Reading them all at
once (``client_statements``) gives each client exactly the letter ``client_statement`` gives
them alone; the statements it costs do not grow with the number of clients; and ``report
statements`` writes them into a folder, all or none.
"""

from __future__ import annotations

import json
import random
from datetime import date

import pytest
from helpers.scenario import (
    BILLS_EXAMPLE,
    CITY_IBAN,
    UTILITY,
    WORKED_EXAMPLE,
    client,
    plan,
    world,
)
from oversight.test_reports_world import BANK, Money
from payments.test_statement_counts import Statements
from sqlalchemy import select

from bench.batch_bench import seed
from valitystili.base.errors import NotFound, ValidationError
from valitystili.demo.data import hetu, iban
from valitystili.oversight import letters
from valitystili.people import clients
from valitystili.plans import bills, kela
from valitystili.store import db
from valitystili.store.models import AuditEntry
from valitystili.trust import access, audit, audit_verify, users
from valitystili.trust.auth import ACTOR_KEY, Actor

HANNU = Actor("hannu", "handler")
SANNA = Actor("sanna", "social_worker")
SIRKKA = Actor("sirkka", "social_worker")
DATED = date(2026, 12, 1)
#: Kela usually pays 100,00 € of the 520,00 € rent straight to the landlord.
KELA_PLAN = WORKED_EXAMPLE.replace('amount = "560.00"', 'amount = "460.00"', 1).replace(
    'amount = "520.00"', 'amount = "520.00"\npaid_directly = "100.00"', 1)
FIXED = WORKED_EXAMPLE.replace('mode = "even"', 'amount = "75.00"')


def D(day: int, month: int = 11, year: int = 2026) -> date:
    return date(year, month, day)


@pytest.fixture
def county(session_factory) -> dict[str, int]:
    """The county's November (module docstring): each client's number by what it shows."""
    rng, used = random.Random(16), set()

    def opened(session, w, name: str, **options) -> int:
        return client(session, w, hetu=hetu(rng, used), name=name, iban=iban(rng), **options)

    found = {}
    with session_factory() as session, session.begin():
        w = world(session)
        users.add_user(session, w.admin, "sirkka", "social_worker")
        money = Money(session)
        # Kela's two benefits, rent settled, electricity, Mondays' instalments; a draft and a
        # cancelled order paid nothing.
        found["ordinary"] = n = opened(session, w, "Maija Meikäläinen")
        plan(session, w, n, WORKED_EXAMPLE)
        money.credit(n, 56000, D(2))
        money.credit(n, 38000, D(2))
        rent = money.obligation(n, "rent", 52000, D(2), payee_id=w.landlord,
                                key=f"rent:{n}:2026-11")
        money.order(n, "rent", 52000, D(2), status="cleared", obligation=rent)
        for day in (2, 9, 16, 23, 30):
            money.order(n, "instalment", 7500, D(day), instalment_on=D(day),
                        status="cleared" if day < 30 else "exported")
        money.order(n, "electricity", 4500, D(13), status="cleared", creditor=UTILITY)
        money.order(n, "other", 1000, D(27), status="draft", key=f"order:draft:{n}")
        money.order(n, "other", 1000, D(27), status="cancelled", key=f"order:cancelled:{n}")
        # Swedish, fixed instalments: only 660,00 came; 300,00 of the rent was paid.
        found["short"] = n = opened(session, w, "Sven Ström", language="sv")
        plan(session, w, n, FIXED)
        money.credit(n, 66000, D(2))
        rent = money.obligation(n, "rent", 52000, D(2), payee_id=w.landlord,
                                key=f"rent:{n}:2026-11")
        money.order(n, "rent", 30000, D(2), obligation=rent)
        # English, Kela's decision gives the landlord 150,00 of November's rent.
        found["kela"] = n = opened(session, w, "Emma Ek", language="en")
        plan(session, w, n, KELA_PLAN)
        kela.record_share(session, w.hannu, str(n), (2026, 11), 15000)
        money.credit(n, 46000, D(2))
        money.credit(n, 38000, D(2))
        rent = money.obligation(n, "rent", 37000, D(2), payee_id=w.landlord,
                                key=f"rent:{n}:2026-11")
        rent.direct_cents = 15000
        money.order(n, "rent", 37000, D(2), status="cleared", obligation=rent)
        # A relative's money assigned from suspense; a bill paid from it came back (AC04).
        found["returned"] = n = opened(session, w, "Onni Oja")
        plan(session, w, n, WORKED_EXAMPLE)
        money.credit(n, 94000, D(2))
        line = money.suspense_credit(1000, D(25), payer="Matti Virtanen")
        money.post(f"assign:{line.id}", [("suspense", 1000), (f"client:{n}", -1000)], D(26))
        line.state, line.client_id = "assigned", n
        back = money.order(n, "other", 1000, D(27), key=f"order:other:{n}:back")
        money.post(f"bank:return:{n}", [(BANK, 1000), (f"client:{n}", -1000)], D(30))
        money.line(D(30), 1000, state="returned", ledger_key=f"bank:return:{n}", client_id=n,
                   order_id=back.id, return_reason="AC04", payer="Vaasan Asunnot Oy")
        back.status, back.returned_on = "returned", D(30)
        # Closed on 20.11.: the rest paid to the estate.
        found["closed"] = n = opened(session, w, "Aino Aalto")
        plan(session, w, n, WORKED_EXAMPLE)
        money.credit(n, 94000, D(2))
        money.order(n, "rent", 52000, D(2), status="cleared")
        clients.close_client(session, w.sanna, str(n), closed_on=D(20), final_payout=True)
        money.order(n, "final", 42000, D(23), creditor="Aino Aallon kuolinpesä")
        # Closed in October: no letter for November.
        found["gone"] = n = opened(session, w, "Eino Esko")
        clients.close_client(session, w.sanna, str(n), closed_on=D(20, 10))
        # Fixed terms: one ends in December (the final payout), one on 27.11.
        found["term"] = n = opened(session, w, "Helmi Harju", language="sv",
                                   until_on=D(18, 12))
        plan(session, w, n, WORKED_EXAMPLE)
        money.credit(n, 94000, D(2))
        found["ended"] = n = opened(session, w, "Leevi Lehto", until_on=D(27))
        # Bills: December's electricity bill is paid from the account.
        found["bills"] = n = opened(session, w, "Elsa Eskola", language="en")
        plan(session, w, n, BILLS_EXAMPLE)
        money.credit(n, 56000, D(2))
        bills.add_bill(session, w.hannu, str(n), payee=UTILITY, amount_cents=3000,
                       due_on=D(10, 12), reference="RF18539007547034", today=D(20))
        # No plan; a relative pays; sirkka's client.
        found["no plan"] = n = opened(session, w, "Väinö Virta", language="sv", worker="sirkka")
        money.credit(n, 2000, D(5), payer="Liisa Laine")
        # Kela's lump sum on 16.11., itemised: housing allowance for two clients.
        key = f"itemise:{CITY_IBAN}:LUMP1"
        money.post(key, [(BANK, 8000), (f"client:{found['no plan']}", -5000),
                         (f"client:{found['bills']}", -3000)], D(16))
        money.line(D(16), 8000, state="posted", ledger_key=key, archive_id="LUMP1", payer="KELA")
        for number, cents in ((found["no plan"], 5000), (found["bills"], 3000)):
            item = money.line(D(16), cents, state="posted", ledger_key=key, client_id=number,
                              archive_id=f"LUMP1-{number}", parent="LUMP1", level="item",
                              payer="KELA")
            item.message = "KELA ASUMISTUKI 11/2026"
        # Started in December: no letter for November.
        found["later"] = opened(session, w, "Siiri Salo", start_on=D(1, 12), today=D(20))
    return found


def _with_letters(county: dict[str, int]) -> list[int]:
    return sorted(n for name, n in county.items() if name not in ("gone", "later"))


def test_a_county_month_read_at_once_is_each_clients_own_letter(session_factory, county):
    numbers = _with_letters(county)
    with session_factory() as session, session.begin():
        assert letters.clients_with_letters(session, HANNU, 2026, 11) == numbers
        together = letters.client_statements(session, HANNU, numbers, 2026, 11, today=DATED)
    with session_factory() as session, session.begin():
        alone = [letters.client_statement(session, HANNU, str(n), 2026, 11, today=DATED)
                 for n in numbers]
    assert [letter.client for letter in together] == numbers
    for bulk, single in zip(together, alone, strict=True):
        assert bulk.as_dict() == single.as_dict()
        assert letters.render_text(bulk) == letters.render_text(single)
        assert letters.render_html(bulk) == letters.render_html(single)
    # The world shows every section: the letters differ where the clients do.
    by = {letter.client: letter for letter in together}
    assert {letter.language for letter in together} == {"fi", "sv", "en"}
    assert [(line.amount_cents, line.unpaid_cents, line.month)
            for line in by[county["short"]].paid] == [(30000, 22000, "2026-11")]
    assert [(line.on, line.amount_cents) for line in by[county["short"]].arrears] == [
        (D(2), 22000)]
    assert [(line.amount_cents, line.rent_cents, line.kela_cents)
            for line in by[county["kela"]].paid] == [(37000, 52000, 15000)]
    assert [(line.kind, line.text, line.amount_cents, line.benefit)
            for line in by[county["returned"]].received] == [
        ("payer", "Kela", 94000, None), ("payer", "Matti Virtanen", 1000, None)]
    assert [(line.amount_cents, line.reason) for line in by[county["returned"]].returned] == [
        (1000, "AC04")]
    assert [(line.kind, line.text, line.amount_cents, line.benefit)
            for line in by[county["no plan"]].received] == [
        ("payer", "Liisa Laine", 2000, None), ("payer", "Kela", 5000, "housing_allowance")]
    assert [(line.kind, line.amount_cents, line.benefit)
            for line in by[county["bills"]].received] == [
        ("payer", 56000, "basic_social_assistance"), ("payer", 3000, "housing_allowance")]
    closed = by[county["closed"]]
    assert (closed.coming, closed.last_day) == (None, D(20))
    assert [(line.kind, line.text, line.amount_cents) for line in closed.instalments] == [
        ("final", "Aino Aallon kuolinpesä", 42000)]
    assert (by[county["ended"]].last_day, by[county["ended"]].coming) == (D(27), ())
    # The term ends on Friday 18.12.: the last Monday before it takes the remainder of
    # 940,00 + 940,00 - 520,00 - 45,00.
    assert [(line.on, line.kind, line.amount_cents) for line in by[county["term"]].coming] == [
        (D(2, 12), "rent", 52000), (D(7, 12), "instalment", 65750),
        (D(14, 12), "instalment", 65750), (D(15, 12), "electricity", 4500)]
    assert [(line.on, line.kind, line.amount_cents) for line in by[county["bills"]].coming
            if line.kind == "electricity"] == [(D(10, 12), "electricity", 3000)]
    assert by[county["no plan"]].coming == ()


def test_each_letter_is_one_audited_view_and_the_chain_holds(session_factory, county):
    numbers = _with_letters(county)
    with session_factory() as session, session.begin():
        before = audit.head(session)
        letters.client_statements(session, HANNU, numbers, 2026, 11, language="sv",
                                  output="html", today=DATED)
    with session_factory() as session:
        entries = session.execute(select(AuditEntry).where(
            AuditEntry.position > before.position).order_by(AuditEntry.position)).scalars().all()
        assert [(e.actor, e.action, e.client_id, e.subject, json.loads(e.detail))
                for e in entries] == [
            ("hannu", "view", n, "statement 2026-11",
             {"month": "2026-11", "language": "sv", "output": "html"}) for n in numbers]
        assert [e.position for e in entries] == list(
            range(before.position + 1, before.position + 1 + len(numbers)))
        assert [e.prev_hash for e in entries] == [before.hash, *(e.hash for e in entries[:-1])]
        assert audit_verify.verify(session) == []


def test_letters_given_a_part_at_a_time_are_the_same_letters_and_views(session_factory, county,
                                                                       monkeypatch):
    numbers = _with_letters(county)
    with session_factory() as session, session.begin():
        together = letters.client_statements(session, HANNU, numbers, 2026, 11, today=DATED)
    monkeypatch.setattr(letters, "LETTERS_PER_PART", 3)
    with session_factory() as session, session.begin():
        before = audit.head(session)
        given = letters.each_client_statement(session, HANNU, numbers, 2026, 11, today=DATED)
        first = next(given)
        # The first part's three views are recorded before its first letter is given.
        assert audit.head(session).position == before.position + 3
        in_parts = [first, *given]
    assert [letter.as_dict() for letter in in_parts] == [letter.as_dict() for letter in together]
    with session_factory() as session:
        entries = session.execute(select(AuditEntry).where(
            AuditEntry.position > before.position).order_by(AuditEntry.position)).scalars().all()
        assert [(e.client_id, e.subject) for e in entries] == [
            (n, "statement 2026-11") for n in numbers]
        assert audit_verify.verify(session) == []


def test_a_refused_client_stops_the_letters_before_the_first_part(session_factory, county,
                                                                  monkeypatch):
    monkeypatch.setattr(letters, "LETTERS_PER_PART", 2)
    with session_factory() as session, session.begin():
        before = audit.head(session)
        given = letters.each_client_statement(
            session, HANNU, [*_with_letters(county), county["gone"]], 2026, 11)
        with pytest.raises(ValidationError, match=r"client \d+ was closed on 20\.10\.2026"):
            next(given)
        assert audit.head(session) == before


def test_the_refusals_of_a_month_of_letters(session_factory, county):
    numbers = _with_letters(county)
    with session_factory() as session, session.begin():
        with pytest.raises(ValidationError, match=r"client \d+ was closed on 20\.10\.2026"):
            letters.client_statements(session, HANNU, [*numbers, county["gone"]], 2026, 11)
        with pytest.raises(NotFound, match="unknown client 999"):
            letters.client_statements(session, HANNU, [numbers[0], 999], 2026, 11)
    with session_factory() as session, session.begin():
        # Need to know: sanna sees her own clients only; sirkka's client is refused by name.
        session.info[ACTOR_KEY] = SANNA
        assert letters.clients_with_letters(session, SANNA, 2026, 11) == [
            n for n in numbers if n != county["no plan"]]
        with pytest.raises(access.NotYourClient):
            letters.client_statements(session, SANNA, numbers, 2026, 11)


# --- the statements do not grow with the clients ------------------------------------------------


def _statements_for_letters(url: str, clients_count: int) -> int:
    """The statements ``client_statements`` sends for October's letters of every client of the
    batch benchmark's world (``bench.batch_bench.seed``) with ``clients_count`` clients."""
    seed(url, clients_count, 1)
    engine = db.make_engine(url)
    counter = Statements(engine)
    try:
        with db.session_factory(engine)() as session, session.begin():
            counter.counting = True
            written = letters.client_statements(session, HANNU, range(1, clients_count + 1),
                                                2026, 10, today=DATED)
            counter.counting = False
        assert len(written) == clients_count
        assert all(letter.paid and letter.coming for letter in written)
        return counter.count
    finally:
        engine.dispose()


def test_a_month_of_letters_costs_as_many_statements_for_many_clients_as_for_few(
        backend, second_url):
    few = _statements_for_letters(backend.url, 2)
    many = _statements_for_letters(second_url, 40)
    assert many == few, f"letters of 2 clients: {few} statements, of 40: {many}"


# --- the command -------------------------------------------------------------------------------


def _views(session_factory) -> int:
    with session_factory() as session:
        return len(session.execute(select(AuditEntry.id).where(
            AuditEntry.action == "view", AuditEntry.subject == "statement 2026-11")).all())


def test_report_statements_writes_every_letter_of_the_month(cli, county, session_factory,
                                                            tmp_path):
    numbers = _with_letters(county)
    out = tmp_path / "kirjeet"
    result = cli("report", "statements", "--month", "2026-11", "--out", str(out),
                 "--date", "1.12.2026", user="hannu")
    assert (result.exit_code, result.stderr) == (0, f"wrote {len(numbers)} letters to {out}\n")
    with session_factory() as session, session.begin():
        expected = {letters.letter_name(letter.client, 2026, 11, "html"):
                    letters.render_html(letter) for letter in letters.client_statements(
                        session, HANNU, numbers, 2026, 11, today=DATED)}
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == expected
    assert sorted(expected) == [f"letter-{n:04d}-2026-11.html" for n in numbers]
    # The text in English, and the files written as JSON.
    written = cli.json("report", "statements", "--month", "2026-11", "--out", str(out),
                       "--text", "--language", "en", "--date", "1.12.2026", user="hannu")
    assert written == [{"client": n, "file": str(out / f"letter-{n:04d}-2026-11.txt")}
                       for n in numbers]
    with session_factory() as session, session.begin():
        first = letters.client_statement(session, HANNU, str(numbers[0]), 2026, 11, "en",
                                         today=DATED)
    assert (out / f"letter-{numbers[0]:04d}-2026-11.txt").read_text(
        encoding="utf-8") == letters.render_text(first)


def test_report_statements_refuses_an_existing_letter_and_writes_nothing(cli, county,
                                                                         session_factory,
                                                                         tmp_path):
    numbers = _with_letters(county)
    out = tmp_path / "kirjeet"
    out.mkdir()
    taken = out / f"letter-{numbers[2]:04d}-2026-11.html"
    taken.write_text("last month's", encoding="utf-8")
    views = _views(session_factory)
    result = cli("report", "statements", "--month", "2026-11", "--out", str(out), user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {taken} already exists (use --force to replace it)\n")
    assert [(p.name, p.read_text(encoding="utf-8")) for p in out.iterdir()] == [
        (taken.name, "last month's")]
    assert _views(session_factory) == views
    cli.ok("report", "statements", "--month", "2026-11", "--out", str(out), "--force",
           user="hannu")
    assert len(list(out.iterdir())) == len(numbers) and "last month's" not in taken.read_text(
        encoding="utf-8")
    assert _views(session_factory) == views + len(numbers)


def test_report_statements_refusals(cli, county, tmp_path):
    out = tmp_path / "kirjeet"
    refused = cli("report", "statements", "--month", "2026-11", "--out", str(out), user="admin")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: user admin (admin) may not report; allowed roles: auditor, "
           "finance, handler, social_worker\n")
    bad = cli("report", "statements", "--month", "11/2026", "--out", str(out), user="hannu")
    assert (bad.exit_code, bad.stderr) == (
        2, ("valitystili: error: Invalid value for '--month': month '11/2026' is not in the "
            "form 2026-11\n"))
    assert not out.exists()
