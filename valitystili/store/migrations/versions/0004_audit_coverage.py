"""The audit trail: chain positions, recorded heads, ledger coverage (money-safety fixes).

- ``audit_log.position``: each entry's place in the chain, so that the chain no longer depends on
  gap-free row ids (a rolled-back insert uses up an id). Existing entries are numbered in id
  order.
- ``audit_heads``: append-only; the head (position, hash) each ``reconcile`` verified.
- On a database that already holds entries or ledger transactions, one entry
  ``audit.coverage`` is appended to the chain: the ledger transactions up to the highest id at
  this moment were posted before the trail recorded what each action posted (they are not
  findings), and the users, settings and payment batches as they are now are the state the
  trail vouches for from here on (later changes are entries of their own).

The hash of the ``audit.coverage`` entry is computed here as ``valitystili.trust.audit`` computes
every entry's hash (spelled out, so that this revision means the same forever).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
import hashlib
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import ledger

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table('audit_heads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_heads'))
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.add_column('audit_log', sa.Column('position', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE audit_log SET position = numbered.p FROM "
        "(SELECT id, row_number() OVER (ORDER BY id) AS p FROM audit_log) AS numbered "
        "WHERE audit_log.id = numbered.id"
    )
    with op.batch_alter_table('audit_log') as batch:
        batch.alter_column('position', existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(op.f('uq_audit_log_position'), ['position'])
    _append_only(dialect)
    _append_coverage_entry()


def downgrade() -> None:
    op.drop_table('audit_heads')
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_constraint(op.f('uq_audit_log_position'), type_='unique')
        batch.drop_column('position')
    if dialect == "sqlite":    # the table was rebuilt, without its triggers
        for statement in ledger.append_only_ddl(dialect, ("audit_log",)):
            op.execute(statement)


def _append_only(dialect: str) -> None:
    if dialect == "sqlite":
        # The batch rebuilt audit_log, which drops its triggers: put them back.
        for statement in ledger.append_only_ddl(dialect, ("audit_log", "audit_heads")):
            op.execute(statement)
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        for statement in ledger.append_only_ddl(dialect, ("audit_heads",)):
            op.execute(statement)


def _canonical(detail: dict) -> str:
    return json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str,
                      separators=(",", ":"))


def _hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail: str) -> str:
    moment = at.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f")
    material = "\x1f".join([prev_hash, moment, actor, action, "", subject, detail])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _append_coverage_entry() -> None:
    bind = op.get_bind()
    last = bind.execute(sa.text(
        "SELECT position, hash FROM audit_log ORDER BY position DESC LIMIT 1")).first()
    highest = bind.execute(sa.text(
        "SELECT coalesce(max(id), 0) FROM ledger_transactions")).scalar_one()
    if last is None and not highest:
        return                     # a new database: the trail covers everything from the start
    batch_columns = {c["name"] for c in sa.inspect(bind).get_columns("payment_batches")}
    digest = "approved_digest" if "approved_digest" in batch_columns else "NULL"
    state = {
        "users": {name: {"role": role} for name, role in bind.execute(
            sa.text("SELECT name, role FROM users"))},
        "settings": {key: {"value": value} for key, value in bind.execute(
            sa.text("SELECT key, value FROM settings"))},
        "batches": {key: {"status": status, "created_by": created_by, "approved_by": approved_by,
                          "approved_digest": approved_digest}
                    for key, status, created_by, approved_by, approved_digest in bind.execute(
                        sa.text(f"SELECT key, status, created_by, approved_by, {digest} "
                                "FROM payment_batches"))},
    }
    detail = _canonical({"before_coverage": {"ledger_transactions_through_id": int(highest)},
                         "state": state})
    position, prev = (last.position + 1, last.hash) if last is not None else (1, GENESIS)
    at = datetime.now(timezone.utc)
    actor, action, subject = "db upgrade", "audit.coverage", "revision 0004"
    entries = sa.table(
        "audit_log", sa.column("position", sa.Integer), sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String), sa.column("action", sa.String),
        sa.column("client_id", sa.Integer), sa.column("subject", sa.String),
        sa.column("detail", sa.Text), sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String))
    op.execute(entries.insert().values(
        position=position, at=at, actor=actor, action=action, client_id=None, subject=subject,
        detail=detail, prev_hash=prev, hash=_hash(prev, at, actor, action, subject, detail)))
