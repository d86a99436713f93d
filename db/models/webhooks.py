"""Webhook events as received: the durable intent a provider handed over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp

EVENT_STATES = ("received", "processed", "ignored")


class WebhookEvent(SQLModel, table=True):
    """One verified provider event; (provider, event_id) is unique, so a duplicate is stored once."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="webhook_event_once"),
        CheckConstraint(f"state IN {EVENT_STATES!r}", name="webhook_event_state_valid"),
        # The reconciler looks for events left in their first state.
        Index("webhook_event_received", "received_at", postgresql_where=text("state = 'received'")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    provider: str = Field(sa_column=Column(String(20), nullable=False))
    event_id: str = Field(sa_column=Column(String(255), nullable=False))
    event_type: str = Field(sa_column=Column(String(100), nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    headers: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False, server_default="{}"))
    state: str = Field(sa_column=Column(String(16), nullable=False, server_default="received"))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    order_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    received_at: datetime | None = Field(default=None, sa_column=timestamp())
    processed_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
    # When the reconciler last sent it again (NULL: only the first send, at creation); see jobs/reconcile.py.
    last_enqueued_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
