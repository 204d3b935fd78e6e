"""Read models of the reviewers' pages: one case (办件) and one task with its context.

Every function takes the acting user and refuses what lies outside the user's scope with
``NotFound`` (a foreign region's case must look exactly like a case that does not exist).
The web layer only renders what these functions return.
"""
from __future__ import annotations

import re
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
from services.special_work import attachments, declarations
from services.special_work.models import WorkType

ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
# workflow variables that are plumbing, not business data worth showing to a reviewer
HIDDEN_DATA = {"decision", "conclusion"}
# history events the applicant who started a case is told about (as on the applicant portal); the
# others — automatic steps, delegation, supervision, errors — are the office's own
APPLICANT_EVENTS = ("started", "task_completed", "completed", "terminated")


@dataclass
class Diagram:
    definition_id: int
    key: str
    name: str
    done: list[str]
    current: list[str]


PERSONS_SHOWN = 500  # a 100,000-person batch must not become a 100,000-row page


@dataclass
class DeclarationContext:
    batch: declarations.DeclarationBatch
    persons: list[declarations.DeclaredPerson]  # those with findings first, then others, up to PERSONS_SHOWN
    hidden: int  # persons of the batch not listed (all without findings; the Excel export has everyone)
    search: str  # a name or ID number the reviewer looked for: then ``persons`` are its matches
    matches: int  # how many persons match ``search`` (more than are listed when above PERSONS_SHOWN)
    checks: dict[int, list[declarations.DeclarationCheck]]
    work_type_names: dict[str, str]
    kind_label: str
    status_label: str
    person_status_labels: dict[str, str]
    attachments: list[attachments.Attachment]  # the commitment letter (承诺书) and other files
    attachment_kinds: dict[str, str]


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
    declaration: DeclarationContext | None = None
    staff: bool = True  # False: the applicant's view of their own case (see CaseRecord)


@dataclass
class TaskView:
    task: HumanTask
    form: FormDefinition | None
    case: CaseView
    may_act: bool  # open and the actor may complete it (claimed by the actor or claimable)
    # choices of form fields whose options depend on the case (form-js ``valuesKey``)
    options: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def get_visible_task(session: Session, actor: Actor, task_id: str) -> HumanTask:
    """A task its assignee, a holder of its role in its region (or above), or its completer may see."""
    row = session.get(HumanTask, task_id)
    if row is None or not (row.assignee == actor.username or actor.holds(row.lane, row.region_code)
                           or row.completed_by == actor.username):
        raise NotFound("任务不存在或不在您的管辖范围内")
    return row


def _declaration_context(session: Session, engine: WorkflowEngine, actor: Actor, instance: ProcessInstance,
                         data: dict[str, Any], person_search: str) -> DeclarationContext | None:
    """The batch a declaration case is about. Its persons: every one with a finding first, then the
    others, up to PERSONS_SHOWN; or, when the reviewer looks for a name or ID number, its matches
    (so that a clean person beyond the first PERSONS_SHOWN can be found, and named in the decision)."""
    if instance.process_key not in declarations.PROCESS_BY_KIND.values() or "batch_id" not in data:
        return None
    batch = declarations.get_visible_batch(session, engine, actor, int(data["batch_id"]))
    names = {w.code: w.name for w in session.scalars(select(WorkType))}
    person_search = declarations.normalise_search(person_search)
    if person_search:
        found = declarations.person_page(session, batch.id, per_page=PERSONS_SHOWN, search=person_search)
        persons, matches = found.persons, found.total
    else:
        persons, matches = declarations.persons_for_review(session, batch.id, PERSONS_SHOWN), 0
    return DeclarationContext(batch=batch, persons=persons,
                              hidden=0 if person_search else max(0, batch.person_count - len(persons)),
                              search=person_search, matches=matches,
                              checks=declarations.batch_checks(session, batch.id, [p.id for p in persons]),
                              work_type_names=names, kind_label=declarations.KINDS.get(batch.kind, batch.kind),
                              status_label=declarations.STATUS_LABELS.get(batch.status, batch.status),
                              person_status_labels=declarations.PERSON_STATUS_LABELS,
                              attachments=attachments.list_attachments(session, engine, actor, batch.id),
                              attachment_kinds=attachments.KINDS)


def _diagrams(session: Session, instance: ProcessInstance, history: list[HistoryEvent],
              open_tasks: list[HumanTask]) -> list[Diagram]:
    """The instance's BPMN and the processes it calls, with done and current element ids."""
    current = {t.name for t in open_tasks}
    done = {e.task_name for e in history if e.task_name and e.kind in ("task_completed", "service_task")}
    closure = definition_closure(session, instance.definition)
    roots = {d.key: safe_xml(d.xml.encode(), d.filename) for d in closure}
    ids = {key: {e.get("id") for e in root.iter() if e.get("id")} for key, root in roots.items()}
    diagrams = []
    for definition in closure:
        now, before = current & ids[definition.key], done & ids[definition.key]
        for call in roots[definition.key].iterfind(".//bpmn:callActivity", NS):
            called = ids.get(call.get("calledElement", ""), set())
            if called & current:
                now.add(call.get("id"))
            elif called & done or instance.status == InstanceStatus.COMPLETED:
                before.add(call.get("id"))
        diagrams.append(Diagram(definition.id, definition.key, definition.name, sorted(before - now), sorted(now)))
    return diagrams


