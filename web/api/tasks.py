from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from engine.db import utcnow
from engine.fields import DateTime
from engine.inbox import SORTABLE, TaskFilter, list_tasks
from engine.models import ProcessInstance
from services.platform import applicant_actions, attachments, task_actions, urges
from services.platform.case_view import get_visible_task
from web.api import api, documented
from web.api.paging import PageArgs, page_body, query_args
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import (
    CompletedSchema,
    CompleteTaskRequest,
    DelegateRequest,
    StrictSchema,
    TaskDetailSchema,
    TaskSchema,
)

SCOPES = ("mine", "group", "all", "done")


class TaskQuery(PageArgs):
    scope = fields.String(load_default="all", validate=validate.OneOf(SCOPES, error=f"scope 应为 {' / '.join(SCOPES)}"))
    process_key = fields.String()
    business_key = fields.String()
    name = fields.String(metadata={"description": "步骤（任务名称）"})
    submitter = fields.String()
    sort = fields.String(load_default="created_at", validate=validate.OneOf(list(SORTABLE)))
    order = fields.String(load_default="asc", validate=validate.OneOf(("asc", "desc")))


@api.get("/tasks")
@api_login_required
@documented("任务列表：scope=mine（我的）| group（可认领）| all（待办）| done（已办）", response=TaskSchema, many=True,
            envelope="page", query=TaskQuery)
def get_tasks():
    args = query_args(TaskQuery)
    flt = TaskFilter(scope=args["scope"], process_key=args.get("process_key") or None,
                     business_key=args.get("business_key") or None, name=args.get("name") or None,
                     submitter=args.get("submitter") or None, sort=args["sort"], descending=args["order"] == "desc")
    rows, total = list_tasks(uow().session, current_actor(), flt, utcnow(), args["page"], args["per_page"])
    return page_body(TaskSchema(many=True).dump(rows), total, args["page"], args["per_page"])


@api.get("/tasks/<task_id>")
@api_login_required
@documented("任务详情及其表单定义", response=TaskDetailSchema)
def get_task(task_id: str):
    row = get_visible_task(uow().session, current_actor(), task_id)
    instance = uow().session.get(ProcessInstance, row.instance_id)
    if instance is not None:
        applicant_actions.note_staff_opened(runtime().engine, runtime().unit_of_work(), current_actor(), instance)
    body = TaskSchema().dump(row)
    form = runtime().engine.task_form(uow().session, row)
    body["form"] = form.schema_json if form is not None else None
    return body


@api.post("/tasks/<task_id>/claim")
@api_login_required
@documented("认领任务", response=TaskSchema)
def claim_task(task_id: str):
    work = uow()
    row = runtime().engine.claim(work, task_id, current_actor())
    work.commit()
    return TaskSchema().dump(row)


@api.post("/tasks/<task_id>/unclaim")
@api_login_required
@documented("取消认领", response=TaskSchema)
def unclaim_task(task_id: str):
    work = uow()
    row = runtime().engine.unclaim(work, task_id, current_actor())
    work.commit()
    return TaskSchema().dump(row)


@api.post("/tasks/<task_id>/delegate")
@api_login_required
@documented("转交给同事（需具备相应角色和区划）", request=DelegateRequest, response=TaskSchema)
def delegate_task(task_id: str):
    body = DelegateRequest().load(request.get_json(silent=True) or {})
    work = uow()
    row = task_actions.delegate(work, runtime().engine, current_actor(), task_id, body["to"], body["note"])
    work.commit()
    return TaskSchema().dump(row)


@api.post("/tasks/<task_id>/complete")
@api_login_required
@documented("办理任务：提交表单数据", request=CompleteTaskRequest, response=CompletedSchema)
def complete_task(task_id: str):
    body = CompleteTaskRequest().load(request.get_json(silent=True) or {})
    work = uow()
    instance = attachments.complete(work, runtime().engine, current_actor(), task_id, body["data"], {})
    work.commit()
    return {"instance_id": instance.id, "status": instance.status}


class ActionsSchema(Schema):
    actions = fields.List(fields.String())
    return_targets = fields.List(fields.Dict(keys=fields.String(), values=fields.String()))


