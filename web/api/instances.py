from __future__ import annotations

from flask import g, request
from marshmallow import Schema, fields, validate

from engine import case_clock, lifecycle
from engine.db import utcnow
from engine.errors import Forbidden
from engine.fields import DateTime, Integer
from engine.inbox import list_instances
from engine.models import InstanceStatus
from services.platform import applicant_actions, attachments, my_cases, ratings, supervision
from services.platform.case_view import case_record
from web.api import api, documented
from web.api.documents import document_body
from web.api.paging import PageArgs, page_body, query_args
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import (
    HistorySchema,
    IncidentSchema,
    InstanceDetailSchema,
    InstanceSchema,
    LifecycleSchema,
    StartInstanceRequest,
    StrictSchema,
    TaskSchema,
)


def instance_detail(session, instance_id: int) -> dict:
    """The case as the caller may read it (services.platform.case_view.case_record: an applicant does not read
    staff names, automatic steps or incidents)."""
    record = case_record(session, runtime().engine, current_actor(), instance_id)
    body = InstanceSchema().dump(record.instance)
    instance = record.instance
    body["lifecycle"] = LifecycleSchema().dump({
        "status": instance.case_status, "status_label": lifecycle.label(instance.case_status),
        "clock": case_clock.view(instance, utcnow(), runtime().engine.working_days)})
    body["open_tasks"] = TaskSchema(many=True).dump(record.open_tasks)
    body["history"] = HistorySchema(many=True).dump(record.history)
    body["incidents"] = IncidentSchema(many=True).dump(record.incidents)
    body["documents"] = [document_body(d) for d in runtime().documents.for_case(session, instance.id)]
    return body


class InstanceQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(InstanceStatus.ALL, error="未知的办件状态"))
    process_key = fields.String()
    business_key = fields.String()


@api.get("/instances")
@api_login_required
@documented("办件列表（本人发起或属地范围内）", response=InstanceSchema, many=True, envelope="page",
            query=InstanceQuery)
def get_instances():
    args = query_args(InstanceQuery)
    rows, total = list_instances(
        uow().session, current_actor(), runtime().engine.applicant_roles, status=args.get("status"),
        process_key=args.get("process_key"), business_key=args.get("business_key"), page=args["page"],
        per_page=args["per_page"])
    return page_body(InstanceSchema(many=True).dump(rows), total, args["page"], args["per_page"])


@api.post("/instances")
@api_login_required
@documented("发起流程：流程 startableBy 中的角色；data 按发起表单（开始事件的 formKey）校验，无发起表单时不接受数据",
            request=StartInstanceRequest, response=InstanceDetailSchema, status=201)
def start_instance():
    body = StartInstanceRequest().load(request.get_json(silent=True) or {})
    work = uow()
    region_code = body["region_code"] or g.user.region_code
    key = my_cases.api_business_key(work.session, runtime().engine, current_actor(), region_code,
                                    body["process_key"], body["business_key"], utcnow())
    instance = attachments.start(work, runtime().engine, current_actor(), body["process_key"], business_key=key,
                                 region_code=region_code, data=dict(body["data"]), uploads={})
    work.commit()
    return instance_detail(work.session, instance.id), 201


class RatingRequest(StrictSchema):
    grade = Integer(required=True, strict=True, minimum=1, maximum=5)  # 5 非常满意 … 1 非常不满意
    comment = fields.String(load_default="", validate=validate.Length(max=500))


class RatingSchema(Schema):
    grade = Integer(minimum=1, maximum=5)
    grade_label = fields.String()
    comment = fields.String()
    rated_at = DateTime()
    followup_status = fields.String(allow_none=True)
    feedback = fields.String(allow_none=True)


class CancelRequest(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(max=500))


