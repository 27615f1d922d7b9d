"""Service periods (closing with a reason, reopening) and money a handler moves by hand.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

- ``service_periods``: each ended service period of a client (start, end, close date, the
  reason, where the final payout goes and who approved a payout to someone else). The period
  running now stays on the client row; ``client reopen`` starts the next one there. Clients
  closed before this revision get their period written here, with no reason recorded.
- ``manual_payments``: a one-off payment out of a client's money (``pay``) or money in suspense
  returned to its payer (``income refund``), waiting for the next batch run to make it an order.
- ``payment_orders.client_id`` may be empty: a refund's order debits ``suspense``, not a client.
  SQLite cannot drop a NOT NULL in place and rebuilding ``payment_orders`` would break the
  foreign keys that refer to it (and drop its draft-batch guard), so on SQLite the column's
  NOT NULL is taken out of the stored schema as revision 0003 widened a CHECK
  (``writable_schema``; every stored row still satisfies the looser rule). A downgrade refuses
  while an order without a client exists.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REASONS = ("reason IS NULL OR reason IN ('service_not_needed', 'moved', 'guardianship_started', "
           "'died', 'consent_withdrawn', 'other')")
STRICT_CLIENT = "client_id INTEGER NOT NULL"
LOOSE_CLIENT = "client_id INTEGER"


def upgrade() -> None:
    op.create_table(
        "service_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("until_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("payout_status", sa.String(length=12), nullable=False),
        sa.Column("payout_name", sa.String(length=140), nullable=True),
        sa.Column("payout_payment_name", sa.String(length=70), nullable=True),
        sa.Column("payout_iban", sa.String(length=34), nullable=True),
        sa.Column("payout_bic", sa.String(length=11), nullable=True),
        sa.Column("payout_approved_by", sa.String(length=64), nullable=True),
        sa.Column("payout_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint(REASONS, name=op.f("ck_service_periods_reason")),
        sa.CheckConstraint("payout_status IN ('own_account', 'waiting', 'approved')",
                           name=op.f("ck_service_periods_payout_status")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_service_periods_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_periods")),
        sa.UniqueConstraint("client_id", "number", name="uq_service_periods_client_number"),
    )
    op.execute("INSERT INTO service_periods (client_id, number, start_on, until_on, closed_on, "
               "payout_status, closed_by) SELECT id, 1, start_on, until_on, closed_on, "
               "'own_account', '' FROM clients WHERE status = 'closed' AND closed_on IS NOT NULL")
    op.create_table(
        "manual_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("creditor_name", sa.String(length=140), nullable=False),
        sa.Column("creditor_payment_name", sa.String(length=70), nullable=False),
        sa.Column("creditor_iban", sa.String(length=34), nullable=False),
        sa.Column("creditor_bic", sa.String(length=11), nullable=True),
        sa.Column("reference", sa.String(length=35), nullable=True),
        sa.Column("reference_kind", sa.String(length=4), nullable=True),
        sa.Column("message", sa.String(length=140), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("kind IN ('pay', 'refund')", name=op.f("ck_manual_payments_kind")),
        sa.CheckConstraint("status IN ('pending', 'ordered', 'withdrawn')",
                           name=op.f("ck_manual_payments_status")),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_manual_payments_amount")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_manual_payments_client_id_clients")),
        sa.ForeignKeyConstraint(["line_id"], ["statement_lines.id"],
                                name=op.f("fk_manual_payments_line_id_statement_lines")),
        sa.ForeignKeyConstraint(["order_id"], ["payment_orders.id"],
                                name=op.f("fk_manual_payments_order_id_payment_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_payments")),
    )
    op.create_index("ix_manual_payments_status", "manual_payments", ["status"])
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_payment_orders(STRICT_CLIENT, LOOSE_CLIENT)
    else:
        op.alter_column("payment_orders", "client_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    bind = op.get_bind()
    without = bind.execute(sa.text(
        "SELECT count(*) FROM payment_orders WHERE client_id IS NULL")).scalar_one()
    if without:
        raise RuntimeError(f"{without} payment orders have no client (refunds), which revision "
                           "0009 cannot hold; nothing was downgraded")
    if bind.dialect.name == "sqlite":
        _rewrite_sqlite_payment_orders(LOOSE_CLIENT + ",", STRICT_CLIENT + ",")
    else:
        op.alter_column("payment_orders", "client_id", existing_type=sa.Integer(),
                        nullable=False)
    op.drop_index("ix_manual_payments_status", table_name="manual_payments")
    op.drop_table("manual_payments")
    op.drop_table("service_periods")


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
