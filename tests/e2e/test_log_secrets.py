"""No secret, URL password, message body or whole customer address in a real worker's output.

The Procfile's `worker-email` line runs with every secret setting given a value found nowhere
else, in both log formats, and meets real failures: a database on a closed port, a Resend 503
and a Resend 401. Its whole stderr (our lines, Dramatiq's own, tracebacks) is then searched.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import Popen
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import Engine, text

from core.settings import Settings
from db.engine import transaction
from db.queries.outbox import add_email
from tests.e2e.conftest import free_port, process_env, wait_http
from tests.support.resend_server import ResendServer
from tests.support.waiting import wait_for
from worker.broker import build_broker
from worker.messages import send_email_message

DB_PASSWORD = f"S3cretDbPass{secrets.token_hex(4)}"
DOWN_DATABASE_URL = f"postgresql://backroom:{DB_PASSWORD}@127.0.0.1:1/x"
BODY = f"body-marker-{secrets.token_hex(6)}"  # the failure reason, printed in the email's body


def secret_settings() -> dict[str, str]:
    """A distinctive value for every SecretStr setting (each is searched for in the output)."""
    tag = secrets.token_hex(8)
    standard = base64.b64encode(f"standard-{tag}".encode()).decode()
    return {
        "INTERNAL_API_SECRET": f"internal-api-secret-{tag}-0123456789",
        "ADMIN_API_TOKEN": f"admin-api-token-{tag}-0123456789abc",
        "CRON_SECRET": f"cron-secret-{tag}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_stripe{tag}",
        "PAYSTACK_SECRET_KEY": f"sk_test_paystack{tag}",
        "RAZORPAY_WEBHOOK_SECRET": f"razorpay-secret-{tag}",
        "STANDARD_WEBHOOK_SECRET": f"whsec_{standard}",
        "RESEND_API_KEY": f"re_live_{tag}",
        "SENTRY_DSN": f"https://sentrykey{tag}@o1.ingest.example.com/1",
        "METRICS_TOKEN": f"metrics-token-{tag}",
    }


def log_of(process: Popen[bytes]) -> str:
    """Everything the process wrote so far (start_process sends stdout and stderr to one file)."""
    path: Path = getattr(process, "log_path")  # noqa: B009 (set by the start_process fixture)
    return path.read_text()


def start_worker(start_process: Callable[..., Popen[bytes]], env: dict[str, str]) -> Popen[bytes]:
    worker = start_process("worker-email", env)
    wait_for(lambda: "process.start" in log_of(worker), timeout=60, what="worker boot")
    return worker


def stop(worker: Popen[bytes]) -> str:
    """SIGTERM (as a platform stops it), then the whole output."""
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=30)
    return log_of(worker)


def assert_clean(output: str, forbidden: dict[str, str]) -> None:
    for name, value in forbidden.items():
        leaks = [line[:300] for line in output.splitlines() if value in line]
        assert not leaks, f"{name} appears in the log: {leaks[:3]}"


def queue_email(engine: Engine, to: str) -> tuple[int, str]:
    key = f"logtest/{uuid.uuid4().hex}"
    context = {"checkout_id": f"co-{uuid.uuid4().hex[:8]}", "reason": BODY}
    with transaction(engine) as session:
        outbox_id = add_email(session, key=key, template="payment_failed", to=to, context=context)
    assert outbox_id is not None
    return outbox_id, key


def row(engine: Engine, outbox_id: int) -> Any:
    with transaction(engine) as session:
        return session.execute(text("SELECT * FROM email_outbox WHERE id = :id"), {"id": outbox_id}).one()


@pytest.fixture
def env_for(settings: Settings) -> Iterator[Callable[..., tuple[dict[str, str], dict[str, str], Settings]]]:
    """(process environment, its secrets, settings with the worker's Redis namespace)."""
    namespaces: list[str] = []

    def make(log_format: str, **extra: str) -> tuple[dict[str, str], dict[str, str], Settings]:
        values = secret_settings()
        namespace = f"brlog-{uuid.uuid4().hex[:8]}"  # no other worker consumes these messages
        namespaces.append(namespace)
        env = process_env(
            settings,
            **values,
            LOG_FORMAT=log_format,
            REDIS_NAMESPACE=namespace,
            JOB_MIN_BACKOFF_MS="100",
            JOB_MAX_BACKOFF_MS="500",
            **extra,
        )
        return env, values, settings.model_copy(update={"redis_namespace": namespace})

    yield make
    client = redis.Redis.from_url(settings.redis_url)
    for namespace in namespaces:  # a failed job's retry waits in Redis: leave nothing behind
        for key in client.scan_iter(match=f"{namespace}:*"):
            client.delete(key)


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_database_outage_logs_the_error_but_not_the_password(env_for, start_process, log_format):
    env, values, worker_settings = env_for(log_format, DATABASE_URL=DOWN_DATABASE_URL)
    worker = start_worker(start_process, env)
    message = send_email_message(build_broker(worker_settings), 424242)
    wait_for(
        lambda: message.message_id in log_of(worker) and "job.failed" in log_of(worker),
        timeout=60,
        what="the job to fail on the database",
    )
    output = stop(worker)
    assert_clean(output, {**values, "the database password": DB_PASSWORD})
    assert "Traceback (most recent call last)" in output and "OperationalError" in output
    assert "Failed to process message" in output  # Dramatiq's own (stdlib) line went through ours


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_request_during_a_database_outage_logs_no_password_and_no_token(env_for, start_process, log_format):
    port = free_port()
    env, values, _ = env_for(log_format, DATABASE_URL=DOWN_DATABASE_URL, PORT=str(port), WEB_CONCURRENCY="1")
    web = start_process("web", env)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/health", web)
    token = {"Authorization": f"Bearer {values['INTERNAL_API_SECRET']}"}
    answer = requests.get(f"{base}/v1/products/sku-logtest", headers=token, timeout=30)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    wait_for(lambda: "request.database_unavailable" in log_of(web), what="the 503 to be logged")
    output = stop(web)
    assert_clean(output, {**values, "the database password": DB_PASSWORD})
    assert "OperationalError" in output  # the driver error's name, and no statement or URL
    # gunicorn's own worker log goes through the same formatter (and scrubber) as ours.
    exiting = [line for line in output.splitlines() if "Worker exiting" in line]
    assert exiting and all("gunicorn.error" in line for line in exiting)


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_resend_failures_log_the_error_but_not_the_key_the_body_or_the_address(
    env_for, engine, start_process, log_format
):
    with ResendServer() as resend:
        env, values, worker_settings = env_for(log_format, RESEND_API_URL=resend.url)
        resend.api_key = values["RESEND_API_KEY"]  # the server accepts only the worker's key
        customer = f"zelda.{uuid.uuid4().hex[:8]}@example.com"
        retried, retried_key = queue_email(engine, customer)
        refused, refused_key = queue_email(engine, customer)
        resend.fail_key(retried_key, 1, status=503)
        resend.fail_key(refused_key, 1, status=401)
        worker = start_worker(start_process, env)
        broker = build_broker(worker_settings)
        send_email_message(broker, retried)
        refused_message = send_email_message(broker, refused)
        wait_for(
            lambda: row(engine, retried).state == "sent", timeout=60, what="the 503 to be retried and sent"
        )
        wait_for(
            lambda: any(
                "job.failed" in line and refused_message.message_id in line
                for line in log_of(worker).splitlines()
            ),
            timeout=60,
            what="the 401 to be logged",
        )
        wait_for(lambda: "email.sent" in log_of(worker), timeout=30, what="the sent line")
        output = stop(worker)
    # The secrets were really in play: the key went out in the Authorization header.
    assert resend.emails and resend.emails[0].headers["authorization"] == f"Bearer {values['RESEND_API_KEY']}"
    assert BODY in resend.emails[0].body["text"]
    assert_clean(output, {**values, "the email body": BODY, "the customer's address": customer})
    assert "z***@example.com" in output  # the address is logged, masked
    assert "Traceback (most recent call last)" in output and "TransientEmailError" in output
