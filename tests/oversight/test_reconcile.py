"""Reconciliation on stored data, both backends: a clean November, each check's finding, the
mismatch flag, --fail-on, and the command's output and exit status."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import CITY_IBAN, WORKED_EXAMPLE, client, plan, world
from sqlalchemy import select, text, update
from oversight.test_reports_world import BANK, Money

import ledger
from valitystili.base.errors import PermissionDenied, ValidationError
from valitystili.base.findings import Finding
from valitystili.oversight import reconcile
from valitystili.store.models import AuditEntry, Flag, Statement
from valitystili.trust import audit_verify
from valitystili.trust.auth import Actor

FIONA = Actor("fiona", "finance")
D = lambda day, month=11: date(2026, month, day)  # noqa: E731


@pytest.fixture
def november(session_factory):
    """Maija's 2.11.2026: Kela's 560,00 + 380,00 in, rent 520,00 and an instalment of 75,00
    paid and seen leaving the bank, the day's statement closing at 345,00."""
    with session_factory() as session, session.begin():
        w = world(session)
        number = client(session, w)
        plan(session, w, number, WORKED_EXAMPLE)
        money = Money(session)
        money.credit(number, 56000, D(2))
        money.credit(number, 38000, D(2))
        money.order(number, "rent", 52000, D(2), status="cleared")
        money.order(number, "instalment", 7500, D(2), status="cleared", instalment_on=D(2))
        money.close_day(D(2))
    return number


def findings(session, as_of, **kwargs):
    return [f.row() for f in reconcile.check_all(session, as_of, **kwargs)]


def open_flags(session, kind):
    return [(f.subject, f.amount_cents, f.detail) for f in session.execute(
        select(Flag).where(Flag.kind == kind, Flag.resolved_at.is_(None)).order_by(Flag.id)).scalars()]


# --- the clean case and the command ----------------------------------------------------------


def test_a_clean_november_has_no_findings(session_factory, november):
    with session_factory() as session, session.begin():
        result = reconcile.reconcile(session, FIONA, D(3))
        assert result.findings == ()
        assert result.summary() == ("reconciled as of 3.11.2026: 1 statement, 1 bank account, "
                                    "1 client; no findings")
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "reconcile")).scalars().all()
        assert [(e.actor, e.subject, json.loads(e.detail)) for e in entries] == [
            ("fiona", "as of 2026-11-03", {"as_of": "2026-11-03", "findings": 0, "by_check": {},
                                            "flags_refreshed": True, "flags_as_of": "2026-11-03",
                                            "fail_on": []})]


def test_clean_run_of_the_command_exits_0_with_a_summary(cli, session_factory, november):
    result = cli("reconcile", "--as-of", "3.11.2026", user="fiona")
    assert (result.exit_code, result.stdout) == (0, "(none)\n")
    assert result.stderr == ("reconciled as of 3.11.2026: 1 statement, 1 bank account, 1 client; "
                             "no findings\n")
    as_json = cli("--format", "json", "reconcile", "--as-of", "2026-11-03", user="fiona")
    assert (as_json.exit_code, json.loads(as_json.stdout)) == (0, [])


def test_a_statement_that_disagrees_with_the_ledger_exits_1_naming_it(cli, session_factory, november):
    with session_factory() as session, session.begin():
        session.execute(update(Statement).values(closing_cents=35500))
    result = cli("--format", "json", "reconcile", "--as-of", "2026-11-03", user="fiona")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{
        "check": "statement_balance", "subject": f"{CITY_IBAN} 2026-11-02",
        "detail": "bank closing balance 355,00\u00a0€, ledger 345,00\u00a0€ "
                  "(statement S-2026-11-02)",
        "amount_cents": -1000}]
    assert result.stderr == ("reconciled as of 3.11.2026: 1 statement, 1 bank account, 1 client; "
                             "1 findings (statement_balance 1)\n")
    table = cli("reconcile", "--as-of", "2026-11-03", user="fiona")
    assert table.exit_code == 1
    assert table.stdout.splitlines()[2] == (      # the detail cut to fit 100 characters
        "statement_balance  FI7433010001222090 2026-11-02  bank closing balance 355,00\u00a0€, "
        "ledger…      -10,00")
    wide = cli("reconcile", "--as-of", "2026-11-03", "--wide", user="fiona")
    assert wide.stdout.splitlines()[2] == (
        "statement_balance  FI7433010001222090 2026-11-02  bank closing balance 355,00\u00a0€, "
        "ledger 345,00\u00a0€ (statement S-2026-11-02)    -10,00")
    csv_out = cli("--format", "csv", "reconcile", "--as-of", "2026-11-03", user="fiona")
    assert csv_out.stdout.splitlines() == [
        "check,subject,detail,amount_eur",
        'statement_balance,FI7433010001222090 2026-11-02,"bank closing balance 355,00\u00a0€, '
        'ledger 345,00\u00a0€ (statement S-2026-11-02)",-10.00']


