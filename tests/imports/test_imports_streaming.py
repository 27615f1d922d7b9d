"""A camt.053 with 100 000 entries is read through the streaming path, entry by entry."""

from __future__ import annotations

from helpers.readers import NS053, balance, camt053, ntry, reference_details, write

from imports import read_statements
from imports.xmlsafe import iter_elements

ENTRIES = 100_000


def write_big_statement(path) -> int:
    """Write the statement in chunks (never as one string); return the expected sum in cents."""
    total = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS053}"><BkToCstmrStmt>')
        out.write("<GrpHdr><MsgId>BIG</MsgId><CreDtTm>2026-11-23T06:00:00+02:00</CreDtTm></GrpHdr>")
        out.write("<Stmt><Id>BIG-1</Id><Acct><Id><IBAN>FI7433010001222090</IBAN></Id><Ccy>EUR</Ccy></Acct>")
        out.write(balance("OPBD", "0.00"))
        chunk = []
        for n in range(1, ENTRIES + 1):
            cents = n % 50_000 + 1  # 0.01 ... 500.00
            debit = n % 10 == 0
            total += -cents if debit else cents
            amount = f"{cents // 100}.{cents % 100:02d}"
            details = "" if debit else reference_details(amount, "3900", f"B{n:06d}-1", "Maksaja")
            chunk.append(ntry(amount, indicator="DBIT" if debit else "CRDT",
                              archive_id=f"B{n:06d}", details=details))
            if len(chunk) == 5_000:
                out.write("\n".join(chunk))
                chunk = []
        out.write("\n".join(chunk))
        out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return total


def test_hundred_thousand_entries(tmp_path):
    path = tmp_path / "big053.xml"
    expected_total = write_big_statement(path)

    [statement] = read_statements(path)

    assert statement.statement_id == "BIG-1"
    assert len(statement.entries) == ENTRIES
    assert sum(e.amount_cents for e in statement.entries) == expected_total == 2_000_130_000
    first, last = statement.entries[0], statement.entries[-1]
    assert (first.position, first.archive_id, first.amount_cents) == (1, "B000001", 2)
    assert (last.position, last.archive_id, last.amount_cents) == (100_000, "B100000", -1)
    assert first.items[0].archive_id == "B000001-1"
    assert sum(len(e.items) for e in statement.entries) == ENTRIES


def test_processed_entries_are_dropped_from_the_tree(tmp_path):
    text = camt053("".join(ntry("1.00", archive_id=f"E{n}") for n in range(1, 6)))
    path = write(tmp_path, "five.xml", text)
    ntry_tag, stmt_tag = f"{{{NS053}}}Ntry", f"{{{NS053}}}Stmt"
    seen = []
    for element in iter_elements(path, (ntry_tag, stmt_tag)):
        parent = element.getparent()
        if element.tag == ntry_tag:
            seen.append(element.findtext(f"{{{NS053}}}AcctSvcrRef"))
            # Every earlier entry is already gone (later ones may be parsed ahead, a chunk at a
            # time): this one is the first entry left under the statement.
            assert parent.find(ntry_tag) is element
        else:
            assert element.findall(ntry_tag) == []
            assert element.findtext(f"{{{NS053}}}Id") == "STMT1"
    assert seen == ["E1", "E2", "E3", "E4", "E5"]
