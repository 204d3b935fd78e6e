"""User-task forms: bpmn.io form-js JSON schemas under forms/, compiled to marshmallow.

A designer edits ``forms/<form key>.json`` (the form-js format, so the form-js editor can open
it) and never touches Python. This module turns each definition into a marshmallow schema for
server-side validation; ``web/`` renders the same definition with Jinja2.

Besides form-js's own ``validate`` keys (required, minLength, maxLength, min, max, pattern) a
component may carry the custom property ``requiredWhen`` (``"decision=reject"``): the field is
required when another field has that value (or, for a checklist, has that value ticked). Messages
are in Chinese, the users' language.

A form carries its own translations beside its texts: a top-level ``translations`` object maps a
language to the form's Chinese texts and their wording there (``{"en": {"受理意见": "Decision", …}}``
— the title, labels, descriptions, option labels and text blocks). :meth:`FormDefinition.localized`
gives the schema as a page in that language shows it; a text without a translation stays as it is.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from engine.fields import Date, Integer
from engine.values import DATE_RANGE_MESSAGE

if TYPE_CHECKING:
    from marshmallow.types import ErrorMessages

INPUT_TYPES = {"textfield", "textarea", "number", "checkbox", "checklist", "radio", "select",
               "datetime", "taglist", "filepicker"}
MAX_FORM_BYTES = 256 * 1024


class FormError(Exception):
    """A form definition that cannot be used."""


@dataclass(frozen=True)
class FormField:
    key: str
    type: str
    label: str
    required: bool
    options: tuple[tuple[str, str], ...]
    required_when: tuple[str, str] | None
    component: dict[str, Any]


@dataclass
class FormDefinition:
    key: str
    title: str
    schema_json: dict[str, Any]
    fields: list[FormField]
    _schema: Schema | None = None
    _localized: dict[str, dict[str, Any]] = field(default_factory=dict)

    def localized(self, language: str) -> dict[str, Any]:
        """The schema with its texts in ``language`` (see the module docstring), cached per language."""
        cached = self._localized.get(language)
        if cached is None:
            words = (self.schema_json.get("translations") or {}).get(language) or {}
            cached = self._localized[language] = _translate(self.schema_json, words) if words else self.schema_json
        return cached

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the cleaned data (only the form's own fields) or raise ValidationError."""
        if self._schema is None:
            self._schema = _compile(self)
        return self._schema.load(data or {})


TRANSLATED = ("title", "label", "description", "text")  # the texts of a schema and its components


def _translate(node: Any, words: dict[str, str]) -> Any:
    """A copy of a schema (or a part of one) with each text the words name in its translation."""
    if isinstance(node, list):
        return [_translate(item, words) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: (words.get(value, value) if key in TRANSLATED and isinstance(value, str)
                  else value if key == "translations" else _translate(value, words)) for key, value in node.items()}


