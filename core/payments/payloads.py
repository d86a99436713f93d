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

from core.payments.fields import amount, currency, optional_str, required_str


class Details(NamedTuple):
    checkout_id: str | None
    payment_id: str
    amount: int
    currency: str
    email: str | None


def stripe_details(payload: Mapping[str, Any], kind: str) -> Details:
    """PaymentIntent events: its id, `amount_received` (paid) or `amount` (failed).

    `charge.refunded`: the Charge's `payment_intent` (its own id for a charge made without one)
    and its cumulative `amount_refunded`.
    """
    obj = "data.object"
    checkout_id = optional_str(payload, f"{obj}.metadata.checkout_id")
    email = optional_str(payload, f"{obj}.receipt_email")
    if kind == "refunded":
        payment_id = optional_str(payload, f"{obj}.payment_intent") or required_str(payload, f"{obj}.id")
        paid = amount(payload, f"{obj}.amount_refunded")
        email = email or optional_str(payload, f"{obj}.billing_details.email")
    else:
        payment_id = required_str(payload, f"{obj}.id")
        paid = amount(payload, f"{obj}.amount_received" if kind == "payment_succeeded" else f"{obj}.amount")
    return Details(checkout_id, payment_id, paid, currency(payload, f"{obj}.currency"), email)


def paystack_details(payload: Mapping[str, Any], kind: str) -> Details:
    """Charges: the transaction `reference`; refunds: the refunded `transaction_reference`."""
    reference = "data.transaction_reference" if kind == "refunded" else "data.reference"
    return Details(
        optional_str(payload, "data.metadata.checkout_id"),
        required_str(payload, reference),
        amount(payload, "data.amount"),
        currency(payload, "data.currency"),
        optional_str(payload, "data.customer.email"),
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
        )
    return Details(
        checkout_id,
        required_str(payload, f"{payment}.id"),
        amount(payload, f"{payment}.amount"),
        currency(payload, f"{payment}.currency"),
        email,
    )


def standard_details(payload: Mapping[str, Any], kind: str) -> Details:
    """Our own body: `data.checkout_id`, `payment_id`, `amount`, `currency` required, `email` optional."""
    return Details(
        required_str(payload, "data.checkout_id"),
        required_str(payload, "data.payment_id"),
        amount(payload, "data.amount"),
        currency(payload, "data.currency"),
        optional_str(payload, "data.email"),
    )


READERS: Mapping[str, Callable[[Mapping[str, Any], str], Details]] = {
    "stripe": stripe_details,
    "paystack": paystack_details,
    "razorpay": razorpay_details,
    "standard": standard_details,
}
