"""What `core.error_reporting` lets into a Sentry event or breadcrumb, and its release."""

import json
import logging
import subprocess

from core.error_reporting import release, scrub_breadcrumb, scrub_event
from core.log_scrub import SecretScrubber, secret_values
from tests.unit.test_settings import settings

SECRET = "planted-secret-value-0123456789abcdef"


def _scrubber() -> SecretScrubber:
    return SecretScrubber(secret_values(settings(admin_api_token=SECRET)))


def test_an_event_loses_bodies_cookies_secrets_and_whole_emails():
    event = {
        "exception": {"values": [{"type": "RuntimeError", "value": f"boom {SECRET} for ann@example.com"}]},
        "request": {
            "headers": {
                "Authorization": f"Bearer {SECRET}",
                "Stripe-Signature": "t=1,v1=abc",
                "Accept": "*/*",
            },
            "data": {"email": "ann@example.com"},
            "cookies": {"session": "s"},
            "query_string": "token=abcdef123&page=2",
        },
        "contexts": {"dramatiq": {"type": "dramatiq", "data": {"args": ["ann@example.com"]}}},
        "extra": {"dsn_like": "https://k@o1.example.com/1", "url": "postgresql://u:hunter22@db/x"},
        "tags": {"request_id": "req-1"},
    }
    scrubbed = scrub_event(event, _scrubber())
    text = json.dumps(scrubbed)
    for never in (SECRET, "ann@example.com", "hunter22", "abcdef123", "v1=abc", '"session"'):
        assert never not in text
    assert scrubbed["exception"]["values"][0]["value"] == "boom *** for a***@example.com"
    assert "data" not in scrubbed["request"] and "data" not in scrubbed["contexts"]["dramatiq"]
    assert scrubbed["request"]["query_string"] == "token=***&page=2"
    assert scrubbed["request"]["headers"]["Accept"] == "*/*"
    assert scrubbed["tags"] == {"request_id": "req-1"}


def _record(name: str, msg: object, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args or None, None)


def test_dramatiq_lines_keep_their_template_not_the_message_arguments():
    record = _record(
        "dramatiq.worker.WorkerThread", "Failed to process message %s.", "email.send('ann@x.io')"
    )
    crumb = {"message": record.getMessage(), "data": {}}
    assert (
        scrub_breadcrumb(crumb, {"log_record": record}, _scrubber())["message"]
        == "Failed to process message %s."
    )


def test_structlog_lines_become_their_event_and_fields_without_the_traceback():
    fields = {
        "event": "job.failed",
        "error": f"bad {SECRET}",
        "exception": "Traceback ...",
        "message_id": "m1",
    }
    crumb = {"message": str(fields), "data": {}}
    scrubbed = scrub_breadcrumb(crumb, {"log_record": _record("backroom.worker", fields)}, _scrubber())
    assert scrubbed == {"message": "job.failed", "data": {"error": "bad ***", "message_id": "m1"}}


def test_release_is_release_when_set_else_the_git_revision():
    assert release(settings(release="v1.2.3")) == "v1.2.3"
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    assert release(settings()) == (head.stdout.strip() or None)  # this checkout's, or none without git
