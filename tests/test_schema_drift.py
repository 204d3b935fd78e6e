"""The models and the migrations describe the same schema: a model changed without a migration (or
the reverse) fails here, on SQLite and PostgreSQL, instead of surprising a deployment."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.db import Base

# made by the migrations on PostgreSQL only (and only where pg_trgm can be created): not in the models
POSTGRESQL_ONLY = {"ix_instance_search_trgm"}


def _compared(_object, name, type_, reflected, _compare_to) -> bool:
    return not (type_ == "index" and reflected and name in POSTGRESQL_ONLY)


def test_the_migrated_database_matches_the_models(runtime):
    with runtime.db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _compared})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
