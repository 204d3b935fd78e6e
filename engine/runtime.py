"""Instances: start, advance, complete tasks, persist — each inside the caller's unit of work.

Everything one user action changes (workflow state, task rows, domain rows written by service
operators, history) is written in the caller's transaction, which the caller commits once.
Concurrent completions are serialised by locking the instance row (``SELECT … FOR UPDATE`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and guarded by an optimistic version column.
An action on a task locks its instance and the task row in one statement (``engine.writes.lock_task``).
"""
from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from marshmallow import ValidationError
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import TaskState
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import case_clock, countersign, incident_words, lifecycle, migration, query_code, returns, signers
from engine.actors import SYSTEM, Actor
from engine.db import UnitOfWork, rowcount, utcnow
from engine.definitions import build_parser, latest_definition, parse_due_rule
from engine.errors import Conflict, EngineError, Forbidden, InvalidData, NotFound
from engine.forms import FormDefinition, FormRegistry
from engine.models import (
    HistoryEvent,
    HumanTask,
    Incident,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    TaskStatus,
    Timer,
)
from engine.operators import OperatorContext, OperatorRegistry
from engine.sandbox import Limits, Sandbox
from engine.scripting import RestrictedEnvironment, ScriptRejected, ServiceScriptEngine
from engine.specs import DeployedProcess, SpecCache
from engine.state import WorkflowCache, dump_state, load_state
from engine.timers import sync_timers, timer_definition, timer_due_at
from engine.writes import UNDONE, ActionWrites, insert_history, lock_task, start_instance

log = logging.getLogger(__name__)
# Automatic steps (gateways, scripts, service tasks, events…) one engine run may take: a loop in a
# process is an incident, not a request that never ends (see also engine.specs.MAX_INSTANCES).
MAX_ENGINE_STEPS = 500
DueCalculator = Callable[[datetime, int, str], datetime]
# Called inside every action's transaction with the history events the action wrote.
CaseListener = Callable[[UnitOfWork, ProcessInstance, list[dict[str, Any]]], None]
# A business system's check of a user's own start (发起办件): (session, process key, actor, region, the
# start form's cleaned data) → the data it adds to the case (the applicant party's registered
# particulars), or an InvalidData/Conflict that refuses the start with the user's message.
StartCheck = Callable[[Session, str, Actor, str, dict[str, Any]], dict[str, Any]]
# A business system's check of a step's completion: (session, case, task row, actor, the form's cleaned
# data) → the data it adds, or an InvalidData/Forbidden/Conflict refusing it with the user's message —
# for rules a form cannot state (a destination must be a subordinate organisation, a locked value).
TaskCheck = Callable[[Session, ProcessInstance, HumanTask, Actor, dict[str, Any]], dict[str, Any]]
APPLICANT_STEP = "申请人办理的环节只能由申请人提交，不能取消认领、转办、退回、加签或抄送"
_HISTORY = "banjian.history"  # session.info key: history events of the action under way
# Queries of the hot path, built once (their construction and cache key cost more than running them)
_LOCK_INSTANCE = (select(ProcessInstance).where(ProcessInstance.id == bindparam("instance_id"))
                  .with_for_update().execution_options(populate_existing=True))
_OPEN_TASKS = (select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"),
                                       HumanTask.status == TaskStatus.OPEN)
               .order_by(HumanTask.created_at, HumanTask.id))


class _NotDue(Conflict):
    """A timer row whose time SpiffWorkflow's clock has not reached: the firing is refused, not an incident."""


def weekdays_between(start: date, end: date) -> int:
    """Fallback working-day count without a holiday calendar: Mon–Fri after ``start`` up to ``end``."""
    if end < start:
        return -weekdays_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5)


def calendar_due(start: datetime, amount: int, unit: str) -> datetime:
    """Fallback due rule without a holiday calendar (working days counted as Mon–Fri)."""
    if unit == "hours":
        return start + timedelta(hours=amount)
    if unit == "days":
        return start + timedelta(days=amount)
    day = start
    while amount > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            amount -= 1
    return day


def _task_properties(task) -> dict[str, str]:
    return (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})


def _task_role(task, props: Mapping[str, str]) -> str:
    """The role a step is offered to: its lane's, or — for a task outside a role lane (an imported
    model's, engine/dialects.py) — its ``role`` property."""
    return props.get("role") or task.task_spec.lane or ""


