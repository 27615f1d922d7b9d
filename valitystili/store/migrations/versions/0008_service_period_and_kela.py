"""Kela's direct part of the rent, per-income tolerance, stable item tags, the first period.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

- ``plan_items.paid_directly_cents``: the part of the rent Kela (or another payer) usually pays
  the landlord itself; the account pays the rest. ``plan_items.tag``: the name that keeps an
  item's obligation keys stable across plan versions when a plan has two items of one kind.
- ``plan_incomes.tolerance_cents`` / ``tolerance_percent``: how far an arrival may differ from
  the expected amount (neither: the default, the larger of 5,00 € and 20 %).
- ``plans.first_period``: the month of the first obligations, when the plan names one.
- ``obligations.direct_cents``: Kela's part of this period's rent; ``amount_cents`` is the rest.
- ``kela_shares``: the month's actual direct part from Kela's decision, recorded by a handler.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plan_items", sa.Column("paid_directly_cents", sa.BigInteger(), nullable=False,
                                          server_default="0"))
    op.add_column("plan_items", sa.Column("tag", sa.String(40), nullable=True))
    op.add_column("plan_incomes", sa.Column("tolerance_cents", sa.BigInteger(), nullable=True))
    op.add_column("plan_incomes", sa.Column("tolerance_percent", sa.Integer(), nullable=True))
    op.add_column("plans", sa.Column("first_period", sa.String(7), nullable=True))
    op.add_column("obligations", sa.Column("direct_cents", sa.BigInteger(), nullable=False,
                                           server_default="0"))
    op.create_table(
        "kela_shares",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False, server_default=""),
        sa.UniqueConstraint("client_id", "month", name="uq_kela_shares_client_month"),
        sa.CheckConstraint("amount_cents >= 0", name="ck_kela_shares_amount"),
    )


def downgrade() -> None:
    op.drop_table("kela_shares")
    for table, column in (("obligations", "direct_cents"), ("plans", "first_period"),
                          ("plan_incomes", "tolerance_percent"),
                          ("plan_incomes", "tolerance_cents"), ("plan_items", "tag"),
                          ("plan_items", "paid_directly_cents")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
