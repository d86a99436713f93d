"""Request and response bodies of the subscription routes (`/v1/subscriptions/...` and the
operators' `/v1/admin/subscriptions`); they feed the OpenAPI document."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from api.email import Email
from api.schemas import CURRENCY_PATTERN, MAX_PRICE, JsonInt, NoNul, Strict

State = Literal["active", "past_due", "lapsed", "cancelled"]


class SubscriptionIn(Strict):
    """What the storefront sold; every field, every time (a PUT replaces)."""

    email: Email = Field(max_length=320, description="where receipts and dunning emails go")
    plan: str = Field(min_length=1, max_length=128)
    amount: JsonInt = Field(gt=0, le=MAX_PRICE, description="minor units (cents) of `currency`, a period")
    currency: str = Field(
        description="ISO 4217, any case; upper case out", json_schema_extra={"pattern": CURRENCY_PATTERN}
    )
    interval: Literal["month", "year"]
    current_period_end: AwareDatetime = Field(
        description="when the paid period ends and the next must be charged (with offset); on an "
        "update, applied only when later than the stored one"
    )
    gateway: Literal["stripe", "fake"]
    customer_ref: str = Field(min_length=1, max_length=255, description="the gateway's customer id")
    payment_method_ref: str = Field(
        min_length=1, max_length=255, description="the gateway's payment method; a new one retries a past-due"
    )

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        if not re.fullmatch(CURRENCY_PATTERN, value):
            raise ValueError("must be a three-letter ISO 4217 code, like USD")
        return value.upper()

    @field_validator("current_period_end")
    @classmethod
    def _in_range(cls, value: datetime) -> datetime:
        try:  # an offset may push the first or last representable day out of range in UTC
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("must be a time between years 1 and 9999 in UTC") from None
        return value


class AttemptOut(BaseModel):
    number: int
    state: Literal["started", "succeeded", "declined"]
    gateway_reference: str | None
    decline_code: str | None
    decline_message: str | None
    started_at: datetime | None
    finished_at: datetime | None


class ChargeOut(BaseModel):
    period_start: datetime
    period_end: datetime
    amount: int
    currency: str
    state: Literal["pending", "succeeded", "failed"]
    gateway_reference: str | None
    failures: int = Field(description="declined attempts so far")
    attempts: list[AttemptOut]


class SubscriptionOut(BaseModel):
    subscription_id: str
    email: str
    plan: str
    amount: int
    currency: str
    interval: Literal["month", "year"]
    current_period_end: datetime
    gateway: Literal["stripe", "fake"]
    customer_ref: str
    payment_method_ref: str
    state: State
    cancel_at_period_end: bool
    next_attempt_at: datetime | None = Field(description="when a past-due renewal is tried again")
    dunning_step: int = Field(description="declined attempts of the period being charged")
    created_at: datetime
    updated_at: datetime
    charges: list[ChargeOut] = Field(description="newest period first")


class DeclineOut(BaseModel):
    code: str | None
    message: str | None


class SubscriptionIssueOut(BaseModel):
    """A subscription a person may need to look at: past due or lapsed."""

    subscription_id: str
    email: str
    plan: str
    amount: int
    currency: str
    state: Literal["past_due", "lapsed"]
    dunning_step: int
    next_attempt_at: datetime | None
    current_period_end: datetime = Field(description="the end of the last paid period")
    last_decline: DeclineOut | None = Field(description="the newest declined attempt's code and message")


class SubscriptionIssuesOut(BaseModel):
    items: list[SubscriptionIssueOut]
    next_offset: int | None = Field(description="`offset` of the next page; null on the last page")


class SubscriptionIssuesQueryIn(NoNul):
    """The query of GET /v1/admin/subscriptions; strings in, as a query string gives them."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["past_due", "lapsed"] | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)
