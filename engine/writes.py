"""The rows one engine action writes, sent to the database together.

An action (start an instance, complete a task, fire a timer…) ends with one versioned UPDATE of its
instance and usually an UPDATE of the completed task row, INSERTs of new task rows and of history
events. On PostgreSQL they travel as ONE statement: the instance UPDATE with the others attached as
data-modifying CTEs, which PostgreSQL runs exactly once each whether or not the main statement reads
them. An action thus pays one round trip for its writes instead of four. On SQLite, where a
statement costs no round trip, they run one after the other in the same transaction.

They are Core statements: the engine's rows need none of the ORM's unit-of-work bookkeeping (which
costs about a millisecond per object here). The loaded ORM objects receive the written values as
their committed state (``set_committed_value``), so callers read them and nothing is flushed again.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table, Text, Update, bindparam, cast, column, func, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engine.errors import Conflict
from engine.models import HistoryEvent, HumanTask, ProcessInstance

_INSTANCE, _TASK, _HISTORY = ProcessInstance.__table__, HumanTask.__table__, HistoryEvent.__table__
_INSERT_INSTANCE = insert(_INSTANCE).returning(_INSTANCE.c.id)
_UPDATE_INSTANCE = update(_INSTANCE).where(_INSTANCE.c.id == bindparam("pk"),  # SET: the other parameters
                                           _INSTANCE.c.lock_version == bindparam("expected_version"))
_UPDATE_TASK = update(_TASK).where(_TASK.c.id == bindparam("pk"))
_INSERTED = {table.name: table for table in (_TASK, _HISTORY)}
CHANGED_MEANWHILE = "办件已被他人同时修改，请刷新后重试"


def insert_instance(session: Session, instance: ProcessInstance) -> ProcessInstance:
    """INSERT a new instance (every column given) and attach it to the session as a loaded object.

    Its id is needed at once: service tasks of the first steps pass it to domain operators."""
    values = {column.key: getattr(instance, column.key) for column in _INSTANCE.columns if column.key != "id"}
    instance.id = session.connection().execute(_INSERT_INSTANCE, values).scalar_one()
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def insert_history(session: Session, rows: list[dict[str, Any]]) -> None:
    """History events on their own (for actions that do not change the instance)."""
    session.connection().execute(insert(_HISTORY), rows)


Shape = tuple[tuple[str, tuple[str, ...]], ...]  # each write: "task_update" or a table name, and its columns


@lru_cache(maxsize=32)
def _batch_statement(instance_columns: tuple[str, ...], shape: Shape) -> Update:
    """The instance UPDATE with the writes of ``shape`` attached as CTEs, built once per shape.

    Values are bind parameters: ``set_<column>`` for the instance, ``w<n>_<column>`` for a task row
    update, and one JSON array ``w<n>`` per insert, unpacked by ``json_to_recordset`` in the array's
    order (history ids follow it). The statement text thus does not depend on the number of rows:
    SQLAlchemy compiles it once and psycopg prepares it on the server."""
    ctes = []
    for n, (kind, columns) in enumerate(shape):
        if kind == "task_update":
            write = update(_TASK).where(_TASK.c.id == bindparam(f"w{n}_pk")).values(
                {name: bindparam(f"w{n}_{name}") for name in columns})
        else:
            table = _INSERTED[kind]
            rows = func.json_to_recordset(cast(bindparam(f"w{n}", type_=Text), JSON)).table_valued(
                *(column(name, table.c[name].type) for name in columns)).render_derived(with_types=True)
            write = insert(table).from_select(list(columns), select(*rows.c))
        ctes.append(write.cte(f"write_{n}"))
    return _UPDATE_INSTANCE.values({name: bindparam(f"set_{name}") for name in instance_columns}).add_cte(*ctes)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ActionWrites:
    """Collects the writes of one action; :meth:`send` writes them with the instance's UPDATE."""

    def __init__(self) -> None:
        self._updates: list[tuple[HumanTask, dict[str, Any]]] = []
        self._inserts: list[tuple[Table, list[dict[str, Any]]]] = []

    def update_task(self, row: HumanTask, **values: Any) -> None:
        self._updates.append((row, values))

    def insert_tasks(self, rows: list[dict[str, Any]]) -> None:
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
            updated = connection.execute(statement, parameters).rowcount
        else:
            for row, written in self._updates:
                connection.execute(_UPDATE_TASK, {"pk": row.id} | written)
            for table, rows in self._inserts:
                connection.execute(insert(table), rows)
            updated = connection.execute(_UPDATE_INSTANCE, key | values).rowcount
        if updated != 1:
            raise Conflict(CHANGED_MEANWHILE)
        for obj, written in [*self._updates, (instance, values)]:
            for name, value in written.items():
                set_committed_value(obj, name, value)
        self._updates, self._inserts = [], []

    def _shape(self) -> tuple[Shape, dict[str, Any]]:
        shape: list[tuple[str, tuple[str, ...]]] = []
        parameters: dict[str, Any] = {}
        for row, written in self._updates:
            parameters[f"w{len(shape)}_pk"] = row.id
            parameters.update({f"w{len(shape)}_{name}": value for name, value in written.items()})
            shape.append(("task_update", tuple(written)))
        for table, rows in self._inserts:
            parameters[f"w{len(shape)}"] = json.dumps(rows, default=_json_default, ensure_ascii=False)
            shape.append((table.name, tuple(rows[0])))
        return tuple(shape), parameters
