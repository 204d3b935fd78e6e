"""The JSON API (/api). Each route: parse with marshmallow → one service/engine call → serialise."""
from __future__ import annotations

from typing import Literal

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api")


def documented(summary: str, request=None, response=None, many: bool = False, status: int = 200,
               public: bool = False, envelope: Literal["items", "page"] | None = "items",
               content_type: str | tuple[str, ...] | None = None, query=None, form=None,
               answers: tuple[int, ...] = ()):
    """Attach OpenAPI facts to a view; web.api.openapi builds the document from them.

    ``request``/``form``: the schema of the JSON body / of the multipart form (files as binary
    fields); ``query``: the schema of the query string. ``response``: the schema of the JSON
    answer, a list of them when ``many`` — wrapped as ``{"items": [...]}`` (``envelope="items"``),
    ``{"items", "total", "page", "per_page"}`` (``"page"``) or bare (``None``). ``content_type``:
    the answer is a file of that type (or one of those types) instead. ``answers``: error statuses
    beyond the usual ones (e.g. 401 and 429 of the public sign-in)."""

    def mark(view):
        view.openapi = {"summary": summary, "request": request, "response": response, "many": many,
                        "status": status, "public": public, "envelope": envelope, "query": query, "form": form,
                        "content_types": (content_type,) if isinstance(content_type, str) else content_type,
                        "answers": tuple(str(code) for code in answers)}
        return view

    return mark


from web.api import (  # noqa: E402,F401  (routes register themselves on the blueprint)
    auth,
    copies,
    definitions,
    delegations,
    documents,
    instances,
    jobs,
    notifications,
    openapi,
    queries,
    statistics,
    tasks,
)
