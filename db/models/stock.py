"""Stock tables. Integrity lives here as constraints, not in Python checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlmodel import Field, SQLModel

from db.models.columns import ID_LENGTH, timestamp


class Product(SQLModel, table=True):
    """Catalogue entry; `stock` is on hand. `reserved` counts the units of its `active`
    reservations (expired ones included until something ends them): db/queries/reserved.py keeps it
    equal to their sum in every transaction that starts or ends a hold."""

    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="product_stock_nonnegative"),
        CheckConstraint("low_stock_threshold >= 0", name="product_threshold_nonnegative"),
        CheckConstraint("price >= 0", name="product_price_nonnegative"),
        CheckConstraint("reserved >= 0", name="product_reserved_nonnegative"),
    )

    sku: str = Field(sa_column=Column(String(ID_LENGTH), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    stock: int = Field(nullable=False)
    low_stock_threshold: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    reserved: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # Minor units in `currency`; NULL for products stored before prices existed (not reservable).
    price: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    currency: str | None = Field(default=None, sa_column=Column(String(3), nullable=True))
    # Set when a low-stock digest listed the product; cleared (re-armed) once stock rises above
    # the threshold again, so each crossing alerts once.
    low_stock_alerted_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class Checkout(SQLModel, table=True):
    """One storefront checkout; its row lock serialises calls for the same checkout."""

    __tablename__ = "checkout"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'released', 'converted')", name="checkout_state_valid"),
    )

    checkout_id: str = Field(sa_column=Column(String(ID_LENGTH), primary_key=True))
    email: str = Field(sa_column=Column(String(320), nullable=False))
    cart_id: str | None = Field(default=None, sa_column=Column(String(ID_LENGTH), nullable=True))
    # What the checkout owes, fixed when it reserved: a later price change does not move it.
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    currency: str | None = Field(default=None, sa_column=Column(String(3), nullable=True))
    state: str = Field(default="open", sa_column=Column(String(16), nullable=False, server_default="open"))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class Reservation(SQLModel, table=True):
    """Units of one SKU held for one checkout until `expires_at`.

    `active` and unexpired counts against availability; `released`, `expired`
    and `committed` do not (committed units left `product.stock` instead).
    """

    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="reservation_quantity_positive"),
        CheckConstraint(
            "state IN ('active', 'released', 'expired', 'committed')", name="reservation_state_valid"
        ),
        # At most one live hold per checkout and SKU: a repeat cannot reserve twice.
        Index(
            "reservation_one_active_per_sku",
            "checkout_id",
            "sku",
            unique=True,
            postgresql_where=text("state = 'active'"),
        ),
        Index("reservation_active_by_sku", "sku", "expires_at", postgresql_where=text("state = 'active'")),
        Index("reservation_active_by_expiry", "expires_at", postgresql_where=text("state = 'active'")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    checkout_id: str = Field(foreign_key="checkout.checkout_id", max_length=ID_LENGTH, nullable=False)
    # Deferrable (initially immediate) only so reserve_new_checkout() can check it after its
    # counter update (migration 0011).
    sku: str = Field(
        sa_column=Column(
            String(ID_LENGTH),
            ForeignKey("product.sku", deferrable=True, initially="IMMEDIATE"),
            nullable=False,
        )
    )
    quantity: int = Field(nullable=False)
    state: str = Field(
        default="active", sa_column=Column(String(16), nullable=False, server_default="active")
    )
    expires_at: datetime = Field(sa_column=timestamp(default_now=False))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    ended_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
