"""Honest messages about the batch (issue 13), both backends: an unusual execution date is
confirmed before anything is written, a run that finds nothing new says what the day already
holds and makes no batch, an empty batch is not approved, a second export names the first one
and needs --again, finance exports (a handler only where a setting allows it), and a payment
file's missing folder is named."""

from __future__ import annotations

import json
import time
from datetime import UTC, date
from zoneinfo import ZoneInfo

import pytest
from helpers import scenario
from oversight.test_reports_world import Money
from sqlalchemy import func, select

from valitystili import payments
from valitystili.base.banking_calendar import CALENDAR
from valitystili.base.dates import format_fi_date
from valitystili.cli import app as cli_app
from valitystili.store.models import AuditEntry, PaymentBatch, PaymentOrder

DAY = date(2026, 11, 2)          # a Monday: Kela's money arrives, rent 520,00 and 75,00 paid
PAST = "valitystili: error: the execution date 2.11.2026 is in the past: nothing was run; " \
       "confirm with --yes\n"
EXPORT_PAST = ("valitystili: error: batch 1 executes on 2.11.2026, which is in the past: the "
               "bank pays it late or refuses it; confirm with --yes\n")


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


def stored(session_factory) -> tuple[int, int, int]:
    """(batches, orders, batch.run entries) as stored."""
    with session_factory() as session:
        count = lambda query: session.execute(query).scalar_one()  # noqa: E731
        return (count(select(func.count()).select_from(PaymentBatch)),
                count(select(func.count()).select_from(PaymentOrder)),
                count(select(func.count()).select_from(AuditEntry)
                      .where(AuditEntry.action == "batch.run")))


def at_a_terminal(monkeypatch) -> None:
    """As if a person sat at the terminal (CliRunner's stdin is a pipe)."""
    monkeypatch.setattr(cli_app, "stdin_is_terminal", lambda: True)


# --- the execution date ------------------------------------------------------------------------


@pytest.mark.parametrize(("today", "execution_on", "reason"), [
    (DAY, DAY, None),
    (DAY, date(2026, 11, 9), None),                       # 3, 4, 5, 6, 9: five banking days
    (DAY, date(2026, 11, 10), "the execution date 10.11.2026 is more than 5 banking days ahead"),
    (DAY, date(2026, 10, 30), "the execution date 30.10.2026 is in the past"),
    # Christmas Eve and Day, New Year's Day and a weekend are not counted: 28.–31.12. and 4.1.
    (date(2026, 12, 23), date(2027, 1, 4), None),
    (date(2026, 12, 23), date(2027, 1, 5),
     "the execution date 5.1.2027 is more than 5 banking days ahead"),
])
def test_an_execution_date_in_the_past_or_far_ahead_needs_confirming(today, execution_on, reason):
    assert payments.date_to_confirm(execution_on, today) == reason


