"""Webhook signature checks, with test vectors proved by the providers' own SDKs (or openssl)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import razorpay
import standardwebhooks
import stripe

from core.payments import (
    PROVIDERS,
    SignatureError,
    verify,
    verify_paystack,
    verify_razorpay,
    verify_standard,
    verify_stripe,
)
from core.settings import split_list
from tests.support.signing import sign_paystack, sign_razorpay, sign_standard, sign_stripe

STRIPE_SECRET = "whsec_5Hn7cYq1kL0e9XfW3bT2rA8uJ6dM4pZs"
STRIPE_OLD = "whsec_OldOldOld0000111122223333444455"
PAYSTACK_SECRET = "sk_test_3f9a2c"
RAZORPAY_SECRET = "rzp_whsec_Q2xX7"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STANDARD_OLD = "whsec_" + base64.b64encode(b"an older key, rotated out soon").decode()
NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
T = int(NOW.timestamp())
TOLERANCE = 300

STRIPE_BODY = json.dumps(
    {
        "id": "evt_3QxYz2LkdIwHu7ix0b7Jt6Qp",
        "object": "event",
        "api_version": "2024-06-20",
        "created": T,
        "data": {
            "object": {"id": "pi_3QxYz2", "object": "payment_intent", "amount": 2500, "currency": "usd"}
        },
        "livemode": False,
        "type": "payment_intent.succeeded",
    }
).encode()
BODY = b'{"type":"payment.succeeded","data":{"checkout_id":"chk_1","amount":1999,"currency":"EUR"}}'


def _reason(excinfo: pytest.ExceptionInfo[SignatureError]) -> str:
    return excinfo.value.reason


# --- Stripe -----------------------------------------------------------------------------------


def test_stripe_helper_is_accepted_by_the_stripe_sdk():
    now = int(time.time())  # the SDK reads the wall clock
    header = sign_stripe(STRIPE_BODY, STRIPE_SECRET, now)["Stripe-Signature"]
    assert stripe.WebhookSignature.verify_header(STRIPE_BODY, header, STRIPE_SECRET, tolerance=TOLERANCE)
    event = stripe.Webhook.construct_event(STRIPE_BODY, header, STRIPE_SECRET, tolerance=TOLERANCE)
    assert event.id == "evt_3QxYz2LkdIwHu7ix0b7Jt6Qp"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(STRIPE_BODY + b" ", header, STRIPE_SECRET)


def test_stripe_sdk_signature_is_accepted_and_returns_its_timestamp():
    header = stripe.WebhookSignature.generate_signature_header(STRIPE_BODY.decode(), STRIPE_SECRET, T)
    assert header == sign_stripe(STRIPE_BODY, STRIPE_SECRET, T)["Stripe-Signature"]
    assert (
        verify_stripe(STRIPE_BODY, {"stripe-signature": header}, [STRIPE_SECRET], now=NOW, tolerance=300) == T
    )


def test_stripe_headers_match_in_any_case_and_now_may_be_unix_seconds():
    header = sign_stripe(STRIPE_BODY, STRIPE_SECRET, T)["Stripe-Signature"]
    for name in ("Stripe-Signature", "STRIPE-SIGNATURE", "stripe-signature"):
        assert verify_stripe(STRIPE_BODY, {name: header}, [STRIPE_SECRET], now=T + 10.5, tolerance=300) == T


def test_stripe_accepts_any_v1_and_ignores_v0():
    header = sign_stripe(STRIPE_BODY, STRIPE_OLD, T, STRIPE_SECRET)["Stripe-Signature"]
    assert header.count("v1=") == 2
    header += ",v0=" + "0" * 64
    assert (
        verify_stripe(STRIPE_BODY, {"Stripe-Signature": header}, [STRIPE_SECRET], now=NOW, tolerance=300) == T
    )


def test_stripe_rotation_accepts_the_second_secret():
    headers = sign_stripe(STRIPE_BODY, STRIPE_SECRET, T)
    assert verify_stripe(STRIPE_BODY, headers, [STRIPE_OLD, STRIPE_SECRET], now=NOW, tolerance=300) == T
    assert verify_stripe(STRIPE_BODY, headers, ["  ", STRIPE_SECRET], now=NOW, tolerance=300) == T


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing Stripe-Signature header"),
        ({"Stripe-Signature": "  "}, "missing Stripe-Signature header"),
        ({"Stripe-Signature": "garbage"}, "malformed Stripe-Signature header"),
        ({"Stripe-Signature": "v1=" + "a" * 64}, "malformed Stripe-Signature header: expected one t="),
        (
            {"Stripe-Signature": f"t={T},t={T},v1=" + "a" * 64},
            "malformed Stripe-Signature header: expected one t=",
        ),
        ({"Stripe-Signature": f"t={T}"}, "malformed Stripe-Signature header: no v1 signature"),
        ({"Stripe-Signature": f"t={T},v0=" + "a" * 64}, "malformed Stripe-Signature header: no v1 signature"),
        ({"Stripe-Signature": "t=soon,v1=" + "a" * 64}, "malformed Stripe-Signature header: bad timestamp"),
        ({"Stripe-Signature": f"t={T},v1=é"}, "no matching signature"),
    ],
)
def test_stripe_refuses_missing_and_malformed_headers(headers, reason):
    with pytest.raises(SignatureError) as excinfo:
        verify_stripe(STRIPE_BODY, headers, [STRIPE_SECRET], now=NOW, tolerance=300)
    assert _reason(excinfo) == reason


@pytest.mark.parametrize(
    ("body", "secret", "t", "reason"),
    [
        (STRIPE_BODY, STRIPE_OLD, T, "no matching signature"),
        (STRIPE_BODY.replace(b"2500", b"25"), STRIPE_SECRET, T, "no matching signature"),
        (STRIPE_BODY, STRIPE_SECRET, T - 301, "timestamp outside tolerance"),
        (STRIPE_BODY, STRIPE_SECRET, T + 301, "timestamp outside tolerance"),
    ],
)
def test_stripe_refuses_wrong_secret_tampered_body_and_stale_or_future_timestamps(body, secret, t, reason):
    headers = sign_stripe(STRIPE_BODY, secret, t)
    with pytest.raises(SignatureError) as excinfo:
        verify_stripe(body, headers, [STRIPE_SECRET], now=NOW, tolerance=300)
    assert _reason(excinfo) == reason


def test_stripe_tolerance_boundary_is_inclusive():
    for t in (T - 300, T + 300):
        assert verify_stripe(
            STRIPE_BODY, sign_stripe(STRIPE_BODY, STRIPE_SECRET, t), [STRIPE_SECRET], now=NOW, tolerance=300
        )


def test_stripe_signed_timestamp_cannot_be_swapped():
    header = sign_stripe(STRIPE_BODY, STRIPE_SECRET, T - 3600)["Stripe-Signature"]
    forged = header.replace(f"t={T - 3600}", f"t={T}")
    with pytest.raises(SignatureError, match="no matching signature"):
        verify_stripe(STRIPE_BODY, {"Stripe-Signature": forged}, [STRIPE_SECRET], now=NOW, tolerance=300)


# --- Paystack ---------------------------------------------------------------------------------

PAYSTACK_BODY = b'{"event":"charge.success","data":{"id":302961}}'
# printf '%s' "$PAYSTACK_BODY" | openssl dgst -sha512 -hmac sk_test_3f9a2c
PAYSTACK_VECTOR = (
    "e255dfc8a314a2a8fae7905ff9ddbb7d71faf6b4e53ecc081c39b3706fb814f2"
    "e3896789718bf616b37c8fec1c1b73bc8e5ce5736dc39a94b2973c58abd22d61"
)


def test_paystack_helper_matches_openssl_and_a_hand_computed_hmac_sha512():
    by_hand = hmac.new(PAYSTACK_SECRET.encode(), PAYSTACK_BODY, hashlib.sha512).hexdigest()
    assert sign_paystack(PAYSTACK_BODY, PAYSTACK_SECRET) == {"x-paystack-signature": PAYSTACK_VECTOR}
    assert by_hand == PAYSTACK_VECTOR
    verify_paystack(PAYSTACK_BODY, {"X-Paystack-Signature": PAYSTACK_VECTOR}, [PAYSTACK_SECRET])
    verify_paystack(PAYSTACK_BODY, {"x-paystack-signature": PAYSTACK_VECTOR.upper()}, [PAYSTACK_SECRET])


def test_paystack_rotation_accepts_the_second_secret():
    verify_paystack(PAYSTACK_BODY, sign_paystack(PAYSTACK_BODY, PAYSTACK_SECRET), ["sk_old", PAYSTACK_SECRET])


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (PAYSTACK_BODY, {}, "missing x-paystack-signature header"),
        (PAYSTACK_BODY, {"x-paystack-signature": "not hex at all"}, "no matching signature"),
        (PAYSTACK_BODY, sign_paystack(PAYSTACK_BODY, "sk_test_wrong"), "no matching signature"),
        (PAYSTACK_BODY + b"\n", sign_paystack(PAYSTACK_BODY, PAYSTACK_SECRET), "no matching signature"),
        # a SHA-256 of the right body and key is still the wrong scheme
        (
            PAYSTACK_BODY,
            {"x-paystack-signature": sign_razorpay(PAYSTACK_BODY, PAYSTACK_SECRET)["X-Razorpay-Signature"]},
            "no matching signature",
        ),
    ],
)
def test_paystack_refusals(body, headers, reason):
    with pytest.raises(SignatureError) as excinfo:
        verify_paystack(body, headers, [PAYSTACK_SECRET])
    assert _reason(excinfo) == reason


# --- Razorpay ---------------------------------------------------------------------------------

RAZORPAY_BODY = b'{"entity":"event","event":"payment.captured"}'
RAZORPAY_VECTOR = (
    "09e918a123b13e7491185c01ac942fa33281bbd25d4f818a19a9dbb8e594e37c"  # openssl dgst -sha256 -hmac
)


def test_razorpay_helper_is_accepted_by_the_razorpay_sdk_and_matches_openssl():
    headers = sign_razorpay(RAZORPAY_BODY, RAZORPAY_SECRET)
    assert headers == {"X-Razorpay-Signature": RAZORPAY_VECTOR}
    utility = razorpay.Utility()
    assert utility.verify_webhook_signature(RAZORPAY_BODY.decode(), RAZORPAY_VECTOR, RAZORPAY_SECRET)
    with pytest.raises(razorpay.errors.SignatureVerificationError):
        utility.verify_webhook_signature(RAZORPAY_BODY.decode(), RAZORPAY_VECTOR, "another secret")
    verify_razorpay(RAZORPAY_BODY, headers, [RAZORPAY_SECRET])
    verify_razorpay(RAZORPAY_BODY, {"x-razorpay-signature": RAZORPAY_VECTOR}, ["old", RAZORPAY_SECRET])


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (RAZORPAY_BODY, {"x-razorpay-event-id": "evt_1"}, "missing X-Razorpay-Signature header"),
        (RAZORPAY_BODY, {"X-Razorpay-Signature": "sha256=" + RAZORPAY_VECTOR}, "no matching signature"),
        (RAZORPAY_BODY, sign_razorpay(RAZORPAY_BODY, "wrong"), "no matching signature"),
        (
            RAZORPAY_BODY.replace(b"captured", b"failed"),
            sign_razorpay(RAZORPAY_BODY, RAZORPAY_SECRET),
            "no matching signature",
        ),
    ],
)
def test_razorpay_refusals_agree_with_the_sdk(body, headers, reason):
    with pytest.raises(SignatureError) as excinfo:
        verify_razorpay(body, headers, [RAZORPAY_SECRET])
    assert _reason(excinfo) == reason
    signature = {k.lower(): v for k, v in headers.items()}.get("x-razorpay-signature", "")
    with pytest.raises(razorpay.errors.SignatureVerificationError):
        razorpay.Utility().verify_webhook_signature(body.decode(), signature, RAZORPAY_SECRET)


# --- Standard Webhooks ------------------------------------------------------------------------

MSG_ID = "msg_2mV0qM5QxYh1Gd3Lq8Zt"


def test_standard_helper_matches_the_standardwebhooks_sdk_both_ways():
    sdk = standardwebhooks.Webhook(STANDARD_SECRET)
    assert sign_standard(BODY, STANDARD_SECRET, MSG_ID, T)["webhook-signature"] == sdk.sign(
        MSG_ID, NOW, BODY.decode()
    )
    wall = datetime.now(UTC)  # the SDK reads the wall clock with a fixed 5 minute tolerance
    assert sdk.verify(BODY, sign_standard(BODY, STANDARD_SECRET, MSG_ID, wall)) == json.loads(BODY)
    headers = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(T),
        "webhook-signature": sdk.sign(MSG_ID, NOW, BODY.decode()),
    }
    assert verify_standard(BODY, headers, [STANDARD_SECRET], now=NOW, tolerance=TOLERANCE) == T


def test_standard_accepts_any_v1_among_several_and_the_second_secret():
    good = sign_standard(BODY, STANDARD_SECRET, MSG_ID, T)
    stale_key = sign_standard(BODY, STANDARD_OLD, MSG_ID, T)["webhook-signature"]
    good["webhook-signature"] = f"v1a,AAAA v1,!!notbase64 {stale_key} {good['webhook-signature']}"
    assert verify_standard(BODY, good, [STANDARD_SECRET], now=NOW, tolerance=300) == T
    assert (
        verify_standard(
            BODY,
            sign_standard(BODY, STANDARD_SECRET, MSG_ID, T),
            [STANDARD_OLD, STANDARD_SECRET],
            now=T,
            tolerance=300,
        )
        == T
    )
    unpadded = STANDARD_OLD.rstrip("=")
    assert (
        verify_standard(
            BODY, sign_standard(BODY, STANDARD_OLD, MSG_ID, T), [unpadded], now=NOW, tolerance=300
        )
        == T
    )


def _standard(**changes: str) -> dict[str, str]:
    headers = sign_standard(BODY, STANDARD_SECRET, MSG_ID, T)
    headers.update(changes)
    return {k: v for k, v in headers.items() if v != "-"}


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (BODY, _standard(**{"webhook-id": "-"}), "missing webhook-id header"),
        (BODY, _standard(**{"webhook-timestamp": "-"}), "missing webhook-timestamp header"),
        (BODY, _standard(**{"webhook-signature": "-"}), "missing webhook-signature header"),
        (
            BODY,
            _standard(**{"webhook-timestamp": "2025-03-14T09:26:53Z"}),
            "malformed webhook-timestamp header: bad timestamp",
        ),
        (
            BODY,
            _standard(**{"webhook-signature": "v2,abcd"}),
            "malformed webhook-signature header: no v1 signature",
        ),
        (BODY, _standard(**{"webhook-id": "msg_other"}), "no matching signature"),
        (BODY + b" ", _standard(), "no matching signature"),
        (BODY, sign_standard(BODY, STANDARD_OLD, MSG_ID, T), "no matching signature"),
        (BODY, sign_standard(BODY, STANDARD_SECRET, MSG_ID, T - 301), "timestamp outside tolerance"),
        (BODY, sign_standard(BODY, STANDARD_SECRET, MSG_ID, T + 301), "timestamp outside tolerance"),
    ],
)
def test_standard_refusals(body, headers, reason):
    with pytest.raises(SignatureError) as excinfo:
        verify_standard(body, headers, [STANDARD_SECRET], now=NOW, tolerance=300)
    assert _reason(excinfo) == reason


def test_standard_sdk_also_refuses_a_future_timestamp():
    future = sign_standard(BODY, STANDARD_SECRET, MSG_ID, datetime.now(UTC) + timedelta(minutes=10))
    with pytest.raises(standardwebhooks.WebhookVerificationError, match="too new"):
        standardwebhooks.Webhook(STANDARD_SECRET).verify(BODY, future)


# --- configuration and dispatch ---------------------------------------------------------------


@pytest.mark.parametrize("secrets", [[], ["", "  "], "whsec_a_single_string"])
def test_no_usable_secret_is_a_configuration_error(secrets):
    with pytest.raises(ValueError):
        verify_paystack(PAYSTACK_BODY, sign_paystack(PAYSTACK_BODY, PAYSTACK_SECRET), secrets)


def test_bad_standard_secret_and_naive_now_are_configuration_errors():
    headers = sign_standard(BODY, STANDARD_SECRET, MSG_ID, T)
    with pytest.raises(ValueError, match="base64"):
        verify_standard(BODY, headers, ["whsec_not*base64"], now=NOW, tolerance=300)
    with pytest.raises(ValueError, match="aware"):
        verify_standard(BODY, headers, [STANDARD_SECRET], now=NOW.replace(tzinfo=None), tolerance=300)


def test_split_list_reads_a_comma_separated_secret_setting():
    assert split_list(" whsec_a, whsec_b ,,") == ["whsec_a", "whsec_b"]
    assert split_list("") == []


def test_verify_dispatches_by_provider():
    signed = {
        "stripe": (STRIPE_BODY, sign_stripe(STRIPE_BODY, STRIPE_SECRET, T), STRIPE_SECRET, T),
        "paystack": (PAYSTACK_BODY, sign_paystack(PAYSTACK_BODY, PAYSTACK_SECRET), PAYSTACK_SECRET, None),
        "razorpay": (RAZORPAY_BODY, sign_razorpay(RAZORPAY_BODY, RAZORPAY_SECRET), RAZORPAY_SECRET, None),
        "standard": (BODY, sign_standard(BODY, STANDARD_SECRET, MSG_ID, T), STANDARD_SECRET, T),
    }
    assert set(signed) == set(PROVIDERS)
    for provider, (body, headers, secret, expected) in signed.items():
        assert verify(provider, body, headers, [secret], now=NOW, tolerance=300) == expected
        with pytest.raises(SignatureError):
            verify(provider, body + b"x", headers, [secret], now=NOW, tolerance=300)
    with pytest.raises(ValueError, match="unknown payment provider"):
        verify("paypal", BODY, {}, ["x"], now=NOW, tolerance=300)
