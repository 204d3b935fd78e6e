"""marshmallow schemas of the special-work-type review system's endpoints (seed 000)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from web.schemas import REQUIRED, StrictSchema

DATE_ERRORS = {**REQUIRED, "invalid": "日期格式应为 YYYY-MM-DD"}


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
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    details = fields.Dict()


class AttachmentSchema(Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = fields.DateTime()


class DecisionRequest(StrictSchema):
    decision = fields.String(required=True, error_messages=REQUIRED,
                             validate=validate.OneOf(["approve", "reject"], error="结论应为 approve 或 reject"))
    rejected_persons = fields.List(fields.Integer(), load_default=list,
                                   metadata={"description": "不通过（初审）或退回初审（复核）的人员编号"})
    conclusion = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class DecisionResult(Schema):
    instance_id = fields.Integer()
    status = fields.String()
    batch_status = fields.String()


class RegisterHistoryInput(StrictSchema):
    enterprise_code = fields.String(required=True, error_messages=REQUIRED)
    work_type_code = fields.String(required=True, error_messages=REQUIRED)
    start_date = fields.Date(required=True, error_messages=DATE_ERRORS)
    end_date = fields.Date(required=True, error_messages=DATE_ERRORS)


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
    id = fields.Integer()
    enterprise_code = fields.String()
    work_type_code = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()
    batch_no = fields.String()
    valid = fields.Boolean()
    suspicious = fields.Boolean()


class EarlyRetirementSchema(Schema):
    id = fields.Integer()
    id_number = fields.String()
    name = fields.String()
    region_code = fields.String()
    nature = fields.String()
    retirement_date = fields.Date()
    age = fields.Integer()
    accumulated_years = fields.Float()
    check_passed = fields.Boolean(allow_none=True)
    check_messages = fields.List(fields.String())
    status = fields.String()
    suspicious = fields.Boolean()
    note = fields.String()
    conclusion = fields.String(allow_none=True)
    spot_check_result = fields.String(allow_none=True)
    registered_by = fields.String()
    registered_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    instance_id = fields.Integer(allow_none=True)


class PersonSchema(Schema):
    id_number = fields.String()
    name = fields.String()
    gender = fields.String()
    birth_date = fields.Date()
    region_code = fields.String()
    work_histories = fields.List(fields.Nested(WorkHistorySchema))
    early_retirements = fields.List(fields.Nested(EarlyRetirementSchema))
    audit = fields.List(fields.Nested(AuditSchema), metadata={"description": "新增人员、经历的操作记录"})


class EarlyRetirementRequest(StrictSchema):
    id_number = fields.String(required=True, error_messages=REQUIRED)
    nature = fields.String(required=True, error_messages=REQUIRED)
    retirement_date = fields.Date(required=True, error_messages=DATE_ERRORS)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class SpotCheckRequest(StrictSchema):
    result = fields.String(required=True, error_messages=REQUIRED,
                           validate=validate.OneOf(["pass", "fail"], error="抽查结果应为 pass 或 fail"))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class WorkHistorySpotCheckRequest(SpotCheckRequest):
    history_ids = fields.List(fields.Integer(), required=True, error_messages=REQUIRED)


class SpotCheckSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    target_id = fields.Integer()
    id_number = fields.String()
    result = fields.String()
    note = fields.String()
    checked_by = fields.String()
    checked_at = fields.DateTime()


class WorkTypeInput(StrictSchema):
    name = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=100))
    industry = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=100))
    nature = fields.String(required=True, error_messages=REQUIRED)


class WorkTypeCreate(WorkTypeInput):
    code = fields.String(required=True, error_messages=REQUIRED)


class NatureSchema(Schema):
    code = fields.String()
    name = fields.String()
    required_years = fields.Integer()
    min_age_male = fields.Integer()
    min_age_female = fields.Integer()


class NatureRuleInput(StrictSchema):
    required_years = fields.Integer(required=True, error_messages=REQUIRED)
    min_age_male = fields.Integer(required=True, error_messages=REQUIRED)
    min_age_female = fields.Integer(required=True, error_messages=REQUIRED)


class WorkTypeActiveRequest(StrictSchema):
    active = fields.Boolean(required=True, error_messages=REQUIRED)


QUERY_FIELD_TYPES = {"str": fields.String, "int": fields.Integer, "float": fields.Float, "bool": fields.Boolean,
                     "date": fields.Date, "datetime": fields.DateTime}


def query_row_schema(query) -> type[Schema]:
    """The row schema of one query of services.queries (for the OpenAPI document)."""
    declared: dict[str, fields.Field] = {}
    for column in query.columns:
        declared[column.key] = QUERY_FIELD_TYPES[column.type](allow_none=True, metadata={"description": column.label})
        if column.labels is not None:
            declared[f"{column.key}_label"] = fields.String(allow_none=True)
    name = "".join(part.title() for part in query.name.split("-"))
    return Schema.from_dict(declared, name=f"{name}Row")
