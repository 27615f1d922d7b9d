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

from valitystili.base.i18n import N_
from valitystili.cli.output import Column, columns

#: Each key's header in a table for people (records and lists alike), English, marked for the
#: catalogue. Keys of the translated commands are here; the others get headers made from keys.
HEADERS = {
    "amount_cents": N_("amount €"),
    "approved_by": N_("approved by"),
    "bank_status": N_("bank"),
    "batch": N_("batch"),
    "client": N_("client"),
    "created_by": N_("created by"),
    "execution_on": N_("execution on"),
    "exported": N_("exported"),
    "exported_before": N_("exported before"),
    "file": N_("file"),
    "first_export": N_("first export"),
    "iban": N_("iban"),
    "key": N_("key"),
    "kind": N_("kind"),
    "message": N_("message"),
    "money_back": N_("money back"),
    "order": N_("order"),
    "orders": N_("orders"),
    "payee": N_("payee"),
    "reference": N_("reference"),
    "run_on": N_("run on"),
    "sha256": N_("sha256"),
    "status": N_("status"),
    "total_cents": N_("total €"),
    "version": N_("version"),
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
SETTINGS = columns(Column("key", cut=False), "value", Column("default", wide=True), "meaning")

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
REPORT_ARREARS = columns("group", "id", "name", Column("days_0_30_cents", "0–30 d €"),
                         Column("days_31_60_cents", "31–60 d €"),
                         Column("days_61_90_cents", "61–90 d €"),
                         Column("days_over_90_cents", "over 90 d €"), "total_cents")
REPORT_REVIEWS = columns("client", "name", "worker", "what", "on", "days_left")
REPORT_BATCHES = columns("batch", Column("key", wide=True), "execution_on", _STATUS, "orders",
                         "total_cents", "cleared", "returned", "approved_by")

#: ``import --dry-run``: the ledger legs it would post.
IMPORT_LEGS = columns(Column("file", wide=True), "key", "booked_on", "account", "amount_cents")
