"""A flag's detail as a message with its values, shown in its reader's language.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

- ``flags.detail_message``: the detail's message id and values (``base.i18n.Message.data``),
  JSON; ``detail`` keeps the English text. Empty (NULL) for flags raised before this revision
  and for details that are plain text, which are shown as they are stored.
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flags") as table:
        table.add_column(sa.Column("detail_message", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flags") as table:
        table.drop_column("detail_message")
