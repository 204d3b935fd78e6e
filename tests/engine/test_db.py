"""Connection pool behaviour a user notices: after the database dropped a connection, the next
action still works (the dead connection is pinged and replaced, not handed out)."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from engine import db
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (BANJIAN_TEST_DATABASE_URL)")


def test_a_connection_the_server_closed_is_replaced_before_use(monkeypatch):
    engine = db.make_engine(PG_URL, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            killed = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (killed,))
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # as if it had been idle for a while
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != killed
    finally:
        engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged_again(monkeypatch):
    engine = db.make_engine(PG_URL, pool_size=1, max_overflow=0)
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection) or True)
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert len(pings) == 1  # the first checkout only: the connection was never idle for long
    finally:
        engine.dispose()
