"""Hostile input is refused before any route sees it, in one place for pages and API alike.

- ``<int:…>`` in a route is :class:`IdConverter`: an id the database cannot hold (0, or beyond an
  INTEGER column's 32 bits) matches no route, so it is a plain 404 instead of an overflow deep in
  the database.
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


def digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 1..``limit`` (leading zeros allowed)."""
    top = str(limit)
    alternatives = [rf"[1-9]\d{{0,{len(top) - 2}}}"] if len(top) > 1 else []  # fewer digits than the limit
    for position, digit in enumerate(top):  # as many digits: equal up to ``position``, smaller there
        lowest = "1" if position == 0 else "0"
        if int(digit) > int(lowest):
            rest = len(top) - position - 1
            alternatives.append(f"{top[:position]}[{lowest}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    alternatives.append(top)
    return f"0*(?:{'|'.join(alternatives)})"


class IdConverter(IntegerConverter):
    """``<int:…>`` limited to the ids an INTEGER column holds (1..2**31-1).

    The bound is in the regular expression, not only in ``to_python``: werkzeug matches the path
    before it converts, so a number refused by the conversion on a path that another method's
    rule also matches would answer 405 (with that method in ``Allow``) instead of 404."""

    regex = digits_up_to(INTEGER_MAX)

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
        body = _parsed_body()
        if _suspect(body):
            yield from _json_problems(body)


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


def _suspect(body: Any) -> bool:
    """Whether the body may hold a problem — a quick pass over it (a declaration of 100,000 persons
    has over a million values): one regular expression over all its texts, no paths."""
    texts: list[str] = []
    stack: list[tuple[Any, int]] = [([body], 0)]  # the body as the child of a list of depth 0
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            texts.extend(value)
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        for child in children:
            if isinstance(child, str):
                texts.append(child)
            elif isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif isinstance(child, float) and not math.isfinite(child):
                return True
    return forbidden_character("\n".join(texts)) is not None


def _json_problems(body: Any) -> Iterator[tuple[str, tuple[str, int]]]:
    """Walk the parsed body without recursion, naming each problem's place: depth, keys, strings
    and numbers."""
    stack: list[tuple[str, Any, int]] = [("_body", body, 1)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
            raise InvalidData(_too_deep(), fields={path: [_too_deep()]})
        if isinstance(value, dict):
            children = []
            for key, item in value.items():
                item_path = printable(key) if path == "_body" else f"{path}.{printable(key)}"
                if position := forbidden_character(key):
                    yield item_path, ("name", position)
                children.append((item_path, item, depth + 1))
            stack.extend(reversed(children))  # popped in the body's order
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", value[index], depth + 1) for index in reversed(range(len(value))))
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
