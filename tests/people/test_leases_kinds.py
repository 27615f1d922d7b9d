"""Leases by kind (DESIGN §2, §5), both backends: only supported housing follows the lease
rules; a sublet or own tenancy may be open-ended; leases never overlap; a rent that differs
from the plan's raises a flag."""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers.scenario import (
    CLI_REVIEW,
    DESIGN_EXAMPLE,
    LANDLORD,
    cli_world,
    client,
    plan,
    world,
)
from sqlalchemy import func, select

from valitystili.base.errors import Conflict, ValidationError
from valitystili.flags import service_record
from valitystili.flags.conditions import date_items, refresh_flags
from valitystili.people import leases
from valitystili.store.models import AuditEntry, Flag, Lease

D = date


def add(session, actor, start, end=None, **kw):
    kw.setdefault("payee", LANDLORD)
    kw.setdefault("rent_cents", 52000)
    return leases.add_lease(session, actor, "1", start_on=start, end_on=end, **kw)


@pytest.mark.parametrize("kind", ["sublet", "own"])
def test_a_sublet_or_own_lease_may_be_open_ended_and_of_any_length(session, kind):
    w = world(session)
    client(session, w)
    open_ended = add(session, w.sanna, D(2026, 11, 1), kind=kind)
    assert open_ended == {"lease": 1, "client": 1, "payee": LANDLORD, "kind": kind,
                          "rent_cents": 52000, "start_on": D(2026, 11, 1), "end_on": None,
                          "override": None}
    leases.end_lease(session, w.sanna, 1, end_on=D(2027, 1, 31))
    # Five years at once: no lease rule applies to this kind.
    five_years = add(session, w.sanna, D(2027, 2, 1), D(2032, 1, 31), kind=kind)
    assert (five_years["lease"], five_years["override"]) == (2, None)


def test_a_supported_lease_needs_an_end_and_follows_the_rules(session):
    w = world(session)
    client(session, w)
    with pytest.raises(ValidationError) as caught:
        add(session, w.sanna, D(2026, 11, 1))
    assert str(caught.value) == ("a supported-housing lease has an end (--end DATE); only a "
                                 "sublet or own lease may be open-ended")
    with pytest.raises(ValidationError) as caught:
        add(session, w.sanna, D(2026, 11, 1), D(2027, 2, 28), kind="supported")
    assert str(caught.value).startswith("the first lease of client 1 may last at most 3 months")


def test_leases_of_other_kinds_do_not_count_in_the_supported_rules(session):
    w = world(session)
    client(session, w)
    add(session, w.sanna, D(2022, 11, 1), D(2026, 10, 31), kind="own")    # four years, own
    # The first supported lease: 3 months counted from its own start, the 4 years too.
    first = add(session, w.sanna, D(2026, 11, 1), D(2027, 1, 31))
    assert (first["kind"], first["override"]) == ("supported", None)


@pytest.mark.parametrize("existing, new, message", [
    ((D(2026, 11, 1), D(2027, 1, 31), "supported"), (D(2027, 1, 31), D(2027, 3, 31), "own"),
     "client 1 already has lease 1 (supported, 1.11.2026–31.1.2027) in that time"),
    ((D(2026, 11, 1), None, "sublet"), (D(2030, 1, 1), D(2030, 3, 31), "supported"),
     "client 1 already has lease 1 (sublet, 1.11.2026 with no end) in that time; end it first "
     "(lease end 1 --date DATE)"),
    ((D(2026, 12, 1), D(2027, 2, 28), "supported"), (D(2026, 11, 1), None, "own"),
     "client 1 already has lease 1 (supported, 1.12.2026–28.2.2027) in that time"),
])
def test_overlapping_leases_are_refused_whatever_their_kinds(session, existing, new, message):
    w = world(session)
    client(session, w)
    add(session, w.sanna, existing[0], existing[1], kind=existing[2])
    with pytest.raises(ValidationError) as caught:
        add(session, w.sanna, new[0], new[1], kind=new[2])
    assert str(caught.value) == message
    assert session.execute(select(func.count()).select_from(Lease)).scalar_one() == 1


def test_ending_a_lease_is_audited_and_never_extends_it(session):
    w = world(session)
    client(session, w)
    add(session, w.sanna, D(2026, 11, 1), kind="own")
    ended = leases.end_lease(session, w.hannu, 1, end_on=D(2027, 3, 31))
    assert ended["end_on"] == D(2027, 3, 31)
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "lease.end")) \
        .scalar_one()
    detail = json.loads(entry.detail)
    assert (entry.actor, entry.subject, detail["old"]["end_on"], detail["new"]["end_on"]) == (
        "hannu", "lease:1", None, "2027-03-31")
    with pytest.raises(Conflict) as caught:
        leases.end_lease(session, w.hannu, 1, end_on=D(2027, 4, 30))
    assert str(caught.value) == ("lease 1 already ends 31.3.2027; a lease is ended earlier "
                                 "here, never extended (add a new lease)")
    with pytest.raises(ValidationError) as caught:
        leases.end_lease(session, w.hannu, 1, end_on=D(2026, 10, 31))
    assert str(caught.value) == "lease end 31.10.2026 is before its start 1.11.2026"


