"""Payment providers' webhooks as pure functions: signature checks and payload normalisation.

No IO here: the API verifies with `verify`, stores the event under `event_key`, and the worker
turns the stored payload into a `ProviderEvent` with `parse_event`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from core.payments.events import KINDS, PayloadError, ProviderEvent, event_key, parse_event
from core.payments.signatures import (
    SignatureError,
    verify_paystack,
    verify_razorpay,
    verify_stripe,
)
from core.payments.standard import verify_standard

PROVIDERS = ("stripe", "paystack", "razorpay", "standard")

__all__ = [
    "KINDS",
    "PROVIDERS",
    "PayloadError",
    "ProviderEvent",
    "SignatureError",
    "event_key",
    "parse_event",
    "verify",
    "verify_paystack",
    "verify_razorpay",
    "verify_standard",
    "verify_stripe",
]


def verify(
    provider: str,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime | float,
    tolerance: int,
) -> int | None:
    """Check `provider`'s signature on `body`; the signed timestamp where the scheme has one.

    Raises `SignatureError` for a request that does not check out, `ValueError` for an unknown
    provider (test `provider in PROVIDERS` first to answer 404) or no usable secret.
    """
    if provider == "stripe":
        return verify_stripe(body, headers, secrets, now=now, tolerance=tolerance)
    if provider == "standard":
        return verify_standard(body, headers, secrets, now=now, tolerance=tolerance)
    if provider == "paystack":
        verify_paystack(body, headers, secrets)
        return None
    if provider == "razorpay":
        verify_razorpay(body, headers, secrets)
        return None
    raise ValueError(f"unknown payment provider {provider!r}")
