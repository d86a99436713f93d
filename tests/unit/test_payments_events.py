"""Normalising providers' webhook payloads (trimmed from real deliveries) to `ProviderEvent`s."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import PermanentError
from core.payments import PayloadError, ProviderEvent, event_key, parse_event, verify
from tests.support.signing import sign_paystack, sign_razorpay, sign_standard, sign_stripe

CHECKOUT = "chk_01J6B9Q2ZC4M7T"
EMAIL = "ada@example.com"

STRIPE_PI: dict[str, Any] = {
    "id": "pi_3PqRmALkdIwHu7ix1Jm4K0Tn",
    "object": "payment_intent",
    "amount": 4998,
    "amount_capturable": 0,
    "amount_received": 4998,
    "capture_method": "automatic_async",
    "client_secret": "pi_3PqRmALkdIwHu7ix1Jm4K0Tn_secret_Jx0d8",
    "created": 1724767020,
    "currency": "eur",
    "customer": None,
    "last_payment_error": None,
    "latest_charge": "ch_3PqRmALkdIwHu7ix1x8cHs0Q",
    "livemode": False,
    "metadata": {"checkout_id": CHECKOUT},
    "payment_method": "pm_1PqRm9LkdIwHu7ixQ3r2Tz8u",
    "payment_method_types": ["card"],
    "receipt_email": EMAIL,
    "status": "succeeded",
}
STRIPE_FAILED_PI: dict[str, Any] = {
    **STRIPE_PI,
    "amount_received": 0,
    "latest_charge": "ch_3PqRmALkdIwHu7ix0Decl1n3",
    "last_payment_error": {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
        "type": "card_error",
    },
    "receipt_email": None,
    "status": "requires_payment_method",
}
STRIPE_CHARGE: dict[str, Any] = {
    "id": "ch_3PqRmALkdIwHu7ix1x8cHs0Q",
    "object": "charge",
    "amount": 4998,
    "amount_captured": 4998,
    "amount_refunded": 4998,
    "billing_details": {"address": {"country": "DE"}, "email": EMAIL, "name": "Ada Lovelace", "phone": None},
    "captured": True,
    "currency": "eur",
    "metadata": {},
    "paid": True,
    "payment_intent": "pi_3PqRmALkdIwHu7ix1Jm4K0Tn",
    "receipt_email": None,
    "refunded": True,
    "status": "succeeded",
}


def _stripe_event(event_id: str, type_: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1724767032,
        "data": {"object": obj, **extra},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_9bX2pQ4kLm", "idempotency_key": "0d7c2b1e-5f3a-4c8e-9a61-2f0e7b3d4c5a"},
        "type": type_,
    }


STRIPE_SUCCEEDED = _stripe_event("evt_3PqRmALkdIwHu7ix1dJ0x9Yb", "payment_intent.succeeded", STRIPE_PI)
STRIPE_FAILED = _stripe_event(
    "evt_3PqRmALkdIwHu7ix0fA1L3dX", "payment_intent.payment_failed", STRIPE_FAILED_PI
)
STRIPE_REFUNDED = _stripe_event(
    "evt_3PqRmALkdIwHu7ix1R3fUnD0",
    "charge.refunded",
    STRIPE_CHARGE,
    previous_attributes={"amount_refunded": 0, "refunded": False},
)

PAYSTACK_TRANSACTION: dict[str, Any] = {
    "id": 4099260516,
    "domain": "test",
    "status": "success",
    "reference": "re4lyvq3s3",
    "amount": 1500000,
    "message": None,
    "gateway_response": "Successful",
    "paid_at": "2024-08-22T09:15:02.000Z",
    "created_at": "2024-08-22T09:14:48.000Z",
    "channel": "card",
    "currency": "NGN",
    "ip_address": "197.210.54.33",
    "metadata": {"checkout_id": CHECKOUT, "custom_fields": []},
    "fees": 32500,
    "customer": {
        "id": 181873746,
        "first_name": None,
        "last_name": None,
        "email": EMAIL,
        "customer_code": "CUS_1rkzaqsv4rrhqo6",
        "phone": None,
        "metadata": None,
        "risk_action": "default",
    },
    "authorization": {
        "authorization_code": "AUTH_uh8bcl3zbn",
        "bin": "408408",
        "last4": "4081",
        "channel": "card",
        "card_type": "visa ",
        "bank": "TEST BANK",
        "country_code": "NG",
        "brand": "visa",
        "reusable": True,
    },
    "plan": {},
    "requested_amount": 1500000,
}
PAYSTACK_SUCCESS: dict[str, Any] = {"event": "charge.success", "data": PAYSTACK_TRANSACTION}
PAYSTACK_FAILED: dict[str, Any] = {
    "event": "charge.failed",
    "data": {**PAYSTACK_TRANSACTION, "id": 4099260999, "status": "failed", "gateway_response": "Declined"},
}
PAYSTACK_REFUND: dict[str, Any] = {
    "event": "refund.processed",
    "data": {
        "status": "processed",
        "transaction_reference": "re4lyvq3s3",
        "refund_reference": "132013318360",
        "amount": 1500000,
        "currency": "NGN",
        "processor": "mpgs_zen",
        "customer": {"first_name": "Ada", "last_name": "Lovelace", "email": EMAIL},
        "integration": 463433,
        "domain": "test",
    },
}

RAZORPAY_PAYMENT: dict[str, Any] = {
    "id": "pay_DESlfW9H8K9uqM",
    "entity": "payment",
    "amount": 49900,
    "currency": "INR",
    "base_amount": 49900,
    "status": "captured",
    "order_id": "order_DESlLckIVRkHWj",
    "invoice_id": None,
    "international": False,
    "method": "upi",
    "amount_refunded": 0,
    "refund_status": None,
    "captured": True,
    "description": "Order chk_01J6B9Q2ZC4M7T",
    "vpa": "ada@okhdfcbank",
    "email": EMAIL,
    "contact": "+919876543210",
    "notes": {"checkout_id": CHECKOUT},
    "fee": 1178,
    "tax": 180,
    "error_code": None,
    "error_description": None,
    "acquirer_data": {"rrn": "426512345678"},
    "created_at": 1724767020,
}
RAZORPAY_FAILED_PAYMENT: dict[str, Any] = {
    **RAZORPAY_PAYMENT,
    "id": "pay_DESmXoE1gOBYVp",
    "status": "failed",
    "captured": False,
    "fee": None,
    "tax": None,
    "error_code": "BAD_REQUEST_ERROR",
    "error_description": "Payment failed because of insufficient balance",
    "error_source": "customer",
    "error_step": "payment_authorization",
    "error_reason": "payment_failed",
}
RAZORPAY_REFUND: dict[str, Any] = {
    "id": "rfnd_FS8TWyPrCsa0OB",
    "entity": "refund",
    "amount": 49900,
    "currency": "INR",
    "payment_id": "pay_DESlfW9H8K9uqM",
    "notes": [],
    "receipt": None,
    "acquirer_data": {"arn": None},
    "created_at": 1724853420,
    "batch_id": None,
    "status": "processed",
    "speed_processed": "normal",
    "speed_requested": "normal",
}


def _razorpay_event(event: str, **entities: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity": "event",
        "account_id": "acc_BFQ7uQEaa7j2z7",
        "event": event,
        "contains": list(entities),
        "payload": {name: {"entity": entity} for name, entity in entities.items()},
        "created_at": 1724767032,
    }


RAZORPAY_CAPTURED = _razorpay_event("payment.captured", payment=RAZORPAY_PAYMENT)
RAZORPAY_FAILED = _razorpay_event("payment.failed", payment=RAZORPAY_FAILED_PAYMENT)
RAZORPAY_REFUNDED = _razorpay_event(
    "refund.processed",
    refund=RAZORPAY_REFUND,
    payment={**RAZORPAY_PAYMENT, "status": "refunded", "amount_refunded": 49900, "refund_status": "full"},
)
RAZORPAY_HEADERS = {"X-Razorpay-Event-Id": "P3bxHgVw9m2kQp"}

STANDARD_DATA: dict[str, Any] = {
    "checkout_id": CHECKOUT,
    "payment_id": "pay_77c1",
    "amount": 1999,
    "currency": "usd",
    "email": EMAIL,
}
STANDARD_HEADERS = {"webhook-id": "msg_2mV0qM5QxYh1Gd3Lq8Zt"}


HEADERS = {"stripe": {}, "paystack": {}, "razorpay": RAZORPAY_HEADERS, "standard": STANDARD_HEADERS}
OK, FAILED, REFUNDED = "payment_succeeded", "payment_failed", "refunded"
PI, PAY, MSG = "pi_3PqRmALkdIwHu7ix1Jm4K0Tn", "pay_DESlfW9H8K9uqM", STANDARD_HEADERS["webhook-id"]
REF, NAIRA = PAYSTACK_TRANSACTION["reference"], PAYSTACK_TRANSACTION["amount"]
STANDARD_SUCCEEDED: dict[str, Any] = {"type": "payment.succeeded", "data": STANDARD_DATA}
STANDARD_FAILED: dict[str, Any] = {"type": "payment.failed", "data": STANDARD_DATA}
STANDARD_REFUNDED: dict[str, Any] = {"type": "refund.succeeded", "data": {**STANDARD_DATA, "email": None}}


@pytest.mark.parametrize(
    ("provider", "payload", "event_id", "kind", "checkout_id", "payment_id", "amount", "currency", "email"),
    [
        ("stripe", STRIPE_SUCCEEDED, "evt_3PqRmALkdIwHu7ix1dJ0x9Yb", OK, CHECKOUT, PI, 4998, "EUR", EMAIL),
        ("stripe", STRIPE_FAILED, "evt_3PqRmALkdIwHu7ix0fA1L3dX", FAILED, CHECKOUT, PI, 4998, "EUR", None),
        ("stripe", STRIPE_REFUNDED, "evt_3PqRmALkdIwHu7ix1R3fUnD0", REFUNDED, None, PI, 4998, "EUR", EMAIL),
        ("paystack", PAYSTACK_SUCCESS, "charge.success:4099260516", OK, CHECKOUT, REF, NAIRA, "NGN", EMAIL),
        ("paystack", PAYSTACK_FAILED, "charge.failed:4099260999", FAILED, CHECKOUT, REF, NAIRA, "NGN", EMAIL),
        (
            "paystack",
            PAYSTACK_REFUND,
            "refund.processed:132013318360",
            REFUNDED,
            None,
            REF,
            NAIRA,
            "NGN",
            EMAIL,
        ),
        (
            "razorpay",
            RAZORPAY_CAPTURED,
            "pay_DESlfW9H8K9uqM:payment.captured",
            OK,
            CHECKOUT,
            PAY,
            49900,
            "INR",
            EMAIL,
        ),
        (
            "razorpay",
            RAZORPAY_FAILED,
            f"{RAZORPAY_FAILED_PAYMENT['id']}:payment.failed",
            FAILED,
            CHECKOUT,
            RAZORPAY_FAILED_PAYMENT["id"],
            49900,
            "INR",
            EMAIL,
        ),
        (
            "razorpay",
            RAZORPAY_REFUNDED,
            "rfnd_FS8TWyPrCsa0OB:refund.processed",
            REFUNDED,
            CHECKOUT,
            PAY,
            49900,
            "INR",
            EMAIL,
        ),
        ("standard", STANDARD_SUCCEEDED, MSG, OK, CHECKOUT, "pay_77c1", 1999, "USD", EMAIL),
        ("standard", STANDARD_FAILED, MSG, FAILED, CHECKOUT, "pay_77c1", 1999, "USD", EMAIL),
        ("standard", STANDARD_REFUNDED, MSG, REFUNDED, CHECKOUT, "pay_77c1", 1999, "USD", None),
    ],
)
def test_events_that_matter_are_read_in_full(
    provider, payload, event_id, kind, checkout_id, payment_id, amount, currency, email
):
    raw_type = payload.get("type") or payload["event"]
    headers = HEADERS[provider]
    expected = ProviderEvent(
        provider, event_id, kind, raw_type, checkout_id, payment_id, amount, currency, email
    )
    # The refund's own id is checked in test_each_refund_is_known_by_its_provider_refund_id.
    assert dataclasses.replace(parse_event(provider, payload, headers), refund_id=None) == expected
    assert event_key(provider, payload, headers) == (event_id, raw_type)


@pytest.mark.parametrize(
    ("provider", "payload", "headers", "event_id"),
    [
        ("stripe", _stripe_event("evt_1Customer", "customer.created", {"id": "cus_Q1"}), {}, "evt_1Customer"),
        ("stripe", _stripe_event("evt_1Odd", "payment_intent.created", "not even an object"), {}, "evt_1Odd"),
        (
            "paystack",
            {"event": "transfer.success", "data": {"id": 37272792, "amount": "oops"}},
            {},
            "transfer.success:37272792",
        ),
        (
            "paystack",
            {"event": "refund.pending", "data": PAYSTACK_REFUND["data"]},
            {},
            "refund.pending:132013318360",
        ),
        (
            "razorpay",
            _razorpay_event("payment.authorized", payment=RAZORPAY_PAYMENT),
            {"x-razorpay-event-id": "Q1"},
            f"{RAZORPAY_PAYMENT['id']}:payment.authorized",
        ),
        (
            "razorpay",
            _razorpay_event("order.paid", order={"id": "order_DESlLckIVRkHWj"}),
            {},
            "order_DESlLckIVRkHWj:order.paid",
        ),
        ("standard", {"type": "payment.pending"}, STANDARD_HEADERS, MSG),
    ],
)
def test_other_event_types_are_kind_other_and_never_read_further(provider, payload, headers, event_id):
    event = parse_event(provider, payload, headers)
    assert event == ProviderEvent(provider, event_id, "other", payload.get("type") or payload["event"])


def test_empty_metadata_shapes_mean_no_checkout():
    empties: list[Any] = ["", 0, None, [], {}]
    for empty in empties:
        payload = copy.deepcopy(PAYSTACK_SUCCESS)
        payload["data"]["metadata"] = empty
        assert parse_event("paystack", payload, {}).checkout_id is None
    payload = copy.deepcopy(RAZORPAY_CAPTURED)
    payload["payload"]["payment"]["entity"]["notes"] = []
    assert parse_event("razorpay", payload, RAZORPAY_HEADERS).checkout_id is None


def test_razorpay_keys_on_signed_entity_ids_never_on_the_unsigned_event_id_header():
    """One captured body replayed with three forged `x-razorpay-event-id` headers is one event."""
    forged = {
        parse_event("razorpay", RAZORPAY_CAPTURED, {"x-razorpay-event-id": f"forged{i}"}).event_id
        for i in range(3)
    }
    assert forged == {"pay_DESlfW9H8K9uqM:payment.captured"}
    assert parse_event("razorpay", RAZORPAY_CAPTURED, {}).event_id == "pay_DESlfW9H8K9uqM:payment.captured"
    # each partial refund is its own event, so a refund keys on the refund, not the payment
    assert parse_event("razorpay", RAZORPAY_REFUNDED, {}).event_id == "rfnd_FS8TWyPrCsa0OB:refund.processed"
    refund_only = _razorpay_event(
        "refund.processed", refund={**RAZORPAY_REFUND, "notes": {"checkout_id": "chk_2"}}
    )
    event = parse_event("razorpay", refund_only, {"X-RAZORPAY-EVENT-ID": "R9"})
    assert (event.event_id, event.checkout_id, event.email, event.payment_id) == (
        "rfnd_FS8TWyPrCsa0OB:refund.processed",
        "chk_2",
        None,
        "pay_DESlfW9H8K9uqM",
    )


def test_paystack_refund_keys_on_its_id_when_it_has_one():
    payload = copy.deepcopy(PAYSTACK_REFUND)
    payload["data"]["id"] = 6110421
    assert parse_event("paystack", payload, {}).event_id == "refund.processed:6110421"


def test_stripe_refund_of_a_charge_without_a_payment_intent_names_the_charge():
    payload = copy.deepcopy(STRIPE_REFUNDED)
    payload["data"]["object"]["payment_intent"] = None
    assert parse_event("stripe", payload, {}).payment_id == "ch_3PqRmALkdIwHu7ix1x8cHs0Q"


def _broken(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `payload` with `path` set to `value`, or removed if `value` is `...`."""
    broken = copy.deepcopy(payload)
    *parents, last = path.split(".")
    node = broken
    for step in parents:
        node = node[step]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return broken


