"""Settings: every knob backroom reads, validated once when a process starts.

Values come from the environment and from `.env` in the working directory.
`load_settings()` is what entry points call: a bad or missing value stops the
process with one line naming the variable and what is wrong with it.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import sys
from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from core.rules.schedules import parse_duration
from core.settings_schedules import ScheduleSettings

# Development placeholders: usable on a laptop, refused in production.
DEV_SECRETS = {
    "internal_api_secret": "dev-internal-api-secret-change-me-0000",
    "admin_api_token": "dev-admin-api-token-change-me-00000000",
    "cron_secret": "dev-cron-secret-change-me",
}
# Development webhook secrets, one per provider, used only when APP_ENV=development and the
# provider's variable is unset, so `backroom webhooks sign` and the README's "Try it" work on a
# fresh checkout. Public placeholders: production never falls back to them and refuses them if set.
DEV_WEBHOOK_SECRETS = {
    "stripe": "whsec_dev_stripe_webhook_secret_change_me",
    "paystack": "sk_test_dev_paystack_secret_key_change_me",
    "razorpay": "dev-razorpay-webhook-secret-change-me",
    "standard": "whsec_ZGV2LXN0YW5kYXJkLXdlYmhvb2sta2V5LWNoYW5nZS1tZQ==",
}
WEBHOOK_SECRET_FIELDS = {
    "stripe": "stripe_webhook_secret",
    "paystack": "paystack_secret_key",
    "razorpay": "razorpay_webhook_secret",
    "standard": "standard_webhook_secret",
}
# Minimum secret lengths in production, from the design.
SECRET_MIN_LENGTH = {"internal_api_secret": 32, "admin_api_token": 32, "cron_secret": 16}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def split_list(value: str) -> list[str]:
    """`a, b,,c` -> ['a', 'b', 'c']: comma-separated settings (secrets in rotation, CIDRs)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_rate(value: str) -> tuple[int, int]:
    """`600/minute` -> (600, 60): a request count and a window in seconds."""
    match = _RATE.match(value)
    if not match or int(match.group(1)) < 1:
        raise ValueError("must look like '600/minute' (count per second|minute|hour|day)")
    return int(match.group(1)), _PERIODS[match.group(2)]


