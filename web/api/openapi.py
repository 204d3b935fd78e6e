"""/api/openapi.json, built from the routes' @documented facts and their marshmallow schemas."""
from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app

from web.api import api, documented


def build_spec() -> dict:
    spec = APISpec(title="Banjian 办件 API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = current_app.view_functions[rule.endpoint]
        facts = getattr(view, "openapi", None)
        if facts is None:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        operations = {}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation: dict = {"summary": facts["summary"], "responses": {}}
            params = re.findall(r"{([a-z_]+)}", path)
            if params:
                operation["parameters"] = [{"in": "path", "name": p, "required": True, "schema": {"type": "string"}}
                                           for p in params]
            if facts["request"] is not None:
                operation["requestBody"] = {"content": {"application/json": {"schema": facts["request"]}}}
            ok: dict = {"description": "OK"}
            if facts["response"] is not None:
                schema = {"type": "array", "items": facts["response"]} if facts["many"] else facts["response"]
                ok["content"] = {"application/json": {"schema": schema}}
            operation["responses"][str(facts["status"])] = ok
            for code, text in (("400", "数据有误"), ("401", "未登录"), ("403", "无权"), ("404", "不存在"),
                               ("409", "冲突")):
                operation["responses"][code] = {"description": text}
            if not facts["public"]:
                operation["security"] = [{"bearer": []}]
            operations[method.lower()] = operation
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@api.get("/openapi.json")
@documented("本 API 的 OpenAPI 文档", public=True)
def openapi_document():
    return build_spec()
