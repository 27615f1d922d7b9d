"""The client's service record (dated records), pending client edits, lease kinds.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

- ``client_records``: the service's own dated records of a client (assessment, consent, power of
  attorney, Kela's payment demand EV 241N, the handler's decision). Never deleted; a correction
  is a new record whose ``supersedes_id`` names the one it replaces (at most one per record).
- ``client_edits``: a change of a client's details waiting for (or given) a second person's
  approval — the IBAN, four-eyes like a plan. ``old``/``new`` are the values before and after.
- ``clients.criterion_reason``: why ``other_weighty`` applies (required with that criterion).
- ``clients.review_plan_version``: the client's newest plan version (0: none) when ``client
  edit --review`` last set ``review_on``; that date counts until a newer plan version exists.
- ``leases.kind``: supported | sublet | own; ``leases.end_on`` may be empty (open-ended) for
  the kinds other than supported housing. Every existing lease was entered under the
  supported-housing rules and stays ``supported``; ``leases.sublet`` is no longer read.
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("dated_on", sa.Date(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("kind IN ('assessment', 'consent', 'power_of_attorney', 'ev241n', "
                           "'decision')", name=op.f("ck_client_records_kind")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_client_records_client_id_clients")),
        sa.ForeignKeyConstraint(["supersedes_id"], ["client_records.id"],
                                name=op.f("fk_client_records_supersedes_id_client_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_records")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_client_records_supersedes_id")),
    )
    op.create_index("ix_client_records_client", "client_records", ["client_id", "kind"])
    op.create_table(
        "client_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("old", sa.JSON(), nullable=False),
        sa.Column("new", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')",
                           name=op.f("ck_client_edits_status")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_client_edits_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_edits")),
    )
    op.create_index("ix_client_edits_client_status", "client_edits", ["client_id", "status"])
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("criterion_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("review_plan_version", sa.Integer(), nullable=True))
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=10), nullable=False,
                                   server_default="supported"))
        batch.alter_column("end_on", existing_type=sa.Date(), nullable=True)
        batch.create_check_constraint("kind", "kind IN ('supported', 'sublet', 'own')")


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.drop_constraint(op.f("ck_leases_kind"), type_="check")
        batch.alter_column("end_on", existing_type=sa.Date(), nullable=False)
        batch.drop_column("kind")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("review_plan_version")
        batch.drop_column("criterion_reason")
    op.drop_index("ix_client_edits_client_status", table_name="client_edits")
    op.drop_table("client_edits")
    op.drop_index("ix_client_records_client", table_name="client_records")
    op.drop_table("client_records")