class Settings(ScheduleSettings):
    """All of backroom's configuration. `.env.example` documents each field."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    app_env: Literal["development", "test", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "console"

    database_url: str = Field(min_length=1)
    direct_url: str | None = None
    database_pooler: Literal["none", "pgbouncer"] = "none"
    db_pool_size: int = Field(5, ge=1, le=200)
    db_max_overflow: int = Field(5, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(10.0, gt=0)
    db_statement_timeout_ms: int = Field(15000, ge=0)
    redis_url: str = Field(min_length=1)
    redis_namespace: str = Field("backroom", pattern=r"^[A-Za-z0-9_.:-]+$")
    # The job broker: unset or redis:// is Dramatiq's RedisBroker, amqp(s):// its RabbitmqBroker.
    # Redis (REDIS_URL) stays the store for rate limits and sessions either way.
    broker_url: str | None = None
    broker_queue_type: Literal["classic", "quorum"] = "classic"
    # RabbitMQ only: put in front of every queue name (a vhost shared by several deployments).
    broker_queue_prefix: str = Field("", pattern=r"^[A-Za-z0-9_.:-]*$")
    # RabbitMQ only: a queue unused (no consumer, no declare) this long is deleted by the server,
    # messages and all; for throwaway environments (CI, review apps). 0: never.
    broker_queue_expires_seconds: int = Field(0, ge=0)

    internal_api_secret: SecretStr = SecretStr(DEV_SECRETS["internal_api_secret"])
    admin_api_token: SecretStr = SecretStr(DEV_SECRETS["admin_api_token"])
    cron_secret: SecretStr = SecretStr(DEV_SECRETS["cron_secret"])

    stripe_webhook_secret: SecretStr | None = None
    paystack_secret_key: SecretStr | None = None
    razorpay_webhook_secret: SecretStr | None = None
    standard_webhook_secret: SecretStr | None = None
    webhook_tolerance_seconds: int = Field(300, ge=1, le=86400)
    reconcile_after_seconds: int = Field(120, ge=5, le=86400)
    dead_letter_retention_days: int = Field(30, ge=0, le=3650)
    # Retention to S3 (0 days: everything that is finished).
    webhook_retention_days: int = Field(30, ge=0, le=3650)
    email_retention_days: int = Field(30, ge=0, le=3650)
    reservation_retention_days: int = Field(30, ge=0, le=3650)

    resend_api_key: SecretStr | None = None
    resend_api_url: str | None = None
    email_from: str = "backroom <shop@example.com>"
    alert_email: str | None = None
    aws_s3_bucket: str | None = None
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    # Abandoned carts: idle durations of each reminder step; the cart link and the public base
    # URL of this service (unsubscribe links); Slack incoming webhook for low-stock digests.
    abandoned_cart_steps: str = "1h,24h,72h"
    cart_url_template: str = "https://shop.example.com/cart/{cart_id}"
    public_base_url: str = "http://localhost:8000"
    slack_webhook_url: SecretStr | None = None
    sentry_dsn: SecretStr | None = None
    # The release Sentry files errors under; unset: the checkout's git revision, if there is one.
    release: str | None = None
    # Premium renewals: the Stripe API (STRIPE_API_BASE points the SDK at another server, e.g.
    # localstripe in tests), the dunning offsets after a renewal's first failure, how many days
    # before a period ends its reminder goes, and the page where a customer updates the card.
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None
    stripe_timeout_seconds: float = Field(20.0, gt=0, le=120)
    renewal_retry_schedule: str = "1d,3d,5d,7d"
    renewal_reminder_days: int = Field(7, ge=0, le=365)
    billing_url_template: str = "https://shop.example.com/billing/{subscription_id}"

    reservation_ttl_seconds: int = Field(900, ge=10, le=7 * 86400)
    stock_cleanup_interval_minutes: int = Field(5, ge=1, le=1440)
    stock_cleanup_batch_size: int = Field(5000, ge=1, le=100_000)
    job_max_retries: int | None = Field(None, ge=0, le=100)
    job_min_backoff_ms: int | None = Field(None, ge=1)
    job_max_backoff_ms: int | None = Field(None, ge=1)
    job_time_limit_ms: int = Field(5 * 60_000, ge=1000)
    worker_metrics_port: int = Field(0, ge=0, le=65535)

    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    rate_limit_storefront: str = "600/minute"
    rate_limit_webhooks: str = "1200/minute"
    rate_limit_admin: str = "120/minute"
    rate_limit_cron: str = "60/minute"
    rate_limit_public: str = "1200/minute"
    # Rate-limit bucket for webhook requests whose signature fails (per client), kept apart
    # so junk cannot push a provider's genuine events into 429.
    rate_limit_webhooks_invalid: str = "60/minute"
    # CIDRs of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed.
    trusted_proxies: str = ""
    # When set, GET /metrics needs `Authorization: Bearer $METRICS_TOKEN`.
    metrics_token: SecretStr | None = None
    # The currency a product is priced in when its PUT names none (ISO 4217).
    store_currency: str = Field("USD", pattern=r"^[A-Za-z]{3}$")

    @field_validator(
        "rate_limit_storefront",
        "rate_limit_webhooks",
        "rate_limit_admin",
        "rate_limit_cron",
        "rate_limit_public",
        "rate_limit_webhooks_invalid",
    )
    @classmethod
    def _rate_shape(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("database_url", "direct_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(
            ("postgresql://", "postgresql+psycopg://", "postgres://")
        ):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("standard_webhook_secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        for part in value.get_secret_value().split(",") if value else []:
            key = part.strip().removeprefix("whsec_")
            try:
                base64.b64decode(key, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("each secret must be whsec_ followed by base64") from None
        return value

    @field_validator("abandoned_cart_steps")
    @classmethod
    def _steps(cls, value: str) -> str:
        steps = [parse_duration(part) for part in split_list(value)]
        if not steps or steps != sorted(steps) or len(set(steps)) != len(steps):
            raise ValueError("must be increasing durations like 1h,24h,72h")
        return value

    @field_validator("renewal_retry_schedule")
    @classmethod
    def _retry_schedule(cls, value: str) -> str:
        offsets = [parse_duration(part) for part in split_list(value)]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise ValueError("must be increasing durations after the first failure, like 1d,3d,5d,7d")
        return value

    def renewal_retry_offsets(self) -> list[timedelta]:
        """RENEWAL_RETRY_SCHEDULE parsed: the retries' offsets from a renewal's first failure."""
        return [parse_duration(part) for part in split_list(self.renewal_retry_schedule)]

    @field_validator("store_currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.upper()

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: str) -> str:
        for part in split_list(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or CIDR") from None
        return value

    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(part, strict=False) for part in split_list(self.trusted_proxies)]

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://", "amqp://", "amqps://")):
            raise ValueError("must be a redis://, rediss://, unix://, amqp:// or amqps:// URL")
        return value or None

    def broker_kind(self) -> Literal["redis", "rabbitmq"]:
        """Which broker BROKER_URL selects: RabbitMQ for amqp(s)://, Redis otherwise."""
        return "rabbitmq" if (self.broker_url or "").startswith(("amqp://", "amqps://")) else "redis"

    def broker_redis_url(self) -> str:
        """The Redis the RedisBroker uses: BROKER_URL when it names one, else REDIS_URL."""
        return self.broker_url if self.broker_url and self.broker_kind() == "redis" else self.redis_url

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.app_env != "production":
            return self
        for name, minimum in SECRET_MIN_LENGTH.items():
            value = getattr(self, name).get_secret_value()
            if value == DEV_SECRETS[name] or len(value) < minimum:
                raise ValueError(
                    f"{name.upper()}: must be set to at least {minimum} characters in production"
                )
        for provider, placeholder in DEV_WEBHOOK_SECRETS.items():
            if placeholder in self.webhook_secrets(provider):
                variable = WEBHOOK_SECRET_FIELDS[provider].upper()
                raise ValueError(f"{variable}: the development placeholder is refused in production")
        return self

    def rate(self, route_class: str) -> tuple[int, int]:
        return parse_rate(getattr(self, f"rate_limit_{route_class}"))

    def webhook_secrets(self, provider: str) -> list[str]:
        """The provider's accepted secrets (comma-separated, so a rotation can list two).

        Unset: the development placeholder on an unconfigured laptop (`is_unconfigured_laptop`),
        else none (the provider answers 503).
        """
        field: SecretStr | None = getattr(self, WEBHOOK_SECRET_FIELDS[provider])
        if field is None:
            return [DEV_WEBHOOK_SECRETS[provider]] if self.is_unconfigured_laptop() else []
        return split_list(field.get_secret_value())

    def is_unconfigured_laptop(self) -> bool:
        """Development with the storefront token still at its placeholder. A deployment that set
        its real token but forgot APP_ENV is not a laptop: public placeholder webhook secrets
        would let anyone sign a payment there."""
        return (
            self.app_env == "development"
            and self.internal_api_secret.get_secret_value() == DEV_SECRETS["internal_api_secret"]
        )

    def missing_services(self) -> list[str]:
        """Optional outside services that are not configured, one line each."""
        missing = []
        if self.resend_api_key is None:
            missing.append("RESEND_API_KEY is not set: emails are logged, not sent")
        if self.aws_s3_bucket is None:
            missing.append("AWS_S3_BUCKET is not set: nothing is archived to S3")
        if self.sentry_dsn is None:
            missing.append("SENTRY_DSN is not set: errors go to the logs only")
        return missing


def describe_error(error: ValidationError) -> str:
    """One line naming the first bad variable and what is wrong with it."""
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"]).upper()
    message = str(first["msg"]).removeprefix("Value error, ")
    if not name:  # a model-level check names its variable in the message
        return f"invalid setting {message}"
    if first["type"] == "missing":
        return f"invalid setting {name}: is required and not set"
    return f"invalid setting {name}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings, or exit with one line naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        print(f"backroom: {describe_error(error)}", file=sys.stderr)
        raise SystemExit(2) from None
