"""Integration fixtures: the session's broker with every actor declared on it, and a real worker."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dramatiq
import pytest
from sqlalchemy import text

from core.settings import Settings
from db.engine import transaction
from tests.support import factories
from tests.support.payloads import body, signed
from tests.support.waiting import wait_for

H = factories.H


@pytest.fixture(scope="session")
def broker(settings: Settings) -> dramatiq.Broker:
    """Actor modules are imported once per process, after this broker became the global one."""
    from jobs import ACTOR_MODULES
    from worker.broker import setup_broker

    broker = setup_broker(settings)
    for name in ACTOR_MODULES:
        if name in sys.modules:  # bind to this broker even if something imported it earlier
            importlib.reload(sys.modules[name])
        else:
            importlib.import_module(name)
    return broker


@pytest.fixture(scope="session")
def worker(broker: dramatiq.Broker) -> Iterator[dramatiq.Worker]:
    """A real Dramatiq worker consuming the session's queues (Redis, or RabbitMQ on its pass),
    started once per process."""
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop(timeout=10_000)


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """Run `backroom ...` in-process against the session's database and Redis: (exit code, output)."""
    from cli.main import main

    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_NAMESPACE": settings.redis_namespace,
        "LOG_LEVEL": "WARNING",
    }
    if settings.broker_url:  # the RabbitMQ pass
        env |= {
            "BROKER_URL": settings.broker_url,
            "BROKER_QUEUE_PREFIX": settings.broker_queue_prefix,
            "BROKER_QUEUE_TYPE": settings.broker_queue_type,
            # The same queue arguments as the session's broker, or RabbitMQ refuses the declare.
            "BROKER_QUEUE_EXPIRES_SECONDS": str(settings.broker_queue_expires_seconds),
        }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir("/")  # no .env

    def run(*argv):
        code = main(list(argv))
        return code, capsys.readouterr()

    return run


@pytest.fixture
def shop(client, engine, worker, resend_server):
    """A storefront and payment providers driving the real API and worker, with helpers to wait."""

    class Shop:
        def reserve(self, sku, qty=1, checkout=None):
            checkout = checkout or factories.new_checkout_id()
            answer = factories.reserve(client, checkout, [(sku, qty)], email="ada@example.com")
            assert answer.status_code == 201, answer.json
            return checkout

        def product(self, stock, price=100, currency=None):
            sku = factories.new_sku()
            return factories.put_product(
                client, stock, price=price, currency=currency, sku=sku, name=f"Item {sku}"
            )

        def post(self, provider, kind, checkout, payment=None, event_id=None, duplicate=False, **extra):
            """Sign and post one event; `duplicate=True` expects the API to know it already."""
            payment = payment or f"pay-{checkout}"
            payload = body(
                provider, kind, checkout_id=checkout, payment_id=payment, event_id=event_id, **extra
            )
            raw, headers = signed(provider, payload, event_id=event_id if not duplicate else None)
            answer = client.simulate_post(f"/v1/webhooks/{provider}", body=raw, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json["duplicate"] is duplicate, answer.json
            return raw, headers

        def settled(self, checkout_or_payment):
            def done():
                with transaction(engine) as s:
                    rows = s.execute(
                        text("SELECT state, note FROM webhook_event WHERE payload::text LIKE :m ORDER BY id"),
                        {"m": f"%{checkout_or_payment}%"},
                    ).all()
                return rows if rows and all(r.state != "received" for r in rows) else None

            return wait_for(done, what=f"events for {checkout_or_payment} to settle")

        def stock(self, sku):
            return factories.product(client, sku)

        def order(self, checkout):
            return client.simulate_get(f"/v1/checkouts/{checkout}/order", headers=H)

        def emails(self, key_prefix):
            return [e for e in resend_server.emails if (e.idempotency_key or "").startswith(key_prefix)]

        def expire(self, checkout):
            with transaction(engine) as s:
                s.execute(
                    text("UPDATE reservation SET expires_at = :t WHERE checkout_id = :c"),
                    {"t": datetime.now(UTC) - timedelta(seconds=1), "c": checkout},
                )

    return Shop()
