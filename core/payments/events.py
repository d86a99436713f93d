"""A verified webhook payload, whatever its provider, as one `ProviderEvent`: pure mapping, no IO.

Only the event types in `KINDS` are read in depth; every other type is kind "other" and needs
no more than its id and type. A payment names its checkout in provider metadata (absent from
refunds, which `payment_id` links to the payment they reverse). Amounts are minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from core.payments.fields import (
    PayloadError,
    header_value,
    identifier,
    is_blank,
    lookup,
    required_str,
)
from core.payments.payloads import READERS

Kind = Literal["payment_succeeded", "payment_failed", "refunded", "other"]

KINDS: Mapping[str, Mapping[str, Kind]] = {
    "stripe": {
        "payment_intent.succeeded": "payment_succeeded",
        "payment_intent.payment_failed": "payment_failed",
        "charge.refunded": "refunded",
    },
    "paystack": {
        "charge.success": "payment_succeeded",
        "charge.failed": "payment_failed",
        "refund.processed": "refunded",
    },
    "razorpay": {
        "payment.captured": "payment_succeeded",
        "payment.failed": "payment_failed",
        "refund.processed": "refunded",
    },
    "standard": {
        "payment.succeeded": "payment_succeeded",
        "payment.failed": "payment_failed",
        "refund.succeeded": "refunded",
    },
}

__all__ = ["KINDS", "Kind", "PayloadError", "ProviderEvent", "event_key", "parse_event"]


@dataclass(frozen=True)
class ProviderEvent:
    """One webhook event, normalised. Fields after `raw_type` are None for kind "other".

    `payment_id` is the provider's payment (Stripe PaymentIntent, Paystack transaction reference,
    Razorpay payment); for a refund, the payment refunded. `amount` is what was paid or attempted;
    for "refunded", what the provider reports as refunded: Stripe the charge's cumulative
    `amount_refunded`, the others this refund's amount. `checkout_id` is None when the metadata
    names none (refunds usually: find the order by `payment_id`).
    """

    provider: str
    event_id: str
    kind: Kind
    raw_type: str
    checkout_id: str | None = None
    payment_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    email: str | None = None
    refund_id: str | None = None


def _razorpay_event_id(payload: Mapping[str, Any], raw_type: str) -> str:
    """`<entity id>:<event>` from the signed body. The `x-razorpay-event-id` header is not signed:
    anyone replaying a captured body could mint new ids with it, so it never decides identity."""
    contains = payload.get("contains")
    entities = ["refund"] if raw_type.startswith("refund.") else []
    entities.append("payment")
    if isinstance(contains, list):
        entities += [name for name in contains if isinstance(name, str)]
    for name in entities:
        entity_id = lookup(payload, f"payload.{name}.entity.id")
        if isinstance(entity_id, str) and entity_id:
            return f"{entity_id}:{raw_type}"
    raise PayloadError("payload.payment.entity.id")


def event_key(provider: str, payload: Any, headers: Mapping[str, str]) -> tuple[str, str]:
    """`(event_id, raw_type)`: what the API stores an event under, unique per provider.

    Stripe `id`; Paystack `event:data.id` (`data.refund_reference` for a refund without an id);
    Razorpay `<entity id>:<event>` from the signed body (the refund's id for refund events, else
    the payment's), never the unsigned `x-razorpay-event-id` header; Standard Webhooks the
    `webhook-id` header (it is signed).
    """
    if not isinstance(payload, Mapping):
        raise PayloadError("body")
    if provider == "stripe":
        return required_str(payload, "id"), required_str(payload, "type")
    if provider == "paystack":
        raw_type = required_str(payload, "event")
        if raw_type.startswith("refund.") and is_blank(payload, "data.id"):
            return f"{raw_type}:{identifier(payload, 'data.refund_reference')}", raw_type
        return f"{raw_type}:{identifier(payload, 'data.id')}", raw_type
    if provider == "razorpay":
        raw_type = required_str(payload, "event")
        return _razorpay_event_id(payload, raw_type), raw_type
    if provider == "standard":
        raw_type = required_str(payload, "type")
        event_id = header_value(headers, "webhook-id")
        if event_id is None:
            raise PayloadError("webhook-id")
        return event_id, raw_type
    raise ValueError(f"unknown payment provider {provider!r}")


def parse_event(provider: str, payload: Any, headers: Mapping[str, str]) -> ProviderEvent:
    """Normalise a verified, JSON-parsed payload (with its request headers) to a `ProviderEvent`.

    Unknown event types give kind "other" and are not read further; known ones raise
    `PayloadError(field)` for the first missing or ill-typed field. `ValueError` for an
    unknown provider.
    """
    event_id, raw_type = event_key(provider, payload, headers)
    kind = KINDS[provider].get(raw_type, "other")
    if kind == "other":
        return ProviderEvent(provider, event_id, kind, raw_type)
    details = READERS[provider](payload, kind)
    return ProviderEvent(provider, event_id, kind, raw_type, *details)
