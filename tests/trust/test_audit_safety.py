"""The audit trail's blind spots closed (issue 9 items 4 and 6), on both backends:

- the chain runs on positions, so a rolled-back insert (a dry run) leaves no false gap, and
  ``verify`` names every finding, not the first;
- the head (last position and hash): ``audit verify`` prints it and checks a kept one;
  ``reconcile`` records it and finds a trail cut short or rewritten since;
- every ledger transaction belongs to an audited action;
- users, settings and batches are as the trail says.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

import pytest
from helpers.scenario import CLI_REVIEW, HETU, WORKED_EXAMPLE, cli_world, client, world
from oversight.test_reconcile import november  # noqa: F401  (the fixture: Maija's 2.11.2026)
from oversight.test_reconcile_daily_cycle import monday  # noqa: F401  (the fixture: the batch of 2.11.2026)
from oversight.test_reports_world import BANK
from sqlalchemy import func, select, text

import ledger
from valitystili.base.errors import PermissionDenied, ValidationError
from valitystili.oversight import reconcile
from valitystili.store import db, settings
from valitystili.store.models import AuditEntry, AuditHead
from valitystili.trust import audit, audit_verify, configuration
from valitystili.trust.auth import Actor

FIONA = Actor("fiona", "finance")
HEAD = re.compile(r"^head: (\d+):([0-9a-f]{64})$", re.M)


# --- helpers: what someone with plain SQL and the trigger out of the way can do ---------------


def plain_sql(backend, *statements: str, params: dict | None = None) -> None:
    """Run statements as the database owner, with the audit trail's triggers out of the way."""
    engine = db.make_engine(backend.url)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            _untrigger(session)
            for statement in statements:
                session.execute(text(statement), params or {})
    finally:
        engine.dispose()


def _untrigger(session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
    else:
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))


def alter_entry(session, position: int, detail: str) -> None:
    _untrigger(session)
    session.execute(text("UPDATE audit_log SET detail = :d WHERE position = :p"),
                    {"d": detail, "p": position})


def rewrite_whole_chain(session, position: int, detail: str) -> None:
    """Change one entry and recompute every hash after it: the chain is self-consistent again."""
    _untrigger(session)
    prev = audit.GENESIS
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.position)).scalars().all():
        if entry.position == position:
            entry.detail = detail
        entry.prev_hash = prev
        entry.hash = audit.entry_digest(prev, entry.at, entry.actor, entry.action, entry.client_id,
                                   entry.subject, entry.detail)
        prev = entry.hash
    session.flush()


def sneak_transaction(session, key: str, client_code: str, amount_cents: int) -> int:
    """A balanced transaction client → suspense with both balances adjusted, by plain SQL."""
    tx_id = session.execute(text("SELECT max(id) + 1 FROM ledger_transactions")).scalar_one()
    session.execute(text(
        "INSERT INTO ledger_transactions (id, key, booked_on, value_on, description, actor) "
        "VALUES (:id, :key, :on, :on, '', 'x')"), {"id": tx_id, "key": key, "on": date(2026, 11, 3)})
    for code, amount in ((client_code, amount_cents), ("suspense", -amount_cents)):
        session.execute(text(
            "INSERT INTO ledger_postings (transaction_id, account_id, amount_cents, booked_on) "
            "SELECT :tx, id, :amount, :on FROM ledger_accounts WHERE code = :code"),
            {"tx": tx_id, "amount": amount, "on": date(2026, 11, 3), "code": code})
        session.execute(text("UPDATE ledger_accounts SET balance_cents = balance_cents + :d "
                             "WHERE code = :code"), {"d": -amount, "code": code})
    return tx_id


def chain_head(session) -> tuple[int, str]:
    last = audit.head(session)
    return last.position, last.hash


def findings_of(session, *checks: str) -> list[tuple[str, str, str]]:
    return [(f.check, f.subject, f.detail) for f in audit_verify.verify(session)
            if not checks or f.check in checks]


# --- 1. positions, not ids --------------------------------------------------------------------


def walkthrough_to_plan_approve(cli, tmp_path) -> None:
    """The README's first day up to `plan approve`: people, the account, payees, Maija, her plan."""
    cli_world(cli)
    review = date(max(date.today().year + 1, 2027), 2, 1)
    cli.ok("client", "open", "--hetu", HETU, "--name", "Maija Meikäläinen",
           "--iban", "FI4950009420028730", "--criterion", "evictions", "--worker", "sanna",
           "--start", "1.11.2026", "--review", f"{review.day}.{review.month}.{review.year}",
           "--no-guardianship-need", "--no-subsidy-against-will", "--no-kela-pays-landlord",
           user="sanna")
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(WORKED_EXAMPLE.replace("2027-02-01", review.isoformat()), "utf-8")
    cli.ok("plan", "set", "1", "--file", str(plan_file), "--effective", "1.11.2026", user="sanna")
    cli.ok("plan", "approve", "1", user="hannu")


