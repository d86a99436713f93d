"""Engine and sessions, built from settings; nothing connects at import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlmodel import Session

from core.settings import Settings


def sqlalchemy_url(url: str) -> str:
    """Point plain postgres URLs at the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def connect_args(settings: Settings) -> dict[str, object]:
    args: dict[str, object] = {"application_name": "backroom"}
    if settings.database_pooler == "pgbouncer":
        # PgBouncer in transaction mode cannot keep server-side prepared statements.
        args["prepare_threshold"] = None
    if settings.db_statement_timeout_ms:
        args["options"] = f"-c statement_timeout={settings.db_statement_timeout_ms}"
    return args


def make_engine(settings: Settings, *, direct: bool = False) -> Engine:
    """The pooled engine; `direct=True` uses DIRECT_URL (migrations) when set."""
    url = settings.direct_url if direct and settings.direct_url else settings.database_url
    return create_engine(
        sqlalchemy_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=True,
        connect_args=connect_args(settings),
    )


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
