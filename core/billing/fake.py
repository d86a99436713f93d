"""The `fake` renewal gateway: no network, no state, its answer chosen by the payment method.

For development and tests of everything around a charge (dunning, receipts, outages) without a
Stripe account: `pm_fake_ok` pays, `pm_fake_decline` is declined, `pm_fake_outage` plays a gateway
outage; any other payment method is unknown to it. Being stateless, `settle` answers the same
however often it is called, and the reference is derived from the idempotency key so a repeated
`start` names the same payment, as a gateway honouring idempotency keys would.
"""

from __future__ import annotations

import hashlib

from core.billing.gateway import ChargeOutcome, ChargeRequest, Declined, GatewayUnavailable, Succeeded

OK, DECLINE, OUTAGE = "pm_fake_ok", "pm_fake_decline", "pm_fake_outage"


class FakeGateway:
    name = "fake"

    def start(self, request: ChargeRequest) -> str | Declined:
        if request.payment_method_ref not in (OK, DECLINE, OUTAGE):
            return _unknown(request)
        return reference_for(request)

    def settle(self, reference: str, request: ChargeRequest) -> ChargeOutcome:
        method = request.payment_method_ref
        if method == OK:
            return Succeeded(reference)
        if method == DECLINE:
            return Declined(reference, "card_declined", "Your card was declined.")
        if method == OUTAGE:
            raise GatewayUnavailable("fake gateway: simulated outage")
        return _unknown(request)


def reference_for(request: ChargeRequest) -> str:
    """`fake_pi_` and a short digest of the idempotency key: the same attempt, the same payment."""
    return "fake_pi_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]


def _unknown(request: ChargeRequest) -> Declined:
    # The payment method id is not secret (a card's number never reaches us), so it may be named.
    return Declined(
        None,
        "unknown_payment_method",
        f"The fake gateway knows no payment method {request.payment_method_ref!r}.",
    )
