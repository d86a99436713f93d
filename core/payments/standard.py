"""Standard Webhooks (https://www.standardwebhooks.com) signature check: a pure function.

Headers `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature` (a
space-separated list of `v1,<base64>`); the signed content is `f"{id}.{timestamp}.{body}"`, the
HMAC-SHA256 key the base64 after `whsec_`. Conventions as in `core.payments.signatures`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

from core.payments.signatures import (
    NO_MATCH,
    SignatureError,
    any_match,
    check_tolerance,
    header,
    parse_timestamp,
    usable_secrets,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def _b64decode(value: str) -> bytes:
    """Strict base64, tolerating missing padding; `binascii.Error` (a ValueError) if invalid."""
    return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)


def standard_key(secret: str) -> bytes:
    """The HMAC key in a `whsec_<base64>` secret (prefix optional); `ValueError` if it is not base64."""
    try:
        key = _b64decode(secret.strip().removeprefix(SECRET_PREFIX))
    except binascii.Error as exc:
        raise ValueError("a Standard Webhooks secret must be whsec_ followed by base64") from exc
    if not key:
        raise ValueError("empty Standard Webhooks secret")
    return key


def _signatures(value: str) -> list[bytes]:
    found = []
    for entry in value.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue  # other schemes (v1a asymmetric) are not ours to check
        try:
            found.append(_b64decode(encoded))
        except binascii.Error:
            continue
    if not found:
        raise SignatureError("malformed webhook-signature header: no v1 signature")
    return found


def verify_standard(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[str], *, now: datetime | float, tolerance: int
) -> int:
    """Check a Standard Webhooks request and return its timestamp (unix seconds).

    The timestamp must be within `tolerance` seconds of `now` in the past or the future; any v1
    signature matching any secret passes.
    """
    keys = [standard_key(secret) for secret in usable_secrets(secrets)]
    msg_id = header(headers, "webhook-id", "webhook-id")
    raw_timestamp = header(headers, "webhook-timestamp", "webhook-timestamp")
    received = _signatures(header(headers, "webhook-signature", "webhook-signature"))
    timestamp = parse_timestamp(raw_timestamp, "webhook-timestamp")
    check_tolerance(timestamp, now, tolerance)
    signed = f"{msg_id}.{timestamp}.".encode("utf-8", "surrogatepass") + body
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    if not any_match(expected, received):
        raise SignatureError(NO_MATCH)
    return timestamp
