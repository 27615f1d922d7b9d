"""Stored shape of the service (clients, plans, users, audit …) on the ledger's metadata.

The service's tables share ``ledger.metadata`` so that one Alembic history covers both and
foreign keys to ledger accounts resolve. Money columns are integer cents (``*_cents``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import ledger

ROLES = ("social_worker", "handler", "finance", "auditor", "admin")


class Base(DeclarativeBase):
    metadata = ledger.metadata


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('social_worker', 'handler', 'finance', 'auditor', 'admin')", name="role"
        ),
        CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64), default="")
    #: What the command line speaks to the user (``base/i18n.py``); None: their locale's.
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)


metadata = ledger.metadata


# --- the city's accounts, payees, clients ----------------------------------------------------

from datetime import date as _date  # noqa: E402

from sqlalchemy import (  # noqa: E402
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
    text,
)

CRITERIA = ("sublet", "housing_condition", "evictions", "other_weighty", "rent_debt_fixed_term")
LANGUAGES = ("fi", "sv", "en")
ITEM_KINDS = ("rent", "electricity", "other")
PAID_BY = ("account", "kela_direct", "client")


class BankAccount(Base):
    """One of the city's own intermediary accounts, as the bank knows it."""

    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iban: Mapped[str] = mapped_column(String(34), unique=True)
    name: Mapped[str] = mapped_column(String(140))
    bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    ledger_code: Mapped[str] = mapped_column(String(64), unique=True)   # "bank:<IBAN>"
    initiating_party_id: Mapped[str | None] = mapped_column(String(35), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64), default="")


class Payee(Base):
    __tablename__ = "payees"
    __table_args__ = (CheckConstraint("kind IN ('landlord', 'utility', 'other')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(140), unique=True)
    #: The name as payment files carry it (``text.payment_name``); batches use this.
    payment_name: Mapped[str] = mapped_column(String(70))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="other")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64), default="")


class Client(Base):
    """A client of the service. ``id`` is the client number; money is on ``ledger_code``."""

    __tablename__ = "clients"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hetu: Mapped[str] = mapped_column(String(11), unique=True)
    name: Mapped[str] = mapped_column(String(140))
    #: The name as payment files carry it (``text.payment_name``); batches use this.
    payment_name: Mapped[str] = mapped_column(String(70))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    language: Mapped[str] = mapped_column(String(2), default="fi")
    criterion: Mapped[str] = mapped_column(String(32))
    #: Why ``other_weighty`` applies (required with that criterion; DESIGN §2).
    criterion_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str] = mapped_column(String(64))
    start_on: Mapped[_date] = mapped_column(Date)
    until_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    review_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    #: The newest plan version (0: none) when ``client edit --review`` set ``review_on``: that
    #: date is the next review until a newer plan version names one (``clients.next_review``).
    review_plan_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    rf_reference: Mapped[str] = mapped_column(String(25), unique=True)
    ledger_code: Mapped[str] = mapped_column(String(64), unique=True)
    exclusions: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default="open")
    closed_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    final_payout: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64), default="")


# --- plans -------------------------------------------------------------------------------------


