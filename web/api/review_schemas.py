"""marshmallow schemas of the special-work-type review system's endpoints (seed 000)."""
from __future__ import annotations

from functools import partial

from marshmallow import Schema, fields, validate

from engine.fields import Date, DateTime, IdList, Integer, Pattern
from engine.values import INTEGER_MAX
from web.api.paging import PageArgs, QueryString
from web.schemas import REQUIRED, EnterpriseSchema, StrictSchema


class EnterpriseInput(StrictSchema):
    name = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=200))
    region_code = fields.String(required=True, error_messages=REQUIRED)
    industry = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=100))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    postal_code = fields.String(load_default="")
    contact_person = fields.String(load_default="", validate=validate.Length(max=50))
    contact_phone = fields.String(load_default="")


class EnterpriseCreate(EnterpriseInput):
    code = fields.String(required=True, error_messages=REQUIRED)


class PortalAccessRequest(StrictSchema):
    enabled = fields.Boolean(required=True, error_messages=REQUIRED)


class PortalPasswordSchema(Schema):
    username = fields.String()
    password = fields.String(metadata={"description": "新密码，只显示这一次"})


class AuditSchema(Schema):
    at = DateTime()
    actor = fields.String()
    action = fields.String()
    details = fields.Dict()


class EnterpriseDetailSchema(EnterpriseSchema):
    audit = fields.List(fields.Nested(AuditSchema), metadata={"description": "操作记录"})


class AttachmentSchema(Schema):
    id = Integer()
    batch_id = Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = Integer(minimum=0)
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = DateTime()


def _file(description: str, required: bool = True) -> fields.Raw:
    """A file part of a multipart form (documentation only: routes read ``request.files``)."""
    return fields.Raw(required=required, metadata={"type": "string", "format": "binary", "description": description})


class TemplateQuery(QueryString):
    enterprise_code = fields.String(required=True, error_messages=REQUIRED, metadata={"description": "单位代码"})


class DeclarationUploadForm(Schema):
    file = _file("申报人员 Excel（按模板填写）")
    enterprise_code = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["first", "annual"]))
    import_valid_rows = fields.Boolean(metadata={"description": "true：有错误时只导入正确的人员"})
    letter = _file("承诺书（PDF、PNG 或 JPEG）", required=False)


class BpmnUploadForm(Schema):
    file = _file("BPMN 或 DMN 文件")


class AttachmentUploadForm(Schema):
    file = _file("承诺书（PDF、PNG 或 JPEG，不超过 10 MB）")


class DecisionRequest(StrictSchema):
    decision = fields.String(required=True, error_messages=REQUIRED,
                             validate=validate.OneOf(["approve", "reject"], error="结论应为 approve 或 reject"))
    rejected_persons = IdList(load_default=list,
                                   metadata={"description": "不通过（初审）或退回初审（复核）的人员编号"})
    conclusion = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class DecisionResult(Schema):
    instance_id = Integer()
    status = fields.String()
    batch_status = fields.String()


class RegisterHistoryInput(StrictSchema):
    enterprise_code = fields.String(required=True, error_messages=REQUIRED)
    work_type_code = fields.String(required=True, error_messages=REQUIRED)
    start_date = Date(required=True, error_messages=REQUIRED)
    end_date = Date(required=True, error_messages=REQUIRED)


class PersonDetailsInput(StrictSchema):
    name = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=50))
    gender = fields.String(required=True, error_messages=REQUIRED,
                           validate=validate.OneOf(["male", "female"], error="性别应为 male 或 female"))
    region_code = fields.String(required=True, error_messages=REQUIRED)


class SavePersonRequest(StrictSchema):
    id_number = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=18))
    person = fields.Nested(PersonDetailsInput, load_default=None, allow_none=True,
                           metadata={"description": "系统中没有此人时必填"})
    work_histories = fields.List(fields.Nested(RegisterHistoryInput), required=True, error_messages=REQUIRED)


class UnfiledPersonRequest(StrictSchema):
    id_number = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=18))
    person = fields.Nested(PersonDetailsInput, required=True, error_messages=REQUIRED)
    work_histories = fields.List(fields.Nested(RegisterHistoryInput), required=True, error_messages=REQUIRED)


class WorkHistorySchema(Schema):
    id = Integer()
    enterprise_code = fields.String()
    work_type_code = fields.String()
    start_date = Date()
    end_date = Date()
    batch_no = fields.String()
    valid = fields.Boolean()
    suspicious = fields.Boolean()


