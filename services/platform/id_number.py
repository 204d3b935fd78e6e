"""Citizen ID numbers (公民身份号码, GB 11643-1999): 18 characters with an ISO 7064 check digit."""
from __future__ import annotations

import re
from datetime import date
from operator import mul

from engine.values import DATE_MAX

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")
# the problems id_number_problem names (pages translate them: they are in the message catalogue)
PROBLEMS = ("公民身份号码应为 18 位（前 17 位为数字，末位为数字或 X）", "公民身份号码中的出生日期无效",
            "公民身份号码校验位错误")


def check_digit(first17: str) -> str:
    if len(first17) != len(_WEIGHTS):
        raise ValueError("check_digit needs the first 17 digits")
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def id_number_problem(value: str) -> str | None:
    """None when valid, otherwise the reason in Chinese."""
    value = (value or "").strip().upper()
    if not _PATTERN.match(value):
        return PROBLEMS[0]
    if birth_date_of(value) is None:
        return PROBLEMS[1]
    if check_digit(value[:17]) != value[17]:
        return PROBLEMS[2]
    return None


def birth_date_of(value: str) -> date | None:
    """The birth date the number encodes; None when it is no date or lies after 2100 (a birth in
    9999 would make every age computed from it leave the calendar). Earlier ones are valid: the
    standard's own example was born in 1880."""
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    return birth if birth <= DATE_MAX else None


def gender_of(value: str) -> str:
    """'male' or 'female' from the 17th digit (odd = male)."""
    return "male" if int(value[16]) % 2 else "female"
