"""Payees and the city's bank accounts: validation, roles, ledger accounts, CLI wiring."""

from __future__ import annotations

import pytest
from helpers.scenario import (
    CITY_IBAN,
    LANDLORD,
    LANDLORD_IBAN,
    UTILITY,
    UTILITY_IBAN,
    cli_world,
    world,
)

import ledger
from valitystili.base.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from valitystili.people import banks, payees
from valitystili.trust.auth import Actor

HANDLER = Actor("hannu", "handler")
ADMIN = Actor("admin", "admin")


# --- payees -------------------------------------------------------------------------------------


def test_a_payee_gets_its_bic_from_the_iban(session):
    added = payees.add_payee(session, HANDLER, name=" Vaasan  Asunnot Oy ",
                             iban="fi21 1234 5600 0007 85", kind="landlord")
    assert added == {"payee": 1, "name": "Vaasan Asunnot Oy", "payment_name": None,
                     "iban": "FI2112345600000785",
                     "bic": "NDEAFIHH", "kind": "landlord"}
    assert payees.list_payees(session, Actor("aune", "auditor")) == [added]


def test_a_given_bic_is_kept(session):
    added = payees.add_payee(session, HANDLER, name="Kiinteistö Oy", iban=UTILITY_IBAN,
                             bic="okoyfihh")
    assert (added["bic"], added["kind"]) == ("OKOYFIHH", "other")


@pytest.mark.parametrize("options, message", [
    ({"iban": "FI9112345600000786"}, "IBAN FI9112345600000786 has a wrong national check digit"),
    ({"iban": "FI2112345600000786"}, "IBAN FI2112345600000786 has wrong check digits"),
    ({"bic": "XX"}, None),
    ({"kind": "bank"}, "payee kind 'bank' is not one of landlord, utility, other"),
    ({"name": "12345"}, "payee name '12345' must not be digits only (ids are digits)"),
    ({"name": "  "}, "payee name is empty"),
])
def test_bad_payees_are_refused_with_one_line(session, options, message):
    fields = {"name": LANDLORD, "iban": LANDLORD_IBAN, **options}
    with pytest.raises(ValidationError) as caught:
        payees.add_payee(session, HANDLER, **fields)
    if message is not None:
        assert str(caught.value) == message
    else:
        assert str(caught.value).startswith("BIC XX is not valid")
    assert payees.list_payees(session, HANDLER) == []


def test_a_payee_name_is_unique(session):
    payees.add_payee(session, HANDLER, name=LANDLORD, iban=LANDLORD_IBAN)
    with pytest.raises(Conflict, match=r"^payee 'Vaasan Asunnot Oy' already exists \(payee 1\)$"):
        payees.add_payee(session, HANDLER, name=LANDLORD, iban=UTILITY_IBAN)


@pytest.mark.parametrize("role", ["finance", "auditor", "admin"])
def test_only_handlers_and_social_workers_add_payees(session, role):
    with pytest.raises(PermissionDenied) as caught:
        payees.add_payee(session, Actor("x", role), name=LANDLORD, iban=LANDLORD_IBAN)
    assert str(caught.value) == (f"user x ({role}) may not payee add; "
                                 "allowed roles: handler, social_worker")


def test_payees_resolve_by_id_name_or_unique_name_in_any_case(session):
    w = world(session)
    assert payees.resolve_payee(session, str(w.utility)).name == UTILITY
    assert payees.resolve_payee(session, w.utility).name == UTILITY
    assert payees.resolve_payee(session, "VAASAN SÄHKÖ OY").id == w.utility
    assert payees.resolve_payee(session, " Vaasan  Asunnot Oy").id == w.landlord
    with pytest.raises(NotFound, match=r"^unknown payee 'Vaasan Vesi Oy'$"):
        payees.resolve_payee(session, "Vaasan Vesi Oy")
    with pytest.raises(NotFound, match=r"^unknown payee 99$"):
        payees.resolve_payee(session, "99")


# --- the city's bank accounts -------------------------------------------------------------------


def test_bank_add_opens_the_bank_outgoing_and_suspense_accounts(session):
    added = banks.add_bank_account(session, ADMIN, iban=CITY_IBAN, name="Välitystili")
    assert added == {"bank": 1, "iban": CITY_IBAN, "name": "Välitystili", "bic": "ESSEFIHX",
                     "ledger_code": f"bank:{CITY_IBAN}", "balance_cents": 0}
    assert [(b.code, b.kind) for b in ledger.balances(session)] == [
        (f"bank:{CITY_IBAN}", "asset"), ("outgoing", "liability"), ("suspense", "liability")]
    # A second account shares outgoing and suspense.
    banks.add_bank_account(session, ADMIN, iban=LANDLORD_IBAN, name="Toinen")
    codes = sorted(b.code for b in ledger.balances(session))
    assert codes == [f"bank:{LANDLORD_IBAN}", f"bank:{CITY_IBAN}", "outgoing", "suspense"]
    assert [a["iban"] for a in banks.list_bank_accounts(session, HANDLER)] == [
        CITY_IBAN, LANDLORD_IBAN]


def test_bank_add_refuses_a_duplicate_a_bad_iban_and_non_admins(session):
    banks.add_bank_account(session, ADMIN, iban=CITY_IBAN, name="Välitystili")
    with pytest.raises(Conflict, match=rf"^bank account {CITY_IBAN} already exists$"):
        banks.add_bank_account(session, ADMIN, iban=CITY_IBAN, name="Again")
    with pytest.raises(ValidationError,
                       match=r"^IBAN FI7433010001222091 has wrong check digits$"):
        banks.add_bank_account(session, ADMIN, iban="FI7433010001222091", name="Typo")
    with pytest.raises(PermissionDenied,
                       match=r"^user fiona \(finance\) may not bank add; allowed roles: admin$"):
        banks.add_bank_account(session, Actor("fiona", "finance"), iban=UTILITY_IBAN, name="X")


# --- CLI wiring ---------------------------------------------------------------------------------


def test_cli_payees_and_banks(cli):
    cli_world(cli)
    assert cli.json("payee", "list", user="sanna") == [
        {"payee": 1, "name": LANDLORD, "payment_name": None, "iban": LANDLORD_IBAN,
         "bic": "NDEAFIHH", "kind": "landlord"},
        {"payee": 2, "name": UTILITY, "payment_name": None, "iban": UTILITY_IBAN,
         "bic": "OKOYFIHH", "kind": "utility"},
    ]
    assert cli.ok("bank", "list", user="fiona") == (
        "bank  iban                    name         bic       balance €\n"
        "----  ----------------------  -----------  --------  ---------\n"
        "1     FI74 3301 0001 2220 90  Välitystili  ESSEFIHX       0,00\n"
    )


def test_cli_bad_iban_is_one_line_and_exit_2(cli):
    cli.ok("user", "add", "hannu", "--role", "handler")
    result = cli("payee", "add", "--name", "X Oy", "--iban", "FI9112345600000786", user="hannu")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "valitystili: error: IBAN FI9112345600000786 has a wrong national check digit\n")


def test_cli_bank_add_is_for_admins(cli):
    cli.ok("user", "add", "hannu", "--role", "handler")
    result = cli("bank", "add", "--iban", CITY_IBAN, "--name", "V", user="hannu")
    assert (result.exit_code, result.stderr) == (
        2, "valitystili: error: user hannu (handler) may not bank add; allowed roles: admin\n")
