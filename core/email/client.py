"""Sending one email through Resend with an idempotency key, or logging it in development.

Errors are sorted for the worker's retry policy: 429, 5xx, timeouts, connection errors and
Resend's `concurrent_idempotent_requests` (409) raise `TransientEmailError`; 401 and 403 (a missing,
wrong or rotated API key) raise `ProviderKeyRejected`, a transient error too, since the email is fine
and the fault is our configuration; any other 4xx raises `EmailRejected`, a `PermanentError`.
`core.email.transport` explains how the base URL is chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import resend
import structlog
from resend.exceptions import ResendError

from core.email.transport import CURRENT_CALL, Call, install_client, resolve_api_url
from core.errors import PermanentError
from core.settings import Settings

DEFAULT_TIMEOUT_SECONDS = 10.0
KEY_STATUSES = (401, 403)  # Resend's missing_api_key, invalid_api_key / restricted_api_key


class TransientEmailError(Exception):
    """A failure worth retrying: 429, 5xx, a timeout, a connection error, a concurrent duplicate."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ProviderKeyRejected(TransientEmailError):
    """Resend refused our API key (401/403: missing, wrong, rotated, restricted, or not allowed to send
    from `EMAIL_FROM`'s domain): a configuration fault, not a bad email, so it is retried with backoff
    until the key is put right, and on-call is told by the `email.provider_rejected_key` log line."""


class EmailRejected(PermanentError):
    """Resend refused the email with a 4xx other than 429; sending it again would fail again."""

    def __init__(self, status: int, name: str, message: str):
        super().__init__(f"resend refused the email ({status} {name}): {message}")
        self.status = status
        self.name = name
        self.provider_message = message


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _classify(error: ResendError, call: Call) -> Exception:
    if call.transport_error is not None:
        return TransientEmailError(f"resend unreachable: {call.transport_error}")
    try:
        status = int(error.code)
    except (TypeError, ValueError):
        status = 500
    concurrent = status == 409 and error.error_type == "concurrent_idempotent_requests"
    if status == 429 or status >= 500 or concurrent or status < 400:
        retry_after = _retry_after(error.headers)
        message = f"resend answered {status} {error.error_type}: {error.message}"
        return TransientEmailError(message, status=status, retry_after=retry_after)
    if status in KEY_STATUSES:
        message = f"resend refused the API key ({status} {error.error_type}): {error.message}"
        return ProviderKeyRejected(message, status=status)
    return EmailRejected(status, error.error_type, error.message)


def send_email(
    settings: Settings,
    *,
    to: str | list[str],
    subject: str,
    html: str,
    text: str,
    idempotency_key: str,
    headers: Mapping[str, str] | None = None,
    api_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> str:
    """Send one email from `settings.email_from` and return Resend's message id.

    Resend answers a repeat with the same `idempotency_key` (and body) with the first email's id
    and sends nothing. Raises `TransientEmailError` (retry; `ProviderKeyRejected` for a bad key) or
    `EmailRejected` (a `PermanentError`).
    `headers` are extra email headers (e.g. List-Unsubscribe), sent as Resend's `headers` field.
    Without `settings.resend_api_key` (unset or blank) nothing is sent: the email is logged (address,
    subject and key; not the body) and `logged-<idempotency_key>` returned.
    """
    if not 1 <= len(idempotency_key) <= 256:
        raise ValueError("idempotency_key must be 1 to 256 characters")
    log = structlog.get_logger("backroom.email")
    api_key = settings.resend_api_key.get_secret_value().strip() if settings.resend_api_key else ""
    if not api_key:  # development: RESEND_API_KEY unset (or blank)
        log.info("email.logged", to=to, subject=subject, idempotency_key=idempotency_key)
        return f"logged-{idempotency_key}"
    call = Call(resolve_api_url(settings, api_url), api_key, timeout)
    install_client()
    fields: dict[str, object] = {"from": settings.email_from, "to": to, "subject": subject}
    fields |= {"html": html, "text": text} | ({"headers": dict(headers)} if headers else {})
    params = cast(resend.Emails.SendParams, fields)
    token = CURRENT_CALL.set(call)
    try:
        response = resend.Emails.send(params, {"idempotency_key": idempotency_key})
    except ResendError as error:
        failure = _classify(error, call)
        if isinstance(failure, ProviderKeyRejected):
            # On-call must see a key fault as ours, not the recipient's; the key itself is never logged.
            log.error(
                "email.provider_rejected_key",
                status=failure.status,
                provider_error=error.error_type,
                idempotency_key=idempotency_key,
                fault="configuration",
                action="check RESEND_API_KEY and EMAIL_FROM's domain; the email is retried",
            )
        raise failure from (call.transport_error or error)
    finally:
        CURRENT_CALL.reset(token)
    message_id = response.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise TransientEmailError("resend answered without an email id")
    log.info("email.sent", to=to, subject=subject, idempotency_key=idempotency_key, message_id=message_id)
    return message_id
