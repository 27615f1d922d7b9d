"""Importing statements: the units of work the CLI calls (``import FILE...``, ``import fints``).

Rules of this module:

- **Prepare, then book.** One file (or one FinTS fetch) is checked (``reading``), prepared
  (``preparing``: what it would book, nothing written) and booked (``apply``) in the caller's
  transaction: one file, one transaction. A dry run prepares only.
- **Every file is checked before any is written** (:func:`import_files`): reader errors, unknown
  accounts, currencies, amounts, dates and a statement's own arithmetic refuse the whole command
  and nothing is written; then each file is imported in its own unit of work, in the order given.
- Only a user who may import gets as far as reading a file or calling the bank.
- Bulk: the cyclic garbage collector is paused while a file is read, prepared and written
  (``reading.paused_gc``), and ``release=True`` lets the records go once prepared; 100 000
  entries take well under 20 s and 300 MB (``bench/import_bench.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from imports.records import Statement as BankStatement
from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.errors import ValidationError
from valitystili.base.i18n import _
from valitystili.statements.apply import book
from valitystili.statements.bookings import AccountSummary, Bookings
from valitystili.statements.loading import lock_banks
from valitystili.statements.preparing import prepare_import
from valitystili.statements.reading import check_statements, paused_gc, read_file
from valitystili.trust.auth import Actor

#: A unit of work: ``unit(read_only=...)`` opens a transaction as the acting user and yields
#: ``(session, actor)``; all of it is written, or none.
Unit = Callable[..., AbstractContextManager[tuple[Session, Actor]]]
#: ``progress(file name, entries)``: a context yielding a bar with ``update(n)``, or None.
Progress = Callable[[str, int], AbstractContextManager]


@dataclass(frozen=True)
class ImportResult:
    bookings: Bookings
    summaries: tuple[AccountSummary, ...]
    applied: bool

    def rows(self) -> list[dict]:
        return [s.row() for s in self.summaries]


@dataclass(frozen=True)
class StatementFile:
    """One file's (or one fetch's) statements. The list is emptied once they are prepared."""

    name: str
    statements: list[BankStatement]
    sha256: str | None


def import_statements(session: Session, actor: Actor, statements: list[BankStatement], *,
                      file_name: str, file_sha256: str | None = None, dry_run: bool = False,
                      today: date | None = None, calendar: BankingCalendar = CALENDAR,
                      progress: Callable[[int], None] | None = None,
                      release: bool = False) -> ImportResult:
    """Import one file's (or one fetch's) statements in the caller's transaction.

    ``release``: empty the ``statements`` list once it is prepared, so that the records can be
    freed before the bookings are written (peak memory of a large file is then the larger of
    the two, not their sum).
    """
    actor.require("import")
    with paused_gc():
        banks = check_statements(session, statements, file_name)
        if not dry_run:
            lock_banks(session, banks.values())
        bookings = prepare_import(session, statements, file_name=file_name,
                                  file_sha256=file_sha256, today=today, calendar=calendar,
                                  progress=progress, banks=banks)
        if release:
            statements.clear()
        if dry_run:
            return ImportResult(bookings, bookings.summaries, applied=False)
        return ImportResult(bookings, book(session, actor, bookings), applied=True)


def import_file(session: Session, actor: Actor, path: str | os.PathLike[str],
                statement_format: str = "auto", **options) -> ImportResult:
    """Read one statement file and import it (see :func:`import_statements`)."""
    actor.require("import")
    statements, digest = read_file(path, statement_format)
    return import_statements(session, actor, statements, file_name=Path(path).name,
                             file_sha256=digest, release=True, **options)


def require_import(unit: Unit) -> None:
    """Refuse a user who may not import before any file is read or any bank is called."""
    with unit(read_only=True) as (_session, actor):
        actor.require("import")


def read_files(unit: Unit, paths: list[str | os.PathLike[str]], statement_format: str = "auto"
               ) -> list[StatementFile]:
    """Read statement files (for a user who may import); nothing is checked against the
    database yet."""
    require_import(unit)
    files = []
    for path in paths:
        statements, digest = read_file(path, statement_format)
        files.append(StatementFile(os.path.basename(path), statements, digest))
    return files


def import_files(unit: Unit, files: list[StatementFile], *, dry_run: bool = False,
                 progress: Progress | None = None) -> list[ImportResult]:
    """Check every file first, then import each in its own unit of work (see the module rules).

    ``files`` is emptied as it goes, so that each file's records can be freed once prepared."""
    with unit(read_only=True) as (session, actor):
        actor.require("import")
        for file in files:
            check_statements(session, file.statements, file.name)
    results = []
    while files:
        file = files.pop(0)
        entries = sum(len(s.entries) for s in file.statements)
        bar_context = progress(file.name, entries) if progress else nullcontext(None)
        with bar_context as bar, unit(read_only=dry_run) as (session, actor):
            results.append(import_statements(
                session, actor, file.statements, file_name=file.name, file_sha256=file.sha256,
                dry_run=dry_run, progress=bar.update if bar is not None else None,
                release=True))
        del file
    return results


def import_fints(unit: Unit, *, url: str, blz: str, login: str, pin: Callable[[], str],
                 iban: str | None = None, start: date | None = None, end: date | None = None,
                 dry_run: bool = False, progress: Progress | None = None) -> list[ImportResult]:
    """Fetch booked transactions over FinTS (PIN/TAN) and import them as one file.

    ``pin`` is asked only once the user may import; the fetch is checked like any file."""
    if start and end and start > end:
        raise ValidationError(_("--from {start} is after --to {end}").format(
            start=start.isoformat(), end=end.isoformat()))
    require_import(unit)
    from imports.fints_source import fetch_fints  # the FinTS client is heavy: only here

    statements = fetch_fints(url, blz, login, pin(), iban=iban, start=start, end=end)
    return import_files(unit, [StatementFile(f"FinTS {blz} {login}", statements, None)],
                        dry_run=dry_run, progress=progress)
