"""marshmallow schemas for every API payload and response."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from engine.fields import Date, DateTime, Integer, Pattern

REQUIRED = {"required": "此项为必填项", "null": "此项不能为空"}


class StrictSchema(Schema):
    error_messages = {"unknown": "不支持的字段"}

    class Meta:
        unknown = RAISE


class TokenRequest(StrictSchema):
    username = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=100))
    password = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=200))


class PasswordChangeRequest(StrictSchema):
    old_password = fields.String(required=True, error_messages=REQUIRED)
    new_password = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=200))


class TokenResponse(Schema):
    token = fields.String()
    username = fields.String()
    roles = fields.List(fields.String())


class StartInstanceRequest(StrictSchema):
    process_key = fields.String(required=True, error_messages=REQUIRED)
    # drawn by the server for a process with a businessKeyPattern (which then refuses one), else optional
    business_key = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    region_code = fields.String(load_default=None, validate=Pattern(r"^[0-9]{6}$", error="区划代码应为 6 位数字"))
    data = fields.Dict(keys=fields.String(), load_default=dict)


class CompleteTaskRequest(StrictSchema):
    data = fields.Dict(keys=fields.String(), required=True, error_messages=REQUIRED)


class DelegateRequest(StrictSchema):
    to = fields.String(required=True, error_messages=REQUIRED)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class WorkHistoryInput(StrictSchema):
    work_type_code = fields.String(required=True, error_messages=REQUIRED)
    start_date = Date(required=True, error_messages=REQUIRED)
    end_date = Date(required=True, error_messages=REQUIRED)


class PersonInput(StrictSchema):
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=18), error_messages=REQUIRED)
    name = fields.String(required=True, validate=validate.Length(min=1, max=50), error_messages=REQUIRED)
    gender = fields.String(required=True, validate=validate.OneOf(["male", "female"], error="性别应为 male 或 female"),
                           error_messages=REQUIRED)
    birth_date = Date(required=True, error_messages=REQUIRED)
    work_histories = fields.List(fields.Nested(WorkHistoryInput), required=True, error_messages=REQUIRED)


class DeclarationRequest(StrictSchema):
    enterprise_code = fields.String(required=True, error_messages=REQUIRED)
    kind = fields.String(required=True, error_messages=REQUIRED,
                         validate=validate.OneOf(["first", "annual"], error="申报类型应为 first 或 annual"))
    persons = fields.List(fields.Nested(PersonInput), required=True,
                          validate=validate.Length(min=1, max=100_000, error="人员数量应在 1 到 100000 之间"),
                          error_messages=REQUIRED)


class TaskSchema(Schema):
    id = fields.String()
    instance_id = Integer()
    process_key = fields.String()
    process_version = Integer()
    business_key = fields.String()
    name = fields.String()
    label = fields.String()
    form_key = fields.String()
    lane = fields.String()
    region_code = fields.String()
    submitter = fields.String()
    assignee = fields.String(allow_none=True)
    status = fields.String()
    created_at = DateTime()
    due_at = DateTime(allow_none=True)
    completed_at = DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    decision = fields.String(allow_none=True)


class TaskDetailSchema(TaskSchema):
    form = fields.Dict(allow_none=True, metadata={"description": "步骤的表单定义（form-js）"})


class CompletedSchema(Schema):
    instance_id = Integer()
    status = fields.String()


class HistorySchema(Schema):
    at = DateTime()
    kind = fields.String()
    task_name = fields.String(allow_none=True)
    task_label = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    decision = fields.String(allow_none=True)
    conclusion = fields.String(allow_none=True)
    details = fields.Dict()


class IncidentSchema(Schema):
    id = Integer()
    task_name = fields.String()
    message = fields.String()
    created_at = DateTime()
    resolved_at = DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)


class InstanceSchema(Schema):
    id = Integer()
    process_key = fields.String()
    process_version = Integer()
    business_key = fields.String()
    region_code = fields.String()
    status = fields.String()
    started_by = fields.String()
    submitter = fields.String()
    started_at = DateTime()
    updated_at = DateTime()
    ended_at = DateTime(allow_none=True)


class ClockSchema(Schema):
    """The case clock (engine.case_clock): running / paused / stopped; normal / warning / overdue."""

    state = fields.String()
    level = fields.String()
    due_at = DateTime(allow_none=True)  # the promised due date where declared, else the statutory one
    statutory_due_at = DateTime(allow_none=True)
    working_days_left = Integer(allow_none=True)
    paused_days = Integer()


class LifecycleSchema(Schema):
    """Where the case stands in the 办件 lifecycle: its status (engine.lifecycle) and its clock (null
    for a process that declares no time limit)."""

    status = fields.String()
    status_label = fields.String()
    clock = fields.Nested(ClockSchema, allow_none=True)


class DocumentSchema(Schema):
    """A printed document of the case (services.platform.documents)."""

    number = fields.String()
    kind = fields.String()
    title = fields.String()
    url = fields.String()  # downloads the PDF with the caller's token
    issued_at = DateTime()


class InstanceDetailSchema(InstanceSchema):
    lifecycle = fields.Nested(LifecycleSchema)
    documents = fields.List(fields.Nested(DocumentSchema))
    open_tasks = fields.List(fields.Nested(TaskSchema))
    history = fields.List(fields.Nested(HistorySchema))
    incidents = fields.List(fields.Nested(IncidentSchema))


class PinSchema(Schema):
    key = fields.String()
    version = Integer()
    id = Integer(attribute="definition_id")


class DefinitionSchema(Schema):
    id = Integer()
    key = fields.String()
    name = fields.String()
    version = Integer()
    content_hash = fields.String()
    filename = fields.String()
    startable_by = fields.List(fields.String())
    deployed_at = DateTime()
    deployed_by = fields.String()
    pins = fields.List(fields.Nested(PinSchema), metadata={
        "description": "本版本固定调用的流程版本（包括它们再调用的），新办件按这些版本办理"})
    called_by = fields.List(fields.Nested(PinSchema), metadata={"description": "固定调用本版本的其他流程版本"})


class DeployedSchema(Schema):
    id = Integer()
    key = fields.String()
    version = Integer()
    created = fields.Boolean(metadata={"description": "false：内容未变化，仍为原版本"})
    repinned = fields.List(fields.Nested(PinSchema), metadata={
        "description": "非空：调用的流程有了新版本，自动部署的调用方新版本改为调用的版本（上传的文件本身为空）"})


class WorkTypeSchema(Schema):
    code = fields.String()
    name = fields.String()
    industry = fields.String()
    nature = fields.String()
    active = fields.Boolean()


class EnterpriseSchema(Schema):
    code = fields.String()
    name = fields.String()
    region_code = fields.String()
    industry = fields.String()
    address = fields.String()
    postal_code = fields.String()
    contact_person = fields.String()
    contact_phone = fields.String()
    portal_enabled = fields.Boolean()


class DeclarationCreated(Schema):
    batch_no = fields.String()
    batch_id = Integer(attribute="id")
    instance_id = Integer()
    status = fields.String()


class DeclaredPersonSchema(Schema):
    id = Integer()
    id_number = fields.String()
    name = fields.String()
    gender = fields.String()
    birth_date = Date(allow_none=True)
    status = fields.String()
    work_histories = fields.List(fields.Dict())
    problems = fields.List(fields.String())
    conclusion = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)


class DeclarationBatchSchema(Schema):
    id = Integer()
    batch_no = fields.String()
    kind = fields.String()
    enterprise_code = fields.String()
    region_code = fields.String()
    status = fields.String()
    submitted_by = fields.String()
    submitted_at = DateTime()
    instance_id = Integer(allow_none=True)
    person_count = Integer(minimum=0)
    error_count = Integer(minimum=0)
    persons = fields.List(fields.Nested(DeclaredPersonSchema))  # one page of them (see the persons_ fields)
    persons_total = Integer(minimum=0, dump_only=True)  # persons matching the request's filter
    persons_page = Integer(dump_only=True)
    persons_per_page = Integer(dump_only=True)


class ErrorSchema(Schema):
    """The body of every 4xx answer of the API (web.errors)."""

    error = fields.String(required=True, metadata={"description": "错误代码，如 invalid、not_found"})
    message = fields.String(required=True, metadata={"description": "给用户看的说明（中文）"})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "按字段列出的问题"})
    problems = fields.List(fields.Dict(), metadata={"description": "流程文件校验未通过时：每个问题"})
