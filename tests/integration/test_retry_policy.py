"""The retry policy on a real RedisBroker and worker."""

import threading

import dramatiq
import pytest

from core.errors import PermanentError
from tests.conftest import make_settings
from worker.broker import build_broker


@pytest.fixture
def run_actor(settings):
    """Declare `body` as an actor on a fresh broker, send it once, wait until it stops retrying."""
    started: list[dramatiq.Worker] = []

    def run(body, *, broker_settings=None, **options):
        broker = build_broker(broker_settings or make_settings(settings.database_url, settings.redis_url))
        attempts: list[int] = []
        done = threading.Event()

        def fn():
            attempts.append(1)
            body(len(attempts), done)

        actor = dramatiq.actor(fn, actor_name="test.flaky", queue_name="retries", broker=broker, **options)
        worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
        worker.start()
        started.append(worker)
        actor.send()
        broker.join("retries", timeout=20_000)
        return attempts, broker

    yield run
    for worker in started:
        worker.stop()


def test_transient_errors_are_retried_until_the_actor_limit(run_actor):
    def body(attempt, done):
        raise TimeoutError("provider timed out")

    attempts, _ = run_actor(body, max_retries=2, min_backoff=10, max_backoff=20)
    assert len(attempts) == 3


def test_a_retry_that_succeeds_stops_retrying(run_actor):
    def body(attempt, done):
        if attempt < 2:
            raise ConnectionError("flaky")

    attempts, _ = run_actor(body, max_retries=5, min_backoff=10, max_backoff=20)
    assert len(attempts) == 2


def test_permanent_errors_are_not_retried(run_actor):
    def body(attempt, done):
        raise PermanentError("422 from provider")

    attempts, _ = run_actor(body, max_retries=5, min_backoff=10, max_backoff=20)
    assert len(attempts) == 1


def test_job_max_retries_overrides_every_actor(run_actor, settings):
    forced = make_settings(
        settings.database_url,
        settings.redis_url,
        job_max_retries=1,
        job_min_backoff_ms=10,
        job_max_backoff_ms=20,
    )

    def body(attempt, done):
        raise TimeoutError("still down")

    attempts, _ = run_actor(body, broker_settings=forced, max_retries=6, min_backoff=60_000)
    assert len(attempts) == 2


def test_default_is_not_dramatiqs_twenty_retries(settings):
    from worker.retry_policy import DEFAULT_MAX_RETRIES, RetryPolicy

    policy = RetryPolicy(make_settings(settings.database_url, settings.redis_url))
    assert policy.max_retries == DEFAULT_MAX_RETRIES < 20
    assert policy.max_backoff <= 5 * 60_000
