"""The broker, built from settings before any actor module is imported."""

from __future__ import annotations

from collections.abc import Iterable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)

from core.settings import Settings
from worker.database import Database
from worker.failure_ledger import FailureLedger
from worker.hook_dispatch import HookDispatch
from worker.log_context import LogContext
from worker.retry_policy import RetryPolicy
from worker.schedule_outcomes import ScheduleOutcomes


class BackroomRedisBroker(HookDispatch, RedisBroker):
    """Dramatiq's RedisBroker, calling only the middleware hooks that do something."""


def build_broker(
    settings: Settings,
    extra_middleware: Iterable[dramatiq.Middleware] = (),
    *,
    metrics_exporter: bool = False,
) -> dramatiq.Broker:
    """The broker BROKER_URL names, with backroom's middleware, for processes that only enqueue.

    Unset or redis://: Dramatiq's RedisBroker (on BROKER_URL, else REDIS_URL, keys under
    REDIS_NAMESPACE); amqp://: the RabbitmqBroker of worker/rabbitmq.py. This is the one place a
    broker is built.

    `extra_middleware` is the hook point for more cross-cutting work; it sees a message after
    the retry policy has decided on it. `metrics_exporter` (workers only, via setup_broker) adds
    Dramatiq's Prometheus exporter when WORKER_METRICS_PORT > 0. Nothing here talks to the
    broker; the client connects on first use.
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
        LogContext(report_errors=settings.sentry_dsn is not None),
        database,
        ScheduleOutcomes(database),  # after-hook runs after the ledger's: it can name the dead letter
        FailureLedger(database),
        *extra_middleware,
        RetryPolicy(settings),
    ]
    if metrics_exporter and settings.worker_metrics_port:
        from worker.metrics_exporter import WorkerMetrics  # imports prometheus_client: workers only

        middleware.append(WorkerMetrics())
    if settings.broker_kind() == "rabbitmq":
        from worker.rabbitmq import BackroomRabbitmqBroker  # imports pika: only when configured

        return BackroomRabbitmqBroker(
            url=settings.broker_url or "",
            queue_type=settings.broker_queue_type,
            prefix=settings.broker_queue_prefix,
            expires_ms=settings.broker_queue_expires_seconds * 1000,
            middleware=middleware,
        )
    return BackroomRedisBroker(
        url=settings.broker_redis_url(), namespace=settings.redis_namespace, middleware=middleware
    )


def setup_broker(settings: Settings, extra_middleware: Iterable[dramatiq.Middleware] = ()) -> dramatiq.Broker:
    """Build a worker's broker (with the metrics exporter when WORKER_METRICS_PORT > 0) and make it
    the global one; call before importing actor modules."""
    broker = build_broker(settings, extra_middleware, metrics_exporter=True)
    dramatiq.set_broker(broker)
    return broker
