"""Payment batches and orders: what approval covers (money-safety fixes).

- ``payment_batches.status`` may be ``cancelled`` (``batch cancel``).
- ``payment_batches.approved_digest`` and ``payment_orders.approved_digest``: the SHA-256 of the
  approved payment content (``valitystili.payments``); batches approved or exported before this
  revision get theirs computed here, from their orders as they are now.
- ``payment_orders.created_by``: the handler whose run made the order (four-eyes); existing
  orders get their batch's ``created_by``.
- A database guard: an order can be added to (or moved into) a draft batch only. On PostgreSQL
  the trigger takes a share lock on the batch row, so an insert waits for an approval in
  progress and then sees the batch approved.

SQLite alters neither in place, and rebuilding a table other tables refer to breaks their
foreign keys, so on SQLite ``created_by`` is added with the default ``''`` (as the service
writes it when no handler is known) and the widened CHECK is written into the schema as
SQLite's documentation describes for loosening a constraint (``writable_schema``; every stored
row still satisfies it). A downgrade refuses while cancelled batches exist.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('draft', 'approved', 'exported')"
NEW_STATUSES = "status IN ('draft', 'approved', 'exported', 'cancelled')"
GUARD = "payment_orders_draft_batch_only"
GUARD_MESSAGE = "orders are added only to a draft batch"

SQLITE_GUARD = [
    f"CREATE TRIGGER {GUARD}_insert BEFORE INSERT ON payment_orders "
    "WHEN (SELECT status FROM payment_batches WHERE id = NEW.batch_id) IS NOT 'draft' "
    f"BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END",
    f"CREATE TRIGGER {GUARD}_move BEFORE UPDATE OF batch_id ON payment_orders "
    "WHEN NEW.batch_id IS NOT OLD.batch_id "
    "AND (SELECT status FROM payment_batches WHERE id = NEW.batch_id) IS NOT 'draft' "
    f"BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END",
]
POSTGRESQL_GUARD = [
    f"CREATE OR REPLACE FUNCTION {GUARD}() RETURNS trigger AS $$ "
    "DECLARE batch_status text; "
    "BEGIN "
    "IF TG_OP = 'UPDATE' AND NEW.batch_id = OLD.batch_id THEN RETURN NEW; END IF; "
    "SELECT status INTO batch_status FROM payment_batches WHERE id = NEW.batch_id FOR SHARE; "
    "IF batch_status IS DISTINCT FROM 'draft' THEN "
    f"RAISE EXCEPTION '{GUARD_MESSAGE} (batch % is %)', NEW.batch_id, batch_status "
    "USING ERRCODE = 'check_violation'; "
    "END IF; "
    "RETURN NEW; "
    "END $$ LANGUAGE plpgsql",
    f"CREATE TRIGGER {GUARD} BEFORE INSERT OR UPDATE OF batch_id ON payment_orders "
    f"FOR EACH ROW EXECUTE FUNCTION {GUARD}()",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("payment_orders", sa.Column("created_by", sa.String(length=64),
                                              nullable=not sqlite,
                                              server_default="" if sqlite else None))
    op.add_column("payment_orders", sa.Column("approved_digest", sa.String(length=64),
                                              nullable=True))
    op.execute("UPDATE payment_orders SET created_by = (SELECT created_by FROM payment_batches "
               "WHERE payment_batches.id = payment_orders.batch_id)")
    op.add_column("payment_batches", sa.Column("approved_digest", sa.String(length=64),
                                               nullable=True))
    if sqlite:
        _rewrite_sqlite_check(OLD_STATUSES, NEW_STATUSES)
    else:
        op.alter_column("payment_orders", "created_by", existing_type=sa.String(length=64),
                        nullable=False)
        op.drop_constraint(op.f("ck_payment_batches_status"), "payment_batches", type_="check")
        op.create_check_constraint(op.f("ck_payment_batches_status"), "payment_batches",
                                   NEW_STATUSES)
    _digest_approved_batches()
    for statement in SQLITE_GUARD if sqlite else POSTGRESQL_GUARD:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    cancelled = bind.execute(sa.text(
        "SELECT count(*) FROM payment_batches WHERE status = 'cancelled'")).scalar_one()
    if cancelled:
        raise RuntimeError(f"{cancelled} payment batches are cancelled, which revision 0002 "
                           "cannot hold; nothing was downgraded")
    if sqlite:
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD}_insert")
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD}_move")
        _rewrite_sqlite_check(NEW_STATUSES, OLD_STATUSES)
    else:
        op.execute(f"DROP FUNCTION IF EXISTS {GUARD}() CASCADE")
        op.drop_constraint(op.f("ck_payment_batches_status"), "payment_batches", type_="check")
        op.create_check_constraint(op.f("ck_payment_batches_status"), "payment_batches",
                                   OLD_STATUSES)
    op.drop_column("payment_batches", "approved_digest")
    op.drop_column("payment_orders", "approved_digest")
    op.drop_column("payment_orders", "created_by")


def _rewrite_sqlite_check(old: str, new: str) -> None:
    """Replace the CHECK of payment_batches.status in SQLite's stored schema (see above)."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        changed = bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) "
            "WHERE type = 'table' AND name = 'payment_batches' AND instr(sql, ?) > 0",
            (old, new, old)).rowcount
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    if changed != 1:
        raise RuntimeError(f"payment_batches has no CHECK ({old}) to replace")


# The digests as ``valitystili.payments`` computes them, spelled out so that this revision means
# the same forever.

def _order_digest(row) -> str:
    content = [row.key, row.client_id, row.amount_cents, row.creditor_name, row.creditor_iban,
               row.creditor_bic, row.reference, row.reference_kind, row.message,
               row.execution_on.isoformat() if hasattr(row.execution_on, "isoformat")
               else str(row.execution_on)]
    material = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _batch_digest(pairs: list[tuple[str, str]]) -> str:
    material = "".join(f"{key}\t{digest}\n" for key, digest in sorted(pairs))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _digest_approved_batches() -> None:
    bind = op.get_bind()
    batches = bind.execute(sa.text(
        "SELECT id FROM payment_batches WHERE status IN ('approved', 'exported')")).scalars().all()
    for batch_id in batches:
        rows = bind.execute(sa.text(
            "SELECT id, key, client_id, amount_cents, creditor_name, creditor_iban, creditor_bic, "
            "reference, reference_kind, message, execution_on FROM payment_orders "
            "WHERE batch_id = :batch AND status <> 'cancelled'"), {"batch": batch_id}).all()
        pairs = []
        for row in rows:
            digest = _order_digest(row)
            pairs.append((row.key, digest))
            bind.execute(sa.text("UPDATE payment_orders SET approved_digest = :digest "
                                 "WHERE id = :id"), {"digest": digest, "id": row.id})
        bind.execute(sa.text("UPDATE payment_batches SET approved_digest = :digest WHERE id = :id"),
                     {"digest": _batch_digest(pairs), "id": batch_id})
