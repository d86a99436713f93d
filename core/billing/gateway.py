"""The one small interface every renewal gateway speaks (`stripe`, `fake`).

A charge is two calls, so that the payment's reference is durable before money can move:
`start` creates the payment at the gateway, not yet confirmed (the idempotency key makes a repeat
answer the same payment where the gateway honours keys), and the caller stores the reference;
`settle` then confirms it, or, when it was confirmed already (a worker died before recording
the answer), reads what happened to it. A repeat of `settle` never charges twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from core.errors import Unavailable


@dataclass(frozen=True)
class ChargeRequest:
    idempotency_key: str  # `renewal/{subscription_id}/{period_start}/{attempt}`
    amount: int  # minor units
    currency: str  # ISO 4217, upper case
    customer_ref: str
    payment_method_ref: str
    description: str
    metadata: dict[str, str] = field(default_factory=dict)  # subscription_id, period_start, attempt


@dataclass(frozen=True)
class Succeeded:
    reference: str


@dataclass(frozen=True)
class Declined:
    """The customer's card cannot pay (declined, authentication required, no such card): a
    dunning step. `code` is the gateway's (`card_declined`, `authentication_required`, ...)."""

    reference: str | None
    code: str
    message: str


ChargeOutcome = Succeeded | Declined


class GatewayUnavailable(Unavailable):
    """An outage (5xx, timeout, network) or a payment still processing: retry the job later;
    not a dunning step, the customer hears nothing."""

    slug, title = "gateway-unavailable", "Payment gateway unavailable"


class RenewalGateway(Protocol):
    name: str

    def start(self, request: ChargeRequest) -> str | Declined:
        """Create the payment, unconfirmed: its reference, or Declined when the gateway refuses
        the customer or card outright. Raises GatewayUnavailable."""
        ...

    def settle(self, reference: str, request: ChargeRequest) -> ChargeOutcome:
        """Confirm the payment if it is not yet, else read its outcome. Raises GatewayUnavailable
        (also while the payment is still processing)."""
        ...