def test_a_dry_run_leaves_no_false_gap_in_the_chain(cli, tmp_path):
    walkthrough_to_plan_approve(cli, tmp_path)
    cli.ok("batch", "run", "--date", "2.11.2026", "--dry-run", user="hannu")
    cli.ok("client", "show", "1", user="hannu")
    result = cli("audit", "verify", user="aune")
    assert (result.exit_code, result.stdout) == (0, "(none)\n"), result.stderr
    position = int(HEAD.search(result.stderr).group(1))
    entries = cli.json("audit", "log", user="aune")
    assert len(entries) == position and "batch.run" not in [e["action"] for e in entries]


def test_every_altered_entry_is_named_not_only_the_first(session):
    w = world(session)
    client(session, w)
    assert findings_of(session) == []
    alter_entry(session, 7, '{"tampered":1}')        # the bank account's entry
    alter_entry(session, 10, '{"tampered":2}')       # the client's opening
    assert findings_of(session) == [
        ("audit_chain", "position 7", "entry id 7: its content was altered after it was written"),
        ("audit_chain", "position 10", "entry id 10: its content was altered after it was written"),
    ]


def test_a_deleted_entry_and_a_later_altered_one_are_both_named(session):
    w = world(session)
    client(session, w)
    _untrigger(session)
    session.execute(text("DELETE FROM audit_log WHERE position IN (7, 8)"))
    alter_entry(session, 10, '{"tampered":true}')
    assert findings_of(session) == [
        ("audit_chain", "position 9", "positions 7-8 are missing before it (deleted)"),
        ("audit_chain", "position 10", "entry id 10: its content was altered after it was written"),
    ]


def test_entries_written_in_a_rolled_back_savepoint_leave_no_gap(session):
    w = world(session)
    savepoint = session.begin_nested()
    audit.record(session, "hannu", "batch.run", subject="rolled back")
    savepoint.rollback()
    client(session, w)
    positions = session.execute(select(AuditEntry.position).order_by(AuditEntry.position)).scalars()
    assert list(positions) == list(range(1, 11))
    assert findings_of(session) == []


# --- 2. the head -------------------------------------------------------------------------------


def test_verify_prints_the_head_and_a_kept_head_finds_a_rewound_trail(cli, backend):
    cli_world(cli)                                            # entries 1-9
    cli.ok("settings", "set", "suspense_flag_after_days", "3")  # 10
    cli.ok("audit", "log", user="aune")                       # 11: a view of the trail
    result = cli("audit", "verify", user="aune")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[:4] == [
        "audit trail: 11 entries, chain intact",
        "ledger transactions: 0, each posted by an audited action",
        "audited state: 6 users, 1 stored setting, 0 payment batches, as the trail says",
        "ledger: 0 transactions, invariants hold"]
    position, digest = HEAD.search(result.stderr).groups()
    assert position == "11"
    kept = f"{position}:{digest}"

    cli.ok("audit", "log", user="aune")                       # 12: the trail grows
    assert cli("audit", "verify", "--expect-head", kept, user="aune").exit_code == 0

    plain_sql(backend, "DELETE FROM audit_log WHERE position >= 11")
    result = cli("--format", "json", "audit", "verify", "--expect-head", kept, user="aune")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{
        "check": "audit_rewound", "subject": "position 11",
        "detail": f"the audit trail ends at position 10, before the head kept ({kept}): the "
                  "audit trail was rewound or rewritten"}]
    assert result.stderr.splitlines()[-2:] == [
        "head: 10:" + _hash_at(backend, 10),
        f"valitystili: error: audit_rewound: position 11: the audit trail ends at position 10, "
        f"before the head kept ({kept}): the audit trail was rewound or rewritten"]


def _hash_at(backend, position: int) -> str:
    engine = db.make_engine(backend.url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT hash FROM audit_log WHERE position = :p"),
                                      {"p": position}).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize("value", ["9", "9:abc", "x:" + "a" * 64, "0:" + "a" * 64])
def test_a_malformed_head_is_a_usage_error(cli, value):
    result = cli("audit", "verify", "--expect-head", value)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"valitystili: error: head {value!r} is not POSITION:HASH (a position "
                             "and 64 hex digits, as `audit verify` prints it)\n")


