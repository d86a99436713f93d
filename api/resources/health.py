"""Liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import os

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from api.deps import Deps
from api.errors import Problem
from api.metrics import BackroomCollector
from api.openapi import openapi_document
from services.health import Readiness


class Health:
    """`GET /health` (and `HEAD`): the process is up. Touches nothing else."""

    auth = "public"
    rate_limit = "public"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}

    on_head = on_get  # load balancers probe with HEAD; Falcon sends the headers without the body


class Ready:
    """`GET /ready` (and `HEAD`): Postgres and Redis reachable and migrations at head, else 503.

    `?verbose=1` adds `"schedules": {"overdue": [...]}`, the recurring jobs that are overdue;
    they never fail readiness (a web process cannot fix a job).
    """

    auth = "public"
    rate_limit = "public"

    def __init__(self, readiness: Readiness) -> None:
        self.readiness = readiness

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks = self.readiness.checks()
        verbose = (req.get_param("verbose") or "").lower() in {"1", "true", "yes"}
        extra = {"schedules": self.readiness.schedule_report(checks)} if verbose else {}
        if any(value != "ok" for value in checks.values()):
            raise Problem(503, "not-ready", "Not ready", "A dependency is not ready.", checks=checks, **extra)
        resp.media = {"status": "ready", "checks": checks, **extra}

    def on_head(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.on_get(req, resp)


class Metrics:
    """`GET /metrics`: Prometheus text, with queue depth and live reservations read at scrape time.

    Needs `Bearer $METRICS_TOKEN` when that is set; public otherwise (BearerAuth decides).
    """

    auth = "metrics"
    rate_limit = "public"

    def __init__(self, deps: Deps) -> None:
        self.collector = BackroomCollector(deps)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Several gunicorn workers: sum their request counters from the shared directory.
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)
        else:
            registry = REGISTRY
        output = generate_latest(registry) + generate_latest(self.collector.registry)
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = output


class OpenApi:
    """`GET /openapi.json`: the API reference."""

    auth = "public"
    rate_limit = "public"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = openapi_document()
