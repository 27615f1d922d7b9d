"""Checking a whole database (``db check``): every verification the service has, on the
database it is pointed at — typically a copy restored from a backup.

Rules of this module:

- The parts, each one line (``verification.Checked``), in this order: the database itself
  (SQLite: ``integrity_check`` and ``foreign_key_check``; PostgreSQL keeps its own pages, and
  the line names the schema and its revision), then ``audit verify``'s parts (the trail's
  chain, the ledger transactions each entry posted, the audited state, the ledger's invariants,
  which are ``ledger verify``), the head the last ``reconcile`` recorded, and reconciliation's
  checks as of a day (``reconcile --check``; its integrity part is the parts above, not run
  twice). The findings come in the same order.
- **Writes nothing**: no flag, no reconcile entry or head, no access-log view (like ``audit
  verify``: the findings name accounts, keys and positions, not a client's personal data). On
  PostgreSQL the transaction is ``READ ONLY``, so the database itself refuses any write.
- Auditors and admins (``db.check``), who may run ``audit verify`` and ``reconcile``.
- A ledger with nothing to reconcile (no bank account, no statement yet) is no finding here:
  its line says so. (``reconcile`` exits 3 for it, so cron never takes a mistyped database for
  a clean one; ``db check`` is run by a person on a database they name, which must hold a
  ledger at the current revision to be checked at all.)
- Findings are data; the command prints them and chooses the exit status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.findings import Finding
from valitystili.base.i18n import Message, _, ngettext
from valitystili.base.money import format_count
from valitystili.oversight import checks, reconcile, verification
from valitystili.oversight.verification import Checked
from valitystili.trust import audit
from valitystili.trust.auth import Actor

#: Reconciliation's checks that ``db check`` runs as such (``check_integrity`` is its parts).
RECONCILE_CHECKS = tuple(check for check in checks.CHECKS if check is not checks.check_integrity)


@dataclass(frozen=True)
class DatabaseChecked:
    """What ``db check`` checked, part by part, and what it found."""

    findings: tuple[Finding, ...]
    checked: tuple[Checked, ...]

    @property
    def clean(self) -> bool:
        return not self.findings


def check_database(session: Session, actor: Actor, as_of: date | None = None, *,
                   expect_head: audit.Head | None = None, calendar: BankingCalendar = CALENDAR,
                   today: date | None = None) -> DatabaseChecked:
    """Every verification of the database (see the module rules); nothing is written."""
    actor.require("db.check")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION READ ONLY"))
    today = today or date.today()
    parts = [_database(session)]
    records = verification.verify_records(session, actor, expect_head)
    parts.append((list(records.findings), records.checked))
    parts.append(_recorded_head(session))
    parts.append(_reconciliation(session, as_of or today, calendar, today))
    findings = tuple(finding for found, _ in parts for finding in found)
    checked = tuple(line for _, lines in parts for line in lines)
    return DatabaseChecked(findings, checked)


Part = tuple[list[Finding], tuple[Checked, ...]]


def _database(session: Session) -> Part:
    """SQLite: the file's pages and its foreign keys. PostgreSQL: the schema and revision."""
    connection = session.connection()
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    if connection.dialect.name != "sqlite":
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        return [], (Checked(_("database"), _("PostgreSQL schema {schema}").format(schema=schema),
                            _("revision {revision}").format(revision=revision), 0),)
    findings = [Finding("database_integrity", "sqlite", problem)
                for (problem,) in connection.exec_driver_sql("PRAGMA integrity_check")
                if problem != "ok"]
    for table, rowid, parent, _key in connection.exec_driver_sql("PRAGMA foreign_key_check"):
        findings.append(Finding("database_foreign_key", f"{table} row {rowid}",
                                Message("names a row of {table} that does not exist",
                                        table=parent)))
    return findings, (Checked(_("database"),
                              _("SQLite at revision {revision}").format(revision=revision),
                              _("integrity_check and foreign_key_check ok"), len(findings)),)


def _recorded_head(session: Session) -> Part:
    """The head the last reconcile recorded is still in the trail."""
    recorded = audit.last_recorded_head(session)
    if recorded is None:
        return [], (Checked(_("recorded head"), _("none recorded yet"), _("nothing to compare"),
                            0),)
    findings = audit.check_recorded_head(session)
    return findings, (Checked(_("recorded head"), _("position {position}").format(
                                  position=format_count(recorded.position)),
                              _("still in the trail"), len(findings)),)


def _reconciliation(session: Session, as_of: date, calendar: BankingCalendar,
                    today: date) -> Part:
    """Reconciliation's checks as of ``as_of`` (``reconcile --check``), integrity left out."""
    part = _("reconciliation as of {day}").format(day=format_fi_date(as_of))
    reason = reconcile.nothing_to_reconcile(session)
    if reason is not None:
        return [], (Checked(part, _("nothing to reconcile"), _(reason), 0),)
    context = checks.context_for(session, as_of, calendar, today)
    findings = checks.run_checks(session, context, RECONCILE_CHECKS)
    statements = checks.count_statements(session, as_of)
    looked_at = ngettext("{count} statement", "{count} statements", statements).format(
        count=format_count(statements))
    return findings, (Checked(part, looked_at, _("the books agree with the bank and themselves"),
                              len(findings)),)
