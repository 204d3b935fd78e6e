"""The models and the migrations describe the same schema: a model changed without a migration (or
the reverse) fails here, on SQLite and PostgreSQL, instead of surprising a deployment."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.db import Base


def test_the_migrated_database_matches_the_models(runtime):
    with runtime.db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