class WorkflowEngine:
    """The generic runtime. Assembled once by the composition root from injected parts."""

    def __init__(self, forms: FormRegistry, operators: OperatorRegistry, *,
                 due_calculator: DueCalculator = calendar_due, applicant_roles: frozenset[str] = frozenset(),
                 working_days: case_clock.WorkingDays = weekdays_between,
                 script_time_limit: float = 2.0, script_functions: Mapping[str, str] | None = None,
                 script_memory_mb: int = 256, action_time_limit: float | None = None):
        """``script_functions``: helpers designers may call in expressions and scripts, as
        ``{"add_working_days": "services.platform.calendar:add_working_days"}`` (see ``engine.scripting``).
        ``action_time_limit``: what all designer code of one action may take together (default five
        times ``script_time_limit``)."""
        self.forms = forms
        self.operators = operators
        self.due_calculator = due_calculator
        self.working_days = working_days
        self.applicant_roles = applicant_roles
        self.environment = RestrictedEnvironment(
            script_time_limit, script_functions,
            Sandbox(script_functions, Limits(seconds=script_time_limit, memory_mb=script_memory_mb)),
            action_time_limit)
        self.specs = SpecCache()
        self.workflows = WorkflowCache()
        self.listeners: list[CaseListener] = []
        self.start_checks: list[StartCheck] = []
        self.task_checks: list[TaskCheck] = []
        # 委托 (services.platform.standing_delegations): whom a task meant for a person goes to instead
        self.assignee_redirect: Callable[[Session, str, ProcessInstance], str | None] | None = None

    # ------------------------------------------------------------------ starting
    def start(self, uow: UnitOfWork, process_key: str, *, business_key: str, region_code: str,
              data: dict[str, Any], actor: Actor, submitter: str = "", search_text: str = "",
              organisation_id: int | None = None) -> ProcessInstance:
        """Start an instance of the newest deployed version of ``process_key`` with ``data`` as given.
        For the use cases of the domain, which decided who may start it and built ``data`` from objects
        they checked; a user's own start goes through :meth:`start_by_form`. The instance row is
        inserted first (operators of the first steps need its id). ``organisation_id``: the case is
        handled at that organisation (in ``region_code``, its region), its steps by the posts held there."""
        session = uow.session
        _drop_unwritten_history(session)
        now = utcnow()
        instance = start_instance(session, process_key, {
            "business_key": business_key, "region_code": region_code, "organisation_id": organisation_id,
            "status": InstanceStatus.RUNNING,
            "case_status": lifecycle.RECEIVED, "query_code": query_code.new_code(),
            "started_by": actor.username, "submitter": submitter, "search_text": search_text, "title": "",
            "summary": "", "clock_state": "", "clock_paused_days": 0, "clock_pause_reason": "", "state": "",
            "lock_version": 1, "started_at": now, "updated_at": now})
        if instance is None:
            raise NotFound(f"流程 {process_key} 未部署")
        try:
            deployed = self.specs.get(session, instance.definition_id)
            workflow = BpmnWorkflow(deployed.spec, deployed.subprocess_specs)
        except Exception as error:  # noqa: BLE001 - a version SpiffWorkflow cannot start, whatever the reason
            session.execute(delete(ProcessInstance).where(ProcessInstance.id == instance.id))
            session.expunge(instance)
            if isinstance(error, EngineError):
                raise
            raise Conflict("流程 %(process)s 第 %(version)s 版无法启动：%(problem)s。请修正流程定义后部署新版本"
                           % dict(process=process_key, version=instance.process_version,
                                  problem=incident_words.problem(error))) from None
        if deployed.properties.get("initiator"):  # Camunda's initiator: the variable holding the starter
            data = {**data, deployed.properties["initiator"]: actor.username}
        workflow.task_tree.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        self._event(session, instance, "started", actor=actor.username,
                    details={"process_key": instance.process_key, "version": instance.process_version})
        self._advance(uow, instance, workflow, actor, writes=ActionWrites(new_instance=True))
        return instance

    def startable(self, session: Session, process_key: str, actor: Actor, region_code: str) -> DeployedProcess:
        """The newest version of a process that ``actor`` may start for ``region_code`` from the generic
        start: the process lists one of the actor's roles there in ``startableBy``. Processes whose
        start needs domain objects list nobody; their use cases start them."""
        definition = latest_definition(session, process_key)
        if definition is None:
            raise NotFound(f"流程 {process_key} 不存在")
        deployed = self.specs.get(session, definition.id)
        if not any(actor.holds(role, region_code) for role in deployed.startable_by):
            raise Forbidden(f"您无权在区划 {region_code} 发起流程 {deployed.name}")
        return deployed

    def start_by_form(self, uow: UnitOfWork, process_key: str, *, business_key: str, region_code: str,
                      form_data: dict[str, Any], actor: Actor, submitter: str | None = None) -> ProcessInstance:
        """A user's own start (发起办件, ``POST /api/instances``): allowed by ``startableBy``, and the
        data is exactly what the start event's form (``formKey``) accepts — a process without a start
        form starts with no data at all. Nothing else reaches the case's variables."""
        deployed = self.startable(uow.session, process_key, actor, region_code)
        form = self.start_form(deployed)
        if form is not None:
            try:
                data = form.validate(form_data)
            except ValidationError as error:
                raise InvalidData("表单填写有误，请修改后重新提交", fields=_flatten_messages(error.messages)) from None
        elif form_data:
            raise InvalidData(f"流程 {deployed.name} 没有发起表单，发起时不能提交数据",
                              fields={"data": ["此流程发起时不接受数据"]})
        else:
            data = {}
        for check in self.start_checks:
            data.update(check(uow.session, process_key, actor, region_code, data))
        return self.start(uow, process_key, business_key=business_key, region_code=region_code, data=data,
                          actor=actor, submitter=submitter or actor.username, search_text=business_key)

    # ------------------------------------------------------------------ tasks
    def _lock_task(self, session: Session, task_id: str) -> tuple[HumanTask, ProcessInstance]:
        """The task row and its instance, both locked and read as the last committed transaction
        left them: a racing completion or claim that committed while we waited is visible."""
        _drop_unwritten_history(session)
        locked = lock_task(session, task_id)
        if locked is None:
            raise NotFound("任务不存在")
        instance, row = locked
        return row, instance

    def _check_actor(self, row: HumanTask, instance: ProcessInstance, actor: Actor) -> None:
        """Scope, then permission, then state — in that order, so that an answer never tells more
        than the actor may know: a task of a case outside the actor's scope is NotFound (exactly like
        one that does not exist), one they may see but not act on is Forbidden, and only then is its
        state (done, claimed by someone else) a Conflict."""
        if row.assignee != actor.username and (row.lane in self.applicant_roles
                                               or not actor.takes(row.lane, row.region_code, row.organisation_id)):
            if row.completed_by == actor.username or self.can_view(actor, instance):
                raise Forbidden("您无权办理此任务")
            raise NotFound("任务不存在")
        if row.status != TaskStatus.OPEN:
            raise Conflict("任务已办理，不能重复提交")
        if row.assignee is not None and row.assignee != actor.username:
            raise Conflict(f"任务已被 {row.assignee} 认领")

    def complete_task(self, uow: UnitOfWork, task_id: str, actor: Actor, data: dict[str, Any]) -> ProcessInstance:
        session = uow.session
        row, instance = self._lock_task(session, task_id)
        self._check_actor(row, instance, actor)
        self._check_separation(session, instance, row, actor)
        if not row.form_key:  # a manual or untyped task (线下核验): done when its holder says so, with a note
            note = str(data.get("conclusion") or "").strip()
            cleaned: dict[str, Any] = {"conclusion": _reason(note, "说明")} if note else {}
        else:
            try:
                cleaned = self._form(self.specs.get(session, instance.definition_id), row.form_key).validate(data)
            except ValidationError as error:
                raise InvalidData("表单填写有误，请修改后重新提交", fields=_flatten_messages(error.messages)) from None
        for key in self.locked_fields(session, instance, row.name):  # shown, never changed at this step
            cleaned.pop(key, None)
        for check in self.task_checks:
            cleaned.update(check(session, instance, row, actor, cleaned))
        signing = signers.around(session, row.id)
        if signing.added is not None:  # an added signer's opinion (engine.signers)
            return self._complete_added(uow, row, instance, signing.added, actor, cleaned)
        if signing.blocking:
            raise Conflict("请等待加签人员办理完毕后再提交：" + "、".join(t.assignee or "" for t in signing.blocking))
        if signing.pending:  # 并加签 / 后加签: the completion waits for the added signers
            return self._hold(uow, row, instance, signing.pending, actor, cleaned)
        workflow = self._load(session, instance)
        task = _find_task(workflow, task_id)
        if task is None or task.state != TaskState.READY:
            raise Conflict("任务已不在待办状态")
        self._check_guard(task, cleaned)
        task.data.update(cleaned)
        decision = str(cleaned["decision"]) if cleaned.get("decision") is not None else None
        decided = countersign.decide(task, _task_properties(task), decision)  # a vote of a 会签 step
        writes = ActionWrites()
        writes.update_task(row, status=TaskStatus.COMPLETED, completed_at=utcnow(), completed_by=actor.username,
                           decision=decision)
        self._event(session, instance, "task_completed", actor=actor.username, task_name=row.name,
                    task_label=row.label, decision=decision, conclusion=cleaned.get("conclusion"),
                    details={k: _recorded(v) for k, v in cleaned.items() if k not in ("decision", "conclusion")})
        self._advance(uow, instance, workflow, actor, refusing=(InvalidData,), writes=writes, completing=task,
                      then=(lambda: countersign.finish_early(task)) if decided else None)
        return instance

    def locked_fields(self, session: Session, instance: ProcessInstance, step: str) -> frozenset[str]:
        """The form fields a step shows but does not let change (``lockedFields = report_year``): a
        resubmission edits what was returned, not what the start's checks judged (the year reported)."""
        value = self.step_property(session, instance, step, "lockedFields")
        return frozenset(key.strip() for key in value.split(",") if key.strip())

    def _check_office_step(self, row: HumanTask) -> None:
        """An applicant's own step (补正, 修改重新提交) is theirs to submit, nothing else: releasing it
        would leave it with nobody who may take it, returning it would skip the resubmission."""
        if row.lane in self.applicant_roles:
            raise Forbidden(APPLICANT_STEP)

    def _check_separation(self, session: Session, instance: ProcessInstance, row: HumanTask, actor: Actor) -> None:
        """职责分离: a step whose ``notCompletedBy`` names other steps (``accept``) may not be taken — claimed,
        completed, handed on, returned or given signers — by whoever completed one of them on this case:
        the 受理人 of an application is not its 审批人. Read from the append-only history, so that a step
        returned and done again by someone else does not wash the first completion away."""
        steps = [s.strip() for s in self.step_property(session, instance, row.name, "notCompletedBy").split(",")
                 if s.strip()]
        if not steps:
            return
        done = session.scalar(select(HistoryEvent.task_label).where(
            HistoryEvent.instance_id == instance.id, HistoryEvent.kind == "task_completed",
            HistoryEvent.task_name.in_(steps), HistoryEvent.actor == actor.username).limit(1))
        if done is not None:
            raise Forbidden(f"按职责分离的要求，办理过本件“{done}”的人员不能再办理“{row.label}”，请由其他人员办理")

    def _form(self, deployed: DeployedProcess, key: str) -> FormDefinition:
        """A form as the case's own version deployed it; versions deployed before forms were stored
        with their definition use the file as it is now."""
        return deployed.forms.get(key) or self.forms.get(key)

    def start_form(self, deployed: DeployedProcess) -> FormDefinition | None:
        """The form of a process's start event (what 发起办件 asks for), None when it has none."""
        return self._form(deployed, deployed.start_form) if deployed.start_form else None

    def task_form(self, session: Session, row: HumanTask) -> FormDefinition | None:
        """The form of a task row, from its case's version (for rendering and batch validation)."""
        if not row.form_key:
            return None
        instance = session.get(ProcessInstance, row.instance_id)
        if instance is None:
            raise NotFound("办件不存在")
        return self._form(self.specs.get(session, instance.definition_id), row.form_key)

    def _check_guard(self, task, cleaned: dict[str, Any]) -> None:
        """A user task's ``guard`` property: an expression over case data + form data that must hold."""
        props = _task_properties(task)
        guard = props.get("guard")
        if not guard:
            return
        context = {**task.data, **cleaned}
        try:
            allowed = self.environment.evaluate(guard, context)
        except (ScriptRejected, ArithmeticError, LookupError, NameError, TypeError, ValueError) as error:
            raise InvalidData(f"表单校验规则无法执行：{error}") from None
        if not allowed:
            raise InvalidData(props.get("guardMessage") or "当前数据不允许此操作")

    def claim(self, uow: UnitOfWork, task_id: str, actor: Actor) -> HumanTask:
        row, instance = self._lock_task(uow.session, task_id)
        self._check_actor(row, instance, actor)
        self._check_separation(uow.session, instance, row, actor)
        row.assignee = actor.username
        return row

    def unclaim(self, uow: UnitOfWork, task_id: str, actor: Actor) -> HumanTask:
        row, instance = self._lock_task(uow.session, task_id)
        self._check_actor(row, instance, actor)
        self._check_office_step(row)
        if row.assignee != actor.username:
            raise Conflict("只能退回自己认领的任务")
        row.assignee = None
        return row

    def delegate(self, uow: UnitOfWork, task_id: str, actor: Actor, to: Actor, note: str = "") -> HumanTask:
        """Hand an open task to a colleague who holds the task's role for its region."""
        row, instance = self._lock_task(uow.session, task_id)
        self._check_actor(row, instance, actor)
        self._check_office_step(row)
        self._check_separation(uow.session, instance, row, actor)
        if not to.takes(row.lane, row.region_code, row.organisation_id):
            raise InvalidData(f"{to.username} 不具备办理此任务的角色或区划权限")
        assignee, delegated_from = self._assignee(uow.session, instance, to.username)
        row.assignee = assignee
        self._event(uow.session, instance, "task_delegated", actor=actor.username, task_name=row.name,
                    task_label=row.label, conclusion=note or None,
                    details={"to": assignee, **({"delegated_from": delegated_from} if delegated_from else {})})
        self._write_history(uow.session)
        return row

    # ------------------------------------------------------------------ 加签 and 减签 (engine.signers)
    def add_signers(self, uow: UnitOfWork, task_id: str, actor: Actor, people: list[Actor], mode: str,
                    note: str = "") -> list[HumanTask]:
        """加签: tasks for ``people`` (staff the caller chose, checked by the caller) on this open step."""
        session = uow.session
        row, instance = self._lock_task(session, task_id)
        self._check_actor(row, instance, actor)
        self._check_office_step(row)
        self._check_separation(session, instance, row, actor)
        if signers.signer_of(session, row.id) is not None:
            raise InvalidData("加签人员不能再加签")
        if mode not in signers.MODES:
            raise InvalidData(f"加签方式应为 {'、'.join(signers.MODES)}", fields={"mode": ["请选择加签方式"]})
        present = {t.assignee for t in signers.added_tasks(session, row.id)}
        fresh = [p for p in {person.username: person for person in people}.values()
                 if p.username not in present and p.username != actor.username]
        if not fresh or len(present) + len(fresh) > signers.MAX_SIGNERS:
            raise InvalidData(f"请选择 1 到 {signers.MAX_SIGNERS} 位尚未加签的人员",
                              fields={"users": ["请选择加签人员"]})
        now = utcnow()
        created = []
        delegated: dict[str, str] = {}
        for person in fresh:
            assignee, delegated_from = self._assignee(session, instance, person.username)
            if delegated_from:
                delegated[delegated_from] = assignee or ""
            task = HumanTask(id=str(uuid4()), instance_id=instance.id, process_key=row.process_key,
                             process_version=row.process_version, business_key=row.business_key, name=row.name,
                             label=f"{row.label}（{signers.MODES[mode]}）", form_key=row.form_key, lane=row.lane,
                             region_code=row.region_code, organisation_id=row.organisation_id,
                             submitter=row.submitter, assignee=assignee,
                             status=signers.WAITING if mode == "after" else TaskStatus.OPEN, created_at=now,
                             due_at=row.due_at)
            session.add(task)
            session.flush()
            session.add(signers.TaskSigner(task_id=task.id, step_task_id=row.id, mode=mode, added_by=actor.username,
                                           added_at=now))
            created.append(task)
        self._event(session, instance, "signers_added", actor=actor.username, task_name=row.name, task_label=row.label,
                    conclusion=note or None, details={"mode": mode, "users": [p.username for p in fresh],
                                                      **({"delegated": delegated} if delegated else {})})
        self._write_history(session)
        return created

    def remove_signers(self, uow: UnitOfWork, task_id: str, actor: Actor, usernames: list[str]) -> ProcessInstance:
        """减签: cancel the added tasks of these people that are not done (only tasks made by 加签); a
        completion held for them goes through when none is left."""
        session = uow.session
        row, instance = self._lock_task(session, task_id)
        if row.status == signers.HELD:
            if row.completed_by != actor.username:
                self._check_actor(row, instance, actor)  # NotFound / Forbidden as for any step
                raise Forbidden("只有提交此环节的人员可以减签")
        else:
            self._check_actor(row, instance, actor)
        pending = signers.added_tasks(session, row.id)
        removing = [t for t in pending if t.assignee in set(usernames)]
        if not removing:
            raise InvalidData("所选人员没有尚未办理的加签任务", fields={"users": ["请选择可减签的人员"]})
        for task in removing:
            task.status = TaskStatus.CANCELLED
        self._event(session, instance, "signers_removed", actor=actor.username, task_name=row.name,
                    task_label=row.label, details={"users": [t.assignee for t in removing]})
        if row.status == signers.HELD and len(removing) == len(pending):
            return self._release(uow, row, instance, actor)
        self._write_history(session)
        return instance

    def _complete_added(self, uow: UnitOfWork, row: HumanTask, instance: ProcessInstance, added: Any, actor: Actor,
                        cleaned: dict[str, Any]) -> ProcessInstance:
        """An added signer's opinion: recorded; the last one releases a held completion of the step."""
        session = uow.session
        decision = str(cleaned["decision"]) if cleaned.get("decision") is not None else None
        row.status, row.completed_at, row.completed_by, row.decision = \
            TaskStatus.COMPLETED, utcnow(), actor.username, decision
        self._event(session, instance, "task_completed", actor=actor.username, task_name=row.name,
                    task_label=row.label, decision=decision, conclusion=cleaned.get("conclusion"),
                    details={"signer_for": added.step_task_id})
        session.flush()
        step = session.get(HumanTask, added.step_task_id)
        if step is not None and step.status == signers.HELD and not signers.added_tasks(session, step.id):
            return self._release(uow, step, instance, Actor(step.completed_by or SYSTEM.username))
        self._write_history(session)
        return instance

    def _hold(self, uow: UnitOfWork, row: HumanTask, instance: ProcessInstance, pending: list[HumanTask],
              actor: Actor, cleaned: dict[str, Any]) -> ProcessInstance:
        """The step's completion waits for its added signers (并加签, 后加签: whose tasks open now)."""
        session = uow.session
        workflow = self._load(session, instance)
        task = _find_task(workflow, row.id)
        if task is None or task.state != TaskState.READY:
            raise Conflict("任务已不在待办状态")
        self._check_guard(task, cleaned)
        self.workflows.put(instance.id, instance.state, workflow)  # unchanged: the next action may use it
        decision = str(cleaned["decision"]) if cleaned.get("decision") is not None else None
        row.status, row.completed_by, row.decision = signers.HELD, actor.username, decision
        session.add(signers.HeldCompletion(task_id=row.id, data=cleaned))
        for waiting in pending:
            if waiting.status == signers.WAITING:
                waiting.status, waiting.created_at = TaskStatus.OPEN, utcnow()
        self._event(session, instance, "completion_held", actor=actor.username, task_name=row.name,
                    task_label=row.label, decision=decision, conclusion=cleaned.get("conclusion"),
                    details={"waiting_for": [t.assignee for t in pending]})
        self._write_history(session)
        return instance

    def _release(self, uow: UnitOfWork, row: HumanTask, instance: ProcessInstance, actor: Actor) -> ProcessInstance:
        """Run a held completion now that no added signer is left."""
        session = uow.session
        held = session.get(signers.HeldCompletion, row.id)
        workflow = self._load(session, instance)
        task = _find_task(workflow, row.id)
        if held is None or task is None or task.state != TaskState.READY:
            raise Conflict("任务已不在待办状态")
        task.data.update(held.data)
        session.delete(held)
        writes = ActionWrites()
        writes.update_task(row, status=TaskStatus.COMPLETED, completed_at=utcnow())
        self._event(session, instance, "task_completed", actor=row.completed_by, task_name=row.name,
                    task_label=row.label, decision=row.decision, conclusion=held.data.get("conclusion"),
                    details={k: v for k, v in held.data.items() if k not in ("decision", "conclusion")})
        self._advance(uow, instance, workflow, actor, writes=writes, completing=task)
        return instance

    # ------------------------------------------------------------------ 退回 and 撤回 (engine.returns)
    def return_targets(self, session: Session, row: HumanTask) -> list[tuple[str, str]]:
        """(BPMN id, name) of the earlier steps the open task ``row`` may be returned to, earliest first."""
        instance = session.get(ProcessInstance, row.instance_id)
        if instance is None or row.status != TaskStatus.OPEN:
            return []

        def targets(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
            task = _find_task(workflow, row.id)
            if task is None or task.state != TaskState.READY:
                return []
            return [(bpmn_id, done.task_spec.bpmn_name or bpmn_id) for bpmn_id, done in _targets(task).items()]

        return self._read(session, instance, targets)

    def return_task(self, uow: UnitOfWork, task_id: str, actor: Actor, target: str, reason: str) -> ProcessInstance:
        """退回: send the case back from this open step to an earlier one, with a reason. The target is
        offered to its lane again — to the case's applicant in an applicant's lane, to the person who did
        it before where the process says ``returnAssignee = previous``."""
        session = uow.session
        row, instance = self._lock_task(session, task_id)
        self._check_actor(row, instance, actor)
        self._check_office_step(row)
        self._check_separation(session, instance, row, actor)
        reason = _reason(reason, "退回原因")
        workflow = self._load(session, instance)
        task = _find_task(workflow, task_id)
        if task is None or task.state != TaskState.READY:
            raise Conflict("任务已不在待办状态")
        earlier = _targets(task).get(target)
        if earlier is None:
            raise InvalidData("不能退回到该环节：只能退回到本环节之前已办理、且流程允许退回的环节",
                              fields={"target": ["请选择可退回的环节"]})
        previous = session.get(HumanTask, str(earlier.id))
        delegated_from: str | None = None
        self._rewind(uow, instance, workflow, earlier, actor)
        now = utcnow()
        writes = ActionWrites()
        writes.update_task(row, status=TaskStatus.COMPLETED, completed_at=now, completed_by=actor.username,
                           decision="return")
        if previous is not None:
            to_previous = self.specs.get(session, instance.definition_id).properties.get("returnAssignee") == "previous"
            assignee, delegated_from = (instance.started_by, None) if previous.lane in self.applicant_roles \
                else self._assignee(session, instance, previous.completed_by if to_previous else None)
            writes.update_task(previous, status=TaskStatus.OPEN, completed_at=None, completed_by=None, decision=None,
                               assignee=assignee, created_at=now, due_at=self._due_at(earlier, now))
        self._event(session, instance, "task_returned", actor=actor.username, task_name=row.name,
                    task_label=row.label, decision="return", conclusion=reason,
                    details={"target": target, "target_label": earlier.task_spec.bpmn_name or target,
                             **({"delegated_from": delegated_from} if previous and delegated_from else {})})
        self._advance(uow, instance, workflow, actor, writes=writes)
        return instance

    def withdraw_task(self, uow: UnitOfWork, task_id: str, actor: Actor) -> ProcessInstance:
        """撤回: the person who completed a step takes the decision back while the next step has not been
        acted on (nobody claimed it, nothing after it was done); the process may forbid it
        (``withdrawable = false``). The step is theirs again."""
        session = uow.session
        row, instance = self._lock_task(session, task_id)
        if row.status == TaskStatus.OPEN and row.assignee == actor.username:
            raise Conflict("该环节已在您的待办中，无需撤回")  # a double click on 撤回
        if row.completed_by != actor.username:
            if self.can_view(actor, instance):
                raise Forbidden("只能撤回本人办理的环节")
            raise NotFound("任务不存在")
        if row.status != TaskStatus.COMPLETED or row.decision == "return":
            raise Conflict("该环节不是已办理状态，不能撤回")
        if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.WAITING):
            raise Conflict("办件已办结、已终止或处于异常状态，不能撤回")
        if self.specs.get(session, instance.definition_id).properties.get("withdrawable", "").lower() == "false":
            raise Forbidden("本流程不允许撤回已办理的环节")
        workflow = self._load(session, instance)
        task = _find_task(workflow, task_id)
        if task is None or task.state != TaskState.COMPLETED:
            raise Conflict("流程已推进，不能撤回")
        following = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                     if returns.reaches(task.task_spec, t.task_spec)}
        later = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.id != row.id,
                                                        HumanTask.completed_at > row.completed_at)).first()
        if not following or later is not None:
            raise Conflict("下一环节已经办理，不能撤回")
        if any(t.assignee is not None for t in self.open_tasks(session, instance.id) if t.id in following):
            raise Conflict("下一环节已有人认领，不能撤回")
        self._rewind(uow, instance, workflow, task, actor)
        now = utcnow()
        writes = ActionWrites()
        writes.update_task(row, status=TaskStatus.OPEN, completed_at=None, completed_by=None, decision=None,
                           assignee=actor.username, created_at=now, due_at=self._due_at(task, now))
        self._event(session, instance, "task_withdrawn", actor=actor.username, task_name=row.name,
                    task_label=row.label)
        self._advance(uow, instance, workflow, actor, writes=writes)
        return instance

    def _rewind(self, uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow, target: Any,
                actor: Actor) -> None:
        """engine.returns.rewind with the case's script engine: resetting may evaluate designer code
        (a 会签 step's loopCardinality); a failure refuses the action (nothing is written, and the workflow
        was taken out of the cache by ``_load``)."""
        workflow.script_engine = self._script_engine(uow, instance, actor)
        try:
            with self.environment.action():
                returns.rewind(workflow, target)
        except Exception as error:  # noqa: BLE001 - the workflow's own failures, whatever their class
            raise Conflict("无法退回：%(problem)s" % dict(problem=incident_words.problem(error))) from None

    def _assignee(self, session: Session, instance: ProcessInstance,
                  username: str | None) -> tuple[str | None, str | None]:
        """(assignee, delegated from): a task meant for ``username`` goes to their delegate while a
        standing delegation (委托) runs."""
        if username is None or self.assignee_redirect is None:
            return username, None
        delegate = self.assignee_redirect(session, username, instance)
        return (delegate, username) if delegate else (username, None)

    def _due_at(self, task: Any, now: datetime) -> datetime | None:
        """The due date of a user task opened at ``now`` (its ``dueIn``)."""
        rule = _task_properties(task).get("dueIn")
        if not rule:
            return None
        amount, unit = parse_due_rule(rule)
        return self.due_calculator(now, amount, unit)

    # ------------------------------------------------------------------ repair
    def retry(self, uow: UnitOfWork, instance_id: int, actor: Actor) -> ProcessInstance:
        """Run the failed step of an instance in ``error`` again, after its cause was fixed."""
        session = uow.session
        instance = self._lock_instance(session, instance_id)
        if instance.status != InstanceStatus.ERROR:
            raise Conflict("办件不处于异常状态，无需重试")
        workflow = self._load(session, instance)
        for task in workflow.get_tasks(state=TaskState.ERROR):
            task._set_state(TaskState.READY)
        stalled = [task for task in _standing_tasks(workflow) if task.state == TaskState.FUTURE]
        session.execute(update(Incident).where(Incident.instance_id == instance.id, Incident.resolved_at.is_(None))
                        .values(resolved_at=utcnow(), resolved_by=actor.username))
        self._event(session, instance, "retried", actor=actor.username)

        def update_stalled() -> None:
            """A step that failed while becoming ready (see _retryable) becomes ready again, inside the run."""
            for task in stalled:
                task.task_spec._update(task)

        self._advance(uow, instance, workflow, actor, then=update_stalled)
        return instance

    def terminate(self, uow: UnitOfWork, instance_id: int, actor: Actor, reason: str, *,
                  ending: str = lifecycle.TERMINATED,
                  allowed: Callable[[ProcessInstance], None] | None = None) -> ProcessInstance:
        """End a case for good: every open task and timer goes, the module's termination hook runs (a
        listener). ``ending``: its 办件状态 — 终止 by a supervisor, 撤回 / 撤销 by the applicant;
        ``allowed`` checks the locked row (raising to refuse), so that no concurrent change slips in
        between the check and the end."""
        session = uow.session
        instance = self._lock_instance(session, instance_id)
        if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
            raise Conflict("办件已结束")
        if allowed is not None:
            allowed(instance)
        workflow = self._load(session, instance)
        workflow.cancel()
        self._event(session, instance, "terminated", actor=actor.username, conclusion=reason,
                    details={"case_status": ending})
        self._persist(uow, instance, workflow, InstanceStatus.TERMINATED, ended=True, ending=ending)
        return instance

    def extend_task(self, uow: UnitOfWork, task_id: str, actor: Actor, until: datetime, reason: str) -> HumanTask:
        """延期: an open step's deadline moves to ``until``, with the reason in the history. Who may extend
        which step, and by how much, is the caller's rule (a leader, at most 30 日, once: 信访条例 §33)."""
        session = uow.session
        row, instance = self._lock_task(session, task_id)
        if row.status != TaskStatus.OPEN:
            raise Conflict("任务已办理，不能延期")
        if row.due_at is not None and until <= row.due_at:
            raise InvalidData("延期后的期限应晚于原期限")
        self._event(session, instance, "task_extended", actor=actor.username, task_name=row.name,
                    task_label=row.label, conclusion=_reason(reason, "延期理由"),
                    details={"from": row.due_at.isoformat() if row.due_at else None, "to": until.isoformat()})
        row.due_at = until
        self._write_history(session)
        return row

    def mark_opened(self, uow: UnitOfWork, instance_id: int) -> None:
        """Record that staff first opened the case (until then its applicant may 撤回 it). Bumps the row's
        version, so that a withdrawal that read the row before this loses (engine.writes)."""
        uow.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id,
                                                          ProcessInstance.staff_opened_at.is_(None))
                            .values(staff_opened_at=utcnow(), lock_version=ProcessInstance.lock_version + 1)
                            .execution_options(synchronize_session=False))

    def move_to_organisation(self, uow: UnitOfWork, instance_id: int, organisation_id: int, region_code: str,
                             actor: Actor, reason: str) -> ProcessInstance:
        """The case goes on at another organisation (in ``region_code``, its region): its open steps
        leave whoever held them and wait for the holders of their posts there. Who may move it where
        is the caller's rule (a 信访 item goes only to a lower or directly subordinate organisation)."""
        session = uow.session
        instance = self._lock_live_instance(session, instance_id)
        self._event(session, instance, "moved", actor=actor.username, conclusion=reason or None,
                    details={"from": instance.organisation_id, "to": organisation_id})
        session.execute(update(HumanTask).where(HumanTask.instance_id == instance_id,
                                                HumanTask.status == TaskStatus.OPEN)
                        .values(organisation_id=organisation_id, region_code=region_code, assignee=None)
                        .execution_options(synchronize_session="fetch"))
        writes = ActionWrites()
        writes.insert_history(session.info.pop(_HISTORY, []))
        writes.send(session, instance, updated_at=utcnow(), organisation_id=organisation_id, region_code=region_code)
        return instance

    # ------------------------------------------------------------------ case repair (engine.migration)
    def migrate(self, uow: UnitOfWork, instance_id: int, target_definition_id: int, actor: Actor,
                mapping: Mapping[str, str] | None = None, dry_run: bool = False) -> migration.MigrationPlan:
        """迁移: move a running case to another deployed version of its process. Each step it stands at
        goes to the step with the same BPMN id in the target (``mapping``: old id → new id, for steps
        renamed); a case at a step the target lacks, inside a call activity, or in other states
        ``engine.migration`` describes is refused with the reason in words. ``dry_run``: only the plan
        (what would move where, or the refusal), nothing changes. Otherwise a refusal raises Conflict;
        the case is rebuilt on the target version (``engine.migration.graft``, the data carried over),
        its open task rows cancelled and new ones opened by ``_persist`` (keeping their claims and
        due dates), and a ``migrated`` history event records both versions. Who may do so is the
        caller's rule (services.platform.case_repair)."""
        session = uow.session
        instance = self.get_instance(session, instance_id) if dry_run else self._lock_instance(session, instance_id)
        target = session.get(ProcessDefinition, target_definition_id)
        if target is None or target.filename.endswith(".dmn"):
            raise NotFound("目标流程版本不存在")
        if target.key != instance.process_key:
            raise InvalidData(f"只能迁移到同一流程的其他版本（办件的流程是 {instance.process_key}，"
                              f"目标是 {target.key}）")
        plan = migration.MigrationPlan(instance.id, instance.business_key, instance.process_version, target.version)
        mapping = {str(k).strip(): str(v).strip() for k, v in (mapping or {}).items() if str(k).strip()}
        try:
            self._check_movable(session, instance, repairing=True)
            if target.id == instance.definition_id:
                raise migration.Refused(f"办件已在 v{target.version} 上办理")
            deployed = self.specs.get(session, target.id)

            def targets_of(workflow: BpmnWorkflow) -> list[tuple[migration.Position, Any]]:
                self._check_signers(session, instance, workflow)
                return migration.targets_for(workflow, deployed.spec, mapping)

            if dry_run:
                plan.moves = self._read(session, instance, lambda workflow: [
                    (p.step, p.label, spec.bpmn_id, migration.step_label(spec)) for p, spec in targets_of(workflow)])
                return plan
            workflow = self._load(session, instance)
            targets = targets_of(workflow)
        except migration.Refused as refused:
            if not dry_run:
                raise
            plan.refusal = refused.message
            return plan
        plan.moves = [(p.step, p.label, spec.bpmn_id, migration.step_label(spec)) for p, spec in targets]
        rows = {row.name: row for row in self.open_tasks(session, instance.id)}
        fresh = self._graft(uow, instance, actor, deployed, workflow,
                            [(spec, position.task) for position, spec in targets])
        self._event(session, instance, "migrated", actor=actor.username,
                    details={"from_version": instance.process_version, "to_version": target.version,
                             "from_definition_id": instance.definition_id, "to_definition_id": target.id,
                             "steps": [{"from": a, "from_label": b, "to": c, "to_label": d}
                                       for a, b, c, d in plan.moves],
                             **({"mapping": mapping} if mapping else {})})
        for name, value in (("definition_id", target.id), ("process_version", target.version), ("definition", target)):
            set_committed_value(instance, name, value)  # what the task rows and the declared values are of
        if instance.status == InstanceStatus.ERROR:  # the failed step runs again on the target version
            session.execute(update(Incident).where(Incident.instance_id == instance.id, Incident.resolved_at.is_(None))
                            .values(resolved_at=utcnow(), resolved_by=actor.username))
        self._advance(uow, instance, fresh, actor, values={"definition_id": target.id,
                                                           "process_version": target.version})
        self._keep_claims(session, instance, {spec.bpmn_id: rows.get(position.step) for position, spec in targets})
        plan.done = True
        return plan

    def _graft(self, uow: UnitOfWork, instance: ProcessInstance, actor: Actor, deployed: DeployedProcess,
               workflow: BpmnWorkflow, targets: list[tuple[Any, Any]]) -> BpmnWorkflow:
        """``engine.migration.graft`` with the case's script engine: standing a case at a step may evaluate
        designer code (a 会签 step's loopCardinality); a failure refuses the move, nothing is written."""
        try:
            with self.environment.action():
                return migration.graft(deployed.spec, deployed.subprocess_specs, workflow, targets,
                                       self._script_engine(uow, instance, actor))
        except Exception as error:  # noqa: BLE001 - the workflow's own failures, whatever their class
            raise Conflict("无法把办件移到所选环节：%(problem)s"
                           % dict(problem=incident_words.problem(error))) from None

    def _check_movable(self, session: Session, instance: ProcessInstance, repairing: bool = False) -> None:
        """``repairing`` (迁移): a case in ``error`` may move to a version that fixes the failing step — the
        failed step is one of its positions (``engine.migration.positions``) and runs again there."""
        if instance.status == InstanceStatus.ERROR and not repairing:
            raise migration.Refused("办件处于异常状态，请先排除异常、重试后再处理")
        if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR):
            raise migration.Refused("办件已办结或已终止")

    def _check_signers(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        """A step with 加签 under way (added signers' tasks, a held completion) is not moved: their
        rows belong to the step's task, which the move replaces."""
        ready = {str(task.id) for task in workflow.get_tasks(state=TaskState.READY, manual=True)}
        undone = session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.status.in_(UNDONE)))
        if any(task_id not in ready for task_id in undone):
            raise migration.Refused("办件有加签尚未办理完毕，请办完或减签后再处理")

    def _keep_claims(self, session: Session, instance: ProcessInstance, before: Mapping[str, HumanTask | None]) -> None:
        """The new task rows of a moved step keep the claim and the deadline of the row they replace."""
        for row in self.open_tasks(session, instance.id):
            old = before.get(row.name)
            if old is None or old.id == row.id:
                continue
            kept = {name: getattr(old, name) for name in ("assignee", "due_at") if getattr(old, name) is not None}
            if kept:
                session.execute(update(HumanTask).where(HumanTask.id == row.id).values(**kept)
                                .execution_options(synchronize_session="fetch"))

    def user_steps(self, session: Session, instance: ProcessInstance) -> list[tuple[str, str]]:
        """(BPMN id, name) of the user steps of the case's process version, in the flow's order: where
        :meth:`move_to_step` may move it."""
        return migration.user_steps(self.specs.get(session, instance.definition_id).spec)

    def move_to_step(self, uow: UnitOfWork, instance_id: int, actor: Actor, target: str,
                     reason: str) -> ProcessInstance:
        """调整环节: a supervisor moves a running case to any user step of its process, with a reason.
        To a step done earlier on the way to an open step, it is 退回's move (``engine.returns.rewind``:
        that step's row opens again, what follows it is voided, parallel branches stay); to any other
        step (a later one, one never reached) the case is rebuilt standing there (``engine.migration.graft``
        on its own version, its data carried over, every open step closed). Who may do so is the
        caller's rule (services.platform.case_repair)."""
        session = uow.session
        reason = _reason(reason, "调整原因")
        instance = self._lock_instance(session, instance_id)
        self._check_movable(session, instance)
        deployed = self.specs.get(session, instance.definition_id)
        steps = dict(migration.user_steps(deployed.spec))
        if target not in steps:
            raise InvalidData("只能调整到本流程的人工办理环节", fields={"target": ["请选择环节"]})
        workflow = self._load(session, instance)
        here = migration.positions(workflow)
        self._check_signers(session, instance, workflow)
        if [p.step for p in here] == [target]:
            raise Conflict(f"办件已在“{steps[target]}”环节")
        earlier = next((found for p in here if p.task.state == TaskState.READY and p.task.task_spec.manual
                        and (found := returns.earlier_steps(workflow, p.task).get(target)) is not None), None)
        self._event(session, instance, "moved_to_step", actor=actor.username, task_name=target,
                    task_label=steps[target], conclusion=reason,
                    details={"from": [p.step for p in here], "from_labels": [p.label for p in here],
                             "target": target, "target_label": steps[target],
                             "how": "return" if earlier is not None else "rebuild"})
        writes = ActionWrites()
        if earlier is not None:
            previous = session.get(HumanTask, str(earlier.id))
            self._rewind(uow, instance, workflow, earlier, actor)
            if previous is not None:
                now = utcnow()
                writes.update_task(previous, status=TaskStatus.OPEN, completed_at=None, completed_by=None,
                                   decision=None, created_at=now, due_at=self._due_at(earlier, now),
                                   assignee=instance.started_by if previous.lane in self.applicant_roles else None)
            self._advance(uow, instance, workflow, actor, writes=writes)
        else:
            spec = migration.find_step(deployed.spec, target)
            fresh = self._graft(uow, instance, actor, deployed, workflow, [(spec, here[0].task)])
            self._advance(uow, instance, fresh, actor, writes=writes)
        return instance

    def edit_data(self, uow: UnitOfWork, instance_id: int, actor: Actor, changes: Mapping[str, Any],
                  reason: str) -> dict[str, tuple[Any, Any]]:
        """修改业务数据: a supervisor corrects variables of a case that has not ended, with a reason. Only
        variables the case has, each given a value of the JSON type of its old one (a date stays a date:
        ISO text is read as one; a variable that was empty takes any JSON value); the steps still to
        come see the new values. The history event records old and new values; returns
        ``{name: (old, new)}`` of what changed (for the caller's audit log). Who may do so is the
        caller's rule (services.platform.case_repair)."""
        session = uow.session
        reason = _reason(reason, "修改原因")
        if not changes:
            raise InvalidData("请填写要修改的数据", fields={"changes": ["请填写要修改的数据"]})
        instance = self._lock_instance(session, instance_id)
        if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
            raise Conflict("办件已办结或已终止，不能修改业务数据")
        workflow = self._load(session, instance)
        live = _standing_tasks(workflow)
        live += [task.parent for task in live if task.state == TaskState.FUTURE]  # what a stalled step inherits
        current = {key: value for task in live for key, value in task.data.items()} | dict(workflow.data) | (
            dict(workflow.last_task.data) if workflow.last_task else {})
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in current:
                errors[key] = ["办件数据中没有此项，只能修改已有的数据"]
                continue
            try:
                cleaned[key] = _like(current[key], value)
            except ValueError as problem:
                errors[key] = [str(problem)]
        if errors:
            self.workflows.put(instance.id, instance.state, workflow)  # unchanged
            problems = "；".join(f"{k}：{v[0]}" for k, v in errors.items())
            raise InvalidData("修改的数据有误：%(problems)s" % dict(problems=problems), fields=errors)
        changed = {key: (current[key], value) for key, value in cleaned.items() if value != current[key]}
        if not changed:
            self.workflows.put(instance.id, instance.state, workflow)
            raise InvalidData("没有修改任何数据", fields={"changes": ["新值与原值相同"]})
        for task in [*live, *([workflow.last_task] if workflow.last_task is not None else [])]:
            for key, (_old, new) in changed.items():
                task.data[key] = copy.deepcopy(new)
        for key, (_old, new) in changed.items():
            if key in workflow.data:
                workflow.data[key] = copy.deepcopy(new)
        self._event(session, instance, "data_edited", actor=actor.username, conclusion=reason,
                    details={"changes": {key: {"from": _recorded(old), "to": _recorded(new)}
                                         for key, (old, new) in changed.items()}})
        self._persist(uow, instance, workflow, instance.status)
        return changed

    def pause_clock(self, uow: UnitOfWork, instance_id: int, actor: Actor, reason: str) -> ProcessInstance:
        """中止 by hand: the case's clock stands still, with the reason, until :meth:`resume_clock`
        (a step's end never resumes a clock stopped by hand). Who may do so is decided by the caller."""
        session = uow.session
        instance = self._lock_instance(session, instance_id)
        if instance.clock_state != case_clock.RUNNING:
            raise Conflict("办件时限未在计时，不能中止")
        self._event(session, instance, "clock_paused", actor=actor.username, conclusion=reason)
        self._write_clock(session, instance, clock_state=case_clock.PAUSED, clock_paused_since=utcnow(),
                          clock_pause_reason=reason)
        return instance

    def resume_clock(self, uow: UnitOfWork, instance_id: int, actor: Actor, note: str = "") -> ProcessInstance:
        """恢复 by hand of a clock paused by hand: the paused working days move the due dates."""
        session = uow.session
        instance = self._lock_instance(session, instance_id)
        if instance.clock_state != case_clock.PAUSED or not instance.clock_pause_reason:
            raise Conflict("办件时限未被人工中止，不能恢复")
        now = utcnow()
        rules = self.specs.get(session, instance.definition_id).clock
        days = case_clock.paused_between(rules, self.working_days, instance.clock_paused_since or now, now)
        total = instance.clock_paused_days + days
        self._event(session, instance, "clock_resumed", actor=actor.username, conclusion=note or None,
                    details={"paused_days": days})
        self._write_clock(session, instance, clock_state=case_clock.RUNNING, clock_paused_since=None,
                          clock_pause_reason="", clock_paused_days=total,
                          **case_clock.due_dates(rules, instance.clock_started_at or now, total, self.due_calculator))
        return instance

    def _write_clock(self, session: Session, instance: ProcessInstance, **values: Any) -> None:
        writes = ActionWrites()
        writes.insert_history(session.info.pop(_HISTORY, []))
        writes.send(session, instance, updated_at=utcnow(), **values)

    def supervise(self, uow: UnitOfWork, task_id: str, actor: Actor, note: str = "") -> HumanTask:
        """Record that someone chased an open task (督办) as a ``supervised`` history event on its
        instance; the task itself does not change. Who may do so is decided by the caller."""
        row, instance = self._lock_task(uow.session, task_id)
        if row.status != TaskStatus.OPEN:
            raise Conflict("任务已办理，无需督办")
        self._event(uow.session, instance, "supervised", actor=actor.username, task_name=row.name,
                    task_label=row.label, conclusion=note or None,
                    details={"assignee": row.assignee, "due_at": row.due_at.isoformat() if row.due_at else None})
        self._write_history(uow.session)
        return row

    # ------------------------------------------------------------------ events from outside
    @staticmethod
    def _lock_instance(session: Session, instance_id: int) -> ProcessInstance:
        """The instance row, locked for this transaction (the lock every state change takes first)."""
        _drop_unwritten_history(session)
        instance = session.scalars(_LOCK_INSTANCE, {"instance_id": instance_id}).first()
        if instance is None:
            raise NotFound("办件不存在")
        return instance

    def _lock_live_instance(self, session: Session, instance_id: int) -> ProcessInstance:
        instance = self._lock_instance(session, instance_id)
        if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.WAITING):
            raise Conflict("办件已结束或处于异常状态")
        return instance

    def send_message(self, uow: UnitOfWork, instance_id: int, message_name: str, payload: dict[str, Any],
                     actor: Actor = SYSTEM) -> ProcessInstance:
        """Deliver a BPMN message to the instance's waiting message catch event (or receive task) and
        advance it, e.g. when a background job reports back. Conflict when nothing waits for it."""
        session = uow.session
        instance = self._lock_live_instance(session, instance_id)
        workflow = self._load(session, instance)
        catching = [task for task in list(workflow.event_manager.tasks.values())
                    if task.state == TaskState.WAITING and task.task_spec.event_definition.name == message_name]
        if not catching:
            raise Conflict(f"办件未在等待消息 {message_name}")
        self._event(session, instance, "message_received", actor=actor.username,
                    task_name=catching[0].task_spec.bpmn_id, details={"message": message_name})
        # catching evaluates designer code (correlation keys, the payload's variable): inside the run, so
        # that a failure there is an incident of the case, never an escaped exception
        with self.environment.action():
            self._advance(uow, instance, workflow, actor,
                          then=lambda: workflow.catch(BpmnEvent(catching[0].task_spec.event_definition, payload)))
        return instance

    def fire_timer(self, uow: UnitOfWork, timer_id: int) -> bool:
        """Fire one due timer row and advance its instance; False when another scheduler already
        fired it (or it no longer applies). The claim and the advance commit together."""
        session = uow.session
        timer = session.get(Timer, timer_id)
        if timer is None or timer.fired:
            return False
        instance = self._lock_instance(session, timer.instance_id)  # instance first: the lock order of complete_task
        claimed = rowcount(session.execute(update(Timer).where(Timer.id == timer_id, Timer.fired.is_(False))
                                           .values(fired=True, fired_at=utcnow())))
        if not claimed or instance.status not in (InstanceStatus.RUNNING, InstanceStatus.WAITING):
            return False
        workflow = self._load(session, instance)
        task = _find_task(workflow, timer.task_id)
        if task is None or task.state != TaskState.WAITING:
            return False
        armed = timer_due_at(task)

        def fire() -> None:
            """SpiffWorkflow's own clock decides that the timer fired (a timer whose time fails is the
            case's incident, like any step)."""
            workflow.refresh_timers()
            if task.state == TaskState.WAITING and timer_due_at(task) == armed:
                raise _NotDue("定时器尚未到期（各服务器时钟不一致？）")

        self._event(session, instance, "timer_fired", actor="system", task_name=timer.name,
                    task_label=task.task_spec.bpmn_name, details={"due_at": timer.due_at.isoformat()})
        self._advance(uow, instance, workflow, SYSTEM, then=fire, refusing=(_NotDue,))
        return True

    # ------------------------------------------------------------------ internals
    def _script_engine(self, uow: UnitOfWork, instance: ProcessInstance, actor: Actor) -> ServiceScriptEngine:
        session = uow.session

        def call_operator(task, name: str, params: dict[str, Any]) -> str:
            context = OperatorContext(
                session=session, instance_id=instance.id, business_key=instance.business_key,
                region_code=instance.region_code, data=task.data, actor=actor.username,
                after_commit=uow.after_commit, before_commit=uow.before_commit)
            values = {key: param["value"] for key, param in params.items()}
            with session.begin_nested():
                result = self.operators.call(name, context, values)
            self._event(session, instance, "service_task", actor="system", task_name=task.task_spec.bpmn_id,
                        task_label=task.task_spec.bpmn_name, details={"operator": name})
            return json.dumps(result, default=str, ensure_ascii=False)

        return ServiceScriptEngine(self.environment, call_operator)

    def _load(self, session: Session, instance: ProcessInstance) -> BpmnWorkflow:
        """The instance's workflow, for an action that changes it (see ``WorkflowCache``)."""
        cached = self.workflows.take(instance.id, instance.state)
        if cached is not None:
            return cached
        deployed = self.specs.get(session, instance.definition_id)
        return load_state(instance.state, deployed.spec, deployed.subprocess_specs, None)

    def _read(self, session: Session, instance: ProcessInstance, read: Callable[[BpmnWorkflow], Any]) -> Any:
        """``read`` applied to the instance's workflow, which stays cached for the next action; what
        it returns is a deep copy, so that no caller can change the cached workflow's data."""
        workflow = self._load(session, instance)
        try:
            return copy.deepcopy(read(workflow))
        finally:
            self.workflows.put(instance.id, instance.state, workflow)

    def _advance(self, uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow, actor: Actor,
                 refusing: tuple[type[EngineError], ...] = (), writes: ActionWrites | None = None,
                 completing: Any = None, then: Callable[[], None] | None = None,
                 values: Mapping[str, Any] | None = None) -> None:
        """Run the engine steps; whatever fails in them becomes an incident of the case, in words
        (``engine.incident_words``). ``refusing``: engine errors that refuse the whole action instead
        (a user completing a task: an operator that rejects the submitted data with InvalidData); the
        caller's unit of work is then not committed. ``writes``: what the
        caller's action already collected to write along (see ``engine.writes``); ``completing``: the user
        task this action completes, run first with the case's script engine (what follows it may
        evaluate designer code, e.g. a 会签 step's loopCardinality); ``then``: what follows its run before
        the engine steps (a 会签 step decided early, engine.countersign); ``values``: other columns of the
        instance the action changes (a migration's definition and version)."""
        session = uow.session
        workflow.script_engine = self._script_engine(uow, instance, actor)
        error: Exception | None = None
        steps = 0

        def count_step(task) -> None:  # "task": the step about to run, named by the incident of a loop
            nonlocal steps
            steps += 1
            if steps > MAX_ENGINE_STEPS:
                raise ScriptRejected(f"一次办理中自动执行的流程步骤超过 {MAX_ENGINE_STEPS:,} 个，已停止"
                                     "（流程可能存在死循环）")

        try:
            with self.environment.action():
                if completing is not None:
                    completing.run()
                if then is not None:
                    then()
                workflow.do_engine_steps(will_complete_task=count_step)
        except Exception as exc:  # any failure of a step becomes an incident, never a crash
            inner = getattr(exc, "error", None) or getattr(exc, "exception", None) or exc
            if isinstance(inner, refusing):
                raise inner from None
            error = exc
        if error is not None:
            status = InstanceStatus.ERROR
            self._incident(session, instance, workflow, error)
        elif workflow.is_completed():
            status = InstanceStatus.COMPLETED
            self._event(session, instance, "completed")
        else:
            waiting = workflow.get_tasks(state=TaskState.READY, manual=True) or workflow.get_tasks(
                state=TaskState.WAITING)
            status = InstanceStatus.WAITING if waiting else InstanceStatus.RUNNING
        workflow.script_engine = None
        self._persist(uow, instance, workflow, status, ended=status == InstanceStatus.COMPLETED, writes=writes,
                      values=values)

    def _incident(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow,
                  error: BaseException) -> None:
        """Record a failure of the case's steps: an incident in words naming the step (its BPMN id is
        what the diagram marks) and an ``error`` history event that also keeps SpiffWorkflow's own text."""
        described = incident_words.describe(error, workflow)
        _retryable(described.task)
        log.warning("instance %s failed at %s: %s", instance.id, described.step, described.detail)
        incident = Incident(instance_id=instance.id, task_name=described.step, message=described.message)
        session.add(incident)
        session.flush()  # its id ties the history's event, which keeps the detail, to it (the case page's 详情)
        self._event(session, instance, "error", task_name=described.step, task_label=described.label,
                    details={"message": described.message, "detail": described.detail, "incident_id": incident.id})

    def _persist(self, uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow, status: str, *,
                 ended: bool = False, writes: ActionWrites | None = None, ending: str = lifecycle.TERMINATED,
                 values: Mapping[str, Any] | None = None) -> None:
        """Write back the workflow state, the task rows, the history and the timer rows of an instance:
        the first three together with the instance's versioned UPDATE (see ``engine.writes``). Once
        committed, the workflow is cached with the state it was written as."""
        session = uow.session
        writes = writes or ActionWrites()
        now = utcnow()
        declared = self._declared_values(session, instance, workflow, status, now, ending)  # may add history events
        self._sync_tasks(session, instance, workflow, status, writes)
        events = session.info.pop(_HISTORY, [])
        writes.insert_history(events)
        for listener in self.listeners:
            listener(uow, instance, events)
        state = dump_state(workflow)
        writes.send(session, instance, state=state, status=status, updated_at=now,
                    ended_at=now if ended else instance.ended_at, **declared, **(values or {}))
        sync_timers(session, instance, workflow)
        uow.after_commit(lambda: self.workflows.put(instance.id, state, workflow))

    def _declared_values(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, status: str,
                         now: datetime, ending: str = lifecycle.TERMINATED) -> dict[str, Any]:
        """What the case's process declares about it, where it changed: the title, summary and search
        text (caseTitle, summaryFields), the 办件状态 its steps set (caseStatus) and its clock."""
        deployed = self.specs.get(session, instance.definition_id)
        values: dict[str, Any] = self._clock(session, deployed.clock, instance, workflow, status, now)
        if deployed.summary.declared:
            data = dict(workflow.data) | (dict(workflow.last_task.data) if workflow.last_task else {})
            values.update(deployed.summary.values(data, instance.business_key))
        if status == InstanceStatus.TERMINATED:
            values["case_status"] = ending
        elif (case_status := lifecycle.current_status(workflow, deployed.status_steps)) is not None:
            values["case_status"] = case_status
        return {name: value for name, value in values.items() if getattr(instance, name) != value}

    def _clock(self, session: Session, rules: case_clock.ClockRules, instance: ProcessInstance,
               workflow: BpmnWorkflow, status: str, now: datetime) -> dict[str, Any]:
        """The clock's transitions in this action (engine.case_clock): it starts when its start step
        completes, stands still while a pausing step is open, stops when the case ends."""
        if not rules.declared or instance.clock_state == case_clock.STOPPED:
            return {}
        values: dict[str, Any] = {}
        state, started_at = instance.clock_state, instance.clock_started_at
        ended = status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)
        if not state:
            if rules.starts_at is not None and not _has_completed(workflow, rules.starts_at):
                return {}
            state, started_at = case_clock.RUNNING, now
            values.update(clock_state=state, clock_started_at=now,
                          **case_clock.due_dates(rules, now, 0, self.due_calculator))
            due = values["clock_due_at"]
            self._event(session, instance, "clock_started", details={"due_at": due.isoformat() + "+00:00"})
        pausing = None if ended else _open_step(workflow, rules.pausing)
        if state == case_clock.PAUSED and instance.clock_pause_reason and not ended:
            return values  # paused by hand: only 恢复 by hand resumes it
        if state == case_clock.PAUSED and pausing is None:
            paused_since = instance.clock_paused_since or now
            days = case_clock.paused_between(rules, self.working_days, paused_since, now)
            total = instance.clock_paused_days + days
            state = case_clock.RUNNING
            values.update(clock_state=state, clock_paused_since=None, clock_paused_days=total, clock_pause_reason="",
                          **case_clock.due_dates(rules, started_at or now, total, self.due_calculator))
            self._event(session, instance, "clock_resumed", details={"paused_days": days})
        elif state == case_clock.RUNNING and pausing is not None:
            values.update(clock_state=case_clock.PAUSED, clock_paused_since=now)
            self._event(session, instance, "clock_paused", task_name=pausing.task_spec.bpmn_id,
                        task_label=pausing.task_spec.bpmn_name)
        if ended:
            values["clock_state"] = case_clock.STOPPED
        return values

    def _sync_tasks(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, status: str,
                    writes: ActionWrites) -> None:
        """Make the open task rows equal to the workflow's READY user tasks.

        In ``error`` the open rows are kept as they are (a retry resumes them); once terminated
        every open row is cancelled."""
        if status == InstanceStatus.ERROR:  # rows stay as they are until a retry
            completed = writes.updated_task_ids
            instance.open_task_ids = tuple(task.id for task in self.open_tasks(session, instance.id)
                                           if task.id not in completed)
            return
        ready = {}
        if status != InstanceStatus.TERMINATED:
            ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        instance.open_task_ids = tuple(ready)
        now = utcnow()
        rows = []
        for task_id, task in ready.items():
            props = _task_properties(task)
            due_at = self._due_at(task, now)
            rows.append({
                "id": task_id, "instance_id": instance.id, "process_key": instance.process_key,
                "process_version": instance.process_version, "business_key": instance.business_key,
                "name": task.task_spec.bpmn_id, "label": (task.task_spec.bpmn_name or task.task_spec.bpmn_id)[:200],
                "form_key": props.get("formKey", ""), "lane": _task_role(task, props),
                "region_code": instance.region_code, "organisation_id": self._step_organisation(task, props, instance),
                "submitter": instance.submitter, "status": TaskStatus.OPEN,
                "created_at": now, "due_at": due_at,
                # a step in an applicant's lane (补正) is the case's own applicant's, never another party's
                "assignee": instance.started_by if _task_role(task, props) in self.applicant_roles
                else self._named_assignee(task, props),
            })
        writes.keep_open_tasks(instance.id, rows, signers.kept_with(session, instance.id, frozenset(ready)))

    def _step_organisation(self, task: Any, props: Mapping[str, str], instance: ProcessInstance) -> int | None:
        """The organisation whose posts a step is for: the one its ``organisation`` expression names (the
        original office answering a 复查's 答辩通知), else the case's."""
        if not props.get("organisation"):
            return instance.organisation_id
        try:
            value = self.environment.evaluate(props["organisation"], task.data)
            return int(value) if value is not None else instance.organisation_id
        except (ScriptRejected, ArithmeticError, LookupError, NameError, TypeError, ValueError):
            return instance.organisation_id

    def _named_assignee(self, task: Any, props: Mapping[str, str]) -> str | None:
        """The person a step's ``assignee`` expression names (the 接谈人, the leader a 送审 chose) — whom
        the module's check let the previous step choose; None (the lane's group task) when it names
        nobody or cannot be evaluated."""
        if not props.get("assignee"):
            return None
        try:
            value = self.environment.evaluate(props["assignee"], task.data)
        except (ScriptRejected, ArithmeticError, LookupError, NameError, TypeError, ValueError):
            return None
        return str(value)[:100] if value else None

    @staticmethod
    def _event(session: Session, instance: ProcessInstance, kind: str, *, task_name: str | None = None,
               task_label: str | None = None, actor: str | None = None, decision: str | None = None,
               conclusion: str | None = None, details: dict[str, Any] | None = None) -> None:
        """Record a history event; ``_persist`` (or ``_write_history``) writes it with the action's others."""
        session.info.setdefault(_HISTORY, []).append({
            "instance_id": instance.id, "at": utcnow(), "kind": kind, "task_name": task_name,
            "task_label": task_label[:200] if task_label else task_label,  # as long as models from elsewhere name one
            "actor": actor, "decision": decision, "conclusion": conclusion, "details": details or {}})

    @staticmethod
    def _write_history(session: Session) -> None:
        rows = session.info.pop(_HISTORY, None)
        if rows:
            insert_history(session, rows)

    # ------------------------------------------------------------------ reading
    def open_tasks(self, session: Session, instance_id: int) -> list[HumanTask]:
        """The instance's open task rows, oldest first."""
        return list(session.scalars(_OPEN_TASKS, {"instance_id": instance_id}))

    def is_staff(self, actor: Actor, region_code: str) -> bool:
        """Holds a staff (non-applicant) role for the region (or a region above it)."""
        return any(role not in self.applicant_roles and actor.holds(role, region_code) for role in actor.roles)

    def is_staff_of(self, actor: Actor, instance: ProcessInstance) -> bool:
        """Staff of the case: of its region, or holding a post at the organisation handling it."""
        return self.is_staff(actor, instance.region_code) or (
            instance.organisation_id is not None and instance.organisation_id in actor.organisations)

    def can_view(self, actor: Actor, instance: ProcessInstance) -> bool:
        return instance.started_by == actor.username or self.is_staff_of(actor, instance)

    def get_instance(self, session: Session, instance_id: int, actor: Actor = SYSTEM) -> ProcessInstance:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None or (actor is not SYSTEM and not self.can_view(actor, instance)):
            raise NotFound("办件不存在或不在您的管辖范围内")
        return instance

    def task_data(self, session: Session, task_id: str) -> dict[str, Any]:
        """The data a user task sees (for rendering its context view)."""
        row = session.get(HumanTask, task_id)
        if row is None:
            raise NotFound("任务不存在")

        def data_of_task(workflow: BpmnWorkflow) -> dict[str, Any]:
            task = _find_task(workflow, task_id)
            return dict(task.data) if task is not None else {}

        instance = session.get(ProcessInstance, row.instance_id)
        if instance is None:
            raise NotFound("办件不存在")
        return self._read(session, instance, data_of_task)

    def decide(self, session: Session, decision_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """The outputs of the first rule of the newest deployed DMN decision ``decision_id`` that matches
        ``data`` ({} when none does), evaluated with the same restricted expressions as a business rule
        task: rules officials change (who may rate a case, how often) without a new release."""
        definition = latest_definition(session, decision_id)
        if definition is None or not definition.filename.endswith(".dmn"):
            raise NotFound(f"决策表 {decision_id} 未部署")
        table = _decision_table(definition.id, definition.xml, definition.filename, decision_id)
        context = SimpleNamespace(data=dict(data),
                                  workflow=SimpleNamespace(script_engine=ServiceScriptEngine(self.environment, None)))
        try:
            with self.environment.action():
                return dict(table.result(context))
        except Exception as error:  # noqa: BLE001 - the table's expressions fail in the caller's data
            raise Conflict("决策表 %(decision)s 无法计算：%(problem)s。请修正决策表后重新部署"
                           % dict(decision=decision_id, problem=incident_words.problem(error))) from None

    def step_property(self, session: Session, instance: ProcessInstance, step: str, name: str) -> str:
        """The extension property ``name`` of the step ``step`` (BPMN id) of the case's process or of a
        process it calls ("" when it has none): for platform services that act on steps (cc …)."""
        deployed = self.specs.get(session, instance.definition_id)
        for process in (deployed.spec, *deployed.subprocess_specs.values()):
            for spec in process.task_specs.values():
                if getattr(spec, "bpmn_id", None) == step:
                    return str((getattr(spec, "extensions", None) or {}).get("properties", {}).get(name, ""))
        return ""

    def process_properties(self, session: Session, instance: ProcessInstance) -> dict[str, str]:
        """The extension properties of the case's process (documents, issuingOffice …), for platform services."""
        return self.specs.get(session, instance.definition_id).properties

    def instance_data(self, session: Session, instance: ProcessInstance) -> dict[str, Any]:
        return self._read(session, instance, lambda workflow: dict(workflow.data) | (
            dict(workflow.last_task.data) if workflow.last_task else {}))


@lru_cache(maxsize=64)
def _decision_table(definition_id: int, xml: str, filename: str, decision_id: str) -> Any:
    """The parsed table of a deployed DMN version (immutable, so cached by its id)."""
    return build_parser([(xml.encode("utf-8"), filename)]).get_engine(decision_id, None)


def _standing_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """The tasks a case stands at: ready, waiting, running or failed, and those that failed while becoming
    ready (still FUTURE under a completed task: see ``_retryable``)."""
    return [task for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED
                                                 | TaskState.ERROR | TaskState.FUTURE)
            if task.state != TaskState.FUTURE or (task.parent is not None and task.parent.state == TaskState.COMPLETED)]


