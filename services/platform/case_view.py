"""Read models of the reviewers' pages: one case (办件) and one task with its context.

Every function takes the acting user and refuses what lies outside the user's scope with
``NotFound`` (a foreign region's case must look exactly like a case that does not exist).
The web layer only renders what these functions return.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.definitions import NS, definition_closure, safe_xml
from engine.errors import NotFound
from engine.forms import FormDefinition
from engine.models import HistoryEvent, HumanTask, Incident, InstanceStatus, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine
from services.platform import attachments
from services.platform.attachments import CaseAttachment
from services.platform.identity import APPLICANT_ROLES
from services.platform.modules import Panel, PanelContext, ProcessModule, panels_for

# workflow variables that are plumbing, not business data worth showing to a reviewer
HIDDEN_DATA = {"decision", "conclusion"}
# history events the applicant who started a case is told about (as on the applicant portal); the
# others — automatic steps, delegation, supervision, errors — are the office's own
APPLICANT_EVENTS = ("started", "task_completed", "task_returned", "completed", "terminated")


@dataclass
class Diagram:
    definition_id: int
    key: str
    name: str
    done: list[str]
    current: list[str]
    # element id → the unresolved incident's message: the failing step, and a call activity whose called
    # process failed (drawn in red, never as done)
    incidents: dict[str, str] = field(default_factory=dict)


@dataclass
class CaseRecord:
    """What the actor may read of a case's progress. Staff of its region read everything; the
    applicant who started it (and holds no staff role there) reads what the applicant portal shows:
    the steps and their outcomes, not who handled them, not the process's variables, incidents,
    automatic steps or diagrams (its designer's code)."""

    instance: ProcessInstance
    staff: bool
    data: dict[str, Any]
    open_tasks: list[HumanTask]
    history: list[HistoryEvent]
    incidents: list[Incident]


@dataclass
class CaseView:
    instance: ProcessInstance
    process_name: str
    data: dict[str, Any]
    open_tasks: list[HumanTask]
    history: list[HistoryEvent]
    incidents: list[Incident]
    diagrams: list[Diagram] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)  # what the case's process module shows beside it
    staff: bool = True  # False: the applicant's view of their own case (see CaseRecord)
    search: str = ""  # what was typed into a panel's search box (``?q=``)
    votes: dict[str, dict[str, int]] = field(default_factory=dict)  # open 会签 steps: approve / reject / open
    # 业务数据 in words: field key → its label in the process's forms, and (key, value) → an option's label
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[tuple[str, str], str] = field(default_factory=dict)
    files: list[CaseAttachment] = field(default_factory=list)  # 申请材料: the files its forms carried
    # incident id → SpiffWorkflow's own text of the failure (the ``error`` history event written with it)
    incident_details: dict[int, str] = field(default_factory=dict)


@dataclass
class TaskView:
    """What the task page shows: the task, its form (of the case's version), the module's panels and
    the case's history — not the whole case (no diagrams, variables or incidents)."""

    task: HumanTask
    form: FormDefinition | None
    process_name: str
    may_act: bool  # open and the actor may complete it (claimed by the actor or claimable)
    panels: list[Panel]
    history: list[HistoryEvent]
    search: str
    # choices of form fields whose options depend on the case (form-js ``valuesKey``)
    options: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # what the form shows before the user types: the case's values of its fields when the step says
    # ``prefill`` (an applicant's resubmission after 退回 edits what was sent), else nothing
    prefill: dict[str, Any] = field(default_factory=dict)
    files: dict[int, CaseAttachment] = field(default_factory=dict)  # the case's attachments, by id
    locked: frozenset[str] = frozenset()  # fields shown read-only (the step's ``lockedFields``)


def get_visible_task(session: Session, actor: Actor, task_id: str) -> HumanTask:
    """A task its assignee, a holder of its role in its region (or above), or its completer may see."""
    row = session.get(HumanTask, task_id)
    office_task = row is not None and row.lane not in APPLICANT_ROLES  # an applicant's step is its assignee's
    if row is None or not (row.assignee == actor.username or (office_task and actor.takes(row.lane, row.region_code,
                                                                                          row.organisation_id))
                           or row.completed_by == actor.username):
        raise NotFound("任务不存在或不在您的管辖范围内")
    return row


