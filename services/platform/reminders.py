"""Reminders and escalation (催办 / 督办) over the open tasks' due dates and the cases' clocks.

A periodic scan finds open tasks that fall due within the next ``before_working_days`` working days
(``due_soon``: the assignee, or the task's group when nobody claimed it, is reminded) and tasks
already overdue (``overdue``: assignee and group are reminded again, and the supervisors of the
task's region or a region above it are notified — 督办). Each (task, kind) is claimed by inserting
a ``reminder`` row under a unique constraint, in the transaction that writes the notifications, so
two scanners racing never remind anyone twice.

The same over the case clocks (``engine.case_clock``): a running clock whose due date (the promised
one where declared) falls within the warning window (``clock_warning``: whoever holds the case's open
tasks is told) or has passed (``clock_overdue``: they and the region's supervisors — 督办), once per
case and kind, claimed in ``case_reminder``. A paused or stopped clock is never reminded.

The scans read only the indexed ``status``/``due_at`` columns of the task table (``clock_state``/
``clock_due_at`` of the instance table) and an anti-join on the reminders sent; see
bench/reminder_scan.py for their cost on a million open tasks and a million open cases.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, time
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ForeignKey, String, UniqueConstraint, exists, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import case_clock
from engine.db import Base, UnitOfWork, utcnow
from engine.errors import Conflict
from engine.models import HumanTask, ProcessInstance, TaskStatus
from engine.regions import parent_codes
from services.platform import organisations
from services.platform.calendar import add_working_days, due_at, working_days_between
from services.platform.identity import RoleGrant, User
from services.platform.notifications import Notifier, render

DUE_SOON = "due_soon"
OVERDUE = "overdue"
CLOCK_WARNING = "clock_warning"
CLOCK_OVERDUE = "clock_overdue"
BATCH = 1000


class Reminder(Base):
    """One reminder of one kind sent for one task — never a second."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("task_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseReminder(Base):
    """One reminder of one kind sent for one case's clock — never a second."""

    __tablename__ = "case_reminder"
    __table_args__ = (UniqueConstraint("instance_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScanResult(NamedTuple):
    due_soon: int
    overdue: int
    clock_warning: int = 0
    clock_overdue: int = 0


def due_soon_limit(now: datetime, before_working_days: int) -> datetime:
    """Tasks due up to the end of the ``before_working_days``-th working day from today are 'due soon'."""
    return datetime.combine(add_working_days(now.date(), before_working_days), time.max).replace(microsecond=0)


def _unreminded(kind: str):
    return ~exists().where(Reminder.task_id == HumanTask.id, Reminder.kind == kind)


def find_due(session: Session, now: datetime, before_working_days: int, limit: int = BATCH) -> dict[str, list[str]]:
    """Ids of open tasks owed a reminder, per kind (at most ``limit`` each)."""
    open_with_due = (HumanTask.status == TaskStatus.OPEN, HumanTask.due_at.is_not(None))
    soon = select(HumanTask.id).where(
        *open_with_due, HumanTask.due_at >= now, HumanTask.due_at <= due_soon_limit(now, before_working_days),
        _unreminded(DUE_SOON)).order_by(HumanTask.due_at).limit(limit)
    overdue = select(HumanTask.id).where(*open_with_due, HumanTask.due_at < now, _unreminded(OVERDUE)) \
        .order_by(HumanTask.due_at).limit(limit)
    return {DUE_SOON: list(session.scalars(soon)), OVERDUE: list(session.scalars(overdue))}


def _claim(session: Session, kind: str, task_ids: list[str]) -> list[str]:
    """Insert the reminder rows; only the tasks whose row this transaction inserted are returned."""
    if not task_ids:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    rows = select(HumanTask.id, literal(kind), literal(utcnow())).where(HumanTask.id.in_(task_ids))
    statement = dialect.insert(Reminder).from_select(["task_id", "kind", "sent_at"], rows)
    statement = statement.on_conflict_do_nothing(index_elements=["task_id", "kind"]).returning(Reminder.task_id)
    return list(session.scalars(statement))


class _Holders:
    """Active users holding a role for a region or a region above it — or, for a step at an
    organisation, the post there — cached for one scan."""

    def __init__(self, session: Session):
        self.session = session
        self._cache: dict[tuple[str, str, int | None], list[str]] = {}

    def __call__(self, role: str, region_code: str, organisation_id: int | None = None) -> list[str]:
        key = (role, region_code, organisation_id)
        if key in self._cache:
            return self._cache[key]
        if organisation_id is not None:
            self._cache[key] = [name for name, _shown in organisations.holders(self.session, organisation_id, role)]
        else:
            self._cache[key] = list(self.session.scalars(
                select(User.username).join(RoleGrant, RoleGrant.user_id == User.id)
                .where(RoleGrant.role == role, RoleGrant.region_code.in_(parent_codes(region_code)),
                       User.active.is_(True)).order_by(User.username).distinct()))
        return self._cache[key]


def send(uow: UnitOfWork, notifier: Notifier, kind: str, task_ids: list[str], now: datetime) -> int:
    """Claim and send reminders of ``kind`` for ``task_ids``; returns how many tasks were reminded."""
    session = uow.session
    claimed = _claim(session, kind, task_ids)
    holders = _Holders(session)
    rows: list[dict] = []
    days_left = lru_cache(maxsize=None)(lambda due: max(0, working_days_between(now.date(), due)))
    for task in session.scalars(select(HumanTask).where(HumanTask.id.in_(claimed)).order_by(HumanTask.due_at)):
        if task.due_at is None:  # find_due finds only tasks with a due date
            raise Conflict("任务没有办理期限，无法催办")
        context = {"task": task, "due_text": task.due_at.strftime("%Y-%m-%d"),
                   "working_days_left": days_left(task.due_at.date()) if kind == DUE_SOON else 0}
        group = holders(task.lane, task.region_code, task.organisation_id)
        if kind == DUE_SOON:
            recipients = [task.assignee] if task.assignee else group
            rows += _rows(f"reminder_{kind}", context, recipients, task.instance_id, task.id, now)
        else:
            recipients = ([task.assignee] if task.assignee else []) + group
            rows += _rows("reminder_overdue", context, recipients, task.instance_id, task.id, now)
            rows += _rows("escalation_overdue", context, holders("supervisor", task.region_code), task.instance_id,
                          task.id, now)
    notifier.add(uow, rows)
    return len(claimed)


def _rows(template: str, context: dict, recipients: list[str], instance_id: int, task_id: str | None,
          now: datetime) -> list[dict]:
    """One in-app notification per recipient (each once), of a task or (``task_id`` None) of a case."""
    subject, body = render(template, context)
    return [{"recipient": r, "kind": template, "subject": subject[:200], "body": body, "instance_id": instance_id,
             "task_id": task_id, "created_at": now} for r in dict.fromkeys(recipients)]


def find_clock_due(session: Session, now: datetime, limit: int = BATCH) -> dict[str, list[int]]:
    """Ids of cases whose running clock is owed a reminder, per kind (at most ``limit`` each)."""
    threshold = case_clock.warning_threshold(now, due_at)
    running = (ProcessInstance.clock_state == case_clock.RUNNING, ProcessInstance.clock_due_at.is_not(None))

    def unreminded(kind: str):
        return ~exists().where(CaseReminder.instance_id == ProcessInstance.id, CaseReminder.kind == kind)

    warning = select(ProcessInstance.id).where(
        *running, ProcessInstance.clock_due_at >= now, ProcessInstance.clock_due_at <= threshold,
        unreminded(CLOCK_WARNING)).order_by(ProcessInstance.clock_due_at).limit(limit)
    overdue = select(ProcessInstance.id).where(*running, ProcessInstance.clock_due_at < now,
                                               unreminded(CLOCK_OVERDUE)).order_by(ProcessInstance.clock_due_at).limit(limit)
    return {CLOCK_WARNING: list(session.scalars(warning)), CLOCK_OVERDUE: list(session.scalars(overdue))}


def send_clock(uow: UnitOfWork, notifier: Notifier, kind: str, instance_ids: list[int], now: datetime) -> int:
    """Claim and send clock reminders of ``kind`` for the cases ``instance_ids``: to whoever holds each
    case's open tasks (the assignee, else the task's group), and for an overdue clock also to the
    supervisors of the case's region (督办). Returns how many cases were reminded."""
    session = uow.session
    if not instance_ids:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    rows_in = select(ProcessInstance.id, literal(kind), literal(utcnow())).where(ProcessInstance.id.in_(instance_ids))
    claimed = list(session.scalars(dialect.insert(CaseReminder).from_select(["instance_id", "kind", "sent_at"], rows_in)
                                   .on_conflict_do_nothing(index_elements=["instance_id", "kind"])
                                   .returning(CaseReminder.instance_id)))
    holders = _Holders(session)
    tasks: dict[int, list[HumanTask]] = {}
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(claimed),
                                                        HumanTask.status == TaskStatus.OPEN)):
        tasks.setdefault(task.instance_id, []).append(task)
    rows: list[dict] = []
    for instance in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(claimed))):
        due = instance.clock_due_at
        assert due is not None  # find_clock_due finds only clocks with a due date
        context = {"instance": instance, "due_text": f"{case_clock.local_day(due):%Y-%m-%d}",
                   "working_days_left": max(0, working_days_between(case_clock.local_day(now),
                                                                    case_clock.local_day(due))),
                   "steps": "、".join(t.label for t in tasks.get(instance.id, [])) or "—"}
        recipients = [name for task in tasks.get(instance.id, [])
                      for name in ([task.assignee] if task.assignee
                                   else holders(task.lane, task.region_code, task.organisation_id))]
        if kind == CLOCK_OVERDUE:
            recipients += holders("supervisor", instance.region_code)
        rows += _rows(f"reminder_{kind}", context, recipients, instance.id, None, now)
    notifier.add(uow, rows)
    return len(claimed)


