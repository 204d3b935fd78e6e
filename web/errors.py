"""Every error reaches the client as {error, message, fields?} (API) or an error page — never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from engine.definitions import DefinitionInvalid
from engine.errors import Conflict, EngineError, Forbidden, InvalidData, NotFound, Unauthenticated
from web.ratelimit import RateLimited

log = logging.getLogger(__name__)
STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidData: 400, Unauthenticated: 401}
HTTP_MESSAGES = {400: "请求格式不正确", 401: "请先登录", 403: "无权访问", 404: "请求的资源不存在",
                 405: "不支持的请求方法", 409: "操作冲突", 413: "上传的文件太大", 415: "不支持的内容类型"}


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """JSON for /api, an HTML page (or the sign-in redirect) for everything else."""
    from web.pages.errors import error_page, is_api, wants_json
    from web.pages.i18n import plain_message

    if not wants_json():
        return error_page(status, message, fields)
    if not is_api():  # a page's script shows the message to its user, in the page's language
        message = plain_message(message)
    body = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(body), status


def register(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def engine_error(error: EngineError):
        status = next((s for cls, s in STATUS.items() if isinstance(error, cls)), 400)
        return error_response(status, error.code, error.message, error.fields)

    @app.errorhandler(RateLimited)
    def rate_limited(error: RateLimited):
        response = make_response(error_response(429, "rate_limited", error.message))
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(ValidationError)
    def validation_error(error: ValidationError):
        fields = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        return error_response(400, "invalid", "提交的数据有误，请检查后重试", fields)

    @app.errorhandler(DefinitionInvalid)
    def definition_invalid(error: DefinitionInvalid):
        body = {"error": "invalid_definition", "message": "流程文件校验未通过",
                "problems": [p.as_dict() for p in error.problems]}
        return jsonify(body), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        response = make_response(error_response(status, error.name.lower().replace(" ", "_"),
                                                HTTP_MESSAGES.get(status, error.description or error.name)))
        # werkzeug's own headers: Allow on a 405, WWW-Authenticate on a 401, Content-Range on a 416…
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "系统内部错误，请稍后重试或联系管理员")
