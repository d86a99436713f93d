"""Where each provider puts the fields of the events that matter (payments and refunds).

Each reader takes the parsed payload and the event's kind and returns its `Details`, raising
`PayloadError` naming the first missing or ill-typed field. Shapes follow the providers' real
webhooks: Stripe events wrap the object in `data.object` (a PaymentIntent, or a Charge for
`charge.refunded`); Paystack sends `{"event", "data"}` with the transaction (or refund) in
`data`; Razorpay nests entities under `payload.<name>.entity`; Standard is our own body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from core.payments.fields import amount, currency, identifier, is_blank, lookup, optional_str, required_str


class Details(NamedTuple):
    checkout_id: str | None
    payment_id: str
    amount: int
    currency: str
    email: str | None
    refund_id: str | None = None  # refunds only: the provider's id of this refund


def stripe_details(payload: Mapping[str, Any], kind: str) -> Details:
    """PaymentIntent events: its id, `amount_received` (paid) or `amount` (failed).

    `charge.refunded`: the Charge's `payment_intent` (its own id for a charge made without one)
    and its cumulative `amount_refunded`.
    """
    obj = "data.object"
    checkout_id = optional_str(payload, f"{obj}.metadata.checkout_id")
    email = optional_str(payload, f"{obj}.receipt_email")
    refund_id = None
    if kind == "refunded":
        charge_id = required_str(payload, f"{obj}.id")
        payment_id = optional_str(payload, f"{obj}.payment_intent") or charge_id
        paid = amount(payload, f"{obj}.amount_refunded")
        email = email or optional_str(payload, f"{obj}.billing_details.email")
        # The running total identifies this state of the charge's refunds even when the
        # event does not embed the refund list (newer API versions).
        refund_id = _latest_stripe_refund(payload) or f"{charge_id}:refunded:{paid}"
    else:
        payment_id = required_str(payload, f"{obj}.id")
        paid = amount(payload, f"{obj}.amount_received" if kind == "payment_succeeded" else f"{obj}.amount")
    return Details(checkout_id, payment_id, paid, currency(payload, f"{obj}.currency"), email, refund_id)


def _latest_stripe_refund(payload: Mapping[str, Any]) -> str | None:
    refunds = lookup(payload, "data.object.refunds.data")
    if isinstance(refunds, list) and refunds and isinstance(refunds[0], Mapping):
        newest = refunds[0].get("id")  # Stripe lists refunds newest first
        return newest if isinstance(newest, str) and newest else None
    return None


def paystack_details(payload: Mapping[str, Any], kind: str) -> Details:
    """Charges: the transaction `reference`; refunds: the refunded `transaction_reference`,
    the refund's own id (`data.id`, else `data.refund_reference`)."""
    refunded = kind == "refunded"
    refund_id = None
    if refunded:
        refund_id = (
            identifier(payload, "data.refund_reference")
            if is_blank(payload, "data.id")
            else identifier(payload, "data.id")
        )
    return Details(
        optional_str(payload, "data.metadata.checkout_id"),
        required_str(payload, "data.transaction_reference" if refunded else "data.reference"),
        amount(payload, "data.amount"),
        currency(payload, "data.currency"),
        optional_str(payload, "data.customer.email"),
        refund_id,
    )


def razorpay_details(payload: Mapping[str, Any], kind: str) -> Details:
    """Payments: `payload.payment.entity`; refunds: `payload.refund.entity` (this refund's amount).

    A refund's checkout comes from the payment entity sent alongside it, if any.
    """
    payment = "payload.payment.entity"
    checkout_id = optional_str(payload, f"{payment}.notes.checkout_id")
    email = optional_str(payload, f"{payment}.email")
    if kind == "refunded":
        refund = "payload.refund.entity"
        return Details(
            checkout_id or optional_str(payload, f"{refund}.notes.checkout_id"),
            required_str(payload, f"{refund}.payment_id"),
            amount(payload, f"{refund}.amount"),
            currency(payload, f"{refund}.currency"),
            email,
            required_str(payload, f"{refund}.id"),
        )
    return Details(
        checkout_id,
        required_str(payload, f"{payment}.id"),
        amount(payload, f"{payment}.amount"),
        currency(payload, f"{payment}.currency"),
        email,
    )


def standard_details(payload: Mapping[str, Any], kind: str) -> Details:
    """Our own body: `data.checkout_id`, `payment_id`, `amount`, `currency` required, `email` and
    (refunds) `refund_id` optional; a refund without one is identified by its webhook-id."""
    return Details(
        required_str(payload, "data.checkout_id"),
        required_str(payload, "data.payment_id"),
        amount(payload, "data.amount"),
        currency(payload, "data.currency"),
        optional_str(payload, "data.email"),
        optional_str(payload, "data.refund_id") if kind == "refunded" else None,
    )


READERS: Mapping[str, Callable[[Mapping[str, Any], str], Details]] = {
    "stripe": stripe_details,
    "paystack": paystack_details,
    "razorpay": razorpay_details,
    "standard": standard_details,
}
