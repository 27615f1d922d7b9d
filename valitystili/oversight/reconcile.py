"""Reconciliation for cron: the checks, then the flags and the audit entry. (DESIGN §4, §7, §8)

``check_all(session, as_of)`` runs every check of ``oversight.checks`` (registered in
``checks.CHECKS``; the module lists them) and returns the findings as data; ``reconcile()`` is
what the ``reconcile`` command (and cron) runs: the checks, the nightly flag refresh, the
*reconciliation_mismatch* flags and one audit entry, in the caller's transaction.

Each reconcile records the audit trail's head after its own entry (``audit_heads``), unless
the trail itself had findings (then the next run still compares with the last good head).

Nothing to reconcile is not clean: a ledger with no bank account, or no imported statement,
is ``CannotRun`` (exit 3), so a mistyped database never looks clean to cron (DESIGN §8).

**Checking only.** An auditor changes nothing (DESIGN §2), and ``check_only`` (``reconcile
--check``) gives anyone the same: the checks run and their findings are returned, but no flag
is raised or resolved, no ``reconcile`` entry or head is recorded. The one write is the access
log: the clients the findings name are recorded as viewed (``access.record_view``, action
``reconcile.view``), as every view of client data is; a run whose findings name no client
writes nothing at all.

Flags: ``reconcile()`` refreshes the flags (``flags.conditions.refresh_flags``) and keeps one
*reconciliation_mismatch* flag per finding (subject ``<check>:<subject>``), resolving those
whose finding is gone. One condition is one flag: findings that have a flag kind of their own
raise no *reconciliation_mismatch* besides it (``OWN_FLAG_CHECKS``: an uncleared payment has
its *uncleared_payment* flag, money left in suspense the *unmatched_income* or
*unmatched_debit* flag its import raised). Looking at the
past never rewrites the present: when an earlier reconcile already refreshed flags as of a later
day than ``as_of``, flags are left alone (``flags_refreshed`` is False). ``fail_on`` kinds add an
``open_flag`` finding per open flag of those kinds, so monitoring sees them in the exit status.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valitystili.base.banking_calendar import CALENDAR, BankingCalendar
from valitystili.base.dates import format_fi_date
from valitystili.base.errors import CannotRun, ValidationError
from valitystili.base.findings import Finding
from valitystili.base.i18n import N_, Message, _, ngettext
from valitystili.flags import conditions
from valitystili.flags.conditions import client_id_of
from valitystili.flags.raising import KINDS, FlagRaised, shown_detail
from valitystili.oversight import checks
from valitystili.store.models import AuditEntry, BankAccount, Flag, Statement
from valitystili.trust import access, audit
from valitystili.trust.auth import Actor

#: Findings of these checks have their own flag kind; the others raise reconciliation_mismatch.
#: (``suspense_old``: the import flagged the line unmatched_income / unmatched_debit.)
OWN_FLAG_CHECKS = frozenset({"uncleared_payment", "suspense_old"})

#: After these the trail's head is not recorded: the next run compares with the last good one.
UNTRUSTED_TRAIL = frozenset({"audit_chain", "audit_rewound", "audit_rewritten"})


@dataclass(frozen=True)
class Reconciliation:
    as_of: date
    findings: tuple[Finding, ...]
    statements: int
    bank_accounts: int
    clients: int
    flags_refreshed: bool
    flag_summary: dict = field(default_factory=dict)
    checked_only: bool = False

    @property
    def clean(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        """One line for people (stderr), in the current language."""
        counts = Counter(f.check for f in self.findings)
        what = _("reconciled as of {day}: {statements}, {bank_accounts}, {clients}").format(
            day=format_fi_date(self.as_of),
            statements=ngettext("{count} statement", "{count} statements",
                                self.statements).format(count=self.statements),
            bank_accounts=ngettext("{count} bank account", "{count} bank accounts",
                                   self.bank_accounts).format(count=self.bank_accounts),
            clients=ngettext("{count} client", "{count} clients",
                             self.clients).format(count=self.clients))
        if not counts:
            result = _("no findings")
        else:      # the checks' names stay as they are: scripts and --fail-on use them
            result = ngettext("{count} findings ({by_check})", "{count} findings ({by_check})",
                              len(self.findings)).format(
                count=len(self.findings),
                by_check=", ".join(f"{check} {n}" for check, n in sorted(counts.items())))
        if self.checked_only:
            return _("{what}; {result}; checked only: no flags refreshed, nothing recorded"
                     ).format(what=what, result=result)
        if not self.flags_refreshed:
            return _("{what}; {result}; flags not refreshed (a later day was already judged)"
                     ).format(what=what, result=result)
        return _("{what}; {result}").format(what=what, result=result)


@dataclass(frozen=True)
class _Checked:
    findings: list[Finding]
    statements: int
    bank_accounts: int
    clients: int


def _check(session: Session, as_of: date, calendar: BankingCalendar, today: date) -> _Checked:
    context = checks.context_for(session, as_of, calendar, today)
    findings = checks.run_checks(session, context)
    bank_accounts = session.execute(select(func.count()).select_from(BankAccount)).scalar_one()
    clients = sum(1 for b in context.balances if client_id_of(b.code) is not None)
    return _Checked(findings, checks.count_statements(session, as_of), bank_accounts, clients)


def check_all(session: Session, as_of: date, *, calendar: BankingCalendar = CALENDAR,
              today: date | None = None) -> list[Finding]:
    """Every reconciliation finding as of the end of ``as_of`` (nothing is written)."""
    return _check(session, as_of, calendar, today or date.today()).findings


# --- the command -----------------------------------------------------------------------------


def _last_refresh_on(session: Session) -> date | None:
    """The latest day a reconcile has refreshed flags as of (carried in its audit entry)."""
    detail = session.execute(
        select(AuditEntry.detail).where(AuditEntry.action == "reconcile")
        .order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()
    if detail is None:
        return None
    day = json.loads(detail).get("flags_as_of")
    return date.fromisoformat(day) if day else None


def mismatch_conditions(findings: Iterable[Finding]) -> list[FlagRaised]:
    found = {}
    for finding in findings:
        if finding.check in OWN_FLAG_CHECKS:
            continue
        subject = f"{finding.check}:{finding.subject}"[:200]
        found[subject] = FlagRaised("reconciliation_mismatch", subject,
                                    client_id_of(finding.subject), finding.amount_cents,
                                    finding.detail)
    return list(found.values())


def check_kinds(kinds: Iterable[str]) -> list[str]:
    """The flag kinds, once each; an unknown one is a ``ValidationError``."""
    kinds = list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValidationError(_("unknown flag kind {kind}; known: {known}").format(
            kind=repr(unknown[0]), known=", ".join(KINDS)))
    return kinds


def open_flag_findings(session: Session, kinds: Iterable[str]) -> list[Finding]:
    """An ``open_flag`` finding for each open flag of ``kinds`` (for ``--fail-on``)."""
    return [finding for finding, _client in _open_flags(session, kinds)]


def _open_flags(session: Session, kinds: Iterable[str]) -> list[tuple[Finding, int | None]]:
    """(``open_flag`` finding, the flag's client) for each open flag of ``kinds``."""
    kinds = check_kinds(kinds)
    if not kinds:
        return []
    flags = session.execute(select(Flag).where(Flag.kind.in_(kinds), Flag.resolved_at.is_(None))
                            .order_by(Flag.id)).scalars()
    return [(Finding("open_flag", f"flag {flag.id}", _open_flag_detail(flag), flag.amount_cents),
             flag.client_id) for flag in flags]


def _open_flag_detail(flag: Flag) -> Message:
    """``arrears client 6 rent:6:2026-11: rent due …``: the flag's own detail shown in the
    reader's language, as ``flags`` shows it (the English is the stored text)."""
    values = {"kind": flag.kind, "subject": flag.subject}
    if flag.client_id is not None:
        values["client"] = flag.client_id
    if flag.detail:
        values["detail"] = shown_detail(flag)
    return Message(OPEN_FLAG_DETAIL[("client" in values, "detail" in values)], **values)


#: An open flag as a finding, by (has a client, has a detail).
OPEN_FLAG_DETAIL = {
    (True, True): N_("{kind} client {client} {subject}: {detail}"),
    (True, False): N_("{kind} client {client} {subject}"),
    (False, True): N_("{kind} {subject}: {detail}"),
    (False, False): N_("{kind} {subject}"),
}


#: Why there is nothing to reconcile (``db check`` says the reason; ``reconcile`` stops with it).
NO_BANK_ACCOUNT = N_("the ledger has no bank account")
NO_STATEMENT = N_("no bank statement has been imported")
#: ``reconcile``'s line for each reason, with what to do.
NOTHING_TO_RECONCILE = {
    NO_BANK_ACCOUNT: N_("nothing to reconcile: the ledger has no bank account (add the city's "
                        "account with `valitystili bank add`)"),
    NO_STATEMENT: N_("nothing to reconcile: no bank statement has been imported "
                     "(`valitystili import`)"),
}


def nothing_to_reconcile(session: Session) -> str | None:
    """Why the ledger has nothing to reconcile (``NO_BANK_ACCOUNT``, ``NO_STATEMENT``, English),
    or None."""
    if session.execute(select(BankAccount.id).limit(1)).first() is None:
        return NO_BANK_ACCOUNT
    if session.execute(select(Statement.id).limit(1)).first() is None:
        return NO_STATEMENT
    return None


def require_something_to_reconcile(session: Session) -> None:
    """``CannotRun`` for a ledger with no bank account or no imported statement (DESIGN §8)."""
    reason = nothing_to_reconcile(session)
    if reason is not None:
        raise CannotRun(_(NOTHING_TO_RECONCILE[reason]))


def reconcile(session: Session, actor: Actor, as_of: date | None = None, *,
              fail_on: Iterable[str] = (), check_only: bool = False,
              calendar: BankingCalendar = CALENDAR, today: date | None = None) -> Reconciliation:
    """Run every check as of ``as_of`` (default today), refresh flags, record one audit entry.

    ``check_only`` (always for a user who may not refresh the flags: an auditor) runs the
    checks and writes nothing but the access log (see the module docstring)."""
    actor.require("reconcile")
    today = today or date.today()
    as_of = as_of or today
    fail_on = check_kinds(fail_on)
    check_only = check_only or not actor.may("reconcile.refresh")
    require_something_to_reconcile(session)

    checked = _check(session, as_of, calendar, today)
    if check_only:
        flagged = _open_flags(session, fail_on)
        findings = [*checked.findings, *(finding for finding, _client in flagged)]
        named = {client_id_of(f.subject) for f in checked.findings}
        named |= {client for _finding, client in flagged}
        access.record_view(session, actor, "reconcile.view", named - {None},
                           subject=f"as of {as_of.isoformat()}",
                           detail={"findings": len(findings)})
        return Reconciliation(as_of, tuple(findings), checked.statements, checked.bank_accounts,
                              checked.clients, False, {}, checked_only=True)
    last = _last_refresh_on(session)
    refresh = last is None or as_of >= last
    summary: dict = {}
    if refresh:
        summary = conditions.refresh_flags(session, as_of, calendar=calendar, today=today)
        summary.update(conditions.apply_conditions(
            session, ["reconciliation_mismatch"], mismatch_conditions(checked.findings), as_of))
    findings = [*checked.findings, *open_flag_findings(session, fail_on)]

    counts = Counter(f.check for f in findings)
    flags_as_of = as_of if refresh else last      # refresh only happens when as_of >= last
    audit.record(session, actor.name, "reconcile", subject=f"as of {as_of.isoformat()}",
                 detail={"as_of": as_of.isoformat(), "findings": len(findings),
                         "by_check": dict(sorted(counts.items())), "flags_refreshed": refresh,
                         "flags_as_of": flags_as_of.isoformat() if flags_as_of else None,
                         "fail_on": fail_on})
    if not any(f.check in UNTRUSTED_TRAIL for f in findings):
        audit.record_head(session, actor.name)
    return Reconciliation(as_of, tuple(findings), checked.statements, checked.bank_accounts,
                          checked.clients, refresh, summary)
