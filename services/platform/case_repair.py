"""Case repair (办件修复) by supervisors: migrate running cases to another version of their process —
one case, or every running case of a version in a background job — correct a case's variables, and
move a case to another step. The moves themselves are the engine's (``WorkflowEngine.migrate``,
``edit_data``, ``move_to_step``; how they work: ``engine.migration``); the rules of who may are here.

Who may: supervisors and administrators of the case's region, by the very check the cockpit's 重试
and 终止 use (``services.platform.supervision._supervised_instance``): a case outside the user's scope
is NotFound, one they may see but not supervise is Forbidden. A batch migration takes the running
cases of the version in the regions the user supervises, chosen when the job runs.

**Batch migration** (job kind ``case.migrate``): each case is migrated in its own unit of work, which
commits or rolls back alone — a case is never left half-migrated, and a crash or a cancel keeps the
cases already migrated (running the batch again goes on with the others, which are still on the old
version). A refused case (a vanished step, a call activity …) stays as it is; the refusals, with
their reasons, are the job's result. Progress is reported as cases done / total.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor, region_condition
from engine.db import UnitOfWork
from engine.errors import EngineError, Forbidden, InvalidData, NotFound
from engine.migration import MigrationPlan
from engine.models import InstanceStatus, ProcessDefinition, ProcessInstance
from engine.runtime import WorkflowEngine
from services.platform import audit
from services.platform.jobs import Job, JobContext, JobService, is_transient
from services.platform.supervision import supervised_instance as _supervised_instance
from services.platform.supervision import supervised_regions

KIND = "case.migrate"
EDIT_DATA = "case.edit_data"  # the audit log's action
TIME_LIMIT = 3600.0
MAX_REFUSALS = 500  # refusals a job's result lists (the count is complete)
MAX_MAPPING = 200
LIVE = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR)  # a broken case is migrated to a fix


# ---------------------------------------------------------------------- one case
def migrate_case(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int, target_definition_id: int,
                 mapping: Mapping[str, str] | None = None, dry_run: bool = False) -> MigrationPlan:
    """迁移 one case (``dry_run``: only what it would do)."""
    _supervised_instance(uow.session, engine, actor, instance_id)
    return engine.migrate(uow, instance_id, target_definition_id, actor, dict(mapping or {}), dry_run)


def edit_case_data(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int,
                   changes: Mapping[str, Any], reason: str) -> dict[str, tuple[Any, Any]]:
    """修改业务数据 of a case, with a reason; the audit log keeps the old and new values beside the
    case's history."""
    instance = _supervised_instance(uow.session, engine, actor, instance_id)
    changed = engine.edit_data(uow, instance_id, actor, dict(changes), reason)
    audit.record(uow.session, actor, EDIT_DATA, "process_instance", instance_id, instance.region_code,
                 business_key=instance.business_key, reason=(reason or "").strip(),
                 before={key: _plain(old) for key, (old, _new) in changed.items()},
                 after={key: _plain(new) for key, (_old, new) in changed.items()})
    return changed


def edit_case_value(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int, key: str,
                    text: str, reason: str) -> dict[str, tuple[Any, Any]]:
    """The case page's form: one variable, its new value as typed — as it is for a text variable, as
    JSON for any other (``123``, ``true``, ``["a", "b"]``), ISO for a date."""
    _supervised_instance(uow.session, engine, actor, instance_id)
    key = (key or "").strip()
    instance = engine.get_instance(uow.session, instance_id)
    current = engine.instance_data(uow.session, instance)
    if key not in current:
        raise InvalidData("办件数据中没有此项，只能修改已有的数据", fields={"key": ["请选择要修改的数据项"]})
    return edit_case_data(uow, engine, actor, instance_id, {key: parse_value(current[key], text)}, reason)


def parse_value(old: Any, text: str) -> Any:
    """A value typed in a form, read for a variable whose value is ``old`` (see :func:`edit_case_value`)."""
    text = text if text is not None else ""
    if isinstance(old, str | date | datetime):
        return text
    try:
        return json.loads(text)
    except ValueError:
        if old is None:
            return text
        raise InvalidData("请按原值的格式填写：数字如 12，是或否填 true / false，列表如 [\"a\", \"b\"]",
                          fields={"value": ["格式不正确"]}) from None


def move_case(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int, target: str,
              reason: str) -> ProcessInstance:
    """调整环节: move a case to another user step of its process, with a reason."""
    _supervised_instance(uow.session, engine, actor, instance_id)
    return engine.move_to_step(uow, instance_id, actor, target, reason)


def movable_steps(session: Session, engine: WorkflowEngine, instance: ProcessInstance) -> list[tuple[str, str]]:
    return engine.user_steps(session, instance)


def other_versions(session: Session, instance: ProcessInstance) -> list[tuple[int, int]]:
    """(definition id, version) of the versions of the case's process it could be migrated to, newest first."""
    return [(row.id, row.version) for row in session.execute(
        select(ProcessDefinition.id, ProcessDefinition.version).where(
            ProcessDefinition.key == instance.process_key, ProcessDefinition.id != instance.definition_id)
        .order_by(ProcessDefinition.version.desc()))]


