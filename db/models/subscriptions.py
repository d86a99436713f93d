"""Premium subscriptions and their renewals: what the storefront sold, and every charge tried.

The rows, not Python, hold the money rules (services/renewals.py):
- `subscription_charge` is unique per (subscription, period start): one charge per period.
- `subscription_charge_attempt` is unique per (charge, number) and per idempotency key, and at most
  one attempt of a charge may be `started` or `succeeded` (partial unique index): a new attempt
  cannot begin while one's outcome is unknown, and a period cannot succeed twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from db.models.columns import ID_LENGTH, timestamp

SUBSCRIPTION_STATES = ("active", "past_due", "lapsed", "cancelled")
INTERVALS = ("month", "year")
GATEWAYS = ("stripe", "fake")
CHARGE_STATES = ("pending", "succeeded", "failed")
ATTEMPT_STATES = ("started", "succeeded", "declined")


class Subscription(SQLModel, table=True):
    """One premium subscription. `current_period_end` is when the next period must be paid;
    `anchor_day` is the day of the month periods end on (31 ends Feb 28/29, then Mar 31);
    `next_attempt_at` is when a past-due renewal is tried again; `dunning_step` counts the
    declined attempts of the period being charged."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint(f"state IN {SUBSCRIPTION_STATES!r}", name="subscription_state_valid"),
        CheckConstraint(f"interval IN {INTERVALS!r}", name="subscription_interval_valid"),
        CheckConstraint(f"gateway IN {GATEWAYS!r}", name="subscription_gateway_valid"),
        CheckConstraint("amount > 0", name="subscription_amount_positive"),
        CheckConstraint("anchor_day BETWEEN 1 AND 31", name="subscription_anchor_day_valid"),
        # The renewal job looks for active subscriptions whose period ended and past-due ones
        # whose next attempt is due.
        Index(
            "subscription_due",
            "current_period_end",
            postgresql_where=text("state IN ('active', 'past_due')"),
        ),
    )

    subscription_id: str = Field(sa_column=Column(String(ID_LENGTH), primary_key=True))
    email: str = Field(sa_column=Column(String(320), nullable=False))
    plan: str = Field(sa_column=Column(String(128), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    interval: str = Field(sa_column=Column(String(8), nullable=False))
    anchor_day: int = Field(sa_column=Column(Integer, nullable=False))
    current_period_end: datetime = Field(sa_column=timestamp(default_now=False))
    gateway: str = Field(sa_column=Column(String(16), nullable=False))
    customer_ref: str = Field(sa_column=Column(String(255), nullable=False))
    payment_method_ref: str = Field(sa_column=Column(String(255), nullable=False))
    state: str = Field(
        default="active", sa_column=Column(String(16), nullable=False, server_default="active")
    )
    cancel_at_period_end: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    dunning_step: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    cancelled_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
    lapsed_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class SubscriptionCharge(SQLModel, table=True):
    """The charge for one period: [period_start, period_end), amount and currency fixed when it
    was first tried. `failures` declined attempts so far, the first at `first_failed_at`."""

    __tablename__ = "subscription_charge"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start", name="subscription_charge_once_per_period"),
        CheckConstraint(f"state IN {CHARGE_STATES!r}", name="subscription_charge_state_valid"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    subscription_id: str = Field(sa_column=Column(String(ID_LENGTH), nullable=False, index=True))
    period_start: datetime = Field(sa_column=timestamp(default_now=False))
    period_end: datetime = Field(sa_column=timestamp(default_now=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    state: str = Field(
        default="pending", sa_column=Column(String(16), nullable=False, server_default="pending")
    )
    failures: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    first_failed_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    gateway_reference: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class SubscriptionChargeAttempt(SQLModel, table=True):
    """One try at the gateway. `idempotency_key` is `renewal/{subscription_id}/{period_start}/{number}`;
    `gateway_reference` (the PaymentIntent id) is stored before the payment is confirmed, so a
    run after a crash asks the gateway about that same payment instead of starting another."""

    __tablename__ = "subscription_charge_attempt"
    __table_args__ = (
        UniqueConstraint("charge_id", "number", name="subscription_charge_attempt_number_once"),
        CheckConstraint(f"state IN {ATTEMPT_STATES!r}", name="subscription_charge_attempt_state_valid"),
        Index(
            "subscription_charge_one_open_or_paid_attempt",
            "charge_id",
            unique=True,
            postgresql_where=text("state IN ('started', 'succeeded')"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    charge_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    number: int = Field(sa_column=Column(Integer, nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    gateway: str = Field(sa_column=Column(String(16), nullable=False))
    payment_method_ref: str = Field(sa_column=Column(String(255), nullable=False))
    state: str = Field(
        default="started", sa_column=Column(String(16), nullable=False, server_default="started")
    )
    gateway_reference: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    decline_code: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    decline_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    started_at: datetime | None = Field(default=None, sa_column=timestamp())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