def test_a_rewritten_and_rehashed_chain_is_found_by_the_kept_head(session, backend):
    w = world(session)
    client(session, w)
    position, digest = chain_head(session)
    kept = audit.Head(position, digest)
    rewrite_whole_chain(session, 8, '{"rewritten":true}')     # a payee's entry
    assert findings_of(session) == []             # the chain alone cannot tell
    assert [(f.check, f.subject) for f in audit_verify.verify(session, kept)] == [
        ("audit_rewritten", f"position {position}")]
    assert audit_verify.verify(session, kept)[0].detail == (
        f"holds {chain_head(session)[1][:16]}…, not the head kept ({digest[:16]}…): the audit "
        "trail was rewound or rewritten")


def test_reconcile_records_the_head_and_exits_1_when_the_trail_was_cut_short(
        cli, backend, session_factory, november):
    cli.ok("reconcile", "--as-of", "3.11.2026", user="fiona")
    with session_factory() as session:
        recorded = session.execute(select(AuditHead)).scalar_one()
        assert (recorded.position, recorded.hash, recorded.recorded_by) == (
            *chain_head(session), "fiona")
        last_action = session.execute(select(AuditEntry.action)
                                      .where(AuditEntry.position == recorded.position)).scalar_one()
        assert last_action == "reconcile"
    cli.ok("client", "show", "1", user="hannu")

    # The last two entries (the reconcile and the view) deleted with plain SQL.
    plain_sql(backend, f"DELETE FROM audit_log WHERE position >= {recorded.position}")
    result = cli("--format", "json", "reconcile", "--as-of", "3.11.2026", user="fiona")
    assert result.exit_code == 1
    found = [f for f in json.loads(result.stdout) if f["check"].startswith("audit_")]
    assert found == [{
        "check": "audit_rewound", "subject": f"position {recorded.position}",
        "detail": f"the audit trail ends at position {recorded.position - 1}, before the head "
                  f"fiona recorded at reconcile on {_minute(recorded.recorded_at)} "
                  f"({recorded.position}:{recorded.hash}): the audit trail was rewound or "
                  "rewritten",
        "amount_cents": None}]
    # The cut-short trail's head is not recorded: the next run still compares with the good one,
    # whose position the trail has grown back to with other entries.
    again = cli("--format", "json", "reconcile", "--as-of", "3.11.2026", user="fiona")
    assert again.exit_code == 1
    assert [(f["check"], f["subject"]) for f in json.loads(again.stdout)] == [
        ("audit_rewritten", f"position {recorded.position}")]


def _minute(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc)
    return at.strftime("%Y-%m-%d %H:%M")


def test_reconcile_finds_a_rewritten_chain_by_the_head_it_recorded(session_factory, november):
    with session_factory() as session, session.begin():
        assert reconcile.reconcile(session, FIONA, date(2026, 11, 3)).clean
        recorded = session.execute(select(AuditHead)).scalar_one()
    with session_factory() as session, session.begin():
        rewrite_whole_chain(session, 8, '{"rewritten":true}')     # a payee's entry
    with session_factory() as session, session.begin():
        assert audit_verify.verify(session) == []
        result = reconcile.reconcile(session, FIONA, date(2026, 11, 3))
        assert [(f.check, f.subject) for f in result.findings] == [
            ("audit_rewritten", f"position {recorded.position}")]
        # Not blessed: the rewritten head is not recorded.
        assert session.execute(select(func.count()).select_from(AuditHead)).scalar_one() == 1


# --- 3. every ledger transaction belongs to an audited action --------------------------------


def test_a_transaction_slipped_in_by_plain_sql_is_found(cli, backend, session_factory, november):
    with session_factory() as session, session.begin():
        assert findings_of(session) == []
        sneak = sneak_transaction(session, "sneak", "client:1", 10000)
        assert ledger.verify(session) == []       # balanced, balances adjusted: the ledger agrees
    result = cli("--format", "json", "audit", "verify", user="aune")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"check": "audit_coverage", "subject": "transaction sneak",
         "detail": f"ledger transaction id {sneak} was posted by no audited action"},
        {"check": "audit_coverage", "subject": "ledger_transactions",
         "detail": f"the ledger holds {sneak} transactions; the audit trail records "
                   f"{sneak - 1} posted"}]
    assert f"ledger transactions: {sneak}, 2 findings\n" in result.stderr


def test_a_transaction_whose_key_was_changed_is_found_by_the_digest(session_factory, november):
    with session_factory() as session, session.begin():
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("DROP TRIGGER ledger_transactions_no_update"))
        else:
            session.execute(text("ALTER TABLE ledger_transactions DISABLE TRIGGER "
                                 "ledger_transactions_append_only"))
        session.execute(text("UPDATE ledger_transactions SET key = 'renamed' WHERE id = 2"))
        assert findings_of(session) == [(
            "audit_coverage", "ledger_transactions",
            "the keys of the ledger's 6 transactions are not those the audit trail records "
            "(a transaction replaced)")]


