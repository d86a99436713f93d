"""send_email against a real local server speaking Resend's API: ids, idempotency, error sorting."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import resend
from structlog.testing import capture_logs

from core.email.client import EmailRejected, ProviderKeyRejected, TransientEmailError, send_email
from core.errors import PermanentError
from core.settings import Settings
from tests.support.resend_server import ResendServer
from tests.support.waiting import wait_for

KEY = "re_test_123"
EMAIL = {"to": "ada@example.com", "subject": "Your order", "html": "<p>Hi</p>", "text": "Hi"}


def make_settings(**overrides: object) -> Settings:
    values = {"app_env": "test", "database_url": "postgresql://u@h/db", "redis_url": "redis://h/0"}
    values |= {"resend_api_key": KEY, "email_from": "Shop <shop@example.com>"}
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg, arg-type]


@pytest.fixture
def server() -> Iterator[ResendServer]:
    with ResendServer(api_key=KEY) as server:
        yield server


def send(url: str | None, key: str = "order-confirmation/1", **overrides: object) -> str:
    """send_email of EMAIL to `url`; `settings=` and send_email's keywords override."""
    settings = overrides.pop("settings", None) or make_settings()
    values = {**EMAIL, "idempotency_key": key, "api_url": url, **overrides}
    return send_email(settings, **values)  # type: ignore[arg-type]


def test_success_returns_the_id_and_sends_key_and_bearer(server):
    message_id = send(server.url)
    [email] = server.emails
    assert message_id == email.id
    assert email.idempotency_key == "order-confirmation/1"
    assert email.headers["authorization"] == f"Bearer {KEY}"
    assert email.body == {"from": "Shop <shop@example.com>", **EMAIL}


def test_a_repeat_with_the_same_key_sends_nothing_new(server):
    first = send(server.url)
    assert send(server.url) == first
    assert send(server.url, key="order-confirmation/2") != first
    assert [e.idempotency_key for e in server.emails] == ["order-confirmation/1", "order-confirmation/2"]


def test_the_environment_variable_points_the_sdk_at_the_server(server, monkeypatch):
    monkeypatch.setenv("RESEND_API_URL", server.url)
    message_id = send(None)
    assert [e.id for e in server.emails] == [message_id]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_rate_limits_are_transient(server, status):
    server.fail_next(1, status=status)
    with pytest.raises(TransientEmailError) as caught:
        send(server.url)
    assert caught.value.status == status and not isinstance(caught.value, PermanentError)
    assert caught.value.retry_after == (1.0 if status == 429 else None)
    assert server.emails == []
    assert send(server.url) == server.emails[0].id  # the retry goes through with the same key


@pytest.mark.parametrize("status", [422, 400])
def test_other_client_errors_are_permanent(server, status):
    server.fail_next(1, status=status)
    with pytest.raises(EmailRejected) as caught:
        send(server.url)
    assert isinstance(caught.value, PermanentError) and caught.value.status == status
    assert "scripted failure" in str(caught.value) and server.emails == []


def test_a_wrong_api_key_is_transient_and_a_reused_key_with_another_body_is_rejected(server):
    with pytest.raises(ProviderKeyRejected, match="invalid_api_key") as caught:  # our fault: retried
        send(server.url, settings=make_settings(resend_api_key="re_wrong"))
    assert caught.value.status == 403 and not isinstance(caught.value, PermanentError)
    send(server.url)
    with pytest.raises(EmailRejected, match="invalid_idempotent_request"):
        send(server.url, subject="Another subject")
    assert len(server.emails) == 1


def test_a_timeout_is_transient_and_the_retry_gets_the_first_id(server):
    server.delay_next(1, seconds=1.0)
    with pytest.raises(TransientEmailError, match="unreachable"):
        send(server.url, timeout=0.2)
    [email] = wait_for(lambda: server.emails, timeout=5, what="the slow email to be accepted")
    assert send(server.url) == email.id and len(server.emails) == 1


def test_a_concurrent_request_with_the_same_key_is_transient(server):
    server.delay_next(1, seconds=0.5)
    first = threading.Thread(target=send, args=(server.url,))
    first.start()
    wait_for(lambda: server.request_count == 1, timeout=5, what="the first request to arrive")
    with pytest.raises(TransientEmailError, match="concurrent_idempotent_requests") as caught:
        send(server.url)
    assert caught.value.status == 409
    first.join(timeout=5)
    assert len(server.emails) == 1 and send(server.url) == server.emails[0].id


def test_a_connection_error_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientEmailError, match="unreachable"):
        send(f"http://127.0.0.1:{port}")


def test_concurrent_calls_each_use_their_own_url_and_key_and_leave_the_sdk_globals_alone():
    sdk_globals = (resend.api_key, resend.api_url)
    with ResendServer(api_key="re_a") as a, ResendServer(api_key="re_b") as b:
        a.delay_next(1, seconds=0.3)  # a's call is still running while b's is made
        calls = [(a, "re_a"), (b, "re_b")]
        with ThreadPoolExecutor(2) as pool:  # map re-raises any failure in a thread
            list(pool.map(lambda c: send(c[0].url, c[1], settings=make_settings(resend_api_key=c[1])), calls))
        for s, key in calls:
            sent = [(e.headers["authorization"], e.idempotency_key) for e in s.emails]
            assert sent == [(f"Bearer {key}", key)]
    assert (resend.api_key, resend.api_url) == sdk_globals


@pytest.mark.parametrize("api_key", [None, ""])
def test_development_mode_logs_and_sends_nothing(server, monkeypatch, api_key):
    monkeypatch.setenv("RESEND_API_URL", server.url)
    with capture_logs() as logs:
        message_id = send(server.url, settings=make_settings(app_env="development", resend_api_key=api_key))
    assert message_id == "logged-order-confirmation/1"
    assert server.emails == [] and server.request_count == 0
    [entry] = [log for log in logs if log["event"] == "email.logged"]
    assert entry["to"] == "ada@example.com" and entry["subject"] == "Your order"
    assert entry["idempotency_key"] == "order-confirmation/1"
    assert "html" not in entry and "text" not in entry
