"""发起办件 and 我的办件: what a user may start, starting it from its start form, and the cases the
user started, as the applicant sees them.

Any process whose ``startableBy`` names one of the user's roles (for the user's own region) is
offered; a process whose start form is enough needs no Python at all. Starting goes through
``WorkflowEngine.start_by_form``, which checks the permission again and takes from the form exactly
what it accepts. A case started here gets the next number of its process's ``businessKeyPattern``
(``engine.numbering``; default ``BJ{date}{seq:6}``: BJ20261202000001, BJ20261202000002 …).

我的办件 lists only the cases the user started (``started_by``), newest first; its case page is the
applicant's view of ``case_view.get_case`` (no staff names, variables, diagrams or task links).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import numbering
from engine.actors import Actor
from engine.db import UnitOfWork
from engine.definitions import latest_definition
from engine.errors import Forbidden, InvalidData, NotFound
from engine.forms import FormDefinition
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine
from services.platform import attachments
from services.platform.case_view import CaseView, get_case
from services.platform.identity import User
from services.platform.modules import ProcessModule

DEFAULT_KEY_PATTERN = "BJ{date}{seq:6}"  # a process's businessKeyPattern replaces it


@dataclass(frozen=True)
class StartableProcess:
    key: str
    name: str
    version: int


@dataclass(frozen=True)
class StartPage:
    process: StartableProcess
    form: FormDefinition | None
    region_code: str
    key_pattern: str  # the process's businessKeyPattern, or DEFAULT_KEY_PATTERN


@dataclass(frozen=True)
class MyCase:
    """One row of 我的办件: the case and the steps it waits on (their names only)."""

    instance: ProcessInstance
    process_name: str
    current_steps: list[str]


def startable_processes(session: Session, actor: Actor, region_code: str) -> list[StartableProcess]:
    """The newest version of every process ``actor`` may start for ``region_code``, by name."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.name, ProcessDefinition.version,
                                  ProcessDefinition.startable_by)
                           .join(newest, (ProcessDefinition.key == newest.c.key)
                                 & (ProcessDefinition.version == newest.c.version)))
    found = [StartableProcess(key, name or key, version) for key, name, version, starters in rows
             if any(actor.holds(role, region_code) for role in starters or ())]
    return sorted(found, key=lambda p: (p.name, p.key))


def start_page(session: Session, engine: WorkflowEngine, actor: Actor, region_code: str,
               process_key: str) -> StartPage:
    """What the start page of one process shows; NotFound for a process the actor may not start
    (exactly like one that does not exist: the list of processes is not theirs to probe)."""
    definition = latest_definition(session, process_key)
    try:
        deployed = engine.startable(session, process_key, actor, region_code)
    except (Forbidden, NotFound):
        raise NotFound("流程不存在或您无权发起") from None
    assert definition is not None  # startable found it
    return StartPage(StartableProcess(process_key, deployed.name or process_key, definition.version),
                     engine.start_form(deployed), region_code, deployed.business_key_pattern or DEFAULT_KEY_PATTERN)


def new_business_key(session: Session, page: StartPage, now: datetime) -> str:
    """The next number of the process's ``businessKeyPattern`` (default ``BJ{date}{seq:6}``)."""
    return _draw_key(session, page.key_pattern, page.region_code, now)


def _draw_key(session: Session, pattern: str, region_code: str, now: datetime) -> str:
    """The next number of ``pattern``, skipping any a case already carries (numbers imported from an
    earlier system)."""
    return numbering.draw(session, pattern, at=now, region=region_code,
                          taken=lambda key: session.scalar(select(ProcessInstance.id).where(
                              ProcessInstance.business_key == key).limit(1)) is not None)


def api_business_key(session: Session, engine: WorkflowEngine, actor: Actor, region_code: str, process_key: str,
                     given: str | None, now: datetime) -> str:
    """The business key of a case started through the API: drawn from the process's ``businessKeyPattern``
    when it declares one — a client may not take numbers of an office's sequence (1,000 taken in a row
    would stop its numbering) — otherwise the client's own key, or one drawn from the default pattern."""
    pattern = engine.startable(session, process_key, actor, region_code).business_key_pattern
    if pattern and given:
        raise InvalidData("此流程的业务编号由系统按编号规则生成，请不要提交 business_key",
                          fields={"business_key": ["此流程不接受自定业务编号"]})
    return given or _draw_key(session, pattern or DEFAULT_KEY_PATTERN, region_code, now)


def start_case(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, region_code: str, process_key: str,
               form_data: dict, now: datetime,
               uploads: Mapping[str, Sequence[tuple[str, bytes]]] | None = None) -> ProcessInstance:
    """Start a case of ``process_key`` from its start form, as ``actor``, in ``region_code``, with the
    files of its material fields (the engine checks ``startableBy`` again as it starts)."""
    page = start_page(uow.session, engine, actor, region_code, process_key)  # NotFound before anything else
    return attachments.start(uow, engine, actor, process_key, business_key=new_business_key(uow.session, page, now),
                             region_code=region_code, data=dict(form_data), uploads=uploads or {},
                             submitter=submitter_name(uow.session, actor))


def submitter_name(session: Session, actor: Actor) -> str:
    """Who the office sees as the case's submitter (申报单位 / 申请人): the user's name, with the
    party they act for (an enterprise's code) when they act for one."""
    name = session.scalar(select(User.display_name).where(User.username == actor.username)) or actor.username
    return f"{name}（{actor.party}）" if actor.party else name


def list_my_cases(session: Session, actor: Actor, page: int, per_page: int,
                  status: str | None = None) -> tuple[list[MyCase], int]:
    """The cases ``actor`` started, newest first, with the names of the steps they wait on."""
    query = select(ProcessInstance).where(ProcessInstance.started_by == actor.username)
    if status:
        query = query.where(ProcessInstance.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(ProcessInstance.id.desc()).limit(per_page)
                                .offset((page - 1) * per_page)))
    ids = [row.id for row in rows]
    steps: dict[int, list[str]] = {}
    for instance_id, label in session.execute(select(HumanTask.instance_id, HumanTask.label).where(
            HumanTask.instance_id.in_(ids), HumanTask.status == TaskStatus.OPEN).order_by(HumanTask.created_at)):
        steps.setdefault(instance_id, []).append(label)
    names = {definition_id: name for definition_id, name in session.execute(
        select(ProcessDefinition.id, ProcessDefinition.name).where(
            ProcessDefinition.id.in_({row.definition_id for row in rows})))}
    return [MyCase(row, names.get(row.definition_id) or row.process_key, steps.get(row.id, [])) for row in rows], total


def my_case(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int,
            modules: list[ProcessModule]) -> CaseView:
    """A case the actor started, as the applicant sees it — whatever other roles the actor holds
    (NotFound for anyone else's case)."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or instance.started_by != actor.username:
        raise NotFound("办件不存在或不是您发起的")
    return get_case(session, engine, actor, instance_id, modules, as_applicant=True)
