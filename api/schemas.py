"""Request and response bodies; their JSON schemas feed the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.validation import ID_PATTERN

MAX_QUANTITY = 10_000
MAX_STOCK = 1_000_000_000
Id = Field(min_length=1, max_length=64, pattern=ID_PATTERN.pattern)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ProductIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    stock: int = Field(ge=0, le=MAX_STOCK, description="units on hand")
    low_stock_threshold: int = Field(0, ge=0, le=MAX_STOCK)


class ProductOut(BaseModel):
    sku: str
    name: str
    stock: int
    reserved: int
    available: int
    low_stock_threshold: int


class Item(Strict):
    sku: str = Id
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class ReservationIn(Strict):
    email: EmailStr = Field(max_length=320)
    items: list[Item] = Field(min_length=1, max_length=100)
    cart_id: str | None = Field(None, min_length=1, max_length=64, pattern=ID_PATTERN.pattern)


class ReservationOut(BaseModel):
    checkout_id: str
    items: list[Item]
    expires_at: datetime


class ShortageOut(BaseModel):
    sku: str
    requested: int
    available: int


class JobRunOut(BaseModel):
    job: str
    message_id: str
    queue: str


class OrderLineOut(BaseModel):
    sku: str
    quantity: int


class OrderOut(BaseModel):
    order_id: str
    checkout_id: str
    email: str
    state: str = Field(description="paid | needs_attention | cancelled | refunded")
    stock_deducted: bool
    provider: str
    payment_id: str | None
    amount: int | None = Field(description="minor units, as the provider reported")
    currency: str | None
    note: str | None
    lines: list[OrderLineOut]
    created_at: datetime
    updated_at: datetime


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool
