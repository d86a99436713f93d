"""Request and response bodies of the cart routes (`/v1/carts/...`); they feed the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, StrictBool

from api.email import Email
from api.schemas import Item, Strict


class CartIn(Strict):
    """What the storefront's cart holds now; an empty `items` list is an emptied cart."""

    email: Email | None = Field(None, max_length=320, description="where reminders go, if any")
    items: list[Item] = Field(max_length=100)
    marketing_consent: StrictBool = Field(False, description="reminders are sent only with consent")
    updated_at: AwareDatetime | None = Field(
        None, description="when the customer last touched the cart (with offset); default now"
    )


class CartItemOut(BaseModel):
    sku: str
    quantity: int


class CartEmailOut(BaseModel):
    sequence: int
    step: int
    queued_at: datetime
    state: str | None = Field(description="the outbox row's state: pending | sent | failed (not sent)")


class CartOut(BaseModel):
    cart_id: str
    state: Literal["active", "converted", "unsubscribed"]
    email: str | None
    marketing_consent: bool
    items: list[CartItemOut]
    sequence: int = Field(description="goes up when a PUT changes the items: a new reminder sequence")
    step_sent: int = Field(description="the last reminder step of this sequence that was queued")
    last_activity_at: datetime
    emails: list[CartEmailOut] = Field(description="the reminder steps queued, every sequence")
