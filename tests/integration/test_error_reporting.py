"""SENTRY_DSN: a real web process and a real worker report their unhandled errors to a local server
speaking Sentry's envelope endpoint, tagged and scrubbed: what arrives, and what does not."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
import requests
from pydantic import SecretStr

from core.settings import Settings
from tests.support.sentry_server import SentryServer
from tests.support.waiting import wait_for
from tests.support.worker_process import ROOT, settings_env, worker_process
from worker.broker import build_broker


@pytest.fixture
def sentry() -> Iterator[SentryServer]:
    with SentryServer() as server:
        yield server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _reporting(settings: Settings, sentry: SentryServer, **updates: object) -> tuple[Settings, str]:
    """Settings of a process reporting to `sentry`, with a secret of this test's own."""
    secret = f"sentry-planted-secret-{uuid.uuid4().hex}"
    release = f"rel-{uuid.uuid4().hex[:10]}"
    values = {
        "sentry_dsn": SecretStr(sentry.dsn),
        "release": release,
        "internal_api_secret": SecretStr(secret),
    }
    return settings.model_copy(update=values | updates), secret


def _events(sentry: SentryServer, count: int = 1) -> list[dict]:
    return wait_for(lambda: sentry.events if len(sentry.events) >= count else [], timeout=30, what="events")


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port that refuses connections for the whole test: bound, never listening, so no other
    test's server can take it between choosing it and using it (a hang instead of a refusal)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def test_an_api_error_arrives_tagged_without_header_secret_or_body(settings, sentry, tmp_path, refused_port):
    db_password = f"dbpass{uuid.uuid4().hex}"
    dead_db = f"postgresql://backroom:{db_password}@127.0.0.1:{refused_port}/backroom"
    web, secret = _reporting(settings, sentry, database_url=dead_db)
    port = _free_port()
    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "api.app:get_app()", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=settings_env(web),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: process.poll() is not None or _answers(base), timeout=60, what="gunicorn")
        assert process.poll() is None, log_path.read_text()[-3000:]
        body = {"items": [{"sku": "BODY-MARKER-SKU", "quantity": 1}], "email": "shopper.one@example.com"}
        reply = requests.put(
            f"{base}/v1/carts/cart-sentry-1",
            json=body,
            headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "req-sentry-1"},
            timeout=30,
        )
        assert reply.status_code >= 500, reply.text
        (event,) = _events(sentry)
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert event["environment"] == "test"
    assert event["release"] == web.release
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["tags"]["process"] == "web"
    assert event["request"]["method"] == "PUT"
    assert "data" not in event["request"]
    assert secret not in json.dumps(event["request"]["headers"])
    sent = sentry.received().decode()
    for never in (secret, db_password, "shopper.one@example.com", "BODY-MARKER-SKU"):
        assert never not in sent


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/health", timeout=2).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        # Refused, or accepted by gunicorn's master while a loaded machine is still booting the
        # worker (a read timeout): either way not answering yet.
        return False


def test_a_failing_actor_arrives_with_message_id_actor_and_queue_and_no_args(settings, sentry, tmp_path):
    worker_settings, secret = _reporting(
        settings, sentry, redis_namespace=f"brsentry-{uuid.uuid4().hex[:8]}", job_max_retries=0
    )
    broker = build_broker(worker_settings)
    broker.declare_queue("email")
    # email.send takes an outbox id: an email address as its argument and a keyword named like the
    # secret make it fail with the secret in the exception's message.
    message: dramatiq.Message = dramatiq.Message(
        queue_name="email",
        actor_name="email.send",
        args=("shopper.two@example.com",),
        kwargs={secret: 1},
        options={},
    )
    with worker_process(worker_settings, ["email"], tmp_path / "worker.log"):
        broker.enqueue(message)
        (event,) = _events(sentry)
    broker.close()
    assert (
        event["tags"].items()
        >= {"message_id": message.message_id, "actor": "email.send", "queue": "email"}.items()
    )
    assert event["tags"]["process"] == "worker"
    assert event["environment"] == "test" and event["release"] == worker_settings.release
    (error,) = event["exception"]["values"]
    assert error["type"] == "TypeError" and "***" in error["value"]  # the planted secret, masked
    sent = sentry.received().decode()
    assert secret not in sent
    assert "shopper.two@example.com" not in sent