def test_each_posting_action_records_what_it_posted(session, monday):
    rows = session.execute(select(AuditEntry.action, AuditEntry.detail)
                           .order_by(AuditEntry.position)).all()
    posted = {action: json.loads(detail)["transactions"] for action, detail in rows
              if '"transactions"' in detail}
    keys = dict(session.execute(text("SELECT id, key FROM ledger_transactions")).all())
    assert posted == {
        "import": {"count": 2, "first_id": 1, "last_id": 2,
                   "keys_digest": audit.keys_digest([keys[1], keys[2]])},
        "batch.approve": {"count": 2, "first_id": 3, "last_id": 4,
                          "keys_digest": audit.keys_digest(["order:rent:1:2026-11",
                                                            "order:inst:1:2026-11-02"])},
    }
    assert keys[3] == "order:rent:1:2026-11"
    assert findings_of(session) == []


def test_the_daily_cycle_leaves_a_trail_that_accounts_for_every_transaction(session, monday,
                                                                             tmp_path):
    from helpers.statements import Tx, camt053, ntry, write

    from valitystili.statements import income, service
    from valitystili.store.models import PaymentOrder

    rent, instalment = session.execute(select(PaymentOrder).order_by(PaymentOrder.id)).scalars()
    statement = camt053(
        ntry("520.00", "A-0311-1", Tx(e2e=rent.end_to_end_id, payer="Vaasan Asunnot Oy"),
             debit=True, booked="2026-11-03"),
        ntry("75.00", "A-0311-2", Tx(e2e=instalment.end_to_end_id, payer="Maija"),
             debit=True, booked="2026-11-03"),
        ntry("12.00", "A-0311-3", Tx(payer="Tuntematon"), booked="2026-11-03"),
        statement_id="STMT-0311", opening_cents=94000, closing_cents=35700, on="2026-11-03")
    service.import_file(session, monday.fiona, write(tmp_path, "0311.xml", statement),
                        today=date(2026, 11, 3))
    line = session.execute(text("SELECT id FROM statement_lines WHERE archive_id = 'A-0311-3'")
                           ).scalar_one()
    income.assign_line(session, monday.hannu, line, "1", today=date(2026, 11, 3))
    assert findings_of(session) == []
    assert reconcile.reconcile(session, monday.fiona, date(2026, 11, 3)).clean
    assert session.execute(select(func.count()).select_from(ledger.models.transactions)
                           ).scalar_one() == 8


def test_a_unit_of_work_that_posts_without_an_audit_entry_is_refused(session_factory, november):
    with session_factory() as session:
        audit.require_entries(session)
        with pytest.raises(audit.UnauditedPosting, match=r"^1 ledger transaction \(lost\) was "
                                                         r"posted without an audit entry; "
                                                         r"nothing was written$"):
            with session.begin():
                ledger.post(session, "lost", [(BANK, 100), ("suspense", -100)], date(2026, 11, 3))
    with session_factory() as session:
        assert session.execute(text("SELECT count(*) FROM ledger_transactions WHERE key = 'lost'")
                               ).scalar_one() == 0


def test_what_a_rolled_back_savepoint_posted_or_claimed_is_undone(session, november):
    on = date(2026, 11, 3)
    savepoint = session.begin_nested()
    ledger.post(session, "gone", [(BANK, 100), ("suspense", -100)], on)
    savepoint.rollback()
    assert ledger.created.pending(session) == []
    kept = ledger.post(session, "kept", [(BANK, 100), ("suspense", -100)], on).transaction_id
    savepoint = session.begin_nested()
    audit.record(session, "fiona", "import", subject="claimed, then rolled back")
    savepoint.rollback()
    assert ledger.created.pending(session) == [(kept, "kept")]
    audit.record(session, "fiona", "import", subject="kept")
    assert ledger.created.pending(session) == []
    assert findings_of(session) == []


# --- 4. rows changed behind the service's back -------------------------------------------------


def test_a_role_changed_or_a_user_added_by_plain_sql_is_found(session):
    world(session)
    assert findings_of(session, "audit_state") == []
    session.execute(text("UPDATE users SET role = 'admin' WHERE name = 'hannu'"))
    session.execute(text("INSERT INTO users (name, role, full_name, created_by) "
                         "VALUES ('mallory', 'handler', '', 'x')"))
    assert findings_of(session, "audit_state") == [
        ("audit_state", "user:hannu",
         "role is 'admin', the audit trail says 'handler' (changed behind the service's back)"),
        ("audit_state", "user:mallory",
         "role 'handler': no audit entry made this row (written behind the service's back)"),
    ]


def test_the_first_admin_is_in_the_trail(cli, backend):
    rows = cli.json("audit", "log", user=backend.admin_name)
    assert [(r["actor"], r["action"], r["subject"], r["detail"]) for r in rows[:1]] == [
        (backend.admin_name, "user.add", f"user:{backend.admin_name}",
         {"first_admin": True, "state": {"role": "admin"}})]


