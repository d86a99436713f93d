"""The email actor on a real worker against a local server speaking Resend's API."""

import uuid

import pytest
from sqlalchemy import text

from db.engine import transaction
from db.queries.outbox import add_email
from tests.support.waiting import wait_for
from worker.messages import send_email_message

pytestmark = pytest.mark.broker  # make test runs these on RabbitMQ too


def _queue(engine, key):
    with transaction(engine) as s:
        return add_email(
            s,
            key=key,
            template="payment_failed",
            to="ada@example.com",
            context={"checkout_id": "co-1", "reason": "card declined"},
        )


def _row(engine, outbox_id):
    with transaction(engine) as s:
        return s.execute(text("SELECT * FROM email_outbox WHERE id = :id"), {"id": outbox_id}).one()


def test_an_outbox_row_is_sent_once_with_its_idempotency_key(engine, broker, worker, resend_server, settings):
    key = f"test/{uuid.uuid4().hex}"
    outbox_id = _queue(engine, key)
    assert _queue(engine, key) is None  # the same decision twice is one row
    send_email_message(broker, outbox_id)
    send_email_message(broker, outbox_id)  # a redelivery
    row = wait_for(lambda: (r := _row(engine, outbox_id)).state == "sent" and r, what="email sent")
    received = [e for e in resend_server.emails if e.idempotency_key == key]
    assert len(received) == 1
    assert received[0].headers["authorization"] == f"Bearer {settings.resend_api_key.get_secret_value()}"
    assert row.provider_message_id == received[0].id
    assert "card declined" in received[0].body["text"]


def test_a_5xx_is_retried_until_it_goes_through(engine, broker, worker, resend_server):
    key = f"test/{uuid.uuid4().hex}"
    outbox_id = _queue(engine, key)
    resend_server.fail_key(key, 1, status=503)
    send_email_message(broker, outbox_id)
    row = wait_for(
        lambda: (r := _row(engine, outbox_id)).state == "sent" and r, timeout=30, what="retried send"
    )
    assert row.attempts == 2
    assert len([e for e in resend_server.emails if e.idempotency_key == key]) == 1


def test_a_4xx_fails_at_once_and_marks_the_row_failed(engine, broker, worker, resend_server):
    key = f"test/{uuid.uuid4().hex}"
    outbox_id = _queue(engine, key)
    resend_server.fail_key(key, 1, status=422)
    send_email_message(broker, outbox_id)
    row = wait_for(lambda: (r := _row(engine, outbox_id)).state == "failed" and r, what="failed email")
    assert row.attempts == 1 and row.last_error
    assert not [e for e in resend_server.emails if e.idempotency_key == key]


def test_an_email_that_cannot_render_fails_once_and_is_not_retried(engine, broker, worker, resend_server):
    key = f"test/{uuid.uuid4().hex}"
    with transaction(engine) as s:
        outbox_id = add_email(s, key=key, template="payment_failed", to="ada@example.com", context={})
    send_email_message(broker, outbox_id)
    row = wait_for(lambda: (r := _row(engine, outbox_id)).state == "failed" and r, what="failed render")
    assert row.attempts == 1 and "checkout_id" in row.last_error
