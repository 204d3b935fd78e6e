"""/api/jobs: progress, result and cancelling of background jobs (e.g. a large batch's 校验)."""
from __future__ import annotations

from marshmallow import Schema, fields

from engine.fields import DateTime, Integer
from services.platform.jobs import STATUS_LABELS, Job
from web.api import api, documented
from web.api.paging import QueryString, query_args
from web.auth import api_login_required, current_actor
from web.context import runtime, uow


class JobSchema(Schema):
    id = Integer()
    kind = fields.String()
    status = fields.String()
    status_label = fields.String()
    instance_id = Integer(allow_none=True)
    done = Integer(minimum=0)
    total = Integer(minimum=0)
    percent = Integer(minimum=0, maximum=100)
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    cancel_requested = fields.Boolean()
    attempts = Integer(minimum=0)
    created_at = DateTime()
    finished_at = DateTime(allow_none=True)


class JobQuery(QueryString):
    instance_id = Integer(required=True, error_messages={"required": "请指定办件（instance_id）"})


def job_body(job: Job) -> dict:
    done, total = job.progress_done, job.progress_total
    return JobSchema().dump({
        "id": job.id, "kind": job.kind, "status": job.status, "status_label": STATUS_LABELS[job.status],
        "instance_id": job.instance_id, "done": done, "total": total,
        "percent": 100 if job.status == "done" else (done * 100 // total if total else 0),
        "result": job.result, "error": job.error, "cancel_requested": job.cancel_requested,
        "attempts": job.attempts, "created_at": job.created_at, "finished_at": job.finished_at})


def _applicants() -> frozenset[str]:
    return runtime().engine.applicant_roles


@api.get("/jobs")
@api_login_required
@documented("办件的后台任务（?instance_id=）", response=JobSchema, many=True, envelope=None, query=JobQuery)
def list_jobs():
    session = uow().session
    instance = runtime().engine.get_instance(session, query_args(JobQuery)["instance_id"], current_actor())
    return [job_body(job) for job in runtime().jobs.for_instance(session, instance.id)]


@api.get("/jobs/<int:job_id>")
@api_login_required
@documented("后台任务的状态与进度（已处理 / 总数）", response=JobSchema)
def get_job(job_id: int):
    return job_body(runtime().jobs.get_visible(uow().session, job_id, current_actor(), _applicants()))


@api.post("/jobs/<int:job_id>/cancel")
@api_login_required
@documented("取消后台任务（排队中的立即取消，进行中的在下一批数据处理后停止）", response=JobSchema)
def cancel_job(job_id: int):
    work = uow()
    job = runtime().jobs.cancel(work, job_id, current_actor(), _applicants())
    work.commit()
    return job_body(job)


@api.post("/jobs/<int:job_id>/retry")
@api_login_required
@documented("重试失败的后台任务（督办人员、系统管理员）", response=JobSchema)
def retry_job(job_id: int):
    work = uow()
    job = runtime().jobs.retry(work, job_id, current_actor(), _applicants())
    work.commit()
    return job_body(job)
