"""Signed Stripe events for wrk: each a new event id, signed as Stripe does.

`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` over the exact
bytes sent. wrk's Lua has no HMAC, so the events are made here before each round, one per line
(`<signature>\\t<body>`), into a file the Lua script (bench/lua/signed.lua) reads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

SECRET = "whsec_bench_" + "s" * 32


def event(event_id: str, created: int) -> bytes:
    """A payment_intent.succeeded event about the size of a real one (about 1 KB)."""
    intent = {
        "id": f"pi_{event_id}",
        "object": "payment_intent",
        "amount": 4200,
        "amount_received": 4200,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"checkout_id": f"bench-{event_id}", "order_id": ""},
        "payment_method_types": ["card"],
        "latest_charge": f"ch_{event_id}",
        "created": created,
        "livemode": False,
        "description": "backroom bench event, never processed",
    }
    payload = {
        "id": f"evt_{event_id}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "type": "payment_intent.succeeded",
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": intent},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def write_events(path: Path, prefix: str, count: int) -> Path:
    """`count` events `evt_<prefix>_<n>`, signed now (well inside the 300 s tolerance)."""
    now = int(time.time())
    with path.open("w") as out:
        for n in range(count):
            body = event(f"{prefix}_{n}", now)
            out.write(f"{sign(body, now)}\t{body.decode()}\n")
    return path
