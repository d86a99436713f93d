import json
import logging
import os
import subprocess
import sys
import threading

import pytest
import structlog

from core.log_scrub import MASK, SecretScrubber, mask_emails, secret_values
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


# Secrets and personal data (issue 7): values nowhere else in these tests, so a hit is a leak.
RESEND = "re_live_unit_0123456789"
DB_PASSWORD = "S3cretDbPass"
SECRET_URL = f"postgresql://backroom:{DB_PASSWORD}@127.0.0.1:1/x"


def leaky_settings(log_format):
    return settings(
        log_format=log_format,
        database_url=SECRET_URL,
        resend_api_key=RESEND,
        stripe_webhook_secret="whsec_old_rotated_one,whsec_new_current_one",
        metrics_token="tiny",  # too short to scrub by value; still masked by key
    )


@pytest.fixture(autouse=True)
def _keep_python_hooks(monkeypatch):
    """configure_logging may take over Python's crash hooks; give them back after each test."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)


def test_nested_values_are_masked_by_key_at_any_depth():
    event = redact(
        None,
        "info",
        {
            "event": "x",
            "request": {"headers": [{"Authorization": "Bearer abc"}], "body": {"card": "4242"}},
            "email": {"html": "<p>Hi</p>", "text": "Hi", "to": "ada@example.com", "subject": "S"},
            "customer_email": "bob@shop",
            "ids": (1, 2),
            "signature_valid": False,
        },
    )
    assert event["request"] == {"headers": [{"Authorization": MASK}], "body": MASK}
    assert event["email"] == {"html": MASK, "text": MASK, "to": "a***@example.com", "subject": "S"}
    assert event["customer_email"] == "b***@shop" and event["ids"] == [1, 2]
    assert event["signature_valid"] is False  # a flag under a secret-looking key says nothing


def test_emails_in_free_text_keep_first_letter_and_domain():
    line = "sent to Ada <ada.lovelace+shop@example.co.uk>, cc bob@example.com"
    assert mask_emails(line) == "sent to Ada <a***@example.co.uk>, cc b***@example.com"
    assert mask_emails(mask_emails(line)) == mask_emails(line)
    # A URL's user at an address is not an email; the dev DB URL stays readable.
    assert mask_emails("postgresql://postgres@127.0.0.1:5432/x") == "postgresql://postgres@127.0.0.1:5432/x"


def test_url_and_conninfo_passwords_are_masked_in_any_text():
    text = f'OperationalError: "POSTGRESQL://backroom:{DB_PASSWORD}@db/x" host=db password={DB_PASSWORD} x'
    masked = mask_url_password(text)
    assert DB_PASSWORD not in masked
    assert "POSTGRESQL://backroom:***@db/x" in masked and "password=***" in masked


def test_secret_values_cover_every_secret_setting_and_url_password():
    values = secret_values(leaky_settings("json"))
    assert {RESEND, DB_PASSWORD, "whsec_old_rotated_one", "whsec_new_current_one"} <= values
    assert "tiny" not in values  # shorter than MIN_SECRET_LENGTH
    for name in ("internal_api_secret", "admin_api_token", "cron_secret"):
        assert getattr(leaky_settings("json"), name).get_secret_value() in values


def test_the_scrubber_masks_escaped_forms_and_keeps_json_valid():
    secret = 'pa"ss\\word-1'
    scrub = SecretScrubber([secret]).scrub
    line = json.dumps({"event": f"failed with {secret}", "url": f"https://u:{secret}@h/"})
    assert json.loads(scrub(line)) == {"event": "failed with ***", "url": "https://u:***@h/"}


def _fail_with_secrets() -> None:
    api_key = "local-only-value-0001"  # a local variable: only a locals dump would print it
    html = "<p>local body for ada@example.com</p>"
    raise RuntimeError(f"connect {SECRET_URL} failed, key {RESEND}, to ada@example.com {len(api_key + html)}")


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_tracebacks_have_no_locals_and_no_secrets_on_both_paths(capsys, log_format):
    configure_logging(leaky_settings(log_format))
    try:
        _fail_with_secrets()
    except RuntimeError:
        structlog.get_logger("backroom.jobs").exception("job.crashed", url=SECRET_URL)
        # Dramatiq's own line: a stdlib record with exc_info, through the foreign pre-chain.
        logging.getLogger("dramatiq.worker").error(
            "Failed to process message %s", "email.send(1)", exc_info=True
        )
    output = capsys.readouterr().err
    for leak in (RESEND, DB_PASSWORD, "local-only-value-0001", "local body", "ada@example.com"):
        assert leak not in output
    assert output.count("RuntimeError: connect postgresql://backroom:***@127.0.0.1:1/x failed, key ***") == 2
    assert "Traceback (most recent call last)" in output and "a***@example.com" in output
    if log_format == "json":
        lines = [json.loads(line) for line in output.strip().splitlines()]
        assert [line["event"] for line in lines] == ["job.crashed", "Failed to process message email.send(1)"]
        assert all("RuntimeError" in line["exception"] for line in lines)


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_crashing_process_prints_its_traceback_through_the_scrubber(tmp_path, log_format):
    code = (
        "from core.logging import configure_logging; from core.settings import load_settings\n"
        "configure_logging(load_settings())\n"
        f"raise ConnectionError('cannot reach {SECRET_URL} with {RESEND} for ada@example.com')\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LOG_FORMAT": log_format,
        "DATABASE_URL": SECRET_URL,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "RESEND_API_KEY": RESEND,
    }
    run = [sys.executable, "-c", code]  # in tmp_path: no .env of the checkout
    done = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    for leak in (RESEND, DB_PASSWORD, "ada@example.com"):
        assert leak not in done.stderr
    assert "process.uncaught_exception" in done.stderr and "ConnectionError: cannot reach" in done.stderr


class _CountedDict(dict):
    """A field whose every inspection by a processor (`redact` walks dicts) is counted."""

    looked_at = 0

    def items(self):
        _CountedDict.looked_at += 1
        return super().items()


def test_a_line_below_the_level_is_dropped_before_any_processor_runs(capsys):
    configure_logging(settings(log_format="json", log_level="INFO"))
    field = _CountedDict(detail="x")
    structlog.get_logger("backroom.t").debug("quiet", field=field)
    assert _CountedDict.looked_at == 0 and capsys.readouterr().err == ""
    structlog.get_logger("backroom.t").info("loud", field=field)
    assert _CountedDict.looked_at == 1 and json.loads(capsys.readouterr().err)["field"] == {"detail": "x"}
