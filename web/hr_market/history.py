"""历史数据采集 (003 §2.22): download the template, upload a filled one (the import runs as a background
job), follow its progress and read its result. Rules: services.hr_market.history_import."""
from __future__ import annotations

import re

from flask import redirect, render_template, request, url_for

from engine.errors import Forbidden, InvalidData
from services.hr_market import history_import, organisations
from services.platform.jobs import timed_out
from services.platform.spreadsheets import XLSX
from web.api.downloads import file_response
from web.context import runtime, uow
from web.pages import pages
from web.pages.jobs import job_progress
from web.pages.session import login_required, page_actor

JOB_ID = re.compile(r"\d{1,9}")


def _require_manager() -> None:
    if not organisations.may_manage(page_actor()):
        raise Forbidden("您无权导入人力资源服务机构")


def _render(errors: dict | None = None, status: int = 200):
    """The import page; with ``?job=`` it shows that import's progress and, once done, its result."""
    _require_manager()
    session, actor = uow().session, page_actor()
    job = None
    if JOB_ID.fullmatch(requested := request.args.get("job", "")):
        job = history_import.get_import(session, runtime().jobs, actor, int(requested),
                                        runtime().engine.applicant_roles)
    imports = history_import.list_imports(session, actor)
    return render_template(
        "hr_market/history.html", job=job, progress=job_progress(job) if job else None,
        result=(job.result or {}) if job else {}, timed_out=job is not None and timed_out(job),
        imports=imports, import_progress={j.id: job_progress(j) for j in imports}, errors=errors or {},
        max_mb=history_import.MAX_UPLOAD_BYTES // 1024 // 1024), status


@pages.get("/hr/history")
@login_required
def hr_history():
    return _render()


@pages.get("/hr/history/template")
@login_required
def hr_history_template():
    _require_manager()
    return file_response(history_import.template(), "人力资源服务机构历史数据模板.xlsx", XLSX)


@pages.post("/hr/history")
@login_required
def hr_history_upload():
    upload = request.files.get("file")
    # one byte over the cap is enough for the service to refuse the file as too large
    content = upload.read(history_import.MAX_UPLOAD_BYTES + 1) if upload and upload.filename else b""
    work = uow()
    try:
        job = history_import.queue_import(work, runtime().jobs, page_actor(), upload.filename if upload else "",
                                          content, runtime().settings.workbook_limits)
    except InvalidData as refused:
        work.session.rollback()
        return _render(dict(refused.fields) | {"_form": [refused.message]}, 400)
    work.commit()
    return redirect(url_for("pages.hr_history", job=job.id))
