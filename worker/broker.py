"""The broker, built from settings before any actor module is imported."""

from __future__ import annotations

from collections.abc import Iterable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)

from core.settings import Settings
from worker.database import Database
from worker.failure_ledger import FailureLedger
from worker.log_context import LogContext
from worker.retry_policy import RetryPolicy
from worker.schedule_outcomes import ScheduleOutcomes


def build_broker(
    settings: Settings,
    extra_middleware: Iterable[dramatiq.Middleware] = (),
    *,
    metrics_exporter: bool = False,
) -> RedisBroker:
    """The RedisBroker with backroom's middleware, for processes that only enqueue.

    `extra_middleware` is the hook point for more cross-cutting work; it sees a message after
    the retry policy has decided on it. `metrics_exporter` (workers only, via setup_broker) adds
    Dramatiq's Prometheus exporter when WORKER_METRICS_PORT > 0. Nothing here talks to Redis;
    the client connects on first use.
    """
    database = Database(settings)
    # Order matters: after-hooks run in reverse, so RetryPolicy (last) decides a message's
    # fate before the FailureLedger (and any extra middleware) sees it.
    middleware: list[dramatiq.Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=settings.job_time_limit_ms),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        LogContext(),
        database,
        ScheduleOutcomes(database),  # after-hook runs after the ledger's: it can name the dead letter
        FailureLedger(database),
        *extra_middleware,
        RetryPolicy(settings),
    ]
    if metrics_exporter and settings.worker_metrics_port:
        from worker.metrics_exporter import WorkerMetrics  # imports prometheus_client: workers only

        middleware.append(WorkerMetrics())
    return RedisBroker(url=settings.redis_url, namespace=settings.redis_namespace, middleware=middleware)


def setup_broker(settings: Settings, extra_middleware: Iterable[dramatiq.Middleware] = ()) -> RedisBroker:
    """Build a worker's broker (with the metrics exporter when WORKER_METRICS_PORT > 0) and make it
    the global one; call before importing actor modules."""
    broker = build_broker(settings, extra_middleware, metrics_exporter=True)
    dramatiq.set_broker(broker)
    return broker
