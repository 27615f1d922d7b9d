"""Names normalised where they enter: the payment form of client and payee names.

``clients.payment_name`` and ``payees.payment_name`` hold the name as payment files carry it
(``valitystili.base.text``). Existing rows get the transliteration of their name; what cannot be
transliterated becomes '?', hidden characters are dropped and the form is cut to 70 characters,
so that no stored name can stop a batch at export. ``client show`` and ``payee list`` show the
payment name where it differs from the name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

from valitystili.base.text import lenient_payment_name

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("clients", "payees")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for name in TABLES:
        # SQLite adds a NOT NULL column only with a default; PostgreSQL gets it after the backfill.
        op.add_column(name, sa.Column("payment_name", sa.String(70), nullable=not sqlite,
                                      server_default="" if sqlite else None))
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("name", sa.String),
                         sa.column("payment_name", sa.String))
        rows = bind.execute(sa.select(table.c.id, table.c.name)).all()
        for row in rows:
            bind.execute(table.update().where(table.c.id == row.id)
                         .values(payment_name=lenient_payment_name(row.name)))
        if not sqlite:
            op.alter_column(name, "payment_name", nullable=False)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_column(name, "payment_name")
