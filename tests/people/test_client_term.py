"""The term's last day changed by a handler's decision (DESIGN §5), both backends:
`client edit --until` shortens a fixed term (the obligations after it cancelled, the last
instalment day on or before it paying out the rest) or extends it (the next batch makes the
new months, also those a shortening had cancelled); a decision record sets the client's
review date, end and criterion; bad input is one line, exit 2, and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import scenario
from people.test_service_period import days_of, obligations, run_day, run_days
from sqlalchemy import func, select

import ledger
from valitystili.base.errors import PermissionDenied, ValidationError
from valitystili.oversight import card
from valitystili.people import clients, edits, records, terms
from valitystili.store.models import AuditEntry, Client, ClientRecord, Obligation, Plan
from valitystili.trust import audit

W = scenario.world_actors()
BENEFITS = {date(2026, 11, 2): 94000, date(2026, 12, 1): 94000}
DECISION_REASON = "decision 31/2026: the rent debt is paid, the term ends with December"


@pytest.fixture
def fixed_term(session_factory) -> int:
    """Worked example 1's client, fixed term 1.11.2026–31.1.2027, paid up to 15.12.2026: the
    batch has made January's rent and electricity ahead; 187,50 € waits for 21. and 28.12."""
    with session_factory() as session, session.begin():
        scenario.world(session)
        number = scenario.client(session, W, start_on=date(2026, 11, 1),
                                 until_on=date(2027, 1, 31))
        scenario.plan(session, W, number, scenario.WORKED_EXAMPLE,
                      effective_on=date(2026, 11, 1), today=date(2026, 11, 1))
    run_days(session_factory, days_of(2026, 11, 2, 9, 13, 16, 23, 30)
             + days_of(2026, 12, 1, 2, 7, 14, 15), BENEFITS, number)
    with session_factory() as session:
        assert ledger.balance(session, f"client:{number}") == 18750
        assert obligations(session)[f"rent:{number}:2027-01"] == (date(2027, 1, 4), 52000,
                                                                   "open")
    return number


def edit_entries(session) -> list[dict]:
    found = session.execute(select(AuditEntry).where(AuditEntry.action == "client.edit")
                            .order_by(AuditEntry.position)).scalars().all()
    shown = audit.shown(session, found)
    return [shown[entry.hash] for entry in found]


def test_shortening_cancels_what_falls_after_and_pays_out_the_rest(session_factory, fixed_term):
    number = fixed_term
    notes: list[str] = []
    with session_factory() as session, session.begin():
        changed = edits.edit_client(session, W.hannu, str(number), until_on=date(2026, 12, 31),
                                    reason=DECISION_REASON, today=date(2026, 12, 15),
                                    notes=notes)
    assert changed == [{"client": number, "field": "until_on", "old": date(2027, 1, 31),
                        "new": date(2026, 12, 31), "status": "changed", "edit": None}]
    assert notes == [(f"the service now ends 31.12.2026: cancelled rent:{number}:2027-01, "
                     f"electricity:{number}:2027-01")]
    with session_factory() as session:
        assert session.get(Client, number).until_on == date(2026, 12, 31)
        got = obligations(session)
        assert (got[f"rent:{number}:2027-01"], got[f"electricity:{number}:2027-01"]) == (
            (date(2027, 1, 4), 52000, "cancelled"), (date(2027, 1, 15), 4500, "cancelled"))
        assert edit_entries(session) == [{
            "old": {"until_on": "2027-01-31"}, "new": {"until_on": "2026-12-31"},
            "reason": DECISION_REASON, "cancelled": [f"rent:{number}:2027-01",
                                                     f"electricity:{number}:2027-01"],
            "left_open": []}]
    # The last Monday on or before 31.12. pays out the rest; January's money all goes to her.
    assert run_days(session_factory, days_of(2026, 12, 21, 28), {}, number) == [
        (date(2026, 12, 21), "instalment", 9375), (date(2026, 12, 28), "instalment", 9375)]
    assert run_days(session_factory, days_of(2027, 1, 4, 11, 15), {date(2027, 1, 4): 94000},
                    number) == [(date(2027, 1, 4), "final", 94000)]
    with session_factory() as session:
        assert ledger.balance(session, f"client:{number}") == 0


