"""The package's boundaries and its records."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from imports import Balance, Entry, Item, Statement

PACKAGE = Path(__file__).resolve().parents[2] / "imports"


def test_imports_never_imports_the_service_or_the_ledger():
    for module in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"valitystili", "ledger", "sqlalchemy"}, (
                    f"{module.name} imports {name}")


def test_reading_files_does_not_load_fints_or_the_service():
    code = (
        "import sys, imports, imports.camt, imports.mt940, imports.csvfile, imports.xmlsafe\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'fints', 'valitystili', 'ledger', 'sqlalchemy'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=PACKAGE.parent, check=True)
    assert done.stdout.strip() == "[]"


def statement(*balances: Balance) -> Statement:
    return Statement("csv", "S", "FI7433010001222090", "EUR", None, None, None, balances, ())


def test_opening_prefers_opbd_then_prcd_and_closing_is_clbd():
    opbd = Balance("OPBD", 100, date(2026, 11, 23))
    prcd = Balance("PRCD", 90, date(2026, 11, 22))
    clbd = Balance("CLBD", 150, date(2026, 11, 23))
    assert statement(prcd, opbd, clbd).opening == opbd
    assert statement(prcd, clbd).opening == prcd
    assert statement(prcd, clbd).closing == clbd
    assert (statement().opening, statement().closing) == (None, None)


def test_records_are_frozen():
    item = Item(100, None, None, None, None, None, None, None, None, None)
    entry = Entry(1, "A", 100, "EUR", "BOOK", None, None, False, None, (item,))
    for record, field in [(item, "amount_cents"), (entry, "archive_id"), (statement(), "iban")]:
        assert dataclasses.is_dataclass(record)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, 1)
