"""/api/…/documents: a case's printed documents (services.platform.documents) — issue, list, download —
and 批量出具 as a background job."""
from __future__ import annotations

from flask import g, request, url_for
from marshmallow import Schema, fields, validate

from engine.fields import Integer
from services.platform import attachments, documents
from services.platform.documents import CaseDocument
from web.api import api, documented
from web.api.downloads import file_response
from web.api.jobs import JobSchema, job_body
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import DocumentSchema, StrictSchema

KIND = validate.OneOf(list(documents.KINDS), error="未知的文书种类")


class IssueRequest(StrictSchema):
    kind = fields.String(required=True, validate=KIND)


class BatchRequest(StrictSchema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(required=True, validate=KIND)
    region_code = fields.String(load_default="", validate=validate.Regexp(r"^(\d{6})?$", error="区划代码应为 6 位数字"))


def document_body(document: CaseDocument) -> dict:
    return DocumentSchema().dump({
        "number": document.number, "kind": document.kind, "title": document.title, "issued_at": document.issued_at,
        "url": url_for("api.download_document", instance_id=document.instance_id, document_id=document.id)})


@api.post("/instances/<int:instance_id>/documents")
@api_login_required
@documented("出具文书（办理机关工作人员；流程 documents 属性中、办件当前状态允许的种类）；再次出具返回原文书与原文号",
            request=IssueRequest, response=DocumentSchema, status=201, envelope=None)
def issue_document(instance_id: int):
    body = IssueRequest().load(request.get_json(silent=True) or {})
    work = uow()
    document = runtime().documents.issue_on_demand(work.session, current_actor(), instance_id, body["kind"])
    work.commit()
    return document_body(document), 201


@api.get("/instances/<int:instance_id>/documents/<int:document_id>")
@api_login_required
@documented("下载文书 PDF（申请人或办件所在区划的工作人员）", content_type="application/pdf")
def download_document(instance_id: int, document_id: int):
    document = runtime().documents.get_visible(uow().session, current_actor(), instance_id, document_id)
    return file_response(document.content, f"{document.title}-{document.number}.pdf", "application/pdf", inline=True)


@api.post("/documents/batches")
@api_login_required
@documented("批量出具文书（后台任务）：流程在该区划内尚无此文书、状态允许的办件各出具一份", request=BatchRequest,
            response=JobSchema, status=202, envelope=None)
def start_document_batch():
    body = BatchRequest().load(request.get_json(silent=True) or {})
    work = uow()
    job = documents.submit_batch(work.session, runtime().jobs, work.after_commit, runtime().documents,
                                 current_actor(), body["process_key"], body["kind"],
                                 body["region_code"] or g.user.region_code)
    work.commit()
    return job_body(job), 202


class AttachmentSchema(Schema):
    id = Integer()
    field = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = Integer(minimum=0)


class StageRequest(StrictSchema):
    field = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,100}$", error="字段名无效"))


@api.post("/attachments")
@api_login_required
@documented("上传申请材料（multipart/form-data：field 与 file；PDF、PNG、JPEG，按文件内容判断，≤10 MB）；"
            "返回的 id 放入发起或办理表单中该材料字段的列表，一天内未使用即删除",
            response=AttachmentSchema, status=201, envelope=None)
def stage_attachment():
    body = StageRequest().load(request.form.to_dict())
    upload = request.files.get("file")
    work = uow()
    row = attachments.stage(work.session, current_actor(), body["field"], body["field"],
                            upload.filename or "" if upload else "", upload.read() if upload else b"")
    work.commit()
    return AttachmentSchema().dump(row), 201


@api.get("/instances/<int:instance_id>/attachments/<int:attachment_id>")
@api_login_required
@documented("下载申请材料（申请人或办件所在区划的工作人员）", content_type="application/octet-stream")
def download_case_attachment(instance_id: int, attachment_id: int):
    row = attachments.get_visible(uow().session, runtime().engine, current_actor(), instance_id, attachment_id)
    return file_response(row.content, row.filename, row.content_type)