def test_settings_change_through_the_service_and_a_plain_sql_change_is_found(session, backend):
    w = world(session)
    assert configuration.put(session, w.admin, "four_eyes", "yes") == {
        "key": "four_eyes", "value": "true", "previous": "true", "default": "true"}
    assert findings_of(session, "audit_state") == []
    session.execute(text("UPDATE settings SET value = 'false' WHERE key = 'four_eyes'"))
    session.execute(text("INSERT INTO settings (key, value) VALUES ('pain_version', '03')"))
    assert settings.get_bool(session, "four_eyes") is False
    assert findings_of(session, "audit_state") == [
        ("audit_state", "setting:four_eyes",
         "value is 'false', the audit trail says 'true' (changed behind the service's back)"),
        ("audit_state", "setting:pain_version",
         "value '03': no audit entry made this row (written behind the service's back)"),
    ]
    session.execute(text("DELETE FROM settings WHERE key = 'four_eyes'"))
    assert findings_of(session, "audit_state")[0] == (
        "audit_state", "setting:four_eyes",
        "the audit trail says value 'true', but there is no such row (deleted behind the "
        "service's back)")


@pytest.mark.parametrize("key, value, error", [
    ("four_eyes", "maybe", "setting four_eyes is true or false, not 'maybe'"),
    ("pain_version", "02", "setting pain_version is one of 09, 03, not '02'"),
    ("suspense_flag_after_days", "-1",
     "setting suspense_flag_after_days is a whole number of 0 or more, not '-1'"),
    ("no_such", "1", "unknown setting 'no_such'; known: "),
])
def test_a_bad_setting_is_refused(session, key, value, error):
    w = world(session)
    with pytest.raises(ValidationError) as caught:
        configuration.put(session, w.admin, key, value)
    assert str(caught.value).startswith(error)
    with pytest.raises(PermissionDenied):
        configuration.put(session, w.hannu, "four_eyes", "false")


def test_the_settings_commands(cli):
    cli_world(cli)
    changed = cli.json("settings", "set", "debtor_name", "Vaasan kaupunki")
    assert changed == {"key": "debtor_name", "value": "Vaasan kaupunki", "previous": "Välitystili",
                       "default": "Välitystili"}
    listed = {row["key"]: row["value"] for row in cli.json("settings", "list", user="hannu")}
    assert listed["debtor_name"] == "Vaasan kaupunki" and listed["four_eyes"] == "true"
    refused = cli("settings", "set", "four_eyes", "false", user="hannu")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: user hannu (handler) may not settings set; allowed roles: admin\n")
    last = cli.json("audit", "log", user="aune")[-1]
    assert (last["action"], last["subject"], last["detail"]) == (
        "setting.set", "setting:debtor_name",
        {"old": None, "state": {"value": "Vaasan kaupunki"}})
    assert cli("audit", "verify", user="aune").exit_code == 0


def test_the_payer_name_is_stored_in_the_form_a_payment_file_carries(cli):
    cli_world(cli)
    changed = cli.json("settings", "set", "debtor_name", "Łódźin kaupunki")
    assert changed["value"] == "Lódzin kaupunki"
    refused = cli("settings", "set", "debtor_name", "Город")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("valitystili: error: setting debtor_name contains 'Г'")
    added = cli.json("bank", "add", "--iban", "FI49 5000 9420 0287 30", "--name", "Kaupunki Łask")
    assert added["name"] == "Kaupunki Lask"


def test_a_batch_changed_by_plain_sql_is_found(cli, backend, session_factory, november):
    assert cli("audit", "verify", user="aune").exit_code == 0
    plain_sql(backend, "UPDATE payment_batches SET created_by = 'hilla'")
    result = cli("--format", "json", "audit", "verify", user="aune")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{
        "check": "audit_state", "subject": "batch-2026-11-02-test",
        "detail": "created_by is 'hilla', the audit trail says 'hannu' (changed behind the "
                  "service's back)"}]


# --- a database from before the trail kept positions and coverage -----------------------------


