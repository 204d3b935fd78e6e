"""The rows one engine action writes, sent to the database together.

An action (start an instance, complete a task, fire a timer…) ends with one versioned UPDATE of its
instance and usually an UPDATE of the completed task row, INSERTs of new task rows and of history
events, and the cancellation of task rows the workflow no longer waits on. On PostgreSQL they travel
as ONE statement: the instance UPDATE with the others attached as data-modifying CTEs, which
PostgreSQL runs exactly once each whether or not the main statement reads them. An action thus pays
one round trip for its writes. On SQLite, where a statement costs no round trip, they run one after
the other in the same transaction.

The task rows are made equal to the workflow's READY user tasks declaratively — cancel every open
row of the instance that is not kept, insert every ready one unless it exists — so an action never
needs to read which rows exist before it writes.

They are Core statements: the engine's rows need none of the ORM's unit-of-work bookkeeping (which
costs about a millisecond per object here). The loaded ORM objects receive the written values as
their committed state (``set_committed_value``), so callers read them and nothing is flushed again.
The one read of a task action (:func:`lock_task`) is a Core statement too, its row attached to the
session as loaded objects: the ORM's loader sets up its row processing anew on every execution,
which cost more than the statement's round trip.

On PostgreSQL these statements run as SQL compiled once, handed straight to psycopg (:func:`_run`):
SQLAlchemy would hash each one's structure on every execution to find it in its compiled cache (the
CTE statement's key is a deep tuple whose hash Python does not keep), and its execution context and
result set-up cost more than the statements' round trips — bypassing both for these three statements
gave 12 % more lifecycles per second (``bench/engine_throughput.py``).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    BindParameter,
    ColumnElement,
    Connection,
    Dialect,
    Select,
    Table,
    Text,
    Update,
    UpdateBase,
    bindparam,
    cast,
    column,
    exc,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from engine.errors import Conflict
from engine.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance, TaskStatus

# task rows an action may leave behind: open ones, and 加签's waiting and held ones (engine.signers)
UNDONE = (TaskStatus.OPEN, "waiting", "held")


def _undone() -> ColumnElement[bool]:
    """status IN UNDONE, as plain comparisons: the batch statement is compiled once, without the
    expanding parameters an IN list would need."""
    return or_(*(_TASK.c.status == value for value in UNDONE))

_INSTANCE, _TASK, _HISTORY = ProcessInstance.__table__, HumanTask.__table__, HistoryEvent.__table__
_DEFINITION = ProcessDefinition.__table__
# every column with a default: the statement is sent as compiled SQL, which fills in no Python-side default
_STARTED_WITH = ("business_key", "region_code", "organisation_id", "status", "case_status", "query_code",
                 "started_by", "submitter", "search_text", "title", "summary", "clock_state", "clock_paused_days",
                 "clock_pause_reason", "state", "lock_version", "started_at", "updated_at")
# A new instance of the newest deployed version of a process (a DMN table is not startable), in one
# statement: the definition is looked up by the INSERT itself.
_STARTED_KEYS = ("id", "definition_id", "process_key", "process_version")  # what the start answers
_START_INSTANCE = insert(_INSTANCE).from_select(
    ["definition_id", "process_key", "process_version", *_STARTED_WITH],
    select(_DEFINITION.c.id, _DEFINITION.c.key, _DEFINITION.c.version,
           *(bindparam(name, type_=_INSTANCE.c[name].type) for name in _STARTED_WITH))
    .where(_DEFINITION.c.key == bindparam("key"), _DEFINITION.c.filename.not_like("%.dmn"))
    .order_by(_DEFINITION.c.version.desc()).limit(1),
).returning(*(_INSTANCE.c[name] for name in _STARTED_KEYS))
_UPDATE_INSTANCE = update(_INSTANCE).where(_INSTANCE.c.id == bindparam("pk"),  # SET: the other parameters
                                           _INSTANCE.c.lock_version == bindparam("expected_version"))
_UPDATE_TASK = update(_TASK).where(_TASK.c.id == bindparam("pk"))
# A task action locks the instance AND the task row (instance first: the lock order of every action).
# Locking the task row, not merely joining it, is what makes one statement enough under READ
# COMMITTED: a statement that waited for a lock gets the newest version of the rows it locks, but
# the version from before the wait of rows it only joins — a claim committed meanwhile would be missed.
_LOCK_TASK = (select(*_INSTANCE.c, *_TASK.c).join_from(_INSTANCE, _TASK, _TASK.c.instance_id == _INSTANCE.c.id)
              .where(_TASK.c.id == bindparam("task_id")).with_for_update(of=(_INSTANCE, _TASK)))
_INSTANCE_KEYS = tuple(column.key for column in _INSTANCE.c)
_TASK_KEYS = tuple(column.key for column in _TASK.c)
_INSERTED = {table.name: table for table in (_TASK, _HISTORY)}
CHANGED_MEANWHILE = "办件已被他人同时修改，请刷新后重试"


Answer = tuple[tuple[Any, ...] | None, int]  # a statement's first returned row (None: none) and row count


def _run(connection: Connection, statement: Select | UpdateBase, parameters: dict[str, Any]) -> Answer:
    """``statement`` with ``parameters``, in the connection's transaction.

    On PostgreSQL its SQL, compiled once, is executed by psycopg's own cursor, so psycopg receives
    the same text every time (and prepares it on the server). A driver error is raised as
    SQLAlchemy's exception for it, as for any other statement (workers retry an OperationalError),
    and a lost connection is invalidated, so the pool does not hand it out again."""
    if connection.dialect.name != "postgresql":
        result = connection.execute(statement, parameters)
        row = result.first() if result.returns_rows else None
        return (tuple(row) if row is not None else None), result.rowcount
    sql, defaults = _compiled(statement, connection.dialect)
    parameters = defaults | parameters
    driver = connection.connection.driver_connection
    if driver is None:  # only a pooled connection that was closed has none
        raise exc.ResourceClosedError("the database connection is closed")
    dbapi = connection.dialect.loaded_dbapi
    try:
        with driver.cursor() as cursor:
            cursor.execute(sql, parameters)
            return (cursor.fetchone() if cursor.description else None), cursor.rowcount
    except dbapi.Error as error:
        disconnected = connection.dialect.is_disconnect(error, driver, None)
        if disconnected:
            connection.invalidate(error)
        raise exc.DBAPIError.instance(sql, parameters, error, dbapi.Error, connection_invalidated=disconnected,
                                      dialect=connection.dialect) from error


@lru_cache(maxsize=64)
def _compiled(statement: Select | UpdateBase, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """The SQL of ``statement`` for ``dialect`` and the values of its bound literals (LIMIT 1, a
    status compared with)."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