class Plan(Base):
    """One version of a client's payment plan. In force from ``effective_on`` once approved."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("client_id", "version", name="uq_plans_client_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    version: Mapped[int] = mapped_column(Integer)
    effective_on: Mapped[_date] = mapped_column(Date)
    review_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(Text)            # the TOML as written
    instalment_schedule: Mapped[str | None] = mapped_column(String(200), nullable=True)
    instalment_mode: Mapped[str] = mapped_column(String(8), default="even")   # even | fixed
    instalment_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    keep_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    minimum_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_despite: Mapped[str | None] = mapped_column(Text, nullable=True)   # plan check
    # How far this version's obligations have been generated (see plans/obligations.py).
    obligations_through: Mapped[_date | None] = mapped_column(Date, nullable=True)
    #: The month of the client's first obligations ("2026-12"), when the plan names one (§5).
    first_period: Mapped[str | None] = mapped_column(String(7), nullable=True)


class PlanItem(Base):
    """A ``[[pay]]`` entry: what the account pays, to whom, when."""

    __tablename__ = "plan_items"
    __table_args__ = (
        Index("ix_plan_items_plan", "plan_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))                 # rent | electricity | other
    payee_id: Mapped[int] = mapped_column(ForeignKey("payees.id"))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # None with bills
    bills: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(35), nullable=True)
    reference_kind: Mapped[str | None] = mapped_column(String(4), nullable=True)  # SCOR | ISO
    message: Mapped[str | None] = mapped_column(String(140), nullable=True)
    paid_by: Mapped[str] = mapped_column(String(16), default="account")
    allow_partial: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The part Kela (or another payer) usually pays the landlord directly; the account pays
    #: ``amount_cents`` less this (less the month's recorded ``KelaShare`` where there is one).
    paid_directly_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: Keeps the obligation keys of two items of one kind stable across plan versions.
    tag: Mapped[str | None] = mapped_column(String(40), nullable=True)


class PlanIncome(Base):
    """An ``[[income]]`` entry: money expected in, for matching, reserves and flags."""

    __tablename__ = "plan_incomes"
    __table_args__ = (
        Index("ix_plan_incomes_plan", "plan_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(140))     # payer, e.g. "Kela"
    kind: Mapped[str] = mapped_column(String(40))        # housing_allowance, pension, ...
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    schedule: Mapped[str] = mapped_column(String(200))
    route: Mapped[str] = mapped_column(String(40), default="client_declared_account")
    #: How far an arrival may differ from ``amount_cents``: a sum or a percentage; neither
    #: means the default (the larger of 5,00 € and 20 %).
    tolerance_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tolerance_percent: Mapped[int | None] = mapped_column(Integer, nullable=True)


class KelaShare(Base):
    """A month's actual direct part of the rent from Kela's decision (DESIGN §2), by a handler."""

    __tablename__ = "kela_shares"
    __table_args__ = (
        UniqueConstraint("client_id", "month", name="uq_kela_shares_client_month"),
        CheckConstraint("amount_cents >= 0", name="ck_kela_shares_amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    month: Mapped[str] = mapped_column(String(7))                # "2026-11"
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64), default="")


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (
        Index("ix_bills_client_due", "client_id", "due_on"),
        Index("ix_bills_due", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    payee_id: Mapped[int] = mapped_column(ForeignKey("payees.id"))
    kind: Mapped[str] = mapped_column(String(16), default="other")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    due_on: Mapped[_date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(35), nullable=True)
    reference_kind: Mapped[str | None] = mapped_column(String(4), nullable=True)
    message: Mapped[str | None] = mapped_column(String(140), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64), default="")


LEASE_KINDS = ("supported", "sublet", "own")


class Lease(Base):
    """A lease: ``supported`` housing follows the 3-month / 1-year / 4-year rules; a ``sublet``
    or the client's ``own`` lease may be open-ended (``end_on`` empty)."""

    __tablename__ = "leases"
    __table_args__ = (CheckConstraint("kind IN ('supported', 'sublet', 'own')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    payee_id: Mapped[int] = mapped_column(ForeignKey("payees.id"))
    rent_cents: Mapped[int] = mapped_column(BigInteger)
    start_on: Mapped[_date] = mapped_column(Date)
    end_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    #: From before lease kinds (the county sublets the flat); no longer read: ``kind`` says it.
    sublet: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(10), default="supported",
                                      server_default="supported")
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64), default="")


# --- the rent ledger and payments --------------------------------------------------------------