def test_an_open_ended_lease_never_raises_lease_ending(session):
    w = world(session)
    client(session, w)
    add(session, w.sanna, D(2026, 11, 1), D(2026, 12, 31), kind="sublet")
    assert [i.what for i in date_items(session, D(2026, 11, 20))] == ["lease_end"]
    add(session, w.sanna, D(2027, 1, 1), kind="sublet")
    assert [i.what for i in date_items(session, D(2026, 11, 20))] == []


def test_a_rent_that_differs_from_the_plan_raises_a_flag_until_they_agree(session):
    w = world(session)
    number = client(session, w)
    plan(session, w, number)                       # rent 520,00 from 1.11.2026
    _, flags = service_record.lease(session, w.sanna, "1", payee=LANDLORD, rent_cents=52000,
                                       start_on=D(2026, 11, 1), end_on=D(2027, 1, 31),
                                       on=D(2026, 11, 20))
    assert flags == []
    _, flags = service_record.lease(session, w.sanna, "1", payee=LANDLORD, rent_cents=54000,
                                    start_on=D(2027, 2, 1), kind="own", on=D(2026, 11, 20))
    stored = session.execute(select(Flag.kind, Flag.subject, Flag.client_id, Flag.amount_cents,
                                    Flag.detail, Flag.resolved_at)).all()
    assert [tuple(row) for row in stored] == [
        ("lease_rent_differs", "lease_rent:2", 1, 2000,
         "lease 2 from 1.2.2027: rent 540,00\u00a0€, the plan in force on 1.2.2027 (version 1) "
         "has 520,00\u00a0€", None)]
    assert [f.subject for f in flags] == ["lease_rent:2"]
    # The nightly refresh keeps it while it holds, and resolves it with a plan of that rent.
    assert refresh_flags(session, D(2026, 11, 21))["lease_rent_differs"] == {"open": 1,
                                                                            "resolved": 0}
    plan(session, w, number, DESIGN_540, effective_on=D(2027, 2, 1), today=D(2026, 11, 21))
    assert refresh_flags(session, D(2026, 11, 22))["lease_rent_differs"] == {"open": 0,
                                                                            "resolved": 1}


#: DESIGN §12's plan with a rent of 540,00 €.
DESIGN_540 = DESIGN_EXAMPLE.replace('amount = "520.00"', 'amount = "540.00"', 1)


def test_lease_commands_take_a_kind_an_optional_end_and_warn_of_a_rent_difference(cli):
    cli_world(cli)
    cli.ok("client", "open", "--hetu", "010594Y123W", "--name", "Maija", "--iban",
           "FI5542345670000081", "--criterion", "sublet", "--worker", "sanna", "--start",
           "1.11.2026", "--review", CLI_REVIEW, "--no-guardianship-need",
           "--no-subsidy-against-will", "--no-kela-pays-landlord", user="sanna")
    refused = cli("lease", "add", "1", "--payee", LANDLORD, "--rent", "520", "--start",
                  "1.11.2026", user="sanna")
    assert (refused.exit_code, refused.stdout, refused.stderr) == (
        2, "", "valitystili: error: a supported-housing lease has an end (--end DATE); only a "
               "sublet or own lease may be open-ended\n")
    added = cli.json("lease", "add", "1", "--payee", LANDLORD, "--rent", "520", "--start",
                     "1.11.2026", "--kind", "own", user="sanna")
    assert (added["kind"], added["end_on"]) == ("own", None)
    overlap = cli("lease", "add", "1", "--payee", LANDLORD, "--rent", "520", "--start",
                  "1.12.2026", "--end", "28.2.2027", user="sanna")
    assert (overlap.exit_code, overlap.stderr) == (
        2, "valitystili: error: client 1 already has lease 1 (own, 1.11.2026 with no end) in "
           "that time; end it first (lease end 1 --date DATE)\n")
    assert cli.json("lease", "end", "1", "--date", "30.11.2026", user="sanna")["end_on"] == \
        "2026-11-30"
    assert [(r["lease"], r["kind"], r["end_on"]) for r in
            cli.json("lease", "list", "1", user="hannu")] == [(1, "own", "2026-11-30")]
