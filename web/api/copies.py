"""/api/…/cc: 抄送 a case from a step, the caller's 待阅 list, and 已阅 (services.platform.carbon_copies)."""
from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from engine.fields import DateTime, Integer
from services.platform import carbon_copies
from web.api import api, documented
from web.api.paging import QueryString, query_args
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import StrictSchema


class CopyRequest(StrictSchema):
    to = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                     validate=validate.Length(min=1, max=carbon_copies.MAX_RECIPIENTS,
                                              error=f"请选择 1 到 {carbon_copies.MAX_RECIPIENTS} 位抄送人"))
    note = fields.String(load_default="", validate=validate.Length(max=carbon_copies.MAX_NOTE))


class CopySchema(Schema):
    id = Integer()
    instance_id = Integer()
    business_key = fields.String()
    title = fields.String()
    step = fields.String()
    sent_by = fields.String()
    note = fields.String()
    created_at = DateTime()
    read_at = DateTime(allow_none=True)


class CopyQuery(QueryString):
    unread = fields.Boolean(load_default=False, metadata={"description": "只列待阅（未读）"})


class SentSchema(Schema):
    recipients = fields.List(fields.String())


@api.post("/tasks/<task_id>/cc")
@api_login_required
@documented("抄送：办理此环节的人员把办件发给在职工作人员阅知（待阅）；收件人可只读查看该办件", request=CopyRequest,
            response=SentSchema, status=201, envelope=None)
def copy_task(task_id: str):
    body = CopyRequest().load(request.get_json(silent=True) or {})
    work = uow()
    sent = carbon_copies.send(work, runtime().engine, runtime().notifier, current_actor(), task_id, body["to"],
                              body["note"])
    work.commit()
    return SentSchema().dump({"recipients": [copy.recipient for copy in sent]}), 201


@api.get("/cc")
@api_login_required
@documented("我的待阅 / 已阅（抄送给我的办件），新的在前", response=CopySchema, many=True, query=CopyQuery)
def my_copies():
    args = query_args(CopyQuery)
    return {"items": CopySchema(many=True).dump(carbon_copies.inbox(uow().session, current_actor(), args["unread"]))}


@api.post("/cc/<int:copy_id>/read")
@api_login_required
@documented("标记已阅", response=CopySchema, many=True)
def read_copy(copy_id: int):
    work = uow()
    carbon_copies.mark_read(work, current_actor(), copy_id)
    work.commit()
    return {"items": CopySchema(many=True).dump(carbon_copies.inbox(work.session, current_actor(), True))}
