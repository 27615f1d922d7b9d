"""Initial schema: the ledger, clients and plans, the rent ledger and payments, statements,
flags, the audit trail and settings.

Written out operation by operation (not ``metadata.create_all``) so that this revision means the
same schema forever; later model changes get revisions of their own, and
``tests/test_migrations.py`` checks that the migrations and the models agree.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import ledger

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_transactions", "ledger_postings", "audit_log")


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_log_hash'))
    )
    op.create_index('ix_audit_log_client', 'audit_log', ['client_id'], unique=False)
    op.create_table('bank_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('ledger_code', sa.String(length=64), nullable=False),
    sa.Column('initiating_party_id', sa.String(length=35), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_accounts')),
    sa.UniqueConstraint('iban', name=op.f('uq_bank_accounts_iban')),
    sa.UniqueConstraint('ledger_code', name=op.f('uq_bank_accounts_ledger_code'))
    )
    op.create_table('clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hetu', sa.String(length=11), nullable=False),
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('criterion', sa.String(length=32), nullable=False),
    sa.Column('worker', sa.String(length=64), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('until_on', sa.Date(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('rf_reference', sa.String(length=25), nullable=False),
    sa.Column('ledger_code', sa.String(length=64), nullable=False),
    sa.Column('exclusions', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('final_payout', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name=op.f('ck_clients_language')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_clients_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients')),
    sa.UniqueConstraint('hetu', name=op.f('uq_clients_hetu')),
    sa.UniqueConstraint('ledger_code', name=op.f('uq_clients_ledger_code')),
    sa.UniqueConstraint('reference', name=op.f('uq_clients_reference')),
    sa.UniqueConstraint('rf_reference', name=op.f('uq_clients_rf_reference'))
    )
    op.create_table('ledger_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('no_negative', sa.Boolean(), nullable=False),
    sa.Column('balance_cents', sa.BigInteger(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("currency = 'EUR'", name=op.f('ck_ledger_accounts_currency')),
    sa.CheckConstraint("kind IN ('asset', 'liability', 'income', 'expense', 'equity')", name=op.f('ck_ledger_accounts_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_accounts_code'))
    )
    op.create_table('ledger_transactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('value_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_transactions_reverses_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('key', name=op.f('uq_ledger_transactions_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_transactions_reverses_id'))
    )
    op.create_table('payees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("kind IN ('landlord', 'utility', 'other')", name=op.f('ck_payees_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payees')),
    sa.UniqueConstraint('name', name=op.f('uq_payees_name'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("role IN ('social_worker', 'handler', 'finance', 'auditor', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('bills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('payee_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=35), nullable=True),
    sa.Column('reference_kind', sa.String(length=4), nullable=True),
    sa.Column('message', sa.String(length=140), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_bills_client_id_clients')),
    sa.ForeignKeyConstraint(['payee_id'], ['payees.id'], name=op.f('fk_bills_payee_id_payees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bills'))
    )
    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.Date(), nullable=False),
    sa.Column('last_seen', sa.Date(), nullable=False),
    sa.Column('resolved_at', sa.Date(), nullable=True),
    sa.Column('ack_by', sa.String(length=64), nullable=True),
    sa.Column('ack_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ack_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_flags_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flags')),
    sa.UniqueConstraint('kind', 'subject', name='uq_flags_kind_subject')
    )
    op.create_index('ix_flags_open', 'flags', ['resolved_at'], unique=False)
    op.create_table('leases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('payee_id', sa.Integer(), nullable=False),
    sa.Column('rent_cents', sa.BigInteger(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('sublet', sa.Boolean(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_leases_client_id_clients')),
    sa.ForeignKeyConstraint(['payee_id'], ['payees.id'], name=op.f('fk_leases_payee_id_payees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leases'))
    )
    op.create_table('ledger_postings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_ledger_postings_nonzero')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_postings_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_postings_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_postings'))
    )
    op.create_index('ix_ledger_postings_account_booked', 'ledger_postings', ['account_id', 'booked_on'], unique=False)
    op.create_index('ix_ledger_postings_transaction', 'ledger_postings', ['transaction_id'], unique=False)
    op.create_table('obligations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payee_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('paid_cents', sa.BigInteger(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('pay_by_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=35), nullable=True),
    sa.Column('reference_kind', sa.String(length=4), nullable=True),
    sa.Column('message', sa.String(length=140), nullable=True),
    sa.Column('allow_partial', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.CheckConstraint("status IN ('open', 'settled', 'cancelled')", name=op.f('ck_obligations_status')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_obligations_client_id_clients')),
    sa.ForeignKeyConstraint(['payee_id'], ['payees.id'], name=op.f('fk_obligations_payee_id_payees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligations')),
    sa.UniqueConstraint('key', name=op.f('uq_obligations_key'))
    )
    op.create_index('ix_obligations_client_status', 'obligations', ['client_id', 'status'], unique=False)
    op.create_index('ix_obligations_due', 'obligations', ['due_on'], unique=False)
    op.create_index('ix_obligations_status_pay_by', 'obligations', ['status', 'pay_by_on'], unique=False)
    op.create_table('payment_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('run_on', sa.Date(), nullable=False),
    sa.Column('execution_on', sa.Date(), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'approved', 'exported')", name=op.f('ck_payment_batches_status')),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], name=op.f('fk_payment_batches_bank_account_id_bank_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_batches')),
    sa.UniqueConstraint('key', name=op.f('uq_payment_batches_key'))
    )
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('instalment_schedule', sa.String(length=200), nullable=True),
    sa.Column('instalment_mode', sa.String(length=8), nullable=False),
    sa.Column('instalment_cents', sa.BigInteger(), nullable=True),
    sa.Column('keep_cents', sa.BigInteger(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('obligations_through', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_plans_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('client_id', 'version', name='uq_plans_client_version')
    )
    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('statement_id', sa.String(length=140), nullable=False),
    sa.Column('file_name', sa.String(length=400), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('from_on', sa.Date(), nullable=True),
    sa.Column('to_on', sa.Date(), nullable=True),
    sa.Column('opening_cents', sa.BigInteger(), nullable=True),
    sa.Column('opening_on', sa.Date(), nullable=True),
    sa.Column('closing_cents', sa.BigInteger(), nullable=True),
    sa.Column('closing_on', sa.Date(), nullable=True),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], name=op.f('fk_statements_bank_account_id_bank_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('bank_account_id', 'source', 'statement_id', name='uq_statements_ident')
    )
    op.create_table('payment_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('end_to_end_id', sa.String(length=35), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payee_id', sa.Integer(), nullable=True),
    sa.Column('creditor_name', sa.String(length=140), nullable=False),
    sa.Column('creditor_iban', sa.String(length=34), nullable=False),
    sa.Column('creditor_bic', sa.String(length=11), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=35), nullable=True),
    sa.Column('reference_kind', sa.String(length=4), nullable=True),
    sa.Column('message', sa.String(length=140), nullable=True),
    sa.Column('execution_on', sa.Date(), nullable=False),
    sa.Column('instalment_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('cleared_on', sa.Date(), nullable=True),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'approved', 'exported', 'cleared', 'returned', 'cancelled')", name=op.f('ck_payment_orders_status')),
    sa.ForeignKeyConstraint(['batch_id'], ['payment_batches.id'], name=op.f('fk_payment_orders_batch_id_payment_batches')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_payment_orders_client_id_clients')),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligations.id'], name=op.f('fk_payment_orders_obligation_id_obligations')),
    sa.ForeignKeyConstraint(['payee_id'], ['payees.id'], name=op.f('fk_payment_orders_payee_id_payees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_orders')),
    sa.UniqueConstraint('end_to_end_id', name=op.f('uq_payment_orders_end_to_end_id')),
    sa.UniqueConstraint('key', name=op.f('uq_payment_orders_key'))
    )
    op.create_index('ix_payment_orders_batch', 'payment_orders', ['batch_id'], unique=False)
    op.create_index('ix_payment_orders_client_instalment', 'payment_orders', ['client_id', 'instalment_on'], unique=False)
    op.create_index('ix_payment_orders_status', 'payment_orders', ['status'], unique=False)
    op.create_table('plan_incomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=140), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('schedule', sa.String(length=200), nullable=False),
    sa.Column('route', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_incomes_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_incomes'))
    )
    op.create_table('plan_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payee_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('bills', sa.Boolean(), nullable=False),
    sa.Column('schedule', sa.String(length=200), nullable=True),
    sa.Column('reference', sa.String(length=35), nullable=True),
    sa.Column('reference_kind', sa.String(length=4), nullable=True),
    sa.Column('message', sa.String(length=140), nullable=True),
    sa.Column('paid_by', sa.String(length=16), nullable=False),
    sa.Column('allow_partial', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['payee_id'], ['payees.id'], name=op.f('fk_plan_items_payee_id_payees')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_items_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_items'))
    )
    op.create_table('statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.String(length=140), nullable=False),
    sa.Column('parent_archive_id', sa.String(length=140), nullable=True),
    sa.Column('level', sa.String(length=6), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('value_on', sa.Date(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('counterparty_name', sa.String(length=140), nullable=True),
    sa.Column('counterparty_iban', sa.String(length=34), nullable=True),
    sa.Column('reference', sa.String(length=35), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('end_to_end_id', sa.String(length=35), nullable=True),
    sa.Column('bank_code', sa.String(length=40), nullable=True),
    sa.Column('return_reason', sa.String(length=8), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('match_rule', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('ledger_key', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], name=op.f('fk_statement_lines_bank_account_id_bank_accounts')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_statement_lines_client_id_clients')),
    sa.ForeignKeyConstraint(['order_id'], ['payment_orders.id'], name=op.f('fk_statement_lines_order_id_payment_orders')),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_lines_statement_id_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines')),
    sa.UniqueConstraint('bank_account_id', 'archive_id', name='uq_statement_lines_archive')
    )
    op.create_index('ix_statement_lines_e2e', 'statement_lines', ['end_to_end_id'], unique=False)
    op.create_index('ix_statement_lines_parent', 'statement_lines', ['bank_account_id', 'parent_archive_id'], unique=False)
    op.create_index('ix_statement_lines_state', 'statement_lines', ['state'], unique=False)
    # The ledger's postings and transactions, and the audit trail, refuse UPDATE and DELETE.
    for statement in ledger.append_only_ddl(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only() CASCADE")
    op.drop_index('ix_statement_lines_state', table_name='statement_lines')
    op.drop_index('ix_statement_lines_parent', table_name='statement_lines')
    op.drop_index('ix_statement_lines_e2e', table_name='statement_lines')
    op.drop_table('statement_lines')
    op.drop_table('plan_items')
    op.drop_table('plan_incomes')
    op.drop_index('ix_payment_orders_status', table_name='payment_orders')
    op.drop_index('ix_payment_orders_client_instalment', table_name='payment_orders')
    op.drop_index('ix_payment_orders_batch', table_name='payment_orders')
    op.drop_table('payment_orders')
    op.drop_table('statements')
    op.drop_table('plans')
    op.drop_table('payment_batches')
    op.drop_index('ix_obligations_status_pay_by', table_name='obligations')
    op.drop_index('ix_obligations_due', table_name='obligations')
    op.drop_index('ix_obligations_client_status', table_name='obligations')
    op.drop_table('obligations')
    op.drop_index('ix_ledger_postings_transaction', table_name='ledger_postings')
    op.drop_index('ix_ledger_postings_account_booked', table_name='ledger_postings')
    op.drop_table('ledger_postings')
    op.drop_table('leases')
    op.drop_index('ix_flags_open', table_name='flags')
    op.drop_table('flags')
    op.drop_table('bills')
    op.drop_table('users')
    op.drop_table('settings')
    op.drop_table('payees')
    op.drop_table('ledger_transactions')
    op.drop_table('ledger_accounts')
    op.drop_table('clients')
    op.drop_table('bank_accounts')
    op.drop_index('ix_audit_log_client', table_name='audit_log')
    op.drop_table('audit_log')
