"""The renewal gateway a subscription names (`subscription.gateway`), built from settings."""

from __future__ import annotations

from core.billing.fake import FakeGateway
from core.billing.gateway import GatewayUnavailable, RenewalGateway
from core.billing.stripe_gateway import StripeGateway
from core.settings import Settings


def renewal_gateway(name: str, settings: Settings) -> RenewalGateway:
    """Raises GatewayUnavailable (a retry, never a dunning step) when the gateway cannot be used
    here: Stripe without a key, an unknown name, or `fake` in production, where a subscription
    naming it would renew for free."""
    if name == "fake":
        if settings.app_env == "production":
            raise GatewayUnavailable("the fake renewal gateway is refused in production")
        return FakeGateway()
    if name == "stripe":
        if not settings.stripe_api_key or not settings.stripe_api_key.get_secret_value():
            raise GatewayUnavailable("STRIPE_API_KEY is not set")
        return StripeGateway(
            settings.stripe_api_key.get_secret_value(),
            api_base=settings.stripe_api_base,
            timeout_seconds=settings.stripe_timeout_seconds,
        )
    raise GatewayUnavailable(f"no renewal gateway named {name!r}")
