"""Units of work that are one statement: webhook intake, the hottest write we have.

A unit of work on the ordinary engine costs four round trips to PostgreSQL for one INSERT (the
pool's pre-ping, BEGIN, the statement, COMMIT) and an ORM Session around it. When the statement
is the whole transaction none of that buys anything. Here the engine's connections are in
autocommit, so the statement commits as it returns (psycopg sends no BEGIN): one round trip, on
a Core connection. The messages it decided are sent after that commit, exactly as
`UnitsOfWork.begin` sends its own (`UnitsOfWork.deliver`: a failed send goes to `if_unsent`).

No pre-ping: a connection the server dropped (a restart, a failover) fails the one request that
meets it, which answers 503 so the provider retries, and SQLAlchemy then invalidates the whole
pool, so the retry gets a fresh connection. Run ONE statement per unit: two would each commit
on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, make_url

from core.messages import Outgoing
from core.settings import Settings
from db.engine import connect_args, sqlalchemy_url
from db.unit_of_work import IfUnsent, UnitsOfWork


def make_single_statement_engine(settings: Settings, url: URL | str | None = None) -> Engine:
    """Autocommit, no pre-ping; `url` defaults to DATABASE_URL (tests pass their engine's)."""
    target = make_url(url) if url is not None else make_url(sqlalchemy_url(settings.database_url))
    return create_engine(
        target,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=False,
        # Nothing to roll back on return: in autocommit no transaction outlives its statement,
        # and the pool's reset (a rollback call per checkin) was 2.5 % of a reservation's web time.
        pool_reset_on_return=None,
        connect_args=connect_args(settings),
    )


@dataclass
class Statement:
    """One single-statement unit: its connection, and the messages to send once it committed."""

    connection: Connection
    outbox: list[tuple[Outgoing, IfUnsent | None]] = field(default_factory=list)

    def send_after_commit(
        self, actor_name: str, queue: str, *args: Any, if_unsent: IfUnsent | None = None
    ) -> None:
        self.outbox.append((Outgoing(actor_name, queue, args), if_unsent))


@dataclass(frozen=True)
class SingleStatements:
    """What a service is given for its one-statement writes; `units` sends their messages."""

    engine: Engine
    units: UnitsOfWork

    @contextmanager
    def begin(self) -> Iterator[Statement]:
        with self.engine.connect() as connection:
            unit = Statement(connection)
            yield unit
        # The statement committed as it returned (autocommit): now its messages.
        self.units.deliver(unit.outbox)
