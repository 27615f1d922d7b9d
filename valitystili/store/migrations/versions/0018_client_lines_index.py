"""A client's bank lines by booking day: the day's batch reads its clients' credits a part at a
time.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

- ``ix_statement_lines_client`` (client, booked on): the credits of the clients of one part of
  a day's run (``plans.expected.client_credits``; a national day of 100,000 clients is run
  10,000 clients at a time), and the lines of one client (the letter, the client's export,
  retention). Each of these read the whole table before: at 100,000 clients the batch spent
  13 s of its minute scanning the lines once per part.
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_statement_lines_client", "statement_lines", ["client_id", "booked_on"])


def downgrade() -> None:
    op.drop_index("ix_statement_lines_client", table_name="statement_lines")