def test_upgrading_a_database_with_history_numbers_the_chain_and_starts_coverage(backend):
    engine = db.make_engine(backend.url)
    try:
        db.upgrade(engine, "0003")
        with engine.begin() as connection:
            _old_history(connection)
        db.upgrade(engine)
        with db.session_factory(engine)() as session:
            rows = session.execute(select(AuditEntry.id, AuditEntry.position, AuditEntry.action)
                                   .order_by(AuditEntry.position)).all()
            assert [tuple(r) for r in rows] == [
                (1, 1, "user.add"), (2, 2, "bank.add"), (5, 3, "import"),
                (6, 4, "audit.coverage")]
            coverage = json.loads(session.get(AuditEntry, 6).detail)
            assert coverage["before_coverage"] == {"ledger_transactions_through_id": 1}
            assert coverage["state"]["users"] == {"admin": {"role": "admin"},
                                                  "hannu": {"role": "handler"}}
            checked = audit_verify.verification(session)
            assert (checked.findings, checked.entries, checked.before_coverage) == ([], 4, 1)
            # From here on the trail vouches for the rows as they were.
            session.execute(text("UPDATE users SET role = 'admin' WHERE name = 'hannu'"))
            assert findings_of(session) == [(
                "audit_state", "user:hannu",
                "role is 'admin', the audit trail says 'handler' (changed behind the service's "
                "back)")]
        with engine.begin() as connection:       # and it goes down again cleanly
            from alembic import command
            command.downgrade(db.alembic_config(connection), "0003")
    finally:
        engine.dispose()


def _old_history(connection) -> None:
    """Two users, one ledger transaction and three entries whose ids have a gap (3 and 4 were
    used by inserts that rolled back), as a database at revision 0003 could hold them."""
    connection.execute(text("INSERT INTO users (name, role, full_name, created_by) VALUES "
                            "('admin', 'admin', '', 'admin'), ('hannu', 'handler', '', 'admin')"))
    for code, kind in (("bank:FI7433010001222090", "asset"), ("suspense", "liability")):
        connection.execute(text(
            "INSERT INTO ledger_accounts (code, name, kind, currency, no_negative, balance_cents) "
            "VALUES (:code, '', :kind, 'EUR', false, 500)"), {"code": code, "kind": kind})
    connection.execute(text(
        "INSERT INTO ledger_transactions (id, key, booked_on, value_on, description, actor) "
        "VALUES (1, 'old', :on, :on, '', 'fiona')"), {"on": date(2026, 10, 1)})
    connection.execute(text(
        "INSERT INTO ledger_postings (transaction_id, account_id, amount_cents, booked_on) "
        "SELECT 1, id, CASE WHEN kind = 'asset' THEN 500 ELSE -500 END, :on FROM ledger_accounts"),
        {"on": date(2026, 10, 1)})
    prev = audit.GENESIS
    at = datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)
    for entry_id, actor, action in ((1, "admin", "user.add"), (2, "admin", "bank.add"),
                                    (5, "fiona", "import")):
        digest = audit.entry_digest(prev, at, actor, action, None, "", "{}")
        connection.execute(text(
            "INSERT INTO audit_log (id, at, actor, action, client_id, subject, detail, prev_hash, "
            "hash) VALUES (:id, :at, :actor, :action, NULL, '', '{}', :prev, :hash)"),
            {"id": entry_id, "at": at, "actor": actor, "action": action, "prev": prev,
             "hash": digest})
        prev = digest
    if connection.dialect.name == "postgresql":     # the ids were given: move the sequence on
        connection.execute(text("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), 5)"))


# --- PostgreSQL: the README's deployment, with exactly its grants ------------------------------


def readme_grants() -> str:
    """The README's grant block (from its ``-- grants:`` line to the end of the block)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    start = readme.index("-- grants: run as valitystili_owner")
    return readme[start:readme.index("```", start)]


class Deployment:
    """A schema owned by an owner login, people's logins in the app and admin group roles, with
    the README's grants; names made unique so that tests never share roles."""

    def __init__(self, admin_engine, tmp_path):
        import uuid

        from click.testing import CliRunner
        from conftest import pg_schema_url

        tag = uuid.uuid4().hex[:8]
        self.admin_engine = admin_engine
        self.schema = f"g_{tag}"
        self.roles = {name: f"vt{tag}_{name}" for name in ("owner", "app", "admin")}
        self.logins = {name: f"vt{tag}_{name}" for name in
                       ("aino", "sanna", "hannu", "hilla", "fiona", "aune")}
        self.url = lambda login: pg_schema_url(self.schema, login)
        self.runner = CliRunner()
        self.tmp_path = tmp_path
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE ROLE "{self.roles["owner"]}" LOGIN'))
            connection.execute(text(f'CREATE ROLE "{self.roles["app"]}" NOLOGIN'))
            connection.execute(text(f'CREATE ROLE "{self.roles["admin"]}" NOLOGIN '
                                    f'IN ROLE "{self.roles["app"]}"'))
            connection.execute(text(f'CREATE SCHEMA "{self.schema}" '
                                    f'AUTHORIZATION "{self.roles["owner"]}"'))
            for person, login in self.logins.items():
                group = self.roles["admin" if person == "aino" else "app"]
                connection.execute(text(f'CREATE ROLE "{login}" LOGIN IN ROLE "{group}"'))

    def grants_sql(self) -> str:
        sql = readme_grants()
        for name, role in self.roles.items():
            sql = sql.replace(f"valitystili_{name}", role)
        return re.sub(r"\bvalitystili\b(?!_)", self.schema, sql)

    def apply_grants(self) -> None:
        from sqlalchemy import create_engine

        engine = create_engine(self.url(self.roles["owner"]))
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(self.grants_sql())
        finally:
            engine.dispose()

    def __call__(self, *args: str, login: str):
        from valitystili.cli import cli as command

        user = self.roles["owner"] if login == "owner" else self.logins[login]
        return self.runner.invoke(command, list(args), catch_exceptions=False,
                                  env={"VALITYSTILI_DB": self.url(user), "VALITYSTILI_USER": ""})

    def ok(self, *args: str, login: str) -> str:
        result = self(*args, login=login)
        assert result.exit_code == 0, (args, login, result.stderr, result.stdout)
        return result.stdout

    def sql_as(self, login: str, statement: str) -> str:
        """Run one statement as a person's login; the database's refusal, or "done"."""
        from sqlalchemy import create_engine
        from sqlalchemy.exc import ProgrammingError

        engine = create_engine(self.url(self.logins[login]))
        try:
            with engine.begin() as connection:
                connection.execute(text(statement))
            return "done"
        except ProgrammingError as error:
            return str(error.orig).splitlines()[0]
        finally:
            engine.dispose()

    def drop(self) -> None:
        with self.admin_engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            for role in [*self.logins.values(), self.roles["admin"], self.roles["app"],
                         self.roles["owner"]]:
                connection.execute(text(f'DROP OWNED BY "{role}"'))
                connection.execute(text(f'DROP ROLE "{role}"'))


