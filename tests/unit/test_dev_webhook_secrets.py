"""Development webhook secrets: on a laptop every provider works out of the box; production
never falls back to them and refuses them when set (issue 7)."""

import pytest

from core.payments import PROVIDERS, verify
from core.payments.signing import sign
from core.settings import DEV_WEBHOOK_SECRETS, WEBHOOK_SECRET_FIELDS, Settings

BASE = {"database_url": "postgresql://u@h/db", "redis_url": "redis://h:6379/0"}
PRODUCTION = {
    **BASE,
    "app_env": "production",
    "internal_api_secret": "p" * 40,
    "admin_api_token": "a" * 40,
    "cron_secret": "c" * 20,
}


def settings(**values):
    return Settings(_env_file=None, **{**BASE, **values})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_development_has_a_secret_for_every_unset_provider(provider):
    assert settings().webhook_secrets(provider) == [DEV_WEBHOOK_SECRETS[provider]]
    # A configured secret wins over the placeholder.
    configured = {WEBHOOK_SECRET_FIELDS[provider]: "whsec_c2V0LWJ5LXRoZS1vcGVyYXRvcg=="}
    assert settings(**configured).webhook_secrets(provider) == ["whsec_c2V0LWJ5LXRoZS1vcGVyYXRvcg=="]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("app_env", ["production", "test"])
def test_outside_development_an_unset_provider_stays_unconfigured(provider, app_env):
    values = PRODUCTION if app_env == "production" else {**BASE, "app_env": "test"}
    assert Settings(_env_file=None, **values).webhook_secrets(provider) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_deployment_that_forgot_app_env_never_falls_back_to_a_placeholder(provider):
    """Found by review: real tokens set, APP_ENV left at its default, one provider unset."""
    configured = settings(internal_api_secret="s" * 40, admin_api_token="a" * 40)
    assert configured.app_env == "development"
    assert configured.webhook_secrets(provider) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_production_refuses_the_placeholder(provider):
    field = WEBHOOK_SECRET_FIELDS[provider]
    with pytest.raises(ValueError, match=f"{field.upper()}: the development placeholder is refused"):
        Settings(
            _env_file=None, **PRODUCTION, **{field: f"whsec_bmV3LXNlY3JldA==,{DEV_WEBHOOK_SECRETS[provider]}"}
        )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_placeholders_are_usable_secrets(provider):
    """Each placeholder signs and verifies in its provider's scheme (Standard's is whsec_ base64)."""
    body = b'{"id": "evt_1", "type": "x"}'
    headers = sign(provider, body, DEV_WEBHOOK_SECRETS[provider], now=1_700_000_000)
    verify(provider, body, headers, settings().webhook_secrets(provider), now=1_700_000_000, tolerance=300)