def test_a_mismatch_raises_a_flag_that_resolves_when_clean(session_factory, november):
    with session_factory() as session, session.begin():
        session.execute(update(Statement).values(closing_cents=35500))
        reconcile.reconcile(session, FIONA, D(3))
        assert open_flags(session, "reconciliation_mismatch") == [(
            f"statement_balance:{CITY_IBAN} 2026-11-02", -1000,
            "bank closing balance 355,00\u00a0€, ledger 345,00\u00a0€ (statement S-2026-11-02)")]
    with session_factory() as session, session.begin():
        session.execute(update(Statement).values(closing_cents=34500))   # the bank corrected it
        result = reconcile.reconcile(session, FIONA, D(4))
        assert result.clean
        assert result.flag_summary["reconciliation_mismatch"] == {"open": 0, "resolved": 1}
        flag = session.execute(select(Flag).where(Flag.kind == "reconciliation_mismatch")).scalar_one()
        assert (flag.first_seen, flag.last_seen, flag.resolved_at) == (D(3), D(3), D(4))


def test_reconcile_needs_the_reconcile_role(session_factory, november, cli):
    with session_factory() as session:
        with pytest.raises(PermissionDenied):
            reconcile.reconcile(session, Actor("hannu", "handler"), D(3))
    result = cli("reconcile", user="hannu")
    assert result.exit_code == 2
    assert result.stderr == ("valitystili: error: user hannu (handler) may not reconcile; "
                             "allowed roles: admin, auditor, finance\n")


def test_unknown_fail_on_kind_is_a_usage_error(cli, november):
    result = cli("reconcile", "--fail-on", "bogus", user="fiona")
    assert result.exit_code == 2
    assert result.stderr.startswith("valitystili: error: Invalid value for '--fail-on': 'bogus'")
    with pytest.raises(ValidationError):
        reconcile.check_kinds(["bogus"])


# --- each check ------------------------------------------------------------------------------


def test_statement_balance_is_judged_at_the_end_of_its_closing_day(session_factory, november):
    with session_factory() as session, session.begin():
        money = Money(session)
        money.credit(1, 10000, D(3), payer="Ystävä")        # after the 2.11. statement
        assert findings(session, D(3)) == []
        money.close_day(D(3), closing_cents=44000)           # 345 + 100 = 445 in the ledger
        assert findings(session, D(3)) == [{
            "check": "statement_balance", "subject": f"{CITY_IBAN} 2026-11-03",
            "detail": "bank closing balance 440,00\u00a0€, ledger 445,00\u00a0€ "
                      "(statement S-2026-11-03)",
            "amount_cents": 500}]
        assert findings(session, D(2)) == []                 # a later statement is not judged yet


def test_a_line_whose_ledger_transaction_is_missing_is_unbooked(session_factory, november):
    with session_factory() as session, session.begin():
        money = Money(session)
        money.line(D(3), 2500, state="posted", ledger_key=f"{BANK}:NOPE", client_id=1,
                   archive_id="NOPE")
        money.line(D(3), 1200, state="suspense", ledger_key=None, archive_id="NOKEY")
        assert findings(session, D(3)) == [
            {"check": "statement_line_unbooked", "subject": f"{CITY_IBAN} NOPE",
             "detail": f"posted line of 2026-11-03: ledger transaction {BANK}:NOPE does not exist",
             "amount_cents": 2500},
            {"check": "statement_line_unbooked", "subject": f"{CITY_IBAN} NOKEY",
             "detail": "suspense line of 2026-11-03 is not booked in the ledger",
             "amount_cents": 1200},
        ]


