"""Low-stock alerts: one digest per run that found newly crossed products, delivered by email and,
when configured, to a Slack incoming webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp


class LowStockDigest(SQLModel, table=True):
    """The products one run found crossed (claimed in the same transaction, so two runs never
    list one crossing twice), and the Slack delivery's state (email goes through the outbox)."""

    __tablename__ = "low_stock_digest"
    __table_args__ = (
        CheckConstraint("slack_state IN ('none', 'pending', 'sent', 'failed')", name="low_stock_slack_state"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    products: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    email_outbox_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    slack_state: str = Field(
        default="none", sa_column=Column(String(16), nullable=False, server_default="none")
    )
    slack_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    slack_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    slack_sent_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
