"""加签 / 减签: a reviewer adds people to their step — before themselves (前加签), after themselves (后加签) or
alongside (并加签) — and removes those added who have not acted yet.

An added signer's task is a real inbox task (a ``human_task`` row assigned to that person, with the
step's form) that no BPMN token stands behind; ``TaskSigner`` ties it to the step it was added to:

* 前加签 (``before``): the added tasks are open at once and the step cannot be completed until every one
  of them is done.
* 并加签 (``parallel``): the added tasks are open at once; the step's holder may complete it meanwhile —
  the completion is then *held* (the row's status ``held``, the form data kept in ``HeldCompletion``)
  and the case moves on when the last added task is done.
* 后加签 (``after``): the added tasks wait (status ``waiting``, in no inbox) until the step's holder
  completes it; that completion is held, the added tasks open, and the case moves on after the last.

The added people's decisions are opinions recorded in the history (a 不通过 among them does not decide
the step: its holder's own decision does). 减签 cancels added tasks that are not done; a held
completion whose last added task is removed goes through at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, and_, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, utcnow
from engine.models import HumanTask, TaskStatus

MODES = {"before": "前加签", "parallel": "并加签", "after": "后加签"}
WAITING = "waiting"  # an added task of a 后加签, until the step's holder completes the step
HELD = "held"  # a completion waiting for its added signers
MAX_SIGNERS = 10


class TaskSigner(Base):
    """An added signer's task (``task_id``) and the step it was added to."""

    __tablename__ = "task_signer"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    step_task_id: Mapped[str] = mapped_column(String(36), index=True)
    mode: Mapped[str] = mapped_column(String(10))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class HeldCompletion(Base):
    """A step's completion waiting for its added signers: what its holder submitted."""

    __tablename__ = "held_completion"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    held_at: Mapped[datetime] = mapped_column(default=utcnow)


def added_tasks(session: Session, step_task_id: str, statuses: tuple[str, ...] = (TaskStatus.OPEN, WAITING)
                ) -> list[HumanTask]:
    """The added signers' tasks of a step in these statuses, in the order they were added."""
    return list(session.scalars(
        select(HumanTask).join(TaskSigner, TaskSigner.task_id == HumanTask.id)
        .where(TaskSigner.step_task_id == step_task_id, HumanTask.status.in_(statuses))
        .order_by(TaskSigner.added_at, HumanTask.id)))


@dataclass(frozen=True)
class Around:
    """What 加签 means for completing one task, read in one query (every completion asks)."""

    added: TaskSigner | None  # the task is an added signer's
    pending: list[HumanTask]  # the undone added tasks of the step (open or waiting)
    blocking: list[HumanTask]  # those of them that must be done first (前加签, open)


def around(session: Session, task_id: str) -> Around:
    rows = session.execute(
        select(TaskSigner, HumanTask).join(HumanTask, HumanTask.id == TaskSigner.task_id)
        .where(or_(TaskSigner.task_id == task_id,
                   and_(TaskSigner.step_task_id == task_id, HumanTask.status.in_((TaskStatus.OPEN, WAITING)))))
        .order_by(TaskSigner.added_at, HumanTask.id)).all()
    added = next((signer for signer, _task in rows if signer.task_id == task_id), None)
    pending = [(signer, task) for signer, task in rows if signer.task_id != task_id]
    return Around(added, [task for _signer, task in pending],
                  [task for signer, task in pending if signer.mode == "before" and task.status == TaskStatus.OPEN])


def kept_with(session: Session, instance_id: int, open_steps: frozenset[str]) -> frozenset[str]:
    """The undone 加签 tasks of the case whose steps are still open: an action elsewhere in the case
    keeps them (the engine cancels every other undone task row it does not know)."""
    if not open_steps:
        return frozenset()
    return frozenset(session.scalars(
        select(TaskSigner.task_id).join(HumanTask, HumanTask.id == TaskSigner.task_id)
        .where(HumanTask.instance_id == instance_id, TaskSigner.step_task_id.in_(open_steps),
               HumanTask.status.in_((TaskStatus.OPEN, WAITING)))))


def signer_of(session: Session, task_id: str) -> TaskSigner | None:
    return session.get(TaskSigner, task_id)