def is_staff_viewer(engine: WorkflowEngine, actor: Actor, instance: ProcessInstance) -> bool:
    """Holds a staff (non-applicant) role for the case's region: reads the case as the office does."""
    return any(role not in engine.applicant_roles and actor.holds(role, instance.region_code) for role in actor.roles)


def case_record(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int) -> CaseRecord:
    """The case with its open tasks, history and incidents as ``actor`` may read them (NotFound
    outside the actor's scope)."""
    instance = engine.get_instance(session, instance_id, actor)
    open_tasks = engine.open_tasks(session, instance.id)
    history = list(session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance.id)
                                   .order_by(HistoryEvent.id)))
    if not is_staff_viewer(engine, actor, instance):
        return CaseRecord(instance, False, {}, [_as_applicant_sees_task(t) for t in open_tasks],
                          [_as_applicant_sees_event(e, actor) for e in history if e.kind in APPLICANT_EVENTS], [])
    incidents = list(session.scalars(select(Incident).where(Incident.instance_id == instance.id)
                                     .order_by(Incident.id)))
    data = engine.instance_data(session, instance)
    return CaseRecord(instance, True, data, open_tasks, history, incidents)


def _as_applicant_sees_task(task: HumanTask) -> HumanTask:
    """A detached copy without its assignee (never added to the session, so nothing is written)."""
    return HumanTask(id=task.id, instance_id=task.instance_id, process_key=task.process_key,
                     process_version=task.process_version, business_key=task.business_key, name=task.name,
                     label=task.label, form_key="", lane=task.lane, region_code=task.region_code,
                     submitter=task.submitter, assignee=None, status=task.status, created_at=task.created_at,
                     due_at=task.due_at)


def _as_applicant_sees_event(event: HistoryEvent, actor: Actor) -> HistoryEvent:
    """A detached copy that names no member of staff and carries no form data of theirs."""
    return HistoryEvent(instance_id=event.instance_id, at=event.at, kind=event.kind, task_name=event.task_name,
                        task_label=event.task_label, actor=event.actor if event.actor == actor.username else None,
                        decision=event.decision, conclusion=event.conclusion, details={})


def get_case(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int,
             person_search: str = "") -> CaseView:
    record = case_record(session, engine, actor, instance_id)
    instance = record.instance
    return CaseView(
        instance=instance, process_name=instance.definition.name or instance.process_key,
        data={k: v for k, v in sorted(record.data.items()) if k not in HIDDEN_DATA},
        open_tasks=record.open_tasks, history=record.history, incidents=record.incidents,
        diagrams=_diagrams(session, instance, record.history, record.open_tasks) if record.staff else [],
        declaration=_declaration_context(session, engine, actor, instance,
                                         record.data if record.staff else engine.instance_data(session, instance),
                                         person_search),
        staff=record.staff)


def get_task_view(session: Session, engine: WorkflowEngine, actor: Actor, task_id: str,
                  person_search: str = "") -> TaskView:
    row = get_visible_task(session, actor, task_id)
    case = get_case(session, engine, actor, row.instance_id, person_search)
    form = engine.task_form(session, row)
    may_act = row.status == TaskStatus.OPEN and (
        row.assignee == actor.username or (row.assignee is None and actor.holds(row.lane, row.region_code)))
    return TaskView(task=row, form=form, case=case, may_act=may_act, options=_dynamic_options(row, form, case))


def _dynamic_options(row: HumanTask, form: FormDefinition | None, case: CaseView) -> dict[str, list[dict[str, str]]]:
    """Options named by a field's ``valuesKey``: from the case data when it holds them, else the
    declaration's persons still under this step (``batch_persons``: the per-person decisions)."""
    options: dict[str, list[dict[str, str]]] = {}
    for form_field in form.fields if form else []:
        key = form_field.component.get("valuesKey")
        if not key:
            continue
        if isinstance(case.data.get(key), list):
            options[key] = [{"value": str(o.get("value")), "label": str(o.get("label", o.get("value")))}
                            for o in case.data[key] if isinstance(o, dict)]
        elif key == "batch_persons" and case.declaration is not None:
            under = declarations.UNDER_STEP.get(row.name, ())
            options[key] = [{"value": str(p.id), "label": f"{p.name} {p.id_number}"}
                            for p in case.declaration.persons if p.status in under]
    return options


def case_diagram_xml(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int,
                     definition_id: int) -> str:
    """A BPMN file of the case (its process or one it calls): the office's, with its designer's code
    in it; the applicant's view of a case has no diagram."""
    instance = engine.get_instance(session, instance_id, actor)
    if not is_staff_viewer(engine, actor, instance):
        raise NotFound("流程图不存在")
    for definition in definition_closure(session, instance.definition):
        if definition.id == definition_id:
            return definition.xml
    raise NotFound("流程图不存在")


def business_keys_for(session: Session, text: str) -> list[str] | None:
    """Inbox search: a citizen ID number finds the batches that declare that person; anything
    else is taken as a business key (None: no translation needed)."""
    text = text.strip()
    if not ID_NUMBER.match(text):
        return None
    return list(session.scalars(
        select(declarations.DeclarationBatch.batch_no).join(declarations.DeclaredPerson)
        .where(declarations.DeclaredPerson.id_number == text.upper()).distinct()))