def test_extending_again_makes_the_cancelled_months_again(session_factory, fixed_term):
    number = fixed_term
    with session_factory() as session, session.begin():
        edits.edit_client(session, W.hannu, str(number), until_on=date(2026, 12, 31),
                          reason=DECISION_REASON, today=date(2026, 12, 15))
    with session_factory() as session:
        assert set(session.execute(select(Plan.obligations_through).where(
            Plan.client_id == number)).scalars()) == {date(2026, 11, 30)}
    notes: list[str] = []
    with session_factory() as session, session.begin():
        changed = edits.edit_client(session, W.hannu, str(number), until_on=date(2027, 4, 30),
                                    reason="decision 32/2026 corrects 31/2026: four months more",
                                    today=date(2026, 12, 16), notes=notes)
    assert [(r["field"], r["old"], r["new"]) for r in changed] == [
        ("until_on", date(2026, 12, 31), date(2027, 4, 30))]
    assert notes == []
    assert run_day(session_factory, date(2026, 12, 21)) == [
        (date(2026, 12, 21), "instalment", 9375)]
    with session_factory() as session:
        got = obligations(session)
        assert (got[f"rent:{number}:2027-01"], got[f"electricity:{number}:2027-01"]) == (
            (date(2027, 1, 4), 52000, "open"), (date(2027, 1, 15), 4500, "open"))
        assert session.execute(select(func.count()).select_from(Obligation).where(
            Obligation.key == f"rent:{number}:2027-01")).scalar_one() == 1


def test_client_extend_is_the_same_rule(session_factory, fixed_term):
    """Three to six months for a fixed-term criterion: extending past six is refused."""
    number = fixed_term
    with session_factory() as session, session.begin():
        found = session.get(Client, number)
        found.criterion = clients.FIXED_TERM
    with session_factory() as session, pytest.raises(ValidationError) as refused:
        terms.extend_client(session, W.hannu, str(number), until_on=date(2027, 5, 31),
                            reason="r", today=date(2026, 12, 15))
    assert str(refused.value) == ("criterion rent_debt_fixed_term runs 3–6 months: --until "
                                  "31.5.2027 is not between 1.2.2027 and 1.5.2027 (start "
                                  "1.11.2026)")
    with session_factory() as session, session.begin():
        extended = terms.extend_client(session, W.hannu, str(number), until_on=date(2027, 5, 1),
                                       reason="decision 33/2026", today=date(2026, 12, 15))
    assert extended == terms.Extended(number, date(2027, 1, 31), date(2027, 5, 1),
                                      "decision 33/2026")


@pytest.mark.parametrize("who, change, error, message", [
    ("hannu", {"until_on": date(2026, 10, 31)}, ValidationError,
     "end date 31.10.2026 must be after the start 1.11.2026"),
    ("hannu", {"until_on": date(2026, 12, 14)}, ValidationError,
     "--until 14.12.2026 is in the past"),
    ("hannu", {"until_on": date(2027, 1, 31)}, ValidationError,
     "nothing to change: client 1 already has these details"),
    ("hannu", {"until_on": date(2027, 3, 31), "reason": None}, ValidationError,
     "--reason is empty"),
    ("hannu", {"review_on": date(2027, 3, 1), "reason": "r"}, ValidationError,
     "--reason goes with --until: it is the handler's decision on the term"),
    ("sanna", {"until_on": date(2027, 3, 31)}, PermissionDenied,
     "user sanna (social_worker) may not client extend; allowed roles: handler"),
])
def test_a_bad_last_day_is_refused_and_nothing_is_written(session, who, change, error, message):
    w = scenario.world(session)
    scenario.client(session, w, start_on=date(2026, 11, 1), until_on=date(2027, 1, 31))
    before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    with pytest.raises(error) as caught:
        edits.edit_client(session, getattr(w, who), "1", today=date(2026, 12, 15),
                          **{"reason": "r", **change})
    assert str(caught.value) == message
    assert session.get(Client, 1).until_on == date(2027, 1, 31)
    assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before


@pytest.mark.parametrize("args, message", [
    (("--until", "31.8.2027", "--reason", "r"), ("criterion rent_debt_fixed_term runs 3–6 months: --until "
                               "31.8.2027 is not between 1.2.2027 and 1.5.2027 (start 1.11.2026)")),
    (("--until", "1.1.2026", "--reason", "r"), "end date 1.1.2026 must be after the start 1.11.2026"),
    (("--until", "28.11.2026", "--reason", "r"), "--until 28.11.2026 is in the past"),
    (("--until", "30.4.2027"), "--reason is empty"),
])
def test_bad_last_days_on_the_command_line_are_one_line_and_write_nothing(
        cli, session_factory, args, message):
    with session_factory() as session, session.begin():
        scenario.client(session, scenario.world(session), criterion=clients.FIXED_TERM,
                        start_on=date(2026, 11, 1), until_on=date(2027, 2, 28))
    result = cli("client", "edit", "1", *args, user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"valitystili: error: {message}\n")
    with session_factory() as session:
        assert session.get(Client, 1).until_on == date(2027, 2, 28)
        assert edit_entries(session) == []


def test_the_command_line_shortens_and_says_what_it_cancelled(cli, session_factory):
    with session_factory() as session, session.begin():
        scenario.client(session, scenario.world(session), criterion=clients.FIXED_TERM,
                        start_on=date(2026, 11, 1), until_on=date(2027, 4, 30))
    result = cli("--format", "json", "client", "edit", "1", "--until", "1.2.2027", "--reason",
                 DECISION_REASON, user="hannu")
    assert (result.exit_code, result.stderr) == (0, "")
    assert cli.json("client", "show", "1", user="hannu")["until_on"] == "2027-02-01"


