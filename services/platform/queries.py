"""Queries and statistics: the generic 查询统计 pages and API over the queries that process modules
declare (``ProcessModule.queries``).

Each query is data: its columns (key, label, type), its filters and a function that builds one
SQL statement. ``run`` pages it and ``export`` streams it to Excel, both scoped to the regions
where the actor holds a staff role (属地) — never by loading rows to filter them in Python.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.errors import Forbidden, InvalidData, NotFound
from engine.values import DATE_RANGE_MESSAGE, INTEGER_MAX, date_in_range
from services.platform.identity import APPLICANT_ROLES
from services.platform.spreadsheets import write_rows

MAX_EXPORT_ROWS = 100_000
BOOL_LABELS: dict[bool | None, str] = {True: "是", False: "否"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str = "str"  # str | int | float | bool | date | datetime
    labels: dict[Any, str] | None = None  # code → label, also returned as <key>_label


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    columns: list[Column]
    filters: dict[str, tuple[str, str]]  # key → (type, label)
    build: Callable[[list[str], dict[str, Any]], Select]
    staff_only: bool = True
    description: str = field(default="")


def _staff_regions(actor: Actor) -> list[str]:
    return [region for role, region in actor.grants if role not in APPLICANT_ROLES]


def may_query(actor: Actor) -> bool:
    """Whether the actor holds a staff role somewhere (the 查询统计 menu); ``run`` checks again."""
    return bool(_staff_regions(actor))


# the queries of every module, by name (filled by the composition root)
QUERIES: dict[str, Query] = {}


def register(queries: dict[str, Query]) -> None:
    for name, query in queries.items():
        if QUERIES.get(name, query) is not query:
            raise ValueError(f"query {name!r} is declared twice")
        QUERIES[name] = query


def get_query(name: str) -> Query:
    query = QUERIES.get(name)
    if query is None:
        raise NotFound("没有名为 %(name)s 的查询" % dict(name=name))
    return query


def parse_filters(query: Query, raw: dict[str, str]) -> dict[str, Any]:
    """Typed filter values from query-string text; unknown keys are ignored, bad values refused."""
    values: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for key, (kind, label) in query.filters.items():
        text = (raw.get(key) or "").strip()
        if not text:
            continue
        try:
            if kind == "int":
                values[key] = int(text)
                if abs(values[key]) > INTEGER_MAX:
                    raise ValueError
            elif kind == "bool":
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                values[key] = text.lower() in ("true", "1")
            elif kind == "date":
                values[key] = date.fromisoformat(text)
                if not date_in_range(values[key]):
                    problems[key] = [f"{label}：{DATE_RANGE_MESSAGE}"]
            elif kind == "region":
                if not (len(text) == 6 and text.isdigit()):
                    raise ValueError
                values[key] = text
            else:
                values[key] = text[:100]
        except ValueError:
            problems[key] = [f"{label}的取值无效"]
    if problems:
        raise InvalidData("查询条件有误", fields=problems)
    return values


def _statement(actor: Actor, query: Query, filters: dict[str, Any]) -> Select:
    regions = _staff_regions(actor)
    if query.staff_only and not regions:
        raise Forbidden("查询统计仅对经办机构工作人员开放")
    return query.build(regions, filters)


def _as_dict(query: Query, row) -> dict[str, Any]:
    body = dict(row._mapping)
    for column in query.columns:
        value = body.get(column.key)
        if column.type == "bool" and value is not None:
            body[column.key] = value = bool(value)
        if column.type == "int" and value is not None:
            body[column.key] = value = int(value)
        if column.labels is not None:
            body[f"{column.key}_label"] = column.labels.get(value, value)
    return body


def run(session: Session, actor: Actor, name: str, raw_filters: dict[str, str], page: int = 1,
        per_page: int = 20) -> tuple[list[dict[str, Any]], int]:
    query = get_query(name)
    statement = _statement(actor, query, parse_filters(query, raw_filters))
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = session.execute(statement.limit(per_page).offset((page - 1) * per_page))
    return [_as_dict(query, row) for row in rows], total


def export(session: Session, actor: Actor, name: str, raw_filters: dict[str, str]) -> bytes:
    """导出: every row the filters select (up to MAX_EXPORT_ROWS), labels instead of codes."""
    query = get_query(name)
    statement = _statement(actor, query, parse_filters(query, raw_filters)).limit(MAX_EXPORT_ROWS)

    def rows():
        for row in session.execute(statement.execution_options(yield_per=1000)):
            body = _as_dict(query, row)
            yield [body.get(f"{c.key}_label", body.get(c.key)) if c.labels is not None
                   else BOOL_LABELS.get(body.get(c.key), body.get(c.key)) if c.type == "bool" else body.get(c.key)
                   for c in query.columns]

    return write_rows(query.title, [c.label for c in query.columns], rows())
