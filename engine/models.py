"""The engine's own tables: deployed definitions, instances, the task table behind every
inbox, append-only history, incidents, the timers instances wait on."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, utcnow


class InstanceStatus:
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    ERROR = "error"
    ALL = (RUNNING, WAITING, COMPLETED, TERMINATED, ERROR)


class TaskStatus:
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProcessDefinition(Base):
    """One deployed version of one BPMN process."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    xml: Mapped[str] = mapped_column(Text)
    # {called process key: definition id} pinned at deploy time (call activities in other files)
    dependencies: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # roles allowed to start it through the generic API (process property startableBy)
    startable_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {form key: the form's JSON} of every form this file's steps name, as deployed (forms are versioned
    # with the process: a case validates and renders with its own version's forms)
    forms: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by: Mapped[str] = mapped_column(String(100), default="system")


class ProcessInstance(Base):
    """A case (办件). Holds its workflow state; the spec comes from its definition."""

    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_instance_key_status", "process_key", "status"),
        Index("ix_instance_business_key", "business_key"),
        Index("ix_instance_region_status", "region_code", "status"),
        Index("ix_instance_started_by", "started_by", "id"),  # 我的办件
        Index("ix_instance_clock", "clock_state", "clock_due_at"),  # clock levels and reminders
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    process_version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6))
    # the organisation handling the case (services.platform.organisations), None for a case of a region
    # only: its steps are then for the posts held there (engine.actors.Actor.takes)
    organisation_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    status: Mapped[str] = mapped_column(String(20), default=InstanceStatus.RUNNING)
    started_by: Mapped[str] = mapped_column(String(100))
    submitter: Mapped[str] = mapped_column(String(200), default="")
    # the ids of persons / parties the case is about, space separated, for inbox search
    search_text: Mapped[str] = mapped_column(Text, default="")
    # 查询码 (engine.query_code): follows the case's public status without an account; None before it existed
    query_code: Mapped[str | None] = mapped_column(String(16), default=None, unique=True)
    # 办件状态: the code of engine.lifecycle.CASE_STATUSES the steps' caseStatus last set
    case_status: Mapped[str] = mapped_column(String(30), default="received", server_default="received")
    # when staff first opened the case (case or task page, claim): until then its applicant may 撤回 it
    staff_opened_at: Mapped[datetime | None] = mapped_column(default=None)
    # the case clock (engine.case_clock): "" when its process declares no limit
    clock_state: Mapped[str] = mapped_column(String(10), default="", server_default="")
    clock_started_at: Mapped[datetime | None] = mapped_column(default=None)
    clock_paused_since: Mapped[datetime | None] = mapped_column(default=None)
    clock_paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    clock_pause_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")  # 中止 by hand
    statutory_due_at: Mapped[datetime | None] = mapped_column(default=None)
    promised_due_at: Mapped[datetime | None] = mapped_column(default=None)
    clock_due_at: Mapped[datetime | None] = mapped_column(default=None)  # the promised one where declared
    # what the case is about, from its process's caseTitle and summaryFields (engine.case_summary)
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    summary: Mapped[str] = mapped_column(String(500), default="", server_default="")
    state: Mapped[str] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)

    definition: Mapped[ProcessDefinition] = relationship(lazy="select")

    # Not a column: after an engine action (start, complete_task…) in this unit of work, the ids of
    # the instance's open user tasks, so that a caller can go on without querying for them.
    open_task_ids: tuple[str, ...] = ()

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """One row per user task an instance waits on (and, once done, for the 已办 list)."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_task_inbox", "status", "lane", "region_code", "created_at"),
        Index("ix_task_assignee", "assignee", "status"),
        Index("ix_task_due", "status", "due_at"),
        Index("ix_task_completed_by", "completed_by", "completed_at"),
        # the inbox's group lists: open tasks of a role in a region range (migration 0002_web)
        Index("ix_task_open_group", "lane", "region_code", "created_at", "id",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'"),
              postgresql_include=["assignee", "due_at", "process_key", "name", "label", "organisation_id"]),
        # an organisation's group lists: open tasks of a post there (engine.inbox)
        Index("ix_task_open_post", "organisation_id", "lane", "created_at", "id",
              postgresql_where=text("status = 'open' AND organisation_id IS NOT NULL"),
              sqlite_where=text("status = 'open' AND organisation_id IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    process_version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(100))  # BPMN element id
    label: Mapped[str] = mapped_column(String(200))
    form_key: Mapped[str] = mapped_column(String(100), default="")
    lane: Mapped[str] = mapped_column(String(50))  # candidate role
    region_code: Mapped[str] = mapped_column(String(6))
    organisation_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the case's, when it has one
    submitter: Mapped[str] = mapped_column(String(200), default="")
    assignee: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_by: Mapped[str | None] = mapped_column(String(100), default=None)
    decision: Mapped[str | None] = mapped_column(String(50), default=None)


class HistoryEvent(Base):
    """Append-only: never updated, never deleted."""

    __tablename__ = "history_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    task_name: Mapped[str | None] = mapped_column(String(100), default=None)
    task_label: Mapped[str | None] = mapped_column(String(200), default=None)
    actor: Mapped[str | None] = mapped_column(String(100), default=None)
    decision: Mapped[str | None] = mapped_column(String(50), default=None)
    conclusion: Mapped[str | None] = mapped_column(Text, default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Incident(Base):
    """A failure that stopped an instance (status ``error``) until someone retries it."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_name: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(100), default=None)


class Timer(Base):
    """A BPMN timer an instance waits on. Written by the engine whenever it persists an instance;
    a scheduler fires rows whose ``due_at`` has passed, claiming each one by flipping ``fired``
    from false to true in the same transaction that advances the instance (so it fires once)."""

    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_due", "fired", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))  # the waiting SpiffWorkflow task (timer event)
    name: Mapped[str] = mapped_column(String(100))  # BPMN element id of the timer event
    due_at: Mapped[datetime] = mapped_column()  # naive UTC
    fired: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