class EarlyRetirementSchema(Schema):
    id = Integer()
    id_number = fields.String()
    name = fields.String()
    region_code = fields.String()
    nature = fields.String()
    retirement_date = Date()
    age = Integer(minimum=-INTEGER_MAX)  # negative when the retirement date precedes the birth date
    accumulated_years = fields.Float()
    check_passed = fields.Boolean(allow_none=True)
    check_messages = fields.List(fields.String())
    status = fields.String()
    suspicious = fields.Boolean()
    note = fields.String()
    conclusion = fields.String(allow_none=True)
    spot_check_result = fields.String(allow_none=True)
    registered_by = fields.String()
    registered_at = DateTime()
    decided_by = fields.String(allow_none=True)
    instance_id = Integer(allow_none=True)


class PersonSchema(Schema):
    id_number = fields.String()
    name = fields.String()
    gender = fields.String()
    birth_date = Date()
    region_code = fields.String()
    work_histories = fields.List(fields.Nested(WorkHistorySchema))
    early_retirements = fields.List(fields.Nested(EarlyRetirementSchema))
    audit = fields.List(fields.Nested(AuditSchema), metadata={"description": "新增人员、经历的操作记录"})


class EarlyRetirementRequest(StrictSchema):
    id_number = fields.String(required=True, error_messages=REQUIRED)
    nature = fields.String(required=True, error_messages=REQUIRED)
    retirement_date = Date(required=True, error_messages=REQUIRED)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class SpotCheckRequest(StrictSchema):
    result = fields.String(required=True, error_messages=REQUIRED,
                           validate=validate.OneOf(["pass", "fail"], error="抽查结果应为 pass 或 fail"))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class WorkHistorySpotCheckRequest(SpotCheckRequest):
    history_ids = IdList(required=True, error_messages=REQUIRED, max_length=1000)


class SpotCheckSchema(Schema):
    id = Integer()
    kind = fields.String()
    target_id = Integer()
    id_number = fields.String()
    result = fields.String()
    note = fields.String()
    checked_by = fields.String()
    checked_at = DateTime()


class WorkTypeInput(StrictSchema):
    name = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=100))
    industry = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=100))
    nature = fields.String(required=True, error_messages=REQUIRED)


class WorkTypeCreate(WorkTypeInput):
    code = fields.String(required=True, error_messages=REQUIRED)


class NatureSchema(Schema):
    code = fields.String()
    name = fields.String()
    required_years = Integer(minimum=0)
    min_age_male = Integer(minimum=0)
    min_age_female = Integer(minimum=0)


class NatureRuleInput(StrictSchema):
    required_years = Integer(minimum=0, required=True, error_messages=REQUIRED)
    min_age_male = Integer(minimum=0, required=True, error_messages=REQUIRED)
    min_age_female = Integer(minimum=0, required=True, error_messages=REQUIRED)


class WorkTypeActiveRequest(StrictSchema):
    active = fields.Boolean(required=True, error_messages=REQUIRED)


QUERY_FIELD_TYPES = {"str": fields.String, "int": partial(Integer, minimum=-INTEGER_MAX), "float": fields.Float,
                     "bool": fields.Boolean, "date": Date, "datetime": DateTime}


def _schema_name(query) -> str:
    return "".join(part.title() for part in query.name.split("-"))


def query_row_schema(query) -> type[Schema]:
    """The row schema of one query of services.platform.queries (for the OpenAPI document)."""
    declared: dict[str, fields.Field] = {}
    for column in query.columns:
        declared[column.key] = QUERY_FIELD_TYPES[column.type](allow_none=True, metadata={"description": column.label})
        if column.labels is not None:
            declared[f"{column.key}_label"] = fields.String(allow_none=True)
    return Schema.from_dict(declared, name=f"{_schema_name(query)}Row")


# The text each kind of filter of services.platform.queries takes; an empty value is no filter (as the pages'
# forms send it). The service parses the values itself (a date's calendar and range, a year's size).
QUERY_FILTER_PATTERNS = {"int": r"^(-?[0-9]{1,9})?$", "bool": r"^(true|false|1|0)?$",
                         "date": r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$", "region": r"^([0-9]{6})?$"}


def query_filter_schema(query, paged: bool) -> type[Schema]:
    """The query string of one query of services.platform.queries, with ``page``/``per_page`` when ``paged``."""
    declared = {key: fields.String(validate=[Pattern(QUERY_FILTER_PATTERNS[kind], error=f"{label}的取值无效")]
                                   if kind in QUERY_FILTER_PATTERNS else [], metadata={"description": label})
                for key, (kind, label) in query.filters.items()}
    return (PageArgs if paged else QueryString).from_dict(
        declared, name=f"{_schema_name(query)}{'Page' if paged else 'Filters'}Query")