def scan_and_send(unit_of_work: Callable[[], UnitOfWork], notifier: Notifier, before_working_days: int,
                  now: datetime | None = None) -> ScanResult:
    """The periodic step: find and send everything owed — tasks, then case clocks — one committed
    batch at a time."""
    moment = now or utcnow()
    totals: dict[str, int] = {}
    _drain(unit_of_work, lambda session: find_due(session, moment, before_working_days),
           lambda uow, kind, ids: send(uow, notifier, kind, ids, moment), totals)
    _drain(unit_of_work, lambda session: find_clock_due(session, moment),
           lambda uow, kind, ids: send_clock(uow, notifier, kind, ids, moment), totals)
    return ScanResult(totals[DUE_SOON], totals[OVERDUE], totals[CLOCK_WARNING], totals[CLOCK_OVERDUE])


def _drain(unit_of_work: Callable[[], UnitOfWork], find: Callable[[Session], Mapping[str, list[Any]]],
           send_kind: Callable[[UnitOfWork, str, list[Any]], int], totals: dict[str, int]) -> None:
    """Find and send owed reminders batch by batch until a batch comes back short; counts into ``totals``."""
    while True:
        with unit_of_work() as uow:
            owed = find(uow.session)
            sent = {kind: send_kind(uow, kind, ids) for kind, ids in owed.items()}
            uow.commit()
        for kind, count in sent.items():
            totals[kind] = totals.get(kind, 0) + count
        if all(len(ids) < BATCH for ids in owed.values()):
            return