@pytest.mark.parametrize(
    ("provider", "payload", "headers", "field"),
    [
        ("stripe", ["not", "an", "object"], {}, "body"),
        ("stripe", _broken(STRIPE_SUCCEEDED, "id", ...), {}, "id"),
        ("stripe", _broken(STRIPE_SUCCEEDED, "type", 5), {}, "type"),
        ("stripe", _broken(STRIPE_SUCCEEDED, "data.object", "pi_123"), {}, "data.object.id"),
        (
            "stripe",
            _broken(STRIPE_SUCCEEDED, "data.object.amount_received", "4998"),
            {},
            "data.object.amount_received",
        ),
        ("stripe", _broken(STRIPE_FAILED, "data.object.amount", True), {}, "data.object.amount"),
        ("stripe", _broken(STRIPE_SUCCEEDED, "data.object.currency", "euro"), {}, "data.object.currency"),
        (
            "stripe",
            _broken(STRIPE_SUCCEEDED, "data.object.metadata.checkout_id", 42),
            {},
            "data.object.metadata.checkout_id",
        ),
        (
            "stripe",
            _broken(STRIPE_REFUNDED, "data.object.amount_refunded", -1),
            {},
            "data.object.amount_refunded",
        ),
        ("paystack", _broken(PAYSTACK_SUCCESS, "data.id", ...), {}, "data.id"),
        ("paystack", _broken(PAYSTACK_SUCCESS, "data.id", False), {}, "data.id"),
        ("paystack", _broken(PAYSTACK_SUCCESS, "data.reference", None), {}, "data.reference"),
        ("paystack", _broken(PAYSTACK_SUCCESS, "data.amount", 15000.5), {}, "data.amount"),
        ("paystack", _broken(PAYSTACK_REFUND, "data.refund_reference", ...), {}, "data.refund_reference"),
        (
            "paystack",
            _broken(PAYSTACK_REFUND, "data.transaction_reference", ...),
            {},
            "data.transaction_reference",
        ),
        ("razorpay", _broken(RAZORPAY_CAPTURED, "payload", {}), {}, "payload.payment.entity.id"),
        (
            "razorpay",
            _broken(RAZORPAY_CAPTURED, "payload.payment.entity.amount", 499.0),
            RAZORPAY_HEADERS,
            "payload.payment.entity.amount",
        ),
        (
            "razorpay",
            _broken(RAZORPAY_REFUNDED, "payload.refund.entity.payment_id", ...),
            RAZORPAY_HEADERS,
            "payload.refund.entity.payment_id",
        ),
        ("standard", STANDARD_SUCCEEDED, {}, "webhook-id"),
        (
            "standard",
            _broken(STANDARD_SUCCEEDED, "data.checkout_id", ...),
            STANDARD_HEADERS,
            "data.checkout_id",
        ),
        ("standard", _broken(STANDARD_SUCCEEDED, "data.email", 5), STANDARD_HEADERS, "data.email"),
        ("standard", _broken(STANDARD_SUCCEEDED, "data.currency", "€"), STANDARD_HEADERS, "data.currency"),
    ],
)
def test_missing_or_ill_typed_fields_name_the_field(provider, payload, headers, field):
    with pytest.raises(PayloadError) as excinfo:
        parse_event(provider, payload, headers)
    assert excinfo.value.field == field
    assert str(excinfo.value) == f"missing or invalid field {field}"
    assert isinstance(excinfo.value, PermanentError)


