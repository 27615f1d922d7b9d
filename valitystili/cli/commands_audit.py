"""Commands for the audit trail: verify the hash chain and the ledger, read the access log."""

from __future__ import annotations

import click

import ledger

from .. import audit, clients
from . import cli
from .app import App, pass_app


class ProblemsFound(click.ClickException):
    """The check ran and found problems: exit 1 (DESIGN §11)."""

    exit_code = 1


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail (auditor, admin)."""


@audit_group.command("verify")
@pass_app
def audit_verify(app: App) -> None:
    """Recompute the audit trail's hash chain and check the ledger; exit 1 on any finding.

    The first entry that was altered, deleted or reordered is named.

    \b
    Example:
      valitystili audit verify
    """
    with app.unit(read_only=True) as (session, actor):
        actor.require("audit.read")
        findings = [*audit.verify(session), *ledger.verify(session)]
    app.emit([{"check": f.check, "subject": f.subject, "detail": f.detail} for f in findings])
    if findings:
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        raise ProblemsFound(f"{first.check}: {first.subject}: {first.detail}{more}")


@audit_group.command("log")
@click.option("--client", default=None, help="Only this client's entries: their access history.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@pass_app
def audit_log(app: App, client: str | None, limit: int | None) -> None:
    """Show the audit trail, or one client's access history (Client Data Act 703/2023).

    Reading a client's history is itself recorded.

    \b
    Example:
      valitystili audit log --client 1
      valitystili --format json audit log --client "RF44 1000 0001 3"
    """
    with app.unit() as (session, actor):
        rows = clients.access_log(session, actor, client, limit)
    if app.format != "json":
        # Tables and CSV get the detail as one canonical JSON cell.
        rows = [{**row, "detail": audit.canonical(row["detail"])} for row in rows]
    app.emit(rows)
