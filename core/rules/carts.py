"""Abandoned-cart rules: the reminder steps, which one is due, when a sequence starts again, and
the signed unsubscribe token. Pure; the time and the secret are passed in.

A step is an idle duration counted from the cart's last activity (`1h,24h,72h`). Step k (1-based)
is due when the cart has been idle at least step k's duration and step k-1 is the last one sent:
steps go in order, one a run, none after the last. A late run sends the next step only; the one
after it waits for the next run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from core.rules.schedules import parse_duration

TOKEN_PURPOSE = b"unsubscribe"


def parse_steps(spec: str) -> tuple[timedelta, ...]:
    """`"1h,24h,72h"` -> the step durations, in order; ValueError for a bad or empty list."""
    steps = tuple(parse_duration(part) for part in spec.split(",") if part.strip())
    if not steps or list(steps) != sorted(steps) or len(set(steps)) != len(steps):
        raise ValueError(f"{spec!r} is not a list of increasing durations like 1h,24h,72h")
    return steps


def due_step(
    steps: Sequence[timedelta], step_sent: int, last_activity_at: datetime, now: datetime
) -> int | None:
    """The step (1-based) to send now, or None: only the one after `step_sent`, once the cart has
    been idle at least its duration; none after the last."""
    step = step_sent + 1
    if step_sent < 0 or step > len(steps):
        return None
    return step if now - last_activity_at >= steps[step - 1] else None


def normalise_items(items: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Quantities merged per SKU, sorted by SKU: two lists meaning the same cart compare equal."""
    merged: dict[str, int] = {}
    for sku, quantity in items:
        merged[sku] = merged.get(sku, 0) + quantity
    return sorted(merged.items())


def starts_new_sequence(old: Iterable[tuple[str, int]], new: Iterable[tuple[str, int]]) -> bool:
    """A PUT starts a new reminder sequence when it changes what is in the cart."""
    return normalise_items(old) != normalise_items(new)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, cart_id: str) -> bytes:
    key = hmac.new(secret.encode(), TOKEN_PURPOSE, hashlib.sha256).digest()  # never the secret itself
    return hmac.new(key, cart_id.encode(), hashlib.sha256).digest()


def unsubscribe_token(secret: str, cart_id: str) -> str:
    """`<cart id>.<HMAC-SHA256>`, both URL-safe base64: safe in a query string, unforgeable."""
    return f"{_b64(cart_id.encode())}.{_b64(_signature(secret, cart_id))}"


def verify_unsubscribe_token(secret: str, token: str) -> str | None:
    """The cart id a token was signed for, or None when it is malformed or not ours."""
    encoded, dot, signature = token.partition(".")
    if not dot or not encoded or not signature or len(token) > 512:
        return None
    try:
        cart_id = _unb64(encoded).decode("utf-8")
        given = _unb64(signature)
    except (ValueError, UnicodeDecodeError):
        return None
    if _b64(cart_id.encode()) != encoded or _b64(given) != signature:  # one spelling a token
        return None
    return cart_id if hmac.compare_digest(given, _signature(secret, cart_id)) else None
