"""Error reporting: with SENTRY_DSN set, unhandled errors of the web, worker and scheduler processes
go to Sentry as well as to the logs, scrubbed by the logs' own rules.

`configure_error_reporting(settings, process)` is called by each composition root after
`configure_logging` (so Sentry's excepthook wraps ours, not Python's raw printer) and before the
worker's broker is built (the Dramatiq integration adds its middleware when a broker is made).
An event never carries a request or message body (`max_request_body_size="never"`), local
variables, cookies, a secret's value, a password or a whole email address: `scrub_event` masks
them by key and by value, exactly as `core.log_scrub` does for a log line.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import sentry_sdk
from sentry_sdk.integrations.dramatiq import DramatiqIntegration
from sentry_sdk.integrations.falcon import FalconIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from core.log_scrub import MASK, SecretScrubber, redact, secret_values
from core.settings import Settings

_ROOT = Path(__file__).resolve().parents[1]
_MAX_DEPTH = 12
_LOG_META = {"event", "exception", "exc_info", "level", "logger", "timestamp", "_record", "_from_structlog"}


def configure_error_reporting(settings: Settings, process: str) -> bool:
    """Start the Sentry client when SENTRY_DSN is set; False (and nothing started) when it is not."""
    if settings.sentry_dsn is None:
        return False
    scrubber = SecretScrubber(secret_values(settings))

    def before_send(event: Any, _hint: Any) -> Any:
        return scrub_event(event, scrubber)

    def before_breadcrumb(crumb: Any, hint: Any) -> Any:
        return scrub_breadcrumb(crumb, hint, scrubber)

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.app_env,
        release=release(settings),
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        # Only what is named here: auto-enabled integrations would add breadcrumbs of their own
        # (SQL, Redis commands) that nobody has looked at for what they carry.
        auto_enabling_integrations=False,
        integrations=[
            FalconIntegration(),
            DramatiqIntegration(),
            # Log lines become breadcrumbs, not events: an unhandled error is reported once,
            # by the integration that saw it, with its request or message scope.
            LoggingIntegration(level=logging.INFO, event_level=None),
        ],
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
    )
    sentry_sdk.set_tag("process", process)
    return True


def release(settings: Settings) -> str | None:
    """RELEASE when set, else the checkout's git revision, else none (no git, not a checkout)."""
    if settings.release:
        return settings.release
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_ROOT, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def tag_report(**tags: str) -> None:
    """Tags for any error reported in the current request or message; nothing without a client."""
    if sentry_sdk.get_client().is_active():
        sentry_sdk.set_tags(tags)


def scrub_event(event: dict[str, Any], scrubber: SecretScrubber) -> dict[str, Any]:
    """An event as the logs would show it: no body, no cookie, no secret, no whole email."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        if isinstance(request.get("query_string"), str):
            request["query_string"] = _scrub_query(request["query_string"])
    dramatiq = event.get("contexts", {}).get("dramatiq")
    if isinstance(dramatiq, dict):
        dramatiq.pop("data", None)  # the message itself: its args are a body
    return redact(None, "", _scrub_strings(event, scrubber, 0))


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any], scrubber: SecretScrubber) -> dict[str, Any]:
    """A breadcrumb scrubbed like an event. Dramatiq's own log lines print a message with its
    arguments (`email.send('a@b.c')`): those keep only their template."""
    record = (hint or {}).get("log_record")
    if isinstance(record, logging.LogRecord) and isinstance(record.msg, dict):
        # A structlog line (already `redact`ed): its event name, and its fields as data, without
        # the traceback the event carries anyway.
        fields = {k: v for k, v in record.msg.items() if k not in _LOG_META}
        crumb["message"] = str(record.msg.get("event", ""))
        crumb["data"] = {**(crumb.get("data") or {}), **fields}
    elif isinstance(record, logging.LogRecord) and record.name.startswith("dramatiq"):
        crumb["message"] = str(record.msg)
        crumb["data"] = {}
    return redact(None, "", _scrub_strings(crumb, scrubber, 0))


def _scrub_query(query: str) -> str:
    """`token=abc&page=2` -> `token=***&page=2`: the query string's values masked by their names."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(key, redact(None, "", {key: value})[key]) for key, value in pairs], safe="*@")


def _scrub_strings(value: Any, scrubber: SecretScrubber, depth: int) -> Any:
    """Every string, at any depth, with secrets' exact values and URL passwords and emails masked."""
    if depth > _MAX_DEPTH:
        return MASK
    if isinstance(value, str):
        return scrubber.scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_strings(item, scrubber, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_strings(item, scrubber, depth + 1) for item in value]
    return value
