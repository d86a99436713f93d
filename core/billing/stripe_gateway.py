"""The `stripe` renewal gateway: a PaymentIntent per attempt, created unconfirmed, then confirmed.

`start` creates the intent with the attempt's idempotency key (a repeat after a crash answers the
same intent). `settle` reads it first and confirms only an intent still `requires_confirmation`,
so a repeat never charges twice: a worker that died after confirming leaves an intent that already
says what happened. The customer is absent (off_session) at renewal, so a card needing
authentication is a decline, not a prompt.

Errors: a card or customer Stripe cannot charge is `Declined` (a dunning step); everything else
(network, timeout, 5xx, 429, our key refused, a request Stripe calls malformed) is
`GatewayUnavailable`: the job is retried and the customer hears nothing. Messages are built from the
error's class, status and code only, and chained `from None`: an SDK message or traceback could
carry part of the key.
"""

from __future__ import annotations

from typing import Any

import stripe

from core.billing.gateway import ChargeOutcome, ChargeRequest, Declined, GatewayUnavailable, Succeeded

# InvalidRequestError codes meaning the customer's card cannot be used: a dunning step. Not
# `resource_missing` (a 404): a customer or card Stripe does not know is far more often our
# configuration (a key of another Stripe account, a test key in production, the storefront's
# ids) than the customer's doing, and treating it as a decline would email every customer a
# failure notice and lapse them all. It is an outage: retried, dead-lettered, seen by on-call.
UNUSABLE = {
    "payment_method_unactivated",
    "payment_method_unexpected_state",
    "payment_method_not_available",
    "card_declined",
    "expired_card",
}


class StripeGateway:
    name = "stripe"

    def __init__(self, api_key: str, api_base: str | None = None, timeout_seconds: float = 20.0) -> None:
        # No SDK retries: the job's retry (with backoff) is the one retry layer, and the
        # idempotency key and the read-before-confirm make that retry safe.
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    def start(self, request: ChargeRequest) -> str | Declined:
        params: Any = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "customer": request.customer_ref,
            "payment_method": request.payment_method_ref,
            "payment_method_types": ["card"],
            "description": request.description,
            "metadata": {**request.metadata, "idempotency_key": request.idempotency_key},
        }
        try:
            intent = self._client.v1.payment_intents.create(
                params, {"idempotency_key": request.idempotency_key}
            )
        except stripe.CardError as error:
            return _declined(None, error)
        except stripe.InvalidRequestError as error:
            if _unusable(error):
                return _declined(None, error)
            raise _unavailable(error) from None
        except stripe.StripeError as error:
            raise _unavailable(error) from None
        return str(intent.id)

    def settle(self, reference: str, request: ChargeRequest) -> ChargeOutcome:
        intent = self._retrieve(reference)
        if intent.status != "requires_confirmation":
            return _outcome(intent)
        try:
            confirmed = self._client.v1.payment_intents.confirm(reference, {"off_session": True})
        except stripe.CardError as error:
            return _declined(reference, error)
        except stripe.InvalidRequestError:
            # Most likely confirmed meanwhile by another run (unexpected state): read what it says.
            confirmed = self._retrieve(reference)
        except stripe.StripeError as error:
            raise _unavailable(error) from None
        return _outcome(confirmed)

    def _retrieve(self, reference: str) -> stripe.PaymentIntent:
        try:
            return self._client.v1.payment_intents.retrieve(reference)
        except stripe.StripeError as error:
            # Even a 404: the reference was Stripe's own, so our key or account is wrong.
            raise _unavailable(error) from None


def _outcome(intent: stripe.PaymentIntent) -> ChargeOutcome:
    status, reference = intent.status, str(intent.id)
    if status in ("succeeded", "requires_capture"):
        return Succeeded(reference)
    if status == "requires_payment_method":
        error = intent.last_payment_error
        code = _field(error, "decline_code") or _field(error, "code") or "requires_payment_method"
        message = _field(error, "message") or "The payment has no usable payment method."
        return Declined(reference, code, message)
    if status == "requires_action":
        return Declined(reference, "authentication_required", "The card needs the customer to authenticate.")
    if status == "canceled":
        return Declined(reference, "canceled", "The payment was canceled.")
    # `processing`, or still `requires_confirmation` after a confirm we could not complete.
    raise GatewayUnavailable(f"stripe: payment {reference} is {status}; read it again later")


def _unusable(error: stripe.InvalidRequestError) -> bool:
    return error.http_status != 404 and error.code in UNUSABLE


def _declined(reference: str | None, error: stripe.StripeError) -> Declined:
    code = _field(error.error, "decline_code") or error.code or "card_declined"
    return Declined(reference, code, error.user_message or "Your card was declined.")


def _field(stripe_object: object, name: str) -> str | None:
    """A field Stripe may leave out (`decline_code` is absent unless the issuer gave one)."""
    value = getattr(stripe_object, name, None)
    return str(value) if value else None


def _unavailable(error: stripe.StripeError) -> GatewayUnavailable:
    status, code, request_id = error.http_status or "no answer", error.code or "-", error.request_id or "-"
    return GatewayUnavailable(f"stripe: {type(error).__name__} ({status}, code {code}, request {request_id})")
