"""Request context middleware: the client's address, a request id on every log line, an access log,
request metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

import falcon
import structlog
from prometheus_client import Counter, Histogram

from api.proxies import Network, apply_forwarding
from core.error_reporting import tag_report
from core.logging import get_logger

log = get_logger("backroom.api.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

REQUESTS = Counter("backroom_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "backroom_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestContext:
    """Takes X-Request-ID from the caller when it is well formed, else makes one; echoes it back.

    First of the middleware: behind TRUSTED_PROXIES it sets the client's address and scheme
    before the limiter, auth and resources read them.
    """

    def __init__(self, trusted_proxies: Sequence[Network] = ()) -> None:
        self.trusted_proxies = list(trusted_proxies)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        apply_forwarding(req, self.trusted_proxies)
        given = req.get_header("X-Request-ID") or ""
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        req.context.request_id = request_id
        req.context.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        tag_report(request_id=request_id)
        resp.set_header("X-Request-ID", request_id)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        started = req.context.get("started") or time.perf_counter()
        elapsed = time.perf_counter() - started
        route = req.uri_template or "unmatched"
        status = resp.status_code
        REQUESTS.labels(req.method, route, str(status)).inc()
        LATENCY.labels(req.method, route).observe(elapsed)
        log.info(
            "request",
            method=req.method,
            path=req.path,
            status=status,
            client=req.remote_addr,
            ms=round(elapsed * 1000, 2),
        )
        structlog.contextvars.clear_contextvars()
