from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import db.models  # noqa: F401
from db.migrate import current_revision, head_revision


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models differ from migrations; run alembic revision --autogenerate: {diff}"


def test_database_is_at_head(engine):
    assert current_revision(engine) == head_revision() is not None
