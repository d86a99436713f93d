"""How long one message chain can stay alive: its retries' backoffs plus every attempt's time limit.

The reconciler re-sends an intent only once this span has passed since its last send, so it
never starts a second chain beside one that may still be retrying. No IO.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryOptions:
    """The options that decide a chain's length, as the worker applies them to one actor."""

    max_retries: int
    min_backoff_ms: int
    max_backoff_ms: int
    time_limit_ms: int


def longest_backoff_ms(retries_so_far: int, options: RetryOptions) -> int:
    """The longest delay Dramatiq's jittered backoff can pick before retry number `retries_so_far + 1`.

    Dramatiq draws `min_backoff * 2**n * uniform(1, 2)` and brings anything above `max_backoff` back
    to 50-100% of it, so `min(2 * min_backoff * 2**n, max_backoff)` bounds it.
    """
    exponent = min(retries_so_far, 32)  # Dramatiq's own max_exponent
    return min(2 * options.min_backoff_ms * 2**exponent, options.max_backoff_ms)


def retry_span(options: RetryOptions) -> timedelta:
    """An upper bound on the time from a chain's first delivery to its last attempt's end:
    every backoff at its longest, and every attempt (the first and each retry) at its time limit."""
    backoffs = sum(longest_backoff_ms(n, options) for n in range(options.max_retries))
    attempts = (options.max_retries + 1) * options.time_limit_ms
    return timedelta(milliseconds=backoffs + attempts)


def resend_after(last_sent_span: timedelta, grace: timedelta) -> timedelta:
    """How long after an intent's last send the reconciler may send it again: the whole span of the
    chain that send started, plus the grace it always allowed (RECONCILE_AFTER_SECONDS) for a
    message waiting in a busy queue."""
    return last_sent_span + grace
