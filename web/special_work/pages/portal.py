"""The applicant portal (申报单位): 我的申报, 新增申报 (template, upload, commitment letter), the import's
progress and result, and a batch's detail. The rules live in services.special_work.applicant_portal and
services.special_work.declaration_import; the upload only queues the import job, which runs in the background."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import InvalidData
from services.platform.jobs import JobStatus, timed_out
from services.platform.spreadsheets import XLSX
from services.special_work import applicant_portal, declaration_import, declarations, enterprises, workbooks
from web.api.downloads import file_response
from web.context import runtime, uow
from web.pages import pages
from web.pages.jobs import job_progress
from web.pages.params import PageQuery, load
from web.pages.session import login_required, page_actor

PER_PAGE = 20


@pages.get("/portal")
@login_required
def portal():
    session, actor = uow().session, page_actor()
    page = load(PageQuery(), request.args)[0].get("page", 1)
    rows, total = applicant_portal.list_batches(session, actor, page, PER_PAGE)
    imports = declaration_import.list_imports(session, actor)
    return render_template("special_work/portal.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), imports=imports,
                           progress={job.id: job_progress(job) for job in imports}, kinds=declarations.KINDS,
                           status_labels=declarations.STATUS_LABELS)


def render_new(errors: dict | None = None, values: dict | None = None, status: int = 200):
    code = applicant_portal.require_applicant(page_actor())
    enterprise = enterprises.get_visible_enterprise(uow().session, page_actor(), code)
    return render_template("special_work/portal_new.html", enterprise=enterprise, kinds=declarations.KINDS,
                           errors=errors or {}, values=values or {"kind": "first"}), status


@pages.get("/portal/new")
@login_required
def portal_new():
    return render_new()


@pages.get("/portal/template.xlsx")
@login_required
def portal_template():
    session = uow().session
    code = applicant_portal.require_applicant(page_actor())
    enterprise = enterprises.get_visible_enterprise(session, page_actor(), code)
    return file_response(workbooks.declaration_template(session, enterprise.industry),
                         f"特殊工种申报模板_{enterprise.code}.xlsx", XLSX)


@pages.post("/portal/new")
@login_required
def portal_upload():
    actor = page_actor()
    code = applicant_portal.require_applicant(actor)
    values = {"kind": request.form.get("kind", ""), "import_valid_rows": request.form.get("import_valid_rows") == "on"}
    upload, letter = request.files.get("file"), request.files.get("letter")
    work = uow()
    try:
        job = declaration_import.queue_import(
            work, runtime().jobs, actor, code, values["kind"], upload.filename if upload else "",
            upload.read() if upload and upload.filename else b"", import_valid_rows=values["import_valid_rows"],
            letter_filename=letter.filename if letter and letter.filename else None,
            letter=letter.read() if letter and letter.filename else None, limits=runtime().settings.workbook_limits)
    except InvalidData as refused:
        work.session.rollback()
        errors = dict(refused.fields)
        errors.setdefault("_form", [refused.message])
        return render_new(errors, values, 400)
    work.commit()
    return redirect(url_for("pages.portal_import", job_id=job.id))


@pages.get("/portal/imports/<int:job_id>")
@login_required
def portal_import(job_id: int):
    job = declaration_import.get_import(uow().session, runtime().jobs, page_actor(), job_id,
                                        runtime().engine.applicant_roles)
    return render_template("special_work/portal_import.html", job=job, progress=job_progress(job),
                           result=job.result or {},
                           timed_out=timed_out(job))


@pages.post("/portal/imports/<int:job_id>/cancel")
@login_required
def portal_import_cancel(job_id: int):
    work = uow()
    applicants = runtime().engine.applicant_roles
    declaration_import.get_import(work.session, runtime().jobs, page_actor(), job_id, applicants)
    job = runtime().jobs.cancel(work, job_id, page_actor(), applicants)
    work.commit()
    flash(_("已取消导入，未导入任何数据") if job.status == JobStatus.CANCELLED
          else _("已请求取消，导入将在处理完当前数据后停止"), "success")
    return redirect(url_for("pages.portal_import", job_id=job_id))


@pages.get("/portal/batches/<int:batch_id>")
@login_required
def portal_batch(batch_id: int):
    shown = applicant_portal.PersonFilter(page=load(PageQuery(), request.args)[0].get("page", 1),
                                          only_findings=request.args.get("findings") == "1",
                                          search=declarations.normalise_search(request.args.get("q", "")))
    detail = applicant_portal.batch_detail(uow().session, runtime().engine, runtime().jobs, page_actor(), batch_id,
                                           shown)
    job = detail.validation_job
    return render_template("special_work/portal_batch.html", d=detail, kinds=declarations.KINDS,
                           status_labels=declarations.STATUS_LABELS,
                           person_status_labels=declarations.PERSON_STATUS_LABELS,
                           progress=job_progress(job) if job else None, shown=shown)
