"""办件查询 by 查询码: the public status of one case for whoever holds its code, without an account.

What it tells is what the office may tell anyone: the business key, the service, where the case
stands (办件状态, the steps it waits on, started and closed dates) and its clock's level and due date —
never the applicant's or anyone's name, the data, conclusions (they may name people) or staff. A
code that does not exist and a malformed one get the same answer. The web layer limits lookups per
client address (``BANJIAN_QUERY_CODE_LIMIT_PER_IP``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import case_clock, lifecycle, query_code
from engine.errors import NotFound
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine

NOT_FOUND = "查询码不正确，或没有对应的办件"


@dataclass(frozen=True)
class PublicStatus:
    business_key: str
    process_name: str
    status: str  # the engine's status (办理中 / 已办结 / 已终止 …)
    case_status: str  # 办件状态 words
    current_steps: list[str]
    started_at: datetime
    ended_at: datetime | None
    clock: dict[str, Any] | None


def public_status(session: Session, engine: WorkflowEngine, code: str, now: datetime) -> PublicStatus:
    normalised = query_code.normalise(code)
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.query_code == normalised)) \
        if normalised else None
    if instance is None:
        raise NotFound(NOT_FOUND)
    steps = list(session.scalars(select(HumanTask.label).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN).order_by(HumanTask.created_at)))
    name = session.scalar(select(ProcessDefinition.name).where(ProcessDefinition.id == instance.definition_id))
    return PublicStatus(instance.business_key, name or instance.process_key, instance.status,
                        lifecycle.label(instance.case_status), steps, instance.started_at, instance.ended_at,
                        case_clock.view(instance, now, engine.working_days))
