"""The columns of every command that prints a list: one home for how each table looks.

Rules of this module:

- Each spec names **every key** of its command's rows, **in the rows' order**: an empty list's
  CSV header is the spec's, so it must be the header a full list has
  (tests/cli/test_output_contract.py holds each spec equal to the keys its command prints). A
  key added to a service's rows is added here too.
- A table fits ``output.TABLE_WIDTH`` (100) characters: what a person needs to act on is shown;
  long keys, archive ids, our own account and repeated details are ``wide`` (shown with
  ``--wide``); kinds, states and IBANs are never cut; long free texts are cut with ``…``.
- Presentation only: nothing is computed here beyond a column's short form (``Column.show``).
- A table's header of a key is :data:`HEADERS`'s (marked ``N_``, translated when a table is
  made; CSV and JSON keep the keys); a key not in it gets one made from the key, in English.
  A ``Column``'s own header is marked ``N_`` too.
"""

from __future__ import annotations

from dataclasses import replace

from valitystili.base.i18n import N_, _
from valitystili.cli.output import Column, columns

#: Each key's header in a table for people (records and lists alike), English, marked for the
#: catalogue. Keys of the translated commands are here; the others get headers made from keys.
HEADERS = {
    "accepted": N_("accepted"),
    "account": N_("account"),
    "account_cents": N_("account €"),
    "ack_by": N_("ack by"),
    "ack_comment": N_("ack comment"),
    "action": N_("action"),
    "actor": N_("actor"),
    "admin": N_("admin"),
    "allow_partial": N_("allow partial"),
    "already_present": N_("already present"),
    "already_rejected": N_("already rejected"),
    "amount_cents": N_("amount €"),
    "anonymised": N_("anonymised"),
    "approved_at": N_("approved at"),
    "approved_by": N_("approved by"),
    "approved_despite": N_("approved despite"),
    "archive_id": N_("archive id"),
    "assigned_by_handler": N_("assigned by handler"),
    "at": N_("at"),
    "audit_parts": N_("audit parts"),
    "author": N_("author"),
    "balance_cents": N_("balance €"),
    "bank": N_("bank"),
    "bank_balance_cents": N_("bank balance €"),
    "bank_status": N_("bank"),
    "banking_days": N_("banking days"),
    "batch": N_("batch"),
    "bic": N_("bic"),
    "bill": N_("bill"),
    "bills": N_("bills"),
    "bills_paid_cents": N_("bills paid €"),
    "booked_on": N_("booked on"),
    "cancelled": N_("cancelled"),
    "check": N_("check"),
    "cleared": N_("cleared"),
    "client": N_("client"),
    "clients": N_("clients"),
    "closed_on": N_("closed on"),
    "closing_cents": N_("closing €"),
    "created_at": N_("created at"),
    "created_by": N_("created by"),
    "criterion": N_("criterion"),
    "criterion_reason": N_("criterion reason"),
    "database": N_("database"),
    "dated_on": N_("dated on"),
    "days_left": N_("days left"),
    "decided_at": N_("decided at"),
    "decided_by": N_("decided by"),
    "decision_in_force": N_("decision in force"),
    "default": N_("default"),
    "despite": N_("despite"),
    "detail": N_("detail"),
    "due": N_("due"),
    "due_on": N_("due on"),
    "edit": N_("edit"),
    "effective_on": N_("effective on"),
    "elderly": N_("elderly"),
    "end_on": N_("end on"),
    "entries": N_("entries"),
    "execution_on": N_("execution on"),
    "expected_monthly_income_cents": N_("expected monthly income €"),
    "exported": N_("exported"),
    "exported_before": N_("exported before"),
    "field": N_("field"),
    "file": N_("file"),
    "files": N_("files"),
    "final_payout": N_("final payout"),
    "first_export": N_("first export"),
    "first_seen": N_("first seen"),
    "flag": N_("flag"),
    "flag_resolved": N_("flag resolved"),
    "folder": N_("folder"),
    "from_revision": N_("from revision"),
    "full_name": N_("full name"),
    "granted": N_("granted"),
    "group": N_("group"),
    "group_status": N_("group status"),
    "guardianship_need": N_("guardianship need"),
    "handover": N_("handover"),
    "held_for_clients_cents": N_("held for clients €"),
    "hetu": N_("hetu"),
    "iban": N_("iban"),
    "id": N_("id"),
    "in_force": N_("in force"),
    "in_force_version": N_("in force version"),
    "in_suspense": N_("in suspense"),
    "income_count": N_("income count"),
    "instalment_months": N_("instalment months"),
    "instalments_paid_cents": N_("instalments paid €"),
    "item_count": N_("item count"),
    "keep_cents": N_("keep €"),
    "kela_cents": N_("kela €"),
    "kela_pays_landlord": N_("kela pays landlord"),
    "key": N_("key"),
    "kind": N_("kind"),
    "language": N_("language"),
    "last_seen": N_("last seen"),
    "lease": N_("lease"),
    "ledger_bank_cents": N_("ledger bank €"),
    "ledger_code": N_("ledger code"),
    "ledger_key": N_("ledger key"),
    "left_cents": N_("left €"),
    "left_open": N_("left open"),
    "legacy_entries": N_("legacy entries"),
    "letters": N_("letters"),
    "line": N_("line"),
    "look_around": N_("look around"),
    "matched_expected_income": N_("matched expected income"),
    "matched_hetu": N_("matched hetu"),
    "matched_reference": N_("matched reference"),
    "meaning": N_("meaning"),
    "message": N_("message"),
    "minimum_cents": N_("minimum €"),
    "mode": N_("mode"),
    "money_back": N_("money back"),
    "money_in_cents": N_("money in €"),
    "month": N_("month"),
    "name": N_("name"),
    "new": N_("new"),
    "new_lines": N_("new lines"),
    "note": N_("note"),
    "obligation": N_("obligation"),
    "obligation_status": N_("obligation status"),
    "old": N_("old"),
    "old_until_on": N_("old until on"),
    "on": N_("on"),
    "open_flags": N_("open flags"),
    "opened_by": N_("opened by"),
    "opening_cents": N_("opening €"),
    "order": N_("order"),
    "orders": N_("orders"),
    "outgoing_cents": N_("outgoing €"),
    "override": N_("override"),
    "paid_by": N_("paid by"),
    "paid_cents": N_("paid €"),
    "paid_directly_cents": N_("paid directly €"),
    "payee": N_("payee"),
    "payer": N_("payer"),
    "payment": N_("payment"),
    "payment_files": N_("payment files"),
    "payment_name": N_("payment name"),
    "payments_returned": N_("payments returned"),
    "payments_returned_cents": N_("payments returned €"),
    "payout_approved_by": N_("payout approved by"),
    "payout_status": N_("payout status"),
    "payout_to": N_("payout to"),
    "period": N_("period"),
    "plan_effective_on": N_("plan effective on"),
    "plan_in_force": N_("plan in force"),
    "plan_pending": N_("plan pending"),
    "posted": N_("posted"),
    "previous": N_("previous"),
    "previous_kela_cents": N_("previous kela €"),
    "proposed_at": N_("proposed at"),
    "proposed_by": N_("proposed by"),
    "reason": N_("reason"),
    "reason_label": N_("reason label"),
    "reconcile": N_("reconcile"),
    "reconcile_means": N_("reconcile means"),
    "record": N_("record"),
    "recorded_at": N_("recorded at"),
    "recorded_by": N_("recorded by"),
    "reference": N_("reference"),
    "reference_kind": N_("reference kind"),
    "rejected": N_("rejected"),
    "rejected_cents": N_("rejected €"),
    "rent_cents": N_("rent €"),
    "rent_paid_cents": N_("rent paid €"),
    "report": N_("report"),
    "resolved": N_("resolved"),
    "returned": N_("returned"),
    "review_on": N_("review on"),
    "revision": N_("revision"),
    "rf_reference": N_("rf reference"),
    "role": N_("role"),
    "route": N_("route"),
    "rule": N_("rule"),
    "run_on": N_("run on"),
    "schedule": N_("schedule"),
    "sha256": N_("sha256"),
    "short_of_rent": N_("short of rent"),
    "short_rent_due_cents": N_("short rent due €"),
    "short_rent_paid_cents": N_("short rent paid €"),
    "skipped": N_("skipped"),
    "source": N_("source"),
    "start_on": N_("start on"),
    "state": N_("state"),
    "statements": N_("statements"),
    "status": N_("status"),
    "subject": N_("subject"),
    "subsidy_against_will": N_("subsidy against will"),
    "summary": N_("summary"),
    "supersedes": N_("supersedes"),
    "suspense_cents": N_("suspense €"),
    "then": N_("then"),
    "total_cents": N_("total €"),
    "until_on": N_("until on"),
    "user": N_("user"),
    "value": N_("value"),
    "version": N_("version"),
    "warnings": N_("warnings"),
    "what": N_("what"),
    "why_not": N_("why not"),
    "worker": N_("worker"),
}

