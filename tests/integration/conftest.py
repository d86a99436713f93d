"""Integration fixtures: the session's broker with every actor declared on it, and a real worker."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from core.settings import Settings


@pytest.fixture(scope="session")
def broker(settings: Settings) -> RedisBroker:
    """Actor modules are imported once per process, after this broker became the global one."""
    from jobs import ACTOR_MODULES
    from worker.broker import setup_broker

    broker = setup_broker(settings)
    for name in ACTOR_MODULES:
        if name in sys.modules:  # bind to this broker even if something imported it earlier
            importlib.reload(sys.modules[name])
        else:
            importlib.import_module(name)
    return broker


@pytest.fixture(scope="session")
def worker(broker: RedisBroker) -> Iterator[dramatiq.Worker]:
    """A real Dramatiq worker consuming the session's queues from Redis, started once per process."""
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop(timeout=10_000)