@pytest.fixture
def deployment(pg_admin_engine, tmp_path):
    deployed = Deployment(pg_admin_engine, tmp_path)
    try:
        yield deployed
    finally:
        deployed.drop()


def test_with_the_readme_grants_handlers_pay_but_cannot_change_roles(deployment, tmp_path):
    from helpers.statements import Tx, camt053, ntry, write

    d = deployment
    d.ok("db", "init", login="owner")
    d.apply_grants()
    d.ok("user", "add", d.logins["aino"], "--role", "admin", login="owner")
    for person, role in (("sanna", "social_worker"), ("hannu", "handler"), ("hilla", "handler"),
                         ("fiona", "finance"), ("aune", "auditor")):
        d.ok("user", "add", d.logins[person], "--role", role, login="aino")
    d.ok("bank", "add", "--iban", "FI7433010001222090", "--name", "Välitystili", login="aino")
    d.ok("settings", "set", "debtor_name", "Vaasan kaupunki", login="aino")
    d.ok("payee", "add", "--name", "Vaasan Asunnot Oy", "--iban", "FI2112345600000785",
         "--kind", "landlord", login="hannu")
    d.ok("payee", "add", "--name", "Vaasan Sähkö Oy", "--iban", "FI4950009420028730",
         "--kind", "utility", login="hannu")
    review = date(max(date.today().year + 1, 2027), 2, 1)
    d.ok("client", "open", "--hetu", HETU, "--name", "Maija Meikäläinen",
         "--iban", "FI5542345670000081", "--criterion", "evictions", "--worker",
         d.logins["sanna"], "--start", "1.11.2026", "--review", review.isoformat(),
         "--no-guardianship-need", "--no-subsidy-against-will", "--no-kela-pays-landlord",
         login="sanna")
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(WORKED_EXAMPLE.replace("2027-02-01", review.isoformat()), "utf-8")
    d.ok("plan", "set", "1", "--file", str(plan_file), "--effective", "1.11.2026", login="sanna")
    d.ok("plan", "approve", "1", login="hannu")
    statement = camt053(ntry("560.00", "A-1", Tx(reference="100000010", payer="KELA")),
                        ntry("380.00", "A-2", Tx(reference="100000010", payer="KELA")),
                        statement_id="S-0211", opening_cents=0, closing_cents=94000,
                        on="2026-11-02")
    d.ok("import", str(write(tmp_path, "0211.xml", statement)), login="fiona")
    d.ok("batch", "run", "--date", "2.11.2026", "--yes", login="hannu")
    d.ok("batch", "approve", "1", login="hilla")
    d.ok("batch", "export", "1", "--out", str(tmp_path / "pain.xml"), "--yes", login="fiona")
    d.ok("reconcile", "--as-of", "2.11.2026", login="fiona")
    assert d("audit", "verify", login="aune").exit_code == 0

    table = lambda name: f'permission denied for table {name}'  # noqa: E731
    assert d.sql_as("hannu", "UPDATE users SET role = 'admin' WHERE name = current_user") == (
        table("users"))
    assert d.sql_as("hannu", "UPDATE payment_batches SET created_by = 'someone'") == (
        table("payment_batches"))
    assert d.sql_as("hannu", "UPDATE payment_orders SET creditor_iban = 'FI2112345600000785'") \
        == table("payment_orders")
    assert d.sql_as("hannu", "UPDATE settings SET value = 'false'") == table("settings")
    assert d.sql_as("aino", "DELETE FROM audit_log") == table("audit_log")
    assert d.sql_as("fiona", "DELETE FROM ledger_transactions") == table("ledger_transactions")
    assert d.sql_as("hannu", "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only") == (
        "must be owner of table audit_log")
    # What the grants allow is what the service does: the trail is clean.
    assert d("audit", "verify", login="aune").exit_code == 0


