"""The daily payment batch: run, approve, export, and taking orders out (DESIGN §6).

Rules:
- ``run_batch`` plans every active client with ``decision.decide_client`` and stores the result
  as payment orders in a draft batch for the execution day. Every order has a stable key, so
  running the batch twice, or two handlers at once, never orders anything twice. ``dry_run``
  does all of it inside a savepoint and rolls it back: it prints exactly what would be ordered.
  A run that orders nothing opens no batch (its result's ``already_held`` says what the day's
  batches hold: "batch 3 already holds 2 payments (845,00 €)"), and a batch without payments
  cannot be approved.
- **A part at a time.** A day that concerns more than ``parts.CLIENTS_PER_PART`` clients is
  read, decided and stored a part of them at a time, all in the run's one transaction: a
  national run's memory follows the part, and each client's decision is the one a run of all
  clients at once makes (``parts``).
- **Unusual dates are confirmed.** ``date_to_confirm`` says why an execution date needs the
  user's confirmation: in the past, or more than ``CONFIRM_AHEAD_BANKING_DAYS`` banking days
  ahead. The command line asks before a run (``--yes`` for scripts); ``export_batch`` refuses a
  batch executing before today unless ``confirmed``, and a batch already exported unless
  ``again`` (``NeedsConfirmation``, naming when and by whom it was first exported, from the
  audit trail), so nobody uploads one file to the bank twice by mistake. Finance exports; a
  handler only with the setting ``handler_exports`` on.
- An order counts against its obligation (``paid_cents``) and the client's available money as
  soon as it exists; the client's ledger account is debited (and ``outgoing`` credited, ledger
  key = the order key) when the batch is approved.
- **One writer at a time.** Run, approve, remove and cancel are serialised by one advisory lock
  on PostgreSQL (the write lock on SQLite), so each reads balances and pending orders that no
  other batch decision is changing. On top of it every command that changes a batch (run when
  it adds to a draft, approve, export, remove, cancel) reads the batch row ``FOR UPDATE`` and
  checks its status after the lock. Orders join a batch only while it is a draft: approval
  debits exactly the orders it approves, and the batch's order set is frozen from then on (the
  database refuses an order inserted into, or moved to, a batch that is not a draft).
- **Four-eyes** (setting ``four_eyes``, on by default): the approver ran none of the batch and
  created none of its orders (``payment_orders.created_by``; a second run of the day adds to
  the open draft, so a batch can hold orders of two handlers). Taking an order out of an
  *approved* batch changes an approved decision and needs the same second person: the handler
  who created the order may not remove it; cancelling an approved batch is refused to anyone
  approval would refuse.
- **What approval covers.** Approval stores the SHA-256 of each order's payment content
  (``order_digest``: key, client, amount, creditor name, IBAN, BIC, reference, reference kind,
  message, execution day) and of the whole batch (``batch_digest``, over the orders sorted by
  key). ``export_batch`` recomputes both and refuses a batch whose orders no longer give the
  approved digest (``ChangedAfterApproval``); ``record_changed_after_approval`` keeps a
  *reconciliation_mismatch* flag for it in a unit of its own, since the refused export's unit
  is rolled back. Removing an order from an approved batch recomputes the batch's digest.
- ``export_batch`` writes the approved batch as a pain.001 file, validated against the ISO
  schema, written a transfer at a time into a temporary file (``files.stage_written``,
  ``pain001.write_pain001``; the orders are read as rows of their columns) before the database
  commit and published under its name when the caller's transaction commits (discarded when it
  rolls back). An existing file is refused unless ``force``. Exporting again gives a byte-identical
  file; exactly one export is the first.
- **Taking out.** ``remove_order`` and ``cancel_batch`` work on a draft or approved batch, never
  an exported one (the bank has the file). An approved order's debit is reversed
  (``ledger.reverse``, key ``cancel:<order key>``): the money is the client's again. The order
  becomes ``cancelled`` and what it paid is open again: its obligation's ``paid_cents`` goes
  back down, and the next run pays it under the next key (``order:<obligation key>:<n>``; a
  removed instalment ``order:inst:<client>:<date>:<n>``, a final payout
  ``order:final:<client>:<n>``). To stop a payment for good, change its cause (the plan, the
  bill, the client's account) before the next run.
- **The state in the audit trail.** Every entry that changes a batch (``batch.run``,
  ``batch.approve``, ``batch.export``, ``batch.remove``, ``batch.cancel``) has its batch key as
  subject and ``detail["state"]`` = the batch row right after the change: ``status``,
  ``created_by``, ``approved_by``, ``approved_digest``, and ``orders`` / ``total_cents`` over its
  orders that are not cancelled (``batch_state``).
- **Reads are logged.** ``show_batch`` records ``batch.view`` and a dry run ``batch.dry_run``,
  each with ``detail["clients"]``: the sorted numbers of the clients whose payments were shown.
- A closed client with a final payout recorded gets their whole balance paid to their own
  account — or to the guardian or estate named at closing, once a second handler approved it
  (``people.periods``; while it waits, nothing is paid out).
- **Money moved by hand** (``manual``: ``pay``, ``income refund``) joins the next run as orders
  before the day's own payments (in a run of several parts, before those of its client's
  part), created by the handler who asked for it; a refund is of no client and approval debits
  ``suspense``.

The code: ``run`` (the day's run), ``parts`` (its clients a part at a time), ``decisions``
(approve, export), ``changes`` (remove, cancel), ``store`` (finding and locking a batch, its
state, the views, the approval digests), ``manual`` (payments asked for by hand).
"""

from valitystili.payments.approval import (
    ChangedAfterApproval,
    approve_batch,
    export_batch,
    record_changed_after_approval,
)
from valitystili.payments.batches import (
    BATCH_LOCK,
    CONFIRM_AHEAD_BANKING_DAYS,
    DEBITED,
    NeedsConfirmation,
    batch_digest,
    batch_state,
    changes_after_approval,
    date_to_confirm,
    list_batches,
    lock_batch,
    order_digest,
    resolve_batch,
    show_batch,
)
from valitystili.payments.changes import cancel_batch, remove_order
from valitystili.payments.run import run_batch

__all__ = [
    "BATCH_LOCK", "CONFIRM_AHEAD_BANKING_DAYS", "DEBITED", "ChangedAfterApproval",
    "NeedsConfirmation", "approve_batch", "batch_digest", "batch_state", "cancel_batch",
    "changes_after_approval", "date_to_confirm", "export_batch", "list_batches",
    "lock_batch", "order_digest", "record_changed_after_approval", "remove_order",
    "resolve_batch", "run_batch", "show_batch",
]
