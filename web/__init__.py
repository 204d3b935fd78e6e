"""Flask app factory: pages and the JSON API over one composition root."""
from __future__ import annotations

from flask import Flask, g

from services.bootstrap import Runtime, bootstrap


def create_app(runtime: Runtime | None = None, config: dict | None = None) -> Flask:
    runtime = runtime or bootstrap()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=runtime.settings.secret_key,
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=50 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=runtime.settings.environment == "production",
    )
    app.config.update(config or {})
    app.json.ensure_ascii = False
    app.extensions["banjian"] = runtime

    from web import errors, guard
    from web.api import api
    from web.pages import setup as setup_pages

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
