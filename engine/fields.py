"""The marshmallow fields for values from outside: every integer, id list, date and datetime that a
schema of ``web/`` or a compiled form (engine.forms) reads goes through one of these, so that no
request can carry a number the database cannot store or a date outside 1900–2100 (engine.values).
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from engine.values import DATE_RANGE_MESSAGE, INTEGER_MAX, date_in_range

DATE_FORMAT_MESSAGE = "日期格式应为 YYYY-MM-DD"


def _validators(extra: Any, *first: Any) -> list:
    if extra is None:
        return list(first)
    return [*first, *(extra if isinstance(extra, list | tuple) else [extra])]


class Pattern(validate.Regexp):
    """``validate.Regexp`` that must match the whole text. Python's ``$`` also matches before a final
    newline, JSON Schema's (the OpenAPI ``pattern`` apispec copies from the validator) does not:
    "110000\\n" would pass the one and not the other."""

    regex: re.Pattern[str]  # compiled from a str: this validator checks text only

    def __call__(self, value: str) -> str:  # type: ignore[override]  # text only: no bytes overload as Regexp's
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Integer(fields.Integer):
    """An integer in ``minimum``..``maximum``, by default an id: 1..2**31-1 (an INTEGER column).

    The range is a validator, so the OpenAPI document shows it as ``minimum``/``maximum``."""

    default_error_messages = {"invalid": "应为整数", "too_large": "数值太大"}

    def __init__(self, *, minimum: int = 1, maximum: int = INTEGER_MAX, **kwargs: Any) -> None:
        if not -INTEGER_MAX <= minimum <= maximum <= INTEGER_MAX:
            raise ValueError("an Integer field's range must lie within an INTEGER column's")
        kwargs["validate"] = _validators(kwargs.get("validate"), validate.Range(
            min=minimum, max=maximum, error=f"应为 {minimum} 到 {maximum} 之间的整数"))
        super().__init__(**kwargs)


class IdList(fields.List):
    """A list of ids (e.g. the persons rejected at 初审), at most ``max_length`` of them."""

    def __init__(self, *, max_length: int = 100_000, **kwargs: Any) -> None:
        kwargs["validate"] = _validators(kwargs.get("validate"), validate.Length(
            max=max_length, error=f"最多 {max_length} 项"))
        super().__init__(Integer(), **kwargs)


class Date(fields.Date):
    """An ISO date (YYYY-MM-DD) between 1900-01-01 and 2100-12-31."""

    default_error_messages = {"invalid": DATE_FORMAT_MESSAGE, "out_of_range": DATE_RANGE_MESSAGE}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not date_in_range(result):
            raise self.make_error("out_of_range")
        return result


class DateTime(fields.DateTime):
    """An ISO datetime whose date lies between 1900-01-01 and 2100-12-31. Times are stored as naive
    UTC (engine.db.utcnow): they are written with their offset, ``+00:00``, as RFC 3339 wants."""

    default_error_messages = {"out_of_range": DATE_RANGE_MESSAGE}

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | float | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not date_in_range(result.date()):
            raise self.make_error("out_of_range")
        return result
