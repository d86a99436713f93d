"""The environment every soak process gets: the soak's servers, the local Resend, test secrets,
and job timings shrunk so a fault's aftermath fits in minutes, not the production hours.

Retry chains are short (6 retries, at most 2 s apart, 4 s per attempt) so the reconciler's
bound (a chain's whole span plus RECONCILE_AFTER_SECONDS) is under a minute, and it and the
renewals run every 10 s: a message lost with Redis comes back within the run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.payloads import SECRETS

STOREFRONT = "soak-internal-secret-0123456789abcdef"
ADMIN = "soak-admin-token-0123456789abcdefghijk"
CRON = "soak-cron-secret-0123"
RESEND_KEY = "re_soak_0123456789"
HIGH = "1000000/minute"
AUTH = {"Authorization": f"Bearer {STOREFRONT}"}  # the storefront's token, as the driver sends it


def environment(database_url: str, redis_url: str, resend_url: str, port: int, logs: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    for name in ("BROKER_URL", "DIRECT_URL", "SENTRY_DSN", "SLACK_WEBHOOK_URL", "STRIPE_API_KEY"):
        env.pop(name, None)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        APP_ENV="test",
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
        PORT=str(port),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_NAMESPACE="soak",
        INTERNAL_API_SECRET=STOREFRONT,
        ADMIN_API_TOKEN=ADMIN,
        CRON_SECRET=CRON,
        RESEND_API_KEY=RESEND_KEY,
        RESEND_API_URL=resend_url,
        ALERT_EMAIL="ops@example.com",
        STRIPE_WEBHOOK_SECRET=SECRETS["stripe"],
        PAYSTACK_SECRET_KEY=SECRETS["paystack"],
        RAZORPAY_WEBHOOK_SECRET=SECRETS["razorpay"],
        STANDARD_WEBHOOK_SECRET=SECRETS["standard"],
        JOB_MAX_RETRIES="6",
        JOB_MIN_BACKOFF_MS="250",
        JOB_MAX_BACKOFF_MS="2000",
        JOB_TIME_LIMIT_MS="4000",
        RECONCILE_AFTER_SECONDS="5",
        SCHEDULE_RECONCILE="10s",
        SCHEDULE_PREMIUM_RENEWALS="10s",
        SCHEDULE_STOCK_CLEANUP="30s",
        RESERVATION_TTL_SECONDS="600",
        PROMETHEUS_MULTIPROC_DIR=str(logs / "prometheus"),
        WEB_CONCURRENCY="2",
    )
    for bucket in ("STOREFRONT", "ADMIN", "CRON", "PUBLIC", "WEBHOOKS", "WEBHOOKS_INVALID"):
        env[f"RATE_LIMIT_{bucket}"] = HIGH
    (logs / "prometheus").mkdir(parents=True, exist_ok=True)
    return env