def start_instance(session: Session, process_key: str, values: dict[str, Any]) -> ProcessInstance | None:
    """INSERT a new instance of the newest version of ``process_key`` and attach it to the session as
    a loaded object; None when no such process is deployed.

    Its id is needed at once: service tasks of the first steps pass it to domain operators."""
    returned, _ = _run(session.connection(), _START_INSTANCE, {"key": process_key, **values})
    if returned is None:
        return None
    instance = ProcessInstance(**dict(zip(_STARTED_KEYS, returned, strict=True)), **values, ended_at=None)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def lock_task(session: Session, task_id: str) -> tuple[ProcessInstance, HumanTask] | None:
    """The task row and its instance, both locked and as the last committed transaction left them,
    as loaded objects of the session; None when there is no such task."""
    row, _ = _run(session.connection(), _LOCK_TASK, {"task_id": task_id})
    if row is None:
        return None
    split = len(_INSTANCE_KEYS)
    return (_attach(session, ProcessInstance, dict(zip(_INSTANCE_KEYS, row[:split], strict=True))),
            _attach(session, HumanTask, dict(zip(_TASK_KEYS, row[split:], strict=True))))


def _attach(session: Session, cls: type, values: dict[str, Any]) -> Any:
    """``values`` read from the database as a loaded object of the session: the object already in
    its identity map, refreshed, or a new one (what the ORM's ``populate_existing`` loader does)."""
    existing = session.identity_map.get(identity_key(cls, values["id"]))
    if existing is not None:
        for name, value in values.items():
            set_committed_value(existing, name, value)
        return existing
    loaded = cls(**values)
    make_transient_to_detached(loaded)
    session.add(loaded)
    return loaded


