"""Payments a person must look at, and refunds as the providers report them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models.columns import ID_LENGTH, timestamp


class UnmatchedPayment(SQLModel, table=True):
    """A successful payment that became no order: it names no checkout, an unknown one, or a
    checkout another payment already paid. Kept so the money is never silently dropped."""

    __tablename__ = "unmatched_payment"
    __table_args__ = (UniqueConstraint("provider", "payment_id", name="unmatched_payment_once"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    provider: str = Field(sa_column=Column(String(20), nullable=False))
    payment_id: str = Field(sa_column=Column(String(128), nullable=False))
    event_row_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    checkout_id: str | None = Field(default=None, sa_column=Column(String(ID_LENGTH), nullable=True))
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    currency: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    email: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())


class PaymentRefund(SQLModel, table=True):
    """One refund by its provider refund id; a refund that arrives before its order waits here
    (order_id NULL) and is applied when the order appears."""

    __tablename__ = "payment_refund"
    __table_args__ = (UniqueConstraint("provider", "refund_id", name="payment_refund_once"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    provider: str = Field(sa_column=Column(String(20), nullable=False))
    refund_id: str = Field(sa_column=Column(String(255), nullable=False))
    payment_id: str = Field(sa_column=Column(String(128), nullable=False, index=True))
    # Stripe reports the charge's cumulative refunded amount; the others this refund's amount.
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    cumulative: bool = Field(default=False, nullable=False)
    currency: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    order_id: str | None = Field(default=None, sa_column=Column(String(ID_LENGTH), nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
