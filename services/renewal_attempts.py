"""One open renewal attempt and the request it makes at the gateway.

The request is built from the rows alone (the attempt's own payment method and key, the charge's
amount, nothing the storefront may rename), so every repeat of the attempt sends the same body under
the same idempotency key, which a gateway honouring keys answers from its cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.billing.gateway import ChargeRequest
from core.rules import subscriptions as rules


@dataclass(frozen=True)
class Attempt:
    """An open attempt: its row (`renewal_charges.open_attempt`: the attempt, its charge's period and amount)
    and the request it makes at the gateway (the same one on every repeat)."""

    subscription_id: str
    row: Any
    request: ChargeRequest


def charge_request(sub: Any, row: Any) -> ChargeRequest:
    """What the gateway is asked for an attempt: built from rows, identical on every repeat (the
    attempt's own payment method, the charge's amount), so the idempotency key always matches."""
    period_start = rules.iso_utc(row.period_start)
    return ChargeRequest(
        idempotency_key=row.idempotency_key,
        amount=row.amount,
        currency=row.currency,
        customer_ref=sub.customer_ref,
        payment_method_ref=row.payment_method_ref,
        description=f"Subscription {sub.subscription_id} renewal from {period_start[:10]}",
        metadata={
            "subscription_id": sub.subscription_id,
            "period_start": period_start,
            "attempt": str(row.number),
        },
    )
