"""Need to know (grants), the audit trail's personal parts, anonymised clients.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

- ``client_grants``: a user (a social worker) allowed to see and change a client who is not
  their own (``client grant`` / ``client revoke``). A revoked grant keeps its row with
  ``revoked_at``; at most one grant per client and user is in force.
- ``audit_personal``: the personal part of an audit entry about a client (names, IBANs, free
  texts), kept outside the hashed text. The entry's hashed ``detail`` holds
  ``personal_sha256``, the hash of that part (with a random salt inside the part), so the chain
  still vouches for it; ``client anonymise`` empties the part (``personal`` NULL) and the entry,
  its hash and the chain stay as they were. Nothing of the existing entries is recomputed:
  entries written before this revision keep their detail (and its hash) as written.
- ``client_anonymisations``: when and by whom a client's personal data was replaced by a
  tombstone.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_client_grants_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_grants")),
    )
    op.create_index("ix_client_grants_user", "client_grants", ["user_name", "client_id"])
    op.create_table(
        "audit_personal",
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("personal", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("entry_hash", name=op.f("pk_audit_personal")),
    )
    op.create_index("ix_audit_personal_client", "audit_personal", ["client_id"])
    op.create_table(
        "client_anonymisations",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("anonymised_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_client_anonymisations_client_id_clients")),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_anonymisations")),
    )


def downgrade() -> None:
    op.drop_table("client_anonymisations")
    op.drop_index("ix_audit_personal_client", table_name="audit_personal")
    op.drop_table("audit_personal")
    op.drop_index("ix_client_grants_user", table_name="client_grants")
    op.drop_table("client_grants")
