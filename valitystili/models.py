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
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(64), default="")


metadata = ledger.metadata
