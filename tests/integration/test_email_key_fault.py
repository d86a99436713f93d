"""A Resend key fault (401/403) is ours to fix, not the email's: retried, logged as such, replayable."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from core.email.client import ProviderKeyRejected, send_email
from core.errors import PermanentError
from db.engine import transaction
from db.queries.outbox import add_email
from tests.conftest import RESEND_KEY, make_settings
from tests.support.dead_letters import dead_letter_service
from tests.support.resend_server import ResendServer
from tests.support.waiting import wait_for
from worker.messages import send_email_message

WRONG_KEY = "re_rotated_away_4567"


def queue_email(engine, key: str) -> int:
    with transaction(engine) as s:
        outbox_id = add_email(
            s,
            key=key,
            template="payment_failed",
            to="ada@example.com",
            context={"checkout_id": "co-1", "reason": "card declined"},
        )
    assert outbox_id is not None
    return outbox_id


def row(engine, outbox_id: int):
    with transaction(engine) as s:
        return s.execute(text("SELECT * FROM email_outbox WHERE id = :id"), {"id": outbox_id}).one()


def sent_with(server: ResendServer, key: str) -> list:
    return [e for e in server.emails if e.idempotency_key == key]


@pytest.mark.parametrize(("api_key", "status"), [(WRONG_KEY, 403), (RESEND_KEY, 401)])
def test_a_refused_key_is_a_logged_configuration_fault_without_the_key(settings, api_key, status):
    with ResendServer(api_key=RESEND_KEY) as server:
        if status == 401:
            server.fail_next(1, status=401)  # Resend's answer when the key is missing or restricted
        own = make_settings(
            settings.database_url, settings.redis_url, resend_api_key=api_key, resend_api_url=server.url
        )
        with capture_logs() as logs, pytest.raises(ProviderKeyRejected) as caught:
            send_email(
                own, to="ada@example.com", subject="Hi", html="<p>Hi</p>", text="Hi", idempotency_key="k/1"
            )
    assert caught.value.status == status and not isinstance(caught.value, PermanentError)
    [entry] = [line for line in logs if line["event"] == "email.provider_rejected_key"]
    assert entry["status"] == status and entry["fault"] == "configuration" and entry["log_level"] == "error"
    assert entry["idempotency_key"] == "k/1"
    for secret in (api_key, RESEND_KEY, WRONG_KEY):
        assert secret not in repr(logs) and secret not in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_retried_and_delivered_once_the_key_is_right(
    engine, broker, worker, resend_server, status
):
    key = f"test/{uuid.uuid4().hex}"
    outbox_id = queue_email(engine, key)
    resend_server.fail_key(key, 1, status=status)  # the key was rotated; the next attempt has the new one
    send_email_message(broker, outbox_id)
    sent = wait_for(
        lambda: (r := row(engine, outbox_id)).state == "sent" and r, timeout=30, what="retried send"
    )
    assert sent.attempts == 2
    assert len(sent_with(resend_server, key)) == 1


def dead_letter_id(engine, outbox_id: int) -> int | None:
    with transaction(engine) as s:
        return s.execute(
            text(
                "SELECT id FROM dead_letter WHERE actor = 'email.send' AND args = jsonb_build_array(:id) "
                "AND state = 'dead' ORDER BY id DESC LIMIT 1"
            ),
            {"id": outbox_id},
        ).scalar_one_or_none()


def test_replaying_the_dead_letter_of_a_failed_email_sends_it_once(engine, broker, worker, resend_server):
    key = f"test/{uuid.uuid4().hex}"
    outbox_id = queue_email(engine, key)
    resend_server.fail_key(key, 1, status=422)  # refused for good: the row is failed, the message dead
    send_email_message(broker, outbox_id)
    entry = wait_for(lambda: dead_letter_id(engine, outbox_id), timeout=30, what="the email's dead letter")
    assert (
        entry is not None and row(engine, outbox_id).state == "failed" and not sent_with(resend_server, key)
    )

    dead_letter_service(engine, broker).replay(
        entry, by="oncall@example.com", reason="sender domain verified"
    )

    sent = wait_for(
        lambda: (r := row(engine, outbox_id)).state == "sent" and r, timeout=30, what="replayed send"
    )
    [email] = sent_with(resend_server, key)
    assert sent.provider_message_id == email.id and sent.attempts == 2
