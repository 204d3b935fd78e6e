"""Unified social credit codes (统一社会信用代码, GB 32100-2015): 18 characters — the registering
authority, the kind of entity, the 6-digit region code, the 9-character organisation code and a
check character computed modulo 31 over an alphabet without I, O, Z, S and V."""
from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, …
_PATTERN = re.compile(rf"^[{ALPHABET}]{{18}}$")


def check_character(first17: str) -> str:
    """The 18th character of a code whose first 17 characters are ``first17``."""
    if len(first17) != len(_WEIGHTS) or any(c not in ALPHABET for c in first17):
        raise ValueError("check_character needs 17 characters of the code's alphabet")
    return ALPHABET[-sum(ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 31]


def credit_code_problem(value: str) -> str | None:
    """None when ``value`` is a well-formed code, otherwise why not, in Chinese."""
    value = (value or "").strip().upper()
    if not _PATTERN.match(value):
        return "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）"
    if not value[2:8].isdigit():
        return "统一社会信用代码第 3–8 位应为行政区划代码"
    if check_character(value[:17]) != value[17]:
        return "统一社会信用代码校验位错误"
    return None


def normalised(value: str) -> str:
    return (value or "").strip().upper()
