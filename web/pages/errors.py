"""Error pages for browsers (the JSON API keeps its JSON errors, see web/errors.py)."""
from __future__ import annotations

from contextlib import suppress

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from web.pages.session import load_user


def is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def wants_json() -> bool:
    """The JSON API, and the pages' own scripts (the designer studio) that send or ask for JSON."""
    return is_api() or request.is_json or request.accept_mimetypes.best == "application/json"


def error_page(status: int, message: str, fields: dict | None = None):
    if status == 401:
        return redirect(url_for("pages.signin", next=request.full_path.rstrip("?")))
    titles = {400: _("请求有误"), 403: _("无权访问"), 404: _("页面不存在"), 405: _("不支持的请求方法"),
              409: _("操作冲突"), 413: _("上传的文件太大"), 500: _("系统内部错误")}
    with suppress(Exception):  # a broken database must not turn an error page into another error
        load_user()  # the header shows who is signed in
    body = render_template("error.html", status=status, title=titles.get(status, _("出错了")), message=message,
                           fields=fields or {})
    return body, status
