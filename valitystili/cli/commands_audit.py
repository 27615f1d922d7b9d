"""Commands for the audit trail: verify the hash chain and the ledger, read the access log."""

from __future__ import annotations

import click

from valitystili.base.i18n import N_, _, ngettext, shown
from valitystili.cli import tables
from valitystili.cli.app import App, pass_app


class ProblemsFound(click.ClickException):
    """The check ran and found problems: exit 1 (DESIGN §11)."""

    exit_code = 1


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail (auditor, admin)."""


@audit_group.command("verify")
@click.option("--expect-head", "expect_head", metavar="POSITION:HASH", default=None,
              help=N_("A head printed by an earlier verify: the trail must still hold that entry."))
@pass_app
def audit_verify(app: App, expect_head: str | None) -> None:
    """Check the audit trail and the ledger; print the findings and the head; exit 1 on any.

    Checks the hash chain position by position (every entry deleted, reordered or altered is
    named), that every ledger transaction was posted by an audited action, that users,
    settings and payment batches are as the trail says, and the ledger's own invariants. What
    was checked, part by part with its result ("audit trail: 1 234 entries, chain intact"),
    and the head (last position and hash) go to stderr: keep the head somewhere safe and pass
    it back with --expect-head to find a trail cut short or rewritten.

    \b
    Example:
      valitystili audit verify
      valitystili audit verify --expect-head 1234:5f0e…(the 64 hex digits printed earlier)
    """
    from valitystili.oversight import verification
    from valitystili.trust import audit

    expected = audit.parse_head(expect_head) if expect_head is not None else None
    with app.unit(read_only=True) as (session, actor):
        verified = verification.verify_records(session, actor, expected)
    findings = verified.findings
    app.emit([{"check": f.check, "subject": f.subject, "detail": f.detail} for f in findings],
             tables.VERIFY_FINDINGS)
    for part in verified.checked:
        app.info(part.line())
    app.info(_("head: {head}").format(head=verified.head) if verified.head
             else _("head: none (the trail is empty)"))
    if findings:
        first = findings[0]
        line = f"{first.check}: {first.subject}: {shown(first.detail)}"   # its own words
        if len(findings) > 1:
            line = ngettext("{finding} (and {count} more)", "{finding} (and {count} more)",
                            len(findings) - 1).format(finding=line, count=len(findings) - 1)
        raise ProblemsFound(line)


@audit_group.command("log")
@click.option("--client", default=None, help=N_("Only this client's entries: their access history."))
@click.option("--limit", type=click.IntRange(min=1), default=None, help=N_("At most this many."))
@pass_app
def audit_log(app: App, client: str | None, limit: int | None) -> None:
    """Show the audit trail, or one client's access history (Client Data Act 703/2023).

    Reading a client's history is itself recorded.

    \b
    Example:
      valitystili audit log --client 1
      valitystili --format json audit log --client "RF44 1000 0001 3"
    """
    from valitystili.people import clients
    from valitystili.trust import audit, audit_words

    with app.unit() as (session, actor):
        rows = clients.access_log(session, actor, client, limit)
    # Each entry in words for people (the table shows it; the raw detail with --wide).
    rows = [{**row, "summary": audit_words.summary(row["action"], row["subject"], row["detail"])}
            for row in rows]
    if app.format != "json":
        # Tables and CSV get the detail as one canonical JSON cell.
        rows = [{**row, "detail": audit.canonical(row["detail"])} for row in rows]
    app.emit(rows, tables.AUDIT_LOG)
