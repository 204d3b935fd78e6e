"""/api/openapi.json, built from the routes' @documented facts and their marshmallow schemas.

Each operation states what it really answers: its success status, the JSON schema of the answer
(lists inside their envelope) or the file types of a download, and the error body
``{"error", "message", "fields"}`` of its 4xx answers; path parameters carry the converters'
types and bounds. tests/web/test_api_fuzz.py holds the application to this document.
"""
from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app
from marshmallow import Schema, fields
from werkzeug.routing import IntegerConverter, Rule

from web.api import api, documented
from web.schemas import ErrorSchema

ERRORS = {"400": "数据有误", "401": "未登录", "403": "无权", "404": "不存在", "409": "冲突", "413": "上传的文件太大",
          "429": "请求过于频繁"}
PAGE_FIELDS = {"total": {"type": "integer", "minimum": 0}, "page": {"type": "integer", "minimum": 1},
               "per_page": {"type": "integer", "minimum": 1}}


def build_spec() -> dict:
    spec = APISpec(title="Banjian 办件 API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    for rule in current_app.url_map.iter_rules():
        facts = getattr(current_app.view_functions[rule.endpoint], "openapi", None)
        if not rule.rule.startswith("/api/") or facts is None:
            continue
        operations = {method.lower(): _operation(rule, facts)
                      for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}
        spec.path(path=_path(rule), operations=operations)
    return spec.to_dict()


def _path(rule: Rule) -> str:
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", r"{\1}", rule.rule)


def _operation(rule: Rule, facts: dict) -> dict:
    operation: dict = {"summary": facts["summary"], "operationId": rule.endpoint.removeprefix("api."),
                       "responses": {str(facts["status"]): _success(facts)}}
    parameters = [_path_parameter(name, converter) for name, converter in rule._converters.items()]
    if facts["query"] is not None:
        parameters.append({"in": "query", "schema": facts["query"]})
    if parameters:
        operation["parameters"] = parameters
    if facts["request"] is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": facts["request"]}}}
    elif facts["form"] is not None:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": facts["form"]}}}
    for code, text in ERRORS.items():
        if code not in facts["answers"] and ((code == "401" and facts["public"]) or code == "429"
                                             or (code == "413" and facts["form"] is None)):
            continue
        operation["responses"][code] = {"description": text,
                                        "content": {"application/json": {"schema": "Error"}}}
    if not facts["public"]:
        operation["security"] = [{"bearer": []}]
    return operation


def _path_parameter(name: str, converter) -> dict:
    """Integers with the converter's bounds (web.guard.IdConverter: 1..2**31-1); text otherwise:
    one path segment, at least one character."""
    if isinstance(converter, IntegerConverter):
        schema = {"type": "integer", "minimum": converter.min, "maximum": converter.max}
    else:
        schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
    return {"in": "path", "name": name, "required": True, "schema": schema}


def _success(facts: dict) -> dict:
    if facts["status"] == 204:
        return {"description": "No Content"}
    answer: dict = {"description": "OK" if facts["status"] < 300 else "Accepted"}
    if facts["content_types"]:
        answer["content"] = {ct: {"schema": {"type": "string", "format": "binary"}} for ct in facts["content_types"]}
    elif facts["response"] is not None:
        answer["content"] = {"application/json": {"schema": _answer_schema(facts)}}
    return answer


def _answer_schema(facts: dict):
    schema = facts["response"]
    if not facts["many"]:
        return schema
    listed = {"type": "array", "items": schema}
    if facts["envelope"] is None:
        return listed
    properties = {"items": listed} | (PAGE_FIELDS if facts["envelope"] == "page" else {})
    return {"type": "object", "required": list(properties), "properties": properties}


class OpenAPIDocument(Schema):
    openapi = fields.String()
    info = fields.Dict()
    paths = fields.Dict()
    components = fields.Dict()


@api.get("/openapi.json")
@documented("本 API 的 OpenAPI 文档", response=OpenAPIDocument, public=True)
def openapi_document():
    return build_spec()
