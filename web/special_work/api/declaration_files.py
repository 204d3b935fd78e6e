"""Declaration files and per-person decisions (seed 000, 4.1–4.4): Excel template, batch upload,
export of a batch's persons, the commitment letter, and one 初审/复核 action on a selection."""
from __future__ import annotations

from flask import request

from engine.errors import InvalidData
from services.platform.attachments import SIGNATURES
from services.platform.spreadsheets import XLSX
from services.special_work import attachments, declaration_import, declarations, enterprises, workbooks
from web.api import api, documented
from web.api.downloads import file_response
from web.api.jobs import JobSchema, job_body
from web.api.paging import query_args
from web.api.review_schemas import (
    AttachmentSchema,
    AttachmentUploadForm,
    DecisionRequest,
    DecisionResult,
    DeclarationUploadForm,
    TemplateQuery,
)
from web.auth import api_login_required, current_actor
from web.context import runtime, uow


def _upload() -> bytes:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData("请选择要上传的文件（字段 file）", fields={"file": ["请选择要上传的文件"]})
    return upload.read()


@api.get("/declarations/template")
@api_login_required
@documented("下载申报人员 Excel 模板（参数 enterprise_code：按单位行业生成工种下拉）", query=TemplateQuery,
            content_type=XLSX)
def declaration_template():
    session = uow().session
    code = query_args(TemplateQuery)["enterprise_code"]
    enterprise = enterprises.get_visible_enterprise(session, current_actor(), code)
    content = workbooks.declaration_template(session, enterprise.industry)
    return file_response(content, f"特殊工种申报模板_{enterprise.code}.xlsx", XLSX)


@api.post("/declarations/upload")
@api_login_required
@documented("上传申报人员 Excel（multipart：file、enterprise_code、kind、import_valid_rows，可选 letter 承诺书）。"
            "文件保存后立即返回后台导入任务（202）；用 GET /api/jobs/<id> 查看进度和结果：有错误时不导入，"
            "除非 import_valid_rows=true 只导入正确的人员；结果列出每个错误的行、列和原因", form=DeclarationUploadForm,
            response=JobSchema, status=202)
def upload_declaration():
    content = _upload()
    letter = request.files.get("letter")
    work = uow()
    job = declaration_import.queue_import(
        work, runtime().jobs, current_actor(), request.form.get("enterprise_code", ""), request.form.get("kind", ""),
        request.files["file"].filename, content,
        import_valid_rows=request.form.get("import_valid_rows", "").lower() in ("1", "true", "on"),
        letter_filename=letter.filename if letter else None, letter=letter.read() if letter else None,
        limits=runtime().settings.workbook_limits)
    work.commit()
    return job_body(job), 202


@api.get("/declarations/<int:batch_id>/export")
@api_login_required
@documented("导出批次的全部申报人员（Excel）", content_type=XLSX)
def export_declaration(batch_id: int):
    session = uow().session
    batch = declarations.get_visible_batch(session, runtime().engine, current_actor(), batch_id)
    return file_response(workbooks.export_batch_persons(session, batch.id), f"申报人员_{batch.batch_no}.xlsx",
                         XLSX)


@api.post("/declarations/<int:batch_id>/decision")
@api_login_required
@documented("初审 / 复核：对勾选的人员不通过（复核：退回初审），其余通过；或整批不通过",
            request=DecisionRequest, response=DecisionResult)
def decide_declaration(batch_id: int):
    body = DecisionRequest().load(request.get_json(silent=True) or {})
    work = uow()
    instance = declarations.decide(work, runtime().engine, current_actor(), batch_id, body["decision"],
                                   body["rejected_persons"], body["conclusion"])
    work.commit()
    batch = declarations.get_batch(work.session, batch_id)
    return DecisionResult().dump({"instance_id": instance.id, "status": instance.status, "batch_status": batch.status})


@api.post("/declarations/<int:batch_id>/attachments")
@api_login_required
@documented("上传承诺书（multipart：file；PDF、PNG 或 JPEG，不超过 10 MB）", form=AttachmentUploadForm,
            response=AttachmentSchema, status=201)
def upload_attachment(batch_id: int):
    content = _upload()
    work = uow()
    attachment = attachments.attach(work.session, runtime().engine, current_actor(), batch_id,
                                    request.files["file"].filename, content)
    work.commit()
    return AttachmentSchema().dump(attachment), 201


@api.get("/declarations/<int:batch_id>/attachments")
@api_login_required
@documented("批次的附件（承诺书）", response=AttachmentSchema, many=True)
def list_attachments(batch_id: int):
    rows = attachments.list_attachments(uow().session, runtime().engine, current_actor(), batch_id)
    hidden = () if declarations.reads_staff_names(current_actor()) else ("uploaded_by",)
    return {"items": AttachmentSchema(many=True, exclude=hidden).dump(rows)}


@api.get("/attachments/<int:attachment_id>")
@api_login_required
@documented("下载附件", content_type=tuple(content_type for _magic, content_type, _ext in SIGNATURES))
def download_attachment(attachment_id: int):
    attachment = attachments.get_attachment(uow().session, runtime().engine, current_actor(), attachment_id)
    return file_response(attachment.content, attachment.filename, attachment.content_type, inline=True)