# --- a decision record --------------------------------------------------------------------------


def decide(session, *, supersedes: int | None = None, today: date = date(2026, 11, 20),
           notes: list[str] | None = None, **fields) -> dict:
    return records.add_record(session, W.hannu, "1", "decision", dated_on=date(2026, 10, 25),
                              fields={"grounds": "rent arrears twice", **fields},
                              supersedes=supersedes, today=today, notes=notes)


def test_the_client_follows_the_decision(session):
    w = scenario.world(session)
    scenario.client(session, w, start_on=date(2026, 11, 1), review_on=date(2027, 2, 1))
    scenario.plan(session, w, 1, effective_on=date(2026, 11, 1))
    notes: list[str] = []
    first = decide(session, start=date(2026, 11, 1), end=date(2027, 4, 30),
                   review=date(2027, 3, 1), criterion="other_weighty",
                   reason="securing a debt-restructuring programme", notes=notes)
    found = session.get(Client, 1)
    assert (found.until_on, found.review_on, found.review_plan_version, found.criterion,
            found.criterion_reason) == (date(2027, 4, 30), date(2027, 3, 1), 1, "other_weighty",
                                        "securing a debt-restructuring programme")
    assert notes == [("client 1 follows decision 1: review 1.3.2027 (was 1.2.2027); criterion "
                     "other_weighty (was evictions); criterion reason securing a "
                     "debt-restructuring programme (was none); end 30.4.2027 (was until "
                     "further notice)")]
    assert edit_entries(session) == [{
        "old": {"review_on": "2027-02-01", "criterion": "evictions", "criterion_reason": None,
                "until_on": None},
        "new": {"review_on": "2027-03-01", "criterion": "other_weighty",
                "criterion_reason": "securing a debt-restructuring programme",
                "until_on": "2027-04-30"},
        "record": 1}]
    shown = card.show_client(session, W.hannu, "1", today=date(2026, 11, 20))
    assert (shown["decision_in_force"], shown["until_on"], shown["review_on"]) == (
        first["record"], date(2027, 4, 30), date(2027, 3, 1))
    # A correction changes only what it gives: here the end.
    notes.clear()
    decide(session, supersedes=1, end=date(2027, 5, 31), notes=notes)
    found = session.get(Client, 1)
    assert (found.until_on, found.review_on, found.criterion) == (
        date(2027, 5, 31), date(2027, 3, 1), "other_weighty")
    assert notes == ["client 1 follows decision 2: end 31.5.2027 (was 30.4.2027)"]
    # A new decision without --end: the service runs until further notice.
    decide(session, start=date(2026, 11, 1), review=date(2027, 3, 1))
    assert session.get(Client, 1).until_on is None
    assert card.show_client(session, W.hannu, "1", today=date(2026, 11, 20))[
        "decision_in_force"] == 3


def test_a_decision_equal_to_the_client_changes_nothing(session):
    w = scenario.world(session)
    scenario.client(session, w, start_on=date(2026, 11, 1), review_on=date(2027, 2, 1))
    notes: list[str] = []
    decide(session, start=date(2026, 11, 1), review=date(2027, 2, 1), notes=notes)
    assert notes == [] and edit_entries(session) == []


@pytest.mark.parametrize("fields, message", [
    ({"review": date(2026, 11, 19)},
     "--review 19.11.2026 is in the past: the client's next review follows the decision"),
    ({"review": date(2027, 2, 1), "end": date(2026, 11, 19)}, "--end 19.11.2026 is in the past"),
    ({"review": date(2027, 2, 1), "criterion": "rent_debt_fixed_term"},
     "criterion rent_debt_fixed_term is fixed-term: give --end 3–6 months after the start"),
    ({"review": date(2027, 2, 1), "criterion": "rent_debt_fixed_term",
      "end": date(2027, 12, 31)},
     ("criterion rent_debt_fixed_term runs 3–6 months: --end 31.12.2027 is not between 1.2.2027 "
     "and 1.5.2027 (start 1.11.2026)")),
])
def test_a_decision_the_client_cannot_follow_is_refused_and_nothing_is_written(
        session, fields, message):
    w = scenario.world(session)
    scenario.client(session, w, start_on=date(2026, 11, 1), review_on=date(2027, 2, 1))
    before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    with pytest.raises(ValidationError) as refused:
        decide(session, start=date(2026, 11, 1), **fields)
    assert str(refused.value) == message
    assert session.execute(select(func.count()).select_from(ClientRecord)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before
    found = session.get(Client, 1)
    assert (found.until_on, found.review_on, found.criterion) == (None, date(2027, 2, 1),
                                                                  "evictions")