_KIND = Column("kind", cut=False)
_STATUS = Column("status", cut=False)
_IBAN = Column("iban", cut=False)


def _reference_or_message(row) -> str | None:
    return row.get("reference") or row.get("message")


#: A payment's reference, else its message, in one table column (both in CSV and JSON).
_REFERENCE = Column("reference", N_("reference / message"), show=_reference_or_message)
_MESSAGE = Column("message", wide=True)

#: ``flags``; with ``--all`` the day each was resolved is shown too. Who acknowledged a flag
#: is shown; when it was first and last seen, and the comment, with ``--wide``.
FLAGS = columns("flag", _KIND, "client", Column("subject", wide=True), "amount_cents", "detail",
                Column("first_seen", wide=True), Column("last_seen", wide=True),
                Column("resolved", wide=True), "ack_by", Column("ack_comment", wide=True))
FLAGS_ALL = tuple(replace(c, wide=False) if c.key == "resolved" else c for c in FLAGS)

INCOME = columns("line", Column("iban", wide=True), "booked_on", "amount_cents", "payer",
                 "reference", "message", Column("state", cut=False), Column("rule", wide=True),
                 "client", Column("archive_id", wide=True))

#: ``batch show``'s orders (the heading above them names the batch, its day and status).
#: Each order's status (cleared, returned) with ``--wide``: the heading gives the batch's.
BATCH_ORDERS = columns("order", "client", _KIND, "payee", _IBAN, "amount_cents", _REFERENCE,
                       _MESSAGE, Column("execution_on", wide=True),
                       Column("status", cut=False, wide=True), Column("key", wide=True))
