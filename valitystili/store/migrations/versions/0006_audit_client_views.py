"""Which clients each view in the audit trail showed: ``audit_client_views`` (append-only).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

import ledger

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_client_views',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'entry_hash', name=op.f('pk_audit_client_views'))
    )
    # Like the audit trail itself, the links refuse UPDATE and DELETE.
    for statement in ledger.append_only_ddl(op.get_bind().dialect.name, ("audit_client_views",)):
        op.execute(statement)


def downgrade() -> None:
    # The table's triggers go with it (the shared PostgreSQL function stays for the others).
    op.drop_table('audit_client_views')