class WithdrawRequest(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


@api.get("/instances/<int:instance_id>")
@api_login_required
@documented("办件详情：状态、版本、待办任务、历史", response=InstanceDetailSchema)
def get_instance(instance_id: int):
    body = instance_detail(uow().session, instance_id)
    instance = runtime().engine.get_instance(uow().session, instance_id, current_actor())
    applicant_actions.note_staff_opened(runtime().engine, runtime().unit_of_work(), current_actor(), instance)
    return body


@api.post("/instances/<int:instance_id>/ratings")
@api_login_required
@documented("好差评（申请人；办结后，次数和期限按 rating_rules 决策表；不满意须写明原因，并转督办核实整改）",
            request=RatingRequest, response=RatingSchema, many=True, status=201)
def rate_instance(instance_id: int):
    body = RatingRequest().load(request.get_json(silent=True) or {})
    work = uow()
    ratings.rate(work, runtime().engine, current_actor(), instance_id, body["grade"], body["comment"])
    work.commit()
    return {"items": RatingSchema(many=True).dump(ratings.ratings_of(work.session, instance_id))}, 201


@api.post("/instances/<int:instance_id>/terminate")
@api_login_required
@documented("终止办件（督办人员、系统管理员；须填写原因）：结束全部待办与定时器，调用业务模块的终止处理",
            request=CancelRequest, response=InstanceDetailSchema)
def terminate_instance(instance_id: int):
    body = CancelRequest().load(request.get_json(silent=True) or {})
    work = uow()
    supervision.terminate_case(work, runtime().engine, current_actor(), instance_id, body["reason"])
    work.commit()
    return instance_detail(work.session, instance_id)


@api.post("/instances/<int:instance_id>/cancel")
@api_login_required
@documented("撤销申请（申请人本人，办件办结前；须填写原因）", request=CancelRequest, response=InstanceDetailSchema)
def cancel_instance(instance_id: int):
    body = CancelRequest().load(request.get_json(silent=True) or {})
    work = uow()
    applicant_actions.cancel(work, runtime().engine, current_actor(), instance_id, body["reason"])
    work.commit()
    return instance_detail(work.session, instance_id)


@api.post("/instances/<int:instance_id>/withdraw")
@api_login_required
@documented("撤回申请（申请人本人，工作人员开始办理前）", request=WithdrawRequest, response=InstanceDetailSchema)
def withdraw_instance(instance_id: int):
    body = WithdrawRequest().load(request.get_json(silent=True) or {})
    work = uow()
    applicant_actions.withdraw(work, runtime().engine, current_actor(), instance_id, body["reason"])
    work.commit()
    return instance_detail(work.session, instance_id)


@api.post("/instances/<int:instance_id>/retry")
@api_login_required
@documented("异常办件重试（督办人员、系统管理员）", response=InstanceDetailSchema)
def retry_instance(instance_id: int):
    actor = current_actor()
    work = uow()
    instance = runtime().engine.get_instance(work.session, instance_id, actor)
    if not (actor.holds("supervisor", instance.region_code) or actor.holds("admin", instance.region_code)):
        raise Forbidden("只有督办人员或系统管理员可以重试异常办件")
    runtime().engine.retry(work, instance_id, actor)
    work.commit()
    return instance_detail(work.session, instance.id)


class ClockPauseRequest(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


@api.post("/instances/<int:instance_id>/clock/pause")
@api_login_required
@documented("中止计时（督办人员、系统管理员；须填写原因）", request=ClockPauseRequest, response=InstanceDetailSchema)
def pause_instance_clock(instance_id: int):
    body = ClockPauseRequest().load(request.get_json(silent=True) or {})
    work = uow()
    supervision.pause_clock(work, runtime().engine, current_actor(), instance_id, body["reason"])
    work.commit()
    return instance_detail(work.session, instance_id)


@api.post("/instances/<int:instance_id>/clock/resume")
@api_login_required
@documented("恢复计时（督办人员、系统管理员）", response=InstanceDetailSchema)
def resume_instance_clock(instance_id: int):
    work = uow()
    supervision.resume_clock(work, runtime().engine, current_actor(), instance_id)
    work.commit()
    return instance_detail(work.session, instance_id)
