"""Honest messages about money in, flags and reconciliation (issue 13), both backends: one
condition is one flag (a suspense line is unmatched_income, not also reconciliation_mismatch),
a resolved flag is not acknowledged, `income assign` books on the day the money came, and the
auditor's reconcile (or anyone's `reconcile --check`) changes nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers import scenario
from helpers.statements import Tx, camt053, ntry, write
from sqlalchemy import func, select

import ledger
from valitystili.base.dates import format_fi_date
from valitystili.flags.raising import raise_flag
from valitystili.store.models import AuditEntry, AuditHead, Flag

CHECKED_ONLY = "; checked only: no flags refreshed, nothing recorded\n"


@pytest.fixture
def suspense(cli, session_factory, tmp_path) -> int:
    """Maija (client 1), and 25,00 € from an unknown payer on 2.11.2026 that matched no client:
    it waits in suspense with its unmatched_income flag. Returns the line's number."""
    with session_factory() as session, session.begin():
        w = scenario.world(session)
        scenario.client(session, w, start_on=date(2026, 11, 1), review_on=date(2027, 2, 1))
    statement = camt053(ntry("25.00", "A-1", Tx(payer="Tuntematon", message="lahjoitus")),
                        statement_id="S-0211", opening_cents=0, closing_cents=2500)
    cli.ok("import", str(write(tmp_path, "0211.xml", statement)), user="fiona")
    lines = cli.json("income", "list", "--unmatched", user="hannu")
    assert [(line["archive_id"], line["amount_cents"]) for line in lines] == [("A-1", 2500)]
    return lines[0]["line"]


def open_flags(session_factory) -> list[tuple[str, str]]:
    with session_factory() as session:
        return [(f.kind, f.subject) for f in session.execute(
            select(Flag).where(Flag.resolved_at.is_(None)).order_by(Flag.id)).scalars()]


def trail(session_factory) -> tuple[int, int]:
    """(audit entries, recorded heads)."""
    with session_factory() as session:
        return (session.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
                session.execute(select(func.count()).select_from(AuditHead)).scalar_one())


# --- one condition, one flag -------------------------------------------------------------------


def test_a_suspense_line_is_one_flag_not_also_a_reconciliation_mismatch(cli, session_factory,
                                                                        suspense):
    result = cli("--format", "json", "reconcile", "--as-of", "10.11.2026", user="fiona")
    assert result.exit_code == 1                   # still a finding: money waits unattributed
    assert [(f["check"], f["subject"]) for f in json.loads(result.stdout)] == [
        ("suspense_old", f"{scenario.CITY_IBAN} A-1")]
    assert open_flags(session_factory) == [("unmatched_income", "A-1")]


# --- a resolved flag; the day the money came ---------------------------------------------------


def test_assigning_books_on_the_lines_day_and_a_resolved_flag_is_not_acknowledged(
        cli, session_factory, suspense):
    flag = cli.json("flags", "--kind", "unmatched_income", user="hannu")[0]["flag"]
    cli.ok("flags", "ack", str(flag), "--comment", "Selvitetään maksajalta", user="hannu")

    assigned = cli.json("income", "assign", str(suspense), "1", user="hannu")
    assert (assigned["booked_on"], assigned["amount_cents"], assigned["flag_resolved"]) == (
        "2026-11-02", 2500, True)
    with session_factory() as session:          # the money is the client's from the day it came
        assert ledger.balance(session, "client:1", as_of=date(2026, 11, 1)) == 0
        assert ledger.balance(session, "client:1", as_of=date(2026, 11, 2)) == 2500
        acks = session.execute(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "flag.ack")).scalar_one()

    refused = cli("flags", "ack", str(flag), "--comment", "Vielä kerran", user="hannu")
    assert (refused.exit_code, refused.stdout, refused.stderr) == (
        2, "", f"valitystili: error: flag {flag} (unmatched_income) resolved itself on "
               f"{format_fi_date(date.today())}: its condition has cleared, there is nothing "
               "to acknowledge\n")
    with session_factory() as session:
        stored = session.get(Flag, flag)
        assert (stored.ack_by, stored.ack_comment) == ("hannu", "Selvitetään maksajalta")
        assert session.execute(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "flag.ack")).scalar_one() == acks


