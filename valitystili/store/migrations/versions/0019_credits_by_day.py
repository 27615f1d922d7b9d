"""The clients' bank lines by booking day, and the orders' lines without the lines of no order:
the day's batch reads its credits without reading years of statements.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30

- ``ix_statement_lines_order`` holds the lines of an order only (``order_id IS NOT NULL``, a
  partial index): every lookup of an order's lines names one (``order_id = ...``), and the
  index of every line let SQLite answer the batch's ``order_id IS NULL`` (every credit of every
  year) through it. At 36 months of 10,000 clients the batch read all 740,000 lines that way,
  about half a second of its run, and more every month.
- ``ix_statement_lines_client_day`` (booked on, client) holds the lines of a client
  (``client_id IS NOT NULL``): the batch's credits of a window of days
  (``plans.expected.client_credits``) are read by their days; a part of a national day's
  clients picks its own by the client in the index before reading a line.
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OF_AN_ORDER = sa.text("order_id IS NOT NULL")
OF_A_CLIENT = sa.text("client_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_statement_lines_order", table_name="statement_lines")
    op.create_index("ix_statement_lines_order", "statement_lines", ["order_id"],
                    sqlite_where=OF_AN_ORDER, postgresql_where=OF_AN_ORDER)
    op.create_index("ix_statement_lines_client_day", "statement_lines", ["booked_on", "client_id"],
                    sqlite_where=OF_A_CLIENT, postgresql_where=OF_A_CLIENT)


def downgrade() -> None:
    op.drop_index("ix_statement_lines_client_day", table_name="statement_lines")
    op.drop_index("ix_statement_lines_order", table_name="statement_lines")
    op.create_index("ix_statement_lines_order", "statement_lines", ["order_id"])
