"""Initial schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op

import ledger
import valitystili.models  # noqa: F401

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    ledger.metadata.create_all(bind)
    for statement in ledger.append_only_ddl(bind.dialect.name):
        op.execute(statement)
    for statement in ledger.append_only_ddl(bind.dialect.name, ("audit_log",)):
        op.execute(statement)


def downgrade() -> None:
    ledger.metadata.drop_all(op.get_bind())
