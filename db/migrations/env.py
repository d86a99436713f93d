"""Alembic environment: migrates DIRECT_URL when set (bypassing PgBouncer), else DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from core.settings import load_settings
from db.engine import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _engine() -> Engine:
    given = config.attributes.get("engine")
    if given is not None:
        return given
    return make_engine(load_settings(), direct=True)


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
