"""Provider webhook bodies for a checkout, shaped like the real ones, and signed requests for them."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.support.signing import sign_paystack, sign_razorpay, sign_standard, sign_stripe

SECRETS = {
    "stripe": "whsec_test_stripe_0123456789",
    "paystack": "sk_test_paystack_0123456789",
    "razorpay": "razorpay_webhook_secret_0123",
    "standard": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}
TYPES = {
    "stripe": {
        "succeeded": "payment_intent.succeeded",
        "failed": "payment_intent.payment_failed",
        "refunded": "charge.refunded",
        "other": "customer.created",
    },
    "paystack": {
        "succeeded": "charge.success",
        "failed": "charge.failed",
        "refunded": "refund.processed",
        "other": "transfer.success",
    },
    "razorpay": {
        "succeeded": "payment.captured",
        "failed": "payment.failed",
        "refunded": "refund.processed",
        "other": "order.paid",
    },
    "standard": {
        "succeeded": "payment.succeeded",
        "failed": "payment.failed",
        "refunded": "refund.succeeded",
        "other": "customer.updated",
    },
}


def body(
    provider: str,
    kind: str,
    *,
    checkout_id: str,
    payment_id: str,
    amount: int = 2500,
    currency: str = "usd",
    email: str = "ada@example.com",
    event_id: str | None = None,
) -> dict[str, Any]:
    type_ = TYPES[provider][kind]
    event_id = event_id or uuid.uuid4().hex[:16]
    if provider == "stripe":
        obj: dict[str, Any]
        if kind == "refunded":
            obj = {
                "id": f"ch_{payment_id}",
                "object": "charge",
                "payment_intent": payment_id,
                "amount": amount,
                "amount_refunded": amount,
                "currency": currency,
                "metadata": {"checkout_id": checkout_id},
            }
        else:
            obj = {
                "id": payment_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount if kind == "succeeded" else 0,
                "currency": currency,
                "receipt_email": email,
                "metadata": {"checkout_id": checkout_id},
            }
        return {
            "id": f"evt_{event_id}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "type": type_,
            "livemode": False,
            "data": {"object": obj},
        }
    if provider == "paystack":
        data: dict[str, Any] = {
            "id": int(uuid.uuid4().int % 10**9),
            "amount": amount,
            "currency": currency.upper(),
            "status": "success",
            "metadata": {"checkout_id": checkout_id},
            "customer": {"email": email},
        }
        if kind == "refunded":
            data.update(transaction_reference=payment_id, status="processed")
        else:
            data["reference"] = payment_id
        return {"event": type_, "data": data}
    if provider == "razorpay":
        payment = {
            "id": payment_id,
            "entity": "payment",
            "amount": amount,
            "currency": currency.upper(),
            "status": "captured",
            "email": email,
            "notes": {"checkout_id": checkout_id},
        }
        entities: dict[str, Any] = {"payment": {"entity": payment}}
        if kind == "refunded":
            entities["refund"] = {
                "entity": {
                    "id": f"rfnd_{event_id}",
                    "entity": "refund",
                    "amount": amount,
                    "currency": currency.upper(),
                    "payment_id": payment_id,
                }
            }
        return {
            "entity": "event",
            "account_id": "acc_test",
            "event": type_,
            "contains": list(entities),
            "payload": entities,
            "created_at": int(time.time()),
        }
    return {
        "type": type_,
        "data": {
            "checkout_id": checkout_id,
            "payment_id": payment_id,
            "amount": amount,
            "currency": currency,
            "email": email,
        },
    }


def signed(
    provider: str,
    payload: dict[str, Any],
    *,
    event_id: str | None = None,
    secret: str | None = None,
    now: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The exact bytes and headers a provider would send."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    secret = secret or SECRETS[provider]
    now = now or int(time.time())
    if provider == "stripe":
        headers = sign_stripe(raw, secret, now)
    elif provider == "paystack":
        headers = sign_paystack(raw, secret)
    elif provider == "razorpay":
        headers = sign_razorpay(raw, secret, event_id or uuid.uuid4().hex[:14])
    else:
        headers = sign_standard(raw, secret, event_id or f"msg_{uuid.uuid4().hex[:20]}", now)
    return raw, {**headers, "Content-Type": "application/json"}