def _flatten(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for component in components:
        result.append(component)
        result.extend(_flatten(component.get("components", [])))
    return result


def parse_form(key: str, raw: str | bytes) -> FormDefinition:
    if len(raw) > MAX_FORM_BYTES:
        raise FormError("表单 %(form)s 超过 %(kb)s KB" % dict(form=key, kb=MAX_FORM_BYTES // 1024))
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise FormError("表单 %(form)s 不是合法的 JSON: %(error)s" % dict(form=key, error=error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("components"), list):
        raise FormError("表单 %(form)s 缺少 components 列表 (not a form-js schema)" % dict(form=key))
    form_fields = []
    for component in _flatten(document["components"]):
        if component.get("type") not in INPUT_TYPES or not component.get("key"):
            continue
        rule = (component.get("properties") or {}).get("requiredWhen")
        required_when = None
        if rule:
            other, _, value = rule.partition("=")
            if not value:
                raise FormError("表单 %(form)s 字段 %(field)s: requiredWhen 应为 字段=值"
                                % dict(form=key, field=component["key"]))
            required_when = (other.strip(), value.strip())
        form_fields.append(FormField(
            key=component["key"],
            type=component["type"],
            label=component.get("label") or component["key"],
            required=bool((component.get("validate") or {}).get("required")),
            options=tuple((str(v["value"]), str(v.get("label", v["value"])))
                          for v in component.get("values") or []),
            required_when=required_when,
            component=component,
        ))
    return FormDefinition(key=key, title=document.get("title", key), schema_json=document, fields=form_fields)


class _FieldOptions(TypedDict, total=False):
    """The keyword arguments that ``_field_for`` gives a marshmallow field."""

    required: bool
    validate: list[validate.Validator]
    error_messages: ErrorMessages
    allow_none: bool
    load_default: type[list] | None


def _field_for(form_field: FormField) -> fields.Field:
    label = form_field.label
    rules = form_field.component.get("validate") or {}
    validators: list[validate.Validator] = []
    messages = {
        "required": f"请填写“{label}”",
        "null": f"请填写“{label}”",
        "invalid": f"“{label}”格式不正确",
    }
    if form_field.options:
        allowed = [value for value, _ in form_field.options]
        validators.append(validate.OneOf(allowed, error=f"“{label}”的取值无效，可选：{'、'.join(allowed)}"))
    if "minLength" in rules or "maxLength" in rules:
        validators.append(validate.Length(
            min=rules.get("minLength"), max=rules.get("maxLength"),
            error=f"“{label}”长度应在 {rules.get('minLength', 0)} 到 {rules.get('maxLength', '∞')} 个字之间"))
    if "min" in rules or "max" in rules:
        validators.append(validate.Range(
            min=rules.get("min"), max=rules.get("max"),
            error=f"“{label}”应在 {rules.get('min', '-∞')} 到 {rules.get('max', '∞')} 之间"))
    if rules.get("pattern"):
        validators.append(validate.Regexp(rules["pattern"], error=f"“{label}”格式不正确"))
    # the cast widens dict[str, str] to marshmallow's (invariant) ErrorMessages: still the same dict, amended below
    kwargs: _FieldOptions = {"required": form_field.required, "validate": validators,
                             "error_messages": cast("ErrorMessages", messages), "allow_none": not form_field.required}
    kind = form_field.type
    if not form_field.required:
        # A submission replaces every field of its form: an omitted optional field is empty, never a
        # stale value left in the case data by an earlier task with the same field.
        kwargs["load_default"] = list if kind in ("checklist", "taglist", "filepicker") else None
    if kind == "number":
        return fields.Float(**kwargs)
    if kind == "checkbox":
        if form_field.required:  # as in HTML and form-js: a required checkbox must be ticked
            validators.append(validate.Equal(True, error=f"请勾选“{label}”"))
        return fields.Boolean(**kwargs)
    if kind in ("checklist", "taglist"):
        inner_validators = kwargs.pop("validate")
        return fields.List(fields.String(validate=inner_validators), **kwargs)
    if kind == "filepicker":  # the value: the ids of the files (services.platform.attachments)
        if form_field.required:
            messages["required"] = messages["null"] = f"请上传“{label}”"
        kwargs["validate"] = [validate.Length(min=1 if form_field.required else 0, error=f"请上传“{label}”")]
        return fields.List(Integer(), **kwargs)
    if kind == "datetime":
        messages["out_of_range"] = f"“{label}”：{DATE_RANGE_MESSAGE}"
        return Date(**kwargs)
    if form_field.required:
        validators.append(validate.Length(min=1, error=messages["required"]))
    return fields.String(**kwargs)


def _compile(form: FormDefinition) -> Schema:
    declared: dict[str, Any] = {f.key: _field_for(f) for f in form.fields}
    conditional = [(f, f.required_when) for f in form.fields if f.required_when]

    class Meta:
        unknown = EXCLUDE

    def check_required_when(self, data, **_kwargs):
        errors = {}
        for form_field, (other, value) in conditional:
            current, chosen = data.get(form_field.key), data.get(other)
            applies = value in map(str, chosen) if isinstance(chosen, list) else str(chosen) == value
            if applies and (current is None or current == [] or str(current).strip() == ""):
                verb = "上传" if form_field.type == "filepicker" else "填写"
                errors[form_field.key] = [f"请{verb}“{form_field.label}”"]
        if errors:
            raise ValidationError(errors)

    declared["Meta"] = Meta
    declared["check_required_when"] = validates_schema(check_required_when)
    schema_class = type(f"Form_{form.key}", (Schema,), declared)
    return schema_class()


FORM_KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")


class FormRegistry:
    """Form definitions read from a folder, cached by file modification time."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._cache: dict[str, tuple[float, FormDefinition]] = {}

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _path(self, key: str) -> Path:
        """``forms/<key>.json`` or, for a business system's forms, ``forms/<system>/<key>.json``: a
        form key names one form across all systems (a key found twice is an error, never a guess)."""
        if not FORM_KEY.fullmatch(key or ""):
            raise FormError("非法的表单名称 %(name)s（只能含字母、数字、下划线和连字符）" % dict(name=repr(key)))
        direct = self.folder / f"{key}.json"
        found = [direct] if direct.is_file() else []
        found += sorted(self.folder.glob(f"*/{key}.json"))
        if len(found) > 1:
            names = "、".join(str(p.relative_to(self.folder)) for p in found)
            raise FormError("表单 %(form)s 有多个文件（%(files)s），表单名称须唯一" % dict(form=key, files=names))
        return found[0] if found else direct

    def document(self, key: str) -> str:
        """The form's JSON as it is now, checked (what a deployment stores with its definition)."""
        self.get(key)
        return self._path(key).read_text(encoding="utf-8")

    def get(self, key: str) -> FormDefinition:
        path = self._path(key)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            raise FormError("找不到表单 %(form)s（forms/ 或其下各系统目录中没有 %(file)s）"
                            % dict(form=key, file=key + ".json")) from None
        cached = self._cache.get(key)
        if cached and cached[0] == mtime:
            return cached[1]
        form = parse_form(key, path.read_bytes())
        self._cache[key] = (mtime, form)
        return form


class DraftForms(FormRegistry):
    """A draft's forms (form key → form-js JSON, from the designer studio) in front of the forms under
    ``forms/``: validating or deploying a draft sees the forms the designer is editing, and the deployed
    version stores them (``ProcessDefinition.forms``), so the files on disk never change from a browser."""

    def __init__(self, base: FormRegistry, documents: dict[str, str]):
        super().__init__(base.folder)
        self.base = base
        self.documents = dict(documents)
        self._drafted: dict[str, FormDefinition] = {}

    def exists(self, key: str) -> bool:
        return key in self.documents or self.base.exists(key)

    def document(self, key: str) -> str:
        if key not in self.documents:
            return self.base.document(key)
        self.get(key)
        return self.documents[key]

    def get(self, key: str) -> FormDefinition:
        if key not in self.documents:
            return self.base.get(key)
        if key not in self._drafted:
            if not FORM_KEY.fullmatch(key):
                raise FormError("非法的表单名称 %(name)s（只能含字母、数字、下划线和连字符）" % dict(name=repr(key)))
            self._drafted[key] = parse_form(key, self.documents[key])
        return self._drafted[key]
