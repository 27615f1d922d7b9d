"""Indexes for the lookups made once per client: a county's setup, letters and plan checks no
longer read whole tables for each client.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30

Found by asking SQLite how it runs every statement of a demo month (``EXPLAIN QUERY PLAN``):
each of these was a full scan, made once or several times per client, so the time of a letter
or of a plan's approval grew with the number of clients (at 10,000 clients the demo spent more
time scanning than working). PostgreSQL does not index foreign keys of its own either.

- ``ix_plan_items_plan``, ``ix_plan_incomes_plan``: a plan version's items and incomes.
- ``ix_bills_client_due``: a client's bills of a period; ``ix_bills_due``: the day's bills.
- ``ix_statement_lines_order``: the bank lines of orders (returned payments, their reasons).
- ``ix_flags_subject``: the flags of a subject whatever their kind.
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_plan_items_plan", "plan_items", ["plan_id"]),
    ("ix_plan_incomes_plan", "plan_incomes", ["plan_id"]),
    ("ix_bills_client_due", "bills", ["client_id", "due_on"]),
    ("ix_bills_due", "bills", ["due_on"]),
    ("ix_statement_lines_order", "statement_lines", ["order_id"]),
    ("ix_flags_subject", "flags", ["subject"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
