"""A real local HTTP server taking what sentry-sdk sends: `POST /api/<project>/envelope/`.

An envelope (develop.sentry.dev/sdk/data-model/envelopes) is newline-separated JSON: a header
line, then per item a header line (`type`, optional `length` in bytes) and its payload. The SDK
compresses the body (gzip, or brotli when the module is there: `Content-Encoding`). The server
keeps each `event` item's payload and the raw decoded bodies, so a test can look for what must
not be there anywhere in what was sent.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def decode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # only when the SDK had it to compress with

        return bytes(brotli.decompress(body))
    return body


def parse_envelope(data: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """The envelope's header and its (item header, payload) pairs."""
    header_line, _, rest = data.partition(b"\n")
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item = json.loads(item_line)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item, payload))
    return json.loads(header_line), items


class SentryServer:
    """`with SentryServer() as server:` serves on 127.0.0.1; `server.dsn` points an SDK at it."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []  # every envelope as received, decompressed
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self  # type: ignore[attr-defined]

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self._httpd.server_address[1]}/1"

    def record(self, body: bytes) -> None:
        _, items = parse_envelope(body)
        with self._lock:
            self.bodies.append(body)
            self.events.extend(json.loads(payload) for item, payload in items if item.get("type") == "event")

    def received(self) -> bytes:
        with self._lock:
            return b"\n".join(self.bodies)

    def __enter__(self) -> SentryServer:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "api" or parts[2] != "envelope":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.owner.record(decode(body, self.headers.get("Content-Encoding", "")))  # type: ignore[attr-defined]
        reply = json.dumps({"id": None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_: Any) -> None:  # quiet: the test reads what arrived, not an access log
        pass
