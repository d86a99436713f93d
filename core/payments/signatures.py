"""Webhook signature checks for Stripe, Paystack and Razorpay: pure functions over the raw bytes.

Every verifier takes the raw request body, the request headers as any mapping (names are
matched case-insensitively, so a plain dict with any casing or Falcon's `req.headers` both
work) and the list of accepted secrets (several during a rotation; blank entries are ignored).
Schemes with a timestamp also take `now` (an aware datetime or unix seconds) and a tolerance in
seconds. A failed check raises `SignatureError` with a human reason; a secret list with nothing
usable is a configuration error and raises `ValueError`. Comparisons use `hmac.compare_digest`.
Standard Webhooks live in `core.payments.standard`, the dispatcher in `core.payments.verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

_DIGITS = re.compile(r"[0-9]{1,12}")


# The secret is wrong, or the body is not byte for byte what was signed (curl -d reformats it).
NO_MATCH = "no matching signature"


class SignatureError(Exception):
    """A webhook whose signature, signature header or timestamp does not check out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def usable_secrets(secrets: Sequence[str]) -> list[str]:
    """The non-blank secrets; `ValueError` if none is left (or a bare string was passed)."""
    if isinstance(secrets, str):
        raise ValueError("secrets must be a list of strings, not one string")
    usable = [secret.strip() for secret in secrets if secret.strip()]
    if not usable:
        raise ValueError("no webhook secret configured")
    return usable


def header(headers: Mapping[str, str], name: str, display: str) -> str:
    """The value of header `name` (any casing); `SignatureError` if it is absent or blank."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and value.strip():
            return value.strip()
    raise SignatureError(f"missing {display} header")


def unix_seconds(now: datetime | float) -> float:
    """`now` as unix seconds; a naive datetime is refused rather than guessed at."""
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        return now.timestamp()
    return float(now)


def parse_timestamp(value: str, display: str) -> int:
    """A unix-seconds header value; `SignatureError` naming the header if it is not digits."""
    if not _DIGITS.fullmatch(value):
        raise SignatureError(f"malformed {display} header: bad timestamp")
    return int(value)


def check_tolerance(timestamp: int, now: datetime | float, tolerance: int) -> None:
    """`SignatureError` if `timestamp` is more than `tolerance` seconds before or after `now`."""
    if abs(unix_seconds(now) - timestamp) > tolerance:
        raise SignatureError("timestamp outside tolerance")


def any_match(expected: Sequence[bytes], received: Sequence[bytes]) -> bool:
    """Whether any expected digest equals any received one, comparing every pair in constant time."""
    matched = False
    for want in expected:
        for got in received:
            matched |= hmac.compare_digest(want, got)
    return matched


def _ascii(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def _verify_body_hmac(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[str], name: str, digest: str
) -> None:
    keys = usable_secrets(secrets)
    received = _ascii(header(headers, name, name).lower())
    expected = [hmac.new(_ascii(key), body, digest).hexdigest().encode() for key in keys]
    if not any_match(expected, [received]):
        raise SignatureError(NO_MATCH)


def verify_paystack(body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> None:
    """Check `x-paystack-signature`: HMAC-SHA512 hex of the raw body keyed with the secret key."""
    _verify_body_hmac(body, headers, secrets, "x-paystack-signature", "sha512")


def verify_razorpay(body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> None:
    """Check `X-Razorpay-Signature`: HMAC-SHA256 hex of the raw body keyed with the webhook secret."""
    _verify_body_hmac(body, headers, secrets, "X-Razorpay-Signature", "sha256")


def verify_stripe(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[str], *, now: datetime | float, tolerance: int
) -> int:
    """Check `Stripe-Signature: t=...,v1=...[,v1=...]` and return the signed timestamp.

    The signed content is `f"{t}.{body}"`, the key the whole `whsec_...` string; any v1 entry
    matching any secret passes. Entries of other schemes (v0) are ignored. `t` must be within
    `tolerance` seconds of `now`, either way.
    """
    keys = usable_secrets(secrets)
    value = header(headers, "stripe-signature", "Stripe-Signature")
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for item in value.split(","):
        key, sep, part = item.strip().partition("=")
        if not sep:
            raise SignatureError("malformed Stripe-Signature header")
        if key == "t":
            timestamps.append(part)
        elif key == "v1":
            signatures.append(_ascii(part.lower()))
    if len(timestamps) != 1:
        raise SignatureError("malformed Stripe-Signature header: expected one t=")
    if not signatures:
        raise SignatureError("malformed Stripe-Signature header: no v1 signature")
    timestamp = parse_timestamp(timestamps[0], "Stripe-Signature")
    check_tolerance(timestamp, now, tolerance)
    signed = f"{timestamp}.".encode() + body
    expected = [hmac.new(_ascii(key), signed, hashlib.sha256).hexdigest().encode() for key in keys]
    if not any_match(expected, signatures):
        raise SignatureError(NO_MATCH)
    return timestamp
