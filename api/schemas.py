"""Request and response bodies; their JSON schemas feed the OpenAPI document."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)

from api.email import Email
from api.validation import ID_PATTERN

MAX_QUANTITY = 10_000
MAX_STOCK = 1_000_000_000
MAX_PRICE = 10**12  # minor units: ten billion in a two-decimal currency
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
Id = Field(min_length=1, max_length=64, pattern=ID_PATTERN.pattern)


def _no_text(value: object) -> object:
    # JSON Schema's "integer" admits 3.0 but not "3" or true; so do we.
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_no_text)]


class NoNul(BaseModel):
    """PostgreSQL cannot store NUL in text: refuse it here with the field's name, not a 500 later."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Strict(NoNul):
    """Unknown fields are refused; integers must be JSON numbers, booleans JSON booleans."""

    model_config = ConfigDict(extra="forbid")


class ProductIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    stock: JsonInt = Field(ge=0, le=MAX_STOCK, description="units on hand")
    low_stock_threshold: JsonInt = Field(0, ge=0, le=MAX_STOCK)
    price: JsonInt = Field(ge=0, le=MAX_PRICE, description="minor units (cents) of `currency`")
    currency: str | None = Field(
        None,
        description="ISO 4217, any case; default STORE_CURRENCY",
        json_schema_extra={"pattern": CURRENCY_PATTERN},
    )

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(CURRENCY_PATTERN, value):
            raise ValueError("must be a three-letter ISO 4217 code, like USD")
        return value


class ProductOut(BaseModel):
    sku: str
    name: str
    stock: int
    reserved: int
    available: int
    low_stock_threshold: int
    price: int | None = Field(description="minor units; null for a product stored before prices")
    currency: str | None


class Item(Strict):
    sku: str = Id
    quantity: JsonInt = Field(ge=1, le=MAX_QUANTITY)


class ReservationIn(Strict):
    email: Email = Field(max_length=320)
    items: list[Item] = Field(min_length=1, max_length=100)
    cart_id: str | None = Field(None, min_length=1, max_length=64, pattern=ID_PATTERN.pattern)


class ReservationOut(BaseModel):
    checkout_id: str
    items: list[Item]
    expires_at: datetime
    amount: int = Field(description="what the checkout owes, minor units, fixed at reservation")
    currency: str


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


class MoneyOut(BaseModel):
    amount: int | None = Field(description="minor units; null when unknown")
    currency: str | None


class PaymentIssueOut(BaseModel):
    """A payment a person must look at: what was paid, what was owed, why it stopped."""

    state: Literal["needs_attention", "unmatched"]
    id: str = Field(description="the order id, or `unmatched-<n>` for a payment that matched no order")
    provider: str
    payment_id: str | None
    checkout_id: str | None
    email: str | None
    paid: MoneyOut = Field(description="what the provider reported")
    owed: MoneyOut = Field(description="what the checkout owed; null amount when no checkout matched")
    reason: str
    created_at: datetime


class PaymentIssuesOut(BaseModel):
    items: list[PaymentIssueOut]
    next_offset: int | None = Field(description="`offset` of the next page; null on the last page")


class PaymentIssuesQueryIn(NoNul):
    """The query of GET /v1/admin/payments; strings in, as a query string gives them."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["needs_attention", "unmatched"] | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class DeadLetterFilterIn(NoNul):
    """Criteria AND together; times bound the last failure."""

    model_config = ConfigDict(extra="forbid")  # not strict: times arrive as ISO strings

    actor: str | None = Field(default=None, max_length=200)
    queue: str | None = Field(default=None, max_length=100)
    exception_type: str | None = Field(default=None, max_length=200)
    fingerprint: str | None = Field(default=None, max_length=16)
    state: Literal["dead", "replayed"] | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class ReplayIn(Strict):
    reason: str | None = Field(default=None, max_length=500)
    force: StrictBool = False


class ScheduleActionIn(Strict):
    """A pause or resume of a recurring job; the reason goes to the audit."""

    reason: str | None = Field(default=None, max_length=500)


class BulkIn(Strict):
    """`filter` must name at least one criterion unless `all` is true."""

    filter: DeadLetterFilterIn = Field(default_factory=lambda: DeadLetterFilterIn())
    all: StrictBool = False
    dry_run: StrictBool = False
    reason: str | None = Field(default=None, max_length=500)
    force: StrictBool = False
    limit: JsonInt = Field(1000, ge=1, le=100_000)
