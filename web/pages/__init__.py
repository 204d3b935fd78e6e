"""The reviewers' web application: server-rendered pages (Jinja2), Chinese first.

Each module registers its routes on the one ``pages`` blueprint; :func:`setup` wires the
blueprint, CSRF protection and security headers, the locale selector and the template helpers
into the app.
"""
from __future__ import annotations

from flask import Blueprint, Flask

pages = Blueprint("pages", __name__)


def setup(app: Flask) -> None:
    from web.pages import formatting, i18n, security

    security.setup(app)
    i18n.setup(app)
    formatting.setup(app)
    app.register_blueprint(pages)


from web.pages import (  # noqa: E402,F401  (routes register themselves on the blueprint)
    admin,
    auth,
    cases,
    cockpit,
    copies,
    delegations,
    designer,
    documents,
    export,
    home,
    inbox,
    jobs,
    my_cases,
    notifications,
    queries,
    statistics,
    studio,
    tasks,
    tracking,
)
