"""集中转送 / 集中交办 (004 §6.1.2, §6.1.4; requirements §B6.2): several items waiting for 办理 at one
office go to one destination together. Only items whose 去向 by 问题属地 is the same may go together
(所选信访件的去向机构不一致 otherwise); each item is then completed in its own unit of work, as
``services.platform.batch_decisions`` does, so that one item refused (a rule, a conflict) neither blocks
nor undoes the others, and the caller reports one outcome per item."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import InvalidData, NotFound
from engine.models import HumanTask, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine
from services.petitions.handling import DEFAULT_DEADLINE_DAYS, default_destination
from services.petitions.models import Petition
from services.platform.batch_decisions import MAX_BATCH, Outcome, complete_each
from services.platform.case_view import get_visible_task

FORWARDS = {"transfer": "集中转送", "assign": "集中交办"}


@dataclass(frozen=True)
class Waiting:
    """An item waiting for 办理 at an office of the actor, with its 去向 by 问题属地."""

    task: HumanTask
    petition: Petition
    default_destination: str  # the organisation's name, "" when no child covers its place


def waiting(session: Session, actor: Actor) -> list[Waiting]:
    """The 办理 steps the actor may do now (theirs, or unclaimed at an office where they hold the post)."""
    offices = [org for post, org in actor.posts if post == "xf_handler"]
    rows = session.scalars(select(HumanTask).where(
        HumanTask.status == TaskStatus.OPEN, HumanTask.form_key == "xf_handling", HumanTask.name == "handle",
        HumanTask.organisation_id.in_(offices),
        (HumanTask.assignee.is_(None)) | (HumanTask.assignee == actor.username)).order_by(HumanTask.created_at)
        .limit(MAX_BATCH))
    found = []
    for row in rows:
        petition = session.scalar(select(Petition).where(Petition.number == row.business_key))
        if petition is None or row.organisation_id is None:
            continue
        destination = default_destination(session, row.organisation_id, petition.place_region)
        found.append(Waiting(row, petition, destination.name if destination else ""))
    return found


def forward(unit_of_work: Callable[[], UnitOfWork], engine: WorkflowEngine, actor: Actor, task_ids: list[str],
            mode: str, opinion: str, deadline_days: int | None = None) -> list[Outcome]:
    """集中转送 (``transfer``) or 集中交办 (``assign``) of the chosen items to their common 去向."""
    task_ids = list(dict.fromkeys(task_ids))
    if mode not in FORWARDS:
        raise InvalidData("请选择集中转送或集中交办")
    # one message per mode, each written out: the English catalogue translates them as whole sentences
    if len(task_ids) < 2:
        if mode == "transfer":
            raise InvalidData("集中转送请至少勾选两件信访件")
        raise InvalidData("集中交办请至少勾选两件信访件")
    if len(task_ids) > MAX_BATCH:
        if mode == "transfer":
            raise InvalidData("一次最多集中转送 %(limit)s 件" % dict(limit=MAX_BATCH))
        raise InvalidData("一次最多集中交办 %(limit)s 件" % dict(limit=MAX_BATCH))
    keys: dict[str, str] = {}
    destinations: set[int | None] = set()
    with unit_of_work() as uow:
        for task_id in task_ids:
            try:
                row = get_visible_task(uow.session, actor, task_id)
            except NotFound:
                continue  # that task's own failure, reported below
            instance = uow.session.get(ProcessInstance, row.instance_id)
            petition = uow.session.scalar(select(Petition).where(Petition.number == row.business_key))
            if row.form_key != "xf_handling" or instance is None or instance.organisation_id is None \
                    or petition is None:
                raise InvalidData("%(number)s 不是待办理的信访件" % dict(number=row.business_key))
            found = default_destination(uow.session, instance.organisation_id, petition.place_region)
            destinations.add(found.id if found else None)
            keys[task_id] = row.business_key
    if len(destinations) > 1:
        if mode == "transfer":
            raise InvalidData("所选信访件的去向机构不一致，不能集中转送")
        raise InvalidData("所选信访件的去向机构不一致，不能集中交办")
    destination = next(iter(destinations), None)
    if keys and destination is None:
        raise InvalidData("所选信访件的问题属地没有对应的下级或直属单位，请逐件选择去向机构")
    data = {"mode": mode, "destination": str(destination), "opinion": opinion or None,
            "deadline_days": deadline_days or DEFAULT_DEADLINE_DAYS}
    return complete_each(unit_of_work, engine, actor, task_ids, keys, data)