def test_event_key_does_not_need_the_fields_parse_event_refuses():
    payload = _broken(STRIPE_SUCCEEDED, "data.object.amount_received", "4998")
    assert event_key("stripe", payload, {}) == ("evt_3PqRmALkdIwHu7ix1dJ0x9Yb", "payment_intent.succeeded")


def test_unknown_provider_is_a_value_error():
    with pytest.raises(ValueError, match="unknown payment provider"):
        parse_event("paypal", {}, {})


def test_signed_bytes_verify_then_parse_for_every_provider():
    now = datetime(2024, 8, 27, 14, 0, tzinfo=UTC)
    secrets = {
        "stripe": "whsec_stripe_test",
        "paystack": "sk_test_x",
        "razorpay": "rzp_hook",
        "standard": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    cases = {
        "stripe": (STRIPE_SUCCEEDED, lambda body: sign_stripe(body, secrets["stripe"], now)),
        "paystack": (PAYSTACK_SUCCESS, lambda body: sign_paystack(body, secrets["paystack"])),
        "razorpay": (
            RAZORPAY_CAPTURED,
            lambda body: sign_razorpay(body, secrets["razorpay"], "P3bxHgVw9m2kQp"),
        ),
        "standard": (STANDARD_SUCCEEDED, lambda body: sign_standard(body, secrets["standard"], "msg_1", now)),
    }
    for provider, (payload, sign) in cases.items():
        body = json.dumps(payload).encode()
        headers = sign(body)
        verify(provider, body, headers, [secrets[provider]], now=now, tolerance=300)
        event = parse_event(provider, json.loads(body), headers)
        assert (event.kind, event.checkout_id) == ("payment_succeeded", CHECKOUT)


def test_each_refund_is_known_by_its_provider_refund_id():
    assert parse_event("razorpay", RAZORPAY_REFUNDED, {}).refund_id == "rfnd_FS8TWyPrCsa0OB"
    assert parse_event("paystack", PAYSTACK_REFUND, {}).refund_id == "132013318360"
    stripe = parse_event("stripe", STRIPE_REFUNDED, {})
    # Without the embedded refund list, the charge's running refunded total names the refund.
    assert stripe.refund_id == f"{STRIPE_REFUNDED['data']['object']['id']}:refunded:4998"
    embedded = copy.deepcopy(STRIPE_REFUNDED)
    embedded["data"]["object"]["refunds"] = {"object": "list", "data": [{"id": "re_new"}, {"id": "re_old"}]}
    assert parse_event("stripe", embedded, {}).refund_id == "re_new"
    assert parse_event("standard", STANDARD_REFUNDED, STANDARD_HEADERS).refund_id is None
    assert parse_event("stripe", STRIPE_SUCCEEDED, {}).refund_id is None