def insert_history(session: Session, rows: list[dict[str, Any]]) -> None:
    """History events on their own (for actions that do not change the instance)."""
    session.connection().execute(insert(_HISTORY), rows)


def _json_array(values: BindParameter[str]) -> Select:
    """The elements of a JSON array parameter as a one-column subquery (constant statement text)."""
    return select(func.json_array_elements_text(cast(values, JSON)).table_valued("value").c.value)


Shape = tuple[tuple[str, tuple[str, ...]], ...]  # each write: its kind or a table name, and its columns


@lru_cache(maxsize=32)
def _batch_statement(instance_columns: tuple[str, ...], shape: Shape) -> Update:
    """The instance UPDATE with the writes of ``shape`` attached as CTEs, built once per shape.

    Values are bind parameters: ``set_<column>`` for the instance, ``w<n>_<column>`` for a task row
    update, ``w<n>_keep`` (a JSON array) for the rows a cancellation keeps, and one JSON array ``w<n>``
    per insert, unpacked by ``json_to_recordset`` in the array's order (history ids follow it). The
    statement text thus does not depend on the number of rows: SQLAlchemy compiles it once and
    psycopg prepares it on the server."""
    ctes = []
    for n, (kind, columns) in enumerate(shape):
        if kind == "task_update":
            write: Update | postgresql.Insert = update(_TASK).where(_TASK.c.id == bindparam(f"w{n}_pk")).values(
                {name: bindparam(f"w{n}_{name}") for name in columns})
        elif kind == "task_cancel":
            write = update(_TASK).where(
                _TASK.c.instance_id == bindparam(f"w{n}_instance_id"), _undone(),
                _TASK.c.id.not_in(_json_array(bindparam(f"w{n}_keep", type_=Text)))
            ).values(status=TaskStatus.CANCELLED)
        else:
            table = _INSERTED[kind]
            rows = func.json_to_recordset(cast(bindparam(f"w{n}", type_=Text), JSON)).table_valued(
                *(column(name, table.c[name].type) for name in columns)).render_derived(with_types=True)
            write = postgresql.insert(table).from_select(list(columns), select(*rows.c))
            if table is _TASK:
                write = write.on_conflict_do_nothing(index_elements=["id"])
        ctes.append(write.cte(f"write_{n}"))
    return _UPDATE_INSTANCE.values({name: bindparam(f"set_{name}") for name in instance_columns}).add_cte(*ctes)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ActionWrites:
    """Collects the writes of one action; :meth:`send` writes them with the instance's UPDATE."""

    def __init__(self, new_instance: bool = False) -> None:
        """``new_instance``: the action started the instance, so it has no task rows to cancel."""
        self._new_instance = new_instance
        self._updates: list[tuple[HumanTask, dict[str, Any]]] = []
        self._cancel: tuple[int, frozenset[str]] | None = None
        self._inserts: list[tuple[Table, list[dict[str, Any]]]] = []

    @property
    def updated_task_ids(self) -> frozenset[str]:
        return frozenset(row.id for row, _ in self._updates)

    def update_task(self, row: HumanTask, **values: Any) -> None:
        self._updates.append((row, values))

    def keep_open_tasks(self, instance_id: int, rows: list[dict[str, Any]], also_keep: frozenset[str] = frozenset()
                        ) -> None:
        """Leave open exactly the task rows ``rows`` of the instance (and ``also_keep``: 加签 tasks of
        steps still open): cancel its other undone rows (but those this action updates) and insert
        those of ``rows`` that do not exist yet."""
        if not self._new_instance:
            self._cancel = (instance_id, frozenset(row["id"] for row in rows) | self.updated_task_ids | also_keep)
        if rows:
            self._inserts.append((_TASK, rows))

    def insert_history(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._inserts.append((_HISTORY, rows))

    def send(self, session: Session, instance: ProcessInstance, **values: Any) -> None:
        """UPDATE the instance with ``values`` (bumping ``lock_version``) together with everything
        collected. Conflict — and the caller rolls back — when the row no longer carries the
        ``lock_version`` it was loaded with: someone else changed the instance meanwhile."""
        connection = session.connection()
        values["lock_version"] = instance.lock_version + 1
        key = {"pk": instance.id, "expected_version": instance.lock_version}
        if connection.dialect.name == "postgresql":
            shape, parameters = self._shape()
            statement = _batch_statement(tuple(values), shape)
            parameters |= key | {f"set_{name}": value for name, value in values.items()}
            _, updated = _run(connection, statement, parameters)
        else:
            self._send_one_by_one(connection)
            updated = connection.execute(_UPDATE_INSTANCE, key | values).rowcount
        if updated != 1:
            raise Conflict(CHANGED_MEANWHILE)
        for obj, written in [*self._updates, (instance, values)]:
            for name, value in written.items():
                set_committed_value(obj, name, value)
        if self._cancel:
            _mark_cancelled_in_session(session, *self._cancel)
        self._updates, self._cancel, self._inserts = [], None, []

    def _send_one_by_one(self, connection) -> None:
        for row, written in self._updates:
            connection.execute(_UPDATE_TASK, {"pk": row.id} | written)
        if self._cancel:
            instance_id, keep = self._cancel
            connection.execute(update(_TASK).where(
                _TASK.c.instance_id == instance_id, _undone(), _TASK.c.id.not_in(keep),
            ).values(status=TaskStatus.CANCELLED))
        for table, rows in self._inserts:
            statement = sqlite.insert(table).on_conflict_do_nothing() if table is _TASK else insert(table)
            connection.execute(statement, rows)

    def _shape(self) -> tuple[Shape, dict[str, Any]]:
        shape: list[tuple[str, tuple[str, ...]]] = []
        parameters: dict[str, Any] = {}
        for row, written in self._updates:
            parameters[f"w{len(shape)}_pk"] = row.id
            parameters.update({f"w{len(shape)}_{name}": value for name, value in written.items()})
            shape.append(("task_update", tuple(written)))
        if self._cancel:
            instance_id, keep = self._cancel
            parameters[f"w{len(shape)}_instance_id"] = instance_id
            parameters[f"w{len(shape)}_keep"] = json.dumps(sorted(keep))
            shape.append(("task_cancel", ()))
        for table, rows in self._inserts:
            parameters[f"w{len(shape)}"] = json.dumps(rows, default=_json_default, ensure_ascii=False)
            shape.append((table.name, tuple(rows[0])))
        return tuple(shape), parameters


def _mark_cancelled_in_session(session: Session, instance_id: int, keep: frozenset[str]) -> None:
    """Task rows of the instance that this session has loaded see their cancellation."""
    for obj in list(session.identity_map.values()):
        loaded = obj.__dict__  # an expired attribute is absent here and is not loaded for this check
        if (isinstance(obj, HumanTask) and loaded.get("instance_id") == instance_id
                and loaded.get("status") in UNDONE and loaded.get("id") not in keep):
            set_committed_value(obj, "status", TaskStatus.CANCELLED)
