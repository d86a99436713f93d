"""A real local HTTP server speaking the part of Resend's API backroom uses: `POST /emails`.

As Resend documents it (api-reference/errors, dashboard/emails/idempotency-keys): no bearer key is 401
`missing_api_key`, a wrong one 403 `invalid_api_key`, a body lacking from, to, subject or html/text 422
`missing_required_field`. An `Idempotency-Key` (1-256 chars) sent again with the same body answers the
first id and sends nothing; with another body 409 `invalid_idempotent_request`; while the first still
runs 409 `concurrent_idempotent_requests`. Only accepted emails claim a key (Resend keeps them 24 h).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_NAMES = {400: "validation_error", 401: "missing_api_key", 403: "invalid_api_key", 404: "not_found"}
ERROR_NAMES |= {409: "invalid_idempotent_request", 422: "validation_error", 429: "rate_limit_exceeded"}
Reply = tuple[int, dict[str, Any], dict[str, str]]


@dataclass(frozen=True)
class ReceivedEmail:
    """One accepted email: its id, the JSON body and the request headers (names lower-cased)."""

    id: str
    body: dict[str, Any]
    headers: dict[str, str]
    idempotency_key: str | None


def error(status: int, message: str, name: str | None = None) -> Reply:
    """A Resend-shaped error reply; a 429 carries `retry-after` as Resend's does."""
    body = {"statusCode": status, "name": name or ERROR_NAMES.get(status, "application_error")}
    return status, {**body, "message": message}, ({"retry-after": "1"} if status == 429 else {})


class ResendServer:
    """`with ResendServer(api_key) as server:` serves on 127.0.0.1 and a free port, at `server.url`.

    `api_key` is read on every request: set it to another value to play a key rotated at Resend
    (the client's key then answers 403 `invalid_api_key`), and back to put it right.
    """

    def __init__(self, api_key: str = "re_test_123") -> None:
        self.api_key = api_key
        self.emails: list[ReceivedEmail] = []  # every accepted email, in order
        self.request_count = 0  # every request, accepted or not
        self._lock = threading.Lock()
        self._script: deque[tuple[int | None, float]] = deque()  # (status to fail with, delay)
        self._key_script: dict[str, deque[int]] = {}  # idempotency key -> statuses to fail with
        self._by_key: dict[str, tuple[str, str]] = {}  # idempotency key -> (body digest, email id)
        self._in_flight: set[str] = set()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)  # bound now, served from `start()`
        self._httpd.owner = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def fail_next(self, count: int, *, status: int = 500) -> None:
        """Answer the next `count` requests with `status` and a Resend-shaped error body (nothing sent)."""
        with self._lock:
            self._script.extend([(status, 0.0)] * count)

    def fail_key(self, key: str, count: int, *, status: int = 500) -> None:
        """Fail the next `count` requests carrying this Idempotency-Key (other traffic is untouched)."""
        with self._lock:
            self._key_script.setdefault(key, deque()).extend([status] * count)

    def delay_next(self, count: int, *, seconds: float) -> None:
        """Hold the next `count` requests for `seconds`, then handle them (even if the client left)."""
        with self._lock:
            self._script.extend([(None, seconds)] * count)

    def start(self) -> ResendServer:
        """Serve from a daemon thread."""
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    __enter__ = start

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        """Answer one `POST` as Resend would (see the module docstring)."""
        fail: int | None
        with self._lock:
            self.request_count += 1
            keyed = self._key_script.get(headers.get("idempotency-key", ""))
            if keyed:
                fail, delay = keyed.popleft(), 0.0
            else:
                fail, delay = self._script.popleft() if self._script else (None, 0.0)
        if fail is not None:
            return error(fail, f"scripted failure with status {fail}")
        if path.split("?")[0].rstrip("/") != "/emails":
            return error(404, "The requested endpoint does not exist.")
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token != self.api_key:
            return error(403, "API key is invalid.") if token else error(401, "Missing API key.")
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(raw)
        if not isinstance(body, dict):
            return error(400, "The request body must be a JSON object.")
        missing = [field for field in ("from", "to", "subject") if not body.get(field)]
        if missing or not (body.get("html") or body.get("text")):
            return error(422, f"Missing `{(missing or ['html'])[0]}` field.", "missing_required_field")
        key = headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 256:
            return error(400, "The key must be between 1-256 chars.", "invalid_idempotency_key")
        key = key or f"no-key/{uuid.uuid4()}"
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if key in self._in_flight:
                msg = "Same idempotency key used while original request is still in progress."
                return error(409, msg, "concurrent_idempotent_requests")
            if key in self._by_key:
                if self._by_key[key][0] != digest:
                    return error(409, "Same idempotency key used with a different request payload.")
                return 200, {"id": self._by_key[key][1]}, {}
            self._in_flight.add(key)
        time.sleep(delay)
        email = ReceivedEmail(str(uuid.uuid4()), body, headers, headers.get("idempotency-key"))
        with self._lock:
            self.emails.append(email)
            self._by_key[key] = (digest, email.id)
            self._in_flight.discard(key)
        return 200, {"id": email.id}, {}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: ResendServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, body, extra = self.server.owner.handle(self.path, headers, raw)
        data = json.dumps(body).encode()
        self.send_response(status)
        extra |= {"Content-Type": "application/json", "Content-Length": str(len(data))}
        for name, value in extra.items():
            self.send_header(name, value)
        with contextlib.suppress(ConnectionError):  # a client that timed out has hung up
            self.end_headers()
            self.wfile.write(data)
