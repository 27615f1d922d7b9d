"""Final payouts indexed on their own: the day's batch no longer pays for an index of every order.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

- ``ix_payment_orders_kind_client`` (kind, client) goes: the daily batch asked it only how many
  final payouts each client has had, and every order of every day went into it — with years of
  history an index ordered by client makes each day's 20,000 new orders touch as many pages
  (at 36 months of 10,000 clients, over half a second of the run).
- ``ix_payment_orders_final`` (client) holds the final payouts only (a partial index; queries
  name ``kind = 'final'`` as a literal so that SQLite uses it).
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

FINAL = sa.text("kind = 'final'")


def upgrade() -> None:
    op.drop_index("ix_payment_orders_kind_client", table_name="payment_orders")
    op.create_index("ix_payment_orders_final", "payment_orders", ["client_id"],
                    sqlite_where=FINAL, postgresql_where=FINAL)


def downgrade() -> None:
    op.drop_index("ix_payment_orders_final", table_name="payment_orders")
    op.create_index("ix_payment_orders_kind_client", "payment_orders", ["kind", "client_id"])