def _retryable(task: Any) -> None:
    """Leave a failed task where :meth:`WorkflowEngine.retry` runs it again. SpiffWorkflow marks a task that
    failed while running as ERROR; one that failed while completing (a data output it does not have) stays
    COMPLETED, and is marked here; one that failed while becoming ready (a timer arming, a multi-instance
    reading its collection) stays FUTURE, which retry updates again — a timer forgetting the time it
    evaluated, so that corrected data counts."""
    if task is None:
        return
    if task.state == TaskState.COMPLETED and not task.task_spec.manual:
        task._set_state(TaskState.ERROR)
    elif timer_definition(getattr(task.task_spec, "event_definition", None)) is not None:
        task.internal_data.pop("event_value", None)


def _has_completed(workflow: BpmnWorkflow, step: str) -> bool:
    """Whether the step ``"<process>/<element>"`` has completed in the workflow."""
    return any(f"{task.workflow.spec.name}/{task.task_spec.bpmn_id}" == step
               for task in workflow.get_tasks(state=TaskState.COMPLETED))


def _open_step(workflow: BpmnWorkflow, steps: frozenset[str]) -> Any:
    """A ready (open) task of one of ``steps``, or None."""
    if not steps:
        return None
    return next((task for task in workflow.get_tasks(state=TaskState.READY)
                 if f"{task.workflow.spec.name}/{task.task_spec.bpmn_id}" in steps), None)


