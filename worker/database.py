"""Database middleware: one engine per worker process, and the session actors open."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
from sqlalchemy import Engine
from sqlmodel import Session

from core.settings import Settings
from db.engine import make_engine, transaction
from db.unit_of_work import UnitsOfWork
from worker.messages import BrokerSender


class Database(dramatiq.Middleware):
    """Owns the worker process's connection pool.

    The engine is made lazily and remade after a fork (pools must not cross
    processes); it is disposed when the worker shuts down.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._pid = 0

    @property
    def engine(self) -> Engine:
        if self._engine is None or self._pid != os.getpid():
            self._engine = make_engine(self.settings)
            self._pid = os.getpid()
        return self._engine

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with transaction(self.engine) as session:
            yield session


def database(broker: dramatiq.Broker | None = None) -> Database:
    """The Database middleware of the (global) broker, for actors to open sessions with."""
    broker = broker or dramatiq.get_broker()
    for middleware in broker.middleware:
        if isinstance(middleware, Database):
            return middleware
    raise RuntimeError("the broker has no Database middleware; build it with worker.setup_broker")


def units_of_work(broker: dramatiq.Broker | None = None) -> UnitsOfWork:
    """What an actor hands its service: transactions on the worker's pool whose messages are
    sent on this broker after commit."""
    broker = broker or dramatiq.get_broker()
    return UnitsOfWork(database(broker).engine, BrokerSender(broker))
