"""The batch's days on each obligation (agreed date, pay day) and the plan's daily minimum.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

``obligations.pay_by_on`` becomes ``pay_on``: the pay day of DESIGN §6 (the first day the batch
may pay the obligation), no longer "the last banking day on or before the due date".
``agreed_on`` is the plan's own date (rent: the 2nd); rows made before this revision have none.
``plans.minimum_cents`` is ``[instalments] minimum``; ``plans.approved_despite`` the reason a plan
that does not add up was approved anyway.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_obligations_status_pay_by", table_name="obligations")
    op.execute("ALTER TABLE obligations RENAME COLUMN pay_by_on TO pay_on")
    op.create_index("ix_obligations_status_pay_on", "obligations", ["status", "pay_on"])
    op.add_column("obligations", sa.Column("agreed_on", sa.Date(), nullable=True))
    op.add_column("plans", sa.Column("minimum_cents", sa.BigInteger(), nullable=False,
                                     server_default="0"))
    op.add_column("plans", sa.Column("approved_despite", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE plans DROP COLUMN approved_despite")
    op.execute("ALTER TABLE plans DROP COLUMN minimum_cents")
    op.drop_index("ix_obligations_status_pay_on", table_name="obligations")
    op.execute("ALTER TABLE obligations DROP COLUMN agreed_on")
    op.execute("ALTER TABLE obligations RENAME COLUMN pay_on TO pay_by_on")
    op.create_index("ix_obligations_status_pay_by", "obligations", ["status", "pay_by_on"])
