"""How the resend SDK's requests reach the right server with the right key, per call.

The resend SDK reads its key and base URL from module globals (`resend.api_key`, `resend.api_url`)
when a request is made, so setting them per call would race between worker threads. Instead the
SDK's HTTP client (`resend.default_http_client`) is replaced, once and lazily, by `_PerCallClient`:
while `send_email` runs, a context variable holds that call's key, base URL and timeout, and the
client sends the SDK's request there. Outside a `send_email` call it defers to the previous client,
so any other user of the SDK in the process sees its usual behaviour.

The base URL is, first to last: the `api_url` argument, `settings.resend_api_url` (once Settings
has that field), the `RESEND_API_URL` environment variable read at call time, Resend's own URL.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import requests
import resend

from core.settings import Settings

DEFAULT_API_URL = "https://api.resend.com"


@dataclass
class Call:
    """One `send_email` call's destination and key, seen by the HTTP client through a context variable."""

    base_url: str
    api_key: str
    timeout: float
    transport_error: requests.RequestException | None = None


CURRENT_CALL: ContextVar[Call | None] = ContextVar("backroom_resend_call", default=None)
_install_lock = threading.Lock()


class _PerCallClient(resend.HTTPClient):
    """Routes the SDK's requests to the current `send_email` call's base URL, with its API key."""

    def __init__(self, fallback: resend.HTTPClient) -> None:
        self.fallback = fallback

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json: dict[str, object] | list[object] | None = None,
        files: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
    ) -> tuple[bytes, int, Mapping[str, str]]:
        call = CURRENT_CALL.get()
        if call is None:
            return self.fallback.request(method, url, headers, json, files, data)
        path = url.removeprefix(resend.api_url) if url.startswith(resend.api_url) else urlsplit(url).path
        try:
            response = requests.request(
                method,
                call.base_url.rstrip("/") + path,
                headers={**headers, "Authorization": f"Bearer {call.api_key}"},
                json=cast(Any, json) if data is None else None,
                files=files,
                data=data,
                timeout=call.timeout,
            )
        except requests.RequestException as error:
            call.transport_error = error  # the SDK flattens it into a ResendError(500)
            raise
        return response.content, response.status_code, response.headers


def install_client() -> None:
    """Put `_PerCallClient` in front of the SDK's HTTP client, once; safe to call every time."""
    with _install_lock:
        current = resend.default_http_client
        if not isinstance(current, _PerCallClient):
            resend.default_http_client = _PerCallClient(cast(resend.HTTPClient, current))


def resolve_api_url(settings: Settings, api_url: str | None = None) -> str:
    """The Resend base URL for one call (see the module docstring for the order)."""
    configured = getattr(settings, "resend_api_url", None)
    return api_url or configured or os.environ.get("RESEND_API_URL") or DEFAULT_API_URL
