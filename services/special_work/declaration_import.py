"""批量导入 as a background job: an uploaded declaration workbook is checked and imported outside the
web request.

The upload (:func:`queue_import`) runs only the quick checks — may this user declare for the
enterprise, kind, size, zip directory, sheet header, the commitment letter's type — stores the file in
``declaration_upload`` and submits a ``declaration.import`` job. The job streams the sheet under the
workbook caps (``Settings.workbook_limits``: a workbook above one is refused with a message naming
it), beating its heart after every row and every block of XML — rows read / rows in the sheet
reported at least every 2,000 rows or every second, the cancel flag read then, its time limit
(``TIME_LIMIT``, 300 s unless ``BANJIAN_JOB_TIME_LIMITS`` says otherwise) kept; imports run one at a
time (``MAX_RUNNING``, see ``services.platform.jobs``), so they never take every worker. Then, in the one
transaction that also
marks the job done, it either stores the batch and starts its review case (a clean file, or "import
the good rows" chosen) or imports nothing. Either way the job's ``result`` lists the bad rows (row,
column, message). A worker killed halfway has written nothing, so the redelivered job produces the
same result and never a second batch; the stored file is deleted in that same final transaction.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import EngineError, InvalidData, NotFound
from engine.runtime import WorkflowEngine
from services.platform.identity import User, actor_for, get_user
from services.platform.jobs import Job, JobContext, JobService
from services.platform.xlsx_stream import Limits
from services.special_work import attachments, declarations, workbooks
from services.special_work.enterprises import get_enterprise
from services.special_work.models import DeclarationUpload

KIND = "declaration.import"
# A 100,000-person workbook imports in 15–40 s on the 2-core development machine (README); one at the
# workbook caps, about 2.6 times as large, in at most ~100 s there.
TIME_LIMIT = 300.0
MAX_RUNNING = 1


def _check_letter(content: bytes | None) -> None:
    if not content:
        return
    if len(content) > attachments.MAX_BYTES:
        message = f"承诺书文件不能超过 {attachments.MAX_BYTES // 1024 // 1024} MB"
        raise InvalidData(message, fields={"letter": [message]})
    if attachments.sniff(content) is None:
        raise InvalidData("承诺书只能是 PDF、PNG 或 JPEG 文件", fields={"letter": ["文件内容不是 PDF 或图片"]})


def queue_import(uow: UnitOfWork, jobs: JobService, actor: Actor, enterprise_code: str, kind: str, filename: str,
                 content: bytes, import_valid_rows: bool = False, letter_filename: str | None = None,
                 letter: bytes | None = None, limits: Limits | None = None) -> Job:
    """Store the upload and submit its import job (handed to a worker after the caller commits).
    Raises InvalidData / Forbidden with a Chinese message, storing nothing, for a bad request."""
    session = uow.session
    if kind not in declarations.KINDS:
        raise InvalidData("请选择申报类型（首次申报或年度申报）", fields={"kind": ["申报类型应为 first 或 annual"]})
    enterprise = declarations.check_may_declare(session, actor, enterprise_code)
    if not content:
        raise InvalidData("请选择要上传的文件", fields={"file": ["请选择要上传的文件"]})
    rows = workbooks.check_workbook(content, limits)
    _check_letter(letter)
    upload = DeclarationUpload(enterprise_code=enterprise.code, kind=kind, import_valid_rows=import_valid_rows,
                               filename=(filename or "申报.xlsx")[-200:], size=len(content), content=content,
                               letter_filename=(letter_filename or "承诺书")[-200:] if letter else None,
                               letter=letter or None, uploaded_by=actor.username)
    session.add(upload)
    session.flush()
    return jobs.submit(session, uow.after_commit, KIND, {"upload_id": upload.id, "enterprise_code": enterprise.code},
                       created_by=actor.username, region_code=enterprise.region_code, total=rows)


def is_party_import(job: Job, actor: Actor) -> bool:
    """An import of the actor's own enterprise: any of its users may follow it."""
    return job.kind == KIND and actor.party is not None and actor.party == job.params.get("enterprise_code")


def visible_job(session: Session, jobs: JobService, actor: Actor, job_id: int,
                applicant_roles: frozenset[str]) -> Job:
    """A job the actor may follow: an import of the actor's own enterprise (any of its users), or
    what :meth:`JobService.get_visible` allows (its creator, staff of its region)."""
    job = session.get(Job, job_id)
    if job is not None and is_party_import(job, actor):
        return job
    return jobs.get_visible(session, job_id, actor, applicant_roles)


