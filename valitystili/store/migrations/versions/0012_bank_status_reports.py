"""The bank's status reports (pain.002) on the payment files we sent.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

- ``payment_orders.status`` may be ``rejected``: the bank refused the payment before executing
  it (its client's debit is reversed); ``rejected_on`` and ``reject_reason`` (the ISO reason
  code, e.g. AC04) say when and why.
- ``payment_batches.message_id`` and ``payment_info_id``: the ``MsgId`` and ``PmtInfId`` of the
  pain.001 file the batch was exported as, by which a status report names it. Batches exported
  before this revision get theirs computed here, as the export derives them (the first 35
  characters of the base32 SHA-256 of the batch key, and of the key, ":" and the execution day).
- ``payment_batches.bank_status`` (``received``, ``accepted``, ``partly_accepted``,
  ``rejected``; empty until a report comes) and ``bank_status_on``.

The widened CHECK of ``payment_orders.status`` is written into SQLite's stored schema as
revisions 0003 and 0010 did (``writable_schema``; every stored row still satisfies it). A
downgrade refuses while a rejected order exists.
"""
import base64
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('draft', 'approved', 'exported', 'cleared', 'returned', 'cancelled')"
NEW_STATUSES = ("status IN ('draft', 'approved', 'exported', 'cleared', 'returned', 'cancelled', "
                "'rejected')")
BANK_STATUSES = ("bank_status IS NULL OR bank_status IN ('received', 'accepted', "
                 "'partly_accepted', 'rejected')")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("payment_orders", sa.Column("rejected_on", sa.Date(), nullable=True))
    op.add_column("payment_orders", sa.Column("reject_reason", sa.String(length=35),
                                              nullable=True))
    op.add_column("payment_batches", sa.Column("message_id", sa.String(length=35),
                                               nullable=True))
    op.add_column("payment_batches", sa.Column("payment_info_id", sa.String(length=35),
                                               nullable=True))
    # A column CHECK in ADD COLUMN: the same statement on both backends.
    op.execute("ALTER TABLE payment_batches ADD COLUMN bank_status VARCHAR(16) "
               f"CONSTRAINT ck_payment_batches_bank_status CHECK ({BANK_STATUSES})")
    op.add_column("payment_batches", sa.Column("bank_status_on", sa.Date(), nullable=True))
    if sqlite:
        _rewrite_sqlite_payment_orders(OLD_STATUSES, NEW_STATUSES)
    else:
        op.drop_constraint(op.f("ck_payment_orders_status"), "payment_orders", type_="check")
        op.create_check_constraint(op.f("ck_payment_orders_status"), "payment_orders",
                                   NEW_STATUSES)
    _name_exported_files()


def downgrade() -> None:
    bind = op.get_bind()
    rejected = bind.execute(sa.text(
        "SELECT count(*) FROM payment_orders WHERE status = 'rejected'")).scalar_one()
    if rejected:
        raise RuntimeError(f"{rejected} payment orders were rejected by the bank, which revision "
                           "0011 cannot hold; nothing was downgraded")
    if bind.dialect.name == "sqlite":
        _rewrite_sqlite_payment_orders(NEW_STATUSES, OLD_STATUSES)
    else:
        op.drop_constraint(op.f("ck_payment_orders_status"), "payment_orders", type_="check")
        op.create_check_constraint(op.f("ck_payment_orders_status"), "payment_orders",
                                   OLD_STATUSES)
    for column in ("bank_status_on", "bank_status", "payment_info_id", "message_id"):
        op.drop_column("payment_batches", column)
    op.drop_column("payment_orders", "reject_reason")
    op.drop_column("payment_orders", "rejected_on")


def _rewrite_sqlite_payment_orders(old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in SQLite's stored schema of payment_orders (see above)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' "
                               "AND name = 'payment_orders'").scalar_one()
    if sql.count(old) != 1:
        raise RuntimeError(f"payment_orders has no single {old!r} to replace")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? "
                             "WHERE type = 'table' AND name = 'payment_orders'",
                             (sql.replace(old, new),))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _make_id(key: str) -> str:
    """``payments.pain001.make_id`` without a prefix, spelled out so this revision means the
    same forever."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(digest).decode("ascii")[:35]


def _name_exported_files() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, key, execution_on FROM payment_batches "
                                "WHERE exported_at IS NOT NULL")).all()
    for row in rows:
        day = (row.execution_on.isoformat() if hasattr(row.execution_on, "isoformat")
               else str(row.execution_on))
        bind.execute(sa.text("UPDATE payment_batches SET message_id = :message, "
                             "payment_info_id = :info WHERE id = :id"),
                     {"message": _make_id(row.key), "info": _make_id(f"{row.key}:{day}"),
                      "id": row.id})
