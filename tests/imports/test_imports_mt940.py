"""MT940 files through the mt-940 package: balances, signs, references and stable archive ids."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from helpers.readers import write

from imports import Balance, StatementError, detect_format, read_statements
from imports.mt940 import read_mt940

STATEMENT = """\
:20:STMT20261123
:25:FI74 3301 0001 2220 90
:28C:123/1
:60F:C261120EUR1000,00
:61:2611231123C512,40NTRFRF18539007547034//ARCH0001
:86:Kela toimeentulotuki
 marraskuu
:61:2611231123D100,00NMSCNONREF//ARCH0002
:86:Vuokra marraskuu
:61:2611231124RC12,40NTRF12345672
:86:Palautus
:61:2611231123C12,40NTRF12345672
:86:Palautus
:62F:C261124EUR1412,40
:64:C261124EUR1412,40
-
"""

GERMAN = """\
{1:F01BANKDEFFXXXX0000000000}{4:
:20:STARTUMS
:25:12345678/0000000001
:28C:0
:60F:D150101EUR10,00
:61:150101C182,34NMSCNONREF
:86:051?00UEBERWEISG?20Miete Januar?32Vermieter GmbH
:62F:C150101EUR172,34
-}
"""


def test_small_statement(tmp_path):
    path = write(tmp_path, "day.sta", STATEMENT)
    assert detect_format(path) == "mt940"
    [statement] = read_statements(path)
    assert (statement.source, statement.statement_id, statement.iban, statement.currency) == (
        "mt940", "STMT20261123/123/1", "FI7433010001222090", "EUR")
    assert statement.balances == (
        Balance("OPBD", 100_000, date(2026, 11, 20)),
        Balance("CLBD", 141_240, date(2026, 11, 24)),
        Balance("CLAV", 141_240, date(2026, 11, 24)),
    )
    assert (statement.from_on, statement.to_on) == (date(2026, 11, 20), date(2026, 11, 24))
    assert [(e.position, e.amount_cents, e.booked_on, e.value_on, e.reversal, e.bank_code, e.status)
            for e in statement.entries] == [
        (1, 51_240, date(2026, 11, 23), date(2026, 11, 23), False, "NTRF", "BOOK"),
        (2, -10_000, date(2026, 11, 23), date(2026, 11, 23), False, "NMSC", "BOOK"),
        # RC, the reversal of a credit, takes the money back out.
        (3, -1_240, date(2026, 11, 24), date(2026, 11, 23), True, "NTRF", "BOOK"),
        (4, 1_240, date(2026, 11, 23), date(2026, 11, 23), False, "NTRF", "BOOK"),
    ]
    assert statement.opening.amount_cents + sum(e.amount_cents for e in statement.entries) == (
        statement.closing.amount_cents)


def test_items_carry_reference_message_and_bank_reference(tmp_path):
    [statement] = read_mt940(write(tmp_path, "day.sta", STATEMENT))
    kela, rent, _reversal, refund = (e.items[0] for e in statement.entries)
    assert (kela.reference, kela.reference_kind, kela.message, kela.archive_id, kela.amount_cents) == (
        "RF18539007547034", "ISO", "Kela toimeentulotuki marraskuu", "ARCH0001", 51_240)
    assert (rent.reference, rent.reference_kind, rent.message, rent.archive_id) == (
        None, None, "Vuokra marraskuu", "ARCH0002")
    assert (refund.reference, refund.reference_kind) == ("12345672", "SCOR")


def test_same_file_twice_gives_the_same_ids_and_lines_differ(tmp_path):
    # The key: account, statement number, booking date, cents, bank and customer reference,
    # position; joined with the unit separator and hashed.
    path = write(tmp_path, "day.sta", STATEMENT)
    first = [e.archive_id for e in read_mt940(path)[0].entries]
    again = [e.archive_id for e in read_mt940(write(tmp_path, "copy.sta", STATEMENT))[0].entries]
    assert first == again
    assert len(set(first)) == 4
    assert all(i.startswith("mt940:") and len(i) == len("mt940:") + 24 for i in first)
    assert first == [
        "mt940:" + hashlib.sha256(
            "\x1f".join(["FI7433010001222090", "123/1", booked, cents, bank_ref, customer_ref, pos]
                        ).encode()).hexdigest()[:24]
        for booked, cents, bank_ref, customer_ref, pos in [
            ("2026-11-23", "51240", "ARCH0001", "RF18539007547034", "1"),
            ("2026-11-23", "-10000", "ARCH0002", "NONREF", "2"),
            ("2026-11-24", "-1240", "", "12345672", "3"),
            ("2026-11-23", "1240", "", "12345672", "4"),
        ]
    ]


def test_german_blz_account_and_swift_envelope(tmp_path):
    path = write(tmp_path, "umsatz.mta", GERMAN)
    assert detect_format(path) == "mt940"
    [statement] = read_statements(path)
    assert (statement.iban, statement.statement_id, statement.opening, statement.closing) == (
        "12345678/0000000001", "STARTUMS/0",
        Balance("OPBD", -1_000, date(2015, 1, 1)), Balance("CLBD", 17_234, date(2015, 1, 1)))
    [entry] = statement.entries
    [item] = entry.items
    assert (entry.amount_cents, entry.bank_code, item.counterparty_name, item.message) == (
        18_234, "051", "Vermieter GmbH", "Miete Januar")


def test_two_statements_in_one_file(tmp_path):
    second = STATEMENT.replace("STMT20261123", "STMT20261124").replace(":28C:123/1", ":28C:124/1")
    first, other = read_mt940(write(tmp_path, "two.sta", STATEMENT + second))
    assert (first.statement_id, other.statement_id) == ("STMT20261123/123/1", "STMT20261124/124/1")
    # Same lines, other statement number: other ids.
    assert not {e.archive_id for e in first.entries} & {e.archive_id for e in other.entries}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (STATEMENT.replace("C512,40NTRF", "C512,405NTRF"),
         "day.sta: entry 1 has amount 512.405 with more than two decimals"),
        (STATEMENT.replace("C512,40NTRF", "C999999999,00NTRF"),
         "day.sta: entry 1 has amount 999999999.00 over the limit of 100000000.00"),
        (STATEMENT.replace(":60F:C261120EUR1000,00", ":60F:C261120EUR1000,001"),
         "day.sta: statement balance OPBD has amount 1000.001 with more than two decimals"),
        (STATEMENT.replace(":25:FI74 3301 0001 2220 90\n", ""), "day.sta: statement has no account (:25:)"),
        ("just some text\n", "day.sta: no MT940 statement (no :20: line)"),
    ],
    ids=["three-decimals", "absurd", "balance", "no-account", "not-mt940"],
)
def test_bad_mt940(tmp_path, text, message):
    with pytest.raises(StatementError) as caught:
        read_mt940(write(tmp_path, "day.sta", text))
    assert str(caught.value) == message


def test_unparseable_line_is_a_statement_error(tmp_path, capfd):
    broken = STATEMENT.replace(":61:2611231123C512,40NTRF", ":61:26XX31123C512,40NTRF")
    with pytest.raises(StatementError) as caught:
        read_mt940(write(tmp_path, "day.sta", broken))
    assert str(caught.value) == (
        "day.sta: not a readable MT940 file: "
        "cannot parse :61: '26XX31123C512,40NTRFRF18539007547034//ARCH0001'"
    )
    # The library's own multi-line log dump does not reach the terminal.
    assert capfd.readouterr().err == ""
