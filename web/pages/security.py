"""CSRF protection on every form post and security headers on every response."""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect

# bpmn-js styles SVG elements inline; everything else comes from this server only
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "frame-ancestors 'none'; form-action 'self'")


def setup(app: Flask) -> None:
    from web.api import api
    from web.pages.errors import error_page

    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    csrf = CSRFProtect(app)
    csrf.exempt(api)  # the JSON API authenticates with bearer tokens, not cookies

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        return error_page(400, _("页面已过期或来源不明，请返回、刷新页面后重新提交"))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