def get_import(session: Session, jobs: JobService, actor: Actor, job_id: int, applicant_roles: frozenset[str]) -> Job:
    job = visible_job(session, jobs, actor, job_id, applicant_roles)
    if job.kind != KIND:
        raise NotFound("导入任务不存在")
    return job


def list_imports(session: Session, actor: Actor, limit: int = 10) -> list[Job]:
    """The latest imports uploaded by the users of the actor's enterprise (an applicant's own list)."""
    if not actor.party:
        return []
    uploaders = select(User.username).where(User.enterprise_code == actor.party)
    return list(session.scalars(select(Job).where(Job.kind == KIND, Job.created_by.in_(uploaders))
                                .order_by(Job.id.desc()).limit(limit)))


def _outcome(parsed: workbooks.UploadResult, batch: declarations.DeclarationBatch | None) -> dict[str, Any]:
    if batch is not None:
        message = f"已导入 {parsed.valid_persons} 名人员，批次号 {batch.batch_no}"
    elif parsed.row_count == 0:
        message = "文件中没有人员数据，未导入"
    elif not parsed.persons:
        message = f"文件中有 {parsed.problem_count} 处错误，没有可以导入的人员，未导入任何数据"
    else:
        message = f"文件中有 {parsed.problem_count} 处错误，未导入任何数据；修改后重新上传，或选择“仅导入无误的行”"
    return {"imported": batch is not None, "batch_id": batch.id if batch else None,
            "batch_no": batch.batch_no if batch else None, "row_count": parsed.row_count,
            "valid_persons": parsed.valid_persons, "invalid_persons": parsed.invalid_persons,
            "problem_count": parsed.problem_count, "message": message,
            "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in parsed.listed_problems]}


def register(jobs: JobService, engine: WorkflowEngine, limits: Limits | None = None) -> None:
    def run(ctx: JobContext) -> dict[str, Any]:
        upload_id = int(ctx.params["upload_id"])
        with jobs.reading() as read:
            upload = read.session.get(DeclarationUpload, upload_id)
            if upload is None:
                raise RuntimeError(f"declaration upload {upload_id} is gone")
            content, industry = upload.content, get_enterprise(read.session, upload.enterprise_code).industry
            work_types = declarations.catalogue_view(read.session)
            job = read.session.get(Job, ctx.job_id)
            if job is None:
                raise NotFound("导入任务不存在")
            total = job.progress_total
        try:
            parsed = workbooks.parse_declaration(content, work_types, industry,
                                                 on_rows=lambda done: ctx.heartbeat(done, total), limits=limits)
        except InvalidData as refused:  # e.g. more rows than allowed: nothing to import, say why
            message = refused.message
            return ctx.finish(lambda uow: _refused(uow, upload_id, message))
        ctx.progress(parsed.row_count, parsed.row_count)

        def write(uow: UnitOfWork) -> dict[str, Any]:
            stored = uow.session.get(DeclarationUpload, upload_id)
            if stored is None:
                raise RuntimeError(f"declaration upload {upload_id} is gone")
            batch = None
            if parsed.persons and (stored.import_valid_rows or not parsed.problems):
                actor = actor_for(get_user(uow.session, stored.uploaded_by))
                batch = declarations.submit_declaration(uow, engine, actor, stored.enterprise_code, stored.kind,
                                                        parsed.persons)
                if stored.letter:
                    attachments.attach(uow.session, engine, actor, batch.id, stored.letter_filename or "",
                                       stored.letter)
            _forget(uow, upload_id)
            return _outcome(parsed, batch)

        try:
            return ctx.finish(write)
        except EngineError as refused:  # e.g. the enterprise's portal was closed meanwhile
            message = refused.message
            return ctx.finish(lambda uow: _refused(uow, upload_id, message))

    def on_stop(uow: UnitOfWork, job: Job) -> None:
        if job.status == "cancelled":
            _forget(uow, int(job.params["upload_id"]))

    jobs.register(KIND, run, on_stop, time_limit=TIME_LIMIT, max_running=MAX_RUNNING)


def _refused(uow: UnitOfWork, upload_id: int, message: str) -> dict[str, Any]:
    _forget(uow, upload_id)
    return {"imported": False, "batch_id": None, "batch_no": None, "row_count": 0, "valid_persons": 0,
            "invalid_persons": 0, "problem_count": 0, "problems": [], "message": f"{message}，未导入任何数据"}


def _forget(uow: UnitOfWork, upload_id: int) -> None:
    uow.session.execute(delete(DeclarationUpload).where(DeclarationUpload.id == upload_id))
