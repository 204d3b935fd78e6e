"""Attachments of a case (申请材料): the files a form's ``filepicker`` fields carry.

A form names its materials as form-js ``filepicker`` components (the label is the material's name,
``validate.required`` makes it compulsory). Uploads are untrusted: the type is decided by the file's
first bytes (magic numbers: PDF, PNG, JPEG), never by its name or the browser's content type, and
the size is capped. The bytes are stored in the database, in the transaction of the action that
brings them, so a crash loses neither the case's step nor its files.

How a file travels: the page (or ``POST /api/attachments``) *stages* it — a row without a case,
owned by the uploader — and the form's value is the list of attachment ids. :func:`prepare` checks
that every id the data names is one the actor staged or one the case already has (a resubmission
after 退回 keeps what was not replaced), and :func:`bind` attaches the staged rows to the case once
the engine has taken the step. An id of someone else's upload is refused as if it did not exist.
Rows staged and never used are removed by :func:`purge_unbound` after a day.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from engine.actors import Actor
from engine.db import Base, UnitOfWork, utcnow
from engine.errors import InvalidData, NotFound
from engine.forms import FormDefinition
from engine.models import HumanTask, ProcessInstance
from engine.runtime import WorkflowEngine

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 20  # per field
SIGNATURES = (  # (first bytes, content type, extension)
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
NOT_FOUND = "附件不存在或不在您的管辖范围内"
STAGED_FOR = timedelta(days=1)
MAX_STAGED_FILES = 60  # uploads one user may hold not yet part of a case
MAX_STAGED_BYTES = 200 * 1024 * 1024
OVERSEERS = ("supervisor", "admin")


class CaseAttachment(Base):
    """One uploaded file: staged (``instance_id`` empty) until the action that carries it is taken."""

    __tablename__ = "case_attachment"
    __table_args__ = (Index("ix_case_attachment_instance", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), default=None)
    field: Mapped[str] = mapped_column(String(100))  # the form field's key
    label: Mapped[str] = mapped_column(String(100))  # the material's name (the field's label)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    step: Mapped[str] = mapped_column(String(100), default="")  # the step it came with (提交申请, 补正…)


def sniff(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the magic bytes, or None when not an accepted type."""
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    return None


def file_problem(label: str, content: bytes) -> str | None:
    """Why a file cannot be the material ``label``, in Chinese; None when it can."""
    if not content:
        return f"“{label}”上传的文件为空"
    if len(content) > MAX_BYTES:
        return f"“{label}”文件不能超过 {MAX_BYTES // 1024 // 1024} MB"
    if sniff(content) is None:
        return f"“{label}”只能是 PDF、PNG 或 JPEG 文件（按文件内容判断，不看扩展名）"
    return None


def stage(session: Session, actor: Actor, field: str, label: str, filename: str, content: bytes) -> CaseAttachment:
    """Store one upload, not yet part of a case; InvalidData (nothing stored) for a wrong file."""
    problem = file_problem(label, content)
    if problem:
        raise InvalidData(problem, fields={field: [problem]})
    files, size = session.execute(select(func.count(), func.coalesce(func.sum(CaseAttachment.size), 0)).where(
        CaseAttachment.instance_id.is_(None), CaseAttachment.uploaded_by == actor.username)).one()
    if files >= MAX_STAGED_FILES or size + len(content) > MAX_STAGED_BYTES:
        raise InvalidData("已上传但尚未提交的附件过多，请先提交表单，或一天后再上传",
                          fields={field: ["待提交的附件过多"]})
    content_type, extension = sniff(content) or ("", "")
    stem = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0][:150] or label
    row = CaseAttachment(field=field[:100], label=label[:100], filename=f"{stem}.{extension}",
                         content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                         content=content, uploaded_by=actor.username)
    session.add(row)
    session.flush()
    return row


def file_fields(form: FormDefinition | None) -> dict[str, str]:
    """The form's material fields: key → label."""
    return {f.key: f.label for f in form.fields if f.type == "filepicker"} if form else {}


def prepare(session: Session, actor: Actor, form: FormDefinition | None, data: dict,
            uploads: Mapping[str, Sequence[tuple[str, bytes]]], instance_id: int | None = None) -> list[int]:
    """Stage the files posted with a form and put their ids into ``data`` beside the ids it keeps;
    check that every id is the actor's own staged upload or already the case's. Returns the ids
    staged (to :func:`bind` after the step). InvalidData, with each field's message, for any bad file."""
    fields = file_fields(form)
    problems: dict[str, list[str]] = {}
    staged: list[int] = []
    for key, label in fields.items():
        kept = _ids(data.get(key))
        new = [(name, content) for name, content in uploads.get(key, ()) if name or content]
        if len(kept) + len(new) > MAX_FILES:
            problems[key] = [f"“{label}”最多 {MAX_FILES} 个文件"]
            continue
        wrong = [p for _, content in new if (p := file_problem(label, content))]
        if wrong:
            problems[key] = wrong
            continue
        owned = _usable(session, actor, kept, instance_id)
        if len(owned) != len(set(kept)):
            problems[key] = [f"“{label}”引用的附件不存在"]
            continue
        ids = kept + [stage(session, actor, key, label, name, content).id for name, content in new]
        staged += [i for i in ids if owned.get(i) is None]
        if ids:
            data[key] = ids
        else:
            data.pop(key, None)
    if problems:
        raise InvalidData("附件有误，请检查后重新上传", fields=problems)
    return staged


