"""Orders: what a paid checkout became. One order per checkout, by constraint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from db.models.columns import ID_LENGTH, timestamp

ORDER_STATES = ("paid", "needs_attention", "cancelled", "refunded")


class Order(SQLModel, table=True):
    """`stock_deducted` says whether this order took units out of `product.stock`,
    so cancelling or refunding restores exactly what was taken, once."""

    __tablename__ = "customer_order"
    __table_args__ = (CheckConstraint(f"state IN {ORDER_STATES!r}", name="order_state_valid"),)

    order_id: str = Field(sa_column=Column(String(ID_LENGTH), primary_key=True))
    checkout_id: str = Field(
        sa_column=Column(String(ID_LENGTH), ForeignKey("checkout.checkout_id"), nullable=False, unique=True)
    )
    email: str = Field(sa_column=Column(String(320), nullable=False))
    cart_id: str | None = Field(default=None, sa_column=Column(String(ID_LENGTH), nullable=True))
    state: str = Field(sa_column=Column(String(20), nullable=False))
    stock_deducted: bool = Field(sa_column=Column(Boolean, nullable=False))
    provider: str = Field(sa_column=Column(String(20), nullable=False))
    payment_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True, index=True))
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    currency: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="order_line_quantity_positive"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    order_id: str = Field(
        sa_column=Column(String(ID_LENGTH), ForeignKey("customer_order.order_id"), nullable=False, index=True)
    )
    sku: str = Field(sa_column=Column(String(ID_LENGTH), ForeignKey("product.sku"), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