class Obligation(Base):
    """One thing to pay for one period (``rent:<client>:2026-11``); settled by payment orders."""

    __tablename__ = "obligations"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'settled', 'cancelled')", name="status"),
        Index("ix_obligations_client_status", "client_id", "status"),
        Index("ix_obligations_status_pay_on", "status", "pay_on"),
        Index("ix_obligations_due", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    payee_id: Mapped[int] = mapped_column(ForeignKey("payees.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    agreed_on: Mapped[_date | None] = mapped_column(Date, nullable=True)   # the plan's date
    due_on: Mapped[_date] = mapped_column(Date)          # the legal due date: arrears after it
    pay_on: Mapped[_date] = mapped_column(Date)          # the pay day (DESIGN §6)
    reference: Mapped[str | None] = mapped_column(String(35), nullable=True)
    reference_kind: Mapped[str | None] = mapped_column(String(4), nullable=True)
    message: Mapped[str | None] = mapped_column(String(140), nullable=True)
    allow_partial: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Kela's direct part of this period's rent; ``amount_cents`` is what the account pays.
    direct_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    source: Mapped[str] = mapped_column(String(16))          # plan_item | bill | lease
    source_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")


class PaymentBatch(Base):
    """A day's orders from one account: draft → approved → exported, or cancelled before export.

    ``approved_digest`` is the SHA-256 over the payment content of the orders approval covered
    (``batches.batch_digest``); export refuses a batch whose orders no longer give it.
    """

    __tablename__ = "payment_batches"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'approved', 'exported', 'cancelled')", name="status"),
        CheckConstraint("bank_status IS NULL OR bank_status IN ('received', 'accepted', "
                        "'partly_accepted', 'rejected')", name="bank_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)      # "batch:2026-11-02"
    run_on: Mapped[_date] = mapped_column(Date)
    execution_on: Mapped[_date] = mapped_column(Date)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    exported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    file_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The exported pain.001's MsgId and PmtInfId, by which the bank's status reports name it.
    message_id: Mapped[str | None] = mapped_column(String(35), nullable=True)
    payment_info_id: Mapped[str | None] = mapped_column(String(35), nullable=True)
    #: What the bank's status reports (pain.002) said of the file; None until one came.
    bank_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    bank_status_on: Mapped[_date | None] = mapped_column(Date, nullable=True)


class PaymentOrder(Base):
    """One payment out of one client's money. ``key`` makes it happen at most once.

    ``created_by`` is the handler whose run made the order (four-eyes: the approver must have
    made none of a batch's orders); ``approved_digest`` is the SHA-256 of its payment content as
    approved (``batches.order_digest``), which names the order when export finds a change.
    """

    __tablename__ = "payment_orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'approved', 'exported', 'cleared', 'returned', 'cancelled', "
            "'rejected')",
            name="status"),
        Index("ix_payment_orders_batch", "batch_id"),
        Index("ix_payment_orders_status", "status"),
        Index("ix_payment_orders_client_instalment", "client_id", "instalment_on"),
        # The batch reads recent instalments, an obligation's orders and final payouts: these
        # keep its cost to the day's work as the table grows with years of history.
        Index("ix_payment_orders_instalment_on", "instalment_on"),
        Index("ix_payment_orders_obligation", "obligation_id"),
        # Final payouts only (migration 0016): an index of every order by client costs each
        # day's run a page per client once the table holds years of orders.
        Index("ix_payment_orders_final", "client_id", sqlite_where=text("kind = 'final'"),
              postgresql_where=text("kind = 'final'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batches.id"))
    #: None for a refund of money in suspense to its payer (``manual_payments``): approval
    #: debits ``suspense`` instead of a client.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True)
    obligation_id: Mapped[int | None] = mapped_column(ForeignKey("obligations.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))   # rent | electricity | other | instalment | final
    payee_id: Mapped[int | None] = mapped_column(ForeignKey("payees.id"), nullable=True)
    creditor_name: Mapped[str] = mapped_column(String(140))
    creditor_iban: Mapped[str] = mapped_column(String(34))
    creditor_bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(35), nullable=True)
    reference_kind: Mapped[str | None] = mapped_column(String(4), nullable=True)
    message: Mapped[str | None] = mapped_column(String(140), nullable=True)
    execution_on: Mapped[_date] = mapped_column(Date)
    instalment_on: Mapped[_date | None] = mapped_column(Date, nullable=True)  # the rule's date
    status: Mapped[str] = mapped_column(String(10), default="draft")
    cleared_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    returned_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    #: The bank refused the payment before executing it (pain.002): when, and its reason code.
    rejected_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(String(35), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    approved_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)


# --- money in: statements ----------------------------------------------------------------------


class Statement(Base):
    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("bank_account_id", "source", "statement_id", name="uq_statements_ident"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    source: Mapped[str] = mapped_column(String(10))          # camt053 | camt054 | mt940 | csv | fints
    statement_id: Mapped[str] = mapped_column(String(140))
    file_name: Mapped[str] = mapped_column(String(400), default="")
    file_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    from_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    to_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    opening_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    opening_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    closing_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    closing_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Line states (``statement_lines.state``): where a line's money went.
POSTED = "posted"          # on a client by a matching rule
IN_SUSPENSE = "suspense"   # not attributed: in suspense, flagged
ASSIGNED = "assigned"      # moved from suspense to a client by a handler
BANK_ONLY = "bank_only"    # the bank side of an entry whose items are lines of their own
CLEARED = "outgoing"       # a debit that cleared a payment order
RETURNED = "returned"      # a credit that gave a returned payment back to its client
REFUNDED = "refunded"      # money in suspense a handler is returning to its payer (a refund)
SPLIT = "split"            # moved from suspense to several clients by a handler
LINE_STATES = (POSTED, IN_SUSPENSE, ASSIGNED, BANK_ONLY, CLEARED, RETURNED, REFUNDED, SPLIT)


class StatementLine(Base):
    """A booked bank entry (from camt.053/MT940/CSV) or an itemised credit (from camt.054).

    ``archive_id`` is the bank's id; lines are unique per bank account and archive id, which is
    what makes imports idempotent across overlapping files.
    """

    __tablename__ = "statement_lines"
    __table_args__ = (
        UniqueConstraint("bank_account_id", "archive_id", name="uq_statement_lines_archive"),
        Index("ix_statement_lines_parent", "bank_account_id", "parent_archive_id"),
        Index("ix_statement_lines_state", "state"),
        Index("ix_statement_lines_e2e", "end_to_end_id"),
        # The lines of an order, and a client's lines by day (migration 0020): partial, so
        # that the batch's credits (``order_id IS NULL``) are read by their days, never
        # through every line of every year.
        Index("ix_statement_lines_order", "order_id", sqlite_where=text("order_id IS NOT NULL"),
              postgresql_where=text("order_id IS NOT NULL")),
        Index("ix_statement_lines_client_day", "booked_on", "client_id",
              sqlite_where=text("client_id IS NOT NULL"),
              postgresql_where=text("client_id IS NOT NULL")),
        # A client's lines by day (migration 0018): the batch's credits, a part of its
        # clients at a time; a client's letter and export.
        Index("ix_statement_lines_client", "client_id", "booked_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))
    archive_id: Mapped[str] = mapped_column(String(140))
    parent_archive_id: Mapped[str | None] = mapped_column(String(140), nullable=True)
    level: Mapped[str] = mapped_column(String(6))          # entry | item
    booked_on: Mapped[_date] = mapped_column(Date)
    value_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # signed: + in, - out
    counterparty_name: Mapped[str | None] = mapped_column(String(140), nullable=True)
    counterparty_iban: Mapped[str | None] = mapped_column(String(34), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(35), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    end_to_end_id: Mapped[str | None] = mapped_column(String(35), nullable=True)
    bank_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    return_reason: Mapped[str | None] = mapped_column(String(8), nullable=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("payment_orders.id"), nullable=True)
    match_rule: Mapped[str | None] = mapped_column(String(20), nullable=True)
    state: Mapped[str] = mapped_column(String(12))         # one of LINE_STATES
    ledger_key: Mapped[str | None] = mapped_column(String(200), nullable=True)


# --- flags and the audit trail -----------------------------------------------------------------


class Flag(Base):
    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("kind", "subject", name="uq_flags_kind_subject"),
        Index("ix_flags_open", "resolved_at"),
        Index("ix_flags_subject", "subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))    # stable, e.g. "rent:1001:2026-11"
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True)
    amount_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    #: The detail as a message with its values (``base.i18n.Message.data``), so that it is shown
    #: in its reader's language; None for a detail that is plain text.
    detail_message: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    first_seen: Mapped[_date] = mapped_column(Date)
    last_seen: Mapped[_date] = mapped_column(Date)
    resolved_at: Mapped[_date | None] = mapped_column(Date, nullable=True)
    ack_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ack_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ack_comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditEntry(Base):
    """Append-only, hash-chained record of every change and every view of a client's data.

    ``position`` is the entry's place in the chain (1, 2, 3 …), given under the append lock;
    ``id`` is only a row id and may have gaps."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_client", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")    # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """Append-only: the audit trail's head (last position and hash) as ``reconcile`` verified
    it; the next reconcile checks the trail still holds that entry."""

    __tablename__ = "audit_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))


class AuditClientView(Base):
    """Append-only: the clients one audit entry's view showed, one row per client
    (``access.record_view``), so that a view of thousands of clients is one chained entry and
    each client's access history still finds it."""

    __tablename__ = "audit_client_views"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_hash: Mapped[str] = mapped_column(String(64), primary_key=True)   # audit_log.hash


class Setting(Base):
    """Deployment settings that are data, not code (debtor name, four-eyes, thresholds)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- the client's service record and edits (DESIGN §2, issue 12) --------------------------------

RECORD_KINDS = ("assessment", "consent", "power_of_attorney", "ev241n", "decision")


class ClientRecord(Base):
    """A dated record of the service about a client: never deleted nor changed; a correction is
    a new record whose ``supersedes_id`` names the record it replaces.

    ``start_on``/``end_on`` are the period the record holds for (a consent until withdrawn, a
    power of attorney until it expires, a payment demand until it ended, a decision's term);
    ``detail`` holds the kind's own fields (worker, scope, grounds …)."""

    __tablename__ = "client_records"
    __table_args__ = (
        CheckConstraint("kind IN ('assessment', 'consent', 'power_of_attorney', 'ev241n', "
                        "'decision')", name="kind"),
        UniqueConstraint("supersedes_id", name="uq_client_records_supersedes_id"),
        Index("ix_client_records_client", "client_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    kind: Mapped[str] = mapped_column(String(24))
    dated_on: Mapped[_date] = mapped_column(Date)
    start_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    end_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    review_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("client_records.id"),
                                                      nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64))


class ClientEdit(Base):
    """A change of a client's details that needs a second person (the IBAN): proposed, then
    approved (applied) or rejected by someone else. ``old``/``new`` hold the values."""

    __tablename__ = "client_edits"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')",
                        name="status"),
        Index("ix_client_edits_client_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    field: Mapped[str] = mapped_column(String(16))
    old: Mapped[dict] = mapped_column(JSON)
    new: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# --- service periods and money moved by hand (migration 0010) -----------------------------------

#: Why a service ends (``client close --reason``): stable keys; ``people.periods`` has the labels.
CLOSE_REASONS = ("service_not_needed", "moved", "guardianship_started", "died",
                 "consent_withdrawn", "other")
#: Where a closed client's final payout goes: their own account, or a payee named at closing
#: (a guardian, an estate) whose payout waits for a second handler's approval.
PAYOUT_STATUSES = ("own_account", "waiting", "approved")


class ServicePeriod(Base):
    """One service period of a client that has ended, written when the service is closed.

    The period running now is the client row's own ``start_on`` / ``until_on``; ``client
    reopen`` starts the next one on the same row. ``reason`` is None only for closings recorded
    before reasons were asked (or by a caller that gave none)."""

    __tablename__ = "service_periods"
    __table_args__ = (
        UniqueConstraint("client_id", "number", name="uq_service_periods_client_number"),
        CheckConstraint(
            "reason IS NULL OR reason IN ('service_not_needed', 'moved', 'guardianship_started', "
            "'died', 'consent_withdrawn', 'other')", name="reason"),
        CheckConstraint("payout_status IN ('own_account', 'waiting', 'approved')",
                        name="payout_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    number: Mapped[int] = mapped_column(Integer)                  # 1, 2, … per client
    start_on: Mapped[_date] = mapped_column(Date)
    until_on: Mapped[_date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[_date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    payout_status: Mapped[str] = mapped_column(String(12), default="own_account")
    payout_name: Mapped[str | None] = mapped_column(String(140), nullable=True)
    #: The payee's name as payment files carry it (``text.payment_name``).
    payout_payment_name: Mapped[str | None] = mapped_column(String(70), nullable=True)
    payout_iban: Mapped[str | None] = mapped_column(String(34), nullable=True)
    payout_bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    payout_approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payout_approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                               nullable=True)
    closed_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


#: What a handler moves by hand: a one-off payment out of a client's money, or money in
#: suspense returned to its payer.
MANUAL_KINDS = ("pay", "refund")
#: pending: waits for the next batch run; ordered: an order carries it (``order_id``);
#: withdrawn: its order was taken out of a batch, or it was withdrawn before one was made.
MANUAL_STATUSES = ("pending", "ordered", "withdrawn")


class ManualPayment(Base):
    """A payment a handler asked for by hand; the next batch run makes it an order (DESIGN §6:
    batch, four-eyes approval, pain.001 like every order)."""

    __tablename__ = "manual_payments"
    __table_args__ = (
        CheckConstraint("kind IN ('pay', 'refund')", name="kind"),
        CheckConstraint("status IN ('pending', 'ordered', 'withdrawn')", name="status"),
        CheckConstraint("amount_cents > 0", name="amount"),
        Index("ix_manual_payments_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_lines.id"), nullable=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    creditor_name: Mapped[str] = mapped_column(String(140))
    #: The name as payment files carry it (``text.payment_name``).
    creditor_payment_name: Mapped[str] = mapped_column(String(70))
    creditor_iban: Mapped[str] = mapped_column(String(34))
    creditor_bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(35), nullable=True)
    reference_kind: Mapped[str | None] = mapped_column(String(4), nullable=True)
    message: Mapped[str | None] = mapped_column(String(140), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("payment_orders.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# --- need to know, the audit trail's personal parts, anonymised clients (migration 0011) ------


class ClientGrant(Base):
    """A user allowed to see and change a client who is not their own (``client grant``);
    a revoked grant keeps its row with ``revoked_at``."""

    __tablename__ = "client_grants"
    __table_args__ = (Index("ix_client_grants_user", "user_name", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    user_name: Mapped[str] = mapped_column(String(64))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditPersonal(Base):
    """The personal part of an audit entry about a client, outside the hashed text: the entry's
    detail holds its hash (``personal_sha256``). ``personal`` is NULL once anonymised."""

    __tablename__ = "audit_personal"
    __table_args__ = (Index("ix_audit_personal_client", "client_id"),)

    entry_hash: Mapped[str] = mapped_column(String(64), primary_key=True)   # audit_log.hash
    client_id: Mapped[int] = mapped_column(Integer)
    personal: Mapped[str | None] = mapped_column(Text, nullable=True)


class ClientAnonymisation(Base):
    """A client whose personal data was replaced by a tombstone (``client anonymise``)."""

    __tablename__ = "client_anonymisations"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    anonymised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    anonymised_by: Mapped[str] = mapped_column(String(64))
