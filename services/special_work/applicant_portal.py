"""Read models of the applicant portal (申报单位): the enterprise's own batches and one batch's detail.

An applicant sees only the batches of their own enterprise; any other batch answers NotFound, exactly
like a batch that does not exist. Reviewer names are not shown to applicants: the history says what
happened (初审通过, 复核退回 …), not who did it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.errors import Forbidden, NotFound
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine
from services.platform.jobs import Job, JobService, JobStatus
from services.special_work import attachments, batch_validation, declarations
from services.special_work.models import WorkType

# history events an applicant is told about; the others (automatic steps, delegation) are internal
APPLICANT_EVENTS = ("started", "task_completed", "completed", "terminated")


def require_applicant(actor: Actor) -> str:
    """The actor's enterprise code; the portal is for enterprise users only."""
    if not actor.party:
        raise Forbidden("申报页面仅供申报单位用户使用")
    return actor.party


@dataclass
class BatchRow:
    batch: declarations.DeclarationBatch
    case_status: str  # the review case's status (running, waiting, completed, terminated, error)
    current_step: str  # the open task's label
    validating: bool  # waiting for its background 校验


PERSONS_PER_PAGE = 100


@dataclass(frozen=True)
class PersonFilter:
    """Which of a batch's persons its page lists (see ``declarations.person_page``)."""

    page: int = 1
    only_findings: bool = False
    search: str = ""


@dataclass
class BatchDetail:
    batch: declarations.DeclarationBatch
    row: BatchRow
    persons: declarations.PersonPage
    work_type_names: dict[str, str]
    attachments: list[attachments.Attachment]
    history: list[HistoryEvent]
    validation_job: Job | None  # a large batch's running 校验


def _current_steps(session: Session, instance_ids: list[int]) -> dict[int, tuple[str, str, bool]]:
    """instance id → (case status, current step label, validating) for a page of batches."""
    if not instance_ids:
        return {}
    steps: dict[int, str] = {}
    for instance_id, label in session.execute(select(HumanTask.instance_id, HumanTask.label).where(
            HumanTask.instance_id.in_(instance_ids), HumanTask.status == TaskStatus.OPEN)):
        steps.setdefault(instance_id, label)
    statuses = dict(session.execute(select(ProcessInstance.id, ProcessInstance.status)
                                    .where(ProcessInstance.id.in_(instance_ids))).all())
    waiting_jobs = set(session.scalars(select(Job.instance_id).where(
        Job.instance_id.in_(instance_ids), Job.kind == batch_validation.KIND, Job.status.notin_(JobStatus.FINAL))))
    result = {}
    for instance_id in instance_ids:
        result[instance_id] = (statuses.get(instance_id, ""), steps.get(instance_id, ""),
                               instance_id in waiting_jobs)
    return result


def list_batches(session: Session, actor: Actor, page: int = 1, per_page: int = 20) -> tuple[list[BatchRow], int]:
    """我的申报: the enterprise's batches, newest first."""
    code = require_applicant(actor)
    own = declarations.DeclarationBatch.enterprise_code == code
    total = session.scalar(select(func.count()).select_from(declarations.DeclarationBatch).where(own)) or 0
    batches = list(session.scalars(select(declarations.DeclarationBatch).where(own)
                                   .order_by(declarations.DeclarationBatch.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page)))
    steps = _current_steps(session, [b.instance_id for b in batches if b.instance_id is not None])
    return [BatchRow(b, *steps.get(b.instance_id or 0, ("", "", False))) for b in batches], total


def batch_detail(session: Session, engine: WorkflowEngine, jobs: JobService, actor: Actor,
                 batch_id: int, persons: PersonFilter) -> BatchDetail:
    code = require_applicant(actor)
    batch = session.get(declarations.DeclarationBatch, batch_id)
    if batch is None or batch.enterprise_code != code or batch.instance_id is None:
        raise NotFound("申报批次不存在")
    steps = _current_steps(session, [batch.instance_id])
    history = list(session.scalars(select(HistoryEvent).where(
        HistoryEvent.instance_id == batch.instance_id, HistoryEvent.kind.in_(APPLICANT_EVENTS))
        .order_by(HistoryEvent.at, HistoryEvent.id)))
    running = [j for j in jobs.for_instance(session, batch.instance_id)
               if j.kind == batch_validation.KIND and j.status not in JobStatus.FINAL]
    return BatchDetail(batch=batch, row=BatchRow(batch, *steps[batch.instance_id]),
                       persons=declarations.person_page(session, batch.id, page=persons.page,
                                                        per_page=PERSONS_PER_PAGE, only_findings=persons.only_findings,
                                                        search=persons.search),
                       work_type_names={w.code: w.name for w in session.scalars(select(WorkType))},
                       attachments=attachments.list_attachments(session, engine, actor, batch.id),
                       history=history, validation_job=running[-1] if running else None)