# --- many writers at once: one chain ---------------------------------------------------------


WRITERS = 8
ROUNDS = 3


def test_writers_at_once_never_fork_or_gap_the_chain(cli, backend):
    """Eight processes each append an entry at the same moment, three times over (on PostgreSQL
    they are held at the append lock until all wait there); the chain stays one line."""
    import os
    import subprocess
    import sys
    import time
    import uuid

    cli_world(cli)
    cli.ok("client", "open", "--hetu", HETU, "--name", "Maija", "--iban", "FI5542345670000081",
           "--review", CLI_REVIEW,
           "--criterion", "evictions", "--worker", "sanna", "--start", "1.11.2026",
           "--no-guardianship-need", "--no-subsidy-against-will", "--no-kela-pays-landlord",
           user="sanna")
    before = len(cli.json("audit", "log", user="aune")) + 1
    tag = f"w{uuid.uuid4().hex[:8]}"
    readers = ("hannu", "hilla", "fiona", "aune")

    def start(user: str) -> subprocess.Popen:
        url = backend.url_for(user)
        if backend.name == "postgresql":
            url += f"&application_name={tag}"
        env = {**os.environ, "VALITYSTILI_DB": url,
               "VALITYSTILI_USER": user if backend.name == "sqlite" else ""}
        return subprocess.Popen([sys.executable, "-c", "from valitystili.cli import main; main()",
                                 "client", "show", "1"], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    for _ in range(ROUNDS):
        if backend.name == "postgresql":
            with backend.admin_engine.connect() as gate:
                gate.execute(text("SELECT pg_advisory_lock(hashtext(:schema), :k)"),
                             {"schema": backend.schema, "k": audit.AUDIT_LOCK})
                processes = [start(readers[i % len(readers)]) for i in range(WRITERS)]
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and gate.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag "
                        "AND wait_event_type = 'Lock'"), {"tag": tag}).scalar_one() < WRITERS:
                    time.sleep(0.05)
                gate.execute(text("SELECT pg_advisory_unlock(hashtext(:schema), :k)"),
                             {"schema": backend.schema, "k": audit.AUDIT_LOCK})
        else:
            processes = [start(readers[i % len(readers)]) for i in range(WRITERS)]
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
    entries = cli.json("audit", "log", user="aune")
    views = [e for e in entries[before - 1:] if e["action"] == "client.view"]
    assert len(views) == WRITERS * ROUNDS
    result = cli("audit", "verify", user="aune")
    assert (result.exit_code, result.stdout) == (0, "(none)\n"), result.stderr
    # The views, both readings of the log, and what came before: one entry per position.
    assert HEAD.search(result.stderr).group(1) == str(before + WRITERS * ROUNDS + 1)


def test_entries_appended_together_are_those_appended_one_by_one(session, november):
    """``record_each``: the first entry claims the unit's postings (an empty list claims
    none), each entry follows the one before it, and the chain verifies."""
    on = date(2026, 11, 3)
    at = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
    ledger.post(session, "moved", [(BANK, 100), ("suspense", -100)], on)
    assert audit.record_each(session, "hannu", "view", []) == []
    before = audit.head(session)
    hashes = audit.record_each(session, "hannu", "view", [
        (1, "statement 2026-11", {"month": "2026-11", "name": "Maija Meikäläinen"}),
        (1, "statement 2026-10", {"month": "2026-10"})], at=at)
    first, second = session.execute(select(AuditEntry).where(
        AuditEntry.position > before.position).order_by(AuditEntry.position)).scalars().all()
    assert [first.hash, second.hash] == hashes
    assert (first.prev_hash, second.prev_hash) == (before.hash, first.hash)
    assert (first.position, second.position) == (before.position + 1, before.position + 2)
    moved = json.loads(first.detail)
    assert (moved["transactions"]["count"], moved["month"], "name" in moved) == (1, "2026-11",
                                                                               False)
    assert json.loads(second.detail) == {"month": "2026-10"}
    assert audit.shown(session, [first])[first.hash]["name"] == "Maija Meikäläinen"
    assert audit_verify.verify(session) == []