# --- the auditor changes nothing ---------------------------------------------------------------


@pytest.fixture
def stale_arrears(session_factory, suspense) -> None:
    """An arrears flag for client 1 that no obligation backs: a refresh would resolve it."""
    with session_factory() as session, session.begin():
        raise_flag(session, "arrears", "rent:1:2026-11", date(2026, 11, 3), client_id=1,
                   amount_cents=52000, detail="rent due 2026-11-02 unpaid")


@pytest.mark.parametrize(("user", "check"), [("aune", ()), ("fiona", ("--check",))],
                         ids=["auditor", "finance --check"])
def test_a_checking_reconcile_prints_the_findings_and_writes_only_the_view(
        cli, session_factory, stale_arrears, user, check):
    before_flags, before_trail = open_flags(session_factory), trail(session_factory)
    result = cli("--format", "json", "reconcile", "--as-of", "10.11.2026", "--fail-on",
                 "arrears", *check, user=user)
    assert result.exit_code == 1
    assert [(f["check"], f["subject"]) for f in json.loads(result.stdout)][0] == (
        "suspense_old", f"{scenario.CITY_IBAN} A-1")
    assert [f["check"] for f in json.loads(result.stdout)][1:] == ["open_flag"]
    assert result.stderr == ("reconciled as of 10.11.2026: 1 statement, 1 bank account, "
                             f"1 client; 2 findings (open_flag 1, suspense_old 1){CHECKED_ONLY}")
    assert open_flags(session_factory) == before_flags          # nothing raised or resolved
    entries, heads = trail(session_factory)
    assert (entries, heads) == (before_trail[0] + 1, before_trail[1])   # only the view
    with session_factory() as session:
        view = session.execute(select(AuditEntry).order_by(AuditEntry.position.desc())
                               .limit(1)).scalar_one()
        assert (view.actor, view.action, view.client_id, view.subject) == (
            user, "reconcile.view", 1, "as of 2026-11-10")


def test_a_clean_check_writes_nothing_at_all(cli, session_factory, suspense):
    before = trail(session_factory)
    result = cli("reconcile", "--as-of", "3.11.2026", user="aune")
    assert (result.exit_code, result.stderr) == (
        0, "reconciled as of 3.11.2026: 1 statement, 1 bank account, 1 client; no findings"
           f"{CHECKED_ONLY}")
    assert trail(session_factory) == before


def test_finance_reconciles_the_same_day_and_refreshes_the_flags(cli, session_factory,
                                                                 stale_arrears):
    result = cli("reconcile", "--as-of", "10.11.2026", user="fiona")
    assert result.exit_code == 1
    assert open_flags(session_factory) == [("unmatched_income", "A-1")]   # arrears resolved
    assert trail(session_factory)[1] == 1                                 # the head recorded


def test_an_open_flag_finding_is_shown_in_the_reader_s_language(cli, session_factory, suspense):
    """``--fail-on``'s finding words the flag as ``flags`` does; JSON keeps the English."""
    from valitystili.base.i18n import Message

    with session_factory() as session, session.begin():
        raise_flag(session, "arrears", "rent:1:2026-11", date(2026, 11, 3), client_id=1,
                   amount_cents=52000, detail=Message(
                       "{kind} due {day} unpaid, {days} days past due", kind="rent",
                       day="2026-11-02", days=8))
        raise_flag(session, "review_due", "plan:9", date(2026, 11, 3))
    args = ("reconcile", "--as-of", "10.11.2026", "--check", "--fail-on", "arrears",
            "--fail-on", "review_due")
    found = json.loads(cli("--format", "json", *args, user="fiona").stdout)
    assert [f["detail"] for f in found if f["check"] == "open_flag"] == [
        "arrears client 1 rent:1:2026-11: rent due 2026-11-02 unpaid, 8 days past due",
        "review_due plan:9"]
    table = cli("--lang", "fi", "--wide", *args, user="fiona").stdout
    assert ("arrears asiakas 1 rent:1:2026-11: rent, eräpäivä 2026-11-02, maksamatta; päiviä "
            "eräpäivästä: 8") in table
    assert "review_due plan:9" in table