def test_a_lump_sum_is_covered_by_its_items(session_factory, november):
    with session_factory() as session, session.begin():
        money = Money(session)
        key = f"{BANK}:LUMP"
        money.post(key, [(BANK, 30000), ("client:1", -20000), ("suspense", -10000)], D(3))
        money.line(D(3), 30000, state="bank_only", ledger_key=key, archive_id="LUMP")
        money.line(D(3), 20000, state="posted", ledger_key=key, client_id=1, archive_id="LUMP/1",
                   parent="LUMP", level="item")
        # An item that moved nothing carries no key of its own: its entry's booking covers it.
        money.line(D(3), 10000, state="suspense", ledger_key=None, archive_id="LUMP/2",
                   parent="LUMP", level="item")
        assert findings(session, D(3)) == []
        money.line(D(4), 5000, state="bank_only", ledger_key=None, archive_id="LUMP2")
        money.line(D(4), 3000, state="posted", ledger_key=None, archive_id="LUMP2/1",
                   parent="LUMP2", level="item", client_id=1)
        assert findings(session, D(4)) == [
            {"check": "statement_line_unbooked", "subject": f"{CITY_IBAN} LUMP2/1",
             "detail": "posted line of 2026-11-04 is not booked in the ledger",
             "amount_cents": 3000},
            {"check": "lump_sum_not_itemised", "subject": f"{CITY_IBAN} LUMP2",
             "detail": "lump sum of 2026-11-04 is 50,00\u00a0€, its items add up to 30,00\u00a0€",
             "amount_cents": 2000},
        ]


def test_a_notification_no_statement_carries_is_a_finding_after_the_clearing_days(
        session_factory, november):
    with session_factory() as session, session.begin():
        key = f"itemise:{CITY_IBAN}:NOTE"
        ledger.open_account(session, f"incoming:{CITY_IBAN}", "liability")
        Money(session).post(key, [(f"incoming:{CITY_IBAN}", 4000), ("client:1", -4000)], D(3))
        Money(session).line(D(3), 4000, state="posted", ledger_key=key, client_id=1,
                            archive_id="NOTE/1", parent="NOTE", level="item")
        # Tuesday 3.11. + 3 banking days = Friday 6.11.
        assert findings(session, D(6)) == []
        assert findings(session, D(7)) == [{
            "check": "notified_not_on_statement", "subject": f"{CITY_IBAN} NOTE",
            "detail": "itemised 40,00\u00a0€ of 2026-11-03 is on no statement by 2026-11-06",
            "amount_cents": 4000}]


def test_bank_equals_clients_outgoing_suspense_and_other_clearing_accounts(session_factory, november):
    with session_factory() as session, session.begin():
        # An exported, unsettled order and money in suspense: both are liabilities.
        money = Money(session)
        money.order(1, "electricity", 4500, D(3), creditor="Vaasan Sähkö Oy")
        money.suspense_credit(1000, D(3))
        assert findings(session, D(3)) == []
        ledger.open_account(session, "bank_fees", "expense")
        money.post("fee:2026-11", [("bank_fees", 250), (BANK, -250)], D(3))
        assert findings(session, D(3)) == [{
            "check": "balance_equation", "subject": "bank = clients + outgoing + suspense",
            "detail": "bank accounts hold 352,50\u00a0€, liabilities are 355,00\u00a0€; "
                      "other accounts: "
                      "bank_fees (expense) 2,50\u00a0€",
            "amount_cents": -250}]


def test_a_client_below_zero_is_a_finding(session_factory, november):
    with session_factory() as session, session.begin():
        # The ledger refuses this for real client accounts; an account opened without the
        # no-negative rule shows what the check would say.
        ledger.open_account(session, "client:99", "liability")
        Money(session).post("oops", [("client:99", 100), ("suspense", -100)], D(3))
        assert findings(session, D(3)) == [{
            "check": "client_negative", "subject": "client:99", "detail": "balance -1,00\u00a0€",
            "amount_cents": -100}]


@pytest.mark.parametrize("status, detail", [
    ("exported", "exported"), ("approved", "approved but never exported")])
def test_an_order_not_seen_leaving_the_bank_after_3_banking_days(session_factory, november,
                                                                 status, detail):
    with session_factory() as session, session.begin():
        Money(session).order(1, "electricity", 4500, D(13), status=status,
                             creditor="Vaasan Sähkö Oy")
        # Friday 13.11. + 3 banking days = Wednesday 18.11.
        assert findings(session, D(18)) == []
        assert findings(session, D(19)) == [{
            "check": "uncleared_payment", "subject": "order:electricity:1:2026-11-13",
            "detail": f"electricity to Vaasan Sähkö Oy executing 2026-11-13: {detail}, "
                      "not seen leaving the bank by 2026-11-18",
            "amount_cents": 4500}]
        reconcile.reconcile(session, FIONA, D(19))
        assert open_flags(session, "uncleared_payment") == [(
            "order:electricity:1:2026-11-13", 4500,
            f"electricity to Vaasan Sähkö Oy executing 2026-11-13: {detail}, "
            "not seen leaving the bank by 2026-11-18")]
        # It has its own flag kind: no reconciliation_mismatch besides.
        assert open_flags(session, "reconciliation_mismatch") == []


