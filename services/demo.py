"""Demo data for `make run`: the regions and the office's users of every platform role, then each
process module's own demo (``ProcessModule.demo``). Refused in production (``banjian demo``)."""
from __future__ import annotations

from sqlalchemy import select

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.models import ProcessDefinition
from engine.runtime import WorkflowEngine
from services.platform import studio
from services.platform.demo_data import DEMO_PASSWORD, REGIONS
from services.platform.identity import Region, User, create_user
from services.platform.modules import ProcessModule

USERS = [("reviewer", ["reviewer"], "110000", "审核员"), ("rechecker", ["rechecker"], "110000", "复核员"),
         ("supervisor", ["supervisor"], "110000", "督办员"), ("designer", ["designer"], "000000", "流程设计员"),
         ("admin", ["admin"], "110000", "系统管理员"), ("tj_reviewer", ["reviewer"], "120000", "天津审核员"),
         ("clerk", ["clerk"], "110000", "属地经办员"), ("approver", ["approver"], "110000", "审批员")]


def load_demo(uow: UnitOfWork, engine: WorkflowEngine, modules: list[ProcessModule]) -> bool:
    """Idempotent: the platform's part is skipped once ``reviewer`` exists, each module's by its own
    mark. Returns True when the platform's part was loaded now."""
    session = uow.session
    fresh = session.scalar(select(User.id).where(User.username == "reviewer")) is None
    if fresh:
        for code, name, level in REGIONS:
            if session.get(Region, code) is None:
                session.add(Region(code=code, name=name, level=level))
        session.flush()
        for username, roles, region, display in USERS:
            create_user(session, username, DEMO_PASSWORD, region, roles, display, enforce_policy=False)
    for module in modules:
        if module.demo is not None:
            module.demo(uow, engine)
    if fresh:
        _studio_draft(session)
    return fresh


def _studio_draft(session) -> None:
    """The designer's draft in 流程设计工作台: a copy of the first deployed process, to open and change."""
    first = session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.filename.like("%.bpmn"))
                           .order_by(ProcessDefinition.key, ProcessDefinition.version).limit(1))
    if first is not None:
        designer = Actor("designer", frozenset({("designer", "000000")}))
        studio.create_draft(session, designer, "", from_definition_id=first)
