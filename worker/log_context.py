"""Log context middleware: every log line of a job, and any error it reports, carries its message id
and actor."""

from __future__ import annotations

from typing import Any

import dramatiq
import structlog
from dramatiq.broker import MessageProxy

from core.error_reporting import tag_report
from core.logging import get_logger

log = get_logger("backroom.worker")


class LogContext(dramatiq.Middleware):
    """Binds message id, actor, queue and attempt to structlog's context for one message.

    It runs for every message, so its hooks are kept to what a first-attempt success needs (on
    RabbitMQ a no-op job costs about 150 us of worker CPU; these hooks once cost 10 of them):
    Sentry tags only when a Sentry client was started (`report_errors`, decided by the
    composition root), and the DEBUG `job.done` line dropped by its level check alone
    (core/log_direct.py's logger checks the level before any processor).
    """

    def __init__(self, *, report_errors: bool = False) -> None:
        self.report_errors = report_errors

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            message_id=message.message_id,
            actor=message.actor_name,
            queue=message.queue_name,
            attempt=message.options.get("retries", 0) + 1,
        )
        if self.report_errors:
            tag_report(message_id=message.message_id, actor=message.actor_name, queue=message.queue_name)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            # A first-attempt success is the common case (thousands a second under load; its line
            # was most of our per-job cost, docs/performance.md): DEBUG. A success someone may be
            # waiting for, a replay or one after retries, stays at INFO for the runbook's check.
            options = message.options
            if options.get("retries", 0) or options.get("replay_of") is not None:
                log.info("job.done")
            else:
                log.debug("job.done")  # below the level, dropped before any processor runs
        else:
            log.warning("job.failed", error_type=type(exception).__name__, error=str(exception))
        structlog.contextvars.clear_contextvars()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        structlog.contextvars.clear_contextvars()
