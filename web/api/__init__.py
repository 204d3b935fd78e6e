"""The JSON API (/api). Each route: parse with marshmallow → one service/engine call → serialise."""
from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api")


def documented(summary: str, request=None, response=None, many: bool = False, status: int = 200,
               public: bool = False):
    """Attach OpenAPI facts to a view; web.api.openapi builds the document from them."""

    def mark(view):
        view.openapi = {"summary": summary, "request": request, "response": response, "many": many,
                        "status": status, "public": public}
        return view

    return mark


from web.api import (  # noqa: E402,F401  (routes register themselves on the blueprint)
    auth,
    catalogue_admin,
    declaration_files,
    declarations,
    definitions,
    directory,
    enterprise_admin,
    instances,
    jobs,
    notifications,
    openapi,
    queries,
    register_admin,
    tasks,
)
