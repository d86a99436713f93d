"""Sign webhook bodies exactly as each provider does, for tests that post them.

Written independently of `core.payments` (straight from each provider's documented scheme) and
proved against the providers' own SDKs in tests/unit/test_payments_signatures.py. Each function
returns the headers to send, in the casing the provider uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime


def _seconds(t: int | datetime) -> int:
    return int(t.timestamp()) if isinstance(t, datetime) else int(t)


def sign_stripe(body: bytes, secret: str, t: int | datetime, *extra_secrets: str) -> dict[str, str]:
    """`Stripe-Signature: t=<t>,v1=<hex>`, one v1 per secret (Stripe sends several during a roll)."""
    ts = _seconds(t)
    signed = f"{ts}.".encode() + body
    v1 = [hmac.new(key.encode(), signed, hashlib.sha256).hexdigest() for key in (secret, *extra_secrets)]
    return {"Stripe-Signature": ",".join([f"t={ts}", *(f"v1={sig}" for sig in v1)])}


def sign_paystack(body: bytes, secret: str) -> dict[str, str]:
    """`x-paystack-signature`: HMAC-SHA512 hex of the body keyed with the secret key."""
    return {"x-paystack-signature": hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()}


def sign_razorpay(body: bytes, secret: str, event_id: str | None = None) -> dict[str, str]:
    """`X-Razorpay-Signature`: HMAC-SHA256 hex of the body; plus `x-razorpay-event-id` if given."""
    headers = {"X-Razorpay-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
    if event_id is not None:
        headers["x-razorpay-event-id"] = event_id
    return headers


def sign_standard(body: bytes, secret: str, msg_id: str, t: int | datetime) -> dict[str, str]:
    """Standard Webhooks headers; `secret` is `whsec_<base64 key>`, the signature `v1,<base64>`."""
    ts = _seconds(t)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
