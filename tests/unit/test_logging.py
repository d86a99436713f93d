import json
import logging

import structlog

from core.logging import configure_logging, mask_url_password, redact
from tests.unit.test_settings import settings


def test_secret_keys_are_masked():
    event = redact(
        None, "info", {"event": "x", "admin_api_token": "abc", "authorization": "Bearer x", "n": 1}
    )
    assert event == {"event": "x", "admin_api_token": "***", "authorization": "***", "n": 1}


def test_url_passwords_are_masked():
    assert mask_url_password("postgresql://user:hunter2@db/x") == "postgresql://user:***@db/x"
    assert mask_url_password("redis://h:6379/0") == "redis://h:6379/0"


def test_json_lines_carry_bound_context_and_hide_secrets(capsys):
    configure_logging(settings(log_format="json", database_url="postgresql://u:pw@h/db"))
    structlog.contextvars.bind_contextvars(request_id="req-1")
    try:
        structlog.get_logger("t").info("hello", cron_secret="s3cret", url="postgresql://u:pw@h/db")
        logging.getLogger("stdlib").warning("from stdlib")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert lines[0]["request_id"] == "req-1" and lines[0]["event"] == "hello"
    assert lines[0]["cron_secret"] == "***" and "pw" not in lines[0]["url"]
    assert lines[1]["event"] == "from stdlib" and lines[1]["request_id"] == "req-1"


def test_production_warns_once_per_missing_service(capsys):
    from core.logging import announce

    prod = settings(
        app_env="production",
        log_format="json",
        internal_api_secret="i" * 32,
        admin_api_token="a" * 32,
        cron_secret="c" * 16,
    )
    configure_logging(prod)
    announce(prod, "web")
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    warnings = [line["detail"] for line in lines if line["event"] == "service.missing"]
    assert len(warnings) == 3
    assert [w.split()[0] for w in warnings] == ["RESEND_API_KEY", "AWS_S3_BUCKET", "SENTRY_DSN"]
