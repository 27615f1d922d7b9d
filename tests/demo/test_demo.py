"""The demo month: the whole pipeline end to end, checked against the generated people.

Payments go out as pain.001 files, the simulated bank executes them and reports them on
camt.053, the import clears them: at the end ``outgoing`` and ``suspense`` are zero and the
bank holds exactly the clients' money. Over several months the summary's computed lines
(instalments every month, the short client's rent) are checked against the database. Each
client's last letter is in ``letters/``; the summary says what a clean reconciliation means
next to the open flags, gives returned payments in euros and ends with how to look around.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import ledger
from valitystili.base.accounts import client_account
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.money import format_fi
from valitystili.cli import cli
from valitystili.demo import checks
from valitystili.demo.data import people
from valitystili.demo.run import run_demo
from valitystili.store import db
from valitystili.store.models import Client, PaymentOrder


def test_a_demo_month_balances_to_the_cent(tmp_path):
    summary = run_demo(tmp_path / "demo", clients=12, months=1)
    persons = people(12)
    relatives = sum(p.pays_with_reference for p in persons)
    money_in = sum(p.assistance_cents + p.allowance_cents for p in persons) + relatives
    payers = [p for p in persons if not p.short_of_rent]
    short = [p for p in persons if p.short_of_rent]
    assert summary["money_in_cents"] == money_in
    # DESIGN §6 worked example 3: the client short of rent has all of their money paid to it
    assert summary["rent_paid_cents"] == (sum(p.rent_cents for p in payers)
                                          + sum(p.assistance_cents + p.allowance_cents
                                                for p in short))
    assert summary["bills_paid_cents"] == sum(p.electricity_cents or 0 for p in payers)
    assert summary["money_in_cents"] == (summary["rent_paid_cents"] + summary["bills_paid_cents"]
                                         + summary["instalments_paid_cents"]
                                         + summary["held_for_clients_cents"])
    assert (summary["outgoing_cents"], summary["suspense_cents"]) == (0, 0)
    assert summary["bank_balance_cents"] == summary["held_for_clients_cents"]
    assert summary["reconcile"] == "clean"
    assert summary["banking_days"] == len(CALENDAR.banking_days(date(2026, 11, 1), date(2026, 11, 30))) == 21
    # the client who is short of rent: rent and electricity in arrears and short of money
    assert len(short) == 1
    assert summary["open_flags"] == {"arrears": 2, "insufficient_funds": 2}
    files = sorted(p.name for p in (tmp_path / "demo" / "payments").iterdir())
    assert files[0] == "pain001-2026-11-02.xml" and len(files) == summary["payment_files"]
    # Flags are work for people, not errors in the books; then how to look around.
    assert summary["reconcile_means"] == (
        "the books agree with the bank and with themselves to the cent; the 4 open flags are "
        "work for people (a handler follows each one up), not errors in the books")
    assert (summary["look_around"], summary["then"]) == (
        f"export VALITYSTILI_DB={tmp_path / 'demo' / 'demo.db'}",
        "VALITYSTILI_USER=hannu valitystili flags")
    assert list(summary)[-2:] == ["look_around", "then"]


def test_the_demo_writes_each_clients_last_letter(tmp_path):
    summary = run_demo(tmp_path / "demo", clients=12, months=1)
    folder = tmp_path / "demo" / "letters"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"letter-{n:04d}-2026-11{suffix}" for n in range(1, 13) for suffix in (".txt", ".html"))
    assert summary["letters"] == (
        f"{folder}: each client's letter for 2026-11 as text and as a page to print "
        "(letter-0001-2026-11.txt, .html; 12 clients)")
    first, fourth = people(12)[0], people(12)[3]
    text = (folder / "letter-0001-2026-11.txt").read_text(encoding="utf-8")
    # Dated the first banking day after the month, from the demo's sender; each benefit by name.
    assert text.startswith("Vaasan kaupunki, sosiaalipalvelut\n1.12.2026\n\n"
                           "Välitystilin kuukausiote – marraskuu 2026\n\n"
                           f"Hei {first.name},\n")
    for benefit, cents in (("Toimeentulotuki, Kela", first.assistance_cents),
                           ("Asumistuki, Kela", first.allowance_cents)):
        assert any(line.startswith(f"  2.11.2026   {benefit} ") and
                   line.endswith(f" {format_fi(cents)}") for line in text.splitlines())
    assert text.endswith("Ystävällisin terveisin\nHannu Hoitaja, välitystilin hoitaja\n"
                         "Vaasan kaupunki, sosiaalipalvelut\n")
    # The fourth client reads Swedish; the page is the same letter to print.
    swedish = (folder / "letter-0004-2026-11.txt").read_text(encoding="utf-8")
    assert fourth.language == "sv" and swedish.startswith(
        "Vasa stad, socialtjänsten\n1.12.2026\n\nFörmedlingskontots månadsbesked – "
        f"november 2026\n\nHej {fourth.name},\n\nHär är vad som hände med dina pengar i "
        "november 2026.\n")
    assert (folder / "letter-0004-2026-11.html").read_text(encoding="utf-8").startswith(
        '<!DOCTYPE html>\n<html lang="sv">')


BOOKS = "the books agree with the bank and with themselves to the cent"
WORK = "work for people (a handler follows each one up), not errors in the books"


@pytest.mark.parametrize("clean, findings, flags, line", [
    (True, 0, {}, f"{BOOKS}; no flag is open"),
    (True, 0, {"arrears": 1}, f"{BOOKS}; the 1 open flag is {WORK}"),
    (False, 2, {"arrears": 1, "payment_returned": 1},
     ("2 findings: the books and the bank differ; `valitystili reconcile` lists them; "
      f"the 2 open flags are {WORK}")),
])
def test_the_summary_says_what_the_reconciliation_means(clean, findings, flags, line):
    assert checks.reconcile_line(clean, findings, flags) == line


def test_a_closed_payee_account_returns_the_payments_to_the_client(tmp_path):
    summary = run_demo(tmp_path / "demo", clients=51, months=1)
    # client index 50 has a closed account: each instalment sent to it comes back
    assert summary["payments_returned"] >= 1
    assert summary["open_flags"]["payment_returned"] == summary["payments_returned"]
    assert (summary["outgoing_cents"], summary["suspense_cents"]) == (0, 0)
    assert summary["reconcile"] == "clean"
    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo' / 'demo.db'}")
    with db.session_factory(engine)() as session:
        returned = [(client, cents) for client, cents in session.execute(
            select(PaymentOrder.client_id, PaymentOrder.amount_cents)
            .where(PaymentOrder.status == "returned")
            .order_by(PaymentOrder.returned_on, PaymentOrder.id))]
    engine.dispose()
    assert {client for client, _ in returned} == {51}
    assert summary["payments_returned_cents"] == sum(cents for _, cents in returned) > 0
    # Client 51's letter lists each of them and says once why, and what to do.
    letter = (tmp_path / "demo" / "letters" / "letter-0051-2026-11.txt").read_text(encoding="utf-8")
    section = letter.split("\nPalautuneet maksut\n")[1].split("\n\n")[0].splitlines()
    assert [line.split(" ")[-1] for line in section if line.endswith("€")] == [
        format_fi(cents) for _, cents in returned]
    assert section[-3:] == ["              Pankki palautti erän, koska tilisi on suljettu.",
                            "              Raha on taas välitystililläsi.",
                            "              Kerro uusi tilinumerosi sosiaaliohjaajallesi."]
    assert letter.count("Pankki palautti") == 1


def test_demo_command_prints_the_summary_and_exits_0(tmp_path, monkeypatch):
    result = CliRunner().invoke(cli, ["--format", "json", "demo", "--clients", "5",
                                      "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["clients"], summary["reconcile"]) == (5, "clean")
    assert (tmp_path / "d" / "demo.db").exists()
    # The table gives returned payments in euros and ends with how to look around, from the
    # folder the demo ran in (as `valitystili demo` in its default valitystili-demo/).
    monkeypatch.chdir(tmp_path)
    table = CliRunner().invoke(cli, ["demo", "--clients", "5", "--out", "d"])
    assert table.exit_code == 0, table.stderr
    last, then = table.stdout.splitlines()[-2:]
    assert last.split(None, 2) == ["look", "around", "export VALITYSTILI_DB=d/demo.db"]
    assert then.split(None, 1) == ["then", "VALITYSTILI_USER=hannu valitystili flags"]
    euros = format_fi(summary["payments_returned_cents"]).removesuffix("\u00a0€")
    assert [line for line in table.stdout.splitlines()
            if line.startswith("payments returned €")] == [
        f"payments returned €  {euros}"]


def _orders(session, kind: str) -> list[tuple[int, date, int]]:
    return [tuple(row) for row in session.execute(
        select(PaymentOrder.client_id, PaymentOrder.execution_on, PaymentOrder.amount_cents)
        .where(PaymentOrder.kind == kind, PaymentOrder.status != "cancelled")
        .order_by(PaymentOrder.client_id, PaymentOrder.execution_on, PaymentOrder.id))]


def test_three_months_over_may_day_pay_instalments_every_month_and_rent_in_part(
        tmp_path, db_url, session_factory):
    """April-June 2026: 1.5. is closed, so May's benefits and rent move to Monday 4.5."""
    summary = run_demo(tmp_path / "demo", clients=12, months=3, start=date(2026, 4, 1),
                       url=db_url)
    assert summary["reconcile"] == "clean"
    assert (summary["outgoing_cents"], summary["suspense_cents"]) == (0, 0)
    persons = people(12)
    [short] = [p for p in persons if p.short_of_rent]
    with session_factory() as session:
        number = {hetu: n for n, hetu in session.execute(select(Client.id, Client.hetu))}
        instalments = _orders(session, "instalment")
        rent = [(on, cents) for n, on, cents in _orders(session, "rent") if n == number[short.hetu]]
        electricity = [cents for n, _, cents in _orders(session, "electricity")
                       if n == number[short.hetu]]
        short_balance = ledger.balance(session, client_account(number[short.hetu]))
    # every client whose plan adds up had an instalment in each of the three months
    months = {(n, f"{on:%Y-%m}") for n, on, _ in instalments}
    assert all((number[p.hetu], month) in months for p in persons if not p.short_of_rent
               for month in ("2026-04", "2026-05", "2026-06"))
    assert summary["instalment_months"] == ("no client with a covering plan had a month "
                                            "without instalments")
    # the short client: every euro that came in went to rent, but for the electricity paid
    income = short.assistance_cents + short.allowance_cents
    assert income < short.rent_cents
    assert rent[0] == (date(2026, 4, 2), income)     # all there is, on its pay day
    assert sum(cents for _, cents in rent) == 3 * income - sum(electricity)
    assert short_balance == 0
    assert summary["short_rent_paid_cents"] == sum(cents for _, cents in rent)
    assert summary["short_rent_due_cents"] == 3 * short.rent_cents
    # rent stays open after every batch from 2.4., but on 1.6.: May's paid up, June's not yet due
    watched = len(CALENDAR.banking_days(date(2026, 4, 2), date(2026, 6, 30))) - 1
    assert summary["short_of_rent"] == (
        f"1 client short of the rent (plan approved despite it): rent paid in part, "
        f"{format_fi(summary['short_rent_paid_cents'])} of {format_fi(3 * short.rent_cents)} "
        f"due in the run, 3 of 3 rents short on their pay day; no money sat idle: on each of "
        f"the {watched} days a batch left their rent open, their balance after it was 0,00 €")
