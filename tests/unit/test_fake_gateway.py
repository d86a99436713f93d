"""The fake renewal gateway (answers chosen by the payment method) and which gateway settings give."""

from __future__ import annotations

from typing import Any

import pytest

from core.billing.factory import renewal_gateway
from core.billing.fake import FakeGateway
from core.billing.gateway import ChargeRequest, Declined, GatewayUnavailable, Succeeded
from core.billing.stripe_gateway import StripeGateway
from tests.conftest import make_settings


def charge(method: str, key: str = "renewal/sub-1/2026-11-01T00:00:00Z/1") -> ChargeRequest:
    return ChargeRequest(key, 1200, "EUR", "cus_fake", method, "premium renewal", {"attempt": "1"})


def test_a_good_fake_card_pays_under_a_reference_named_by_the_key() -> None:
    gateway = FakeGateway()
    reference = gateway.start(charge("pm_fake_ok"))
    assert isinstance(reference, str) and reference.startswith("fake_pi_")
    assert gateway.start(charge("pm_fake_ok")) == reference  # a repeat names the same payment
    assert gateway.start(charge("pm_fake_ok", key="renewal/sub-1/2026-11-01T00:00:00Z/2")) != reference
    assert gateway.settle(reference, charge("pm_fake_ok")) == Succeeded(reference)
    assert gateway.settle(reference, charge("pm_fake_ok")) == Succeeded(reference)


def test_a_declining_fake_card_is_declined_on_every_settle() -> None:
    gateway = FakeGateway()
    reference = gateway.start(charge("pm_fake_decline"))
    assert isinstance(reference, str)
    declined = Declined(reference, "card_declined", "Your card was declined.")
    assert gateway.settle(reference, charge("pm_fake_decline")) == declined
    assert gateway.settle(reference, charge("pm_fake_decline")) == declined


def test_the_outage_card_starts_then_is_unavailable() -> None:
    gateway = FakeGateway()
    reference = gateway.start(charge("pm_fake_outage"))
    assert isinstance(reference, str)
    with pytest.raises(GatewayUnavailable):
        gateway.settle(reference, charge("pm_fake_outage"))


def test_an_unknown_payment_method_is_declined_without_a_reference() -> None:
    gateway = FakeGateway()
    outcome = gateway.start(charge("pm_1Nreal"))
    assert isinstance(outcome, Declined)
    assert (outcome.reference, outcome.code) == (None, "unknown_payment_method")
    assert gateway.settle("fake_pi_x", charge("pm_1Nreal")) == outcome


def settings(**values: Any) -> Any:
    return make_settings("postgresql://u@h/db", "redis://h:6379/0", **values)


def test_the_factory_builds_each_gateway() -> None:
    assert isinstance(renewal_gateway("fake", settings()), FakeGateway)
    stripe = renewal_gateway("stripe", settings(stripe_api_key="sk_test_x", stripe_api_base="http://x"))
    assert isinstance(stripe, StripeGateway) and stripe.name == "stripe"


@pytest.mark.parametrize(
    ("name", "values", "message"),
    [
        ("stripe", {}, "STRIPE_API_KEY is not set"),
        ("stripe", {"stripe_api_key": ""}, "STRIPE_API_KEY is not set"),
        ("fake", {"app_env": "production"}, "refused in production"),
        ("paypal", {"stripe_api_key": "sk_test_x"}, "no renewal gateway named 'paypal'"),
    ],
)
def test_a_gateway_that_cannot_be_used_here_is_unavailable(name: str, values: Any, message: str) -> None:
    with pytest.raises(GatewayUnavailable, match=message):
        renewal_gateway(name, settings(**values))


def test_stripe_is_allowed_in_production() -> None:
    production = settings(app_env="production", stripe_api_key="sk_live_x")
    assert isinstance(renewal_gateway("stripe", production), StripeGateway)