def _diagrams(session: Session, instance: ProcessInstance, history: list[HistoryEvent],
              open_tasks: list[HumanTask], incidents: list[Incident]) -> list[Diagram]:
    """The instance's BPMN and the processes it calls, with done, current and failing element ids."""
    current = {t.name for t in open_tasks}
    done = {e.task_name for e in history if e.task_name and e.kind in ("task_completed", "service_task")}
    failing = {i.task_name: i.message for i in incidents if i.task_name and i.resolved_at is None}
    closure = definition_closure(session, instance.definition)
    roots = {d.key: safe_xml(d.xml.encode(), d.filename) for d in closure}
    # the elements of each process of each file (a file may hold several: a collaboration's participants)
    ids = {key: {e.get("id") for e in root.iter() if e.get("id")} for key, root in roots.items()}
    processes = {p.get("id"): {e.get("id") for e in p.iter() if e.get("id")}
                 for root in roots.values() for p in root.iterfind(".//bpmn:process", NS)}
    diagrams = []
    for definition in closure:
        now, before = current & ids[definition.key], done & ids[definition.key]
        marked = {step: message for step, message in failing.items() if step in ids[definition.key]}
        for call in roots[definition.key].iterfind(".//bpmn:callActivity", NS):
            called = processes.get(call.get("calledElement", ""), set())
            failed = next((message for step, message in failing.items() if step in called), None)
            if failed is not None:
                marked[call.get("id")] = failed
            elif called & current:
                now.add(call.get("id"))
            elif called & done or instance.status == InstanceStatus.COMPLETED:
                before.add(call.get("id"))
        diagrams.append(Diagram(definition.id, definition.key, definition.name, sorted(before - now - set(marked)),
                                sorted(now - set(marked)), marked))
    return diagrams


def is_staff_viewer(engine: WorkflowEngine, actor: Actor, instance: ProcessInstance) -> bool:
    """Holds a staff (non-applicant) role for the case's region or a post at its organisation: reads
    the case as the office does."""
    return engine.is_staff_of(actor, instance)


def case_record(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int,
                as_applicant: bool = False, via_copy: bool = False) -> CaseRecord:
    """The case with its open tasks, history and incidents as ``actor`` may read them (NotFound
    outside the actor's scope); ``as_applicant``: as the applicant sees it, whatever the actor's roles;
    ``via_copy``: as the office reads it, for the recipient of a 抄送 item the caller has checked."""
    instance = engine.get_instance(session, instance_id) if via_copy else \
        engine.get_instance(session, instance_id, actor)
    open_tasks = engine.open_tasks(session, instance.id)
    history = list(session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance.id)
                                   .order_by(HistoryEvent.id)))
    if as_applicant or not (via_copy or is_staff_viewer(engine, actor, instance)):
        return CaseRecord(instance, False, {}, [_as_applicant_sees_task(t, actor) for t in open_tasks],
                          [_as_applicant_sees_event(e, actor) for e in history if e.kind in APPLICANT_EVENTS], [])
    incidents = list(session.scalars(select(Incident).where(Incident.instance_id == instance.id)
                                     .order_by(Incident.id)))
    data = engine.instance_data(session, instance)
    return CaseRecord(instance, True, data, open_tasks, history, incidents)


def _as_applicant_sees_task(task: HumanTask, actor: Actor) -> HumanTask:
    """A detached copy that names no member of staff (never added to the session, so nothing is
    written): the assignee only when it is the applicant's own step (补正)."""
    return HumanTask(id=task.id, instance_id=task.instance_id, process_key=task.process_key,
                     process_version=task.process_version, business_key=task.business_key, name=task.name,
                     label=task.label, form_key="", lane=task.lane, region_code=task.region_code,
                     submitter=task.submitter, assignee=task.assignee if task.assignee == actor.username else None,
                     status=task.status, created_at=task.created_at,
                     due_at=task.due_at)


def _as_applicant_sees_event(event: HistoryEvent, actor: Actor) -> HistoryEvent:
    """A detached copy that names no member of staff and carries no form data of theirs."""
    return HistoryEvent(instance_id=event.instance_id, at=event.at, kind=event.kind, task_name=event.task_name,
                        task_label=event.task_label, actor=event.actor if event.actor == actor.username else None,
                        decision=event.decision, conclusion=event.conclusion, details={})


def get_case(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int,
             modules: list[ProcessModule], search: str = "", as_applicant: bool = False,
             via_copy: bool = False) -> CaseView:
    record = case_record(session, engine, actor, instance_id, as_applicant, via_copy)
    instance = record.instance
    data = record.data if record.staff else engine.instance_data(session, instance)
    context = PanelContext(session, engine, actor, instance, data, search, staff=record.staff)
    return CaseView(
        instance=instance, process_name=instance.definition.name or instance.process_key,
        data={k: v for k, v in sorted(record.data.items())
              if k not in HIDDEN_DATA | _file_keys(engine, session, instance)},
        open_tasks=record.open_tasks, history=record.history, incidents=record.incidents,
        diagrams=_diagrams(session, instance, record.history, record.open_tasks, record.incidents) if record.staff
        else [],
        incident_details=_incident_details(record.history),
        panels=panels_for(modules, context), staff=record.staff, search=search,
        votes=_votes(session, instance.id, record.open_tasks),
        files=attachments.for_case(session, instance.id) if attachments.may_read(session, engine, actor, instance)
        else [],
        **_data_words(engine, session, instance))


def _incident_details(history: list[HistoryEvent]) -> dict[int, str]:
    """Each incident's detail (SpiffWorkflow's own text), from the ``error`` event the engine writes with it."""
    return {details["incident_id"]: str(details["detail"]) for event in history if event.kind == "error"
            for details in [event.details or {}] if details.get("incident_id") and details.get("detail")}


