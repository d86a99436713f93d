"""Retry policy: what is worth retrying, and how often, for every actor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Retries, TimeLimit

from core.clock import utcnow
from core.errors import PermanentError
from core.rules.retry_span import RetryOptions, retry_span
from core.settings import Settings

# Dramatiq 2 would retry 20 times over days; our actors fail faster by default.
DEFAULT_MAX_RETRIES = 5
DEFAULT_MIN_BACKOFF_MS = 1_000
DEFAULT_MAX_BACKOFF_MS = 5 * 60_000


class RetryPolicy(Retries):
    """Retries with backoff and jitter (Dramatiq's), plus two house rules.

    - A `PermanentError` (a 4xx from a provider, a validation error, a missing
      row) fails the message at once: retrying cannot make it succeed.
    - JOB_MAX_RETRIES / JOB_MIN_BACKOFF_MS / JOB_MAX_BACKOFF_MS, when set, win
      over every actor's own options; unset, each actor's options apply.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            max_retries=DEFAULT_MAX_RETRIES,
            min_backoff=DEFAULT_MIN_BACKOFF_MS,
            max_backoff=DEFAULT_MAX_BACKOFF_MS,
        )
        self.forced = {
            key: value
            for key, value in {
                "max_retries": settings.job_max_retries,
                "min_backoff": settings.job_min_backoff_ms,
                "max_backoff": settings.job_max_backoff_ms,
            }.items()
            if value is not None
        }

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        # Message options take precedence over actor options in Retries.
        if self.forced:
            message.options.update(self.forced)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is not None:
            # Kept in the message's options across retries, for the failure ledger.
            message.options.setdefault("first_failed_at", utcnow().isoformat())
        if isinstance(exception, PermanentError):
            message.options["retries"] = message.options.get("retries", 0) + 1
            message.options["permanent_failure"] = True
            message.fail()
            return
        super().after_process_message(broker, message, result=result, exception=exception)


def actor_retry_options(broker: dramatiq.Broker, actor_name: str) -> RetryOptions:
    """The retry options the worker applies to `actor_name`: JOB_* settings over the actor's own
    options over the policy's defaults, as RetryPolicy and Dramatiq's Retries decide them."""
    actor = broker.get_actor(actor_name)
    policy = next(m for m in broker.middleware if isinstance(m, RetryPolicy))
    limit = next((m.time_limit for m in broker.middleware if isinstance(m, TimeLimit)), 600_000)

    def option(name: str, default: Any) -> int:
        return int(policy.forced.get(name, actor.options.get(name, default)))

    return RetryOptions(
        max_retries=option("max_retries", policy.max_retries),
        min_backoff_ms=option("min_backoff", policy.min_backoff),
        max_backoff_ms=option("max_backoff", policy.max_backoff),
        time_limit_ms=int(actor.options.get("time_limit", limit)),
    )


def retry_spans(broker: dramatiq.Broker, actor_names: list[str]) -> dict[str, timedelta]:
    """How long one message chain of each actor can stay alive on this broker's workers."""
    return {name: retry_span(actor_retry_options(broker, name)) for name in actor_names}
