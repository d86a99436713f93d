"""A real local HTTP server speaking the part of Slack's incoming webhooks backroom uses.

`POST <webhook path>` with a JSON body `{"text": ...}` answers 200 `ok` (plain text), as Slack does;
a body that is not JSON or has no `text` answers 400 `invalid_payload`; a path other than the
server's webhook path answers 404 `no_service` (a revoked or mistyped URL). `fail_next(count,
status=500)` answers the next requests with that status and Slack's `rollup_error` reason.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REASONS = {400: "invalid_payload", 403: "invalid_token", 404: "no_service", 410: "channel_is_archived"}
WEBHOOK_PATH = "/services/T0BACKROOM/B0ALERTS/xoxtestsecret0123456789"


@dataclass(frozen=True)
class SlackPost:
    """One accepted message: the JSON body and the request headers (names lower-cased)."""

    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return str(self.body["text"])


class SlackServer:
    """`with SlackServer() as server:` serves on 127.0.0.1 and a free port; `server.webhook_url`
    is the incoming webhook's URL, `server.posts` every accepted message in order."""

    def __init__(self) -> None:
        self.posts: list[SlackPost] = []
        self.request_count = 0
        self._lock = threading.Lock()
        self._script: deque[int] = deque()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.webhook_url = self.url + WEBHOOK_PATH

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        with self._lock:
            self._script.extend([status] * count)

    def start(self) -> SlackServer:
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    __enter__ = start

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, str]:
        with self._lock:
            self.request_count += 1
            fail = self._script.popleft() if self._script else None
        if fail is not None:
            return fail, REASONS.get(fail, "rollup_error")
        if path != WEBHOOK_PATH:
            return 404, "no_service"
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(raw)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
            return 400, "invalid_payload"
        with self._lock:
            self.posts.append(SlackPost(body, headers))
        return 200, "ok"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: SlackServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, reason = self.server.owner.handle(self.path, headers, raw)
        data = reason.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        with contextlib.suppress(ConnectionError):
            self.end_headers()
            self.wfile.write(data)
