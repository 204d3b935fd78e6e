"""Excel exports of the inbox (导出): the user's current 待办 or 已办 list, with the same filters and
order as the page, as one .xlsx sheet.

Written by services.special_work.workbooks.write_rows (openpyxl in write-only mode, text starting with = + - @
escaped so that Excel never takes it for a formula). Dates are China Standard Time days, which
Excel shows as YYYY-MM-DD.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import lifecycle
from engine.actors import Actor
from engine.definitions import list_definitions
from engine.inbox import SORTABLE, TaskFilter, task_query
from engine.models import HumanTask
from services.platform.spreadsheets import write_rows

MAX_EXPORT_ROWS = 20_000
CST = timedelta(hours=8)  # times are stored as naive UTC
OPEN_HEADERS = ["业务编号", "办理环节", "流程", "申报单位", "区划", "接收日期", "办理期限", "是否超期", "认领人"]
DONE_HEADERS = ["业务编号", "办理环节", "流程", "申报单位", "区划", "接收日期", "办理日期", "办理结论"]


def local_day(value: datetime | None) -> date | None:
    return (value + CST).date() if value is not None else None


def _rows(session: Session, actor: Actor, flt: TaskFilter, now: datetime) -> Iterator[HumanTask]:
    """The list's tasks in the page's order (the done list: newest first), at most MAX_EXPORT_ROWS."""
    column = HumanTask.completed_at if flt.scope == "done" else SORTABLE.get(flt.sort, HumanTask.created_at)
    ids = task_query(actor, flt, now, HumanTask.id.label("id"), column.label("sort_key")).subquery()
    order = ids.c.sort_key.desc() if flt.descending or flt.scope == "done" else ids.c.sort_key.asc()
    query = (select(HumanTask).join(ids, ids.c.id == HumanTask.id).order_by(order, HumanTask.id)
             .limit(MAX_EXPORT_ROWS).execution_options(yield_per=1000))
    yield from session.scalars(query)


def inbox_workbook(session: Session, actor: Actor, flt: TaskFilter, now: datetime) -> bytes:
    names = {d.key: d.name or d.key for d in list_definitions(session)}
    done = flt.scope == "done"

    def rows() -> Iterator[list]:
        for t in _rows(session, actor, flt, now):
            common = [t.business_key, t.label, names.get(t.process_key, t.process_key), t.submitter,
                      t.region_code, local_day(t.created_at)]
            if done:
                decision = t.decision or ""
                yield [*common, local_day(t.completed_at), lifecycle.DECISION_LABELS.get(decision, decision)]
            else:
                late = t.due_at is not None and t.due_at < now
                yield [*common, local_day(t.due_at), "是" if late else "否", t.assignee or ""]

    return write_rows("已办" if done else "待办", DONE_HEADERS if done else OPEN_HEADERS, rows())
