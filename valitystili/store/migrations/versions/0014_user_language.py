"""A user's language: what the command line speaks to them when no --lang or VALITYSTILI_LANG says.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-30

- ``users.language``: ``fi``, ``sv`` or ``en``; empty (NULL) for users registered before this
  revision and for those who gave none, who are spoken to in their locale's language.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("language", sa.String(2), nullable=True))
        table.create_check_constraint("language", "language IN ('fi', 'sv', 'en')")


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_constraint("language", type_="check")
        table.drop_column("language")
