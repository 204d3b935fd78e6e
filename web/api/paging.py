"""Query strings of the API, each parsed by the schema its operation documents (a number out of
range or an unknown parameter is a 400 naming it, never an offset the database cannot take), and
the envelope ``{"items", "total", "page", "per_page"}`` that paged lists answer with."""
from __future__ import annotations

from flask import request
from marshmallow import RAISE, Schema

from engine.fields import Integer

MAX_PAGE = 100_000
MAX_PER_PAGE = 100


class QueryString(Schema):
    """A query string. A parameter the operation does not take is refused by name (a misspelt
    filter would otherwise silently list everything)."""

    error_messages = {"unknown": "不支持的参数"}

    class Meta:
        unknown = RAISE


class PageArgs(QueryString):
    """The query string of a paged list; subclasses add the list's filters."""

    page = Integer(load_default=1, maximum=MAX_PAGE, metadata={"description": "页码，从 1 开始"})
    per_page = Integer(load_default=20, maximum=MAX_PER_PAGE, metadata={"description": "每页条数"})


def query_args(schema: type[Schema]) -> dict:
    """The request's query string loaded by ``schema``; a bad value raises ValidationError (400)."""
    return schema().load(request.args)


def page_body(items: list, total: int, page: int, per_page: int) -> dict:
    return {"items": items, "total": total, "page": page, "per_page": per_page}
