"""Supported-housing leases: 3 months first, then at most 12 months at a time, 4 years in all;
handler overrides. (Kinds, overlaps and the rent flag: test_leases_kinds.py.)"""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import CLI_REVIEW, LANDLORD, cli_world, client, world
from sqlalchemy import select

from valitystili.base.errors import NotFound, PermissionDenied, ValidationError
from valitystili.people import leases
from valitystili.store.models import AuditEntry, Lease

HINT = '; a handler may allow it with --override "reason"'


def add(session, actor, start, end, **kw):
    kw.setdefault("payee", LANDLORD)
    kw.setdefault("rent_cents", 52000)
    return leases.add_lease(session, actor, "1", start_on=start, end_on=end, **kw)


@pytest.mark.parametrize("start, longest", [
    (date(2026, 11, 1), date(2027, 1, 31)),
    (date(2026, 11, 30), date(2027, 2, 28)),    # no 30.2.: the month's last day
    (date(2027, 3, 1), date(2027, 5, 31)),
    (date(2026, 8, 31), date(2026, 11, 30)),
])
def test_the_first_lease_lasts_at_most_three_months(session, start, longest):
    w = world(session)
    client(session, w, start_on=date(2026, 8, 1))
    too_long = date.fromordinal(longest.toordinal() + 1)
    with pytest.raises(ValidationError) as caught:
        add(session, w.hannu, start, too_long)
    fi = lambda d: f"{d.day}.{d.month}.{d.year}"  # noqa: E731
    assert str(caught.value) == (
        f"the first lease of client 1 may last at most 3 months: {fi(start)}–{fi(too_long)} is "
        f"longer (at most until {fi(longest)}){HINT}")
    assert add(session, w.sanna, start, longest)["end_on"] == longest


def test_later_leases_last_at_most_a_year_each_and_four_years_in_all(session):
    w = world(session)
    client(session, w)
    first = add(session, w.sanna, date(2026, 11, 1), date(2027, 1, 31))
    assert first == {"lease": 1, "client": 1, "payee": LANDLORD, "kind": "supported",
                     "rent_cents": 52000, "start_on": date(2026, 11, 1),
                     "end_on": date(2027, 1, 31), "override": None}
    with pytest.raises(ValidationError) as caught:
        add(session, w.sanna, date(2027, 2, 1), date(2028, 2, 1))
    assert str(caught.value) == ("a later lease of client 1 may last at most 12 months: "
                                 f"1.2.2027–1.2.2028 is longer (at most until 31.1.2028){HINT}")
    for year in (2027, 2028, 2029):
        add(session, w.sanna, date(year, 2, 1), date(year + 1, 1, 31))
    add(session, w.sanna, date(2030, 2, 1), date(2030, 10, 31))
    with pytest.raises(ValidationError) as caught:
        add(session, w.sanna, date(2030, 11, 1), date(2030, 11, 30))
    assert str(caught.value) == ("the leases of client 1 may last at most 4 years in all: from "
                                 "1.11.2026 until 31.10.2030, and this one ends 30.11.2030"
                                 f"{HINT}")
    assert [(r["start_on"], r["end_on"]) for r in leases.list_leases(session, w.fiona, "1")][-1] \
        == (date(2030, 2, 1), date(2030, 10, 31))


def test_a_handler_may_override_and_the_override_is_audited(session):
    w = world(session)
    client(session, w)
    with pytest.raises(PermissionDenied, match=r"^user sanna \(social_worker\) may not lease "
                                               r"override; allowed roles: handler$"):
        add(session, w.sanna, date(2026, 11, 1), date(2027, 10, 31), override="only flat free")
    added = add(session, w.hannu, date(2026, 11, 1), date(2027, 10, 31),
                override=" only  flat free ")
    assert added["override"] == "only flat free"
    assert session.get(Lease, 1).override_reason == "only flat free"
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "lease.override")) \
        .scalar_one()
    assert (entry.actor, entry.client_id, entry.subject) == ("hannu", 1, "lease:1")
    assert json.loads(entry.detail)["overridden"] == [
        "the first lease of client 1 may last at most 3 months: 1.11.2026–31.10.2027 is longer "
        "(at most until 31.1.2027)"]


@pytest.mark.parametrize("changes, error, message", [
    ({"end": date(2026, 10, 31)}, ValidationError, "lease end 31.10.2026 is before its start "
                                                   "1.11.2026"),
    ({"rent_cents": 0}, ValidationError, "rent must be more than 0,00\u00a0€"),
    ({"payee": "Vaasan Vesi Oy"}, NotFound, "unknown payee 'Vaasan Vesi Oy'"),
])
def test_bad_leases(session, changes, error, message):
    w = world(session)
    client(session, w)
    changes = dict(changes)   # parameters are shared by both backends
    end = changes.pop("end", date(2027, 1, 31))
    with pytest.raises(error) as caught:
        add(session, w.sanna, date(2026, 11, 1), end, **changes)
    assert str(caught.value) == message


def test_finance_may_not_add_leases(session):
    w = world(session)
    client(session, w)
    with pytest.raises(PermissionDenied, match=r"^user fiona \(finance\) may not lease add; "
                                               r"allowed roles: handler, social_worker$"):
        add(session, w.fiona, date(2026, 11, 1), date(2027, 1, 31))


def test_cli_lease_add_and_list(cli):
    cli_world(cli)
    cli.ok("client", "open", "--hetu", "010594Y123W", "--name", "Maija", "--iban",
           "FI5542345670000081", "--criterion", "sublet", "--worker", "sanna", "--start",
           "1.11.2026", "--review", CLI_REVIEW, user="sanna")
    args = ("lease", "add", "1", "--payee", LANDLORD, "--rent", "520,00", "--start",
            "1.11.2026", "--end", "28.2.2027", "--kind", "supported")
    refused = cli(*args, user="sanna")
    assert (refused.exit_code, refused.stderr) == (
        2, "valitystili: error: the first lease of client 1 may last at most 3 months: "
           "1.11.2026–28.2.2027 is longer (at most until 31.1.2027); a handler may allow it "
           'with --override "reason"\n')
    cli.ok(*args, "--override", "landlord's fixed term", user="hannu")
    assert cli.json("lease", "list", "1", user="fiona") == [
        {"lease": 1, "client": 1, "payee": LANDLORD, "kind": "supported", "rent_cents": 52000,
         "start_on": "2026-11-01", "end_on": "2027-02-28",
         "override": "landlord's fixed term"}]