def test_money_left_in_suspense_longer_than_5_days(session_factory, november):
    with session_factory() as session, session.begin():
        line = Money(session).suspense_credit(1000, D(3), payer="Matti Virtanen")
        assert findings(session, D(8)) == []
        assert findings(session, D(9)) == [{
            "check": "suspense_old", "subject": f"{CITY_IBAN} {line.archive_id}",
            "detail": "10,00\u00a0€ in from Matti Virtanen booked 2026-11-03 is unattributed "
                      "after 6 days",
            "amount_cents": 1000}]


def test_ledger_and_audit_verification_findings_are_reported(session_factory, november, monkeypatch):
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE ledger_accounts SET balance_cents = balance_cents + 1 "
                             "WHERE code = 'suspense'"))
        monkeypatch.setattr(audit_verify, "verify", lambda s: [
            Finding("audit_chain", "entry 3", "its content was altered after it was written")])
        assert findings(session, date(2026, 11, 23), today=date(2026, 11, 23)) == [
            {"check": "balance_equation", "subject": "bank = clients + outgoing + suspense",
             "detail": "bank accounts hold 345,00\u00a0€, liabilities are 345,01\u00a0€",
             "amount_cents": -1},
            {"check": "ledger_stored_balance", "subject": "suspense",
             "detail": "stored 1 cents, postings give 0", "amount_cents": None},
            {"check": "audit_chain", "subject": "entry 3",
             "detail": "its content was altered after it was written", "amount_cents": None},
        ]


# --- flags, --fail-on, looking at the past -----------------------------------------------------


def test_fail_on_arrears_exits_1_while_an_arrears_flag_is_open(cli, session_factory, november):
    with session_factory() as session, session.begin():
        w_landlord = session.execute(text("SELECT id FROM payees WHERE kind = 'landlord'")).scalar_one()
        Money(session).obligation(1, "rent", 52000, D(2, 12), payee_id=w_landlord,
                                  key="rent:1:2026-12")
    quiet = cli("reconcile", "--as-of", "2026-12-03", user="fiona")
    assert quiet.exit_code == 0, quiet.stdout                # arrears alone are not a finding
    failing = cli("--format", "json", "reconcile", "--as-of", "2026-12-03", "--fail-on", "arrears",
                  "--fail-on", "uncleared_payment", user="fiona")
    assert failing.exit_code == 1
    flag_id = cli.json("flags", "--kind", "arrears", user="hannu")[0]["flag"]
    assert json.loads(failing.stdout) == [{
        "check": "open_flag", "subject": f"flag {flag_id}",
        "detail": "arrears client 1 rent:1:2026-12: rent due 2026-12-02 unpaid, 1 days past due",
        "amount_cents": 52000}]
    assert "1 findings (open_flag 1)" in failing.stderr


def test_looking_at_the_past_does_not_rewrite_the_flags(session_factory, november):
    with session_factory() as session, session.begin():
        session.execute(update(Statement).values(closing_cents=35500))
        reconcile.reconcile(session, FIONA, D(10))
        session.execute(update(Statement).values(closing_cents=34500))
        past = reconcile.reconcile(session, FIONA, D(3))
        assert past.clean and not past.flags_refreshed
        assert past.summary().endswith("; flags not refreshed (a later day was already judged)")
        assert len(open_flags(session, "reconciliation_mismatch")) == 1
        assert reconcile.reconcile(session, FIONA, D(10)).flags_refreshed
        assert open_flags(session, "reconciliation_mismatch") == []


def test_an_unreachable_database_is_exit_3():
    from click.testing import CliRunner

    from valitystili.cli import cli as cli_group

    result = CliRunner().invoke(cli_group, ["--db", "postgresql://nobody@127.0.0.1:9/none",
                                            "reconcile"], env={"VALITYSTILI_USER": "fiona"})
    assert result.exit_code == 3
    assert result.stderr.startswith("valitystili: error: could not run: ")
    assert result.stderr.count("\n") == 1
