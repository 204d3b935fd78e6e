"""marshmallow schemas for the pages' query strings and form posts (parse, never decide)."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from engine.fields import Date, Integer
from web.api.paging import MAX_PAGE

REQUIRED = {"required": "此项为必填项", "null": "此项为必填项"}
SORTS = ("created_at", "due_at", "business_key", "label", "clock_due_at")
SCOPES = ("all", "mine", "group", "done")


class PageForm(Schema):
    class Meta:
        unknown = EXCLUDE  # csrf_token and the submit button's name come along


def page_number() -> Integer:
    return Integer(load_default=1, maximum=MAX_PAGE)


class PageQuery(PageForm):
    """?page= of a list page: a bad or too large number shows the first page."""

    page = page_number()


def blank_to_none(data: dict) -> dict:
    """Browsers send empty inputs as "": an empty optional field is absent (None)."""
    return {k: (v if v != "" else None) for k, v in data.items()}


def load(schema: Schema, data) -> tuple[dict, dict[str, list[str]]]:
    """(values, field errors): a bad field is reported and dropped (its default used), not fatal."""
    data = blank_to_none(dict(data))
    try:
        return schema.load(data), {}
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    try:
        return schema.load({k: v for k, v in data.items() if k not in messages}), messages
    except ValidationError:  # a required field is missing: nothing usable
        return {k: v for k, v in data.items() if k not in messages}, messages


class SignInForm(PageForm):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100), error_messages=REQUIRED)
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), error_messages=REQUIRED)
    next = fields.String(load_default=None)


class PasswordForm(PageForm):
    old_password = fields.String(required=True, error_messages=REQUIRED)
    new_password = fields.String(required=True, validate=validate.Length(max=200), error_messages=REQUIRED)
    confirm = fields.String(required=True, error_messages=REQUIRED)


class InboxQuery(PageForm):
    scope = fields.String(load_default="all", validate=validate.OneOf(SCOPES))
    process_key = fields.String(load_default=None)
    step = fields.String(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    submitter = fields.String(load_default=None, validate=validate.Length(max=100))
    region_code = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6}$", error="区划代码应为 6 位数字"))
    received_from = Date(load_default=None)
    received_to = Date(load_default=None)
    due_before = Date(load_default=None)
    overdue = fields.Boolean(load_default=False)
    clock = fields.String(load_default=None, validate=validate.OneOf(("normal", "warning", "overdue", "paused"),
                                                                     error="未知的时限等级"))
    sort = fields.String(load_default="created_at", validate=validate.OneOf(SORTS))
    order = fields.String(load_default="asc", validate=validate.OneOf(("asc", "desc")))
    page = page_number()
    per_page = Integer(load_default=20, validate=validate.OneOf((20, 50, 100)))


class BatchForm(PageForm):
    task_ids = fields.List(fields.String(), load_default=list)
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject", "return")),
                             error_messages=REQUIRED)
    conclusion = fields.String(load_default=None, validate=validate.Length(max=500))


class DelegateForm(PageForm):
    to = fields.String(required=True, error_messages=REQUIRED)
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class UserForm(PageForm):
    username = fields.String(required=True, error_messages=REQUIRED,
                             validate=validate.Regexp(r"^[A-Za-z0-9_.-]{2,50}$",
                                                      error="用户名为 2–50 位字母、数字、下划线、点或减号"))
    display_name = fields.String(load_default=None, validate=validate.Length(max=100))
    password = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=200))
    region_code = fields.String(required=True, error_messages=REQUIRED)
    roles = fields.List(fields.String(), required=True, error_messages=REQUIRED,
                        validate=validate.Length(min=1, error="请至少选择一个角色"))
    enterprise_code = fields.String(load_default=None, validate=validate.Length(max=30))


class GrantForm(PageForm):
    role = fields.String(required=True, error_messages=REQUIRED)
    region_code = fields.String(required=True, error_messages=REQUIRED)


class ResetPasswordForm(PageForm):
    new_password = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=200))


def form_lists(form, *names: str) -> dict:
    """request.form with the multi-valued fields ``names`` as lists."""
    data = {k: v for k, v in form.items() if k not in names}
    data.update({name: form.getlist(name) for name in names})
    return data
