"""Indexes that keep the daily batch's reads of payment orders independent of history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_payment_orders_instalment_on", "payment_orders", ["instalment_on"])
    op.create_index("ix_payment_orders_obligation", "payment_orders", ["obligation_id"])
    op.create_index("ix_payment_orders_kind_client", "payment_orders", ["kind", "client_id"])


def downgrade() -> None:
    op.drop_index("ix_payment_orders_kind_client", table_name="payment_orders")
    op.drop_index("ix_payment_orders_obligation", table_name="payment_orders")
    op.drop_index("ix_payment_orders_instalment_on", table_name="payment_orders")