def _data_words(engine: WorkflowEngine, session: Session, instance: ProcessInstance) -> dict[str, Any]:
    """The labels and option labels of the case's fields, from the forms its version deployed."""
    labels: dict[str, str] = {}
    value_labels: dict[tuple[str, str], str] = {}
    for form in engine.specs.get(session, instance.definition_id).forms.values():
        for form_field in form.fields:
            labels.setdefault(form_field.key, form_field.label)
            for value, label in form_field.options:
                value_labels.setdefault((form_field.key, str(value)), label)
    return {"labels": labels, "value_labels": value_labels}


def _shown(value: Any) -> Any:
    """A value as a form shows it again: 5.0 (a number field's float) as 5."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _file_keys(engine: WorkflowEngine, session: Session, instance: ProcessInstance) -> set[str]:
    """The case's material fields (their files are listed as 申请材料, not as ids among its data)."""
    return {f.key for form in engine.specs.get(session, instance.definition_id).forms.values()
            for f in form.fields if f.type == "filepicker"}


def _votes(session: Session, instance_id: int, open_tasks: list[HumanTask]) -> dict[str, dict[str, int]]:
    """The votes so far of each open step with several signers (a 会签 step, engine.countersign):
    its tasks done since its first open one, by decision, and those still open."""
    counted: dict[str, dict[str, int]] = {}
    for name in {t.name for t in open_tasks}:
        mine = [t for t in open_tasks if t.name == name]
        since = min(t.created_at for t in mine)
        done = list(session.scalars(select(HumanTask.decision).where(
            HumanTask.instance_id == instance_id, HumanTask.name == name, HumanTask.status == TaskStatus.COMPLETED,
            HumanTask.created_at >= since)))
        if len(mine) + len(done) > 1:
            counted[name] = {"approve": sum(1 for d in done if d == "approve"),
                             "reject": sum(1 for d in done if d != "approve"), "open": len(mine)}
    return counted


def get_task_view(session: Session, engine: WorkflowEngine, actor: Actor, task_id: str,
                  modules: list[ProcessModule], search: str = "") -> TaskView:
    row = get_visible_task(session, actor, task_id)
    instance = session.get(ProcessInstance, row.instance_id)
    if instance is None:
        raise NotFound("办件不存在")
    form = engine.task_form(session, row)
    may_act = row.status == TaskStatus.OPEN and (
        row.assignee == actor.username
        or (row.assignee is None and actor.takes(row.lane, row.region_code, row.organisation_id)))
    data = engine.task_data(session, row.id)
    panels = panels_for(modules, PanelContext(session, engine, actor, instance, data, search, row))
    history = list(session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance.id)
                                   .order_by(HistoryEvent.id)))
    prefill = {f.key: _shown(data[f.key]) for f in form.fields if f.key in data} if form is not None and \
        engine.step_property(session, instance, row.name, "prefill") == "true" else {}
    for panel in panels:
        prefill.update(panel.values)
    return TaskView(task=row, form=form, process_name=instance.definition.name or instance.process_key,
                    may_act=may_act, panels=panels, history=history, search=search,
                    options=_dynamic_options(form, data, panels), prefill=prefill,
                    files={a.id: a for a in attachments.for_case(session, instance.id)}
                    if attachments.may_read(session, engine, actor, instance) else {},
                    locked=engine.locked_fields(session, instance, row.name).union(*(p.locked for p in panels)))


def _dynamic_options(form: FormDefinition | None, data: dict[str, Any],
                     panels: list[Panel]) -> dict[str, list[dict[str, str]]]:
    """Options named by a field's ``valuesKey``: from the case data when it holds a list of
    ``{"value", "label"}``, else from a panel that offers them (a declaration's persons)."""
    options: dict[str, list[dict[str, str]]] = {}
    offered = {key: choices for panel in panels for key, choices in panel.options.items()}
    for form_field in form.fields if form else []:
        key = form_field.component.get("valuesKey")
        if not key:
            continue
        if isinstance(data.get(key), list):
            options[key] = [{"value": str(o.get("value")), "label": str(o.get("label", o.get("value")))}
                            for o in data[key] if isinstance(o, dict)]
        elif key in offered:
            options[key] = list(offered[key])
    return options


def case_diagram_xml(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int,
                     definition_id: int, via_copy: bool = False) -> str:
    """A BPMN file of the case (its process or one it calls): the office's, with its designer's code
    in it; the applicant's view of a case has no diagram (``via_copy``: see ``case_record``)."""
    instance = engine.get_instance(session, instance_id) if via_copy else \
        engine.get_instance(session, instance_id, actor)
    if not via_copy and not is_staff_viewer(engine, actor, instance):
        raise NotFound("流程图不存在")
    for definition in definition_closure(session, instance.definition):
        if definition.id == definition_id:
            return definition.xml
    raise NotFound("流程图不存在")