def _ids(value: Any) -> list[int]:
    if value is None or value == "":
        return []
    values = value if isinstance(value, list) else [value]
    try:
        return [int(v) for v in values if str(v).strip()]
    except (TypeError, ValueError):
        raise InvalidData("附件编号无效", fields={"attachments": ["附件编号应为整数"]}) from None


def _usable(session: Session, actor: Actor, ids: list[int], instance_id: int | None) -> dict[int, int | None]:
    """Of ``ids``, those the actor may name: id → its case (None: staged by the actor)."""
    if not ids:
        return {}
    rows = session.execute(select(CaseAttachment.id, CaseAttachment.instance_id, CaseAttachment.uploaded_by)
                           .where(CaseAttachment.id.in_(set(ids))))
    return {i: case for i, case, by in rows
            if (case is None and by == actor.username) or (case is not None and case == instance_id)}


def bind(session: Session, form: FormDefinition | None, ids: list[int], instance_id: int, step: str) -> None:
    """Make staged uploads part of the case, named as the form's field names them, with their step."""
    labels = file_fields(form)
    for row in session.scalars(select(CaseAttachment).where(CaseAttachment.id.in_(ids),
                                                            CaseAttachment.instance_id.is_(None))):
        row.instance_id = instance_id
        row.step = step[:100]
        row.label = labels.get(row.field, row.label)[:100]


def start(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, process_key: str, *, business_key: str,
          region_code: str, data: dict, uploads: Mapping[str, Sequence[tuple[str, bytes]]],
          submitter: str | None = None) -> ProcessInstance:
    """A start from 发起办件 (page or API) with the files its form carries."""
    form = engine.start_form(engine.startable(uow.session, process_key, actor, region_code))
    staged = prepare(uow.session, actor, form, data, uploads)
    instance = engine.start_by_form(uow, process_key, business_key=business_key, region_code=region_code,
                                    form_data=data, actor=actor, submitter=submitter)
    bind(uow.session, form, staged, instance.id, form.title if form else "")
    return instance


def complete(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, task_id: str, data: dict,
             uploads: Mapping[str, Sequence[tuple[str, bytes]]]) -> ProcessInstance:
    """A task completed (page or API) with the files its form carries; a resubmission may keep the
    case's files by naming their ids."""
    row = uow.session.get(HumanTask, task_id)
    form = engine.task_form(uow.session, row) if row is not None else None
    staged = prepare(uow.session, actor, form, data, uploads, row.instance_id) if row is not None else []
    instance = engine.complete_task(uow, task_id, actor, data)
    if row is not None:
        bind(uow.session, form, staged, instance.id, row.label)
    return instance


def for_case(session: Session, instance_id: int) -> list[CaseAttachment]:
    """The case's attachments (the caller has been allowed to read the case), oldest first."""
    return list(session.scalars(select(CaseAttachment).where(CaseAttachment.instance_id == instance_id)
                                .order_by(CaseAttachment.id)))


def may_read(session: Session, engine: WorkflowEngine, actor: Actor, instance: ProcessInstance) -> bool:
    """Materials are read by fewer than the case (identity papers, contracts): its applicant, the staff
    of its region whose roles handle a step of it, and its supervisors — not every staff role there."""
    if instance.started_by == actor.username or any(actor.holds(role, instance.region_code) for role in OVERSEERS):
        return True
    lanes = session.scalars(select(HumanTask.lane).where(HumanTask.instance_id == instance.id).distinct())
    return any(lane not in engine.applicant_roles and actor.takes(lane, instance.region_code, instance.organisation_id)
               for lane in lanes)


def get_visible(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int,
                attachment_id: int) -> CaseAttachment:
    """An attachment of a case ``actor`` may read (see :func:`may_read`); NotFound otherwise."""
    instance = engine.get_instance(session, instance_id, actor)
    row = session.get(CaseAttachment, attachment_id)
    if row is None or row.instance_id != instance_id or not may_read(session, engine, actor, instance):
        raise NotFound(NOT_FOUND)
    return row


def purge_unbound(session: Session, now: datetime) -> int:
    """Remove uploads staged more than a day ago and never used (the form was abandoned)."""
    result = session.execute(delete(CaseAttachment).where(CaseAttachment.instance_id.is_(None),
                                                          CaseAttachment.uploaded_at < now - STAGED_FOR))
    return int(getattr(result, "rowcount", 0) or 0)