class ReturnRequest(StrictSchema):
    target = fields.String(required=True, validate=validate.Length(min=1, max=100),
                           metadata={"description": "退回到的环节（BPMN id，见 actions 的 return_targets）"})
    reason = fields.String(required=True, validate=validate.Length(max=500))


@api.get("/tasks/<task_id>/actions")
@api_login_required
@documented("当前用户此刻可对任务执行的操作，及可退回的环节", response=ActionsSchema, envelope=None)
def task_actions_now(task_id: str):
    allowed = task_actions.available_actions(uow().session, runtime().engine, current_actor(), task_id)
    return ActionsSchema().dump({"actions": allowed.names,
                                 "return_targets": [{"step": step, "name": name}
                                                    for step, name in allowed.return_targets]})


@api.post("/tasks/<task_id>/return")
@api_login_required
@documented("退回到此前已办理的环节（须填写原因）；办件已推进时 409", request=ReturnRequest, response=CompletedSchema)
def return_task(task_id: str):
    body = ReturnRequest().load(request.get_json(silent=True) or {})
    work = uow()
    instance = runtime().engine.return_task(work, task_id, current_actor(), body["target"], body["reason"])
    work.commit()
    return {"instance_id": instance.id, "status": instance.status}


@api.post("/tasks/<task_id>/withdraw")
@api_login_required
@documented("撤回本人已办理的环节（下一环节尚未认领或办理时）；已推进时 409", response=CompletedSchema)
def withdraw_task(task_id: str):
    work = uow()
    instance = runtime().engine.withdraw_task(work, task_id, current_actor())
    work.commit()
    return {"instance_id": instance.id, "status": instance.status}


class UrgeRequest(StrictSchema):
    message = fields.String(load_default="", validate=validate.Length(max=500))


class UrgeSchema(Schema):
    urged_by = fields.String()
    by_applicant = fields.Boolean()
    message = fields.String()
    created_at = DateTime()


@api.post("/tasks/<task_id>/urge")
@api_login_required
@documented("催办（申请人每个工作日一次；督办人员不限），通知此环节的办理人", request=UrgeRequest, response=UrgeSchema,
            status=201, envelope=None)
def urge_task(task_id: str):
    body = UrgeRequest().load(request.get_json(silent=True) or {})
    work = uow()
    pressed = urges.urge(work, runtime().engine, runtime().notifier, current_actor(), task_id, body["message"])
    work.commit()
    return UrgeSchema().dump(pressed), 201



class AddSignersRequest(StrictSchema):
    users = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                        validate=validate.Length(min=1, max=10, error="请选择 1 到 10 位加签人员"))
    mode = fields.String(load_default="before", validate=validate.OneOf(["before", "parallel", "after"]),
                         metadata={"description": "before 前加签 | parallel 并加签 | after 后加签"})
    note = fields.String(load_default="", validate=validate.Length(max=500))


class RemoveSignersRequest(StrictSchema):
    users = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                        validate=validate.Length(min=1, max=10))


@api.post("/tasks/<task_id>/add-signers")
@api_login_required
@documented("加签：前加签（本环节等加签人员办理完）、并加签、后加签（本环节提交后再由加签人员办理）",
            request=AddSignersRequest, response=TaskSchema, many=True, status=201)
def add_signers(task_id: str):
    body = AddSignersRequest().load(request.get_json(silent=True) or {})
    work = uow()
    added = task_actions.add_signers(work, runtime().engine, current_actor(), task_id, body["users"], body["mode"],
                                     body["note"])
    work.commit()
    return {"items": TaskSchema(many=True).dump(added)}, 201


@api.post("/tasks/<task_id>/remove-signers")
@api_login_required
@documented("减签：取消加签人员尚未办理的任务（只能减去加签产生的任务）", request=RemoveSignersRequest,
            response=CompletedSchema)
def remove_signers(task_id: str):
    body = RemoveSignersRequest().load(request.get_json(silent=True) or {})
    work = uow()
    instance = runtime().engine.remove_signers(work, task_id, current_actor(), body["users"])
    work.commit()
    return {"instance_id": instance.id, "status": instance.status}