def editable_data(session: Session, engine: WorkflowEngine, instance: ProcessInstance) -> dict[str, Any]:
    """The case's variables a supervisor may correct (all it has; their values for the form)."""
    return engine.instance_data(session, instance)


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------- many cases
def parse_mapping(text: str) -> dict[str, str]:
    """Mapping lines ``old_id=new_id`` (blank lines and ``#`` comments ignored) → {old: new}."""
    mapping: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        old, sep, new = line.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InvalidData(f"环节对应第 {number} 行应写成“原环节ID=新环节ID”",
                              fields={"mapping": [f"第 {number} 行格式不正确"]})
        mapping[old.strip()[:100]] = new.strip()[:100]
    if len(mapping) > MAX_MAPPING:
        raise InvalidData(f"环节对应不能超过 {MAX_MAPPING} 行", fields={"mapping": ["行数过多"]})
    return mapping


def _versions(session: Session, actor: Actor, from_id: int, to_id: int) -> tuple[ProcessDefinition, ProcessDefinition]:
    if not supervised_regions(actor):
        raise Forbidden("只有督办人员或系统管理员可以迁移办件")
    source, target = session.get(ProcessDefinition, from_id), session.get(ProcessDefinition, to_id)
    if source is None or target is None or source.filename.endswith(".dmn") or target.filename.endswith(".dmn"):
        raise NotFound("流程版本不存在")
    if source.key != target.key:
        raise InvalidData("只能在同一流程的不同版本之间迁移", fields={"to_definition_id": ["请选择同一流程的版本"]})
    if source.id == target.id:
        raise InvalidData("原版本与目标版本相同", fields={"to_definition_id": ["请选择另一个版本"]})
    return source, target


def cases_of_version(session: Session, definition_id: int, regions: list[str]) -> list[int]:
    """Ids of the running cases of a version in these regions, oldest first."""
    return list(session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.definition_id == definition_id, ProcessInstance.status.in_(LIVE),
        region_condition(ProcessInstance.region_code, regions)).order_by(ProcessInstance.id)))


@dataclass
class BatchPlan:
    """A dry run over every running case of a version in the user's regions."""

    source: ProcessDefinition
    target: ProcessDefinition
    plans: list[MigrationPlan] = field(default_factory=list)

    @property
    def movable(self) -> int:
        return sum(1 for plan in self.plans if not plan.refused)

    @property
    def refused(self) -> int:
        return sum(1 for plan in self.plans if plan.refused)

    def summary(self) -> list[tuple[str, int]]:
        """Each distinct outcome ("初审 → 初审 (v2)", or a refusal) with its number of cases."""
        return Counter(plan.describe() for plan in self.plans).most_common()


def plan_batch(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, from_definition_id: int,
               to_definition_id: int, mapping: Mapping[str, str] | None = None) -> BatchPlan:
    """试运行: what migrating every running case of a version would do; nothing changes."""
    source, target = _versions(uow.session, actor, from_definition_id, to_definition_id)
    batch = BatchPlan(source, target)
    for instance_id in cases_of_version(uow.session, source.id, supervised_regions(actor)):
        batch.plans.append(engine.migrate(uow, instance_id, target.id, actor, dict(mapping or {}), dry_run=True))
    return batch


def submit_batch(session: Session, jobs: JobService, after_commit: Callable[[Callable[[], None]], None],
                 actor: Actor, from_definition_id: int, to_definition_id: int,
                 mapping: Mapping[str, str] | None = None) -> Job:
    """迁移 every running case of a version in the user's regions, as a background job."""
    source, target = _versions(session, actor, from_definition_id, to_definition_id)
    regions = supervised_regions(actor)
    total = len(cases_of_version(session, source.id, regions))
    return jobs.submit(session, after_commit, KIND,
                       {"from": source.id, "to": target.id, "mapping": dict(mapping or {}), "regions": regions,
                        "key": source.key, "from_version": source.version, "to_version": target.version},
                       created_by=actor.username, region_code=regions[0] if len(regions) == 1 else "", total=total)


def register_batch(jobs: JobService, engine: WorkflowEngine) -> None:
    """The batch job (see the module's docstring)."""

    def run(ctx: JobContext) -> dict[str, Any]:
        params = ctx.params
        target, mapping = int(params["to"]), dict(params.get("mapping") or {})
        with jobs.reading() as reading:
            created_by = reading.session.scalar(select(Job.created_by).where(Job.id == ctx.job_id)) or "system"
            ids = cases_of_version(reading.session, int(params["from"]), list(params["regions"]))
        actor = Actor(created_by)
        migrated, refused = 0, 0
        refusals: list[dict[str, Any]] = []
        for done, instance_id in enumerate(ids, start=1):
            with jobs.unit_of_work() as uow:
                try:
                    engine.migrate(uow, instance_id, target, actor, mapping)
                    uow.commit()
                    migrated += 1
                except Exception as error:  # this case stays as it was; the others go on
                    if is_transient(error):
                        raise
                    uow.session.rollback()
                    refused += 1
                    if len(refusals) < MAX_REFUSALS:
                        key = uow.session.scalar(select(ProcessInstance.business_key)
                                                 .where(ProcessInstance.id == instance_id))
                        message = error.message if isinstance(error, EngineError) else f"迁移失败：{error}"[:500]
                        refusals.append({"instance_id": instance_id, "business_key": key or "", "message": message})
            ctx.heartbeat(done, len(ids))
        result = {"migrated": migrated, "refused": refused, "refusals": refusals, "total": len(ids),
                  "key": params.get("key"), "from_version": params.get("from_version"),
                  "to_version": params.get("to_version")}
        return ctx.finish(lambda _uow: result)

    jobs.register(KIND, run, time_limit=TIME_LIMIT)
