"""Dates outside the years the service handles (1.1.2000–31.12.2100), both backends: from the
command line and from a plan file they are one line on stderr, exit 2, and nothing written —
not an OverflowError deep in the calendar (exit 3)."""

from __future__ import annotations

from datetime import date

import pytest
from helpers.scenario import CLI_REVIEW, CLIENT_IBAN, DESIGN_EXAMPLE, HETU, cli_world
from helpers.statements import snapshot

from valitystili.base.dates import check_range, parse_date, parse_month
from valitystili.base.errors import ValidationError

OUTSIDE = "is outside the years the service handles (1.1.2000–31.12.2100)"


@pytest.fixture
def world_cli(cli):
    cli_world(cli)
    return cli


def state(session_factory) -> dict:
    with session_factory() as session:
        return snapshot(session)


def open_maija(cli, *extra: str):
    return cli("client", "open", "--hetu", HETU, "--name", "Maija Meikäläinen", "--iban",
               CLIENT_IBAN, "--criterion", "evictions", "--worker", "sanna",
               "--review", CLI_REVIEW,
               "--no-guardianship-need", "--no-subsidy-against-will", "--no-kela-pays-landlord",
               *extra, user="sanna")


@pytest.mark.parametrize(("args", "user", "message"), [
    (("batch", "run", "--date", "31.12.9999"), "hannu",
     f"Invalid value for '--date': date 31.12.9999 {OUTSIDE}"),
    (("batch", "run", "--date", "1.1.1999"), "hannu",
     f"Invalid value for '--date': date 1.1.1999 {OUTSIDE}"),
    (("batch", "run", "--date", "31.12.9999", "--dry-run"), "hannu",
     f"Invalid value for '--date': date 31.12.9999 {OUTSIDE}"),
    (("reconcile", "--as-of", "2101-01-01"), "fiona",
     f"Invalid value for '--as-of': date 1.1.2101 {OUTSIDE}"),
    (("report", "statement", "1", "--month", "9999-12"), "hannu",
     "Invalid value for '--month': month 9999-12 is outside the years the service handles "
     "(2000–2100)"),
], ids=["batch-9999", "batch-1999", "dry-run-9999", "reconcile-2101", "letter-9999"])
def test_a_command_line_date_outside_the_years_is_refused(world_cli, session_factory, args,
                                                          user, message):
    open_maija(world_cli, "--start", "1.10.2026")
    before = state(session_factory)
    result = world_cli(*args, user=user)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {message}\n")
    assert state(session_factory) == before


def test_a_client_starting_in_9999_is_not_opened(world_cli, session_factory):
    before = state(session_factory)
    result = open_maija(world_cli, "--start", "9999-12-31")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: Invalid value for '--start': date 31.12.9999 {OUTSIDE}\n")
    assert state(session_factory) == before


def test_a_plan_file_reviewed_in_9999_is_refused(world_cli, session_factory, tmp_path):
    open_maija(world_cli, "--start", "1.10.2026")
    plan = tmp_path / "plan.toml"
    plan.write_text(DESIGN_EXAMPLE.replace("review = 2027-02-01", "review = 9999-12-31"),
                    encoding="utf-8")
    before = state(session_factory)
    result = world_cli("plan", "set", "1", "--file", str(plan), user="sanna")
    assert (result.exit_code, result.stderr) == (
        2, f"valitystili: error: plan: review date 31.12.9999 {OUTSIDE}\n")
    assert state(session_factory) == before


@pytest.mark.parametrize(("text", "day"), [("1.1.2000", date(2000, 1, 1)),
                                           ("2100-12-31", date(2100, 12, 31))])
def test_the_first_and_the_last_day_are_accepted(text, day):
    assert parse_date(text) == day
    assert check_range(day) == day


@pytest.mark.parametrize("text", ["31.12.1999", "1.1.2101", "0001-01-01", "9999-12-31"])
def test_the_days_around_them_are_not(text):
    with pytest.raises(ValidationError, match=OUTSIDE.replace("(", r"\(").replace(")", r"\)")):
        parse_date(text)


def test_months_follow_the_same_years():
    assert parse_month("2000-01") == (2000, 1)
    assert parse_month("2100-12") == (2100, 12)
    for text in ("1999-12", "2101-01"):
        with pytest.raises(ValidationError, match="outside the years"):
            parse_month(text)
