"""Hostile input is refused before any route sees it, in one place for pages and API alike.

- ``<int:…>`` in a route is :class:`IdConverter`: an id the database cannot hold (0, or beyond 64
  bits) matches no route, so it is a plain 404 instead of an overflow deep in the driver.
- :func:`check_request` (a ``before_request`` hook) reads every text the request brings — query
  string, form fields, uploaded file names, path values, and the JSON body, which it parses
  once (routes get the parsed body from Flask's cache) — and refuses with ``InvalidData`` (400):
  control characters other than tab, newline and carriage return, bidi controls and lone
  surrogates (engine.values); JSON nested deeper than :data:`MAX_JSON_DEPTH` (a body of 100,000
  ``[`` would exhaust the parser's recursion); ``NaN`` and ``Infinity``, which are no JSON and
  which PostgreSQL's JSON type refuses.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import nullcontext
from itertools import islice
from typing import Any

from flask import Flask, request
from flask_babel import force_locale, gettext
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

from engine.errors import InvalidData
from engine.values import INTEGER_MAX, forbidden_character, printable
from web.pages.i18n import DEFAULT

MAX_JSON_DEPTH = 32
MAX_REPORTED = 20  # texts named in one refusal


class IdConverter(IntegerConverter):
    """``<int:…>`` limited to the ids a 64-bit column holds (1..2**63-1)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 1,  # noqa: A002 (werkzeug's names)
                 max: int | None = INTEGER_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


def setup(app: Flask) -> None:
    """Before any blueprint registers a rule: the converter decides how ``<int:…>`` parses."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)


def check_request() -> None:
    with _messages_language():
        problems = dict(islice(_problems(), MAX_REPORTED))
        if problems:
            field, (kind, position) = next(iter(problems.items()))
            raise InvalidData(gettext("%(field)s：%(problem)s", field=field, problem=_problem(kind, position)),
                              fields={name: [_problem(k, p)] for name, (k, p) in problems.items()})


def _messages_language():
    """The API answers in Chinese whatever language the pages were switched to."""
    api = request.path == "/api" or request.path.startswith("/api/")
    return force_locale(DEFAULT) if api else nullcontext()


def _problems() -> Iterator[tuple[str, tuple[str, int]]]:
    """(field, (kind, 1-based character position)) for every text that may not pass."""
    yield from _texts((request.view_args or {}).items())
    yield from _texts(request.args.items(multi=True))
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        yield from _texts(request.form.items(multi=True))
        for name, upload in request.files.items(multi=True):
            yield from _texts([(name, "")])
            if upload.filename and (position := forbidden_character(upload.filename)):
                yield printable(name), ("filename", position)
    if request.is_json and request.get_data(cache=True):
        yield from _json_problems(_parsed_body())


def _texts(pairs) -> Iterator[tuple[str, tuple[str, int]]]:
    for name, value in pairs:
        if position := forbidden_character(name):
            yield printable(name), ("name", position)
        elif isinstance(value, str) and (position := forbidden_character(value)):
            yield name, ("text", position)


def _parsed_body() -> Any:
    """The JSON body, parsed once here and cached by Flask for the route's ``get_json``."""
    try:
        return request.get_json()
    except RecursionError:
        raise InvalidData(_too_deep(), fields={"_body": [_too_deep()]}) from None
    except BadRequest:
        message = gettext("请求体不是合法的 JSON")
        raise InvalidData(message, fields={"_body": [message]}) from None


def _json_problems(body: Any) -> Iterator[tuple[str, tuple[str, int]]]:
    """Walk the parsed body without recursion: depth, keys, strings and numbers."""
    stack: list[tuple[str, Any, int]] = [("_body", body, 1)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
            raise InvalidData(_too_deep(), fields={path: [_too_deep()]})
        if isinstance(value, dict):
            for key, item in value.items():
                item_path = printable(key) if path == "_body" else f"{path}.{printable(key)}"
                if position := forbidden_character(key):
                    yield item_path, ("name", position)
                stack.append((item_path, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item, depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str) and (position := forbidden_character(value)):
            yield path, ("text", position)
        elif isinstance(value, float) and not math.isfinite(value):
            yield path, ("number", 0)


def _too_deep() -> str:
    return gettext("JSON 嵌套层数超过 %(depth)s 层", depth=MAX_JSON_DEPTH)


def _problem(kind: str, position: int) -> str:
    if kind == "number":
        return gettext("数值应为有限的数字（不允许 NaN、Infinity）")
    if kind == "filename":
        return gettext("文件名中含有不允许的控制字符（第 %(n)s 个字符）", n=position)
    if kind == "name":
        return gettext("字段名中含有不允许的控制字符（第 %(n)s 个字符）", n=position)
    return gettext("文本中含有不允许的控制字符（第 %(n)s 个字符）", n=position)