def _find_task(workflow: BpmnWorkflow, task_id: str):
    """The workflow's task with this id, or None (SpiffWorkflow 3 raises instead)."""
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:
        return None


def _targets(task: Any) -> dict[str, Any]:
    """The steps an open task may be returned to (engine.returns), as its ``returnTargets`` allows."""
    listed = _task_properties(task).get("returnTargets")
    allowed = [step.strip() for step in listed.split(",") if step.strip()] if listed else None
    return returns.earlier_steps(task.workflow, task, allowed)


def _reason(text: str, what: str, limit: int = 500) -> str:
    reason = (text or "").strip()
    if not reason:
        raise InvalidData(f"请填写{what}", fields={"reason": [f"请填写{what}"]})
    if len(reason) > limit:
        raise InvalidData(f"{what}不能超过 {limit} 字", fields={"reason": [f"不能超过 {limit} 字"]})
    return reason


def _recorded(value: Any) -> Any:
    """A form value as the history's JSON keeps it: dates as ISO text (a 听证日期, a 送达日期)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_recorded(item) for item in value]
    return value


_KINDS = ((bool, "是或否（true / false）"), ((int, float), "数字"), (str, "文字"), (list, "列表"), (dict, "对象"))


def _like(old: Any, new: Any) -> Any:
    """``new`` as a value of the JSON type of ``old`` (ValueError with the expected type in words): a
    number stays a number, text stays text, a date stays a date (ISO text is read as one)."""
    if isinstance(old, datetime | date):
        kind = datetime if isinstance(old, datetime) else date
        if isinstance(new, kind):
            return new
        try:
            return kind.fromisoformat(str(new))
        except ValueError:
            raise ValueError("应为日期（如 2025-01-31）") from None
    try:
        json.dumps(new)
    except (TypeError, ValueError):
        raise ValueError("应为 JSON 值") from None
    if old is None:
        return new
    for types, words in _KINDS:
        if isinstance(old, types) and not (types is not bool and isinstance(old, bool)):
            if isinstance(new, types) and not (types is not bool and isinstance(new, bool)):
                return new
            raise ValueError(f"应为{words}，与原值类型相同")
    raise ValueError("此项的值不能在这里修改")


def _drop_unwritten_history(session: Session) -> None:
    """Every action starts here: events an earlier action of this session buffered but never wrote
    (it failed, and its caller went on with the same session) must not be written as this one's."""
    session.info.pop(_HISTORY, None)


def _flatten_messages(messages: Any) -> dict[str, list[str]]:
    if isinstance(messages, dict):
        return {str(k): v if isinstance(v, list) else [str(v)] for k, v in messages.items()}
    return {"_schema": list(messages)}
