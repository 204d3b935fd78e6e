"""Background jobs on the pages: the progress bar's data (polled by static/js/progress.js), the jobs a
case waits on (shown on the case and task pages), and the retry of a failed job by a supervisor."""
from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from services.platform import modules
from services.platform.jobs import Job, JobStatus
from web.context import runtime, uow
from web.pages import pages
from web.pages.session import login_required, page_actor, safe_next


def job_status_label(code: str) -> str:
    labels = {"queued": _("排队中"), "running": _("进行中"), "done": _("已完成"), "failed": _("失败"),
              "cancelled": _("已取消")}
    return labels.get(code, code)


def job_title(kind: str) -> str:
    """What a case page calls the background work it waits on."""
    title = modules.job_title(runtime().modules, kind)
    return _(title) if title else _("后台任务")


def job_progress(job: Job) -> dict:
    """What the progress bar shows (also the JSON the page's script polls)."""
    done, total = job.progress_done, max(job.progress_total, job.progress_done)
    return {"id": job.id, "status": job.status, "status_label": job_status_label(job.status), "done": done,
            "total": total, "percent": 100 if job.status == JobStatus.DONE else (done * 100 // total if total else 0),
            "final": job.status in JobStatus.FINAL, "cancel_requested": job.cancel_requested,
            "region_code": job.region_code}


@pages.app_template_global()
def case_jobs(instance_id: int) -> list[dict]:
    """The case's background jobs still under way or failed (a large batch's 校验 or 入库): for its pages.
    Called only by pages that have already checked the user may see the case."""
    jobs = runtime().jobs.for_instance(uow().session, instance_id)
    return [{**job_progress(job), "title": job_title(job.kind)}
            for job in jobs if job.status not in (JobStatus.DONE, JobStatus.CANCELLED)]


@pages.get("/jobs/<int:job_id>/progress")
@login_required
def job_progress_json(job_id: int):
    """The progress bar's data (applicants and reviewers alike; 404 outside the user's scope)."""
    job = modules.visible_job(runtime().modules, uow().session, runtime().jobs, page_actor(), job_id,
                              runtime().engine.applicant_roles)
    return jsonify(job_progress(job))


@pages.post("/jobs/<int:job_id>/retry")
@login_required
def job_retry(job_id: int):
    """重试 a failed job: supervisors and administrators of its region (the service refuses others)."""
    work = uow()
    runtime().jobs.retry(work, job_id, page_actor(), runtime().engine.applicant_roles)
    work.commit()
    flash(_("已重新提交后台任务"), "success")
    return redirect(safe_next(request.form.get("back") or url_for("pages.home")))
