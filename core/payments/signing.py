"""Signing webhook bodies as each provider does: what `backroom webhooks sign` prints.

The mirror of `core.payments.signatures` / `core.payments.standard`, for people trying the API
on a laptop. Tests sign with their own, independently written `tests/support/signing.py`, so a
mistake made twice here and in the verifiers could not hide; tests prove these helpers against
the providers' SDKs and our verifiers. Each function returns the headers to send, in the casing
the provider uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from core.payments.signatures import unix_seconds
from core.payments.standard import standard_key


def stripe_headers(body: bytes, secret: str, *, now: datetime | float) -> dict[str, str]:
    """`Stripe-Signature: t=<now>,v1=<HMAC-SHA256 hex of "t.body">`, keyed with the whole secret."""
    timestamp = int(unix_seconds(now))
    signed = f"{timestamp}.".encode() + body
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={v1}"}


def paystack_headers(body: bytes, secret: str) -> dict[str, str]:
    """`x-paystack-signature`: HMAC-SHA512 hex of the body, keyed with the secret key."""
    return {"x-paystack-signature": hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()}


def razorpay_headers(body: bytes, secret: str) -> dict[str, str]:
    """`X-Razorpay-Signature`: HMAC-SHA256 hex of the body, keyed with the webhook secret."""
    return {"X-Razorpay-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def standard_message_id(body: bytes) -> str:
    """A message id derived from the body, so signing the same file twice is the same message
    (a repost is a duplicate, as a sender's retry is)."""
    return "msg_" + hashlib.sha256(body).hexdigest()[:24]


def standard_headers(
    body: bytes, secret: str, *, now: datetime | float, msg_id: str | None = None
) -> dict[str, str]:
    """Standard Webhooks `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`."""
    timestamp = int(unix_seconds(now))
    message = msg_id or standard_message_id(body)
    signed = f"{message}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": message,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def sign(
    provider: str, body: bytes, secret: str, *, now: datetime | float, msg_id: str | None = None
) -> dict[str, str]:
    """The signature headers `provider` would send with `body`; `ValueError` for an unknown one."""
    if provider == "stripe":
        return stripe_headers(body, secret, now=now)
    if provider == "paystack":
        return paystack_headers(body, secret)
    if provider == "razorpay":
        return razorpay_headers(body, secret)
    if provider == "standard":
        return standard_headers(body, secret, now=now, msg_id=msg_id)
    raise ValueError(f"unknown payment provider {provider!r}")
