"""What the application accepts from outside, in one place: the range of ids and integers the
database can store, the range of dates, and the characters text may not contain.

An id beyond the integer columns' 32 bits cannot be a row (and makes the database raise instead
of answering "not found": PostgreSQL's "integer out of range", SQLite's driver's OverflowError
beyond 64 bits); a date such as 9999-12-31 is a typing error whose arithmetic (a 60th birthday)
leaves Python's calendar; control and bidi-override characters make a stored name display as
something else than it is (U+202E turns "exe.pdf" around) or are refused by PostgreSQL (NUL).
"""
from __future__ import annotations

import re
from datetime import date

INTEGER_MAX = 2**31 - 1  # ids and counts are INTEGER columns: 32 bits on PostgreSQL (SQLite's hold 64)
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2100, 12, 31)
DATE_RANGE_MESSAGE = "日期应在 1900-01-01 至 2100-12-31 之间"

# C0 controls except tab, newline and carriage return; the bidi embeddings, overrides and isolates
# (U+202A–U+202E, U+2066–U+2069); and lone surrogates, which are no characters at all.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def date_in_range(value: date) -> bool:
    return DATE_MIN <= value <= DATE_MAX


def forbidden_character(text: str) -> int | None:
    """The 1-based position of the first character that text may not contain, or None."""
    found = _FORBIDDEN.search(text)
    return found.start() + 1 if found else None


def control_character_message(position: int) -> str:
    return f"文本中含有不允许的控制字符（第 {position} 个字符）"


def printable(text: str) -> str:
    """``text`` with its forbidden characters replaced by U+FFFD: safe to repeat in a message."""
    return _FORBIDDEN.sub("\ufffd", text)
