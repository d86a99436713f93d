"""Carts as the storefront reports them, for the abandoned-cart sequence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import ID_LENGTH, timestamp

CART_STATES = ("active", "converted", "unsubscribed")


class Cart(SQLModel, table=True):
    """One cart. `sequence` goes up when its items change (a new sequence of reminder steps);
    `step_sent` is the last step of the current sequence whose email was queued."""

    __tablename__ = "cart"
    __table_args__ = (
        CheckConstraint(f"state IN {CART_STATES!r}", name="cart_state_valid"),
        # The job looks for active carts with consent and an email, idle since `last_activity_at`.
        Index(
            "cart_due",
            "last_activity_at",
            postgresql_where=text("state = 'active' AND marketing_consent AND email IS NOT NULL"),
        ),
    )

    cart_id: str = Field(sa_column=Column(String(ID_LENGTH), primary_key=True))
    email: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    marketing_consent: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    items: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False, server_default="[]"))
    sequence: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    step_sent: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    state: str = Field(
        default="active", sa_column=Column(String(16), nullable=False, server_default="active")
    )
    last_activity_at: datetime | None = Field(default=None, sa_column=timestamp())
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class CartEmail(SQLModel, table=True):
    """One abandoned-cart email queued: (cart, sequence, step) at most once."""

    __tablename__ = "cart_email"
    __table_args__ = (UniqueConstraint("cart_id", "sequence", "step", name="cart_email_once"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    cart_id: str = Field(sa_column=Column(String(ID_LENGTH), nullable=False, index=True))
    sequence: int = Field(sa_column=Column(Integer, nullable=False))
    step: int = Field(sa_column=Column(Integer, nullable=False))
    outbox_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    queued_at: datetime | None = Field(default=None, sa_column=timestamp())
