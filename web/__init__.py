"""Flask app factory: pages and the JSON API over one composition root."""
from __future__ import annotations

import importlib
import importlib.util
from datetime import timedelta

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from services.bootstrap import Runtime, bootstrap
from services.platform import identity
from web.ratelimit import SignInLimiter


def create_app(runtime: Runtime | None = None, config: dict | None = None) -> Flask:
    runtime = runtime or bootstrap()
    settings = runtime.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,  # signs the session cookie (which holds the session id) and CSRF tokens
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=50 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.secure_cookies),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_lifetime_minutes),
    )
    app.config.update(config or {})
    app.json.ensure_ascii = False
    app.extensions["banjian"] = runtime
    app.extensions["banjian.signin_limiter"] = SignInLimiter(settings)
    if settings.trusted_proxies:  # the client's address (rate limits, session list) from X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)
    identity.warm_up()

    from web import errors, guard, operations
    from web.api import api
    from web.pages import setup as setup_pages

    for module in runtime.modules:  # a system's own screens, before the blueprints are registered
        if importlib.util.find_spec(f"web.{module.name}") is not None:
            importlib.import_module(f"web.{module.name}")
    operations.instrument(app)  # first: every request is timed and has its id, refused ones too
    guard.setup(app)  # before the blueprints: it decides how their <int:…> rules parse
    errors.register(app)
    app.register_blueprint(api)
    setup_pages(app)

    @app.teardown_request
    def close_unit_of_work(_exc):
        uow = g.pop("uow", None)
        if uow is not None:
            uow.__exit__(None, None, None)

    return app
