"""Printed documents on the pages: issue and download on the case page, 批量出具 with a progress bar,
and the public 文书核验 page a document's code or QR code leads to (rate-limited like 进度查询)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.definitions import list_definitions
from engine.errors import Forbidden, NotFound
from services.platform import attachments, documents
from web.api.downloads import file_response
from web.context import runtime, uow
from web.pages import pages
from web.pages.jobs import job_progress
from web.pages.session import login_required, page_actor
from web.ratelimit import RateLimited, count_query_code_lookup


@pages.app_template_global()
def case_documents(instance_id: int) -> list[documents.CaseDocument]:
    """A case's documents, for pages that have already checked the user may see the case."""
    return runtime().documents.for_case(uow().session, instance_id)


@pages.app_template_global()
def printable_kinds(instance) -> list[documents.DocumentKind]:
    return runtime().documents.printable_kinds(uow().session, page_actor(), instance)


@pages.post("/cases/<int:instance_id>/documents")
@login_required
def issue_document(instance_id: int):
    work = uow()
    document = runtime().documents.issue_on_demand(work.session, page_actor(), instance_id,
                                                   request.form.get("kind", ""))
    work.commit()
    flash(_("已出具%(title)s，文号 %(number)s", title=_(document.title), number=document.number), "success")
    return redirect(url_for("pages.case", instance_id=instance_id) + "#documents")


@pages.get("/cases/<int:instance_id>/documents/<int:document_id>.pdf")
@login_required
def download_document(instance_id: int, document_id: int):
    document = runtime().documents.get_visible(uow().session, page_actor(), instance_id, document_id)
    return file_response(document.content, f"{document.title}-{document.number}.pdf", "application/pdf", inline=True)


def _batch_offers() -> list[tuple[str, str, list[documents.DocumentKind]]]:
    """(process key, name, kinds) of the deployed processes that offer documents."""
    offers = []
    for definition in list_definitions(uow().session):
        if definition.filename.endswith(".dmn"):
            continue
        properties = runtime().engine.specs.get(uow().session, definition.id).properties
        kinds = [documents.KINDS[k.strip()] for k in properties.get("documents", "").split(",")
                 if k.strip() in documents.KINDS]
        if kinds:
            offers.append((definition.key, definition.name or definition.key, kinds))
    return offers


@pages.get("/documents/batch")
@login_required
def document_batch_form():
    if not any(role not in runtime().engine.applicant_roles for role in page_actor().roles):
        raise Forbidden("只有办理机关的工作人员可以批量出具文书")
    job, result = None, None
    if request.args.get("job", "").isdigit():
        row = runtime().jobs.get_visible(uow().session, int(request.args["job"]), page_actor(),
                                         runtime().engine.applicant_roles)
        job, result = job_progress(row), row.result if row.kind == documents.BATCH else None
    return render_template("documents_batch.html", offers=_batch_offers(), job=job, result=result)


@pages.post("/documents/batch")
@login_required
def document_batch():
    work = uow()
    actor = page_actor()
    process_key, _sep, kind = request.form.get("choice", "").partition("|")
    job = documents.submit_batch(work.session, runtime().jobs, work.after_commit, runtime().documents, actor,
                                 process_key, kind, g.user.region_code)
    work.commit()
    return redirect(url_for("pages.document_batch_form", job=job.id))


@pages.get("/verify")
def verify_form():
    return render_template("verify.html", code="", verification=None, error=None)


@pages.get("/verify/<code>")
def verify_link(code: str):
    """Where a document's QR code leads: the code is in the address (it tells nothing personal)."""
    return _verify(code[:40])


@pages.post("/verify")
def verify():
    return _verify((request.form.get("code") or "").strip()[:40])


def _verify(code: str):
    try:
        count_query_code_lookup()
    except RateLimited as limited:
        return render_template("verify.html", code=code, verification=None, error=limited.message), 429, \
            {"Retry-After": str(limited.retry_after)}
    try:
        verification = runtime().documents.verify(uow().session, code)
    except NotFound:
        return render_template("verify.html", code=code, verification=None,
                               error=_("核验码不正确，没有对应的文书")), 404
    return render_template("verify.html", code=code, verification=verification, error=None)


@pages.get("/cases/<int:instance_id>/attachments/<int:attachment_id>")
@login_required
def download_case_attachment(instance_id: int, attachment_id: int):
    """One of the case's 申请材料, to its applicant and the staff of its region."""
    row = attachments.get_visible(uow().session, runtime().engine, page_actor(), instance_id, attachment_id)
    return file_response(row.content, row.filename, row.content_type, inline=True)
