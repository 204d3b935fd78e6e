"""Database plumbing shared by every layer: the declarative base and the unit of work.

Commits happen only at the top (a route, a CLI command, a worker task) through
:class:`UnitOfWork`; everything below only adds and flushes.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import CursorResult, MetaData, Result, Table, create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    if TYPE_CHECKING:
        # Every model is declared with its columns, so its __table__ is a Table (DeclarativeBase says FromClause).
        __table__: ClassVar[Table]


def utcnow() -> datetime:
    """Naive UTC timestamp; stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, **kwargs)
    event.listen(engine.pool, "checkin", _mark_idle)
    event.listen(engine.pool, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


PING_AFTER_IDLE = 2.0  # seconds


def _mark_idle(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect, dbapi_connection, record, _proxy) -> None:
    """Pessimistic disconnect handling without a round trip per transaction: a pooled connection
    that has been idle for more than ``PING_AFTER_IDLE`` seconds is pinged before use, and a dead
    one is replaced (the pool retries on DisconnectionError). One in use moments ago is trusted,
    as HikariCP does; this spares every busy-period transaction one round trip."""
    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:  # noqa: BLE001 - whatever the driver raises, the connection is unusable
        raise exc.DisconnectionError(str(error)) from error


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin_immediate) and use WAL so that
    # readers are not blocked by the one writer.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "banjian_read_only"  # execution option of a connection that only reads


def _sqlite_begin_immediate(connection) -> None:
    # BEGIN IMMEDIATE takes SQLite's write lock up front: two racing writers queue up
    # instead of both reading and one failing late with "database is locked". A read-only unit
    # of work begins deferred: in WAL mode it reads a snapshot and never waits for the writer
    # (a page stays quick while an action — a script, a 入库 — holds the lock).
    connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


class UnitOfWork:
    """One database transaction for one user action or job. Rolls back unless committed.

    ``read_only``: the work only reads (a page view); it may not commit, and on SQLite it does
    not take the write lock."""

    def __init__(self, session_factory: sessionmaker[Session], read_only: bool = False):
        self._session_factory = session_factory
        self.read_only = read_only
        self._session: Session | None = None
        self._after_commit: list = []
        self._before_commit: list = []

    @property
    def session(self) -> Session:
        """The transaction's session; there is one only once the ``with`` block has begun."""
        if self._session is None:
            raise RuntimeError("the unit of work has not begun")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        if self.read_only:
            self.session.connection(execution_options={READ_ONLY: True})
        self._after_commit = []
        self._before_commit = []
        return self

    def __exit__(self, *exc) -> None:
        # close() rolls back whatever was not committed; unlike rollback() it leaves loaded
        # objects readable (detached) for the caller to serialise.
        self.session.close()

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        while self._before_commit:  # a callback may queue more
            self._before_commit.pop(0)(self)
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback) -> None:
        """Run ``callback`` once the transaction is committed (e.g. enqueue a job, send mail)."""
        self._after_commit.append(callback)

    def before_commit(self, callback) -> None:
        """Run ``callback(unit_of_work)`` in this transaction just before it commits: what one case's
        step does to another case (start a child case, message its parent) runs once the first case's
        action has finished, and commits with it or not at all."""
        self._before_commit.append(callback)


@contextmanager
def session_scope(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """Read-only convenience: a session that is always rolled back."""
    session = session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def rowcount(result: Result[Any]) -> int:
    """The number of rows an UPDATE or DELETE run by ``Session.execute`` matched. Its result is a
    CursorResult, which has the count, though ``Session.execute`` is typed to return any Result."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} has no row count: not the result of an UPDATE or DELETE")
    return result.rowcount
