"""A job that dies in a real worker process lands in the ledger; replayed through the web process,
it runs once (on Redis, and again on RabbitMQ in make test's broker pass)."""

import uuid

import pytest
import requests
from sqlalchemy import text

from db.engine import transaction
from db.queries.outbox import add_email
from tests.conftest import ADMIN, RESEND_KEY, auth, make_settings
from tests.e2e.conftest import free_port, process_env, wait_http
from tests.support.test_broker import on_rabbitmq
from tests.support.waiting import wait_for
from worker.broker import build_broker
from worker.messages import send_email_message

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def _outbox(engine, outbox_id):
    with transaction(engine) as s:
        return s.execute(
            text("SELECT state, attempts FROM email_outbox WHERE id = :i"), {"i": outbox_id}
        ).one()


def _dead_letter(engine, message_id):
    with transaction(engine) as s:
        return s.execute(
            text("SELECT id, state, exception_type FROM dead_letter WHERE message_id = :m"), {"m": message_id}
        ).one_or_none()


def test_an_email_refused_by_the_provider_is_dead_lettered_then_replayed_and_sent_once(
    settings, engine, start_process, resend_server
):
    # Queues of this test's own: no session worker of this pytest process consumes them.
    own = make_settings(
        settings.database_url, settings.redis_url, resend_api_key=RESEND_KEY, resend_api_url=resend_server.url
    )
    assert own.broker_kind() == ("rabbitmq" if on_rabbitmq() else "redis")
    env = process_env(own, PORT=str(free_port()), WEB_CONCURRENCY="1")
    web = start_process("web", env)
    start_process("worker-email", env)
    base = f"http://127.0.0.1:{env['PORT']}"
    wait_http(f"{base}/ready", web)

    key = f"e2e/{uuid.uuid4().hex}"
    with transaction(engine) as s:
        outbox_id = add_email(
            s,
            key=key,
            template="payment_failed",
            to="ada@example.com",
            context={"checkout_id": "co-e2e", "reason": "card declined"},
        )
    resend_server.fail_key(key, 1, status=422)  # the provider refuses it once: a permanent failure
    broker = build_broker(own)
    try:
        message = send_email_message(broker, outbox_id)
    finally:
        broker.close()

    dead = wait_for(lambda: _dead_letter(engine, message.message_id), timeout=60, what="the dead letter")
    assert dead.state == "dead" and dead.exception_type == "core.email.client.EmailRejected"
    assert _outbox(engine, outbox_id).state == "failed"

    answer = requests.post(
        f"{base}/v1/admin/dead-letters/{dead.id}/replay",
        headers={**auth(ADMIN), "X-Operator": "oncall@example.com"},
        json={"reason": "provider fixed"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    wait_for(lambda: _outbox(engine, outbox_id).state == "sent", timeout=60, what="the replayed email sent")
    assert len([e for e in resend_server.emails if e.idempotency_key == key]) == 1
    assert _dead_letter(engine, message.message_id).state == "replayed"
