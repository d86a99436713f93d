"""A migrated database of a test module's own, for tests of jobs that scan whole tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.settings import Settings
from tests.conftest import make_settings
from tests.support.servers import Servers, create_database, drop_database


@contextmanager
def fresh_settings(servers: Servers, prefix: str, **overrides: Any) -> Iterator[Settings]:
    """Settings on a new database at head (and a new Redis namespace); the database is dropped after."""
    from db.engine import make_engine
    from db.migrate import upgrade

    name, url = create_database(servers.postgres_admin_url, prefix=prefix)
    try:
        settings = make_settings(url, servers.redis_url, **overrides)
        engine = make_engine(settings)
        upgrade(engine)
        engine.dispose()
        yield settings
    finally:
        drop_database(servers.postgres_admin_url, name)