#: ``batch run``: the orders it planned or stored.
BATCH_RUN = columns("client", _KIND, "payee", _IBAN, "amount_cents", _REFERENCE, _MESSAGE,
                    Column("execution_on", wide=True), Column("key", wide=True))
#: The day a batch was run is its execution day but for a closed day's: with ``--wide``.
BATCH_LIST = columns("batch", Column("key", wide=True), Column("run_on", wide=True),
                     "execution_on", _STATUS,
                     "orders", "total_cents", "created_by", "approved_by", "exported",
                     Column("bank_status", "bank"))

#: ``audit log``: one line per entry in words; the subject and raw detail with ``--wide``.
AUDIT_LOG = columns("id", Column("at", cut=False, show=lambda row: row["at"][:16]), "actor",
                    Column("action", cut=False), "client", Column("subject", wide=True),
                    Column("detail", wide=True), "summary")

CLIENTS = columns("client", "name", "hetu", "reference", _STATUS, "worker", "balance_cents")
PAYEES = columns("payee", "name", "payment_name", _IBAN, "bic", _KIND)
BANKS = columns("bank", _IBAN, "name", "bic", Column("ledger_code", wide=True), "balance_cents")
USERS = columns("name", "role", "full_name", "created_by", "language")
LEASES = columns("lease", "client", "payee", "kind", "rent_cents", "start_on", "end_on",
                 "override")
BILLS = columns("bill", "client", "payee", _KIND, "amount_cents", "due_on", _REFERENCE,
                Column("reference_kind", wide=True), _MESSAGE, _STATUS, "paid_cents")
#: ``settings list``: a setting's meaning is marked in store/settings.py and shown translated
#: in a table (JSON and CSV keep the English text).
SETTINGS = columns(Column("key", cut=False), "value", Column("default", wide=True),
                   Column("meaning", show=lambda row: _(row["meaning"])))

#: ``plan show``'s sections: what the plan pays, and the incomes it expects.
PLAN_PAY = columns(Column("position", "#"), _KIND, "payee", "amount_cents",
                   Column("paid_directly_cents", wide=True), "account_cents",
                   Column("due", cut=False), _REFERENCE, _MESSAGE, Column("paid_by", wide=True),
                   Column("bills", wide=True), Column("allow_partial", wide=True))
PLAN_INCOMES = columns(Column("position", "#"), "source", _KIND, "amount_cents",
                       Column("schedule", cut=False), Column("route", wide=True))

#: Findings of ``reconcile``.
FINDINGS = columns(Column("check", cut=False), "subject", "detail", "amount_cents")
#: Findings of ``audit verify`` and ``ledger verify``.
VERIFY_FINDINGS = columns(Column("check", cut=False), "subject", "detail")

LEDGER_BALANCES = columns("account", _KIND, "balance_cents")
REPORT_BALANCES = columns("client", "name", _STATUS, "balance_cents")
REPORT_ARREARS = columns("group", "id", "name", Column("days_0_30_cents", N_("0–30 d €")),
                         Column("days_31_60_cents", N_("31–60 d €")),
                         Column("days_61_90_cents", N_("61–90 d €")),
                         Column("days_over_90_cents", N_("over 90 d €")), "total_cents")
REPORT_REVIEWS = columns("client", "name", "worker", "what", "on", "days_left")
REPORT_BATCHES = columns("batch", Column("key", wide=True), "execution_on", _STATUS, "orders",
                         "total_cents", "cleared", "returned", "approved_by")
#: ``report statements``: the letter file written for each client.
REPORT_STATEMENTS = columns("client", Column("file", cut=False))

#: ``import --dry-run``: the ledger legs it would post.
IMPORT_LEGS = columns(Column("file", wide=True), "key", "booked_on", "account", "amount_cents")
