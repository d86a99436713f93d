"""Shared fixtures: one database and one Redis namespace per test process (xdist worker)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import falcon.testing
import pytest
from sqlalchemy import Engine

from core.settings import Settings
from tests.support.clock import FakeClock
from tests.support.payloads import SECRETS
from tests.support.resend_server import ResendServer
from tests.support.servers import Servers, create_database, drop_database, find_servers
from tests.support.stripe_server import LocalStripe
from tests.support.test_broker import broker_settings, on_rabbitmq, rabbitmq_unreachable

STOREFRONT = "test-internal-secret-0123456789abcdef"
ADMIN = "test-admin-token-0123456789abcdefghij"
CRON = "test-cron-secret-0123"
RESEND_KEY = "re_test_backroom_0123"


@pytest.fixture(scope="session")
def servers() -> Servers:
    return find_servers()


@pytest.fixture(scope="session")
def resend_server() -> Iterator[ResendServer]:
    """A local HTTP server speaking Resend's API; the session's settings point at it."""
    with ResendServer(api_key=RESEND_KEY) as server:
        yield server


@pytest.fixture(scope="session")
def database(servers: Servers) -> Iterator[str]:
    from db.engine import make_engine
    from db.migrate import upgrade

    name, url = create_database(servers.postgres_admin_url)
    engine = make_engine(make_settings(url, servers.redis_url))
    upgrade(engine)
    engine.dispose()
    yield url
    drop_database(servers.postgres_admin_url, name)


def pytest_report_header(config: pytest.Config) -> str:
    if not on_rabbitmq():
        return "broker: redis"
    reason = rabbitmq_unreachable()
    return "broker: rabbitmq" + (f" -- NOT ANSWERING, RabbitMQ pass skipped: {reason}" if reason else "")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI the RabbitMQ pass fails at once, saying why, when RabbitMQ does not answer (on
    the controller: a UsageError in an xdist worker would hide the reason)."""
    if hasattr(session.config, "workerinput") or not on_rabbitmq():
        return
    if os.environ.get("CI", "").lower() in ("true", "1") and (reason := rabbitmq_unreachable()):
        pytest.exit(f"TEST_BROKER=rabbitmq under CI: {reason}", returncode=4)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The RabbitMQ pass needs RabbitMQ: without it, skip with a notice; under CI, fail."""
    if not on_rabbitmq() or not items or (reason := rabbitmq_unreachable()) is None:
        return
    if os.environ.get("CI", "").lower() in ("true", "1"):
        raise pytest.UsageError(f"TEST_BROKER=rabbitmq under CI: {reason}")
    skip = pytest.mark.skip(reason=f"RabbitMQ pass skipped: {reason}")
    for item in items:
        item.add_marker(skip)


def make_settings(database_url: str, redis_url: str, **overrides: Any) -> Settings:
    """Test settings on a Redis namespace of their own (and, on the RabbitMQ pass, a RabbitMQ
    queue-name prefix of their own)."""
    namespace = f"brtest-{uuid.uuid4().hex[:8]}"
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "redis_url": redis_url,
        "redis_namespace": namespace,
        **broker_settings(namespace),
        "internal_api_secret": STOREFRONT,
        "admin_api_token": ADMIN,
        "cron_secret": CRON,
        "rate_limit_storefront": "100000/minute",
        "rate_limit_admin": "100000/minute",
        "rate_limit_cron": "100000/minute",
        "rate_limit_public": "100000/minute",
        "rate_limit_webhooks": "100000/minute",
        "rate_limit_webhooks_invalid": "100000/minute",
        "log_level": "WARNING",
        "stripe_webhook_secret": SECRETS["stripe"],
        "paystack_secret_key": SECRETS["paystack"],
        "razorpay_webhook_secret": SECRETS["razorpay"],
        "standard_webhook_secret": SECRETS["standard"],
        "alert_email": "ops@example.com",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def settings(database: str, servers: Servers, resend_server: ResendServer) -> Settings:
    return make_settings(
        database, servers.redis_url, resend_api_key=RESEND_KEY, resend_api_url=resend_server.url
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    from db.engine import make_engine

    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(settings: Settings, engine: Engine, clock: FakeClock) -> falcon.testing.TestClient:
    from api.app import create_app

    return falcon.testing.TestClient(create_app(settings, engine=engine, now=clock))


@pytest.fixture
def sku() -> str:
    return f"sku-{uuid.uuid4().hex[:12]}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session", autouse=True)
def _background_logs_to_stderr() -> None:
    """Before any test configures logging, structlog prints to stdout; the session's worker threads
    then log into whatever a CLI test is capturing as the command's output. Send them to the
    process's real stderr instead (never closed, unlike a test's capture)."""
    import sys

    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.__stderr__))


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Tests that call configure_logging point the root handler at pytest's captured stderr;
    put it back so background worker threads never write to a closed capture stream."""
    import logging

    import structlog

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """A localstripe process of this test process's own (a fake Stripe API): point STRIPE_API_BASE
    at `.url` and STRIPE_API_KEY at `.api_key`. Tests share it and isolate by their own customers."""
    server = LocalStripe(tmp_path_factory.mktemp("localstripe")).start()
    yield server
    server.stop()
