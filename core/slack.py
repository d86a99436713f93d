"""Posting one message to a Slack incoming webhook: `POST {"text": ...}` as JSON.

Slack answers 200 `ok`; errors as a status and a short plain-text reason (`invalid_payload`,
`no_service`, `channel_is_archived`, ...). Errors are sorted for the worker's retry policy: 429,
5xx, timeouts and connection errors raise `TransientSlackError` (retried with backoff); any other
4xx raises `SlackRejected`, a `PermanentError` (the URL was revoked or the payload is wrong:
posting again would fail again).

The webhook URL is a secret (whoever holds it may post to the channel): it never appears in an
error message, a log line or a chained exception (requests' errors name the URL, so they are
summarised by type and not chained).
"""

from __future__ import annotations

import requests

from core.errors import PermanentError

DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_REASON = 200


class TransientSlackError(Exception):
    """Worth retrying: 429, 5xx, a timeout, a connection error."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class SlackRejected(PermanentError):
    """Slack refused the message with a 4xx other than 429."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"slack refused the message ({status}): {reason}")
        self.status = status
        self.reason = reason


def post_message(webhook_url: str, text: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
    """Post `text` to the incoming webhook; returns once Slack accepted it (2xx)."""
    try:
        response = requests.post(webhook_url, json={"text": text}, timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        raise TransientSlackError(f"slack unreachable: {type(error).__name__}") from None
    if 200 <= response.status_code < 300:
        return
    reason = " ".join(response.text.split())[:MAX_REASON] or response.reason or ""
    if response.status_code == 429 or response.status_code >= 500 or response.status_code < 400:
        raise TransientSlackError(
            f"slack answered {response.status_code}: {reason}", status=response.status_code
        )
    raise SlackRejected(response.status_code, reason)
