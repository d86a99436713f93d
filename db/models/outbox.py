"""The email outbox: one row per email to send, written in the transaction that decided it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp

OUTBOX_STATES = ("pending", "sent", "failed")


class EmailOutbox(SQLModel, table=True):
    """`idempotency_key` (e.g. `order-confirmation/{order_id}`) is unique here and is sent to
    Resend as the Idempotency-Key, so one decision is one email however often it is retried."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        CheckConstraint(f"state IN {OUTBOX_STATES!r}", name="email_outbox_state_valid"),
        Index("email_outbox_pending", "created_at", postgresql_where=text("state = 'pending'")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    idempotency_key: str = Field(sa_column=Column(String(256), nullable=False, unique=True))
    template: str = Field(sa_column=Column(String(64), nullable=False))
    to_address: str = Field(sa_column=Column(String(320), nullable=False))
    context: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False, server_default="pending"))
    provider_message_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    sent_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
    # When the reconciler last sent it again (NULL: only the first send, at creation); see jobs/reconcile.py.
    last_enqueued_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