def test_a_run_for_a_past_day_is_refused_without_yes_and_writes_nothing(cli, session_factory,
                                                                         maija):
    refused = cli("batch", "run", "--date", "2.11.2026", user="hannu")
    assert (refused.exit_code, refused.stdout, refused.stderr) == (2, "", PAST)
    assert stored(session_factory) == (0, 0, 0)
    looked = cli("--format", "json", "batch", "run", "--date", "2.11.2026", "--dry-run",
                 user="hannu")                           # looking needs no confirmation
    assert (looked.exit_code, json.loads(looked.stdout)["orders"]) == (0, 2)
    ran = cli("--format", "json", "batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    assert ran.exit_code == 0, ran.stderr
    assert (json.loads(ran.stdout)["batch"], json.loads(ran.stdout)["total_cents"]) == (1, 59500)
    assert stored(session_factory) == (1, 2, 1)


def test_a_run_far_ahead_is_refused_without_yes(cli, session_factory, maija):
    far = CALENDAR.on_or_after(date(2099, 11, 2))
    refused = cli("batch", "run", "--date", far.isoformat(), user="hannu")
    assert (refused.exit_code, refused.stderr) == (
        2, f"valitystili: error: the execution date {format_fi_date(far)} is more than 5 "
           "banking days ahead: nothing was run; confirm with --yes\n")
    assert stored(session_factory) == (0, 0, 0)


def test_a_person_at_the_terminal_is_asked(cli, session_factory, maija, monkeypatch):
    at_a_terminal(monkeypatch)
    declined = cli("batch", "run", "--date", "2.11.2026", user="hannu", input="n\n")
    assert declined.exit_code == 2
    assert declined.stderr == ("the execution date 2.11.2026 is in the past. Run the batch "
                               f"anyway? [y/N]: n\n{PAST}")       # the runner echoes "n"
    assert stored(session_factory) == (0, 0, 0)
    accepted = cli("batch", "run", "--date", "2.11.2026", user="hannu", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert stored(session_factory) == (1, 2, 1)


# --- nothing new, nothing to approve -----------------------------------------------------------


def test_running_the_day_again_says_what_the_batch_holds_and_makes_no_batch(
        cli, session_factory, maija):
    cli.ok("batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    again = cli("batch", "run", "--date", "2.11.2026", "--yes", user="hilla")
    assert again.exit_code == 0
    assert again.stderr.splitlines()[-1] == (
        "nothing new; batch 1 already holds 2 payments (595,00\u00a0€)")
    cli.ok("batch", "approve", "1", user="hilla")
    after = cli("--format", "json", "batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    assert after.exit_code == 0
    result = json.loads(after.stdout)
    assert (result["batch"], result["orders"], result["already_held"]) == (
        None, 0, "batch 1 already holds 2 payments (595,00\u00a0€)")
    assert [b["batch"] for b in cli.json("batch", "list", user="hannu")] == [1]
    with session_factory() as session:           # the run is audited, naming no batch
        last = session.execute(select(AuditEntry.subject, AuditEntry.detail)
                               .where(AuditEntry.action == "batch.run")
                               .order_by(AuditEntry.position.desc()).limit(1)).one()
        assert (last.subject, json.loads(last.detail)) == (
            "execution 2026-11-02", {"orders": 0, "total_cents": 0,
                                     "execution_on": "2026-11-02"})


def test_a_day_with_nothing_to_pay_makes_no_batch(cli, session_factory):
    with session_factory() as session, session.begin():
        scenario.world(session)
    result = cli("batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    assert (result.exit_code, result.stderr) == (
        0, "nothing to pay on 2.11.2026; no batch was made\n")
    assert stored(session_factory) == (0, 0, 1)


def test_a_batch_without_payments_cannot_be_approved(cli, session_factory, maija):
    cli.ok("batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    for order in ("1", "2"):
        cli.ok("batch", "remove", "1", order, "--reason", "Vuokranantaja vaihtui", user="hannu")
    refused = cli("batch", "approve", "1", user="hilla")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: batch 1 holds no payments: there is nothing to approve (take it "
           "away with `batch cancel`)\n")
    with session_factory() as session:
        assert session.get(PaymentBatch, 1).status == "draft"


# --- the export --------------------------------------------------------------------------------


@pytest.fixture
def approved(cli, maija) -> None:
    cli.ok("batch", "run", "--date", "2.11.2026", "--yes", user="hannu")
    cli.ok("batch", "approve", "1", user="hilla")


def export_entries(session_factory) -> int:
    with session_factory() as session:
        return session.execute(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "batch.export")).scalar_one()


def test_a_past_execution_date_is_exported_only_when_confirmed(cli, session_factory, approved,
                                                               tmp_path, monkeypatch):
    folder = tmp_path / "siirrot"
    folder.mkdir()
    out = folder / "maksut.xml"
    refused = cli("batch", "export", "1", "--out", str(out), user="fiona")
    assert (refused.exit_code, refused.stdout, refused.stderr) == (2, "", EXPORT_PAST)
    assert list(folder.iterdir()) == [] and export_entries(session_factory) == 0
    with session_factory() as session:
        assert session.get(PaymentBatch, 1).status == "approved"
    at_a_terminal(monkeypatch)
    asked = cli("batch", "export", "1", "--out", str(out), user="fiona", input="y\n")
    assert asked.exit_code == 0, asked.stderr
    assert asked.stderr == ("batch 1 executes on 2.11.2026, which is in the past. Write the file "
                            "anyway? [y/N]: y\n")
    assert out.is_file() and export_entries(session_factory) == 1


def test_the_service_refuses_a_past_export_unless_confirmed(session_factory, approved, tmp_path):
    with session_factory() as session, session.begin(), \
            pytest.raises(payments.NeedsConfirmation) as refused:
        payments.export_batch(session, scenario.world_actors().fiona, "1", tmp_path / "a.xml",
                              today=date(2026, 11, 3))
    assert refused.value.option == "--yes"
    with session_factory() as session, session.begin():
        done = payments.export_batch(session, scenario.world_actors().fiona, "1",
                                     tmp_path / "a.xml", today=date(2026, 11, 3), confirmed=True)
    assert (done["first_export"], done["total_cents"]) == (True, 59500)


@pytest.fixture
def helsinki_clock(monkeypatch):
    """The process's local time is Finland's (the message gives the first export's time)."""
    monkeypatch.setenv("TZ", "Europe/Helsinki")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_second_export_names_the_first_and_needs_again(cli, session_factory, approved,
                                                          tmp_path, helsinki_clock):
    first, second = tmp_path / "maksut.xml", tmp_path / "uudestaan.xml"
    cli.ok("batch", "export", "1", "--out", str(first), "--yes", user="fiona")
    with session_factory() as session:
        at = session.execute(select(AuditEntry.at).where(AuditEntry.action == "batch.export")
                             ).scalar_one()
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(ZoneInfo("Europe/Helsinki"))
    when = f"on {at.day}.{at.month}.{at.year} at {at:%H:%M} by fiona (maksut.xml)"

    refused = cli("batch", "export", "1", "--out", str(second), "--yes", user="fiona")
    assert (refused.exit_code, refused.stdout, refused.stderr) == (
        2, "", f"valitystili: error: batch 1 was already exported {when}: give --again to write "
               "the file once more, and do not upload it to the bank twice\n")
    assert not second.exists() and export_entries(session_factory) == 1

    again = cli("--format", "json", "batch", "export", "1", "--out", str(second), "--again",
                "--yes", user="fiona")
    assert again.exit_code == 0, again.stderr
    assert again.stderr == (f"valitystili: warning: batch 1 was already exported {when}: this "
                            "file is a copy; do not upload it to the bank twice\n")
    assert (json.loads(again.stdout)["first_export"], json.loads(again.stdout)["exported_before"]
            ) == (False, when)
    assert second.read_bytes() == first.read_bytes()


def test_finance_exports_and_a_handler_only_where_the_setting_allows(cli, session_factory,
                                                                     approved, tmp_path):
    out = tmp_path / "maksut.xml"
    refused = cli("batch", "export", "1", "--out", str(out), "--yes", user="hannu")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: user hannu (handler) may not batch export: finance exports the "
           "payment files (an admin lets handlers do it with `settings set handler_exports "
           "true`)\n")
    assert not out.exists() and export_entries(session_factory) == 0
    cli.ok("settings", "set", "handler_exports", "true", user="admin")
    cli.ok("batch", "export", "1", "--out", str(out), "--yes", user="hannu")
    assert out.is_file() and export_entries(session_factory) == 1


def test_an_export_to_a_missing_folder_names_the_folder(cli, session_factory, approved,
                                                        tmp_path):
    out = tmp_path / "siirrot" / "maksut.xml"
    refused = cli("batch", "export", "1", "--out", str(out), "--yes", user="fiona")
    assert (refused.exit_code, refused.stderr) == (
        2, f"valitystili: error: cannot write maksut.xml: folder {tmp_path / 'siirrot'} does "
           "not exist\n")
    assert export_entries(session_factory) == 0
