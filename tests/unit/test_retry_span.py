"""The retry span bounds every chain Dramatiq's backoff can draw."""

from datetime import timedelta

import pytest
from dramatiq.common import compute_backoff

from core.rules.retry_span import RetryOptions, longest_backoff_ms, retry_span


@pytest.mark.parametrize(("min_ms", "max_ms"), [(1_000, 600_000), (2_000, 900_000), (10, 20)])
def test_no_drawn_backoff_exceeds_the_bound(min_ms, max_ms):
    options = RetryOptions(max_retries=12, min_backoff_ms=min_ms, max_backoff_ms=max_ms, time_limit_ms=1_000)
    for retries in range(12):
        drawn = max(compute_backoff(retries, factor=min_ms, max_backoff=max_ms)[1] for _ in range(300))
        assert drawn <= longest_backoff_ms(retries, options)
        assert longest_backoff_ms(retries, options) <= max_ms


def test_the_span_counts_every_backoff_and_every_attempt_at_its_time_limit():
    options = RetryOptions(max_retries=2, min_backoff_ms=10, max_backoff_ms=30, time_limit_ms=1_000)
    # backoffs: min(20, 30) + min(40, 30) = 50 ms; attempts: 3 x 1 s
    assert retry_span(options) == timedelta(milliseconds=3_050)
    assert retry_span(RetryOptions(0, 10, 30, 1_000)) == timedelta(seconds=1)


def test_the_webhook_actors_default_span_is_under_an_hour():
    webhooks = RetryOptions(
        max_retries=8, min_backoff_ms=1_000, max_backoff_ms=600_000, time_limit_ms=300_000
    )
    assert retry_span(webhooks) == timedelta(milliseconds=510_000 + 9 * 300_000)
